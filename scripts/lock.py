"""Write the one hashed lock, requirements/lock.txt, and check it (`python scripts/lock.py`).

The lock is universal: one file, made by uv, whose environment markers pick each pin for
Linux x86_64 and aarch64, macOS on Apple Silicon and Windows x64 (``[tool.uv]
environments`` in pyproject.toml), on Python 3.11 to 3.13. It covers the runtime, the
TensorFlow build for each system ([cpu]), the development tools ([dev]), [jax], [ray] and
the build backend. uv keeps every version the lock already pins unless told to upgrade:

    python scripts/lock.py                                 # after changing pyproject.toml
    python scripts/lock.py --upgrade-package rich          # take a newer release of one package
    python scripts/lock.py --check                         # offline: is the lock pyproject's?

Its first lines record a digest of what it was made from (the dependency tables of
pyproject.toml), so that ``--check``, which the test command runs, fails on a change that
was not locked. After writing, it resolves the lock once for every system and Python with
wheels only, as an installer there would, and it checks that what deployment installs
resolves beside the lock. TensorFlow, Keras, NumPy and Python enter every cache key of the
result store: a lock that moves one of them makes every stored run stale, so this script
names such a change. Everything but ``--check`` needs the network.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOCK = ROOT / "requirements" / "lock.txt"
COMMAND = "python scripts/lock.py"
#: The oldest Python the lock is resolved from; the markers carry it to the newer ones.
OLDEST_PYTHON = "3.11"
PYTHONS = ("3.11", "3.12", "3.13")
#: uv's name for each supported system; macOS is checked at the oldest release we support.
PLATFORMS = {
    "Linux x86_64": "x86_64-manylinux_2_28",
    "Linux aarch64": "aarch64-manylinux_2_28",
    "macOS arm64 (14+)": "aarch64-apple-darwin",
    "Windows x64": "x86_64-pc-windows-msvc",
}
MACOS_OLDEST = "14.0"
EXTRAS = ("cpu", "dev", "jax", "ray")
#: Distributions whose versions enter every cache key (records.versions()).
CACHE_KEY_PACKAGES = ("tensorflow-cpu", "tensorflow", "jax", "keras", "numpy")
#: What deployment installs; the [deploy] extra takes its place once pyproject.toml has one.
DEPLOY_FALLBACK = ("boto3",)
DIGEST_LINE = re.compile(r"^# inputs: sha256 ([0-9a-f]{64})$", re.M)

PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)(?: ; ([^\\\n]+?))? *\\?$", re.M)


def normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pins(text: str) -> dict[str, set[str]]:
    """``name -> {version, ...}``: a universal lock may pin a package once per system."""
    found: dict[str, set[str]] = {}
    for name, version, _marker in PIN.findall(text):
        found.setdefault(normal(name), set()).add(version)
    return found


def pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def inputs_digest(project: dict) -> str:
    """A digest of every table of pyproject.toml that the lock is made from."""
    extras = project["project"].get("optional-dependencies", {})
    inputs = {
        "requires-python": project["project"].get("requires-python"),
        "dependencies": project["project"].get("dependencies", []),
        "extras": {name: extras.get(name, []) for name in EXTRAS},
        "build-system": project["build-system"]["requires"],
        "tool.uv": project.get("tool", {}).get("uv", {}),
    }
    return hashlib.sha256(json.dumps(inputs, sort_keys=True).encode()).hexdigest()


def check(lock: Path = LOCK, project: dict | None = None) -> str | None:
    """Why the lock is not the one pyproject.toml asks for, or None when it is (offline)."""
    if not lock.is_file():
        return f"{lock.name} is missing; run: {COMMAND}"
    found = DIGEST_LINE.search(lock.read_text(encoding="utf-8"))
    if found is None:
        return f"{lock.name} records no inputs digest; run: {COMMAND}"
    if found.group(1) != inputs_digest(project or pyproject()):
        return f"pyproject.toml's dependencies changed since {lock.name} was written; run: {COMMAND}"
    return None


def uv() -> str:
    beside = Path(sys.executable).with_name("uv.exe" if os.name == "nt" else "uv")
    return str(beside) if beside.exists() else "uv"


def compile_lock(output: Path, extra_lines: list[str], *args: str) -> subprocess.CompletedProcess[str]:
    """``uv pip compile --universal`` of the project's extras plus ``extra_lines`` (read from stdin)."""
    cmd = [uv(), "pip", "compile", "pyproject.toml", "-", "--universal", "--generate-hashes"]
    for extra in EXTRAS:
        cmd += ["--extra", extra]
    cmd += ["--python-version", OLDEST_PYTHON, "--custom-compile-command", COMMAND]
    cmd += ["--quiet", "-o", str(output), *args]
    # The build backend is locked too, so that `pip install --no-build-isolation -e .` needs nothing more.
    stdin = "".join(f"{line}\n" for line in [*pyproject()["build-system"]["requires"], *extra_lines])
    return subprocess.run(cmd, input=stdin, capture_output=True, text=True, cwd=ROOT, check=False)


def stamp(lock: Path) -> None:
    """Put the inputs digest under uv's header."""
    text = DIGEST_LINE.sub("", lock.read_text(encoding="utf-8")).replace("\n\n", "\n", 1)
    header, _, body = text.partition(f"#    {COMMAND}\n")
    line = f"# inputs: sha256 {inputs_digest(pyproject())}\n"
    lock.write_text(f"{header}#    {COMMAND}\n{line}{body}", encoding="utf-8")


def resolve_for(platform: str, python: str, lock: Path = LOCK) -> tuple[str | None, dict[str, str]]:
    """Resolve the lock as an installer on that system would, from wheels alone.

    Returns uv's error (None when it resolves) and the ``name -> version`` it installs.
    """
    cmd = [uv(), "pip", "compile", str(lock), "--no-build", "--python-platform", platform]
    cmd += ["--python-version", python, "--no-header", "--no-annotate", "--quiet"]
    env = {**os.environ, "MACOSX_DEPLOYMENT_TARGET": MACOS_OLDEST}
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, env=env, check=False)
    if done.returncode != 0:
        return done.stderr.strip(), {}
    return None, {normal(n): v for n, v, _ in PIN.findall(done.stdout)}


def check_platforms() -> bool:
    """Print one row per system and Python: resolves from wheels, and only to locked versions."""
    locked = pins(LOCK.read_text(encoding="utf-8"))
    ok = True
    print(f"| system | {' | '.join(f'Python {p}' for p in PYTHONS)} |")
    print(f"|---|{'---|' * len(PYTHONS)}")
    for label, platform in PLATFORMS.items():
        cells = []
        for python in PYTHONS:
            error, resolved = resolve_for(platform, python)
            strays = sorted(f"{n} {v}" for n, v in resolved.items() if v not in locked.get(n, ()))
            if error or strays:
                ok = False
                cells.append(
                    "fails: " + (error.splitlines()[-1] if error else "unlocked " + ", ".join(strays))
                )
            else:
                tf = (resolved.get("tensorflow-cpu") and "tensorflow-cpu") or "tensorflow"
                cells.append(f"{len(resolved)} wheels, {tf} {resolved.get(tf, '?')}")
        print(f"| {label} | {' | '.join(cells)} |")
    return ok


def check_deploy() -> tuple[str | None, list[str]]:
    """Add what deployment installs to the locked set, moving as little as uv can.

    The cache-key versions are held at the lock's. Returns the resolver's error (None when
    it resolves) and the other locked packages that deployment would move.
    """
    project = pyproject()
    locked = pins(LOCK.read_text(encoding="utf-8"))
    held = "".join(f"{n}=={v}\n" for n in CACHE_KEY_PACKAGES for v in sorted(locked.get(n, ()))[:1])
    wanted = list(project["project"]["optional-dependencies"].get("deploy", DEPLOY_FALLBACK))
    with tempfile.TemporaryDirectory() as tmp:
        constraints = Path(tmp) / "cache-key.txt"
        constraints.write_text(held, encoding="utf-8")
        trial = Path(tmp) / LOCK.name
        trial.write_text(LOCK.read_text(encoding="utf-8"), encoding="utf-8")  # uv keeps its versions
        done = compile_lock(trial, wanted, "-c", str(constraints))
        resolved = pins(trial.read_text(encoding="utf-8"))
    if done.returncode != 0:
        return done.stderr.strip(), []
    moved = [
        f"{n} {sorted(v)} -> {sorted(resolved[n])}"
        for n, v in sorted(locked.items())
        if resolved.get(n, v) != v
    ]
    return None, moved


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--check", action="store_true", help="only check that the lock is pyproject's (offline)"
    )
    args, uv_args = parser.parse_known_args(argv)  # the rest goes to uv: --upgrade, --upgrade-package
    if args.check:
        problem = check()
        print(f"error: {problem}" if problem else f"ok: {LOCK.relative_to(ROOT)} is pyproject.toml's")
        return 1 if problem else 0

    before = pins(LOCK.read_text(encoding="utf-8")) if LOCK.exists() else {}
    LOCK.parent.mkdir(exist_ok=True)
    done = compile_lock(LOCK, [], *uv_args)
    if done.returncode != 0:
        print(f"error: could not lock:\n{done.stderr.strip()}", file=sys.stderr)
        return 1
    stamp(LOCK)
    after = pins(LOCK.read_text(encoding="utf-8"))
    changed = sorted(n for n in after.keys() | before.keys() if before.get(n) != after.get(n))
    print(f"{LOCK.relative_to(ROOT)}: {sum(map(len, after.values()))} pins, {len(changed)} changed")
    for name in changed:
        print(
            f"  {name} {sorted(before.get(name, ())) or '(new)'} -> {sorted(after.get(name, ())) or '(removed)'}"
        )
        if name in CACHE_KEY_PACKAGES and name in before:
            print(f"  note: {name} is part of every cache key: each stored run will be computed again")

    failed = not check_platforms()
    wanted = " ".join(pyproject()["project"]["optional-dependencies"].get("deploy", DEPLOY_FALLBACK))
    error, moved = check_deploy()
    if error:
        failed = True
        print(f"error: deployment ({wanted}) does not resolve with tensorflow, keras and numpy as locked:")
        print("  " + error.replace("\n", "\n  "))
    else:
        print(f"ok: deployment ({wanted}) resolves with tensorflow, keras and numpy as locked")
        for line in moved:
            print(f"  but it would move {line}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
