"""Interruptions (README): a killed or Ctrl-C'd `run` resumes where it stopped, with the same numbers.

`fmnist-report run` runs as a real subprocess on tiny IDX files. Tiny files cannot match the
official checksums, so the launcher skips that one check; everything else is the command itself.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from fmnist_report.records import Record
from fmnist_report.store import TMP_PREFIX, Store

from .factories import synthetic_dataset, write_idx_dir

pytestmark = pytest.mark.slow  # five processes that import TensorFlow and train: about 40 s

LAUNCHER = """
import sys
from fmnist_report import data
verified = data.load_source
data.load_source = lambda source, **kw: verified(source, verify=False, strict_counts=False)
from fmnist_report.cli import main
sys.argv[0] = "fmnist-report"
main()
"""
# The floor of train_per_class is 20 (config.py): the full profile takes the tiny files whole.
# Two seeds: once the first run is stored three are left, so the signal lands while one trains,
# not after the last (one seed left a single short run, and a loaded machine could finish it first).
CONFIG = "[study]\nepochs = 1\nseeds = 2\nbatch_size = 32\nkernel_sizes = [3]\n"


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> Path:
    """A folder with the settings file and the four IDX files of a learnable toy data set."""
    root = tmp_path_factory.mktemp("interrupt")
    data = synthetic_dataset(per_class_train=20, per_class_test=5)
    arrays = {
        "train-images": data.x_train,
        "train-labels": data.y_train,
        "test-images": data.x_test,
        "test-labels": data.y_test,
    }
    write_idx_dir(root / "data", arrays=arrays)
    (root / "r.toml").write_text(CONFIG)
    return root


def start(tiny: Path, out: Path) -> subprocess.Popen:
    args = ["run", "--config", str(tiny / "r.toml"), "--data-dir", str(tiny / "data"), "--offline"]
    args += ["--out", str(out), "--only", "dense,cnn", "--json"]
    return subprocess.Popen(
        [sys.executable, "-c", LAUNCHER, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish(proc: subprocess.Popen) -> tuple[int, str, str]:
    stdout, stderr = proc.communicate(timeout=300)
    return proc.returncode, stdout, stderr


def entries(out: Path) -> dict[str, int]:
    """Each finished training entry and when its record was written."""
    return {
        p.parent.name: p.stat().st_mtime_ns for p in (out / "cache" / "train").glob("train-*/record.json")
    }


def stored(out: Path) -> dict[str, dict]:
    """Each training entry's test probabilities and accuracy curve, by key."""
    store = Store(out / "cache")
    found = {}
    for key in entries(out):
        record = store.read("train", key)
        found[key] = {"p": record.arrays["probabilities"], "history": record.metrics["history"]}
    return found


@pytest.fixture(scope="module")
def uninterrupted(tiny) -> dict[str, dict]:
    code, stdout, stderr = finish(start(tiny, tiny / "whole"))
    assert code == 0, stderr[-3000:]
    assert len(json.loads(stdout)["models"]) == 2
    return stored(tiny / "whole")


def interrupt_at_first_entry(proc: subprocess.Popen, out: Path, sig: int) -> dict[str, int]:
    deadline = time.monotonic() + 240
    while not entries(out):
        assert proc.poll() is None, "the run ended before it stored anything"
        assert time.monotonic() < deadline, "no entry was stored in time"
        time.sleep(0.02)
    proc.send_signal(sig)
    return entries(out)


#: SIGKILL and a SIGINT sent to another process are POSIX's; Windows has neither.
KILL = getattr(signal, "SIGKILL", signal.SIGTERM)


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals: Windows cannot send SIGKILL or SIGINT")
@pytest.mark.parametrize("sig", [KILL, signal.SIGINT], ids=["SIGKILL", "SIGINT"])
def test_an_interrupted_run_resumes_with_the_same_numbers(tiny, uninterrupted, tmp_path, sig):
    out = tmp_path / "out"
    proc = start(tiny, out)
    interrupt_at_first_entry(proc, out, sig)
    code, _, stderr = finish(proc)
    if sig == signal.SIGINT:
        assert code == 130, stderr[-3000:]
        assert "interrupted: finished results are kept" in stderr and "Traceback" not in stderr
    else:
        assert code == -KILL
    kept = entries(out)
    assert 1 <= len(kept) < len(uninterrupted)  # stopped before the end

    code, stdout, stderr = finish(start(tiny, out))
    assert code == 0, stderr[-3000:]
    assert len(json.loads(stdout)["models"]) == 2
    assert {k: v for k, v in entries(out).items() if k in kept} == kept  # finished runs reused
    assert not list((out / "cache").rglob(f"{TMP_PREFIX}*"))  # no temporary folder is left
    resumed = stored(out)
    assert resumed.keys() == uninterrupted.keys()
    for key, run in uninterrupted.items():
        np.testing.assert_array_equal(resumed[key]["p"], run["p"])
        assert resumed[key]["history"] == run["history"]


class FailingModel:
    """A model whose saving fails after the arrays are written: a full disk, say."""

    def save(self, path: Path) -> None:
        assert (path.parent / "arrays.npz").is_file()
        path.write_bytes(b"half a model")
        raise OSError(28, "No space left on device")


def test_a_write_that_fails_half_way_leaves_no_entry_and_no_temporary_folder(tmp_path):
    store = Store(tmp_path / "cache")
    record = Record(
        "train", "train-half", {"x": 1}, {"probabilities": np.ones((3, 10))}, model=FailingModel()
    )
    with pytest.raises(OSError, match="No space left"):
        store.put(record)
    assert not store.has("train", "train-half") and store.get("train", "train-half") is None
    assert list((tmp_path / "cache" / "train").iterdir()) == []
