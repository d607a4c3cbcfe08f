"""Shared fixtures: tiny IDX files and a tiny in-memory data set, built per test."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest

from fmnist_report import data as data_mod


def idx_bytes(arr: np.ndarray, *, magic: int | None = None, type_byte: int = 0x08) -> bytes:
    """Encode an array as IDX, optionally with a wrong magic number or type byte."""
    ndim = arr.ndim
    head = bytes([0, 0, type_byte, ndim]) if magic is None else magic.to_bytes(4, "big")
    dims = b"".join(int(d).to_bytes(4, "big") for d in arr.shape)
    return head + dims + np.ascontiguousarray(arr, dtype=np.uint8).tobytes()


def tiny_arrays(n_train: int = 40, n_test: int = 20, seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {
        "train-images": rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        "train-labels": (np.arange(n_train) % 10).astype(np.uint8),
        "test-images": rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        "test-labels": (np.arange(n_test) % 10).astype(np.uint8),
    }


def write_idx_dir(directory: Path, *, gz: bool = True, arrays: dict | None = None) -> Path:
    """Write the four files (tiny, so their checksums differ from the real ones)."""
    directory.mkdir(parents=True, exist_ok=True)
    arrays = arrays or tiny_arrays()
    for spec in data_mod.FILES:
        payload = idx_bytes(arrays[spec.key])
        if gz:
            (directory / f"{spec.filename}.gz").write_bytes(gzip.compress(payload))
        else:
            (directory / spec.filename).write_bytes(payload)
    return directory


@pytest.fixture
def isolated_env(tmp_path, monkeypatch):
    """No user cache, no env var, no system folder: only what a test puts there."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))
    monkeypatch.delenv(data_mod.ENV_DATA_DIR, raising=False)
    monkeypatch.setattr(data_mod, "SYSTEM_DIRS", (tmp_path / "system",))
    return tmp_path


def synthetic_dataset(per_class_train: int = 30, per_class_test: int = 10, seed: int = 0) -> data_mod.Dataset:
    """A learnable toy data set: each class is a bright bar at its own position, plus noise."""
    rng = np.random.default_rng(seed)

    def make(per_class: int) -> tuple[np.ndarray, np.ndarray]:
        labels = np.repeat(np.arange(10), per_class).astype(np.uint8)
        images = rng.integers(0, 60, (len(labels), 28, 28)).astype(np.uint8)
        for i, c in enumerate(labels):
            images[i, 2 + 2 * c : 5 + 2 * c, 4:24] = 230
        order = rng.permutation(len(labels))
        return images[order], labels[order]

    x_tr, y_tr = make(per_class_train)
    x_te, y_te = make(per_class_test)
    return data_mod.Dataset(x_tr, y_tr, x_te, y_te, source="synthetic")


@pytest.fixture
def toy_data() -> data_mod.Dataset:
    return synthetic_dataset()


REAL_DIR = data_mod.SYSTEM_DIRS[0]
needs_real_data = pytest.mark.skipif(
    data_mod.files_in(REAL_DIR) is None,
    reason="the Debian package dataset-fashion-mnist is not installed",
)
