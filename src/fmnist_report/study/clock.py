"""How long planned training runs take: pure arithmetic on specs and measured rates.

A rate is what an architecture costs on this machine: the seconds of one training step (one
batch, its share of validation included) and the seconds a run costs besides its steps
(building the model, tracing its functions, test predictions). Rates come from a short
calibration (`study.calibration.calibrate`) or from runs already stored
(`rates_from_records`). Any part of the program can ask what some runs would cost with
`estimate_seconds`, without training or importing Keras.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from fmnist_report.ids import ModelId
from fmnist_report.study.training import RunSpec


@dataclass(frozen=True)
class Rate:
    """One architecture's cost here: seconds per training step, and seconds per run besides."""

    step: float
    run: float = 0.0

    def scaled(self, factor: float) -> Rate:
        return Rate(self.step * factor, self.run * factor)


def architecture(spec: RunSpec) -> str:
    """The rate a spec trains at: ``dense``, ``cnn3``, ``cnn3[half-filters]``... (a permuted-pixel
    run costs as its network; a declared variant has a rate of its own)."""
    return _architecture(spec.arch, spec.kernel_size, spec.variant)


def _architecture(arch: str, kernel_size: int | None, variant: str | None) -> str:
    return str(ModelId(arch, kernel_size, variant=variant))


def steps_per_epoch(spec: RunSpec, n_train: int) -> int:
    """Training batches in one epoch of a run on ``n_train`` images (the validation part held out)."""
    return math.ceil(n_train / spec.batch_size)


def run_seconds(spec: RunSpec, n_train: int, rates: Mapping[str, Rate]) -> float:
    """Seconds one run takes: its epochs' steps and its fixed cost, at its architecture's rate."""
    rate = rates[architecture(spec)]
    return spec.epochs * steps_per_epoch(spec, n_train) * rate.step + rate.run


def workers(jobs: int, runs: int) -> int:
    """The worker processes ``jobs`` starts for ``runs`` runs: never more than there are runs."""
    return max(1, min(jobs, runs))


def estimate_seconds(
    specs: Sequence[RunSpec], rates: Mapping[str, Rate], n_train: int, *, jobs: int = 1
) -> float:
    """Seconds to train ``specs`` one after another, or on ``jobs`` workers that take them in this
    order, each run going to the first worker free (as `executors.run_pool` hands them out).

    ``rates`` must be measured with the threads each run will have: with ``jobs`` above 1,
    rates measured at the worker's share of the cores.
    """
    return makespan([run_seconds(s, n_train, rates) for s in specs], jobs)


def makespan(seconds: Iterable[float], workers: int = 1, busy: Sequence[float] = ()) -> float:
    """When the last of the runs ``seconds`` ends, on ``workers`` that take them in order, each
    run going to the first worker free; ``busy``: the seconds until each busy worker is free."""
    free = [*busy, *[0.0] * max(0, workers - len(busy))]
    heapq.heapify(free)
    for one in seconds:
        heapq.heappush(free, heapq.heappop(free) + one)
    return max(free, default=0.0)


def time_left(
    queued: Sequence[float],
    running: Sequence[tuple[float, float]],
    *,
    workers: int = 1,
    pace: float = 1.0,
) -> float:
    """Seconds until the last run ends, on ``workers`` that share the cores.

    Each run's seconds are its seconds alone on this machine; on ``workers`` at once it takes
    ``workers`` times as long (each has that share of the cores, as the estimate prices it), at
    ``pace``, how the finished runs fared (the function `pace`). ``running``: each started
    run's seconds alone and the seconds it has run; ``queued``: the runs not yet started, in
    the order they will start.
    """
    share = max(1, workers, len(running))
    busy = [max(0.0, alone * share * pace - ran) for alone, ran in running]
    return makespan([alone * share * pace for alone in queued], share, busy)


def rates_from_records(metrics: Iterable[Mapping[str, Any]]) -> dict[str, Rate]:
    """Each architecture's rate, from stored runs' measured epoch and training times.

    A step costs a steady epoch (the first left out where there are more: it traces) over
    its steps; a run's fixed cost is what its training took beyond its epochs at that rate.
    The median over runs is kept, so one run slowed by other work does not decide it.
    """
    samples: dict[str, list[Rate]] = {}
    for m in metrics:
        epochs = list(m.get("epoch_seconds") or [])
        spec = m.get("spec") or {}
        if not epochs or not spec.get("batch_size") or not m.get("n_train"):
            continue
        steady = epochs[1:] or epochs
        step = sum(steady) / len(steady) / math.ceil(m["n_train"] / spec["batch_size"])
        fixed = max(0.0, float(m.get("train_seconds", 0.0)) - len(epochs) * sum(steady) / len(steady))
        key = _architecture(spec["arch"], spec.get("kernel_size"), spec.get("variant"))
        samples.setdefault(key, []).append(Rate(step, fixed))
    return {key: _median(v) for key, v in samples.items()}


def _median(rates: Sequence[Rate]) -> Rate:
    middle = len(rates) // 2
    return Rate(sorted(r.step for r in rates)[middle], sorted(r.run for r in rates)[middle])


#: The finished runs' pace corrects the estimate in proportion to how much of the plan they
#: are: their expected seconds are weighed against this share of the whole plan's, so that a
#: short first run (a Dense run of a few seconds, 1% of a full build) does not rescale the
#: rest by its own pace. Measured: after the first Dense run of a full build the time left
#: read 7 min where 11 were left, and 21 where 31 were (docs/performance.md).
PRIOR_SHARE = 0.1


def pace(expected_done: float, actual_done: float, planned: float = 0.0) -> float:
    """How the finished runs fared: their seconds over their expected seconds (1.0 before any).

    ``planned`` is the whole plan's expected seconds; a tenth of it (`PRIOR_SHARE`) counts as
    already finished on time, so the correction grows with the share of the plan behind it.
    Both sums are of the runs themselves, each as long as it ran, never the wall time of runs
    side by side (`time_left`).
    """
    if expected_done <= 0:
        return 1.0
    prior = PRIOR_SHARE * planned
    return (actual_done + prior) / (expected_done + prior)


def duration(seconds: float) -> str:
    """A duration as a person says it: ``40 s``, ``12 min``, ``2 h 05 min``."""
    if seconds < 90:
        return f"{seconds:.0f} s"
    minutes = round(seconds / 60)
    if minutes < 90:
        return f"{minutes} min"
    return f"{minutes // 60} h {minutes % 60:02d} min"
