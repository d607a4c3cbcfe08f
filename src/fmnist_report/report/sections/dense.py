"""Section 2, the dense baseline: its layers, accuracy, weakest classes and most frequent confusions."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypedDict

import numpy as np

from fmnist_report.report.formatting import join_words, num, pct
from fmnist_report.report.sections.types import PlacedFigure
from fmnist_report.report.sections.values import Rows, confusion, required
from fmnist_report.study.summary_types import Layer, SeedStats, Summary


class Confused(TypedDict):
    """Two classes confused with each other: the dominant direction first (A taken for B)."""

    a: str
    b: str
    a_as_b: int
    b_as_a: int
    #: Both directions together, and their share of the two classes' test images.
    count: int
    share: float


class ClassAccuracy(TypedDict):
    """A class and a model's accuracy on it."""

    name: str
    accuracy: float


class DenseValues(TypedDict):
    """Section 2's values."""

    label: str
    layers: list[Layer]
    params: int
    flops: int
    n_seeds: int
    accuracy: SeedStats
    loss: SeedStats
    per_class: list[ClassAccuracy]
    #: The weakest classes, weakest first, and the most confused pairs, most frequent first.
    weakest: list[ClassAccuracy]
    confused: list[Confused]
    limitations: list[str]
    figures: list[PlacedFigure]


def most_confused(confusion: np.ndarray, class_names: Sequence[str], top: int = 3) -> list[Confused]:
    """The class pairs confused most often, both directions summed (rows: true class)."""
    c = np.asarray(confusion)
    support = c.sum(axis=1)
    pairs: list[Confused] = []
    for i in range(len(c)):
        for j in range(i + 1, len(c)):
            count = int(c[i, j] + c[j, i])
            if count == 0:
                continue
            forward, backward = int(c[i, j]), int(c[j, i])
            # Name the dominant direction first: "Shirt taken for T-shirt/top".
            a, b = (i, j) if forward >= backward else (j, i)
            pairs.append(
                {
                    "a": class_names[a],
                    "b": class_names[b],
                    "a_as_b": int(c[a, b]),
                    "b_as_a": int(c[b, a]),
                    "count": count,
                    "share": count / max(int(support[i] + support[j]), 1),
                }
            )
    pairs.sort(key=lambda p: (-p["count"], p["a"], p["b"]))
    return pairs[:top]


def weakest_classes(
    accuracy: Sequence[float], class_names: Sequence[str], top: int = 3
) -> list[ClassAccuracy]:
    """The classes with the lowest accuracy, weakest first."""
    order = sorted(range(len(accuracy)), key=lambda i: (accuracy[i], i))
    return [{"name": class_names[i], "accuracy": float(accuracy[i])} for i in order[:top]]


def limitations_text(
    label: str, overall: float, weakest: Sequence[ClassAccuracy], pairs: Sequence[Confused]
) -> list[str]:
    """The baseline's weaknesses as the results show them: weakest classes, most confused pairs."""
    out = []
    if weakest:
        names = join_words([f"{w['name']} ({pct(w['accuracy'])})" for w in weakest])
        out.append(f"The {label} model's weakest classes are {names}, against {pct(overall)} overall.")
    if pairs:
        items = [
            f"{p['a']} taken for {p['b']} {num(p['a_as_b'])} times and the reverse {num(p['b_as_a'])} times"
            for p in pairs
        ]
        out.append(f"Its most frequent confusions (test predictions, all seeds summed): {'; '.join(items)}.")
    else:
        out.append("It made no confusions between classes on the test images.")
    out.append(
        "A dense layer treats the 784 pixels as an unordered vector: nothing in the architecture "
        "tells it that neighbouring pixels belong together, so every spatial pattern has to be "
        "learned separately at every position."
    )
    return out


def build(summary: Summary, rows: Rows, figures: list[PlacedFigure]) -> DenseValues:
    """Section 2's values, from the baseline's summary row and its summed confusion matrices."""
    dense = required(summary.roles.dense, "the dense baseline")
    row = rows[dense]
    names = list(summary.data.class_names)
    pairs = most_confused(confusion(row), names)
    weakest = weakest_classes(row["per_class_accuracy"], names)
    return {
        "label": row["label"],
        "layers": [r.copy() for r in summary.layers[dense]],
        "params": row["params"],
        "flops": row["flops"],
        "n_seeds": len(row["seeds"]),
        "accuracy": row["test_accuracy"],
        "loss": row["test_loss"],
        "per_class": [
            {"name": n, "accuracy": a} for n, a in zip(names, row["per_class_accuracy"], strict=True)
        ],
        "weakest": weakest,
        "confused": pairs,
        "limitations": limitations_text(row["label"], row["test_accuracy"]["mean"], weakest, pairs),
        "figures": figures,
    }
