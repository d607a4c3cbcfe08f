"""`fmnist-report verify` on a PDF of the synthetic report: the verdict, the table, and --rebuild's diff."""

from __future__ import annotations

import dataclasses
import json
import re
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from fmnist_report import pipeline
from fmnist_report.cli import app
from fmnist_report.config import load_config
from fmnist_report.report import assemble, figures, metrics, render
from fmnist_report.report.sections.values import BLANK_PNG

from .factories import make_context, needs_pango

pytestmark = pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils is not installed")


@pytest.fixture(scope="module")
def report_pdf(tmp_path_factory):
    """A faithful PDF of the synthetic report, its metrics.json and its configuration attached."""
    root = tmp_path_factory.mktemp("verify")
    results, summary, _ = make_context(root / "out")
    # The synthetic analyses hold only what the sections quote, not what the figures draw.
    summary = dataclasses.replace(summary, analyses={})
    text = summary.to_json()
    specs = figures.make_all(summary)
    ctx = assemble.context(summary, results.config, specs, {s.name: BLANK_PNG for s in specs}, text)
    pdf = root / "report.pdf"
    pdf.write_bytes(
        render.render_pdf(
            render.render_html(ctx), attachments=assemble.attachments(summary, results.config, text)
        )
    )
    return pdf, json.loads(text)


@needs_pango
def test_verify_prints_the_verdict_then_the_table_and_exits_0(report_pdf):
    pdf, _ = report_pdf
    run = CliRunner().invoke(app, ["verify", str(pdf)])
    assert run.exit_code == 0, run.stdout
    lines = run.stdout.splitlines()
    first = re.fullmatch(
        r"verified: report\.pdf: checked ([\d,]+) of ([\d,]+) numbers, each as its attached data gives it; "
        r"its claims hold \(6 checks\)",
        lines[0],
    )
    assert first is not None and first.group(1) == first.group(2)
    assert [line.split()[0] for line in lines[2:] if line[:1].strip()] == [  # wrapped cells start with spaces
        "attachments", "metrics.json", "checksum", "numbers", "conformance", "configuration",
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
        changed["models"]["dense"]["test_accuracy"]["mean"] += 0.02
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
    changed["models"]["dense"]["test_accuracy"]["mean"] -= 0.05

    def build_report(cfg, **kwargs):  # the new report, numbers and PDF, replaces the old one there
        summary = metrics.read(json.dumps(changed))
        (cfg.out_dir / "metrics.json").write_text(summary.to_json(), encoding="utf-8")
        html = "<html lang='en'><body><p>rebuilt</p></body></html>"
        pdf.write_bytes(render.render_pdf(html, variant=None, attachments=assemble.attachments(summary, cfg)))

    monkeypatch.setattr(pipeline, "study", lambda cfg, console, **kwargs: cfg)
    monkeypatch.setattr(pipeline, "build_report", build_report)
    run = CliRunner().invoke(app, ["verify", str(pdf), "--rebuild", str(tmp_path)])
    assert run.exit_code == 0, run.stdout
    row = next(line for line in run.stdout.splitlines() if line.startswith("| test accuracy, dense |"))
    assert "-5.0 pp" in row


def test_an_attached_metrics_json_of_an_older_schema_fails_naming_both_versions():
    from fmnist_report.report import verify

    flat = {"summary": {"dense.accuracy.mean": 0.764}, "protocol": {"format": 1}}  # before the Summary
    carried = verify.Carried(
        attachments={"metrics.json": json.dumps(flat).encode(), "configuration.toml": b"[study]\n"},
        text="",
        xmp={},
        marked=False,
        structure=False,
    )
    found = verify.checks(carried)
    assert [c.name for c in found] == ["attachments", "metrics.json", "conformance", "configuration"]
    assert verify.verdict(Path("report.pdf"), found) == (
        "NOT verified: report.pdf: metrics.json: metrics.json has schema_version 1 (it names none: a "
        "release before the Summary wrote it), this version reads 2; build it again with this version, "
        "or read it with the release that wrote it"
    )


@needs_pango
def test_rebuild_keeps_the_authors_notes_and_their_images(tmp_path, monkeypatch):
    _, summary, _ = make_context(tmp_path / "out")
    summary = dataclasses.replace(summary, analyses={})
    study = tmp_path / "study"
    (study / "notes" / "img").mkdir(parents=True)
    (study / "notes" / "discussion.md").write_text(
        "Dense reached {{ dense.test_accuracy }}.\n\n![a plot](img/plot.png)\n", encoding="utf-8"
    )
    (study / "notes" / "img" / "plot.png").write_bytes(BLANK_PNG)
    (study / "report.toml").write_text(
        '[report]\ntitle = "With notes"\nnotes = { discussion = "notes/discussion.md" }\n[study]\nprofile = "quick"\n',
        encoding="utf-8",
    )
    cfg = load_config(study / "report.toml")
    text = summary.to_json()
    specs = figures.make_all(summary)
    html = render.render_html(assemble.context(summary, cfg, specs, {s.name: BLANK_PNG for s in specs}, text))
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(render.render_pdf(html, attachments=assemble.attachments(summary, cfg, text)))
    verified = CliRunner().invoke(app, ["verify", str(pdf)])
    assert verified.exit_code == 0, verified.stdout
    seen = {}

    def build_report(cfg, **kwargs):
        seen["notes"] = [(place, path.read_text(encoding="utf-8")) for place, path in cfg.notes]
        seen["image"] = (cfg.notes[0][1].parent / "img" / "plot.png").read_bytes()
        (cfg.out_dir / "metrics.json").write_text(text, encoding="utf-8")

    monkeypatch.setattr(pipeline, "study", lambda cfg, console, **kwargs: cfg)
    monkeypatch.setattr(pipeline, "build_report", build_report)
    run = CliRunner().invoke(app, ["verify", str(pdf), "--rebuild", str(tmp_path / "again")])
    assert run.exit_code == 0, run.stdout
    assert seen["notes"] == [
        ("discussion", "Dense reached {{ dense.test_accuracy }}.\n\n![a plot](img/plot.png)\n")
    ]
    assert seen["image"] == BLANK_PNG
