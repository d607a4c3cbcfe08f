"""Process-wide TensorFlow settings: a missing TensorFlow."""

from __future__ import annotations

import sys

import pytest
from typer.testing import CliRunner

from fmnist_report import runtime
from fmnist_report.cli import app
from fmnist_report.errors import UserError


def test_without_tensorflow_a_command_says_how_to_install_it(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "tensorflow", None)  # what a missing package looks like to import
    with pytest.raises(UserError, match=r"TensorFlow is not installed; install it with: pip install"):
        runtime.quiet_tensorflow()
    image = tmp_path / "shirt.npy"
    image.write_bytes(b"")
    result = CliRunner().invoke(app, ["predict", str(image)])
    assert result.exit_code == 1
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and "pip install 'fmnist-report[cpu]'" in lines[0]
    assert "Traceback" not in result.output
