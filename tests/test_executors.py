"""The Ray executor against a stand-in `ray` module: failure, cancellation, resume, unreachable addresses."""

from __future__ import annotations

import socket
import sys
import time
import types

import pytest

from fmnist_report.errors import ConfigError
from fmnist_report.records import Record
from fmnist_report.store import Store
from fmnist_report.study import executors, runner
from fmnist_report.study.training import RunSpec

from .factories import tiny_record, tiny_spec

spec, record_of = tiny_spec, tiny_record


class RayError(Exception):
    pass


class FakeRay(types.ModuleType):
    """What `run_ray` uses of Ray: tasks run at once and finish in order; ``fail`` seeds raise."""

    def __init__(self, *, fail: set[int] = frozenset(), interrupt_after: int | None = None) -> None:
        super().__init__("ray")
        self.exceptions = types.SimpleNamespace(RayError=RayError)
        self.fail, self.interrupt_after = fail, interrupt_after
        self.inits: list[dict] = []
        self.cancelled: list[int] = []
        self.waits: list[float | None] = []
        self.returned = 0
        self.shut_down = False
        self._initialized = False

    def is_initialized(self) -> bool:
        return self._initialized

    def init(self, **kwargs) -> None:
        self.inits.append(kwargs)
        self._initialized = True

    def shutdown(self) -> None:
        self.shut_down, self._initialized = True, False

    def put(self, value):
        return value

    def remote(self, fn):
        ray = self

        class Task:
            def options(self, **kwargs):
                ray.options = kwargs
                return self

            def remote(self, s: RunSpec, data, backend: str) -> int:
                return s.seed

        return Task()

    def wait(self, refs, num_returns, timeout=None):
        self.waits.append(timeout)
        if self.interrupt_after is not None and self.returned >= self.interrupt_after:
            raise KeyboardInterrupt
        if len(self.waits) % 2:  # every other wait times out, as a long run would
            return [], list(refs)
        return [min(refs)], [r for r in refs if r != min(refs)]

    def get(self, ref: int) -> Record:
        if ref in self.fail:
            raise RayError(f"Traceback...\nValueError: seed {ref} diverged")
        self.returned += 1
        return record_of(spec(ref))

    def cancel(self, ref: int, force: bool = False) -> None:
        assert force
        self.cancelled.append(ref)


@pytest.fixture
def fake_ray(monkeypatch):
    def install(**kwargs) -> FakeRay:
        ray = FakeRay(**kwargs)
        monkeypatch.setitem(sys.modules, "ray", ray)
        return ray

    return install


def run(specs, address=None):
    return list(executors.run_ray(specs, None, backend="tensorflow", address=address, running=lambda n: None))


def test_every_run_comes_back_with_waits_short_enough_for_a_signal(fake_ray):
    ray = fake_ray()
    records = run([spec(0), spec(1), spec(2)])
    assert [r.metrics["seed"] for r in records] == [0, 1, 2]
    assert set(ray.waits) == {executors.WAIT_S} and len(ray.waits) == 6
    assert ray.inits[0]["logging_level"] >= 40 and ray.inits[0]["log_to_driver"] is False
    assert ray.options["max_retries"] == executors.RETRIES and ray.shut_down and not ray.cancelled


def test_a_failed_run_is_one_line_and_cancels_the_rest(fake_ray):
    ray = fake_ray(fail={1})
    with pytest.raises(executors.TaskFailed) as caught:
        run([spec(0), spec(1), spec(2)])
    message = str(caught.value)
    assert "\n" not in message and "seed 1 failed twice on the Ray cluster" in message
    assert "(ValueError: seed 1 diverged)" in message and "run the same command again" in message
    assert ray.cancelled == [2] and ray.shut_down


def test_ctrl_c_cancels_what_is_left_and_a_rerun_trains_only_that(fake_ray, tmp_path):
    store = Store(tmp_path / "cache")
    specs = [spec(0), spec(1), spec(2)]
    ray = fake_ray(interrupt_after=1)
    with pytest.raises(KeyboardInterrupt):
        runner.execute(specs, None, store, executor="ray")
    assert ray.cancelled == [1, 2] and ray.shut_down
    assert [s.seed for s in specs if store.has("train", s.key)] == [0]  # stored as it arrived
    again = fake_ray()
    records = runner.execute(specs, None, store, executor="ray")
    assert [r.metrics["seed"] for r in records.values()] == [0, 1, 2]
    assert again.returned == 2  # seed 0 came from the store


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_an_unreachable_address_is_one_line_at_once_and_ray_is_never_started(fake_ray):
    ray = fake_ray()
    port = closed_port()
    start = time.monotonic()
    with pytest.raises(ConfigError) as caught:
        run([spec(0)], address=f"127.0.0.1:{port}")
    assert time.monotonic() - start < 5
    assert str(caught.value) == (
        f"cannot reach the Ray cluster at 127.0.0.1:{port} (127.0.0.1:{port}: Connection refused within 10 s); "
        "check --ray-address, or leave it out to start a local cluster"
    )
    assert ray.inits == []


def test_a_silent_address_times_out(monkeypatch):
    def never(address, timeout):
        raise TimeoutError

    monkeypatch.setattr(executors.socket, "create_connection", never)
    with pytest.raises(ConfigError, match=r"at ray://head \(head:10001: timed out within 0.5 s\)"):
        executors.check_reachable("ray://head", timeout=0.5)
    executors.check_reachable(None)
    executors.check_reachable("auto")


def test_a_reachable_address_passes_and_a_failed_init_is_one_line(fake_ray):
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        address = f"127.0.0.1:{server.getsockname()[1]}"
        executors.check_reachable(address)
        ray = fake_ray()

        def refuse(**kwargs):
            raise ConnectionError("Could not find any running Ray instance.\nmore")

        ray.init = refuse
        with pytest.raises(
            ConfigError,
            match=r"^cannot join the Ray cluster at 127\.0\.0\.1:\d+ \(Could not find any running Ray instance\.\);",
        ):
            run([spec(0)], address=address)
