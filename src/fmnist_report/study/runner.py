"""The study's executor: specs in, cached records out, every finished run stored at once."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Protocol

from fmnist_report import backend
from fmnist_report import data as data_mod
from fmnist_report.config import Config
from fmnist_report.records import Record, make_key
from fmnist_report.store import DamagedEntryError, Store, cached_or_run
from fmnist_report.study import analyses, executors
from fmnist_report.study.analyses import REBUILD, NotBuiltError
from fmnist_report.study.experiments import eda
from fmnist_report.study.plan import parts, plan
from fmnist_report.study.results import StudyResults
from fmnist_report.study.training import RunSpec, layer_table


class Reporter(Protocol):
    """What the executor tells the user interface; a null reporter ignores it all."""

    def expect(self, seconds: Mapping[str, float]) -> None: ...
    def plan(self, specs: Sequence[RunSpec], cached: set[str]) -> None: ...
    def run_started(self, spec: RunSpec) -> list[Any]: ...
    def run_finished(self, spec: RunSpec, record: Record, cached: bool) -> None: ...
    def warn(self, message: str) -> None: ...
    def running(self, count: int) -> None: ...
    def info(self, message: str) -> None: ...


class NullReporter:
    def expect(self, seconds: Mapping[str, float]) -> None:
        pass

    def plan(self, specs: Sequence[RunSpec], cached: set[str]) -> None:
        pass

    def run_started(self, spec: RunSpec) -> list[Any]:
        return []

    def run_finished(self, spec: RunSpec, record: Record, cached: bool) -> None:
        pass

    def warn(self, message: str) -> None:
        pass

    def running(self, count: int) -> None:
        pass

    def info(self, message: str) -> None:
        pass


def load_data(config: Config, progress: Callable[[str, int, int], None] | None = None) -> data_mod.Dataset:
    """The verified data set, cut down to the profile's stratified subset."""
    full = data_mod.load(config.data_dir, offline=config.offline, progress=progress)
    s = config.study
    return data_mod.subset(full, s.train_per_class, s.test_per_class, seed=0)


def execute(
    specs: Sequence[RunSpec],
    data: data_mod.Dataset,
    store: Store,
    reporter: Reporter | None = None,
    *,
    fresh: bool = False,
    executor: str = "local",
    ray_address: str | None = None,
    jobs: int = 1,
) -> dict[str, Record]:
    """Run every spec not already in the store, saving each as soon as it finishes.

    ``executor`` ``local`` trains here, one run after another, or, with ``jobs`` above 1,
    that many at once in a pool of local processes (`executors.run_pool`); ``ray`` sends
    each run to a Ray cluster as one task (`executors.run_ray`). Only this process writes.
    """
    reporter = reporter or NullReporter()
    executors.check_executor(executor, jobs, ray_address)
    store.clean_partial()
    results: dict[str, Record] = {}
    todo: list[RunSpec] = []
    # Each entry is read (and checked) before the plan is told: a damaged one is "to train".
    stored = {} if fresh else {spec.key: store.get("train", spec.key) for spec in specs}
    cached = {key for key, record in stored.items() if record is not None}
    reporter.plan(specs, cached)
    added = variants_line(specs, cached)
    if added:
        reporter.info(added)
    for spec in specs:
        record = stored.get(spec.key)
        if record is None:
            todo.append(spec)
            continue
        if "layers" not in record.metrics:  # stored before the record kept its layer table
            record.metrics["layers"] = layer_table(spec)
        reporter.run_finished(spec, record, cached=True)
        results[spec.key] = record
    if executor == "ray" and todo:
        import keras

        trained = executors.run_ray(
            todo,
            data,
            backend=keras.backend.backend(),
            address=ray_address,
            running=reporter.running,
            num_gpus=1 if backend.current().device == "gpu" else 0,
        )
    elif jobs > 1 and len(todo) > 1:
        import keras

        trained = executors.run_pool(
            todo, data, jobs=min(jobs, len(todo)), backend=keras.backend.backend(), running=reporter.running
        )
    else:
        trained = executors.run_local(todo, data, reporter.run_started, reporter.running)
    by_key = {spec.key: spec for spec in todo}
    for record in trained:
        store.put(record)
        record.model = None  # free memory; load it from the store when needed
        reporter.run_finished(by_key[record.key], record, cached=False)
        results[record.key] = record
    return {spec.key: results[spec.key] for spec in specs}


def variants_line(specs: Sequence[RunSpec], cached: set[str]) -> str:
    """How many of the planned runs the declared variants add, and how many of those train now
    (the estimate printed before it gives their time)."""
    variants = [s for s in specs if s.variant is not None]
    if not variants:
        return ""
    todo = sum(s.key not in cached for s in variants)
    return f"the variants add {len(variants)} of these runs ({todo} to train)"


def run_study(
    config: Config,
    data: data_mod.Dataset,
    store: Store,
    reporter: Reporter | None = None,
    *,
    only: Iterable[str] | None = None,
    fresh: bool = False,
    executor: str = "local",
    ray_address: str | None = None,
    may_train: bool = True,
    jobs: int = 1,
) -> StudyResults:
    """EDA plus every planned training run, reusing the store (``may_train``: see `analyses.run_all`)."""
    reporter = reporter or NullReporter()
    chosen = parts(only)
    results = StudyResults(config=config, data=data)
    if "eda" in chosen:
        key = make_key(eda.KIND, {"data": data.fingerprint, "samples": eda.SAMPLES_PER_CLASS})

        def explore() -> Record:
            measured = eda.run(data)
            return Record(kind=eda.KIND, key=key, metrics=measured.metrics, arrays=measured.arrays)

        results.eda = cached_or_run(store, eda.KIND, key, explore, fresh)
    specs = plan(config, data, chosen)
    records = execute(
        specs, data, store, reporter, fresh=fresh, executor=executor, ray_address=ray_address, jobs=jobs
    )
    for spec in specs:
        results.runs.setdefault(spec.model_id, []).append(records[spec.key])
    if "interpret" in chosen:
        results.analyses = analyses.run_all(results, store, fresh=fresh, may_train=may_train)
    return results


# -- the never-train check ------------------------------------------------------------------------


def require_stored(
    config: Config, data: data_mod.Dataset, store: Store, parts: Iterable[str] | None = None
) -> None:
    """Fail with one line unless every planned training run is in the store, whole.

    Each entry is read as a build would read it (record, arrays, the model's zip), so that a
    damaged one stops here instead of being trained again by a command that never trains.
    """
    specs = plan(config, data, parts)
    missing = []
    for spec in specs:
        try:
            if store.read("train", spec.key) is None:
                missing.append(spec)
        except DamagedEntryError as damage:
            raise NotBuiltError(f"{damage} ({spec.label}, seed {spec.seed}); {REBUILD}") from None
    if missing:
        first = missing[0]
        raise NotBuiltError(
            f"{len(missing)} of {len(specs)} training runs of the {config.study.profile} profile are not in "
            f"{store.root} (first: {first.label}, seed {first.seed}); "
            + (other_backend_hint(store) or "run `fmnist-report build` with the same options first")
        )


def other_backend_hint(store: Store) -> str | None:
    """A hint when the store's runs were trained on another backend, or under another oneDNN cap, else None.

    The backend and the cap (``ONEDNN_MAX_CPU_ISA``) enter every cache key, so a store built
    with ``--backend jax``, or with the cap, looks empty to a process without them.
    """
    from fmnist_report import backend, runtime

    here, found = backend.current().backend, store.backends("train")
    if found and here not in found:
        others = sorted(found)
        return (
            f"the stored runs were trained with {' and '.join(others)}, and this process runs {here}; "
            f"pass --backend {others[0]} (the backend is part of every run's key)"
        )
    cap, caps = runtime.isa_cap() or "none", store.isa_caps("train")
    if here != "tensorflow" or not caps or cap in caps:
        return None
    other = sorted(caps)[0]

    def said(isa: str) -> str:
        return "uncapped" if isa == "none" else f"capped at {isa}"

    setting = "unset ONEDNN_MAX_CPU_ISA" if other == "none" else f"set ONEDNN_MAX_CPU_ISA={other}"
    return (
        f"the stored runs were trained with oneDNN {' and '.join(said(c) for c in sorted(caps))}, and this "
        f"process runs it {said(cap)}; {setting} (the cap is part of every run's key)"
    )
