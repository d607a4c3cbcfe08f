"""Fixtures only; the builders behind them live in factories.py."""

from __future__ import annotations

import os

import pytest

from fmnist_report import backend
from fmnist_report import data as data_mod

from .factories import synthetic_dataset


def pytest_configure(config: pytest.Config) -> None:
    """Hide any GPU, real or a stand-in /dev/nvidia0, from the suite and the processes it starts.

    `auto` would otherwise pick JAX or PyTorch where one has a CUDA build, and the in-process
    tests, whose Keras already runs on TensorFlow, would fail. Tests of the GPU paths set it.
    """
    os.environ[backend.GPU_ENV] = "0"


@pytest.fixture
def isolated_env(tmp_path, monkeypatch):
    """No user cache, no env var, no system folder: only what a test puts there."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))
    monkeypatch.delenv(data_mod.ENV_DATA_DIR, raising=False)
    monkeypatch.setattr(data_mod, "SYSTEM_DIRS", (tmp_path / "system",))
    return tmp_path


@pytest.fixture
def toy_data() -> data_mod.Dataset:
    return synthetic_dataset()
