"""The study plan and its executor: specs in, cached records out."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any, Protocol

from fmnist_report import data as data_mod
from fmnist_report.config import Config
from fmnist_report.errors import ConfigError
from fmnist_report.records import Record
from fmnist_report.store import Store, cached_or_run
from fmnist_report.study import analyses
from fmnist_report.study.experiments import eda
from fmnist_report.study.results import StudyResults
from fmnist_report.study.training import RunSpec, spec_for, train

#: The parts of the study `--only` can pick.
PARTS = ("eda", "dense", "cnn", "kernels", "locality", "interpret")


class Reporter(Protocol):
    """What the executor tells the user interface; a null reporter ignores it all."""

    def plan(self, specs: Sequence[RunSpec], cached: set[str]) -> None: ...
    def run_started(self, spec: RunSpec) -> list[Any]: ...
    def run_finished(self, spec: RunSpec, record: Record, cached: bool) -> None: ...
    def warn(self, message: str) -> None: ...


class NullReporter:
    def plan(self, specs: Sequence[RunSpec], cached: set[str]) -> None:
        pass

    def run_started(self, spec: RunSpec) -> list[Any]:
        return []

    def run_finished(self, spec: RunSpec, record: Record, cached: bool) -> None:
        pass

    def warn(self, message: str) -> None:
        pass


def load_data(config: Config, progress: Callable[[str, int, int], None] | None = None) -> data_mod.Dataset:
    """The verified data set, cut down to the profile's stratified subset."""
    full = data_mod.load(config.data_dir, offline=config.offline, progress=progress)
    s = config.study
    return data_mod.subset(full, s.train_per_class, s.test_per_class, seed=0)


def plan(config: Config, data: data_mod.Dataset, only: Iterable[str] | None = None) -> list[RunSpec]:
    """Every training run the chosen parts need, each exactly once.

    The CNN of the comparison and the 3x3 arm of the kernel study share one spec, so they
    are one run. The locality check (pixels permuted) uses the first seed only.
    """
    parts = set(only or PARTS)
    s = config.study
    specs: list[RunSpec] = []
    for seed in s.seed_list:
        if "dense" in parts:
            specs.append(spec_for(s, data, "dense", seed))
        if "cnn" in parts:
            specs.append(spec_for(s, data, "cnn", seed, kernel_size=3))
        if "kernels" in parts:
            specs.extend(spec_for(s, data, "cnn", seed, kernel_size=k) for k in s.kernel_sizes)
    if "locality" in parts:
        seed = s.first_seed
        specs.append(spec_for(s, data, "dense", seed, permutation_seed=seed))
        specs.append(spec_for(s, data, "cnn", seed, kernel_size=3, permutation_seed=seed))
    unique: dict[str, RunSpec] = {}
    for spec in specs:
        unique.setdefault(spec.key, spec)
    return list(unique.values())


def execute(
    specs: Sequence[RunSpec],
    data: data_mod.Dataset,
    store: Store,
    reporter: Reporter | None = None,
    *,
    fresh: bool = False,
) -> dict[str, Record]:
    """Run every spec not already in the store, saving each as soon as it finishes."""
    reporter = reporter or NullReporter()
    store.clean_partial()
    cached = set() if fresh else {s.key for s in specs if store.has("train", s.key)}
    reporter.plan(specs, cached)
    results: dict[str, Record] = {}
    for spec in specs:
        record = None if fresh else store.get("train", spec.key)
        if record is not None:
            reporter.run_finished(spec, record, cached=True)
        else:
            record = train(spec, data, callbacks=reporter.run_started(spec))
            store.put(record)
            record.model = None  # free memory; load it from the store when needed
            reporter.run_finished(spec, record, cached=False)
        results[spec.key] = record
    return results


def run_study(
    config: Config,
    data: data_mod.Dataset,
    store: Store,
    reporter: Reporter | None = None,
    *,
    only: Iterable[str] | None = None,
    fresh: bool = False,
) -> StudyResults:
    """EDA plus every planned training run, reusing the store."""
    reporter = reporter or NullReporter()
    parts = set(only or PARTS)
    unknown = parts - set(PARTS)
    if unknown:
        raise ConfigError(f"--only: unknown part {sorted(unknown)[0]!r}; choose from {', '.join(PARTS)}")
    results = StudyResults(config=config, data=data)
    if "eda" in parts:
        results.eda = cached_or_run(store, eda.KIND, eda.key(data), lambda: eda.run(data), fresh)
    specs = plan(config, data, parts)
    records = execute(specs, data, store, reporter, fresh=fresh)
    for spec in specs:
        results.runs.setdefault(spec.model_id, []).append(records[spec.key])
    if "interpret" in parts:
        results.analyses = analyses.run_all(config, data, store, results, fresh=fresh)
    return results
