"""The result store: the one place that reads and writes results, always atomically.

Layout: ``<root>/<kind>/<key>/`` holding ``record.json`` (metrics), ``arrays.npz`` and,
for training runs, ``model.keras``. An entry is built in a temporary folder and renamed
into place, so a crash or Ctrl-C leaves either the whole entry or none of it.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import tempfile
import zipfile
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from fmnist_report.errors import StoreError
from fmnist_report.records import Record

TMP_PREFIX = ".tmp-"
MODEL_FILE = "model.keras"
#: What a user can do about an output path that cannot be written.
OUT_FIX = "choose a writable output folder with --out"


def atomic_write(path: Path, data: bytes | str, *, fix: str = OUT_FIX) -> Path:
    """Write a file via a temporary sibling and a rename; the old file survives any failure.

    This and :func:`atomic_dir` are the project's only ways to write a result file.
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f"{TMP_PREFIX}{path.name}.")
    except OSError as exc:
        raise StoreError(f"cannot write {path} ({exc.strerror}); {fix}") from exc
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data.encode() if isinstance(data, str) else data)
        os.chmod(tmp, 0o644)  # mkstemp makes it private; the result is an ordinary file
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


@contextlib.contextmanager
def _locked(folder: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``folder`` (its own descriptor, so no lock file is left behind)."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def atomic_dir(target: Path, fill: Callable[[Path], None], *, fix: str = OUT_FIX) -> Path:
    """Build a folder with ``fill(tmp)`` and swap it in for ``target``.

    An existing ``target`` is moved aside under a unique name first and put back if the
    swap fails, so concurrent writers never collide on a temporary name and a reader
    finds either the old folder or the new one.
    """
    target = Path(target)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(dir=target.parent, prefix=f"{TMP_PREFIX}{target.name}."))
        tmp.chmod(0o755)  # mkdtemp makes it private; the result is an ordinary folder
    except OSError as exc:
        raise StoreError(f"cannot write {target} ({exc.strerror}); {fix}") from exc
    try:
        fill(tmp)
        with _locked(target.parent):
            if not target.exists():
                os.replace(tmp, target)
                return target
            old = Path(tempfile.mkdtemp(dir=target.parent, prefix=f"{TMP_PREFIX}{target.name}.old-"))
            try:
                os.replace(target, old / "previous")
                try:
                    os.replace(tmp, target)
                except BaseException:
                    os.replace(old / "previous", target)
                    raise
            finally:
                shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return target


#: What reading a damaged entry raises: a missing or truncated file, foreign or broken JSON,
#: a broken zip (npz and .keras are both zips), a missing field.
DAMAGE = (
    OSError,
    ValueError,
    KeyError,
    TypeError,
    AttributeError,
    EOFError,
    zipfile.BadZipFile,
    zlib.error,
)
#: How much of a reason a one-line message quotes.
REASON_CHARS = 160


class DamagedEntryError(StoreError):
    """A stored entry that cannot be read back whole; the message is one line naming it and why."""

    def __init__(self, kind: str, key: str, cause: BaseException) -> None:
        self.kind, self.key = kind, key
        super().__init__(f"cache entry {kind}/{key} is damaged ({one_line(cause)})")


def one_line(exc: BaseException) -> str:
    """An exception as ``Type: first line``, cut to a length that fits one message."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    reason = f"{type(exc).__name__}: {text}" if text else type(exc).__name__
    return reason if len(reason) <= REASON_CHARS else reason[: REASON_CHARS - 3] + "..."


def check_zip(path: Path) -> None:
    """Raise unless ``path`` is a whole zip file: present, readable, every member's CRC right."""
    if not path.is_file():
        raise FileNotFoundError(f"{path.name} is missing")
    if not zipfile.is_zipfile(path):
        raise zipfile.BadZipFile(f"{path.name} is not a whole zip file")
    with zipfile.ZipFile(path) as archive:
        bad = archive.testzip()
    if bad is not None:
        raise zipfile.BadZipFile(f"{path.name}: {bad} fails its CRC check")


class Store:
    """Cached experiment records under one root folder."""

    def __init__(self, root: Path, *, warn: Callable[[str], None] | None = None) -> None:
        self.root = Path(root)
        self.warn = warn or (lambda message: None)

    def entry(self, kind: str, key: str) -> Path:
        return self.root / kind / key

    def has(self, kind: str, key: str) -> bool:
        return (self.entry(kind, key) / "record.json").is_file()

    def put(self, record: Record) -> Path:
        """Save a record (metrics, arrays, model) atomically."""

        def fill(tmp: Path) -> None:
            meta = {
                "kind": record.kind,
                "key": record.key,
                "arrays": sorted(record.arrays),
                "has_model": record.model is not None,
                "metrics": record.metrics,
            }
            if record.arrays:
                np.savez_compressed(tmp / "arrays.npz", **record.arrays)
            if isinstance(record.model, bytes):  # serialised by a worker (study/executors.py)
                (tmp / MODEL_FILE).write_bytes(record.model)
            elif record.model is not None:
                record.model.save(tmp / MODEL_FILE)
            # Written last: its presence marks a complete entry even on file systems
            # where the folder rename is not atomic.
            (tmp / "record.json").write_text(json.dumps(meta, indent=1, allow_nan=False))

        return atomic_dir(self.entry(record.kind, record.key), fill)

    def read(self, kind: str, key: str, *, with_model: bool = False) -> Record | None:
        """The stored record, or None when there is none; a damaged entry raises DamagedEntryError.

        Every file is checked: record.json must be this entry's, the arrays must load and
        model.keras must be a whole zip (each member passes its CRC). The entry is left as it is.
        """
        folder = self.entry(kind, key)
        if not folder.exists():
            return None
        try:
            meta = json.loads((folder / "record.json").read_text(encoding="utf-8"))
            if not isinstance(meta, dict) or meta.get("key") != key or meta.get("kind") != kind:
                raise ValueError("record.json belongs to another entry")
            arrays: dict[str, np.ndarray] = {}
            if meta["arrays"]:
                with np.load(folder / "arrays.npz", allow_pickle=False) as npz:
                    arrays = {name: npz[name] for name in meta["arrays"]}
            if meta["has_model"]:
                check_zip(folder / MODEL_FILE)
            metrics = meta["metrics"]
            if not isinstance(metrics, dict):
                raise TypeError("record.json holds no metrics")
        except DAMAGE as exc:
            raise DamagedEntryError(kind, key, exc) from exc
        model = self.load_model(kind, key) if with_model and meta["has_model"] else None
        return Record(kind=kind, key=key, metrics=metrics, arrays=arrays, model=model)

    def get(self, kind: str, key: str, *, with_model: bool = False) -> Record | None:
        """The stored record, or None when missing; a damaged entry is reported, dropped and None."""
        try:
            return self.read(kind, key, with_model=with_model)
        except DamagedEntryError as exc:
            self.discard(exc)
            return None

    def discard(self, damage: DamagedEntryError, *, then: str = "recomputing it") -> None:
        """Report a damaged entry in one line and remove it, so that it is computed again."""
        self.warn(f"{damage}; {then}")
        self.drop(damage.kind, damage.key)

    def load_model(self, kind: str, key: str) -> Any:
        """Load a stored model in Keras safe mode (no arbitrary code from the file).

        A model that cannot be loaded, a Lambda layer refused by safe mode included, raises
        DamagedEntryError; the entry is left in place for the caller to recompute or report.
        """
        import keras

        path = self.entry(kind, key) / MODEL_FILE
        try:
            check_zip(path)
            return keras.saving.load_model(path, safe_mode=True)
        except Exception as exc:  # Keras raises many kinds for a bad file; all mean damage here
            raise DamagedEntryError(kind, key, exc) from exc

    def backends(self, kind: str) -> set[str]:
        """The Keras backends the entries of a kind name in their metrics' ``platform`` (TensorFlow if none)."""
        return self._named(kind, lambda m: (m.get("platform") or {}).get("backend", "tensorflow"))

    def isa_caps(self, kind: str) -> set[str]:
        """The oneDNN instruction-set caps the entries of a kind were trained under (``none`` if uncapped)."""
        return self._named(kind, lambda m: m.get("onednn_isa") or "none")

    def _named(self, kind: str, read: Callable[[dict[str, Any]], Any]) -> set[str]:
        found: set[str] = set()
        for record_file in sorted((self.root / kind).glob("*/record.json"))[:200]:
            try:
                found.add(str(read(json.loads(record_file.read_text(encoding="utf-8"))["metrics"])))
            except (OSError, ValueError, KeyError, TypeError, AttributeError):
                continue  # damage is read and named elsewhere
        return found

    def drop(self, kind: str, key: str) -> None:
        shutil.rmtree(self.entry(kind, key), ignore_errors=True)

    def clean_partial(self) -> int:
        """Remove temporary folders left by an interrupted write; returns how many."""
        count = 0
        if self.root.exists():
            for tmp in self.root.glob(f"*/{TMP_PREFIX}*"):
                with contextlib.suppress(OSError):
                    shutil.rmtree(tmp) if tmp.is_dir() else tmp.unlink()
                    count += 1
        return count


def cached_or_run(store: Store, kind: str, key: str, compute: Callable[[], Record], fresh: bool) -> Record:
    """The stored record for ``key``, or compute and store it."""
    record = None if fresh else store.get(kind, key)
    if record is None:
        record = compute()
        store.put(record)
    return record


def ensure_writable(folder: Path) -> Path:
    """Fail fast, before any long work, when the output folder cannot be written."""
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=TMP_PREFIX):
            pass
    except OSError as exc:
        raise StoreError(
            f"output folder {folder} is not writable ({exc.strerror}); choose another with --out"
        ) from exc
    return folder
