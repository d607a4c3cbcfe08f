"""Section 5's cost figure: test accuracy against parameters and FLOPs, permuted twins included."""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from typing import Literal, NotRequired, TypedDict

import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import EngFormatter, PercentFormatter

from fmnist_report.report.figures.axes import separate_labels
from fmnist_report.report.figures.spec import FigureSpec
from fmnist_report.report.figures.style import WIDTH, model_color, styled
from fmnist_report.report.formatting import span, times
from fmnist_report.study.summary_types import EFFICIENCY, EfficiencyRow, Summary

SECTION = "interpretation"


class EfficiencyPoint(TypedDict):
    """A model of the cost figure: its name, color, costs and mean accuracy with its interval."""

    label: str
    #: A shorter label for the plot; ``label`` where there is none.
    short: NotRequired[str]
    color: str
    params: int
    flops: int
    accuracy: float
    ci_low: float
    ci_high: float
    #: Trained on permuted pixels: drawn hollow.
    permuted: bool


#: The costs the figure plots accuracy against, one panel each.
COSTS: tuple[Literal["params", "flops"], ...] = ("params", "flops")


@styled
def plot_param_efficiency(points: Sequence[EfficiencyPoint]) -> Figure:
    """Test accuracy against parameters and against FLOPs per image (both log scale).

    Args:
        points: dicts with ``label``, ``color``, ``params``, ``flops``, ``accuracy``, ``ci_low``,
            ``ci_high`` and ``permuted`` (drawn hollow).
    """
    fig = Figure(figsize=(WIDTH, 3.5), layout="constrained")
    ax_p, ax_f = fig.subplots(1, 2, sharey=True)
    labels = []
    for ax, attr in zip((ax_p, ax_f), COSTS, strict=True):
        # Permuted twins first, as larger rings, so a twin at the same spot circles its model's dot.
        ordered = sorted(points, key=lambda p: (not p["permuted"], p[attr]))
        n_twins = sum(p["permuted"] for p in points)
        for i, p in enumerate(ordered):
            yerr = np.array([[p["accuracy"] - p["ci_low"]], [p["ci_high"] - p["accuracy"]]])
            ax.errorbar(
                p[attr],
                p["accuracy"],
                yerr=yerr if p["ci_high"] > p["ci_low"] else None,
                fmt="o",
                ms=11 if p["permuted"] else 6,
                color=p["color"],
                markerfacecolor="none" if p["permuted"] else p["color"],
                markeredgewidth=1.8,
                capsize=3,
            )
            # Twins are labelled below; the others alternate above and below so neighbours do not overprint.
            up = not p["permuted"] and (i - n_twins) % 2 == 0
            label = ax.annotate(
                p.get("short", p["label"]),
                (p[attr], p["accuracy"]),
                xytext=(0, 9 if up else -10),
                textcoords="offset points",
                ha="center",
                va="bottom" if up else "top",
                fontsize=7.5,
                color="0.2",
            )
            labels.append(label)
        ax.set_xscale("log")
        ax.margins(x=0.3, y=0.2)
        ax.xaxis.set_major_formatter(EngFormatter(places=0, sep=""))
        ax.grid(color="0.92", linewidth=0.6)
        ax.set_axisbelow(True)
    ax_p.set_xlabel("trainable parameters (log scale)")
    ax_f.set_xlabel("FLOPs per image (log scale)")
    ax_p.set_ylabel("test accuracy")
    ax_p.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=1))
    ax_f.legend(
        handles=[
            Line2D([], [], marker="o", ls="", color="0.3", label="original pixels"),
            Line2D([], [], marker="o", ls="", color="0.3", markerfacecolor="white", label="permuted pixels"),
        ],
        loc="upper left",
        bbox_to_anchor=(1.0, 1.0),
        frameon=False,
    )
    separate_labels(fig, labels)
    return fig


def _short(label: str) -> str:
    return label.replace(" (permuted pixels)", ", permuted")


def _point(row: EfficiencyRow) -> EfficiencyPoint:
    acc = row["test_accuracy"]
    return {
        "label": row["label"],
        "short": _short(row["label"]),
        "color": model_color(row["model_id"]),
        "params": row["params"],
        "flops": row["flops"],
        "accuracy": acc["mean"],
        "ci_low": acc["ci_low"],
        "ci_high": acc["ci_high"],
        "permuted": row["permuted"],
    }


def efficiency_figures(summary: Summary) -> list[FigureSpec]:
    """Accuracy against parameters and FLOPs for every model, from the efficiency analysis' rows."""
    eff = summary.analyses.get(EFFICIENCY)
    if eff is None or not eff["models"]:
        return []
    rows = eff["models"]
    seeds = max(len(r["seeds"]) for r in rows)
    note = "mean over seeds, bars: 95% t-interval" if seeds > 1 else "one seed, so no interval"
    dense = next((r for r in rows if r["model_id"] == summary.roles.dense), None)
    cnns = [r for r in rows if r["model_id"] in summary.roles.cnns.values()]
    tail = ""
    if dense is not None and cnns:
        p = [r["params"] / dense["params"] for r in cnns]
        f = [r["flops"] / dense["flops"] for r in cnns]
        tail = (
            f" Against Dense, the CNNs need {span(p, partial(times, digits=1))} the parameters and "
            f"{span(f, partial(times, digits=0))} the FLOPs per image."
        )
    return [
        FigureSpec(
            "param_efficiency",
            f"Test accuracy ({note}) against trainable parameters and FLOPs per image; hollow markers are "
            f"the permuted-pixel runs.{tail}",
            partial(plot_param_efficiency, [_point(r) for r in rows]),
            SECTION,
        )
    ]
