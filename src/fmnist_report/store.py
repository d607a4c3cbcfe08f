"""The result store: the one place that reads and writes results, always atomically.

Layout: ``<root>/<kind>/<key>/`` holding ``record.json`` (metrics), ``arrays.npz`` and,
for training runs, ``model.keras``. An entry is built in a temporary folder and renamed
into place, so a crash or Ctrl-C leaves either the whole entry or none of it.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import tempfile
import time
import zipfile
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import filelock
import numpy as np

from fmnist_report.errors import StoreError
from fmnist_report.records import Record

TMP_PREFIX = ".tmp-"
MODEL_FILE = "model.keras"
#: What a user can do about an output path that cannot be written.
OUT_FIX = "choose a writable output folder with --out"


#: A lock file's suffix: ``<folder>/.fmnist-report.lock`` guards a folder's swaps, and
#: ``<temporary>.lock`` marks a temporary file or folder that a live process is filling.
LOCK_SUFFIX = ".lock"
#: How long a replace that another program blocks is retried (Windows refuses to replace
#: a file that is open, and virus scanners open new files for a moment).
REPLACE_RETRY_SECONDS = 2.0
#: Windows refuses to replace or remove a file that another program holds open.
ON_WINDOWS = os.name == "nt"
#: Where :func:`atomic_dir` puts the folder it replaces until the swap is done.
OLD_SUFFIX = ".old"


@contextlib.contextmanager
def _held(path: Path, timeout: float = -1) -> Iterator[None]:
    """Hold an exclusive lock file at ``path``, waiting up to ``timeout`` (for ever: -1).

    The file is removed before the lock is let go, so none is left behind; a process that
    was waiting on the removed file notices and locks the new one (filelock checks the
    link count). On Windows, filelock removes it itself.
    """
    with filelock.FileLock(path, timeout=timeout):
        try:
            yield
        finally:
            if os.name != "nt":  # filelock's own behaviour, whatever ON_WINDOWS says
                with contextlib.suppress(OSError):
                    path.unlink()


def swap_lock(folder: Path) -> Path:
    """The lock a folder's swaps (`atomic_dir`) hold: a reader that holds it sees no swap half done."""
    return folder / f".fmnist-report{LOCK_SUFFIX}"


@contextlib.contextmanager
def _temporary(parent: Path, name: str, *, folder: bool, fix: str) -> Iterator[Path]:
    """A new temporary file or folder in ``parent``, held by this process while it exists.

    Its lock is taken before it is created, so :meth:`Store.clean_partial` in another
    process never removes a temporary that a live process is filling.
    """
    tmp = parent / f"{TMP_PREFIX}{name}.{secrets.token_hex(6)}"
    with contextlib.ExitStack() as stack:
        try:
            parent.mkdir(parents=True, exist_ok=True)
            stack.enter_context(_held(_owner_lock(tmp)))
            if folder:
                tmp.mkdir()
            else:
                os.close(os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644))
        except OSError as exc:
            raise StoreError(f"cannot write {parent / name} ({exc.strerror or exc}); {fix}") from exc
        try:
            yield tmp
        finally:
            if folder:
                shutil.rmtree(tmp, ignore_errors=True)
            else:
                tmp.unlink(missing_ok=True)


def _owner_lock(tmp: Path) -> Path:
    """The lock that a live writer holds for a temporary (an ``.old`` folder is its swap's)."""
    if tmp.name.endswith(LOCK_SUFFIX):
        return tmp
    return tmp.with_name(tmp.name.removesuffix(OLD_SUFFIX) + LOCK_SUFFIX)


def _replace(source: Path, target: Path, *, fix: str = OUT_FIX) -> None:
    """``os.replace``; on Windows, retried for a moment while another program holds the target open."""
    deadline = time.monotonic() + REPLACE_RETRY_SECONDS
    while True:
        try:
            os.replace(source, target)
            return
        except PermissionError as exc:
            if not ON_WINDOWS:
                raise StoreError(f"cannot write {target} ({exc.strerror}); {fix}") from exc
            if time.monotonic() >= deadline:
                raise StoreError(
                    f"cannot replace {target}: another program has it open "
                    "(a PDF viewer, say); close it and run the command again"
                ) from exc
            time.sleep(0.1)


def atomic_write(path: Path, data: bytes | str, *, fix: str = OUT_FIX) -> Path:
    """Write a file via a temporary sibling and a rename; the old file survives any failure.

    This and :func:`atomic_dir` are the project's only ways to write a result file.
    """
    path = Path(path)
    with _temporary(path.parent, path.name, folder=False, fix=fix) as tmp:
        with open(tmp, "wb") as fh:
            fh.write(data.encode("utf-8") if isinstance(data, str) else data)
        _replace(tmp, path, fix=fix)
    return path


def atomic_dir(target: Path, fill: Callable[[Path], None], *, fix: str = OUT_FIX) -> Path:
    """Build a folder with ``fill(tmp)`` and swap it in for ``target``.

    An existing ``target`` is moved aside under a unique name first and put back if the
    swap fails, so concurrent writers never collide on a temporary name and a reader
    finds either the old folder or the new one.
    """
    target = Path(target)
    with _temporary(target.parent, target.name, folder=True, fix=fix) as tmp:
        tmp.chmod(0o755)
        fill(tmp)
        with _held(swap_lock(target.parent)):
            if not target.exists():
                _replace(tmp, target, fix=fix)
                return target
            old = tmp.with_name(tmp.name + OLD_SUFFIX)
            old.mkdir()
            try:
                _replace(target, old / "previous", fix=fix)
            except BaseException:
                shutil.rmtree(old, ignore_errors=True)
                raise
            try:
                _replace(tmp, target, fix=fix)
            except BaseException:
                # The previous folder back in its place; only then is the aside let go.
                _replace(old / "previous", target, fix=fix)
                shutil.rmtree(old, ignore_errors=True)
                raise
            shutil.rmtree(old, ignore_errors=True)
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
                # Read back with allow_pickle=False, so written without it too.
                np.savez_compressed(tmp / "arrays.npz", allow_pickle=False, **record.arrays)
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
        """The stored record, or None when missing; a damaged entry is reported, dropped and None.

        What looks damaged is read once more while no other build swaps an entry of this kind
        in (a shared store): a folder read half-way through another build's swap is not damage.
        """
        try:
            return self.read(kind, key, with_model=with_model)
        except DamagedEntryError:
            pass
        with _held(swap_lock(self.root / kind)):
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
        """Remove temporaries left by an interrupted write; returns how many.

        A temporary whose lock is held belongs to a live writer (another build into the
        same store, say) and is left alone.
        """
        count = 0
        if not self.root.exists():
            return 0
        for tmp in sorted(self.root.glob(f"*/{TMP_PREFIX}*")):
            try:
                with _held(_owner_lock(tmp), timeout=0):
                    if tmp.name.endswith(LOCK_SUFFIX):
                        continue  # a lock file alone: gone with the lock
                    shutil.rmtree(tmp) if tmp.is_dir() else tmp.unlink()
                    count += 1
            except (filelock.Timeout, OSError):
                continue  # a live writer's, or already gone
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
