"""The files of one export and how they are read back: names, checksums, metadata, the model.

`export` writes these files; the server, `deploy` and the CLI read them through this module,
which verifies each file against the SHA-256 that metadata.json records before using it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from fmnist_report.errors import ModelError
from fmnist_report.json_types import JSON

KERAS_FILE = "fashion_mnist_cnn.keras"
SAVED_MODEL_DIR = "saved_model"
TARBALL = "model.tar.gz"
METADATA_FILE = "metadata.json"
EXPORT_FIX = "re-export with `fmnist-report export`"


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def read_metadata(model_dir: Path) -> JSON:
    """metadata.json of an export; a missing or unreadable one is a ModelError with the fix.

    Any folder can be named, exported by any version or edited since: the file is checked only
    for its checksums here, so it is plain JSON (`export.ExportMetadata` is what this version writes).
    """
    model_dir = Path(model_dir)
    if not model_dir.is_dir():
        raise ModelError(
            f"model folder {model_dir} does not exist; export a model first with `fmnist-report export`"
        )
    path = model_dir / METADATA_FILE
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ModelError(f"{path} is missing, so the export cannot be verified; {EXPORT_FIX}") from exc
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelError(f"{path} is unreadable or not JSON ({exc}); {EXPORT_FIX}") from exc
    if not isinstance(record, dict) or not isinstance(record.get("artifacts"), dict):
        raise ModelError(f"{path} lacks the artifact checksums; {EXPORT_FIX}")
    return record


def verify_artifact(model_dir: Path, rel: str, record: Mapping[str, Any] | None = None) -> Path:
    """Check one artifact's SHA-256 against metadata.json; return its path."""
    record = record if record is not None else read_metadata(model_dir)
    path = Path(model_dir) / rel
    expected = record["artifacts"].get(rel, {}).get("sha256")
    if not expected:
        raise ModelError(f"{Path(model_dir) / METADATA_FILE} has no checksum for {rel}; {EXPORT_FIX}")
    if not path.is_file():
        raise ModelError(f"{path} is missing from the export; {EXPORT_FIX}")
    if sha256_file(path) != expected:
        raise ModelError(f"{path}: sha256 mismatch: the model file was changed after export; {EXPORT_FIX}")
    return path


def verify_export(model_dir: Path) -> JSON:
    """Check every artifact listed in metadata.json; return the metadata."""
    record = read_metadata(model_dir)
    for rel in record["artifacts"]:
        verify_artifact(model_dir, rel, record)
    return record


def load_model(model_dir: Path, *, verify: bool = True) -> Any:
    """Load the exported ``.keras`` model, after checking its SHA-256 against metadata.json.

    Only the native Keras format is read, with ``safe_mode=True`` (no arbitrary code from
    Lambda layers); HDF5 files are never loaded.
    """
    import keras

    model_dir = Path(model_dir)
    if verify:
        path = verify_artifact(model_dir, KERAS_FILE)
    else:
        path = model_dir / KERAS_FILE
        if not path.is_file():
            raise ModelError(f"{path} does not exist; export a model first with `fmnist-report export`")
    try:
        return keras.saving.load_model(path, safe_mode=True)
    except Exception as exc:  # Keras raises many kinds for a bad file; all mean the same to the user.
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ModelError(f"{path} cannot be loaded ({reason}); {EXPORT_FIX}") from exc
