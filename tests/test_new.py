"""`fmnist-report new DIR`: a study folder of one's own, and its settings found from inside it."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
from typer.testing import CliRunner

from fmnist_report import __version__, scaffold
from fmnist_report.cli import app
from fmnist_report.config import load_config
from fmnist_report.report import notes

from .factories import needs_real_data
from .test_devcontainer import devcontainer_errors

ROOT = Path(__file__).parents[1]
BIN = Path(sys.executable).parent
FILES = {
    "report.toml",
    "notes/discussion.md",
    ".github/workflows/report.yml",
    ".devcontainer/devcontainer.json",
    ".gitignore",
    "README.md",
}
TITLE = 'Does dropout help? A "small" study'


def new(*args: str) -> SimpleNamespace:
    result = CliRunner().invoke(app, ["new", *args])
    return SimpleNamespace(
        code=result.exit_code, stdout=result.stdout, stderr=result.stderr, exc=result.exception
    )


def written(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}


@pytest.fixture
def study(tmp_path) -> Path:
    folder = tmp_path / "my-study"
    run = new(str(folder), "--title", TITLE, "--author", "Ada Lovelace", "--course", "CS 101")
    assert run.code == 0, f"{run.stderr}\n{run.exc!r}"
    assert str(folder) in run.stdout and all(name in run.stdout for name in FILES)
    return folder


def test_every_file_is_written(study):
    assert written(study) == FILES
    assert not [p for p in study.parent.iterdir() if p != study], "a temporary was left beside it"
    assert {"output/", ".venv/"} <= set((study / ".gitignore").read_text().split())
    readme = (study / "README.md").read_text()
    assert f"# {TITLE}\n" in readme and __version__ in readme
    assert f"pip install '{scaffold.requirement()}'" in readme and ".venv/bin/fmnist-report build" in readme


def test_the_settings_load_with_the_example_variant_and_the_note(study):
    cfg = load_config(study / "report.toml")
    assert (cfg.report.title, cfg.report.author, cfg.report.course) == (TITLE, "Ada Lovelace", "CS 101")
    assert cfg.study.profile == "full"
    (variant,) = cfg.study.variants
    assert (variant.name, variant.base) == ("dropout", "cnn")
    assert dict(cfg.notes) == {"discussion": study / "notes" / "discussion.md"}
    (note,) = notes.check(cfg, ["dense", "cnn3"])  # its placeholder names a number of the study
    assert "{{ cnn3.test_accuracy }}" in note.text


def test_a_build_inside_the_folder_finds_its_settings(study, monkeypatch):
    (study / "output" / "figures").mkdir(parents=True)
    for where in (study, study / "notes", study / "output" / "figures"):
        monkeypatch.chdir(where)
        cfg = load_config()
        assert cfg.settings_file == study / "report.toml"
        assert cfg.out_dir == study / "output"  # one output folder and cache, wherever it runs
    assert load_config(out_dir=Path("elsewhere")).out_dir == Path("elsewhere")  # --out still wins


def test_a_report_toml_above_that_is_not_ours_is_not_read(tmp_path, monkeypatch):
    (tmp_path / "report.toml").write_text('[tool]\nname = "another program"\n')
    (tmp_path / "sub").mkdir()
    monkeypatch.chdir(tmp_path / "sub")
    assert load_config().settings_file is None


def test_in_the_checkout_its_own_settings_are_still_found(monkeypatch):
    for where in (ROOT, ROOT / "src", ROOT / "report" / "examples"):
        monkeypatch.chdir(where)
        cfg = load_config()
        assert cfg.settings_file == ROOT / "report" / "report.toml"
        assert cfg.out_dir == ROOT / "output"


def test_a_non_empty_folder_is_refused_in_one_line_and_left_alone(tmp_path):
    folder = tmp_path / "taken"
    folder.mkdir()
    (folder / "notes.txt").write_text("mine")
    run = new(str(folder))
    assert run.code == 1 and isinstance(run.exc, SystemExit)
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in run.stderr
    assert str(folder) in lines[0] and "not empty" in lines[0] and "fmnist-report new" in lines[0]
    assert written(folder) == {"notes.txt"} and (folder / "notes.txt").read_text() == "mine"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["taken"]


def test_a_file_in_the_way_is_refused(tmp_path):
    (tmp_path / "file").write_text("x")
    run = new(str(tmp_path / "file"))
    assert run.code == 1 and "is no folder" in run.stderr and len(run.stderr.strip().splitlines()) == 1


def test_an_empty_folder_is_filled_in_place_even_as_the_working_directory(tmp_path, monkeypatch):
    folder = tmp_path / "empty"
    (folder / ".git").mkdir(parents=True)  # a fresh `git init` counts as empty, and stays
    inode = folder.stat().st_ino
    monkeypatch.chdir(folder)
    run = new(".")
    assert run.code == 0, run.stderr
    assert written(Path.cwd()) == FILES and folder.stat().st_ino == inode
    assert (folder / ".git").is_dir() and sorted(p.name for p in tmp_path.iterdir()) == ["empty"]


@pytest.mark.parametrize("exists", [False, True], ids=["new-folder", "empty-folder"])
def test_a_failure_while_writing_leaves_nothing(tmp_path, monkeypatch, exists):
    folder = tmp_path / "study"
    if exists:
        folder.mkdir()

    def broken(path):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(scaffold, "load_config", broken)  # after every file is written to the temporary
    run = new(str(folder))
    assert run.code == 1 and "No space left on device" in run.stderr and "Traceback" not in run.stderr
    assert folder.is_dir() == exists and (not exists or not any(folder.iterdir()))
    assert sorted(p.name for p in tmp_path.iterdir()) == (["study"] if exists else [])


def test_bad_values_are_refused_before_anything_is_written(tmp_path):
    run = new(str(tmp_path / "a"), "--title", "two\nlines")
    assert run.code == 1 and "report.title" in run.stderr and not (tmp_path / "a").exists()
    run = new(str(tmp_path / "b"), "--git", "https://github.com/someone/fmnist-report")
    assert run.code == 1 and "tag or commit" in run.stderr and not (tmp_path / "b").exists()


def test_git_installs_the_pinned_repository(tmp_path):
    url = "https://github.com/someone/fmnist-report@v1.2.3"
    assert new(str(tmp_path / "s"), "--git", url).code == 0
    expected = f"fmnist-report[cpu] @ git+{url}"
    assert f'FMNIST_REPORT: "{expected}"' in (tmp_path / "s/.github/workflows/report.yml").read_text()
    assert f"'{expected}'" in (tmp_path / "s/.devcontainer/devcontainer.json").read_text()


def test_the_workflow_pins_the_version_and_the_projects_actions(study):
    workflow = (study / ".github" / "workflows" / "report.yml").read_text()
    assert f'FMNIST_REPORT: "fmnist-report[cpu]=={__version__}"' in workflow
    assert 'pip install "$FMNIST_REPORT"' in workflow and "fmnist-report build" in workflow
    pins = re.findall(r"uses: ([\w./-]+)@(\S+) # (v\d+\.\d+\.\d+)\n", workflow)
    assert {name for name, _, _ in pins} == {
        "actions/checkout",
        "actions/setup-python",
        "actions/upload-artifact",
        "actions/configure-pages",
        "actions/upload-pages-artifact",
        "actions/deploy-pages",
    }
    assert all(re.fullmatch(r"[0-9a-f]{40}", sha) for _, sha, _ in pins)
    project = (ROOT / ".github" / "workflows" / "report.yml").read_text()
    for name, sha, version in pins:
        if f"uses: {name}@" in project:  # the same release as the project's own workflow
            assert f"uses: {name}@{sha} # {version}\n" in project, name
    # Only the deploy job may write, and only to Pages.
    assert re.search(r"^permissions: \{\}$", workflow, re.M)
    assert set(re.findall(r"^      ([\w-]+): write", workflow, re.M)) == {"pages", "id-token"}


@pytest.mark.skipif(not (BIN / "actionlint").exists(), reason="actionlint is not installed")
def test_the_workflow_passes_actionlint(study):
    run = subprocess.run(
        [str(BIN / "actionlint"), ".github/workflows/report.yml"],
        cwd=study,
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stdout + run.stderr


@pytest.mark.skipif(not (BIN / "zizmor").exists(), reason="zizmor is not installed")
def test_the_workflow_passes_zizmor_offline(study):
    run = subprocess.run(
        [str(BIN / "zizmor"), "--offline", "--no-progress", ".github/workflows/report.yml"],
        cwd=study,
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stdout + run.stderr


def test_the_dev_container_is_valid_and_installs_the_tool(study):
    devcontainer = json.loads((study / ".devcontainer" / "devcontainer.json").read_text())
    assert devcontainer_errors(devcontainer) == []
    assert devcontainer["name"] == TITLE and devcontainer["forwardPorts"] == []
    assert f"pip install --quiet '{scaffold.requirement()}'" in devcontainer["postCreateCommand"]
    assert devcontainer_errors({**devcontainer, "postCreateCommand": 5})


@needs_real_data
@pytest.mark.slow
@pytest.mark.realdata
def test_a_quick_build_inside_the_new_folder(tmp_path):
    """The console script, as a person runs it: `new`, then `build` with the folder as cwd."""
    exe = shutil.which("fmnist-report", path=str(BIN)) or pytest.skip("no fmnist-report script")
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "xdg-cache")}
    folder = tmp_path / "study"
    subprocess.run([exe, "new", str(folder), "--title", TITLE], check=True, env=env, capture_output=True)
    build = subprocess.run(
        [exe, "build", "--profile", "quick", "--epochs", "1", "--no-pdf", "--offline"],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
    )
    assert build.returncode == 0, build.stdout[-2000:] + build.stderr[-4000:]
    assert f"settings: {folder / 'report.toml'}" in build.stdout + build.stderr
    html = (folder / "output" / "report.html").read_text(encoding="utf-8")
    assert "Does dropout help?" in html and "dropout" in html
