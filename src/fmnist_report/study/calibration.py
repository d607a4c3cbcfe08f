"""A short calibration: a few dozen training steps of each architecture, timed on this machine."""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from fmnist_report.config import Config
from fmnist_report.data import Dataset
from fmnist_report.runtime import logical_cpus
from fmnist_report.store import Store
from fmnist_report.study import clock
from fmnist_report.study.plan import plan
from fmnist_report.study.training import RunSpec, compiled, feed, held_out, predict_proba, validation_split

#: Timed steps per architecture, after a warm-up of one full compiled call that traces the
#: training function and lets the kernels settle (the first steps after tracing run slower).
STEPS = 30
WARM_UP_STEPS = 50
#: Validation costs a forward pass (about a third of a training step per image) over the
#: held-out part after every epoch; a calibrated step carries its share.
VALIDATION_COST = 1 / 3
#: An estimate above this many seconds is told, in one warning line before training starts,
#: how to make the build shorter (never a prompt: a build must run unattended, in CI too).
LONG_BUILD_S = 12 * 3600


def calibrate(specs: Sequence[RunSpec], budget: Mapping[str, int] | None = None) -> dict[str, clock.Rate]:
    """Each architecture's rate, timed here: a run's first calls (tracing), then a few dozen steps.

    ``budget`` caps the steps spent on an architecture (warm-up and timed alike), so that a
    small build does not spend on calibrating what its training would cost.
    """
    import keras

    rates: dict[str, clock.Rate] = {}
    for spec in specs:
        name = clock.architecture(spec)
        if name in rates:
            continue
        cap = (budget or {}).get(name, WARM_UP_STEPS + STEPS)
        warm_steps = max(2, min(WARM_UP_STEPS, cap * WARM_UP_STEPS // (WARM_UP_STEPS + STEPS)))
        steps = max(2, min(STEPS, cap - warm_steps))
        rng = np.random.default_rng(0)
        x = rng.random((spec.batch_size * max(steps, warm_steps), 28, 28, 1), dtype=np.float32)
        y = np.eye(10, dtype=np.float32)[rng.integers(0, 10, len(x))]
        previous = keras.mixed_precision.global_policy().name
        keras.mixed_precision.set_global_policy(spec.precision)
        try:
            start = time.perf_counter()
            model, trained = compiled(spec)
            warm, size = spec.batch_size * warm_steps, spec.batch_size
            held = held_out(x[:size], y[:size], size)
            trained.fit(**feed(x[:warm], y[:warm], size), validation_data=held, shuffle=False, verbose=0)
            predict_proba(model, x[: spec.batch_size])
            first = time.perf_counter() - start
            start = time.perf_counter()
            timed = spec.batch_size * steps
            trained.fit(**feed(x[:timed], y[:timed], size), verbose=0, shuffle=False)
            step = (time.perf_counter() - start) / steps
        finally:
            keras.mixed_precision.set_global_policy(previous)
        held_share = spec.validation_fraction / (1 - spec.validation_fraction)
        rates[name] = clock.Rate(
            step * (1 + held_share * VALIDATION_COST), max(0.0, first - warm_steps * step)
        )
    return rates


def rates_for(
    todo: Sequence[RunSpec], stored: Iterable[Mapping[str, Any]], n_train: int
) -> tuple[dict[str, clock.Rate], str]:
    """Seconds per step of each architecture ``todo`` trains, and where they came from.

    The stored runs' epoch times (runs of the same plan, so the same protocol and platform)
    give the rates of their architectures; the others are calibrated, a few seconds each.
    """
    rates = clock.rates_from_records(stored)
    missing = [s for s in todo if clock.architecture(s) not in rates]
    sources = (["the stored runs' epoch times"] if rates else []) + (
        ["a short calibration"] if missing else []
    )
    if missing:
        # at most a tenth of the steps each architecture will train
        planned: dict[str, int] = {}
        for s in missing:
            name = clock.architecture(s)
            planned[name] = planned.get(name, 0) + s.epochs * clock.steps_per_epoch(s, n_train)
        rates.update(calibrate(missing, {k: v // 10 for k, v in planned.items()}))
    return rates, " and ".join(sources)


@dataclass(frozen=True)
class Estimate:
    """What the runs still to train should cost here: each run's seconds, the total, the rates' source."""

    per_run: dict[str, float] = field(default_factory=dict)
    total: float = 0.0
    source: str = ""


def estimate(
    specs: Sequence[RunSpec], data: Dataset, store: Store, *, fresh: bool, jobs: int = 1
) -> Estimate:
    """The cost of the planned runs the store lacks (all of them with ``fresh``), ``jobs`` at once."""
    todo = [s for s in specs if fresh or not store.has("train", s.key)]
    if not todo:
        return Estimate()
    stored = [r.metrics for s in specs if s not in todo and (r := store.get("train", s.key)) is not None]
    first = todo[0]
    n_train = len(validation_split(data.y_train, first.validation_fraction, first.split, first.seed)[0])
    rates, source = rates_for(todo, stored, n_train)
    # Test predictions after training: a forward pass over the test images.
    predicting = len(data.y_test) / first.batch_size * VALIDATION_COST
    rates = {k: clock.Rate(r.step, r.run + predicting * r.step) for k, r in rates.items()}
    # The pool starts no more workers than runs; each of the runs at once gets that share of the
    # cores: as many times slower, side by side.
    workers = clock.workers(jobs, len(todo))
    shared = {k: r.scaled(workers) for k, r in rates.items()}
    total = clock.estimate_seconds(todo, shared, n_train, jobs=workers)
    return Estimate({s.key: clock.run_seconds(s, n_train, rates) for s in todo}, total, source)


def announce(
    cfg: Config,
    data: Dataset,
    store: Store,
    reporter: Any,
    *,
    parts: Iterable[str] | None,
    fresh: bool,
    jobs: int,
) -> None:
    """Before training, say how long it will take on this machine, and the declared variants' share
    of it; the progress display counts it down."""
    specs = plan(cfg, data, parts)
    found = estimate(specs, data, store, fresh=fresh, jobs=jobs)
    if not found.per_run:
        return
    reporter.expect(found.per_run)
    variants = [found.per_run[s.key] for s in specs if s.variant is not None and s.key in found.per_run]
    share = (
        f"; the variants' {len(variants)} {'run' if len(variants) == 1 else 'runs'} about "
        f"{clock.duration(sum(variants))} of it"
        if variants
        else ""
    )
    reporter.info(
        f"estimate: {len(found.per_run)} training runs, about {clock.duration(found.total)} on "
        f"this machine (from {found.source}){share}, then the analyses and the report"
    )
    if found.total > LONG_BUILD_S:
        reporter.warn(long_build_line(found.total, jobs, logical_cpus()))


def long_build_line(seconds: float, jobs: int, cpus: int) -> str:
    """What a build estimated above `LONG_BUILD_S` is told before it trains: how to shorten it.

    ``--jobs`` is named only where there are cores to spare: on 2 cores one run at a time
    measured fastest (docs/performance.md).
    """
    more = f", or --jobs up to {cpus} (this machine's logical CPUs)" if cpus > 2 and jobs < cpus else ""
    return (
        f"training alone is estimated at {clock.duration(seconds)} here; for a shorter build: "
        f"--profile quick (a small preview), fewer seeds (--seeds 1 or 2){more}"
    )
