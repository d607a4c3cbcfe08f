"""Where training runs go: this process, a pool of local processes, or one Ray task per run.

Whichever it is, the driver alone writes the store: a worker trains, then returns its
record with the model as ``.keras`` bytes, and the driver stores it as soon as it arrives.
Finished runs are therefore kept whatever happens to the others, and a rerun resumes.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import socket
import tempfile
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from fmnist_report.data import Dataset
from fmnist_report.errors import ConfigError, UserError
from fmnist_report.records import Record
from fmnist_report.study.training import RunSpec, train

EXECUTORS = ("local", "ray")
#: Attempts of a Ray task after its first failure.
RETRIES = 1
#: Seconds to wait for a cluster's address to accept a connection before giving up.
REACH_TIMEOUT_S = 10.0
#: Seconds of one wait for a finished task: between waits, a SIGTERM or Ctrl-C is acted on.
WAIT_S = 1.0
#: The ports Ray listens on when an address names none: the GCS, and the Ray Client server.
DEFAULT_PORTS = {"": 6379, "ray://": 10001}

Started = Callable[[RunSpec], list[Any]]
Running = Callable[[int], None]


class TaskFailed(UserError):
    """A training run failed on every attempt."""


def run_local(
    specs: Sequence[RunSpec], data: Dataset, started: Started, running: Running
) -> Iterator[Record]:
    """Train each spec in this process, in order."""
    for spec in specs:
        running(1)
        yield train(spec, data, callbacks=started(spec))


def model_bytes(model: Any) -> bytes:
    """A trained model as the bytes of a ``.keras`` file."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "model.keras"
        model.save(path)
        return path.read_bytes()


def _train_task(spec: RunSpec, data: Dataset, backend: str) -> Record:
    """The body of one Ray task: pick the driver's backend, train, return the record."""
    from fmnist_report import runtime

    # TensorFlow's default thread pools, as in the driver: the same arithmetic, the same numbers.
    runtime.configure(backend=backend)
    record = train(spec, data)
    record.model = model_bytes(record.model)
    return record


#: The pool worker's state, set once per process by `_pool_init`.
_WORKER: dict[str, Any] = {}


def _pool_init(data: Dataset, backend: str) -> None:
    """Start a pool worker: Ctrl-C is the driver's to handle; the driver's backend and thread pools."""
    from fmnist_report import runtime

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # TensorFlow's default thread pools, as in the driver: the intra-op thread count decides how
    # oneDNN splits a convolution's sums, so one thread per worker would change the CNNs' numbers
    # (measured: docs/performance.md).
    runtime.configure(backend=backend)
    _WORKER["data"] = data


def _pool_task(spec: RunSpec) -> tuple[RunSpec, Record | None, str]:
    """Train one spec in a pool worker; a failure comes back as its one-line reason."""
    try:
        record = train(spec, _WORKER["data"])
    except Exception as exc:  # reported by the driver, with the run it belongs to
        return spec, None, f"{type(exc).__name__}: {exc}".splitlines()[0]
    record.model = model_bytes(record.model)
    return spec, record, ""


def run_pool(
    specs: Sequence[RunSpec], data: Dataset, *, jobs: int, backend: str, running: Running
) -> Iterator[Record]:
    """Train ``jobs`` specs at once in spawned processes; yield records as they finish.

    Each worker keeps TensorFlow's default thread pools, as this process has them, so its
    records equal the in-process ones bit for bit (tests/test_jobs.py); the workers share
    the cores. Leaving early (Ctrl-C, a failed run, a failed store write) terminates the
    workers; the records already yielded have been stored.
    """
    context = multiprocessing.get_context("spawn")  # a fresh interpreter: no forked TensorFlow state
    with context.Pool(jobs, initializer=_pool_init, initargs=(data, backend)) as pool:
        left = len(specs)
        running(min(jobs, left))
        for spec, record, failure in pool.imap_unordered(_pool_task, specs):
            if record is None:
                raise TaskFailed(
                    f"training {spec.label}, seed {spec.seed} failed in a worker process ({failure}); "
                    "finished runs are kept, fix the cause and run the same command again"
                )
            left -= 1
            running(min(jobs, left))
            yield record


def run_ray(
    specs: Sequence[RunSpec],
    data: Dataset,
    *,
    backend: str,
    address: str | None,
    running: Running,
    num_cpus: float = 1,
    num_gpus: float = 0,
) -> Iterator[Record]:
    """Train every spec as one Ray task; yield records as they finish, in any order.

    Ctrl-C (or a failed run) cancels the tasks still queued or running; the records already
    yielded have been stored by then.
    """
    try:
        import ray
    except ImportError as exc:
        raise ConfigError(
            "--executor ray needs Ray; install it with: pip install 'fmnist-report[ray]'"
        ) from exc
    started = not ray.is_initialized()
    if started:
        check_reachable(address)
        # Ray's C++ core logs each failed connection attempt to stderr; errors alone are news.
        os.environ.setdefault("RAY_BACKEND_LOG_LEVEL", "error")
        try:
            ray.init(
                address=address,
                include_dashboard=False,
                log_to_driver=False,
                configure_logging=True,
                logging_level=logging.ERROR,  # no banner of the cluster's address, dashboard or token
            )
        except (ConnectionError, RuntimeError, ValueError) as exc:
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            raise ConfigError(
                f"cannot join the Ray cluster at {address or 'a new local cluster'} ({first}); "
                "check --ray-address and that the cluster runs this Ray version"
            ) from None
    task = ray.remote(_train_task).options(
        num_cpus=num_cpus, num_gpus=num_gpus, max_retries=RETRIES, retry_exceptions=True
    )
    data_ref = ray.put(data)
    pending = {task.remote(spec, data_ref, backend): spec for spec in specs}
    try:
        while pending:
            running(len(pending))
            done: list[Any] = []
            while not done:  # short waits: a blocked wait would hold off SIGTERM until a run ends
                done, _ = ray.wait(list(pending), num_returns=1, timeout=WAIT_S)
            spec = pending.pop(done[0])
            try:
                yield ray.get(done[0])
            except ray.exceptions.RayError as exc:
                first = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
                raise TaskFailed(
                    f"training {spec.label}, seed {spec.seed} failed twice on the Ray cluster ({first}); "
                    "finished runs are kept, fix the cause and run the same command again"
                ) from exc
    finally:
        for ref in pending:
            ray.cancel(ref, force=True)
        if started:
            ray.shutdown()


def check_reachable(address: str | None, timeout: float = REACH_TIMEOUT_S) -> None:
    """Refuse, in one line, a cluster address that accepts no connection within ``timeout``.

    Ray itself would retry for minutes, printing a warning at each attempt. ``None`` and
    ``auto`` (a local or already running cluster) are Ray's to resolve.
    """
    if not address or address in ("auto", "local"):
        return
    scheme = "ray://" if address.startswith("ray://") else ""
    host, _, port = address.removeprefix(scheme).rpartition(":")
    if not host or not port.isdigit():
        host, port = address.removeprefix(scheme), str(DEFAULT_PORTS[scheme])
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=timeout).close()
    except OSError as exc:
        reason = "timed out" if isinstance(exc, TimeoutError) else (exc.strerror or type(exc).__name__)
        raise ConfigError(
            f"cannot reach the Ray cluster at {address} ({host}:{port}: {reason} within {timeout:g} s); "
            "check --ray-address, or leave it out to start a local cluster"
        ) from None


def check_executor(name: str, jobs: int = 1) -> None:
    if name not in EXECUTORS:
        raise ConfigError(f"--executor must be one of {', '.join(EXECUTORS)}, got {name!r}")
    if jobs < 1:
        raise ConfigError(f"--jobs must be a whole number of at least 1, got {jobs}")
