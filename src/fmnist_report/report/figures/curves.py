"""Per-epoch curves: each model's seed mean as a line, the spread over seeds as a band."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import MaxNLocator, PercentFormatter

from fmnist_report.report.figures.style import BAND_ALPHA, WIDTH, styled
from fmnist_report.report.formatting import pct, plural, span

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from fmnist_report.study.summary_types import Summary


#: Up to this many epochs, each has its tick and its markers; beyond, a few whole-number ticks.
EVERY_EPOCH_TICKED = 12
#: How far one epoch's training and validation points sit either side of it.
DODGE = 0.08


@dataclass(frozen=True)
class Series:
    """One model's per-seed values of a quantity, ready to plot: ``values`` is (seeds, points)."""

    label: str
    color: str
    values: np.ndarray


@styled
def plot_training_curves(series: dict[str, list[Series]]) -> Figure:
    """Loss and accuracy per epoch: one panel per quantity, solid training and dashed validation.

    Args:
        series: ``{"loss": [...], "val_loss": [...], "accuracy": [...], "val_accuracy": [...]}``,
            each a list of per-model :class:`Series`, in the same model order.
    """
    fig = Figure(figsize=(WIDTH, 3.3), layout="constrained")
    ax_loss, ax_acc = fig.subplots(1, 2)
    for ax, key, title in ((ax_loss, "loss", "Loss"), (ax_acc, "accuracy", "Accuracy")):
        for s in series.get(key, []):
            _band(ax, s, linestyle="-")
        for s in series.get(f"val_{key}", []):
            _band(ax, s, linestyle="--")
        ax.set_title(title)
        _epoch_axis(ax, _epochs(series.get(key, []) + series.get(f"val_{key}", [])))
    ax_loss.set_ylabel("cross-entropy")
    ax_acc.set_ylabel("accuracy")
    ax_acc.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    models = [Line2D([], [], color=s.color, lw=2, label=s.label) for s in series.get("loss", [])]
    styles = [
        Line2D([], [], color="0.3", lw=1.5, ls="-", marker="o", ms=4, label="training"),
        Line2D(
            [],
            [],
            color="0.3",
            lw=1.5,
            ls="--",
            marker="o",
            ms=4,
            markerfacecolor="white",
            label="validation",
        ),
    ]
    fig.legend(handles=models + styles, loc="outside right center", frameon=False)
    return fig


@styled
def plot_validation_curves(series: list[Series], ylabel: str = "validation accuracy") -> Figure:
    """One quantity per epoch for several models, each a mean line with a min-max band."""
    fig = Figure(figsize=(7.0, 3.4), layout="constrained")
    ax = fig.subplots()
    for s in series:
        _band(ax, s, linestyle="-", label=s.label)
    _epoch_axis(ax, _epochs(series))
    ax.set_ylabel(ylabel)
    ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
    return fig


def _band(ax: Axes, s: Series, *, linestyle: str, label: str | None = None) -> None:
    values = np.atleast_2d(np.asarray(s.values, dtype=float))
    epochs = np.arange(1, values.shape[1] + 1, dtype=float)
    if len(epochs) == 1:  # no line to tell training from validation: set them side by side
        epochs += DODGE if linestyle == "--" else -DODGE
    marker = "o" if values.shape[1] <= EVERY_EPOCH_TICKED else None
    ax.plot(
        epochs,
        values.mean(axis=0),
        color=s.color,
        ls=linestyle,
        lw=1.8,
        marker=marker,
        ms=3.5 if len(epochs) > 1 else 6,
        markerfacecolor="white" if linestyle == "--" else s.color,  # validation hollow, as in the legend
        label=label,
    )
    if len(values) > 1 and len(epochs) > 1:
        ax.fill_between(epochs, values.min(axis=0), values.max(axis=0), color=s.color, alpha=BAND_ALPHA, lw=0)
    elif len(values) > 1:  # one epoch: a band has no width, so the spread is a bar with caps
        ax.errorbar(
            epochs,
            values.mean(axis=0),
            yerr=[values.mean(axis=0) - values.min(axis=0), values.max(axis=0) - values.mean(axis=0)],
            fmt="none",
            ecolor=s.color,
            elinewidth=6,
            alpha=0.45,
            capsize=0,
        )


def _epochs(series: Sequence[Series]) -> int:
    return max((np.atleast_2d(np.asarray(s.values)).shape[1] for s in series), default=1)


def _epoch_axis(ax: Axes, epochs: int) -> None:
    ax.set_xlabel("epoch")
    if epochs <= EVERY_EPOCH_TICKED:
        # Whole epochs, with room either side: one epoch alone would otherwise get ticks such as 0.95..1.05.
        ax.set_xticks(range(1, epochs + 1))
        ax.set_xlim(0.5, epochs + 0.5)
    else:
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.grid(color="0.92", linewidth=0.6)
    ax.set_axisbelow(True)


# -- values and words for captions -----------------------------------------------------------


def history(summary: Summary, model_id: str, key: str) -> np.ndarray:
    """A model's per-seed values of one history entry (`Summary.curves`) as (seeds, epochs), cut to the shortest run."""
    rows = summary.curves[model_id][key]
    n = min(len(row) for row in rows)
    return np.array([row[:n] for row in rows], dtype=float)


def seed_counts(summary: Summary, ids: Sequence[str]) -> list[int]:
    """How many seeds each model ran: its lines are means over them, its bands their spread."""
    return [len(summary.row(mid)["seeds"]) for mid in ids]


def seeds_phrase(counts: Sequence[int]) -> str:
    """How many seeds the models drawn ran: ``3 seeds``, ``1 seed`` or ``1 to 3 seeds per model``."""
    if min(counts) == max(counts):
        return plural(counts[0], "seed")
    return f"{span(counts, str)} seeds per model"


def band_note(counts: Sequence[int]) -> str:
    """What the line and the band of a curve show, for the seed counts of the models drawn."""
    if max(counts) > 1:
        return f"mean over {seeds_phrase(counts)}, bands from the lowest to the highest seed"
    return "one seed, so no band of seed-to-seed spread"


def final_values(series: Sequence[Series]) -> str:
    """Each model's seed-mean value after the last epoch: ``Dense 85.1%, CNN 3x3 90.2%``."""
    return ", ".join(f"{s.label} {pct(s.values.mean(axis=0)[-1], 1)}" for s in series)
