"""Section 5's calibration figure: reliability diagrams of Dense and the headline CNN."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import PercentFormatter

from fmnist_report.report.figures.spec import FigureSpec, pictures
from fmnist_report.report.figures.style import WIDTH, model_color, styled
from fmnist_report.report.formatting import num
from fmnist_report.study.summary_types import CALIBRATION, Summary

SECTION = "interpretation"


@styled
def plot_reliability(panels: Sequence[tuple[str, str, np.ndarray, str]]) -> Figure:
    """Reliability diagrams: accuracy per confidence bin against the diagonal, counts below.

    Args:
        panels: ``(label, color, bins (n_bins, 3) of accuracy, confidence, count, legend text)``.
    """
    n = len(panels)
    fig = Figure(figsize=(WIDTH if n > 1 else 4.5, 4.6), layout="constrained")
    axes = fig.subplots(2, n, squeeze=False, sharex=True, gridspec_kw={"height_ratios": [3, 1]})
    for i, (label, color, bins, legend) in enumerate(panels):
        ax, ax_n = axes[0, i], axes[1, i]
        n_bins = len(bins)
        edges = np.linspace(0, 1, n_bins + 1)
        centers = (edges[:-1] + edges[1:]) / 2
        filled = bins[:, 2] > 0
        ax.plot([0, 1], [0, 1], color="0.5", ls="--", lw=1, label="perfect calibration")
        ax.bar(
            centers[filled],
            bins[filled, 0],
            width=1 / n_bins,
            color=color,
            edgecolor="white",
            linewidth=0.5,
            label=legend,
        )
        ax.bar(
            centers[filled],
            bins[filled, 1] - bins[filled, 0],
            bottom=bins[filled, 0],
            width=1 / n_bins,
            facecolor="none",
            edgecolor="#C0392B",
            hatch="///",
            linewidth=0.6,
            label="gap to mean confidence",
        )
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
        ax.set_title(label)
        ax.xaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
        ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
        ax.legend(loc="upper left", frameon=False, fontsize=8)
        ax_n.bar(centers, bins[:, 2], width=1 / n_bins, color="0.6", edgecolor="white", linewidth=0.5)
        ax_n.set_yscale("log")
        ax_n.set_ylim(bottom=0.8)
        ax_n.set_xlabel("confidence (top-class probability)")
        if i == 0:
            ax.set_ylabel("accuracy in bin")
            ax_n.set_ylabel("images")
    return fig


def pooled_bins(bins: np.ndarray) -> np.ndarray:
    """Reliability bins of several seeds (seeds, n_bins, 3) pooled: count-weighted means, summed counts."""
    count = bins[..., 2].sum(axis=0)
    safe = np.maximum(count, 1)
    acc = (bins[..., 0] * bins[..., 2]).sum(axis=0) / safe
    conf = (bins[..., 1] * bins[..., 2]).sum(axis=0) / safe
    return np.stack([acc, conf, count], axis=1)


def calibration_figures(summary: Summary) -> list[FigureSpec]:
    """Reliability diagrams of Dense and the headline CNN (else the first two models), ECE in the legend."""
    m = summary.analyses.get(CALIBRATION)
    if m is None:
        return []
    roles = summary.roles
    ids = [mid for mid in (roles.dense, roles.headline) if mid is not None and mid in m["models"]]
    ids = ids or m["models"][:2]
    legends: dict[str, str] = {}
    parts = []
    for mid in ids:
        e = m["ece"][mid]
        seeds = len(e["per_seed"])
        legends[mid] = f"ECE {num(e['summary']['mean'], 3)}" + (
            f" (mean of {seeds} seeds)" if seeds > 1 else ""
        )
        parts.append(f"{m['labels'][mid]} {legends[mid]}")

    def draw() -> Figure:
        arrays = pictures(summary, CALIBRATION)
        return plot_reliability(
            [
                (m["labels"][mid], model_color(mid), pooled_bins(arrays[f"reliability_{mid}"]), legends[mid])
                for mid in ids
            ]
        )

    seeds = max(len(m["ece"][mid]["per_seed"]) for mid in ids)
    pooled = f"bins pooled over {seeds} seeds" if seeds > 1 else "one seed"
    return [
        FigureSpec(
            "reliability",
            f"Reliability diagrams ({m['binning']}, {pooled}): solid bars show the accuracy in each bin, hatched "
            "bars the gap up (overconfident) or down (underconfident) to the bin's mean confidence, the dashed "
            "line perfect calibration; below, images per bin (log scale). " + "; ".join(parts) + ".",
            draw,
            SECTION,
        )
    ]
