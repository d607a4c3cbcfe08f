"""Section 5's translation figures: accuracy on shifted images, and each layer's equivariance."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import partial

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import PercentFormatter

from fmnist_report.report.figures.spec import FigureSpec, picture
from fmnist_report.report.figures.style import WIDTH, model_color, styled
from fmnist_report.report.formatting import pct, sig
from fmnist_report.study.summary_types import SHIFT, ShiftAnalysis, Summary

SECTION = "interpretation"
LAYER_COLORS: dict[str, str] = {
    "conv1": "#332288",
    "pool1": "#88CCEE",
    "conv2": "#117733",
    "pool2": "#DDCC77",
}


@styled
def plot_shift_accuracy(
    magnitudes: Sequence[int], curves: Sequence[tuple[str, str, np.ndarray]], directions: Sequence[str]
) -> Figure:
    """Accuracy against shift: mean over directions (line) and the range over directions (band).

    Args:
        curves: ``(label, color, accuracy (directions, magnitudes))`` per model.
    """
    fig = Figure(figsize=(6.4, 3.4), layout="constrained")
    ax = fig.subplots()
    x = np.asarray(magnitudes)
    for label, color, acc in curves:
        ax.plot(x, acc.mean(axis=0), color=color, lw=2, marker="o", ms=4, label=f"{label} (mean)")
        ax.fill_between(x, acc.min(axis=0), acc.max(axis=0), color=color, alpha=0.2, lw=0)
    ax.plot([], [], color="0.6", lw=6, alpha=0.4, label=f"range over {len(directions)} directions")
    ax.set_xticks(x)
    ax.set_xlabel("shift (pixels, in each of " + ", ".join(directions) + ")")
    ax.set_ylabel("test accuracy")
    ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.set_ylim(0, 1)
    ax.grid(color="0.92", linewidth=0.6)
    ax.set_axisbelow(True)
    ax.legend(loc="lower left", frameon=False)
    return fig


@styled
def plot_equivariance(
    magnitudes: Sequence[int],
    panels: Sequence[tuple[str, Mapping[str, Sequence[float | None]]]],
    strides: dict[str, int],
) -> Figure:
    """Grouped bars per layer and shift, one panel per comparison (e.g. against shifted and unshifted maps)."""
    fig = Figure(figsize=(WIDTH, 3.3 * len(panels)), layout="constrained")
    axes = np.atleast_1d(fig.subplots(len(panels), 1, sharex=True))
    x = np.arange(len(magnitudes))
    for ax, (title, errors) in zip(axes, panels, strict=True):
        names = list(errors)
        width = 0.8 / max(len(names), 1)
        top = max([v for vals in errors.values() for v in vals if v is not None] + [0.01])
        for i, name in enumerate(names):
            vals = [np.nan if v is None else v for v in errors[name]]
            bars = ax.bar(
                x + (i - (len(names) - 1) / 2) * width,
                vals,
                width,
                color=LAYER_COLORS.get(name, "0.5"),
                label=f"{name} (stride {strides[name]})",
                edgecolor="0.3",
                linewidth=0.4,
            )
            labels = ["n/a" if np.isnan(v) else sig(v, 2) for v in vals]
            ax.bar_label(bars, labels, fontsize=7, padding=1)
        ax.set_title(title, loc="left")
        ax.set_ylabel("relative error")
        ax.set_ylim(0, top * 1.2)
        ax.grid(axis="y", color="0.92", linewidth=0.6)
        ax.set_axisbelow(True)
    axes[-1].set_xticks(x, [f"{m} px ({'even' if m % 2 == 0 else 'odd'})" for m in magnitudes])
    axes[-1].set_xlabel("input shift")
    axes[0].legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False, title="layer")
    return fig


def shift_figures(summary: Summary) -> list[FigureSpec]:
    """Accuracy under shifts, and the layer-by-layer equivariance check."""
    m = summary.analyses.get(SHIFT)
    if m is None:
        return []
    return [_accuracy_figure(summary, m), _equivariance_figure(m)]


def _accuracy_figure(summary: Summary, m: ShiftAnalysis) -> FigureSpec:
    mags, ids = m["magnitudes"], m["models"]

    def draw() -> Figure:
        accuracy = picture(summary, SHIFT, "accuracy")
        curves = [(m["labels"][mid], model_color(mid), accuracy[i]) for i, mid in enumerate(ids)]
        return plot_shift_accuracy(mags, curves, m["directions"])

    drops = "; ".join(
        f"{m['labels'][mid]} {pct(m['mean_accuracy'][mid][0], 1)} unshifted, "
        f"{pct(m['mean_accuracy'][mid][-1], 1)} at {mags[-1]} px"
        for mid in ids
    )
    return FigureSpec(
        "shift_accuracy",
        f"Test accuracy of the first seed's models on images shifted by 0 to {mags[-1]} pixels in each of "
        f"the directions {', '.join(m['directions'])} (vacated pixels set to 0; {m['images']}); line: mean "
        f"over directions, band: lowest to highest direction. {drops}.",
        draw,
        SECTION,
    )


def _equivariance_figure(m: ShiftAnalysis) -> FigureSpec:
    eq = m["equivariance"]
    strides = {name: eq["geometry"][name]["stride"] for name in eq["layers"]}
    conv1 = [v for v in eq["relative_error"]["conv1"] if v is not None]
    panels = [("a) f(shifted image) against shifted f(image): equivariance", eq["relative_error"])]
    if "relative_change" in eq:
        panels.append(
            ("b) f(shifted image) against f(image), nothing shifted back: sensitivity", eq["relative_change"])
        )
    conv1_text = (
        "conv1's maps match exactly (error 0)"
        if conv1 and max(conv1) == 0
        else f"conv1's largest error is {sig(max(conv1), 1)}"
    )
    sensitivity = (
        ", (b) relative change against the original maps, nothing shifted back" if len(panels) > 1 else ""
    )
    return FigureSpec(
        "equivariance",
        f"Shifting the input, CNN {eq['kernel_size']}x{eq['kernel_size']} (first seed): (a) relative error "
        "between the feature maps of the shifted image and the original maps shifted by the same amount "
        f"(a layer of stride j by the nearest whole number of its own pixels){sensitivity}"
        f"; interior positions only, root mean square over four directions ({eq['images']}). "
        f"{conv1_text}; a layer of stride j follows exactly only shifts that are multiples of j.",
        partial(plot_equivariance, eq["magnitudes"], panels, strides),
        SECTION,
    )
