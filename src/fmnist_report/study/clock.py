"""How long planned training runs take: pure arithmetic on specs and measured seconds per step.

A rate is the seconds one training step (one batch) of an architecture costs on this
machine, validation included; it comes from a short calibration
(`study.calibration.calibrate`) or from the epoch times of runs already stored
(`rates_from_records`). Any part of the program can ask what some runs would cost with
`estimate_seconds`, without training or importing Keras.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from fmnist_report.study.training import RunSpec

#: What a run costs besides its epochs, in steps of its own architecture: building and
#: tracing the model (about one epoch's first 50-step call), test predictions and latency.
OVERHEAD_STEPS = 60


def architecture(spec: RunSpec) -> str:
    """The rate a spec trains at: ``dense``, ``cnn3``... (a permuted-pixel run costs as its CNN)."""
    return spec.arch if spec.kernel_size is None else f"{spec.arch}{spec.kernel_size}"


def steps_per_epoch(spec: RunSpec, n_train: int) -> int:
    """Training batches in one epoch of a run on ``n_train`` images (the validation part held out)."""
    return math.ceil(n_train / spec.batch_size)


def run_seconds(spec: RunSpec, n_train: int, rates: Mapping[str, float]) -> float:
    """Seconds one run takes: its epochs' steps plus its fixed overhead, at its architecture's rate."""
    steps = spec.epochs * steps_per_epoch(spec, n_train) + OVERHEAD_STEPS
    return steps * rates[architecture(spec)]


def estimate_seconds(
    specs: Sequence[RunSpec], rates: Mapping[str, float], n_train: int, *, jobs: int = 1
) -> float:
    """Seconds to train ``specs`` one after another, or on ``jobs`` workers taking the longest first.

    ``rates`` must be measured with the threads each run will have: with ``jobs`` above 1,
    rates measured at the worker's share of the cores.
    """
    durations = sorted((run_seconds(s, n_train, rates) for s in specs), reverse=True)
    workers = [0.0] * max(1, jobs)
    for seconds in durations:
        workers[workers.index(min(workers))] += seconds
    return max(workers)


def rates_from_records(metrics: Iterable[Mapping[str, Any]]) -> dict[str, float]:
    """Seconds per step of each architecture, from stored runs' measured epoch times.

    The first epoch is left out where there are more (it includes tracing); the median
    over runs is kept, so one run slowed by other work on the machine does not decide it.
    """
    samples: dict[str, list[float]] = {}
    for m in metrics:
        epochs = list(m.get("epoch_seconds") or [])
        spec = m.get("spec") or {}
        if not epochs or not spec.get("batch_size") or not m.get("n_train"):
            continue
        steady = epochs[1:] or epochs
        steps = math.ceil(m["n_train"] / spec["batch_size"])
        kernel = spec.get("kernel_size")
        key = spec["arch"] if kernel is None else f"{spec['arch']}{kernel}"
        samples.setdefault(key, []).append(sum(steady) / len(steady) / steps)
    return {key: sorted(v)[len(v) // 2] for key, v in samples.items()}


def remaining_seconds(expected_left: float, expected_done: float, actual_done: float) -> float:
    """Seconds still to go: the estimate for what is left, corrected by how the finished part fared."""
    if expected_done <= 0:
        return expected_left
    return expected_left * actual_done / expected_done


def duration(seconds: float) -> str:
    """A duration as a person says it: ``40 s``, ``12 min``, ``2 h 05 min``."""
    if seconds < 90:
        return f"{seconds:.0f} s"
    minutes = round(seconds / 60)
    if minutes < 90:
        return f"{minutes} min"
    return f"{minutes // 60} h {minutes % 60:02d} min"
