"""Refresh the hashed lock files in requirements/ and check them (run by `make lock`).

One lock per Python version that CI uses, for Linux x86_64, covering the runtime, the
CPU build of TensorFlow ([cpu]), the development tools ([dev]) and the build backend.
uv keeps every version a lock already pins unless told to upgrade, so a refresh after an
edit to pyproject.toml moves only what the edit needs:

    make lock                                    # after changing dependencies in pyproject.toml
    make lock LOCK_ARGS="--upgrade-package rich" # take a newer release of one package
    make lock LOCK_ARGS="--upgrade"              # take the newest of everything

TensorFlow, Keras, NumPy and Python enter every cache key of the result store: a lock that
moves one of them makes every stored run stale, so this script names such a change. It then
checks that what deployment installs resolves beside the lock with those versions held
fixed. Both need the network, which is why they live here and not in the unit tests.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOCK_DIR = ROOT / "requirements"
#: The Python versions CI runs on: .ci/run (the machine's python3) and the GitHub workflow.
PYTHONS = ("3.11",)
PLATFORM = "x86_64-manylinux_2_28"
EXTRAS = ("cpu", "dev", "jax", "ray")
#: Distributions whose versions enter every cache key (records.versions()).
CACHE_KEY_PACKAGES = ("tensorflow-cpu", "tensorflow", "jax", "keras", "numpy")
#: What deployment installs; the [deploy] extra takes its place once pyproject.toml has one.
DEPLOY_FALLBACK = ("boto3",)

PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)", re.M)


def lock_path(python: str) -> Path:
    return LOCK_DIR / f"py{python}.txt"


def pins(text: str) -> dict[str, str]:
    """``name -> version`` for every ``name==version`` line of a requirements file."""
    return {re.sub(r"[-_.]+", "-", name).lower(): version for name, version in PIN.findall(text)}


def _pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def deploy_requirements() -> list[str]:
    return list(_pyproject()["project"]["optional-dependencies"].get("deploy", DEPLOY_FALLBACK))


def _compile(
    python: str, output: Path, extra_lines: list[str], *args: str
) -> subprocess.CompletedProcess[str]:
    """``uv pip compile`` of the project's extras plus ``extra_lines`` (read from stdin)."""
    uv = Path(sys.executable).with_name("uv")
    cmd = [str(uv) if uv.exists() else "uv", "pip", "compile", "pyproject.toml", "-"]
    for extra in EXTRAS:
        cmd += ["--extra", extra]
    cmd += ["--generate-hashes", "--python-version", python, "--python-platform", PLATFORM]
    cmd += ["--custom-compile-command", "make lock", "--quiet", "-o", str(output), *args]
    # The build backend is locked too, so that `pip install --no-build-isolation -e .` needs nothing more.
    stdin = "".join(f"{line}\n" for line in [*_pyproject()["build-system"]["requires"], *extra_lines])
    return subprocess.run(cmd, input=stdin, capture_output=True, text=True, cwd=ROOT, check=False)


def check_deploy(python: str) -> tuple[str | None, list[str]]:
    """Add what deployment installs to the locked set, moving as little as uv can.

    The cache-key versions are held at the lock's. Returns the resolver's error (None when
    it resolves) and the other locked packages that deployment would move.
    """
    path = lock_path(python)
    locked = pins(path.read_text())
    held = "".join(f"{n}=={locked[n]}\n" for n in CACHE_KEY_PACKAGES if n in locked)
    with tempfile.TemporaryDirectory() as tmp:
        constraints = Path(tmp) / "cache-key.txt"
        constraints.write_text(held)
        trial = Path(tmp) / path.name
        trial.write_text(path.read_text())  # uv keeps to the versions of an existing output file
        done = _compile(python, trial, deploy_requirements(), "-c", str(constraints))
        resolved = pins(trial.read_text())
    if done.returncode != 0:
        return done.stderr.strip(), []
    return None, [f"{n} {v} -> {resolved[n]}" for n, v in sorted(locked.items()) if resolved.get(n, v) != v]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--python", action="append", help="lock only this version (repeatable)")
    args, uv_args = parser.parse_known_args(argv)  # the rest goes to uv: --upgrade, --upgrade-package
    failed = False
    for python in args.python or PYTHONS:
        path = lock_path(python)
        before = pins(path.read_text()) if path.exists() else {}
        path.parent.mkdir(exist_ok=True)
        done = _compile(python, path, [], *uv_args)
        if done.returncode != 0:
            print(f"error: could not lock for Python {python}:\n{done.stderr.strip()}", file=sys.stderr)
            return 1
        after = pins(path.read_text())
        changed = sorted(n for n in after.keys() | before.keys() if before.get(n) != after.get(n))
        print(f"{path.relative_to(ROOT)}: {len(after)} pins, {len(changed)} changed")
        for name in changed:
            print(f"  {name} {before.get(name, '(new)')} -> {after.get(name, '(removed)')}")
            if name in CACHE_KEY_PACKAGES and name in before:
                print(f"  note: {name} is part of every cache key: each stored run will be computed again")

        wanted = " ".join(deploy_requirements())
        error, moved = check_deploy(python)
        if error:
            failed = True
            print(
                f"error: deployment ({wanted}) does not resolve with tensorflow, keras and numpy as locked:"
            )
            print("  " + error.replace("\n", "\n  "))
            continue
        print(f"ok: deployment ({wanted}) resolves with tensorflow, keras and numpy as locked")
        for line in moved:
            print(f"  but it would move {line}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
