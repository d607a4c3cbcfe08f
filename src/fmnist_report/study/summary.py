"""Headline numbers over seeds: per-model summaries and honest pairwise comparisons."""

from __future__ import annotations

from typing import Any

import numpy as np

from fmnist_report.records import Record
from fmnist_report.study import stats
from fmnist_report.study.results import StudyResults

#: Per-run metrics summarised over seeds.
SEED_METRICS = ("test_accuracy", "test_loss", "train_seconds", "latency_ms_batched", "latency_ms_single")


def model_summary(records: list[Record]) -> dict[str, Any]:
    """Mean, std and 95% t-interval of each headline metric over a model's seeds."""
    first = records[0].metrics
    row: dict[str, Any] = {
        "model_id": first["model_id"],
        "label": first["label"],
        "seeds": [r.metrics["spec"]["seed"] for r in records],
        "params": first["params"],
        "flops": first["flops"],
    }
    for name in SEED_METRICS:
        row[name] = stats.summarize([r.metrics[name] for r in records]).to_dict()
    per_class = np.array([r.metrics["per_class"]["accuracy"] for r in records])
    row["per_class_accuracy"] = per_class.mean(axis=0).tolist()
    return row


def correct(record: Record, y_true: np.ndarray) -> np.ndarray:
    """Which test images a run classified correctly."""
    return record.arrays["probabilities"].argmax(axis=1) == y_true


def compare(results: StudyResults, a_id: str, b_id: str) -> dict[str, Any] | None:
    """B against A on the seeds both have: paired difference, McNemar per seed, wording."""
    if a_id not in results.runs or b_id not in results.runs:
        return None
    a_by_seed = {r.metrics["spec"]["seed"]: r for r in results.runs[a_id]}
    b_by_seed = {r.metrics["spec"]["seed"]: r for r in results.runs[b_id]}
    seeds = sorted(set(a_by_seed) & set(b_by_seed))
    if not seeds:
        return None
    y = results.data.y_test
    a_acc = [a_by_seed[s].metrics["test_accuracy"] for s in seeds]
    b_acc = [b_by_seed[s].metrics["test_accuracy"] for s in seeds]
    diff = stats.paired_difference(a_acc, b_acc)
    tests = stats.mcnemar_per_seed((correct(a_by_seed[s], y), correct(b_by_seed[s], y)) for s in seeds)
    label_a = a_by_seed[seeds[0]].metrics["label"]
    label_b = b_by_seed[seeds[0]].metrics["label"]
    return {
        "a": a_id,
        "b": b_id,
        "label_a": label_a,
        "label_b": label_b,
        "seeds": seeds,
        "diff": diff.to_dict(),
        "mcnemar": [t.to_dict() for t in tests],
        "worst_p": stats.worst_p(tests),
        "text": stats.describe_comparison(label_a, label_b, diff, tests),
    }


def comparison_pairs(results: StudyResults) -> list[tuple[str, str]]:
    """Dense vs CNN 3x3, every pair of kernel sizes, and each model against its permuted twin."""
    kernels = [f"cnn{k}" for k in results.config.study.kernel_sizes]
    pairs = [("dense", "cnn3")]
    pairs += [(a, b) for i, a in enumerate(kernels) for b in kernels[i + 1 :]]
    pairs += [("dense", "dense-permuted"), ("cnn3", "cnn3-permuted")]
    seen, out = set(), []
    for pair in pairs:
        if pair not in seen and pair[0] != pair[1]:
            seen.add(pair)
            out.append(pair)
    return out


def comparisons(results: StudyResults) -> dict[str, dict[str, Any]]:
    """Every available comparison, keyed ``"a__vs__b"``."""
    out = {}
    for a, b in comparison_pairs(results):
        found = compare(results, a, b)
        if found is not None:
            out[f"{a}__vs__{b}"] = found
    return out


def summary_rows(results: StudyResults) -> dict[str, Any]:
    """The machine-readable summary: per-model rows and the comparisons."""
    return {
        "models": [model_summary(records) for records in results.runs.values()],
        "comparisons": comparisons(results),
    }
