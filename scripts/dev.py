# /// script
# requires-python = ">=3.11,<3.14"
# dependencies = []
# ///
"""Set up and run fmnist-report on any supported system, with nothing but Python (or uv).

    python scripts/dev.py report [BUILD OPTIONS]   # set up, then build output/report.html and .pdf
    python scripts/dev.py test [PYTEST OPTIONS]    # set up, then lint, type-check and run the test suite
    python scripts/dev.py setup                    # only the set-up
    uv run scripts/dev.py report                   # the same where only uv is installed

The set-up makes ``.venv`` beside this folder and installs exactly the versions of the one
lock, requirements/lock.txt, every file checked against its hash. It is idempotent: a
second run installs nothing unless the lock or the project's files changed. On Debian or
Ubuntu as root it also installs the missing system packages (scripts/system-deps.sh).
It uses the standard library alone, so that it runs before anything is installed, and an
unsupported machine is told so in one line before anything is downloaded.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import platform
import shutil
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv"
LOCK = ROOT / "requirements" / "lock.txt"
PIP_LOCK = ROOT / "requirements" / "pip.txt"
#: Pythons with a TensorFlow wheel for every supported system (pyproject.toml's requires-python).
PYTHONS = ((3, 11), (3, 12), (3, 13))
#: ``(sys.platform, platform.machine())`` with a TensorFlow 2.21 wheel, and their names.
SYSTEMS = {
    ("linux", "x86_64"): "Linux x86_64",
    ("linux", "aarch64"): "Linux aarch64",
    ("darwin", "arm64"): "macOS on Apple Silicon",
    ("win32", "amd64"): "Windows x64",
}
#: What the test command lints and checks before pytest.
LINTED = ["src", "tests", "benchmarks", "scripts"]
#: The project files whose set changes the editable install's link tree.
PROJECT_DIRS = ("src", "templates", "report")


def supported() -> str | None:
    """Why this machine cannot run the project, in one line, or None when it can."""
    here = (sys.platform, platform.machine().lower())
    python = sys.version_info[:2]
    names = ", ".join(SYSTEMS.values())
    pythons = f"Python {PYTHONS[0][0]}.{PYTHONS[0][1]} to {PYTHONS[-1][0]}.{PYTHONS[-1][1]}"
    if here not in SYSTEMS:
        machine = {"darwin": "macOS"}.get(here[0], here[0])
        return f"TensorFlow 2.21 has no build for {machine} on {platform.machine()}; fmnist-report runs on {names}"
    if python not in PYTHONS:
        return (
            f"this is Python {python[0]}.{python[1]}, and TensorFlow 2.21 has wheels for {pythons} only; "
            f"run this with one of them (with uv: uv run --python 3.13 scripts/dev.py ...)"
        )
    return None


def venv_bin(name: str) -> Path:
    folder = VENV / ("Scripts" if os.name == "nt" else "bin")
    return folder / (f"{name}.exe" if os.name == "nt" else name)


def digest(*parts: bytes) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(hashlib.sha256(part).digest())
    return h.hexdigest()


def project_files() -> bytes:
    """Every file name under the packaged folders, with its size and time: a change reinstalls."""
    rows = []
    for top in PROJECT_DIRS:
        for path in sorted((ROOT / top).rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                stat = path.stat()
                rows.append(f"{path.relative_to(ROOT).as_posix()} {stat.st_size} {stat.st_mtime_ns}")
    return "\n".join(rows).encode()


def run(*cmd: object, **kwargs) -> None:
    done = subprocess.run([str(c) for c in cmd], cwd=ROOT, check=False, **kwargs)
    if done.returncode != 0:
        raise SystemExit(done.returncode)


def system_packages() -> None:
    """Debian or Ubuntu: install what is missing as root, or print the apt-get line."""
    if sys.platform == "linux" and shutil.which("apt-get") and shutil.which("sh"):
        run("sh", ROOT / "scripts" / "system-deps.sh")


def make_venv() -> None:
    """``.venv`` for this Python; one made by another Python version is made again."""
    config = VENV / "pyvenv.cfg"
    if config.is_file():
        wanted = "{}.{}".format(*sys.version_info[:2])
        pairs = (
            line.split("=", 1) for line in config.read_text(encoding="utf-8").splitlines() if "=" in line
        )
        lines = {key.strip(): value.strip() for key, value in pairs}
        made_by = lines.get("version", lines.get("version_info", ""))
        if made_by.startswith(wanted + ".") and venv_bin("python").exists():
            return
        print(f"{VENV.name} was made by Python {made_by or '?'}; making it again for Python {wanted}")
        shutil.rmtree(VENV)
    if importlib.util.find_spec("ensurepip") is None:
        fix = (
            "sudo apt-get install python3-venv"
            if shutil.which("apt-get")
            else "install this Python's venv module"
        )
        print(f"error: this Python cannot make a virtualenv (ensurepip is missing); {fix}", file=sys.stderr)
        raise SystemExit(1)
    print(f"making {VENV.name} with Python {platform.python_version()}")
    venv.EnvBuilder(with_pip=True).create(VENV)


def install() -> None:
    """Install the lock (with hashes), then the project itself, each only when it changed."""
    pip = [venv_bin("python"), "-m", "pip", "--disable-pip-version-check"]
    stamps = VENV / ".installed"
    if stamps.is_file():  # the single stamp of the Makefile's set-up
        stamps.unlink()
    stamps.mkdir(exist_ok=True)
    locked = digest(PIP_LOCK.read_bytes(), LOCK.read_bytes())
    if not (stamps / locked).exists():
        print("installing the locked packages (requirements/lock.txt, every file checked against its hash)")
        run(*pip, "install", "--quiet", "--require-hashes", "-r", PIP_LOCK)
        run(*pip, "install", "--quiet", "--require-hashes", "-r", LOCK)
        for old in stamps.iterdir():
            old.unlink()
        (stamps / locked).touch()
    project = "project-" + digest(locked.encode(), (ROOT / "pyproject.toml").read_bytes(), project_files())
    if not (stamps / project).exists():
        # No dependencies (the lock has them all) and no build isolation (the lock has the
        # build backend), so nothing unpinned is downloaded. A strict editable install maps
        # templates/ and report/ into the package; a new file needs a fresh link tree.
        print("installing fmnist-report itself (editable)")
        run(
            *pip,
            "install",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "-e",
            ".",
            "--config-settings",
            "editable_mode=strict",
        )
        for old in stamps.glob("project-*"):
            old.unlink()
        (stamps / project).touch()


def setup() -> None:
    problem = supported()
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        raise SystemExit(1)
    system_packages()
    make_venv()
    install()


def test(args: list[str]) -> None:
    """Lint, type-check src/, check the workflow and the lock, then pytest (the slow end-to-end tests included)."""
    tool = venv_bin
    run(tool("ruff"), "check", *LINTED)
    run(tool("ruff"), "format", "--check", *LINTED)
    run(tool("mypy"))  # pyproject.toml's [tool.mypy] names what it checks (src/) and how
    run(tool("actionlint"))
    run(tool("zizmor"), "--offline", "--no-progress", ".github/workflows")
    run(tool("python"), ROOT / "scripts" / "lock.py", "--check")
    run(tool("pytest"), *args)


def main(argv: list[str]) -> None:
    if not argv or argv[0] not in ("setup", "report", "test"):
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        raise SystemExit(2)
    command, rest = argv[0], argv[1:]
    setup()
    if command == "report":
        run(venv_bin("fmnist-report"), "build", *rest)
    elif command == "test":
        test(rest)


if __name__ == "__main__":
    main(sys.argv[1:])
