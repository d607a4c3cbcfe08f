"""Section 4, the kernel-size study: accuracy and cost per kernel size, and what the comparisons allow."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypedDict, cast

from fmnist_report import models
from fmnist_report.ids import ModelId
from fmnist_report.report import wording
from fmnist_report.report.formatting import join_words, mean_ci, num, pct, ratio
from fmnist_report.report.sections.family import ComparisonRow, comparison_row, power_notes
from fmnist_report.report.sections.types import PlacedFigure
from fmnist_report.report.sections.values import Rows
from fmnist_report.study.summary_types import Comparison, ModelRow, SeedStats, Summary

#: Finds the comparison of two models in either order (`Summary.comparison`).
FindComparison = Callable[[str, str], Comparison | None]


class KernelRow(ModelRow):
    """A kernel size's model row, with its kernel size and its last layer's receptive field."""

    kernel_size: int
    receptive_field: int


class KernelCell(TypedDict):
    """One kernel size's accuracy on one class."""

    model_id: str
    accuracy: float


class KernelClass(TypedDict):
    """One class of the per-class table: its name and each kernel size's accuracy on it."""

    name: str
    cells: list[KernelCell]


class BestKernel(TypedDict):
    """The most accurate kernel size (`best_row`), as the summary quotes it."""

    label: str
    kernel_size: int
    accuracy: SeedStats


class KernelsValues(TypedDict):
    """Section 4's values."""

    rows: list[KernelRow]
    labels: list[str]
    per_class: list[KernelClass]
    comparisons: list[ComparisonRow]
    power_notes: list[str]
    chance_notes: list[str]
    #: None where no kernel size ran.
    best: BestKernel | None
    conclusion: list[str]
    tradeoff_text: str
    figures: list[PlacedFigure]


def best_row(rows: Sequence[KernelRow]) -> KernelRow:
    """The most accurate kernel size by mean test accuracy; of tied ones, the smallest kernel."""
    return max(rows, key=lambda r: (r["test_accuracy"]["mean"], -r["kernel_size"]))


def kernel_conclusion(
    rows: Sequence[KernelRow],
    comparison: FindComparison,
    reference: int | None = None,
    section: str | None = None,
) -> list[str]:
    """Which kernel size is best and whether the data can tell, from the pairwise comparisons.

    Args:
        rows: one per kernel size: ``model_id``, ``label``, ``kernel_size``, ``test_accuracy``
            (a per-seed summary dict) and ``flops``.
        comparison: the comparison of two model ids, in either order, or None.
        reference: the kernel size the CNN's own section uses; None where it did not run.
        section: that section's number (`parts.number_of`), which the sentence on ``reference`` cites.
    """
    if not rows:
        return ["No kernel-size runs were made."]
    if len(rows) == 1:
        only = rows[0]
        return [f"Only {only['label']} was trained, so no kernel sizes can be compared."]
    best = best_row(rows)
    others = [r for r in rows if r is not best]
    sig_better: list[str] = []
    not_sig: list[str] = []
    for other in others:
        comp = comparison(best["model_id"], other["model_id"])
        (sig_better if comp is not None and comp["significant"] else not_sig).append(other["label"])
    top = best["test_accuracy"]["mean"]
    tied = [r for r in rows if abs(r["test_accuracy"]["mean"] - top) < 1e-12]
    if len(tied) > 1:
        out = [f"{join_words([r['label'] for r in tied])} share the highest mean test accuracy, {pct(top)}."]
    else:
        out = [f"{best['label']} has the highest mean test accuracy, {mean_ci(best['test_accuracy'])}."]
    if not sig_better:
        out.append(
            f"No other kernel size differs significantly from {best['label']} ({join_words(not_sig)}): "
            "the data do not single out a best kernel size."
        )
    elif not not_sig:
        out.append(f"{best['label']} is significantly more accurate than {join_words(sig_better)}.")
    else:
        out.append(
            f"{best['label']} is significantly more accurate than {join_words(sig_better)}, "
            f"but not distinguishable from {join_words(not_sig)}."
        )
    ref = next((r for r in rows if reference is not None and r["kernel_size"] == reference), None)
    if ref is not None:
        if section is None:
            raise ValueError(
                "the reference kernel's sentence cites its section: give the CNN's section number"
            )
        ref_name = f"{reference}x{reference}"
        if ref is best:
            out.append(f"The {ref_name} kernel used in section {section} is the best-scoring size here.")
        else:
            verdict = (
                "and the gap is significant"
                if ref["label"] in sig_better
                else "but the gap is not significant"
            )
            out.append(
                f"The {ref_name} kernel used in section {section} is not the best-scoring size here, {verdict}."
            )
    cheapest = min(rows, key=lambda r: r["flops"])
    if cheapest is not best and cheapest["label"] in not_sig:
        out.append(
            f"Since {cheapest['label']} is not significantly less accurate and needs the fewest FLOPs "
            f"({num(cheapest['flops'])} per image against {num(best['flops'])}), it is the better trade-off."
        )
    elif cheapest is best:
        out.append(f"{best['label']} is also the cheapest, so accuracy and cost agree.")
    return out


def tradeoff_text(rows: Sequence[KernelRow]) -> str:
    """How cost grows with kernel size, from the smallest to the largest kernel measured."""
    if len(rows) < 2:
        return ""
    ordered = sorted(rows, key=lambda r: r["kernel_size"])
    small, large = ordered[0], ordered[-1]
    t_small, t_large = small["train_seconds"]["mean"], large["train_seconds"]["mean"]
    params_x, flops_x = large["params"] / small["params"], large["flops"] / small["flops"]
    text = (
        f"From {small['label']} to {large['label']} the parameters go from {num(small['params'])} to "
        f"{num(large['params'])} ({ratio(params_x)}), the FLOPs per image from "
        f"{num(small['flops'])} to {num(large['flops'])} ({ratio(flops_x)}) and the "
        f"training time from {t_small:.1f} s to {t_large:.1f} s ({ratio(t_large / t_small)})."
    )
    if params_x < flops_x:
        # True of this architecture: same padding keeps the flattened size, so the dense layer is fixed.
        text += (
            " The parameter count grows less than the FLOPs because most parameters sit in the dense layer "
            "after the convolutions, whose size does not depend on the kernel, while every convolution "
            "weight is applied at every position."
        )
    return text


def build(summary: Summary, rows: Rows, figures: list[PlacedFigure], *, cnn_section: str) -> KernelsValues:
    """Section 4's values: one row per kernel size in the configured order, and every pair compared.

    Args:
        cnn_section: the number of the CNN's own section, which the conclusion cites.
    """
    arms = summary.roles.kernel_arms
    headline = summary.roles.headline
    names = list(summary.data.class_names)
    krows: list[KernelRow] = []
    for mid in arms:
        k = ModelId.parse(mid).kernel_size or 0  # every kernel arm is a CNN
        row = cast(KernelRow, dict(rows[mid]))
        row["kernel_size"] = k
        row["receptive_field"] = models.receptive_fields(k)[-1]["receptive_field"]
        krows.append(row)
    pairs = [
        comparison_row(comp)
        for i, a in enumerate(arms)
        for b in arms[i + 1 :]
        if (comp := summary.comparison(a, b)) is not None
    ]
    best = best_row(krows) if krows else None
    return {
        "rows": krows,
        "labels": [r["label"] for r in krows],
        "per_class": [
            {
                "name": n,
                "cells": [{"model_id": r["model_id"], "accuracy": r["per_class_accuracy"][i]} for r in krows],
            }
            for i, n in enumerate(names)
        ],
        "comparisons": pairs,
        "power_notes": power_notes(pairs),
        "chance_notes": [text + "." for r in krows if (text := wording.near_chance_text(r))],
        "best": {
            "label": best["label"],
            "kernel_size": best["kernel_size"],
            "accuracy": best["test_accuracy"],
        }
        if best
        else None,
        "conclusion": kernel_conclusion(
            krows, summary.comparison, ModelId.parse(headline).kernel_size if headline else None, cnn_section
        ),
        "tradeoff_text": tradeoff_text(krows),
        "figures": figures,
    }
