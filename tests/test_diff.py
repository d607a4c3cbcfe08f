"""`fmnist-report diff OLD NEW`: headline numbers of two builds, the protocol check and user errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from fmnist_report.cli import app
from fmnist_report.report import diff
from fmnist_report.study.summary import summarize

from .factories import make_results, needs_pango


@pytest.fixture(scope="module")
def document(tmp_path_factory) -> dict:
    """metrics.json of the synthetic two-seed build: its Summary, serialised."""
    return json.loads(summarize(make_results(tmp_path_factory.mktemp("diff") / "out")).to_json())


def write(folder: Path, document: dict) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "metrics.json").write_text(json.dumps(document), encoding="utf-8")
    return folder


def copy(document: dict) -> dict:
    return json.loads(json.dumps(document))


def shifted(document: dict, model: str, by: float) -> dict:
    """A copy of the document with the test accuracy of ``model`` (its mean and interval) moved by ``by``."""
    out = copy(document)
    for end in ("mean", "ci_low", "ci_high"):
        out["models"][model]["test_accuracy"][end] += by
    return out


def run(*args: str):
    return CliRunner().invoke(app, ["diff", *map(str, args)])


def test_markdown_table_of_two_builds_marks_changes_beyond_seed_noise(document, tmp_path):
    accuracy = document["models"]["dense"]["test_accuracy"]
    assert accuracy["n"] == 2  # two seeds: an interval to judge by
    half = (accuracy["ci_high"] - accuracy["ci_low"]) / 2
    newer = shifted(document, "dense", 2 * half + 0.01)
    result = run(write(tmp_path / "old", document), write(tmp_path / "new", newer))
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert "| Number | Old | New | Change | Beyond seed noise |" in lines
    dense = next(line for line in lines if line.startswith("| test accuracy, dense |"))
    assert "| 55.50% ± 108.00% |" in dense and dense.endswith("| +217.0 pp | **yes** |")
    cnn = next(line for line in lines if line.startswith("| test accuracy, cnn3 |"))
    assert cnn == "| test accuracy, cnn3 | 89.00% ± 25.41% | 89.00% ± 25.41% | 0.0 pp | no |"
    names = [line.split(" | ")[0][2:] for line in lines if line.startswith("| ") and "---" not in line]
    assert names[:5] == [
        "Number",
        "test accuracy, dense",
        "test accuracy, cnn3",
        "test accuracy, cnn5",
        "test accuracy, cnn7",
    ]
    assert names[5:11] == [
        "accuracy difference, CNN - dense",
        "training time, dense",
        "training time, cnn3",
        "training time, cnn5",
        "training time, cnn7",
        "training time, all runs",
    ]
    assert names[11] == "class accuracy, dense, T-shirt/top" and names[21:24] == [
        "class accuracy, cnn3, T-shirt/top",
        "class accuracy, cnn5, T-shirt/top",
        "class accuracy, cnn7, T-shirt/top",
    ]
    assert len(names) == 1 + 10 + 10 + 30  # the header, 10 numbers, then 10 classes of Dense and 3 arms
    total = next(line for line in lines if line.startswith("| training time, all runs |"))
    # 10 + 3k + seed seconds a run: Dense (k = 1) 13 + 14, the CNNs 39, 51 and 63, the twins 13 and 19.
    assert total == "| training time, all runs | 212.0 s | 212.0 s | +0.0 s | n/a |"
    assert "Protocols differ" not in result.stdout


def test_json_holds_old_new_change_and_the_verdict(document, tmp_path):
    newer = shifted(document, "dense", 0.001)
    result = run(
        write(tmp_path / "a", document),
        write(tmp_path / "b" / "metrics.json", newer) / "metrics.json",
        "--json",
    )
    assert result.exit_code == 0, result.output
    found = json.loads(result.stdout)
    assert found["protocol"] == {"same": True, "differences": []}
    row = next(r for r in found["rows"] if r["name"] == "test accuracy, dense")
    assert row["old"] == {
        "mean": 0.5549999999999999,
        "n": 2,
        "ci_low": -0.5250274025748494,
        "ci_high": 1.6350274025748492,
    }
    assert row["change"] == pytest.approx(0.001)
    assert row["beyond_seed_interval"] is False  # well inside the seed-to-seed interval
    difference = next(r for r in found["rows"] if r["name"] == "accuracy difference, CNN - dense")
    # Per seed the CNN beats Dense by 27 and 40 points: a mean of 33.5, ± t(0.975, 1) 12.71 x 9.19 / √2.
    assert difference["text"]["old"] == "+33.5 pp ± 82.6" and difference["unit"] == "pp"


def test_ece_is_read_from_the_calibration_analysis(document, tmp_path):
    with_ece = copy(document)
    ece = {
        "n": 2,
        "mean": 0.031,
        "std": 0.001,
        "ci_low": 0.02,
        "ci_high": 0.042,
        "confidence": 0.95,
        "has_ci": True,
    }
    with_ece["analyses"]["calibration"] = {
        "n_bins": 15,
        "binning": "15 equal-width bins of the top-class probability over [0, 1]",
        "models": ["cnn3"],
        "labels": {"cnn3": "CNN 3x3"},
        "n_test": 100,
        "ece": {"cnn3": {"seeds": [0, 1], "per_seed": [0.03, 0.032], "summary": ece}},
        "mean_confidence": {"cnn3": [0.9, 0.91]},
        "accuracy": {"cnn3": [0.88, 0.89]},
    }
    numbers = diff.headline(diff.load(write(tmp_path / "ece", with_ece)))
    assert numbers["ECE, cnn3"] == diff.Number(0.031, "num", 2, 0.02, 0.042)
    assert numbers["ECE, cnn3"].text() == "0.0310 ± 0.0110"
    assert list(numbers).index("ECE, cnn3") == list(numbers).index("accuracy difference, CNN - dense") + 1


def test_one_seed_has_no_interval_to_judge_by():
    one = diff.Number(0.90, "pct", 1, 0.90, 0.90)
    two = diff.Number(0.95, "pct", 3, 0.94, 0.96)
    assert diff.beyond_noise(one, two) is None
    assert diff.beyond_noise(diff.Number(0.90, "pct", 3, 0.89, 0.91), two) is True
    assert diff.beyond_noise(diff.Number(0.945, "pct", 3, 0.93, 0.96), two) is False


def test_builds_of_different_protocols_are_refused_with_the_reason(document, tmp_path):
    other = copy(document)
    other["study"]["epochs"] = 10
    other["provenance"]["precisions"] = ["float32"]
    old, new = write(tmp_path / "old", document), write(tmp_path / "new", other)
    refused = run(old, new)
    assert refused.exit_code == 1
    message = refused.stderr.strip()
    assert "\n" not in message and message.startswith("error: the builds were made under different protocols")
    assert "epochs 2 vs 10; precision mixed_bfloat16 vs float32" in message and "--force" in message
    forced = run(old, new, "--force")
    assert forced.exit_code == 0
    assert "> Protocols differ: epochs 2 vs 10; precision mixed_bfloat16 vs float32." in forced.stdout


def test_builds_on_another_platform_are_refused_naming_it(document, tmp_path):
    jax = copy(document)
    jax["provenance"].update(backends=["jax"], devices=["gpu"])
    refused = run(write(tmp_path / "old", document), write(tmp_path / "jax", jax))
    assert refused.exit_code == 1 and "backend tensorflow vs jax; device cpu vs gpu" in refused.stderr


@pytest.mark.parametrize(
    ("content", "says"),
    [
        (None, "no metrics.json in"),
        ("not json", "is not an fmnist-report metrics.json: Expecting value"),
        ('{"results": [1, 2]}', "is not an fmnist-report metrics.json: it has no schema_version"),
        ("[1, 2]", "is not an fmnist-report metrics.json: it holds no JSON object"),
        ('{"schema_version": 2, "models": {}}', "does not hold a Summary: study: Field required"),
    ],
)
def test_a_missing_or_foreign_file_is_one_line(document, tmp_path, content, says):
    folder = tmp_path / "build"
    folder.mkdir()
    if content is not None:
        (folder / "metrics.json").write_text(content, encoding="utf-8")
    result = run(write(tmp_path / "good", document), folder)
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1 and says in result.stderr and "Traceback" not in result.output


def test_a_metrics_json_of_an_older_schema_is_one_line_naming_both_versions(document, tmp_path):
    older = copy(document)
    older["schema_version"] = 1
    file = write(tmp_path / "v1", older) / "metrics.json"
    result = run(file, write(tmp_path / "good", document))
    assert result.exit_code == 1
    assert result.stderr == (
        f"error: {file} has schema_version 1, this version reads 2; build it again with this version, "
        "or read it with the release that wrote it\n"
    )
    # Before the Summary, metrics.json was the report's context flattened, with no version.
    flat = {
        "summary": {"dense.accuracy.mean": 0.76},
        "dense": {"accuracy.mean": 0.76},
        "protocol": {"format": 1},
    }
    file = write(tmp_path / "flat", flat) / "metrics.json"
    result = run(write(tmp_path / "good", document), file)
    assert result.exit_code == 1
    assert result.stderr == (
        f"error: {file} has schema_version 1 (it names none: a release before the Summary wrote it), "
        "this version reads 2; build it again with this version, or read it with the release that wrote it\n"
    )


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
    newer = shifted(document, "dense", 0.02)
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
    fake.write_text("not a pdf", encoding="utf-8")
    result = run(fake, write(tmp_path / "good", document))
    assert result.exit_code == 1 and result.stderr.startswith(f"error: {fake} is not a readable PDF (")
    assert result.stderr.count("\n") == 1
