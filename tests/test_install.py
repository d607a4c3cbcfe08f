"""What `pip install` of the package asks for."""

from __future__ import annotations

import importlib.metadata as metadata
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


@pytest.fixture(scope="module")
def pyproject(pytestconfig) -> dict:
    return tomllib.loads((pytestconfig.rootpath / "pyproject.toml").read_text())


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


def test_weasyprint_floor_has_url_fetcher(pyproject):
    # render.py imports weasyprint.URLFetcher, which came with WeasyPrint 68.0.
    (line,) = [d for d in pyproject["project"]["dependencies"] if d.startswith("weasyprint")]
    assert not Requirement(line).specifier.contains("67.0")
