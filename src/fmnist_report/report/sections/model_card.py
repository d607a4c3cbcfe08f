"""The exported model's card: what it is for, what it was trained and measured on, where it fails.

The values are section 6's, so every number of the card is also in ``metrics.json``; the
same values are laid out as a subsection of the report and as ``model_card.md`` beside the
export. Nothing here is claimed that a measurement of this build does not back.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypedDict

from fmnist_report.report.sections.values import HalfStats, Rows, confusion, required, with_half
from fmnist_report.study.summary_types import CALIBRATION, ModelRow, SeedStats, Summary

#: The file beside the export.
CARD_FILE = "model_card.md"
#: How many of the most frequent confusions the card lists.
CONFUSIONS = 3


class ClassStats(TypedDict):
    """A class and the model's accuracy on it over seeds, with its half-width."""

    name: str
    accuracy: HalfStats


class Mistaken(TypedDict):
    """A (true, predicted) mistake over all seeds, and its share of the true class's images."""

    true: str
    predicted: str
    count: int
    share: float


class CardValues(TypedDict):
    """The model card's values."""

    file: str
    label: str
    seed: int
    params: int
    accuracy: SeedStats
    n_seeds: int
    confidence: float
    per_class: list[ClassStats]
    #: The expected calibration error and its binning; None where calibration was not measured.
    ece: HalfStats | None
    n_bins: int | None
    confusions: list[Mistaken]
    n_train: int
    n_test: int
    full_data: bool
    subset: str
    epochs: int
    batch_size: int
    learning_rate: float
    validation_fraction: float
    split: str
    image_side: int
    n_classes: int
    platform: str
    profile: str


def per_class(row: ModelRow, class_names: Sequence[str]) -> list[ClassStats]:
    """Each class's test accuracy over the model's seeds, with its 95% t-interval where there are several."""
    return [
        {"name": name, "accuracy": with_half(stats)}
        for name, stats in zip(class_names, row["per_class"], strict=True)
    ]


def confusions(row: ModelRow, class_names: Sequence[str], top: int = CONFUSIONS) -> list[Mistaken]:
    """The most frequent (true, predicted) mistakes over all seeds, with their share of the true class."""
    matrix = confusion(row)
    names = class_names
    off = [(int(matrix[t, p]), t, p) for t in range(len(names)) for p in range(len(names)) if t != p]
    return [
        {"true": names[t], "predicted": names[p], "count": n, "share": n / max(int(matrix[t].sum()), 1)}
        for n, t, p in sorted(off, key=lambda x: (-x[0], x[1], x[2]))[:top]
        if n > 0
    ]


def build(summary: Summary, rows: Rows) -> CardValues:
    """The card's values for the study's headline CNN (the exported model)."""
    cnn = required(summary.roles.headline, "the CNN")
    s = summary.study
    data = summary.data
    row = rows[cnn]
    measured = summary.analyses.get(CALIBRATION, {}).get("ece", {}).get(cnn)
    ece = measured["summary"] if measured else None
    names = list(data.class_names)
    ece_half: HalfStats | None = with_half(ece) if ece else None
    return {
        "file": CARD_FILE,
        "label": row["label"],
        "seed": summary.seed(cnn),
        "params": row["params"],
        "accuracy": row["test_accuracy"],
        "n_seeds": len(row["seeds"]),
        "confidence": row["test_accuracy"]["confidence"],
        "per_class": per_class(row, names),
        "ece": ece_half,
        "n_bins": summary.analyses.get(CALIBRATION, {}).get("n_bins"),
        "confusions": confusions(row, names),
        "n_train": data.n_train,
        "n_test": data.n_test,
        "full_data": data.subset == "full",
        "subset": data.subset,
        "epochs": s.epochs,
        "batch_size": s.batch_size,
        "learning_rate": s.learning_rate,
        "validation_fraction": s.validation_fraction,
        "split": s.split,
        "image_side": data.image_side,
        "n_classes": len(names),
        "platform": summary.platform,
        "profile": s.profile,
    }
