"""Fixtures only; the builders behind them live in factories.py."""

from __future__ import annotations

import pytest

from fmnist_report import data as data_mod

from .factories import synthetic_dataset


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
