"""Section 3, the CNN against the baseline: design, costs, per-class shifts and the paired comparison."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from fmnist_report import models
from fmnist_report.ids import ModelId
from fmnist_report.report import content, wording
from fmnist_report.report.formatting import num, pp, ratio
from fmnist_report.report.sections.values import Rows, with_half
from fmnist_report.study.results import StudyResults
from fmnist_report.study.summary import Summary

#: The rows of the side-by-side table: summary key, name, format kind.
COMPARED = (
    ("test_accuracy", "Test accuracy", "pct"),
    ("test_loss", "Test loss (cross-entropy)", "num"),
    ("params", "Parameters", "int"),
    ("flops", "FLOPs per image", "int"),
    ("train_seconds", "Training time", "s"),
    ("latency_ms_batched", "Latency per image, batches of 1,000", "ms"),
    ("latency_ms_single", "Latency, one image per call", "ms"),
)


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


def cost_text(a_label: str, a: Mapping[str, Any], b_label: str, b: Mapping[str, Any]) -> str:
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
    results: StudyResults,
    summary: Summary,
    rows: Rows,
    figures: list[dict[str, str]],
    test_counts: Sequence[int],
) -> dict[str, Any]:
    """Section 3's values: the headline CNN beside the baseline, and their paired comparison."""
    roles = summary.roles
    dense, cnn = rows[roles.dense], rows[roles.headline]
    names = list(results.data.class_names)
    comp = summary.comparison(roles.dense, roles.headline)
    return {
        "label": cnn["label"],
        "dense_label": dense["label"],
        "layers": [dict(r) for r in summary.layers[roles.headline]],
        "receptive_fields": models.receptive_fields(ModelId.parse(roles.headline).kernel_size),
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
        "detectable": (comp.get("power") or {}).get("detectable") if comp else None,
        "seeds_needed": (comp.get("power") or {}).get("seeds") if comp else None,
        "diff": with_half(comp["diff"]) if comp else None,
        "mcnemar": [{"seed": s, **t} for s, t in zip(comp["seeds"], comp["mcnemar"], strict=True)]
        if comp
        else [],
        "figures": figures,
    }
