"""What `pip install` of the package asks for, and the lock that `make` installs from."""

from __future__ import annotations

import importlib.metadata as metadata
import re
import tomllib

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from typer.testing import CliRunner

import fmnist_report
from fmnist_report.cli import app

#: Every distribution of TensorFlow that pip would put beside (or over) another one.
TENSORFLOW_BUILDS = {"tensorflow", "tensorflow-cpu", "tensorflow-gpu", "tensorflow-intel", "tf-nightly"}
LINUX_X86_64 = {"sys_platform": "linux", "platform_machine": "x86_64", "python_version": "3.11"}
MAC_ARM64 = {"sys_platform": "darwin", "platform_machine": "arm64", "python_version": "3.11"}
#: The systems and Pythons the one lock covers (pyproject.toml's [tool.uv] environments).
SYSTEMS = {
    "linux-x86_64": {"sys_platform": "linux", "platform_machine": "x86_64"},
    "linux-aarch64": {"sys_platform": "linux", "platform_machine": "aarch64"},
    "macos-arm64": {"sys_platform": "darwin", "platform_machine": "arm64"},
    "windows-x64": {"sys_platform": "win32", "platform_machine": "AMD64"},
}
ENVIRONMENTS = {
    f"{name}-py{python}": {**env, "python_version": python, "python_full_version": f"{python}.0"}
    for name, env in SYSTEMS.items()
    for python in ("3.11", "3.12", "3.13")
}


@pytest.fixture(scope="module")
def pyproject(pytestconfig) -> dict:
    return tomllib.loads((pytestconfig.rootpath / "pyproject.toml").read_text())


@pytest.fixture(scope="module")
def lock_text(pytestconfig) -> str:
    return (pytestconfig.rootpath / "requirements" / "lock.txt").read_text(encoding="utf-8")


def locked_versions(text: str, env: dict[str, str] | None = None) -> dict[str, str]:
    """``name -> version`` that pip installs from the universal lock on ``env`` (this machine's by default)."""
    found: dict[str, str] = {}
    for name, version, marker in re.findall(
        r"^([A-Za-z0-9][\w.-]*)==(\S+)(?: ; ([^\\\n]+?))? \\$", text, re.M
    ):
        if not marker or Requirement(f"{name}=={version}; {marker}").marker.evaluate(env):
            assert canonicalize_name(name) not in found, f"{name} is pinned twice for {env}"
            found[canonicalize_name(name)] = version
    return found


def wanted(requirements: list[Requirement], env: dict[str, str], extra: str = "") -> set[str]:
    """The distribution names pip installs from these requirements on that platform."""
    return {
        canonicalize_name(r.name)
        for r in requirements
        if r.marker is None or r.marker.evaluate({**env, "extra": extra})
    }


def installed_requirements() -> list[Requirement]:
    return [Requirement(line) for line in metadata.requires("fmnist-report") or []]


def test_the_version_is_written_once(pyproject):
    assert "version" not in pyproject["project"] and "version" in pyproject["project"]["dynamic"]
    assert metadata.version("fmnist-report") == fmnist_report.__version__
    result = CliRunner().invoke(app, ["--version"])
    assert result.output.strip() == f"fmnist-report {fmnist_report.__version__}"


def test_a_plain_install_leaves_an_installed_tensorflow_alone():
    """pip reads these requirements: none names a TensorFlow build outside an extra."""
    requirements = installed_requirements()
    for env in (LINUX_X86_64, MAC_ARM64):
        assert wanted(requirements, env) & TENSORFLOW_BUILDS == set()
        assert "keras" in wanted(requirements, env)


def test_the_extras_bring_one_tensorflow_each():
    requirements = installed_requirements()
    assert wanted(requirements, LINUX_X86_64, "cpu") & TENSORFLOW_BUILDS == {"tensorflow-cpu"}
    assert wanted(requirements, MAC_ARM64, "cpu") & TENSORFLOW_BUILDS == {"tensorflow"}
    gpu = [r for r in requirements if r.marker and r.marker.evaluate({**LINUX_X86_64, "extra": "gpu"})]
    assert [(r.name, r.extras) for r in gpu] == [("tensorflow", {"and-cuda"})]


@pytest.mark.parametrize("environment", sorted(ENVIRONMENTS))
def test_every_floor_is_met_by_the_lock_on_every_system(pyproject, lock_text, environment):
    """The lock is what each system runs on, so each floor must be a version it holds there or below."""
    env = ENVIRONMENTS[environment]
    locked = locked_versions(lock_text, env)
    project = pyproject["project"]
    lines = project["dependencies"] + [r for e in ("cpu", "dev") for r in project["optional-dependencies"][e]]
    for requirement in map(Requirement, lines):
        if requirement.marker and not requirement.marker.evaluate({**env, "extra": "cpu"}):
            continue
        name = canonicalize_name(requirement.name)
        assert name in locked, f"{name} is not in the lock for {environment}: run `python scripts/lock.py`"
        assert any(s.operator == ">=" for s in requirement.specifier), f"{requirement} has no floor"
        assert requirement.specifier.contains(locked[name]), (
            f"{requirement} excludes the locked {locked[name]} on {environment}"
        )
    tensorflow = "tensorflow-cpu" if environment.startswith("linux-x86_64") else "tensorflow"
    assert locked[tensorflow] == "2.21.0" and not (TENSORFLOW_BUILDS - {tensorflow}) & set(locked)


def test_macos_keeps_a_pikepdf_with_a_wheel_for_macos_14(lock_text):
    """pikepdf 10.14 and later need macOS 15 on Apple Silicon."""
    from packaging.version import Version

    assert Version(locked_versions(lock_text, ENVIRONMENTS["macos-arm64-py3.13"])["pikepdf"]) < Version(
        "10.14"
    )


def test_weasyprint_floor_has_url_fetcher(pyproject):
    # render.py imports weasyprint.URLFetcher, which came with WeasyPrint 68.0.
    (line,) = [d for d in pyproject["project"]["dependencies"] if d.startswith("weasyprint")]
    assert not Requirement(line).specifier.contains("67.0")


def test_the_lock_pins_everything_with_hashes(pyproject, lock_text):
    blocks = re.split(r"\n(?=[A-Za-z0-9])", lock_text.split("\n", 3)[3].strip())
    assert len(blocks) > 100
    assert all(re.search(r"==\S+(?: ; [^\\\n]+)? \\\n\s+--hash=sha256:[0-9a-f]{64}", b) for b in blocks)
    locked = locked_versions(lock_text)
    for line in pyproject["build-system"]["requires"]:  # so the editable install builds offline
        assert canonicalize_name(Requirement(line).name) in locked


def test_the_environment_is_the_locked_one(lock_text):
    """TensorFlow, Keras and NumPy enter every cache key: the tests must run on the locked ones."""
    locked = locked_versions(lock_text)
    drift = {}
    for name, version in locked.items():
        try:
            installed = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
        if installed != version:
            drift[name] = (installed, version)
    assert drift == {}, "installed versions differ from the lock; run `python scripts/dev.py setup`"
    # The lock pins tensorflow-cpu on Linux x86_64 and tensorflow elsewhere: check this machine's one.
    tensorflow = "tensorflow-cpu" if "tensorflow-cpu" in locked else "tensorflow"
    for name in (tensorflow, "keras", "numpy"):
        assert metadata.version(name) == locked[name]


def test_pip_refuses_a_python_without_a_stable_tensorflow(pyproject):
    """Python 3.14 would otherwise get the pre-release tensorflow-cpu 2.22.0rc0 without a word."""
    from packaging.specifiers import SpecifierSet

    supported = SpecifierSet(pyproject["project"]["requires-python"])
    assert [v for v in ("3.10.12", "3.11.0", "3.12.7", "3.13.1", "3.14.0") if v in supported] == [
        "3.11.0",
        "3.12.7",
        "3.13.1",
    ]
