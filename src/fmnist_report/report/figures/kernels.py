"""Section 4's figures, the kernel-size study: validation curves, per-class accuracy, cost against accuracy."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import EngFormatter, PercentFormatter

from fmnist_report.ids import ModelId
from fmnist_report.report.figures.axes import class_axis, separate_labels
from fmnist_report.report.figures.curves import (
    Series,
    band_note,
    final_values,
    history,
    plot_validation_curves,
    seed_counts,
    seeds_phrase,
)
from fmnist_report.report.figures.spec import FigureSpec
from fmnist_report.report.figures.style import WIDTH, model_color, styled
from fmnist_report.report.formatting import compact, pct, times

if TYPE_CHECKING:
    from fmnist_report.study.summary_types import ModelRow, Summary

SECTION = "kernels"


@dataclass(frozen=True)
class TradeoffPoint:
    """One model in the cost/accuracy plot: accuracy with its interval, and what it costs."""

    label: str
    short: str
    color: str
    accuracy: float
    ci_low: float
    ci_high: float
    flops: float
    train_seconds: float
    params: int
    reference: bool = False


@styled
def plot_per_class_accuracy(
    class_names: Sequence[str],
    groups: Sequence[tuple[str, str, np.ndarray, np.ndarray | None]],
) -> Figure:
    """Grouped bars of per-class test accuracy, one bar per model and class.

    Args:
        groups: ``(label, color, mean, std)`` per model; ``std`` None draws no error bars.
    """
    fig = Figure(figsize=(WIDTH, 3.6), layout="constrained")
    ax = fig.subplots()
    x = np.arange(len(class_names))
    width = 0.8 / max(len(groups), 1)
    for i, (label, color, mean, std) in enumerate(groups):
        offset = (i - (len(groups) - 1) / 2) * width
        ax.bar(
            x + offset,
            mean,
            width,
            label=label,
            color=color,
            yerr=std,
            error_kw={"elinewidth": 0.8, "capsize": 1.5, "ecolor": "0.2"},
        )
    class_axis(ax, class_names)
    ax.set_ylabel("test accuracy")
    ax.set_ylim(0, 1.0)
    ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.grid(axis="y", color="0.9", linewidth=0.6)
    ax.set_axisbelow(True)
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
    return fig


@styled
def plot_kernel_tradeoff(points: Sequence[TradeoffPoint]) -> Figure:
    """Test accuracy against FLOPs per image (log scale) and against training time per run."""
    fig = Figure(figsize=(WIDTH, 3.6), layout="constrained")
    ax_flops, ax_time = fig.subplots(1, 2, sharey=True)
    labels = []
    for ax, attr in ((ax_flops, "flops"), (ax_time, "train_seconds")):
        for p in points:
            x = getattr(p, attr)
            yerr = np.array([[p.accuracy - p.ci_low], [p.ci_high - p.accuracy]])
            has_err = p.ci_high > p.ci_low
            ax.errorbar(
                x,
                p.accuracy,
                yerr=yerr if has_err else None,
                fmt="s" if p.reference else "o",
                markersize=7,
                color=p.color,
                markeredgecolor="black" if p.reference else p.color,
                capsize=3,
                elinewidth=1,
            )
            label = ax.annotate(
                f"{p.short}\n{compact(p.params)} params",
                (x, p.accuracy),
                xytext=(7, 0),
                textcoords="offset points",
                ha="left",
                va="center",
                fontsize=8,
                color="0.15",
            )
            labels.append(label)
        ax.margins(x=0.25, y=0.3)
        ax.grid(color="0.92", linewidth=0.6)
        ax.set_axisbelow(True)
    ax_flops.set_xscale("log")
    ax_flops.xaxis.set_major_formatter(EngFormatter(places=0, sep=""))
    ax_flops.set_xlabel("FLOPs per image (log scale)")
    ax_time.set_xlabel("training time per run (s)")
    ax_flops.set_ylabel("test accuracy")
    ax_flops.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=1))
    separate_labels(fig, labels)
    return fig


# -- from the summary to figures ---------------------------------------------------------------


def kernel_figures(summary: Summary) -> list[FigureSpec]:
    """Validation curves per kernel size, then per-class accuracy and cost with Dense as the reference."""
    arms = summary.roles.kernel_arms
    if not arms:
        return []
    ids = [mid for mid in (summary.roles.dense, *arms) if mid is not None]
    return [
        _curves_figure(summary, arms),
        _per_class_figure(summary, ids),
        _tradeoff_figure(summary, ids),
    ]


def _curves_figure(summary: Summary, arms: Sequence[str]) -> FigureSpec:
    series = [
        Series(summary.row(mid)["label"], model_color(mid), history(summary, mid, "val_accuracy"))
        for mid in arms
    ]
    return FigureSpec(
        "training_curves_kernels",
        f"Validation accuracy per epoch for each kernel size; {band_note(seed_counts(summary, arms))}. "
        f"After the last epoch: {final_values(series)}.",
        partial(plot_validation_curves, series),
        SECTION,
    )


def _per_class_figure(summary: Summary, ids: Sequence[str]) -> FigureSpec:
    names = list(summary.data.class_names)
    groups = []
    for mid in ids:
        row = summary.row(mid)
        mean = np.asarray(row["per_class_accuracy"])
        per_seed = np.array(row["per_seed"]["per_class_accuracy"], dtype=float)
        std = per_seed.std(axis=0, ddof=1) if len(per_seed) > 1 else None  # the spread stats.summarize uses
        groups.append((row["label"], model_color(mid), mean, std))
    seeds = seed_counts(summary, ids)
    if max(seeds) > 1:
        note = f"mean over {seeds_phrase(seeds)}, error bars one standard deviation across seeds"
    else:
        note = "one seed, so no error bars"
    overall = np.mean([g[2] for g in groups], axis=0)
    hard = int(np.argmin(overall))
    easy = int(np.argmax(overall))
    hardest = ", ".join(f"{g[0]} {pct(g[2][hard], 1)}" for g in groups)
    return FigureSpec(
        "per_class_accuracy",
        f"Test accuracy per class; {note}. The hardest class is {names[hard]} ({hardest}), "
        f"the easiest {names[easy]}.",
        partial(plot_per_class_accuracy, names, groups),
        SECTION,
    )


def _tradeoff_point(mid: str, row: ModelRow, reference: bool) -> TradeoffPoint:
    acc = row["test_accuracy"]
    ks = ModelId.parse(mid).kernel_size
    return TradeoffPoint(
        label=row["label"],
        short=f"{ks}x{ks}" if ks else row["label"],
        color=model_color(mid),
        accuracy=acc["mean"],
        ci_low=acc["ci_low"],
        ci_high=acc["ci_high"],
        flops=float(row["flops"]),
        train_seconds=row["train_seconds"]["mean"],
        params=int(row["params"]),
        reference=reference,
    )


def _tradeoff_figure(summary: Summary, ids: Sequence[str]) -> FigureSpec:
    dense, arms = summary.roles.dense, summary.roles.kernel_arms
    rows = {mid: summary.row(mid) for mid in ids}
    points = [_tradeoff_point(mid, row, reference=mid == dense) for mid, row in rows.items()]
    seeds = seed_counts(summary, ids)
    if all(r["test_accuracy"]["has_ci"] for r in rows.values()):
        note = f"Test accuracy (mean over {seeds_phrase(seeds)}, bars: 95% t-interval)"
    elif max(seeds) > 1:
        note = f"Test accuracy (mean over {seeds_phrase(seeds)}; no interval where a model has one seed)"
    else:
        note = "Test accuracy (one seed, so no interval)"
    cheapest = min((rows[mid] for mid in arms), key=lambda r: r["flops"])
    dearest = max((rows[mid] for mid in arms), key=lambda r: r["flops"])
    cost = ""
    if len(arms) > 1:
        cost = (
            f" {dearest['label']} needs {times(dearest['flops'] / cheapest['flops'], 1)} the FLOPs and "
            f"{times(dearest['train_seconds']['mean'] / cheapest['train_seconds']['mean'], 1)} the training time "
            f"of {cheapest['label']}."
        )
    ref = "; the square marks the Dense reference" if dense in rows else ""
    time = "mean training time" if max(seeds) > 1 else "training time"
    return FigureSpec(
        "kernel_tradeoff",
        f"{note} against FLOPs per image and {time} per run; labels give the kernel size and "
        f"parameter count{ref}.{cost}",
        partial(plot_kernel_tradeoff, points),
        SECTION,
    )
