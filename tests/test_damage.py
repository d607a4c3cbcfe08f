"""A damaged cache entry is reported in one line and recomputed (README), end to end through the CLI.

One tiny study (synthetic data, one epoch, the 3x3 CNN only) is built once; each case copies
its output, damages one kind of file in a training, an analysis or the figures entry, and
builds again. Figures are drawn by a quick stand-in: what is tested is the store, not matplotlib.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from types import SimpleNamespace

import pytest
from typer.testing import CliRunner

from fmnist_report.cli import app
from fmnist_report.report import figures
from fmnist_report.study import runner

from .factories import FIGURES, lambda_model_file, png, synthetic_dataset

pytestmark = pytest.mark.slow  # trains four tiny models, then retrains some: about a minute

CONFIG = """\
[report]
title = "Damage Drill"
[study]
profile = "quick"
epochs = 1
seeds = 1
batch_size = 32
kernel_sizes = [3]
"""
DATA = synthetic_dataset(per_class_train=20, per_class_test=5)


def patch_toy_study(mp: pytest.MonkeyPatch) -> None:
    """The CLI on the synthetic data set, with a quick stand-in for drawing the figures."""
    mp.setattr(runner, "load_data", lambda config, progress=None: DATA)
    mp.setattr(
        figures,
        "make_all",
        lambda summary: [figures.FigureSpec(f.name, f.caption, None, f.section) for f in FIGURES],
    )
    mp.setattr(figures, "render_all", lambda specs: {s.name: png(i) for i, s in enumerate(specs)})


def cli(command: str, out: Path) -> SimpleNamespace:
    args = [command, "--config", str(out.parent / "d.toml"), "--out", str(out), "--no-pdf", "--json"]
    result = CliRunner().invoke(app, args)
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning:")]
    return SimpleNamespace(code=result.exit_code, stderr=result.stderr, warnings=warnings, result=result)


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    """The output folder of one whole build of the tiny study."""
    root = tmp_path_factory.mktemp("damage")
    (root / "d.toml").write_text(CONFIG)
    with pytest.MonkeyPatch.context() as mp:
        patch_toy_study(mp)
        run = cli("build", root / "output")
    assert run.code == 0, (run.stderr, run.result.exception)
    assert run.warnings == []
    return root / "output"


@pytest.fixture
def copy(built, tmp_path, monkeypatch) -> Path:
    """A copy of the built output (and its settings file), the toy study patched in."""
    patch_toy_study(monkeypatch)
    shutil.copy(built.parent / "d.toml", tmp_path / "d.toml")
    return Path(shutil.copytree(built, tmp_path / "output"))


def entry(out: Path, kind: str) -> Path:
    """The entry of a kind; for training runs, the CNN 3x3's (the model the analyses and export load)."""
    folders = sorted((out / "cache" / kind).iterdir())
    if kind == "train":
        folders = [f for f in folders if is_cnn3(f)]
    (folder,) = folders
    return folder


def is_cnn3(folder: Path) -> bool:
    return json.loads((folder / "record.json").read_text())["metrics"]["model_id"] == "cnn3"


def truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def foreign_key(path: Path) -> None:
    meta = json.loads(path.read_text(encoding="utf-8"))
    meta["key"] = meta["key"][:-4] + "beef"
    path.write_text(json.dumps(meta), encoding="utf-8")


DAMAGE = {
    "record.json truncated": ("record.json", truncate),
    "record.json of another entry": ("record.json", foreign_key),
    "arrays.npz missing": ("arrays.npz", Path.unlink),
    "model.keras truncated": ("model.keras", truncate),
    "model.keras missing": ("model.keras", Path.unlink),
}
CASES = [("train", damage) for damage in DAMAGE]
CASES += [("shift", damage) for damage in list(DAMAGE)[:3]]
CASES += [("figures", damage) for damage in list(DAMAGE)[:3]]


@pytest.mark.parametrize(("kind", "damage"), CASES, ids=[f"{k}: {d}" for k, d in CASES])
def test_a_damaged_entry_is_one_warning_and_a_recompute(copy, kind, damage):
    folder = entry(copy, kind)
    name, spoil = DAMAGE[damage]
    spoil(folder / name)
    run = cli("build", copy)
    assert run.code == 0, (run.stderr, run.result.exception)
    assert "Traceback" not in run.stderr
    assert len(run.warnings) == 1, run.stderr
    assert f"cache entry {kind}/{folder.name} is damaged" in run.warnings[0]
    assert run.warnings[0].endswith("recomputing it")
    record = json.loads((folder / "record.json").read_text())  # computed again, whole
    assert record["key"] == folder.name
    assert all((folder / f).is_file() for f in ("arrays.npz", *(["model.keras"] if kind == "train" else [])))
    assert json.loads(run.result.stdout)["html"].endswith("report.html")


@pytest.mark.parametrize("damage", ["record.json truncated", "arrays.npz missing", "model.keras truncated"])
def test_render_never_trains_a_damaged_run_it_says_to_build(copy, damage):
    folder = entry(copy, "train")
    name, spoil = DAMAGE[damage]
    spoil(folder / name)
    before = {p.name: p.stat().st_mtime_ns for p in folder.iterdir()}
    run = cli("render", copy)
    assert run.code == 1 and run.warnings == []
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:"), run.stderr
    assert f"cache entry train/{folder.name} is damaged" in lines[0]
    assert "run `fmnist-report build`" in lines[0]
    assert {p.name: p.stat().st_mtime_ns for p in folder.iterdir()} == before  # not trained, not dropped


def test_a_model_refused_by_safe_mode_is_trained_again_by_build(copy, tmp_path):
    """A CRC-valid .keras that will not load (a Lambda layer) is found when the model is needed."""
    folder = entry(copy, "train")
    marker = tmp_path / "lambda-ran"
    lambda_model_file(folder / "model.keras", marker)
    shutil.rmtree(entry(copy, "shift"))  # the shift analysis loads the model again
    shutil.rmtree(copy / "model")  # and so does the export
    run = cli("build", copy)
    assert run.code == 0, (run.stderr, run.result.exception)
    assert len(run.warnings) == 1, run.stderr
    assert f"cache entry train/{folder.name} is damaged" in run.warnings[0]
    assert run.warnings[0].endswith("training it again")
    assert not marker.exists()  # the file's code never ran
    from fmnist_report.store import Store

    assert Store(copy / "cache").load_model("train", folder.name) is not None  # the run was stored again


def test_a_model_refused_by_safe_mode_stops_render_in_one_line(copy, tmp_path):
    folder = entry(copy, "train")
    marker = tmp_path / "lambda-ran"
    lambda_model_file(folder / "model.keras", marker)
    shutil.rmtree(copy / "model")
    run = cli("render", copy)
    assert run.code == 1
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:"), run.stderr
    assert f"cache entry train/{folder.name} is damaged" in lines[0] and "fmnist-report build" in lines[0]
    assert not marker.exists()
    assert (folder / "model.keras").is_file()  # left for `build` to recompute
