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


SLOW_WRITER = """
import sys, time
from pathlib import Path
from fmnist_report.store import Store, atomic_dir
root, go = Path(sys.argv[1]), Path(sys.argv[2])
def fill(tmp):
    (tmp / "record.json").write_text("{}")
    print("filling", flush=True)
    while not go.exists():
        time.sleep(0.05)
atomic_dir(root / "train" / "k1", fill)
print("done", flush=True)
"""


def test_cleaning_a_shared_store_leaves_a_live_writers_temporaries(tmp_path):
    """Two builds on one store: the start-up cleanup of one never pulls the other's folder away."""
    from fmnist_report.store import Store

    go = tmp_path / "go"
    writer = subprocess.Popen(
        [sys.executable, "-c", SLOW_WRITER, str(tmp_path / "store"), str(go)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert writer.stdout.readline().strip() == "filling"
    orphan = tmp_path / "store" / "train" / f"{TMP_PREFIX}k2.0123456789ab"
    orphan.mkdir()  # what a killed writer leaves: nobody holds its lock
    assert Store(tmp_path / "store").clean_partial() == 1
    assert not orphan.exists()
    live = [p.name for p in (tmp_path / "store" / "train").iterdir() if not p.name.endswith(".lock")]
    assert len(live) == 1 and live[0].startswith(f"{TMP_PREFIX}k1.")
    go.touch()
    out, _ = writer.communicate(timeout=60)
    assert writer.returncode == 0 and out.strip() == "done"
    assert sorted(p.name for p in (tmp_path / "store" / "train").iterdir()) == ["k1"]
    assert (tmp_path / "store" / "train" / "k1" / "record.json").read_text() == "{}"


@pytest.mark.parametrize(
    ("windows", "message"),
    [
        (True, r"report\.pdf: another program has it open .*close it and run the command again"),
        (False, r"cannot write .*report\.pdf \(Permission denied\); choose a writable output folder"),
    ],
)
def test_a_file_that_cannot_be_replaced_is_one_line(tmp_path, monkeypatch, windows, message):
    """Windows refuses to replace an open file (retried a moment, then named); elsewhere it is the
    folder's permissions, and no retry helps."""
    import fmnist_report.store as store

    tries = []

    def refuse(src, dst):
        tries.append(dst)
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(store, "ON_WINDOWS", windows)
    monkeypatch.setattr(store, "REPLACE_RETRY_SECONDS", 0.2)
    monkeypatch.setattr(store.os, "replace", refuse)
    (tmp_path / "report.pdf").write_bytes(b"old")
    with pytest.raises(StoreError, match=message):
        atomic_write(tmp_path / "report.pdf", b"new")
    assert (len(tries) > 1) is windows
    assert (tmp_path / "report.pdf").read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["report.pdf"]  # no temporary is left


def test_an_entry_read_during_another_builds_swap_is_read_again_not_dropped(tmp_path, monkeypatch):
    """A folder caught half-way through a swap looks damaged; under the swap lock it reads whole."""
    import numpy as np

    from fmnist_report.records import Record
    from fmnist_report.store import DamagedEntryError, Store

    warnings = []
    store = Store(tmp_path, warn=warnings.append)
    store.put(Record("train", "k1", {"x": 1.0}, {"a": np.arange(3)}))
    read = Store.read
    calls = []

    def mid_swap_once(self, kind, key, *, with_model=False):
        calls.append(key)
        if len(calls) == 1:  # what a reader sees between the two renames of a swap
            raise DamagedEntryError(kind, key, FileNotFoundError("record.json is missing"))
        return read(self, kind, key, with_model=with_model)

    monkeypatch.setattr(Store, "read", mid_swap_once)
    assert store.get("train", "k1").metrics == {"x": 1.0}
    assert warnings == [] and (tmp_path / "train" / "k1" / "record.json").is_file()
    # Damage that stays is reported once and dropped, as before.
    (tmp_path / "train" / "k1" / "record.json").write_text("{", encoding="utf-8")
    assert store.get("train", "k1") is None
    assert len(warnings) == 1 and "is damaged" in warnings[0] and not (tmp_path / "train" / "k1").exists()
    assert sorted(p.name for p in (tmp_path / "train").iterdir()) == []  # no lock file is left
