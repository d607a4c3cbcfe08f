"""Calibration: expected calibration error and reliability-diagram data, per model and seed."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

import numpy as np

from fmnist_report.records import Measured
from fmnist_report.study import stats
from fmnist_report.study.experiments.registry import Job, Loader
from fmnist_report.study.results import Roles, StudyResults
from fmnist_report.study.summary_types import CalibrationAnalysis

KIND: Final = "calibration"
#: Part of the cache key: bump when a change to this module changes what it measures.
VERSION = 1
N_BINS = 15


def reliability(probabilities: np.ndarray, labels: np.ndarray, n_bins: int = N_BINS) -> np.ndarray:
    """Per confidence bin: accuracy, mean confidence and count, shaped (n_bins, 3).

    Confidence is the top class probability; bin i holds confidences in (i/n, (i+1)/n], bin 0
    also holds 0. Empty bins have accuracy and confidence 0.
    """
    if n_bins < 1:
        raise ValueError(f"n_bins must be at least 1, got {n_bins}")
    confidence = probabilities.max(axis=1).astype(np.float64)
    hit = (probabilities.argmax(axis=1) == labels).astype(np.float64)
    which = np.clip(np.ceil(confidence * n_bins).astype(np.int64) - 1, 0, n_bins - 1)
    count = np.bincount(which, minlength=n_bins).astype(np.float64)
    safe = np.maximum(count, 1.0)
    acc = np.bincount(which, weights=hit, minlength=n_bins) / safe
    conf = np.bincount(which, weights=confidence, minlength=n_bins) / safe
    return np.stack([acc, conf, count], axis=1)


def ece_from_bins(bins: np.ndarray) -> float:
    """Expected calibration error: the count-weighted mean of |accuracy - confidence| over bins."""
    acc, conf, count = bins[:, 0], bins[:, 1], bins[:, 2]
    total = count.sum()
    if total == 0:
        raise ValueError("no predictions to calibrate")
    return float(np.sum(count / total * np.abs(acc - conf)))


def ece(probabilities: np.ndarray, labels: np.ndarray, n_bins: int = N_BINS) -> float:
    """Expected calibration error with ``n_bins`` equal-width confidence bins."""
    return ece_from_bins(reliability(probabilities, labels, n_bins))


def run(
    probabilities: dict[str, Sequence[tuple[int, np.ndarray]]],
    labels: dict[str, str],
    y_test: np.ndarray,
    n_bins: int = N_BINS,
) -> Measured[CalibrationAnalysis]:
    """ECE per seed, summarised over seeds, and reliability bins for every model.

    Args:
        probabilities: by model id, ``(seed, test probabilities)`` for each seed.
    """
    metrics: CalibrationAnalysis = {
        "n_bins": n_bins,
        "binning": f"{n_bins} equal-width bins of the top-class probability over [0, 1]",
        "models": list(probabilities),
        "labels": dict(labels),
        "n_test": len(y_test),
        "ece": {},
        "mean_confidence": {},
        "accuracy": {},
    }
    arrays = {}
    for model_id, runs in probabilities.items():
        seeds = [seed for seed, _ in runs]
        bins = np.stack([reliability(p, y_test, n_bins) for _, p in runs])
        per_seed = [ece_from_bins(b) for b in bins]
        metrics["ece"][model_id] = {
            "seeds": seeds,
            "per_seed": per_seed,
            "summary": stats.summarize(per_seed).to_dict(),
        }
        metrics["mean_confidence"][model_id] = [float(p.max(axis=1).mean()) for _, p in runs]
        metrics["accuracy"][model_id] = [float(np.mean(p.argmax(axis=1) == y_test)) for _, p in runs]
        arrays[f"reliability_{model_id}"] = bins
    return Measured(metrics, arrays)


def job(results: StudyResults, roles: Roles) -> Job | None:
    """Reliability of the dense baseline and every CNN, over all their seeds."""
    calibrated = [m for m in (roles.dense, *roles.cnns.values()) if m is not None]
    if not calibrated:
        return None

    def compute(load: Loader) -> Measured[CalibrationAnalysis]:
        return run(
            {
                m: [(r.metrics["spec"]["seed"], r.arrays["probabilities"]) for r in results.runs[m]]
                for m in calibrated
            },
            {m: results.first(m).metrics["label"] for m in calibrated},
            results.data.y_test,
        )

    sources = [r.key for m in calibrated for r in results.runs[m]]
    return Job(KIND, VERSION, {"n_bins": N_BINS}, sources, compute)
