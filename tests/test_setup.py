"""The set-up (scripts/dev.py) and the lock's consistency check (scripts/lock.py --check)."""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def load(name: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def lock():
    return load("lock")


@pytest.fixture(scope="module")
def dev():
    return load("dev")


def test_the_committed_lock_is_pyprojects(lock):
    assert lock.check() is None
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "lock.py"), "--check"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0 and done.stdout.startswith("ok: ")


@pytest.mark.parametrize(
    "edit",
    [
        ('"scipy>=1.17.1"', '"scipy>=1.18"'),  # a floor moved
        ('"jinja2>=3.1.6",', '"jinja2>=3.1.6",\n    "tqdm>=4",'),  # a dependency added
        ('"ray>=2.60.0"', '"ray>=2.61.0"'),  # an extra the lock covers
        ('requires-python = ">=3.11,<3.14"', 'requires-python = ">=3.11,<3.15"'),
        ("constraint-dependencies = [", 'constraint-dependencies = ["numpy<2.5", '),
    ],
)
def test_a_pyproject_change_that_is_not_locked_fails_the_check(lock, tmp_path, edit):
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert edit[0] in text
    changed = tmp_path / "pyproject.toml"
    changed.write_text(text.replace(edit[0], edit[1], 1), encoding="utf-8")
    import tomllib

    problem = lock.check(
        ROOT / "requirements" / "lock.txt", tomllib.loads(changed.read_text(encoding="utf-8"))
    )
    assert (
        problem
        == "pyproject.toml's dependencies changed since lock.txt was written; run: python scripts/lock.py"
    )


def test_a_comment_or_a_tool_setting_elsewhere_is_no_change(lock):
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    project["tool"]["ruff"]["line-length"] = 80
    assert lock.check(ROOT / "requirements" / "lock.txt", project) is None


def test_a_lock_without_its_digest_fails_the_check(lock, tmp_path):
    bare = tmp_path / "lock.txt"
    text = (ROOT / "requirements" / "lock.txt").read_text(encoding="utf-8")
    bare.write_text("\n".join(line for line in text.splitlines() if not line.startswith("# inputs:")))
    assert lock.check(bare) == "lock.txt records no inputs digest; run: python scripts/lock.py"
    assert lock.check(tmp_path / "none.txt") == "none.txt is missing; run: python scripts/lock.py"


@pytest.mark.parametrize(
    ("platform", "machine", "python", "says"),
    [
        (
            "linux",
            "x86_64",
            (3, 14),
            "this is Python 3.14, and TensorFlow 2.21 has wheels for Python 3.11 to 3.13 only",
        ),
        ("linux", "x86_64", (3, 10), "this is Python 3.10"),
        ("darwin", "x86_64", (3, 12), "TensorFlow 2.21 has no build for macOS on x86_64"),
        ("win32", "ARM64", (3, 12), "TensorFlow 2.21 has no build for win32 on ARM64"),
        ("linux", "riscv64", (3, 12), "no build for linux on riscv64"),
    ],
)
def test_an_unsupported_machine_gets_one_line(dev, monkeypatch, platform, machine, python, says):
    monkeypatch.setattr(dev.sys, "platform", platform)
    monkeypatch.setattr(dev.platform, "machine", lambda: machine)
    monkeypatch.setattr(dev.sys, "version_info", (*python, 0, "final", 0))
    problem = dev.supported()
    assert says in problem and "\n" not in problem
    assert (
        "Linux x86_64, Linux aarch64, macOS on Apple Silicon, Windows x64" in problem or "uv run" in problem
    )


@pytest.mark.parametrize(
    ("platform", "machine"),
    [("linux", "x86_64"), ("linux", "aarch64"), ("darwin", "arm64"), ("win32", "AMD64")],
)
@pytest.mark.parametrize("python", [(3, 11), (3, 12), (3, 13)])
def test_every_supported_machine_is_let_through(dev, monkeypatch, platform, machine, python):
    monkeypatch.setattr(dev.sys, "platform", platform)
    monkeypatch.setattr(dev.platform, "machine", lambda: machine)
    monkeypatch.setattr(dev.sys, "version_info", (*python, 0, "final", 0))
    assert dev.supported() is None


def test_python_3_14_stops_before_anything_is_installed(tmp_path):
    """The script itself, with this interpreter posing as 3.14, in a copy of the project."""
    for folder in ("scripts", "requirements"):
        shutil.copytree(ROOT / folder, tmp_path / folder)
    pose = (
        "import sys, runpy; sys.version_info = (3, 14, 0, 'final', 0); sys.argv = ['dev.py', 'setup']; "
        "runpy.run_path('scripts/dev.py', run_name='__main__')"
    )
    done = subprocess.run(
        [sys.executable, "-c", pose], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr.startswith("error: this is Python 3.14") and done.stderr.count("\n") == 1
    assert not (tmp_path / ".venv").exists()


def test_a_second_set_up_installs_nothing():
    """The tests run in a set-up checkout: `setup` brings it up to date, and then has nothing to do."""
    for _ in range(2):
        done = subprocess.run(
            [sys.executable, str(ROOT / "scripts" / "dev.py"), "setup"],
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert done.returncode == 0, done.stderr
    assert "installing" not in done.stdout and "making" not in done.stdout


def test_the_same_commands_in_the_readme_and_the_script(dev):
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for line in (
        "python scripts/dev.py report",
        "python scripts/dev.py test",
        "uv run scripts/dev.py report",
    ):
        assert line in readme and line in dev.__doc__
    assert dev.LINTED == ["src", "tests", "benchmarks", "scripts"]


def test_the_test_command_type_checks_src_after_ruff(dev, monkeypatch):
    ran: list[list[str]] = []
    monkeypatch.setattr(
        dev, "run", lambda *cmd, **kwargs: ran.append([Path(str(cmd[0])).stem, *map(str, cmd[1:])])
    )
    dev.test(["-m", "not slow"])
    # mypy takes no argument: what it checks and how is pyproject.toml's [tool.mypy].
    assert [cmd[:2] for cmd in ran[:3]] == [["ruff", "check"], ["ruff", "format"], ["mypy"]]
    assert ran[-1] == ["pytest", "-m", "not slow"]


def test_the_type_checker_reads_src_and_only_the_untyped_packages_as_any():
    import tomllib

    mypy = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["mypy"]
    assert mypy["files"] == ["src"] and mypy["python_version"] == "3.11"
    assert "strict" not in mypy and "ignore_missing_imports" not in mypy
    (untyped,) = mypy["overrides"]
    assert untyped["ignore_missing_imports"] is True
    assert {m.removesuffix(".*") for m in untyped["module"]} == {
        "keras",
        "tensorflow",
        "scipy",
        "weasyprint",
        "fontTools",
        "boto3",
        "torch",
    }


def test_the_script_runs_on_pythons_older_than_it_supports():
    """So that Python 3.8 to 3.10 reach the one line instead of a SyntaxError."""
    import ast

    source = (ROOT / "scripts" / "dev.py").read_text(encoding="utf-8")
    ast.parse(source, feature_version=(3, 8))
    assert "from __future__ import annotations" in source
