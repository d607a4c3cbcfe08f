"""What `pip install` of the package asks for."""

from __future__ import annotations

import importlib.metadata as metadata
import tomllib

import pytest
from typer.testing import CliRunner

import fmnist_report
from fmnist_report.cli import app


@pytest.fixture(scope="module")
def pyproject(pytestconfig) -> dict:
    return tomllib.loads((pytestconfig.rootpath / "pyproject.toml").read_text())


def test_the_version_is_written_once(pyproject):
    assert "version" not in pyproject["project"] and "version" in pyproject["project"]["dynamic"]
    assert metadata.version("fmnist-report") == fmnist_report.__version__
    result = CliRunner().invoke(app, ["--version"])
    assert result.output.strip() == f"fmnist-report {fmnist_report.__version__}"
