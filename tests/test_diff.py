"""`fmnist-report diff OLD NEW`: headline numbers of two builds, the protocol check and user errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from fmnist_report.cli import app
from fmnist_report.report import diff, metrics, protocol

from .factories import make_context, needs_pango


@pytest.fixture(scope="module")
def document(tmp_path_factory) -> dict:
    """metrics.json of the synthetic two-seed build, protocol block included."""
    results, _, ctx = make_context(tmp_path_factory.mktemp("diff") / "out")
    return json.loads(metrics.metrics_document(metrics.metrics_flat(ctx), protocol.protocol(results)))


def write(folder: Path, document: dict) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "metrics.json").write_text(json.dumps(document))
    return folder


def shifted(document: dict, prefix: str, by: float, section: str = "dense") -> dict:
    """A copy of the document with the interval at ``section.prefix`` moved by ``by``."""
    out = json.loads(json.dumps(document))
    for end in ("mean", "ci_low", "ci_high"):
        out[section][f"{prefix}.{end}"] += by
    return out


def run(*args: str):
    return CliRunner().invoke(app, ["diff", *map(str, args)])


def test_markdown_table_of_two_builds_marks_changes_beyond_seed_noise(document, tmp_path):
    half = (document["dense"]["accuracy.ci_high"] - document["dense"]["accuracy.ci_low"]) / 2
    assert half > 0  # two seeds: an interval to judge by
    newer = shifted(document, "accuracy", 2 * half + 0.01)
    newer = shifted(newer, "rows.cnn3.test_accuracy", 0.0, section="kernels")
    result = run(write(tmp_path / "old", document), write(tmp_path / "new", newer))
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert "| Number | Old | New | Change | Beyond seed noise |" in lines
    dense = next(line for line in lines if line.startswith("| test accuracy, dense |"))
    change = (2 * half + 0.01) * 100
    assert f"| +{change:.1f} pp | **yes** |" in dense
    cnn = next(line for line in lines if line.startswith("| test accuracy, cnn3 |"))
    assert cnn.endswith("| 0.0 pp | no |")
    names = [line.split(" | ")[0][2:] for line in lines if line.startswith("| ") and "---" not in line]
    assert {"training time, cnn7", "training time, all runs", "accuracy difference, CNN - dense"} <= set(
        names
    )
    assert any(n.startswith("class accuracy, dense, ") for n in names)
    assert "Protocols differ" not in result.stdout


def test_json_holds_old_new_change_and_the_verdict(document, tmp_path):
    newer = shifted(document, "accuracy", 0.001)
    result = run(
        write(tmp_path / "a", document),
        write(tmp_path / "b" / "metrics.json", newer) / "metrics.json",
        "--json",
    )
    assert result.exit_code == 0, result.output
    found = json.loads(result.stdout)
    assert found["protocol"] == {"same": True, "differences": []}
    row = next(r for r in found["rows"] if r["name"] == "test accuracy, dense")
    assert row["old"]["mean"] == document["dense"]["accuracy.mean"]
    assert row["change"] == pytest.approx(0.001)
    assert row["beyond_seed_interval"] is False  # well inside the seed-to-seed interval


def test_ece_is_read_from_the_calibration_analysis(document, tmp_path):
    with_ece = json.loads(json.dumps(document))
    ece = {"n": 2, "mean": 0.031, "ci_low": 0.02, "ci_high": 0.042}
    with_ece["analyses"].update({f"calibration.ece.cnn3.summary.{k}": v for k, v in ece.items()})
    numbers = diff.headline(diff.load(write(tmp_path / "ece", with_ece)))
    assert numbers["ECE, cnn3"] == diff.Number(0.031, "num", 2, 0.02, 0.042)
    assert numbers["ECE, cnn3"].text() == "0.0310 ± 0.0110"


def test_one_seed_has_no_interval_to_judge_by():
    one = diff.Number(0.90, "pct", 1, 0.90, 0.90)
    two = diff.Number(0.95, "pct", 3, 0.94, 0.96)
    assert diff.beyond_noise(one, two) is None
    assert diff.beyond_noise(diff.Number(0.90, "pct", 3, 0.89, 0.91), two) is True
    assert diff.beyond_noise(diff.Number(0.945, "pct", 3, 0.93, 0.96), two) is False


def test_builds_of_different_protocols_are_refused_with_the_reason(document, tmp_path):
    other = json.loads(json.dumps(document))
    other["protocol"].update(epochs=10, precision="float32")
    old, new = write(tmp_path / "old", document), write(tmp_path / "new", other)
    refused = run(old, new)
    assert refused.exit_code == 1
    message = refused.stderr.strip()
    assert "\n" not in message and message.startswith("error: the builds were made under different protocols")
    assert "epochs 2 vs 10; precision mixed_bfloat16 vs float32" in message and "--force" in message
    forced = run(old, new, "--force")
    assert forced.exit_code == 0
    assert "> Protocols differ: epochs 2 vs 10; precision mixed_bfloat16 vs float32." in forced.stdout


def test_an_absent_platform_reads_as_tensorflow_on_the_cpu(document, tmp_path):
    older = json.loads(json.dumps(document))
    del older["protocol"]["backend"], older["protocol"]["device"]
    assert run(write(tmp_path / "old", older), write(tmp_path / "new", document)).exit_code == 0
    jax = json.loads(json.dumps(document))
    jax["protocol"].update(backend="jax", device="gpu")
    refused = run(write(tmp_path / "old", older), write(tmp_path / "jax", jax))
    assert refused.exit_code == 1 and "backend tensorflow vs jax; device cpu vs gpu" in refused.stderr


@pytest.mark.parametrize(
    ("content", "says"),
    [
        (None, "no metrics.json in"),
        ("not json", "is not an fmnist-report metrics.json: Expecting value"),
        ('{"results": [1, 2]}', "is not an fmnist-report metrics.json: it has no summary.dense.accuracy"),
        ("[1, 2]", "it has no summary.dense.accuracy"),
    ],
)
def test_a_missing_or_foreign_file_is_one_line(document, tmp_path, content, says):
    folder = tmp_path / "build"
    folder.mkdir()
    if content is not None:
        (folder / "metrics.json").write_text(content)
    result = run(write(tmp_path / "good", document), folder)
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1 and says in result.stderr and "Traceback" not in result.output


def test_a_path_that_does_not_exist_is_one_line(document, tmp_path):
    result = run(tmp_path / "nowhere.json", write(tmp_path / "good", document))
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        f"error: {tmp_path / 'nowhere.json'} does not exist; give an output folder of "
        "`fmnist-report build`, its metrics.json or its report PDF"
    )


def pdf_with(path: Path, files: dict[str, str]) -> Path:
    from fmnist_report.report import render

    attached = [render.EmbeddedFile(n, t.encode(), n, "Data", "application/json") for n, t in files.items()]
    path.write_bytes(render.render_pdf("<p>report</p>", variant="none", attachments=attached))
    return path


@needs_pango
def test_two_report_pdfs_are_compared_by_the_metrics_they_carry(document, tmp_path):
    newer = shifted(document, "accuracy", 0.02)
    old_pdf = pdf_with(tmp_path / "old.pdf", {"metrics.json": json.dumps(document), "configuration.toml": ""})
    new_pdf = pdf_with(tmp_path / "new.pdf", {"metrics.json": json.dumps(newer)})
    from_pdfs = run(old_pdf, new_pdf, "--json")
    from_folders = run(write(tmp_path / "old", document), write(tmp_path / "new", newer), "--json")
    assert from_pdfs.exit_code == 0, from_pdfs.output
    read, expected = json.loads(from_pdfs.stdout), json.loads(from_folders.stdout)
    assert (read.pop("old"), read.pop("new")) == (str(old_pdf), str(new_pdf))
    assert read == {k: v for k, v in expected.items() if k not in ("old", "new")}


@needs_pango
def test_a_pdf_without_metrics_or_no_pdf_at_all_is_one_line(document, tmp_path):
    bare = pdf_with(tmp_path / "bare.pdf", {"notes.json": "{}"})
    result = run(bare, write(tmp_path / "good", document))
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        f"error: {bare} carries no metrics.json; give a report PDF that `fmnist-report build` wrote"
    )
    fake = tmp_path / "fake.pdf"
    fake.write_text("not a pdf")
    result = run(fake, write(tmp_path / "good", document))
    assert result.exit_code == 1 and result.stderr.startswith(f"error: {fake} is not a readable PDF (")
    assert result.stderr.count("\n") == 1
