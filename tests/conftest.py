"""Fixtures only; the builders behind them live in factories.py."""

from __future__ import annotations

import os
import sys

import pytest

from fmnist_report import backend
from fmnist_report import data as data_mod

from .factories import REAL_DIR, synthetic_dataset

#: Set by .ci/run: a test that trains on the real data may not skip where the data is installed.
NO_SKIPS_ENV = "FMNIST_REPORT_NO_SKIPS"
_skipped_real: list[str] = []


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


@pytest.fixture
def fake_ray(monkeypatch):
    """Installs a stand-in `ray` module (`fake_ray.FakeRay`) made with the given options."""
    from .fake_ray import FakeRay

    def install(**kwargs) -> FakeRay:
        ray = FakeRay(**kwargs)
        monkeypatch.setitem(sys.modules, "ray", ray)
        return ray

    return install


def _needs_real_data(report: pytest.TestReport) -> bool:
    return "slow" in report.keywords or "realdata" in report.keywords


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.skipped and _needs_real_data(report):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        _skipped_real.append(f"{report.nodeid}: {reason}")


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    """Name every skipped real-data test; under .ci/run, one is a failure where the data is installed."""
    if not _skipped_real:
        return
    strict = os.environ.get(NO_SKIPS_ENV) == "1" and data_mod.files_in(REAL_DIR) is not None
    terminalreporter.section("real-data tests that skipped", sep="-")
    for line in _skipped_real:
        terminalreporter.write_line(line)
    if strict:
        terminalreporter.write_line(
            f"error: {len(_skipped_real)} real-data test(s) skipped on a machine that has the data "
            "(install what each skip names; scripts/system-deps.sh does)"
        )


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if _skipped_real and os.environ.get(NO_SKIPS_ENV) == "1" and data_mod.files_in(REAL_DIR) is not None:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
