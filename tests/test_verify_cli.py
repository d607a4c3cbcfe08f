"""`fmnist-report verify` on a PDF of the synthetic report: the verdict, the table, and --rebuild's diff."""

from __future__ import annotations

import hashlib
import json
import shutil

import pytest
from typer.testing import CliRunner

from fmnist_report import pipeline
from fmnist_report.cli import app
from fmnist_report.report import metrics, render

from .factories import make_context, needs_pango

pytestmark = pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils is not installed")


@pytest.fixture(scope="module")
def report_pdf(tmp_path_factory):
    """A faithful PDF of the synthetic report, its metrics.json and its configuration attached."""
    root = tmp_path_factory.mktemp("verify")
    results, _, ctx = make_context(root / "out")
    text = metrics.metrics_document(metrics.metrics_flat(ctx), {"format": 1})
    ctx["meta"]["metrics_sha256"] = hashlib.sha256(text.encode()).hexdigest()
    pdf = root / "report.pdf"
    pdf.write_bytes(
        render.render_pdf(render.render_html(ctx), attachments=pipeline.attachments(text, results.config))
    )
    return pdf, json.loads(text)


@needs_pango
def test_verify_prints_the_verdict_then_the_table_and_exits_0(report_pdf):
    pdf, _ = report_pdf
    run = CliRunner().invoke(app, ["verify", str(pdf)])
    assert run.exit_code == 0, run.stdout
    lines = run.stdout.splitlines()
    assert lines[0] == "verified: report.pdf quotes its attached numbers and its claims hold (7 checks)"
    assert [line.split()[0] for line in lines[2:] if line[:1].strip()] == [  # wrapped cells start with spaces
        "attachments", "metrics.json", "checksum", "headline", "tables", "conformance", "configuration",
    ]  # fmt: skip


def test_a_file_that_is_no_pdf_is_one_line(tmp_path):
    fake = tmp_path / "report.pdf"
    fake.write_text("not a pdf")
    run = CliRunner().invoke(app, ["verify", str(fake)])
    assert (
        run.exit_code == 1
        and "cannot be read as a PDF" in run.stderr
        and len(run.stderr.strip().splitlines()) == 1
    )


@needs_pango
def test_rebuild_builds_from_the_attached_configuration_and_diffs(report_pdf, tmp_path, monkeypatch):
    pdf, document = report_pdf
    seen = {}

    def study(cfg, console, **kwargs):
        seen["config"] = cfg
        return cfg

    def build_report(cfg, **kwargs):  # the rebuild measures the dense baseline 2 points higher
        changed = json.loads(json.dumps(document))
        changed["summary"]["dense.accuracy.mean"] += 0.02
        changed["dense"]["accuracy.mean"] += 0.02
        (cfg.out_dir / "metrics.json").write_text(json.dumps(changed))

    monkeypatch.setattr(pipeline, "study", study)
    monkeypatch.setattr(pipeline, "build_report", build_report)
    run = CliRunner().invoke(app, ["verify", str(pdf), "--rebuild", str(tmp_path / "again")])
    assert run.exit_code == 0, run.stdout
    cfg = seen["config"]
    assert (
        cfg.out_dir == tmp_path / "again"
        and cfg.study.profile == "quick"
        and cfg.report.title == "A Test Report"
    )
    assert (
        (tmp_path / "again" / "configuration.toml").read_bytes().startswith(b"# The effective configuration")
    )
    row = next(line for line in run.stdout.splitlines() if line.startswith("| test accuracy, dense |"))
    assert "+2.0 pp" in row


@needs_pango
def test_rebuild_shows_its_progress_and_its_diff_names_the_pdf_and_the_folder(
    report_pdf, tmp_path, monkeypatch
):
    pdf, document = report_pdf
    seen = {}

    def study(cfg, console, **kwargs):
        seen["study"] = kwargs
        console.print("training: 3 of 14 runs")  # what the reporter prints while it trains
        return cfg

    def build_report(cfg, **kwargs):
        seen["report"] = kwargs
        kwargs["info"]("drawing the figures")
        (cfg.out_dir / "metrics.json").write_text(json.dumps(document))

    monkeypatch.setattr(pipeline, "study", study)
    monkeypatch.setattr(pipeline, "build_report", build_report)
    folder = tmp_path / "again"
    run = CliRunner().invoke(app, ["verify", str(pdf), "--rebuild", str(folder)])
    assert run.exit_code == 0, run.stdout
    assert seen["study"].get("quiet") is False and seen["report"]["may_train"]
    assert "training: 3 of 14 runs" in run.stdout and "drawing the figures" in run.stdout
    compared = next(line for line in run.stdout.splitlines() if line.startswith("Comparing "))
    assert compared == f"Comparing {pdf} (old) with {folder} (new)."


@needs_pango
def test_a_rebuild_into_the_pdfs_own_folder_compares_the_old_numbers(report_pdf, tmp_path, monkeypatch):
    """The rebuild replaces report.pdf there: the old numbers are read from it first."""
    shared, document = report_pdf
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(shared.read_bytes())
    changed = json.loads(json.dumps(document))
    changed["summary"]["dense.accuracy.mean"] -= 0.05
    changed["dense"]["accuracy.mean"] -= 0.05

    def build_report(cfg, **kwargs):  # the new report, numbers and PDF, replaces the old one there
        text = json.dumps(changed)
        (cfg.out_dir / "metrics.json").write_text(text, encoding="utf-8")
        html = "<html lang='en'><body><p>rebuilt</p></body></html>"
        pdf.write_bytes(render.render_pdf(html, variant=None, attachments=pipeline.attachments(text, cfg)))

    monkeypatch.setattr(pipeline, "study", lambda cfg, console, **kwargs: cfg)
    monkeypatch.setattr(pipeline, "build_report", build_report)
    run = CliRunner().invoke(app, ["verify", str(pdf), "--rebuild", str(tmp_path)])
    assert run.exit_code == 0, run.stdout
    row = next(line for line in run.stdout.splitlines() if line.startswith("| test accuracy, dense |"))
    assert "-5.0 pp" in row
