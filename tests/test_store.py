"""The one writer of result files: atomic files and folders, also with several writers at once."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from fmnist_report.errors import StoreError
from fmnist_report.store import TMP_PREFIX, atomic_dir, atomic_write

SWAPPER = """
import sys
from pathlib import Path
from fmnist_report.store import atomic_dir
target, writer = Path(sys.argv[1]), sys.argv[2]
failures = 0
for i in range(150):
    try:
        atomic_dir(target, lambda tmp: (tmp / "who").write_text(f"{writer}-{i}"))
    except OSError:
        failures += 1
print(failures)
"""


def test_concurrent_folder_swaps_never_collide(tmp_path):
    target = tmp_path / "figures"
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", SWAPPER, str(target), str(w)], stdout=subprocess.PIPE, text=True
        )
        for w in range(3)
    ]
    failures = [int(p.communicate(timeout=120)[0]) for p in procs]
    assert failures == [0, 0, 0]
    assert (target / "who").read_text().count("-") == 1  # one whole folder, from one writer
    assert [p.name for p in tmp_path.iterdir()] == ["figures"]  # no temporary folder is left


def test_a_failed_fill_keeps_the_previous_folder(tmp_path):
    target = atomic_dir(tmp_path / "out", lambda tmp: (tmp / "a").write_text("old"))

    def broken(tmp: Path) -> None:
        (tmp / "a").write_text("half")
        raise RuntimeError("disk vanished")

    with pytest.raises(RuntimeError, match="disk vanished"):
        atomic_dir(target, broken)
    assert (target / "a").read_text() == "old"
    assert not any(p.name.startswith(TMP_PREFIX) for p in tmp_path.iterdir())


def test_an_unwritable_place_is_one_line_naming_the_fix(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(StoreError, match=r"cannot write .*; choose a writable output folder with --out"):
        atomic_write(blocker / "metrics.json", "{}")
    with pytest.raises(StoreError, match=r"cannot write .*; choose another --dest"):
        atomic_dir(blocker / "data", lambda tmp: None, fix="choose another --dest")
