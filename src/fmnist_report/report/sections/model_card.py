"""The exported model's card: what it is for, what it was trained and measured on, where it fails.

The values are section 6's, so every number of the card is also in ``metrics.json``; the
same values are laid out as a subsection of the report and as ``model_card.md`` beside the
export. Nothing here is claimed that a measurement of this build does not back.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from fmnist_report.report.sections.values import Rows, confusion, with_half
from fmnist_report.study import stats
from fmnist_report.study.results import StudyResults
from fmnist_report.study.summary import Summary

#: The file beside the export.
CARD_FILE = "model_card.md"
#: How many of the most frequent confusions the card lists.
CONFUSIONS = 3


def per_class(results: StudyResults, model_id: str) -> list[dict[str, Any]]:
    """Each class's test accuracy over the model's seeds, with its 95% t-interval where there are several."""
    records = results.runs[model_id]
    by_class = np.array([r.metrics["per_class"]["accuracy"] for r in records])
    return [
        {"name": name, "accuracy": with_half(stats.summarize(by_class[:, c].tolist()).to_dict())}
        for c, name in enumerate(results.data.class_names)
    ]


def confusions(results: StudyResults, model_id: str, top: int = CONFUSIONS) -> list[dict[str, Any]]:
    """The most frequent (true, predicted) mistakes over all seeds, with their share of the true class."""
    matrix = confusion(results, model_id).astype(np.int64)
    names = results.data.class_names
    off = [(int(matrix[t, p]), t, p) for t in range(len(names)) for p in range(len(names)) if t != p]
    return [
        {"true": names[t], "predicted": names[p], "count": n, "share": n / max(int(matrix[t].sum()), 1)}
        for n, t, p in sorted(off, key=lambda x: (-x[0], x[1], x[2]))[:top]
        if n > 0
    ]


def build(results: StudyResults, summary: Summary, rows: Rows) -> dict[str, Any]:
    """The card's values for the study's headline CNN (the exported model)."""
    cnn = summary.roles.headline
    s = results.config.study
    row = rows[cnn]
    ece = summary.analyses.get("calibration", {}).get("ece", {}).get(cnn, {}).get("summary")
    first = results.first(cnn).metrics
    return {
        "file": CARD_FILE,
        "label": row["label"],
        "seed": first["spec"]["seed"],
        "params": row["params"],
        "accuracy": row["test_accuracy"],
        "n_seeds": len(row["seeds"]),
        "confidence": row["test_accuracy"]["confidence"],
        "per_class": per_class(results, cnn),
        "ece": with_half(ece) if ece else None,
        "n_bins": summary.analyses.get("calibration", {}).get("n_bins"),
        "confusions": confusions(results, cnn),
        "n_train": len(results.data.y_train),
        "n_test": len(results.data.y_test),
        "full_data": results.data.subset == "full",
        "subset": results.data.subset,
        "epochs": s.epochs,
        "batch_size": s.batch_size,
        "learning_rate": s.learning_rate,
        "validation_fraction": s.validation_fraction,
        "split": s.split,
        "image_side": int(results.data.x_test.shape[1]),
        "n_classes": len(results.data.class_names),
        "platform": summary.platform,
        "profile": s.profile,
    }
