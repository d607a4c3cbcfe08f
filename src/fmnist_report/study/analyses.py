"""The runner of the interpretation experiments: each runs once on the first seed's models, then is cached."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from fmnist_report.errors import StoreError
from fmnist_report.records import Record, make_key
from fmnist_report.store import DamagedEntryError, Store, cached_or_run
from fmnist_report.study.experiments import calibration, efficiency, filters, mistakes, shift
from fmnist_report.study.experiments.registry import Job
from fmnist_report.study.results import StudyResults
from fmnist_report.study.training import RunSpec, train

if TYPE_CHECKING:
    import keras

#: The fix for a training run that a command which never trains finds missing or damaged.
REBUILD = "run `fmnist-report build` with the same options to compute it again"


class NotBuiltError(StoreError):
    """A command that never trains needs a training run the store does not hold intact."""


#: Every interpretation experiment, in the order it runs; each module offers ``job(results, roles)``.
EXPERIMENTS = (filters, shift, calibration, mistakes, efficiency)


class ModelLoader:
    """Loads the first seed's trained model of a model id from the store, once.

    A stored model that cannot be loaded (damaged, or refused by Keras safe mode) is reported
    in one line and its run trained again, the same spec on the same data; where training is
    not allowed (``render``, ``export``) it is a one-line error that says to run `build`.
    """

    def __init__(self, store: Store, results: StudyResults, *, may_train: bool = True) -> None:
        self.store = store
        self.results = results
        self.may_train = may_train
        self._cache: dict[str, keras.Model] = {}

    def __call__(self, model_id: str) -> Any:
        if model_id not in self._cache:
            self._cache[model_id] = self._load(self.results.first(model_id))
        return self._cache[model_id]

    def _load(self, record: Record) -> Any:
        try:
            return self.store.load_model("train", record.key)
        except DamagedEntryError as damage:
            spec = RunSpec(**record.metrics["spec"])
            if not self.may_train or spec.key != record.key:  # the key check: never train another run
                raise NotBuiltError(f"{damage}; {REBUILD}") from None
            self.store.discard(damage, then="training it again")
            retrained = train(spec, self.results.data)
            self.store.put(retrained)
            model, retrained.model = retrained.model, None
            return model


def job_key(job: Job, data_fingerprint: str) -> str:
    """The store key of a job: its kind, settings, version, source runs and data."""
    params = {**job.params, "version": job.version, "models": job.sources, "data": data_fingerprint}
    return make_key(job.kind, params)


def run_all(
    results: StudyResults, store: Store, *, fresh: bool = False, may_train: bool = True
) -> dict[str, Record]:
    """Every interpretation experiment whose trained models are present, keyed by kind.

    ``may_train`` False: a damaged model is an error instead of a run trained again.
    """
    load = ModelLoader(store, results, may_train=may_train)
    roles = results.roles()
    out: dict[str, Record] = {}
    for module in EXPERIMENTS:
        job = module.job(results, roles)
        if job is None:
            continue
        key = job_key(job, results.data.fingerprint)

        def compute(job: Job = job, key: str = key) -> Record:
            start = time.perf_counter()
            measured = job.compute(load)
            metrics = {**measured.metrics, "compute_seconds": time.perf_counter() - start}
            return Record(kind=job.kind, key=key, metrics=metrics, arrays=measured.arrays)

        out[job.kind] = cached_or_run(store, job.kind, key, compute, fresh)
    return out
