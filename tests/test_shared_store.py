"""Two builds into one output folder at once: the store "may be shared", so both must finish."""

from __future__ import annotations

import subprocess
import sys

import pytest

from .factories import REAL_DIR, needs_real_data

CONFIG = """\
[report]
title = "Two builds at once"
[study]
profile = "quick"
seeds = 1
epochs = 1
train_per_class = 40
test_per_class = 20
"""


@needs_real_data
@pytest.mark.slow
@pytest.mark.realdata
def test_two_builds_into_one_out_both_finish(tmp_path):
    """Before, each run's start-up cleanup removed the other build's temporary folders."""
    (tmp_path / "r.toml").write_text(CONFIG, encoding="utf-8")
    args = [sys.executable, "-m", "fmnist_report", "build", "--config", "r.toml", "--out", "out"]
    args += ["--data-dir", str(REAL_DIR), "--no-pdf", "--quiet", "--only", "eda,dense,cnn"]
    builds = [
        subprocess.Popen(args, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    outputs = [b.communicate(timeout=900) for b in builds]
    for build, (_, stderr) in zip(builds, outputs, strict=True):
        assert build.returncode == 0, stderr[-2000:]
        assert "Traceback" not in stderr
    assert "Two builds at once" in (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    leftovers = [p for p in (tmp_path / "out").rglob(".tmp-*")]
    assert leftovers == []
