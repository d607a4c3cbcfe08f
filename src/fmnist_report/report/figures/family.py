"""A family's figures from the Summary alone: validation curves with seed bands, and accuracy against cost."""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from typing import TYPE_CHECKING, Literal, TypedDict

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, PercentFormatter

from fmnist_report.ids import ModelId
from fmnist_report.report.figures.curves import Series, band_note, final_values, plot_validation_curves
from fmnist_report.report.figures.spec import FigureSpec
from fmnist_report.report.figures.style import EXTRA_COLORS, MODEL_COLORS, WIDTH, model_color, styled
from fmnist_report.report.formatting import num

if TYPE_CHECKING:
    from fmnist_report.study.summary_types import ModelRow, Summary

#: The family the "Your variants" section shows, and that section's id.
VARIANTS = "variants"


def family_models(summary: Summary, family: str) -> list[str]:
    """The models a family compares, bases first, in the order its comparisons were made."""
    comps = [c for c in summary.comparisons.values() if c["family"] == family]
    return list(dict.fromkeys(m for c in comps for m in (c["a"], c["b"])))


def colors(ids: Sequence[str]) -> dict[str, str]:
    """One color per model of a family, all different: the built-in models keep the report's
    palette, the variants take the extra colors in turn."""
    variants = [m for m in ids if ModelId.parse(m).is_variant]
    out = {m: model_color(m) for m in ids if m not in variants}
    spare = [c for c in (*EXTRA_COLORS, *MODEL_COLORS.values()) if c not in out.values()]
    for i, m in enumerate(variants):
        out[m] = spare[i % len(spare)]
    return {m: out[m] for m in ids}


class CostPoint(TypedDict):
    """A model of the cost figure: its name and marker, its costs, and its mean accuracy with its interval."""

    label: str
    color: str
    marker: str
    params: int
    #: The mean training time of a run.
    seconds: float
    accuracy: float
    ci_low: float
    ci_high: float


#: The costs the figure plots accuracy against, one panel each.
COSTS: tuple[Literal["params", "seconds"], ...] = ("params", "seconds")


@styled
def plot_cost_accuracy(points: Sequence[CostPoint]) -> Figure:
    """Test accuracy (mean, 95% interval) against parameters and against training time, one point a model."""
    fig = Figure(figsize=(WIDTH, 3.4), layout="constrained")
    axes = fig.subplots(1, 2, sharey=True)
    for ax, key, label in zip(
        axes, COSTS, ("trainable parameters", "training time per run (s)"), strict=True
    ):
        for p in points:
            err = np.array([[p["accuracy"] - p["ci_low"]], [p["ci_high"] - p["accuracy"]]])
            ax.errorbar(
                p[key],
                p["accuracy"],
                yerr=err,
                fmt=p["marker"],
                color=p["color"],
                ms=7,
                capsize=3,
                label=p["label"],
            )
        ax.set_xlabel(label)
        ax.grid(color="0.92", linewidth=0.6)
        ax.set_axisbelow(True)
        ax.margins(x=0.25, y=0.15)
    axes[0].xaxis.set_major_formatter(FuncFormatter(lambda v, _: num(v)))
    axes[0].set_ylabel("test accuracy")
    axes[0].yaxis.set_major_formatter(PercentFormatter(1.0, decimals=1))
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside right center", frameon=False)
    return fig


#: Markers in turn, so that points of equal cost stay apart even in gray.
MARKERS = ("o", "s", "D", "^", "v", "P", "X", "*")


def _point(row: ModelRow, color: str, marker: str) -> CostPoint:
    acc = row["test_accuracy"]
    return {
        "label": row["label"],
        "color": color,
        "marker": marker,
        "params": row["params"],
        "seconds": row["train_seconds"]["mean"],
        "accuracy": acc["mean"],
        "ci_low": acc["ci_low"],
        "ci_high": acc["ci_high"],
    }


def family_figures(summary: Summary, family: str = VARIANTS) -> list[FigureSpec]:
    """The family's validation curves and its cost-accuracy plot; none where the family made no comparison."""
    ids = family_models(summary, family)
    if not ids:
        return []
    palette = colors(ids)
    series = [
        Series(summary.row(m)["label"], palette[m], np.array(summary.curves[m]["val_accuracy"], dtype=float))
        for m in ids
        if summary.curves.get(m, {}).get("val_accuracy")
    ]
    counts = [len(summary.row(m)["seeds"]) for m in ids]
    out = []
    if series:
        n = min(s.values.shape[1] for s in series)
        series = [Series(s.label, s.color, s.values[:, :n]) for s in series]
        out.append(
            FigureSpec(
                f"{family}_curves",
                f"Validation accuracy per epoch of each variant and its base ({band_note(counts)}); after the "
                f"last epoch: {final_values(series)}.",
                partial(plot_validation_curves, series),
                family,
            )
        )
    rows = [summary.row(m) for m in ids]
    interval = "bars: 95% t-interval over seeds" if max(counts) > 1 else "one seed, so no interval"
    out.append(
        FigureSpec(
            f"{family}_cost",
            f"Test accuracy ({interval}) against trainable parameters and against training time per run, "
            "for each variant and its base.",
            partial(
                plot_cost_accuracy,
                [_point(r, palette[r["model_id"]], MARKERS[i % len(MARKERS)]) for i, r in enumerate(rows)],
            ),
            family,
        )
    )
    return out
