"""The IDX file format of (Fashion-)MNIST: parsed and validated before any array is made."""

from __future__ import annotations

import gzip
import hashlib
import zlib
from pathlib import Path

import numpy as np

from fmnist_report.errors import DataError

IMAGE_SHAPE = (28, 28)
IMAGE_MAGIC = 2051
LABEL_MAGIC = 2049
UBYTE = 0x08
FIX_HINT = "re-fetch it with `fmnist-report data fetch` or reinstall the package dataset-fashion-mnist"


def parse_idx(payload: bytes, name: str, *, images: bool, count: int | None = None) -> np.ndarray:
    """Parse and validate one IDX payload (already decompressed).

    Args:
        name: the file's name, for error messages.
        images: True for an idx3 image file, False for an idx1 label file.
        count: the number of items the file must hold, or None to accept any.
    """
    magic, ndim = (IMAGE_MAGIC, 3) if images else (LABEL_MAGIC, 1)
    header = 4 + 4 * ndim
    if len(payload) < 4:
        raise DataError(
            f"{name}: file is truncated ({len(payload)} bytes, header alone is {header}); {FIX_HINT}"
        )
    if payload[0:2] != b"\x00\x00" or payload[3] != ndim:
        found = int.from_bytes(payload[0:4], "big")
        raise DataError(
            f"{name}: wrong magic number {found}, expected {magic}; this is not a Fashion-MNIST "
            f"{'image' if images else 'label'} file; {FIX_HINT}"
        )
    if payload[2] != UBYTE:
        raise DataError(
            f"{name}: data type byte is 0x{payload[2]:02x}, expected 0x08 (unsigned byte); {FIX_HINT}"
        )
    if len(payload) < header:
        raise DataError(
            f"{name}: file is truncated ({len(payload)} bytes, header alone is {header}); {FIX_HINT}"
        )
    dims = tuple(int.from_bytes(payload[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    if images and dims[1:] != IMAGE_SHAPE:
        raise DataError(f"{name}: images are {dims[1]}x{dims[2]}, expected 28x28; {FIX_HINT}")
    if count is not None and dims[0] != count:
        raise DataError(f"{name}: header declares {dims[0]} items, expected {count}; {FIX_HINT}")
    # Check the declared size against the bytes present before any array is made.
    expected = header + int(np.prod(dims, dtype=np.int64))
    if len(payload) < expected:
        raise DataError(f"{name}: file is truncated ({len(payload)} bytes, expected {expected}); {FIX_HINT}")
    if len(payload) > expected:
        raise DataError(
            f"{name}: {len(payload) - expected} unexpected trailing bytes after the data "
            f"(expected {expected} bytes); {FIX_HINT}"
        )
    arr = np.frombuffer(payload, dtype=np.uint8, offset=header).reshape(dims)
    if not images and arr.size and int(arr.max()) > 9:
        raise DataError(f"{name}: label {int(arr.max())} is out of range 0..9; {FIX_HINT}")
    return arr


def read_payload(path: Path) -> bytes:
    """Read a file, gunzipping it when it starts with the gzip magic bytes."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise DataError(f"{path}: cannot read ({exc.strerror}); check the path and permissions") from exc
    if raw[:2] != b"\x1f\x8b":
        return raw
    try:
        return gzip.decompress(raw)
    except (OSError, EOFError, zlib.error) as exc:
        raise DataError(f"{path}: corrupt or truncated gzip data ({exc}); {FIX_HINT}") from exc


def md5(data: bytes) -> str:
    return hashlib.md5(data, usedforsecurity=False).hexdigest()
