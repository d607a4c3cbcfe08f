"""The Ray executor against a stand-in `ray` module: failure, cancellation, resume, unreachable addresses."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import threading
import time
import types
from typing import ClassVar

import pytest

from fmnist_report.errors import ConfigError
from fmnist_report.store import Store
from fmnist_report.study import executors, ray_cluster, runner

from .factories import tiny_record, tiny_spec

spec, record_of = tiny_spec, tiny_record


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

    monkeypatch.setattr(ray_cluster.socket, "create_connection", never)
    with pytest.raises(ConfigError, match=r"at ray://head \(head:10001: timed out within 0.5 s\)"):
        ray_cluster.check_reachable("ray://head", timeout=0.5)
    ray_cluster.check_reachable(None)
    ray_cluster.check_reachable("auto")


def test_a_reachable_address_passes_and_a_failed_init_is_one_line(fake_ray):
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        address = f"127.0.0.1:{server.getsockname()[1]}"
        ray_cluster.check_reachable(address)
        ray = fake_ray()

        def refuse(**kwargs):
            raise ConnectionError("Could not find any running Ray instance.\nmore")

        ray.init = refuse
        with pytest.raises(
            ConfigError,
            match=r"^cannot join the Ray cluster at 127\.0\.0\.1:\d+ \(Could not find any running Ray instance\.\);",
        ):
            run([spec(0)], address=address)


def test_jobs_beyond_the_cores_are_capped_and_jobs_with_ray_are_said_to_do_nothing():
    jobs, line = executors.effective_jobs(999, "local", 2)
    assert jobs == 2
    assert line.startswith(
        "--jobs 999 asks for more trainings at once than this machine's 2 logical CPUs; running at most 2"
    )
    assert executors.effective_jobs(2, "local", 2) == (2, "")
    assert executors.effective_jobs(1, "ray", 16) == (1, "")
    jobs, line = executors.effective_jobs(4, "ray", 16)
    assert jobs == 1 and line.startswith("--jobs 4 has no effect with --executor ray")
    assert "\n" not in line


class FakePool:
    """A pool of no processes that records its size and returns each spec's record."""

    sizes: ClassVar[list[int]] = []

    def __init__(self, processes, initializer=None, initargs=()):
        FakePool.sizes.append(processes)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def imap_unordered(self, fn, specs):
        return [(s, record_of(s), "") for s in specs]


def test_the_pool_starts_no_more_workers_than_runs(monkeypatch):
    context = types.SimpleNamespace(Pool=FakePool)
    monkeypatch.setattr(executors.multiprocessing, "get_context", lambda method: context)
    FakePool.sizes = []
    counts: list[int] = []
    records = list(
        executors.run_pool([spec(0), spec(1)], None, jobs=999, backend="tensorflow", running=counts.append)
    )
    assert FakePool.sizes == [2] and len(records) == 2
    assert counts == [2, 1, 0]


def test_a_ctrl_c_while_pool_workers_start_prints_nothing_of_theirs(capfd, toy_data):
    """The terminal's Ctrl-C reaches every process of the group: a worker still starting must not
    print a traceback after the driver's "interrupted" line. Here the group gets SIGINT while the
    first worker starts, and each worker again and again for a second after."""
    import psutil

    def workers() -> list[psutil.Process]:
        found = []
        for child in psutil.Process().children():
            with contextlib.suppress(psutil.Error):
                if "spawn_main" in " ".join(child.cmdline()):
                    found.append(child)
        return found

    def ctrl_c() -> None:
        deadline = time.monotonic() + 30
        while not workers() and time.monotonic() < deadline:
            time.sleep(0.005)
        time.sleep(0.2)  # the first worker's interpreter is up and importing
        os.kill(os.getpid(), signal.SIGINT)
        for _ in range(100):
            for worker in workers():
                with contextlib.suppress(psutil.Error):
                    worker.send_signal(signal.SIGINT)
            time.sleep(0.01)

    previous = signal.signal(signal.SIGINT, signal.default_int_handler)  # as in a terminal
    sender = threading.Thread(target=ctrl_c)
    sender.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            list(
                executors.run_pool(
                    [spec(0), spec(1)], toy_data, jobs=2, backend="tensorflow", running=time.sleep
                )
            )
            time.sleep(5)  # the Ctrl-C lands here at the latest
    finally:
        sender.join()
        signal.signal(signal.SIGINT, previous)
    time.sleep(1.0)  # a worker left behind would print now
    err = capfd.readouterr().err
    assert "Traceback" not in err and "KeyboardInterrupt" not in err, err[-2000:]
