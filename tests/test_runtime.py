"""Process-wide TensorFlow settings: what reaches the terminal, and a missing TensorFlow."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from fmnist_report import runtime
from fmnist_report.cli import app
from fmnist_report.errors import UserError

from .factories import REAL_DIR, needs_real_data

CLI = [sys.executable, "-c", "from fmnist_report.cli import main; main()"]


@needs_real_data
@pytest.mark.slow
def test_a_study_of_many_models_prints_no_tensorflow_warnings(tmp_path):
    """Six models in one process: TensorFlow would call each new training function a retracing."""
    (tmp_path / "r.toml").write_text(
        "[study]\nprofile = 'quick'\ntrain_per_class = 20\ntest_per_class = 10\nepochs = 1\n"
    )
    args = ["run", "--config", "r.toml", "--only", "dense,cnn,kernels,locality", "--json"]
    args += ["--data-dir", str(REAL_DIR), "--offline"]
    done = subprocess.run(CLI + args, cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    assert len(json.loads(done.stdout)["models"]) == 6
    assert "retracing" not in done.stderr
    assert "WARNING:tensorflow" not in done.stderr


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
