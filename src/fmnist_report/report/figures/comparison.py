"""Sections 2 and 3's figures: the Dense baseline's confusions, then Dense against the headline CNN."""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from typing import TYPE_CHECKING

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import PercentFormatter

from fmnist_report.report.figures.curves import (
    Series,
    band_note,
    final_values,
    history,
    plot_training_curves,
    seed_counts,
    seeds_phrase,
)
from fmnist_report.report.figures.spec import FigureSpec
from fmnist_report.report.figures.style import CELL_FONT, WIDTH, model_color, styled
from fmnist_report.report.formatting import pct

if TYPE_CHECKING:
    from fmnist_report.study.summary_types import Summary

DENSE_SECTION = "dense"
CNN_SECTION = "cnn"
#: How to read a confusion matrix, in each caption.
READING = "rows are true classes, columns predicted ones"
#: Every history entry the training curves draw.
CURVE_KEYS = ("loss", "val_loss", "accuracy", "val_accuracy")


@styled
def plot_confusions(panels: Sequence[tuple[str, np.ndarray]], class_names: Sequence[str]) -> Figure:
    """Row-normalised confusion matrices side by side, cells in percent, one shared colorbar.

    Args:
        panels: ``(title, counts)`` pairs; counts have true classes in rows.
    """
    n = len(panels)
    fig = Figure(figsize=(WIDTH if n > 1 else 6.2, 4.4 if n > 1 else 5.4), layout="constrained")
    axes = fig.subplots(1, n, sharey=True, squeeze=False)[0]
    image = None
    for i, (ax, (title, counts)) in enumerate(zip(axes, panels, strict=True)):
        rates = row_normalize(counts)
        image = ax.imshow(rates, cmap="Blues", vmin=0.0, vmax=1.0)
        for (r, c), value in np.ndenumerate(rates):
            percent = round(value * 100)
            if percent == 0:
                continue  # an empty cell reads better than a wall of zeros
            color = "white" if value > 0.55 else "black"
            ax.text(c, r, f"{percent}", ha="center", va="center", fontsize=CELL_FONT, color=color)
        ax.set_title(title)
        ticks = np.arange(len(class_names))
        ax.set_xticks(ticks, class_names, rotation=45, ha="right", rotation_mode="anchor")
        ax.set_yticks(ticks, class_names)
        ax.tick_params(length=0)
        for spine in ax.spines.values():
            spine.set_visible(False)
        ax.set_xlabel("predicted class")
        if i == 0:
            ax.set_ylabel("true class")
    if image is not None:
        bar = fig.colorbar(image, ax=list(axes), shrink=0.8, pad=0.02)
        bar.set_label("share of the true class")
        bar.ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    return fig


def row_normalize(counts: np.ndarray) -> np.ndarray:
    """Each row divided by its sum (rows with no examples stay zero)."""
    counts = np.asarray(counts, dtype=float)
    totals = counts.sum(axis=1, keepdims=True)
    return np.divide(counts, totals, out=np.zeros_like(counts), where=totals > 0)


# -- from the summary to figures ---------------------------------------------------------------


def dense_figures(summary: Summary) -> list[FigureSpec]:
    """Section 2: the Dense baseline's confusion matrix on its own."""
    dense = summary.roles.dense
    if dense is None:
        return []
    names = list(summary.data.class_names)
    counts = _confusion(summary, dense)
    label = summary.row(dense)["label"]
    return [
        FigureSpec(
            "confusion_dense",
            f"Test-set confusion matrix of the {label} baseline ({READING}; "
            f"{_confusion_note(seed_counts(summary, [dense]))} each cell is a percentage of its row). "
            f"The largest confusion: {_worst_confusion(counts, names)}.",
            partial(plot_confusions, [(label, counts)], names),
            DENSE_SECTION,
        )
    ]


def cnn_figures(summary: Summary) -> list[FigureSpec]:
    """Section 3: training curves of Dense and the headline CNN, then their confusions side by side."""
    roles = summary.roles
    ids = [mid for mid in (roles.dense, roles.headline) if mid is not None]
    if not ids:
        return []
    labels = {mid: summary.row(mid)["label"] for mid in ids}
    series = {
        key: [Series(labels[mid], model_color(mid), history(summary, mid, key)) for mid in ids]
        for key in CURVE_KEYS
    }
    specs = [
        FigureSpec(
            "training_curves",
            f"Loss and accuracy per epoch on the training (solid) and validation (dashed) images; "
            f"{band_note(seed_counts(summary, ids))}. Final validation accuracy: "
            f"{final_values(series['val_accuracy'])}.",
            partial(plot_training_curves, series),
            CNN_SECTION,
        )
    ]
    if len(ids) < 2:
        return specs
    dense, cnn = ids
    names = list(summary.data.class_names)
    counts = {mid: _confusion(summary, mid) for mid in ids}
    worst = "; ".join(f"{labels[mid]}: {_worst_confusion(counts[mid], names)}" for mid in ids)
    specs.append(
        FigureSpec(
            "confusion_dense_cnn",
            f"Test-set confusion matrices of {labels[dense]} and {labels[cnn]} "
            f"({READING}; {_confusion_note(seed_counts(summary, ids))} each cell is a percentage "
            f"of its row). The largest confusion, {worst}.",
            partial(plot_confusions, [(labels[mid], counts[mid]) for mid in ids], names),
            CNN_SECTION,
        )
    )
    return specs


def _confusion(summary: Summary, model_id: str) -> np.ndarray:
    """A model's test-set confusion counts, summed over its seeds (the Summary holds the sum)."""
    return np.asarray(summary.row(model_id)["confusion"])


def _worst_confusion(counts: np.ndarray, names: Sequence[str]) -> str:
    rates = row_normalize(counts)
    np.fill_diagonal(rates, -1.0)
    r, c = np.unravel_index(int(np.argmax(rates)), rates.shape)
    return f"{pct(rates[r, c], 1)} of {names[int(r)]} images predicted as {names[int(c)]}"


def _confusion_note(counts: Sequence[int]) -> str:
    if max(counts) > 1:
        return f"counts summed over {seeds_phrase(counts)}, then"
    return "one seed;"
