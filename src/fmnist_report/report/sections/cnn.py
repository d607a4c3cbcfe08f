"""Section 3, the CNN against the baseline: design, costs, per-class shifts and the paired comparison."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal, TypedDict

import numpy as np

from fmnist_report import models
from fmnist_report.ids import ModelId
from fmnist_report.report import content, wording
from fmnist_report.report.formatting import num, pp, ratio
from fmnist_report.report.sections.types import PlacedFigure
from fmnist_report.report.sections.values import HalfStats, Rows, required, with_half
from fmnist_report.study.summary_types import Layer, McNemarTest, ModelRow, SeedStats, Summary

#: The keys of a model row the side-by-side table compares.
Key = Literal[
    "test_accuracy",
    "test_loss",
    "params",
    "flops",
    "train_seconds",
    "latency_ms_batched",
    "latency_ms_single",
]
#: The rows of the side-by-side table: summary key, name, format kind.
COMPARED: tuple[tuple[Key, str, str], ...] = (
    ("test_accuracy", "Test accuracy", "pct"),
    ("test_loss", "Test loss (cross-entropy)", "num"),
    ("params", "Parameters", "int"),
    ("flops", "FLOPs per image", "int"),
    ("train_seconds", "Training time", "s"),
    ("latency_ms_batched", "Latency per image, batches of 1,000", "ms"),
    ("latency_ms_single", "Latency, one image per call", "ms"),
)


class Compared(TypedDict):
    """A row of the side-by-side table: the summary key, its name, its format and both models' values."""

    key: str
    name: str
    kind: str
    dense: SeedStats | int
    cnn: SeedStats | int


class ClassShift(TypedDict):
    """A class: both models' accuracy on it, and the CNN's minus the baseline's."""

    name: str
    dense: float
    cnn: float
    diff: float


class SeedTest(McNemarTest):
    """McNemar's test on one seed, with its seed."""

    seed: int


class CnnValues(TypedDict):
    """Section 3's values."""

    label: str
    dense_label: str
    layers: list[Layer]
    receptive_fields: list[models.ReceptiveField]
    design: list[str]
    compared: list[Compared]
    per_class: list[ClassShift]
    per_class_text: str
    cost_text: str
    significance: str
    power_text: str
    #: From the comparison's power, None where it found a difference or did not run.
    detectable: float | None
    seeds_needed: int | None
    diff: HalfStats | None
    mcnemar: list[SeedTest]
    figures: list[PlacedFigure]


def per_class_shift_text(
    a_label: str,
    b_label: str,
    a_acc: Sequence[float],
    b_acc: Sequence[float],
    class_names: Sequence[str],
    n_test_per_class: Sequence[int],
) -> str:
    """Where model B gains or loses against model A, class by class (descriptive, untested)."""
    diffs = [b - a for a, b in zip(a_acc, b_acc, strict=True)]
    eps = 1e-12
    better = sum(d > eps for d in diffs)
    worse = sum(d < -eps for d in diffs)
    level = len(diffs) - better - worse
    text = (
        f"{b_label} is more accurate than {a_label} on {better} of {len(diffs)} classes, "
        f"less accurate on {worse}" + (f" and level on {level}" if level else "") + "."
    )
    best = int(np.argmax(diffs))
    worst = int(np.argmin(diffs))
    if diffs[best] > eps:
        text += f" The largest gain is on {class_names[best]} ({pp(diffs[best])})"
        text += (
            f", the largest loss on {class_names[worst]} ({pp(diffs[worst])})."
            if diffs[worst] < -eps
            else "."
        )
    elif diffs[worst] < -eps:
        text += f" The largest loss is on {class_names[worst]} ({pp(diffs[worst])})."
    lo, hi = min(n_test_per_class), max(n_test_per_class)
    per = num(lo) if lo == hi else f"{num(lo)} to {num(hi)}"
    text += (
        f" These per-class differences are not tested one by one; with {per} test images per class, "
        "small ones are within noise."
    )
    return text


def cost_text(a_label: str, a: ModelRow, b_label: str, b: ModelRow) -> str:
    """What model B costs against model A: parameters, FLOPs per image, training time."""

    def rel(x: float, y: float, what: str) -> str:
        if y == x:
            return f"the same {what}"
        factor = y / x
        return f"{ratio(factor)} the {what}" if factor >= 1 else f"only {ratio(factor)} the {what}"

    train_a, train_b = a["train_seconds"]["mean"], b["train_seconds"]["mean"]
    return (
        f"{b_label} has {num(b['params'])} parameters against {num(a['params'])} for {a_label} "
        f"({rel(a['params'], b['params'], 'parameters')}), needs {rel(a['flops'], b['flops'], 'FLOPs per image')} "
        f"({num(b['flops'])} against {num(a['flops'])}) and took {rel(train_a, train_b, 'training time')} "
        f"({train_b:.1f} s against {train_a:.1f} s on this machine)."
    )


def build(
    summary: Summary,
    rows: Rows,
    figures: list[PlacedFigure],
    test_counts: Sequence[int],
) -> CnnValues:
    """Section 3's values: the headline CNN beside the baseline, and their paired comparison."""
    roles = summary.roles
    headline = required(roles.headline, "the CNN")
    dense, cnn = rows[required(roles.dense, "the dense baseline")], rows[headline]
    kernel = ModelId.parse(headline).kernel_size or 0  # the headline model is a CNN
    names = list(summary.data.class_names)
    comp = summary.comparison(roles.dense, roles.headline)
    power = comp["power"] if comp else None
    return {
        "label": cnn["label"],
        "dense_label": dense["label"],
        "layers": [r.copy() for r in summary.layers[headline]],
        "receptive_fields": models.receptive_fields(kernel),
        "design": content.design_choices(),
        "compared": [
            {"key": key, "name": name, "kind": kind, "dense": dense[key], "cnn": cnn[key]}
            for key, name, kind in COMPARED
        ],
        "per_class": [
            {"name": n, "dense": a, "cnn": b, "diff": b - a}
            for n, a, b in zip(names, dense["per_class_accuracy"], cnn["per_class_accuracy"], strict=True)
        ],
        "per_class_text": per_class_shift_text(
            dense["label"],
            cnn["label"],
            dense["per_class_accuracy"],
            cnn["per_class_accuracy"],
            names,
            test_counts,
        ),
        "cost_text": cost_text(dense["label"], dense, cnn["label"], cnn),
        "significance": wording.significance_text(comp),
        "power_text": wording.power_text(comp),
        "detectable": power["detectable"] if power else None,
        "seeds_needed": power["seeds"] if power else None,
        "diff": with_half(comp["diff"]) if comp else None,
        "mcnemar": [{"seed": s, **t} for s, t in zip(comp["seeds"], comp["mcnemar"], strict=True)]
        if comp
        else [],
        "figures": figures,
    }
