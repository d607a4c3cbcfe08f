"""The interpretation experiments: each run once on the first seed's trained models, then cached."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

from fmnist_report import models
from fmnist_report.config import Config
from fmnist_report.data import Dataset
from fmnist_report.records import Record, make_key
from fmnist_report.store import Store, cached_or_run
from fmnist_report.study import summary
from fmnist_report.study.experiments import calibration, efficiency, filters, mistakes, shift
from fmnist_report.study.results import StudyResults

_CNN_ID = re.compile(r"^cnn(\d+)$")


def cnn_ids(results: StudyResults) -> dict[int, str]:
    """Model ids of the (unpermuted) CNNs by kernel size, smallest first."""
    found = {int(m.group(1)): mid for mid in results.runs if (m := _CNN_ID.match(mid))}
    return dict(sorted(found.items()))


def probe_cnn(results: StudyResults) -> str | None:
    """The CNN that the shift, feature-map and mistake analyses inspect: 3x3, else the smallest."""
    ids = cnn_ids(results)
    return ids.get(3) or next(iter(ids.values()), None)


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


def _timed(kind: str, key: str, fn: Callable[[], Record]) -> Callable[[], Record]:
    def compute() -> Record:
        start = time.perf_counter()
        record = fn()
        record.kind, record.key = kind, key
        record.metrics["compute_seconds"] = time.perf_counter() - start
        return record

    return compute


def _labels(results: StudyResults, ids: list[str]) -> dict[str, str]:
    return {m: results.first(m).metrics["label"] for m in ids}


def run_all(
    config: Config, data: Dataset, store: Store, results: StudyResults, *, fresh: bool = False
) -> dict[str, Record]:
    """Every interpretation experiment whose trained models are present, keyed by kind."""
    load = ModelLoader(store, results)
    fp = data.fingerprint
    out: dict[str, Record] = {}

    def cached(module: Any, params: dict[str, Any], sources: list[str], fn: Callable[[], Record]) -> None:
        kind = module.KIND
        key = make_key(kind, {**params, "version": module.VERSION, "models": sources, "data": fp})
        out[kind] = cached_or_run(store, kind, key, _timed(kind, key, fn), fresh)

    cnns = cnn_ids(results)
    probe = probe_cnn(results)
    kernel_of = {mid: k for k, mid in cnns.items()}
    first_key = {mid: results.first(mid).key for mid in results.runs}

    if cnns:
        cached(
            filters,
            {"n_images": filters.N_IMAGES},
            [first_key[m] for m in cnns.values()],
            lambda: filters.run({k: load(m) for k, m in cnns.items()}, data, n_images=filters.N_IMAGES),
        )

    if probe is not None:
        compared = [m for m in ("dense", probe) if m in results.runs]
        cached(
            shift,
            {
                "max_shift": shift.MAX_SHIFT,
                "n_images": shift.N_IMAGES,
                "n_equivariance": shift.N_EQUIVARIANCE,
                "directions": shift.DIRECTIONS,
            },
            [first_key[m] for m in compared],
            lambda: shift.run(
                {m: load(m) for m in compared},
                _labels(results, compared),
                load(probe),
                kernel_of[probe],
                data,
                max_shift=shift.MAX_SHIFT,
                n_images=shift.N_IMAGES,
                n_equivariance=shift.N_EQUIVARIANCE,
            ),
        )

    calibrated = [m for m in ("dense", *cnns.values()) if m in results.runs]
    if calibrated:
        cached(
            calibration,
            {"n_bins": calibration.N_BINS},
            [r.key for m in calibrated for r in results.runs[m]],
            lambda: calibration.run(
                {
                    m: [(r.metrics["spec"]["seed"], r.arrays["probabilities"]) for r in results.runs[m]]
                    for m in calibrated
                },
                _labels(results, calibrated),
                data.y_test,
            ),
        )

    if probe is not None:
        confused = [m for m in ("dense", probe) if m in results.runs]
        cached(
            mistakes,
            {
                "top_pairs": mistakes.TOP_PAIRS,
                "top_mistakes": mistakes.TOP_MISTAKES,
                "n_saliency": mistakes.N_SALIENCY,
                "confident": mistakes.CONFIDENT,
                "probe": probe,
            },
            [r.key for m in confused for r in results.runs[m]],
            lambda: mistakes.run(
                {m: [r.arrays["confusion"] for r in results.runs[m]] for m in confused},
                _labels(results, confused),
                probe,
                results.first(probe).arrays["probabilities"],
                load(probe),
                data,
                seed=results.first(probe).metrics["spec"]["seed"],
            ),
        )

    if results.runs:

        def efficiency_record() -> Record:
            specs = {m: results.first(m).metrics["spec"] for m in results.runs}
            tables = {
                m: models.layer_table(models.build(s["arch"], s["kernel_size"])) for m, s in specs.items()
            }
            return efficiency.run(
                [summary.model_summary(rs) for rs in results.runs.values()],
                tables,
                {m: s["kernel_size"] for m, s in specs.items()},
            )

        cached(efficiency, {}, [r.key for rs in results.runs.values() for r in rs], efficiency_record)
    return out
