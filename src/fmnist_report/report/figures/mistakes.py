"""Section 5's error figures: the most confident mistakes, and where the CNN looked for the first few."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.figure import Figure

from fmnist_report.report.figures.axes import bare
from fmnist_report.report.figures.spec import FigureSpec, picture
from fmnist_report.report.figures.style import WIDTH, styled
from fmnist_report.report.formatting import pct
from fmnist_report.study.summary_types import MISTAKES, Mistake, Summary

SECTION = "interpretation"
SALIENCY_CMAP = "hot"


@styled
def plot_gallery(images: np.ndarray, titles: Sequence[str], cols: int = 6) -> Figure:
    """A grid of test images, each with a title of several short lines."""
    n = len(images)
    rows = max(1, -(-n // cols))
    fig = Figure(figsize=(WIDTH, rows * 1.95), layout="constrained")
    axes = fig.subplots(rows, cols, squeeze=False)
    for i, ax in enumerate(axes.ravel()):
        bare(ax)
        if i < n:
            ax.imshow(images[i], cmap="gray", vmin=0, vmax=255, interpolation="nearest")
            ax.set_title(titles[i], fontsize=7.5)
    return fig


@styled
def plot_saliency(images: np.ndarray, maps: np.ndarray, titles: Sequence[str]) -> Figure:
    """Each image above its saliency map laid over it (the map scaled to a maximum of 1)."""
    n = len(images)
    fig = Figure(figsize=(max(2.0 * n, 4.0) + 0.8, 4.6), layout="constrained")
    axes = fig.subplots(2, n, squeeze=False)
    image = None
    for i in range(n):
        axes[0, i].imshow(images[i], cmap="gray", vmin=0, vmax=255, interpolation="nearest")
        axes[0, i].set_title(titles[i], fontsize=7.5)
        axes[1, i].imshow(images[i], cmap="gray", vmin=0, vmax=255, interpolation="nearest")
        image = axes[1, i].imshow(
            maps[i], cmap=SALIENCY_CMAP, vmin=0, vmax=1, alpha=0.65, interpolation="nearest"
        )
        for ax in axes[:, i]:
            bare(ax)
    axes[0, 0].set_ylabel("image", fontsize=8)
    axes[1, 0].set_ylabel("saliency", fontsize=8)
    if image is not None:
        bar = fig.colorbar(image, ax=axes[1, :].tolist(), shrink=0.9, pad=0.02)
        bar.set_label("|gradient| / max", fontsize=8)
    return fig


def _title(mistake: Mistake) -> str:
    """Test index, true and predicted class, one a line."""
    return f"#{mistake['index']}\ntrue: {mistake['true_name']}\npred: {mistake['predicted_name']}"


def mistake_figures(summary: Summary) -> list[FigureSpec]:
    """The most confident mistakes, and saliency maps of the first few."""
    m = summary.analyses.get(MISTAKES)
    if m is None or not m["mistakes"]["gallery"]:
        return []
    mk, sal = m["mistakes"], m["saliency"]
    gallery = mk["gallery"]
    specs = [
        FigureSpec(
            "confident_mistakes",
            f"The {len(gallery)} most confident mistakes of the {mk['label']} (seed {mk['seed']}) on the test set, "
            f"with test index, true and predicted class and the predicted probability; {mk['n_confident_errors']} "
            f"of its {mk['n_errors']} errors on {mk['n_test']} images were made with at least "
            f"{pct(mk['confident_threshold'], 0)} confidence.",
            lambda: plot_gallery(
                picture(summary, MISTAKES, "gallery_images"),
                [f"{_title(g)}\n({pct(g['confidence'], 0)} sure)" for g in gallery],
            ),
            SECTION,
        )
    ]
    n = len(sal["indices"])
    if n:
        shares = ", ".join(pct(s, 0) for s in sal["on_object_share"])
        areas = ", ".join(pct(s, 0) for s in sal["object_area"])
        specs.append(
            FigureSpec(
                "saliency",
                f"Saliency of the {n} most confident mistakes: {sal['method']}. Share of the saliency on the "
                f"garment's non-zero pixels: {shares} (those pixels cover {areas} of each image).",
                lambda: plot_saliency(
                    picture(summary, MISTAKES, "gallery_images")[:n],
                    picture(summary, MISTAKES, "saliency"),
                    [_title(g) for g in gallery[:n]],
                ),
                SECTION,
            )
        )
    return specs
