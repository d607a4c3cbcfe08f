"""Where training runs go: this process, a pool of local processes, or one Ray task per run.

Whichever it is, the driver alone writes the store: a worker trains, then returns its
record with the model as ``.keras`` bytes, and the driver stores it as soon as it arrives.
Finished runs are therefore kept whatever happens to the others, and a rerun resumes.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from fmnist_report.data import Dataset
from fmnist_report.errors import ConfigError, UserError
from fmnist_report.records import Record
from fmnist_report.study import clock, ray_cluster
from fmnist_report.study.ray_cluster import ClusterLost
from fmnist_report.study.training import RunSpec, train

EXECUTORS = ("local", "ray")
#: Attempts of a Ray task after its first failure.
RETRIES = 1
#: Seconds of one wait for a finished task: between waits, a SIGTERM or Ctrl-C is acted on,
#: and the cluster is checked (`ray_cluster.watched`).
WAIT_S = 1.0

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
_WORKER: dict[str, Dataset] = {}


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


@contextlib.contextmanager
def interrupts_held() -> Iterator[None]:
    """Hold Ctrl-C back while worker processes start; this process acts on it once they have.

    The workers inherit the blocked signal, so one still starting never sees the Ctrl-C (its
    traceback would print after the driver's "interrupted" line); once started, a worker
    ignores it (`_pool_init`). This process notes a Ctrl-C meanwhile and raises it as the block
    ends, when the pool exists and can be terminated. Where signals cannot be blocked
    (Windows), or off the main thread, nothing changes.
    """
    if not hasattr(signal, "pthread_sigmask") or threading.current_thread() is not threading.main_thread():
        yield
        return
    from multiprocessing import resource_tracker

    resource_tracker.ensure_running()  # starting its process unblocks SIGINT here: start it first
    held: list[int] = []
    handler = signal.signal(signal.SIGINT, lambda signum, frame: held.append(signum))
    mask = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)
        signal.signal(signal.SIGINT, handler)
    if held and callable(handler):
        handler(signal.SIGINT, None)  # Python's own: KeyboardInterrupt


def run_pool(
    specs: Sequence[RunSpec], data: Dataset, *, jobs: int, backend: str, running: Running
) -> Iterator[Record]:
    """Train ``jobs`` specs at once in spawned processes (never more processes than specs);
    yield records as they finish.

    Each worker keeps TensorFlow's default thread pools, as this process has them, so its
    records equal the in-process ones bit for bit (tests/test_jobs.py); the workers share
    the cores. Leaving early (Ctrl-C, a failed run, a failed store write) terminates the
    workers; the records already yielded have been stored.
    """
    workers = clock.workers(jobs, len(specs))
    context = multiprocessing.get_context("spawn")  # a fresh interpreter: no forked TensorFlow state
    with contextlib.ExitStack() as stack:
        with interrupts_held():  # a Ctrl-C held back arrives as this block ends: the pool is terminated
            pool = stack.enter_context(
                context.Pool(workers, initializer=_pool_init, initargs=(data, backend))
            )
        left = len(specs)
        running(min(workers, left))
        for spec, record, failure in pool.imap_unordered(_pool_task, specs):
            if record is None:
                raise TaskFailed(
                    f"training {spec.label}, seed {spec.seed} failed in a worker process ({failure}); "
                    "finished runs are kept, fix the cause and run the same command again"
                )
            left -= 1
            running(min(workers, left))
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

    Without ``address`` a cluster is started on this machine, on loopback only
    (`ray_cluster.join_cluster`).
    Ctrl-C, a failed run or a lost cluster (`ClusterLost`) cancels the tasks still queued or
    running; the records already yielded have been stored by then.
    """
    if address == "local":  # a new cluster on this machine, as with no address: loopback only
        address = None
    if not address and "ray" not in sys.modules:
        os.environ[ray_cluster.LOOPBACK_ENV] = "0"  # Ray reads it when imported (and `join_cluster` again)
    try:
        import ray
    except ImportError as exc:
        raise ConfigError(
            "--executor ray needs Ray; install it with: pip install 'fmnist-report[ray]'"
        ) from exc
    started = not ray.is_initialized()
    if started:
        ray_cluster.join_cluster(ray, address)
    watched = ray_cluster.watched(ray, address)
    task = ray.remote(_train_task).options(
        num_cpus=num_cpus, num_gpus=num_gpus, max_retries=RETRIES, retry_exceptions=True
    )
    data_ref = ray.put(data)
    pending = {task.remote(spec, data_ref, backend): spec for spec in specs}
    finished = 0

    def lost(why: str) -> ClusterLost:
        return ray_cluster.lost(address, why, finished, len(specs))

    try:
        while pending:
            running(len(pending))
            ref = _next_done(ray, list(pending), watched, lost)
            spec = pending.pop(ref)
            try:
                record = ray.get(ref)
            except ray.exceptions.RayError as exc:
                if isinstance(exc, getattr(ray.exceptions, "LocalRayletDiedError", ())):
                    raise lost("the raylet on this machine died") from None
                silent = _silent(watched)
                if silent:
                    raise lost(silent) from None
                first = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
                raise TaskFailed(
                    f"training {spec.label}, seed {spec.seed} failed twice on the Ray cluster ({first}); "
                    "finished runs are kept, fix the cause and run the same command again"
                ) from exc
            finished += 1
            yield record
    finally:
        for ref in pending:
            with contextlib.suppress(Exception):  # best effort: a lost cluster may refuse
                ray.cancel(ref, force=True)
        if started:
            ray.shutdown()


def _next_done(
    ray: Any, refs: list[Any], watched: dict[tuple[str, int], str], lost: Callable[[str], Exception]
) -> Any:
    """The first of ``refs`` to finish. Waits are short, so that a SIGTERM or Ctrl-C is acted on
    (a blocked wait would hold it off until a run ends); between them the cluster is checked
    (`ray_cluster.watched`), and `ray_cluster.LOST_AFTER_S` of silence is a lost cluster."""
    silent_since: float | None = None
    while True:
        done, _ = ray.wait(refs, num_returns=1, timeout=WAIT_S)
        if done:
            return done[0]
        silent = _silent(watched)
        if not silent:
            silent_since = None
            continue
        silent_since = time.monotonic() if silent_since is None else silent_since
        if time.monotonic() - silent_since >= ray_cluster.LOST_AFTER_S:
            raise lost(silent)


def _silent(watched: dict[tuple[str, int], str]) -> str:
    """What the first watched address that accepts no connection means, or ""."""
    for where, meaning in watched.items():
        if not ray_cluster.answers(where, WAIT_S):
            return meaning
    return ""


def check_executor(name: str, jobs: int = 1, ray_address: str | None = None) -> None:
    if name not in EXECUTORS:
        raise ConfigError(f"--executor must be one of {', '.join(EXECUTORS)}, got {name!r}")
    if jobs < 1:
        raise ConfigError(f"--jobs must be a whole number of at least 1, got {jobs}")
    if name == "ray" and ray_address and ray_address not in ("auto", "local"):
        ray_cluster.parse_address(ray_address)


def effective_jobs(jobs: int, executor: str, cpus: int) -> tuple[int, str]:
    """The trainings to run at once here for ``--jobs`` ``jobs``, and a line to print where that
    is not what was asked ("" where it is).

    Above the logical CPUs the workers are capped: each keeps TensorFlow's default threads (one
    per logical CPU, which keeps the numbers), so one worker can already use every core, and
    more would add memory (each holds TensorFlow and the data) and contention, never speed.
    """
    if executor == "ray":
        if jobs == 1:
            return 1, ""
        return 1, (
            f"--jobs {jobs} has no effect with --executor ray: Ray runs each training run as one "
            "task, as many at once as the cluster has free CPUs"
        )
    if jobs <= cpus:
        return jobs, ""
    return cpus, (
        f"--jobs {jobs} asks for more trainings at once than this machine's {cpus} logical CPUs; "
        f"running at most {cpus} at once: each worker already uses every core, so more would add "
        "memory, not speed"
    )
