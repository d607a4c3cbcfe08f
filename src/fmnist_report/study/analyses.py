"""The runner of the interpretation experiments: each runs once on the first seed's models, then is cached."""

from __future__ import annotations

import time
from typing import Any

from fmnist_report.records import Record, make_key
from fmnist_report.store import Store, cached_or_run
from fmnist_report.study.experiments import calibration, efficiency, filters, mistakes, shift
from fmnist_report.study.experiments.registry import Job
from fmnist_report.study.results import StudyResults

#: Every interpretation experiment, in the order it runs; each module offers ``job(results, roles)``.
EXPERIMENTS = (filters, shift, calibration, mistakes, efficiency)


class ModelLoader:
    """Loads the first seed's trained model of a model id from the store, once."""

    def __init__(self, store: Store, results: StudyResults) -> None:
        self.store = store
        self.results = results
        self._cache: dict[str, Any] = {}

    def __call__(self, model_id: str) -> Any:
        if model_id not in self._cache:
            self._cache[model_id] = self.store.load_model("train", self.results.first(model_id).key)
        return self._cache[model_id]


def job_key(job: Job, data_fingerprint: str) -> str:
    """The store key of a job: its kind, settings, version, source runs and data."""
    params = {**job.params, "version": job.version, "models": job.sources, "data": data_fingerprint}
    return make_key(job.kind, params)


def run_all(results: StudyResults, store: Store, *, fresh: bool = False) -> dict[str, Record]:
    """Every interpretation experiment whose trained models are present, keyed by kind."""
    load = ModelLoader(store, results)
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
