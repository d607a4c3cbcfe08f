"""Every common option of the study commands reaches the pipeline, parsed where it is given."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from fmnist_report import pipeline
from fmnist_report.cli import app
from fmnist_report.errors import UserError

from .factories import needs_pango

runner = CliRunner()


class Stop(UserError):
    """Raised by the stand-in pipeline once it has seen what the command passed."""


@pytest.fixture
def seen(monkeypatch, isolated_env):
    """What `pipeline.study` was called with; the command stops there (exit 1, "stopped")."""
    calls: list[dict] = []

    def study(cfg, console, **kwargs):
        calls.append({"cfg": cfg, **kwargs})
        raise Stop("stopped")

    monkeypatch.setattr(pipeline, "study", study)
    monkeypatch.chdir(isolated_env)  # no report/report.toml here: the defaults apply
    return calls


def invoke(*args: str):
    return runner.invoke(app, list(args))


COMMON = ["--seeds", "2", "--epochs", "1", "--backend", "tensorflow", "--profile", "quick"]
#: build and render make the PDF, so they ask for Pango before anything else (run and export do not).
BUILD = pytest.param("build", marks=needs_pango)
RENDER = pytest.param("render", marks=needs_pango)


@pytest.mark.parametrize("command", ["run", BUILD, RENDER, "export"])
def test_seeds_epochs_backend_and_out_reach_the_configuration(command, seen, tmp_path):
    result = invoke(command, *COMMON, "--out", str(tmp_path / "o"))
    assert result.exit_code == 1 and "stopped" in result.output, result.output
    (call,) = seen
    study = call["cfg"].study
    assert (study.seeds, study.epochs, study.backend, study.profile) == (2, 1, "tensorflow", "quick")
    assert call["cfg"].out_dir == tmp_path / "o"
    assert call["fresh"] is False and call["executor"] == "local"
    assert call["stored_only"] is (command in ("render", "export"))


@pytest.mark.parametrize("command", ["run", BUILD])
def test_fresh_executor_and_ray_address_reach_the_study(command, seen):
    result = invoke(command, "--fresh", "--executor", "ray", "--ray-address", "head:6379")
    assert result.exit_code == 1, result.output
    (call,) = seen
    assert (call["fresh"], call["executor"], call["ray_address"]) == (True, "ray", "head:6379")


@pytest.mark.parametrize("command", ["render", "export"])
@pytest.mark.parametrize("option", ["--fresh", "--executor"])
def test_commands_that_never_train_have_no_training_options(command, option, seen):
    result = invoke(command, option, *(["ray"] if option == "--executor" else []))
    assert result.exit_code == 2 and f"No such option: {option}" in result.output
    assert seen == []


@pytest.mark.parametrize("command", ["run", BUILD, RENDER])
def test_only_reaches_the_study_as_parts(command, seen):
    assert invoke(command, "--only", " cnn, interpret ,").exit_code == 1
    assert seen[0]["parts"] == ["cnn", "interpret"]


def test_export_asks_for_the_cnn_only(seen):
    invoke("export")
    assert seen[0]["parts"] == ["cnn"]


@pytest.mark.parametrize("command", ["run", BUILD, RENDER])
@pytest.mark.parametrize("only", [",", "", " , "])
def test_an_only_that_names_no_part_is_one_line(command, only, seen):
    result = invoke(command, "--only", only)
    assert result.exit_code == 1 and seen == []
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and f"--only {only!r} names no part; give one or more of eda, dense" in lines[0]


@pytest.mark.parametrize("command", ["run", BUILD])
def test_an_unknown_executor_is_refused_before_the_data_loads(command, seen, isolated_env):
    out = isolated_env / "out"
    result = invoke(command, "--executor", "slurm", "--out", str(out))
    assert result.exit_code == 1 and seen == []
    assert "--executor must be one of local, ray, got 'slurm'" in result.output
    assert not out.exists()


def test_only_interpret_without_cnn_runs_gives_a_hint(monkeypatch, isolated_env):
    from fmnist_report.study import summary
    from fmnist_report.study.results import StudyResults

    monkeypatch.chdir(isolated_env)
    monkeypatch.setattr(pipeline, "study", lambda cfg, console, **kw: StudyResults(config=cfg, data=None))

    class Empty:
        def to_json(self):
            return "{}"

    monkeypatch.setattr(summary, "summarize", lambda results: Empty())
    result = invoke("run", "--only", "interpret", "--json")
    assert result.exit_code == 0, result.output
    assert "hint: --only interpret explains the CNN runs, and none were chosen or stored; add them: " in (
        " ".join(result.output.split())
    )
