"""Any family of comparisons laid out from the Summary alone: models, paired comparisons, power, cost, classes.

"Your variants" is this section for the ``variants`` family; the kernel study builds its
comparison rows with :func:`comparison_row` too, so every comparison reads the same way.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TypedDict

from fmnist_report.report import wording
from fmnist_report.report.formatting import join_words, points, ratio
from fmnist_report.report.sections.types import PlacedFigure
from fmnist_report.report.sections.values import HalfStats, Rows, with_half
from fmnist_report.study.summary_types import Comparison, ModelRow, Summary
from fmnist_report.variants import PlainValue


class ComparisonRow(TypedDict):
    """One comparison as a table row (`comparison_row`)."""

    #: Its key in :attr:`Summary.comparisons`, ``"a__vs__b"``.
    key: str
    a: str
    b: str
    label_a: str
    label_b: str
    #: The per-seed differences ``b - a``, with the half-width the report prints after ±.
    diff: HalfStats
    #: ``paired t`` or ``McNemar``: the test the verdict rests on, and its p.
    test: str
    p_value: float
    worst_p: float
    p_adjusted: float
    mcnemar_significant: int | None
    significant: bool
    #: The verdict and the power sentence in words (`wording`).
    text: str
    power_text: str
    #: The difference the comparison could have found, and the seeds that would find the observed
    #: one; None where it found a difference.
    detectable: float | None
    seeds_needed: int | None


class ClassChanges(TypedDict):
    """The change in each class's accuracy between two models, and the largest moves in words."""

    diffs: list[float]
    text: str


class FamilyModel(ModelRow):
    """A model of the family: its summary row, what it changes in words, and its near-chance note."""

    changes: str
    chance_note: str


class FamilyComparison(ComparisonRow):
    """A comparison of the family: its row, the cost of B against A, and the per-class changes."""

    cost_text: str
    per_class: ClassChanges


class ClassCells(TypedDict):
    """One class of the per-class table: its name and one value per column."""

    name: str
    cells: list[float]


class FamilyValues(TypedDict):
    """The generic comparison section's values for one family."""

    family: str
    models: list[FamilyModel]
    comparisons: list[FamilyComparison]
    #: Each class's change in accuracy, one cell per comparison.
    per_class: list[ClassCells]
    n_seeds: int
    power_notes: list[str]
    #: What the family covers, as Appendix A names it.
    covers: str
    figures: list[PlacedFigure]


def comparison_row(comp: Comparison) -> ComparisonRow:
    """One comparison as a table row: difference, the verdict's p and test, Holm's p, verdict, power."""
    power = comp.get("power")
    return {
        "key": f"{comp['a']}__vs__{comp['b']}",
        "a": comp["a"],
        "b": comp["b"],
        "label_a": comp["label_a"],
        "label_b": comp["label_b"],
        "diff": with_half(comp["diff"]),
        "test": "paired t" if comp.get("test") == "t" else "McNemar",
        "p_value": comp.get("p_value", comp["worst_p"]),
        "worst_p": comp["worst_p"],
        "p_adjusted": comp["p_adjusted"],
        "mcnemar_significant": comp.get("mcnemar_significant"),
        "significant": comp["significant"],
        "text": wording.significance_text(comp),
        "power_text": wording.power_text(comp),
        "detectable": power["detectable"] if power else None,
        "seeds_needed": power["seeds"] if power else None,
    }


def power_notes(rows: Sequence[ComparisonRow]) -> list[str]:
    """The power sentences of comparison rows, each named by its comparison; a sentence that every
    row shares (one seed: no spread to estimate) is said once."""
    texts = [r["power_text"] for r in rows if r["power_text"]]
    if len(texts) > 1 and len(set(texts)) == 1:
        return texts[:1]
    return [f"{r['label_b']} vs {r['label_a']}: {r['power_text']}" for r in rows if r["power_text"]]


def describe(overrides: Mapping[str, PlainValue | tuple[int, ...]]) -> str:
    """What a variant changes, as the table shows it: ``dropout 0.3, batch_norm true``."""

    def word(v: PlainValue | tuple[int, ...]) -> str:
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, list | tuple):
            return "[" + ", ".join(map(str, v)) + "]"
        return f"{v:g}" if isinstance(v, float) else str(v)

    return ", ".join(f"{k} {word(v)}" for k, v in overrides.items())


def cost_text(base: ModelRow, other: ModelRow) -> str:
    """Parameters, FLOPs, training time and latency of a model against its base, as ratios."""
    time_base, time_other = base["train_seconds"]["mean"], other["train_seconds"]["mean"]
    lat_base, lat_other = base["latency_ms_batched"]["mean"], other["latency_ms_batched"]["mean"]
    return (
        f"Against {base['label']}, {other['label']} has {ratio(other['params'] / base['params'])} the "
        f"parameters, {ratio(other['flops'] / base['flops'])} the FLOPs per image, "
        f"{ratio(time_other / time_base)} the training time and {ratio(lat_other / lat_base)} the batched "
        "latency."
    )


def class_changes(names: Sequence[str], base: ModelRow, other: ModelRow, shown: int = 2) -> ClassChanges:
    """The change in each class's accuracy (``other`` minus ``base``) and the largest moves in words.

    Where either model is near chance its per-class moves are no finding, and the text says so instead.
    """
    diffs = [b - a for a, b in zip(base["per_class_accuracy"], other["per_class_accuracy"], strict=True)]
    caveat = wording.near_chance_changes(base, other)
    if caveat:
        return {"diffs": diffs, "text": caveat}
    order = sorted(range(len(diffs)), key=lambda i: diffs[i])
    gains = [
        f"{names[i]} ({'+' if diffs[i] > 0 else ''}{points(diffs[i])} pp)"
        for i in reversed(order)
        if diffs[i] > 0
    ]
    losses = [f"{names[i]} ({points(diffs[i])} pp)" for i in order if diffs[i] < 0]
    parts = []
    if gains:
        parts.append(f"gains most on {join_words(gains[:shown])}")
    if losses:
        parts.append(f"loses most on {join_words(losses[:shown])}")
    text = (
        f"Per class, {other['label']} " + " and ".join(parts) + "."
        if parts
        else (f"Per class, {other['label']} matches {base['label']} exactly.")
    )
    return {"diffs": diffs, "text": text}


def build(
    summary: Summary, rows: Rows, family: str, names: Sequence[str], figures: list[PlacedFigure]
) -> FamilyValues | None:
    """A family's values for the generic section, or None where it made no comparison.

    Args:
        rows: the model rows (`values.model_rows`); ``names`` the class names.
    """
    comps = [c for c in summary.comparisons.values() if c["family"] == family]
    if not comps:
        return None
    ids = list(dict.fromkeys(m for c in comps for m in (c["a"], c["b"])))
    models: list[FamilyModel] = [
        {
            **rows[m],
            "changes": describe(rows[m].get("overrides", {})) or "the study's own model",
            "chance_note": wording.near_chance_note(rows[m]),
        }
        for m in ids
    ]
    compared: list[FamilyComparison] = []
    for comp in comps:
        base, other = rows[comp["a"]], rows[comp["b"]]
        compared.append(
            {
                **comparison_row(comp),
                "cost_text": cost_text(base, other),
                "per_class": class_changes(names, base, other),
            }
        )
    seeds = max(len(m["seeds"]) for m in models)
    return {
        "family": family,
        "models": models,
        "comparisons": compared,
        "per_class": [
            {"name": n, "cells": [c["per_class"]["diffs"][i] for c in compared]} for i, n in enumerate(names)
        ],
        "n_seeds": seeds,
        "power_notes": power_notes(compared),
        "covers": wording.FAMILY_WORDS.get(family, family),
        "figures": figures,
    }
