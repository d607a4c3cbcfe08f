"""Section 1's figures, data exploration: images per class, samples, mean images, pixel values."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
from matplotlib.figure import Figure

from fmnist_report.report.figures.axes import bare, class_axis
from fmnist_report.report.figures.formats import count_range, pct
from fmnist_report.report.figures.spec import FigureSpec
from fmnist_report.report.figures.style import SPLIT_COLORS, WIDTH, styled

if TYPE_CHECKING:
    from fmnist_report.study.results import StudyResults
    from fmnist_report.study.summary import Summary

SECTION = "eda"


@styled
def plot_class_distribution(
    class_names: Sequence[str], train_counts: Sequence[int], test_counts: Sequence[int]
) -> Figure:
    """Grouped bars of training and test images per class."""
    fig = Figure(figsize=(WIDTH, 3.4), layout="constrained")
    ax = fig.subplots()
    x = np.arange(len(class_names))
    width = 0.4
    train = ax.bar(x - width / 2, train_counts, width, label="training", color=SPLIT_COLORS["train"])
    test = ax.bar(x + width / 2, test_counts, width, label="test", color=SPLIT_COLORS["test"])
    ax.bar_label(train, fontsize=8, padding=1)
    ax.bar_label(test, fontsize=8, padding=1)
    class_axis(ax, class_names)
    ax.set_ylabel("images")
    ax.set_ylim(0, max(*train_counts, *test_counts) * 1.12)
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
    return fig


@styled
def plot_sample_grid(images: np.ndarray, class_names: Sequence[str]) -> Figure:
    """A grid of sample images: one row per class, class names as row labels."""
    rows, cols = images.shape[:2]
    cell = 0.62
    fig = Figure(figsize=(cols * cell + 1.4, rows * cell))
    axes = fig.subplots(rows, cols, squeeze=False, gridspec_kw={"wspace": 0.06, "hspace": 0.06})
    fig.subplots_adjust(left=1.4 / (cols * cell + 1.4), right=1.0, bottom=0.0, top=1.0)
    for r in range(rows):
        for c in range(cols):
            axes[r, c].imshow(images[r, c], cmap="gray", vmin=0, vmax=255, interpolation="nearest")
            bare(axes[r, c])
        axes[r, 0].set_ylabel(class_names[r], rotation=0, ha="right", va="center", labelpad=6)
    return fig


@styled
def plot_mean_images(mean_images: np.ndarray, class_names: Sequence[str]) -> Figure:
    """The mean image of each class on one shared 0-255 gray scale, in two rows of five."""
    n = len(mean_images)
    cols = 5
    rows = -(-n // cols)
    fig = Figure(figsize=(WIDTH, 1.75 * rows + 0.2), layout="constrained")
    axes = fig.subplots(rows, cols, squeeze=False)
    image = None
    for i, ax in enumerate(axes.ravel()):
        ax.set_xticks([])
        ax.set_yticks([])
        if i >= n:
            ax.set_visible(False)
            continue
        image = ax.imshow(mean_images[i], cmap="gray", vmin=0, vmax=255, interpolation="nearest")
        ax.set_title(class_names[i])
    if image is not None:
        bar = fig.colorbar(image, ax=axes.ravel().tolist(), shrink=0.85, pad=0.02)
        bar.set_label("mean pixel value")
    return fig


@styled
def plot_pixel_histogram(histogram: np.ndarray) -> Figure:
    """How many training pixels take each value 0-255, on a log scale."""
    fig = Figure(figsize=(WIDTH, 3.0), layout="constrained")
    ax = fig.subplots()
    counts = np.asarray(histogram, dtype=float)
    ax.stairs(counts, np.arange(len(counts) + 1) - 0.5, fill=True, color=SPLIT_COLORS["train"])
    ax.set_yscale("log")
    # The floor sits just below the smallest count, so the shape shows; headroom for the note.
    positive = counts[counts > 0]
    floor = positive.min() / 2 if positive.size else 0.5
    ax.set_ylim(floor, max(counts.max(), 1.0) * 4)
    ax.set_xlim(-0.5, len(counts) - 0.5)
    if counts.sum() > 0:
        ax.annotate(
            f"value 0: {counts[0] / counts.sum():.1%} of all pixels",
            (0, counts[0]),
            xytext=(18, -4),
            textcoords="offset points",
            va="center",
            fontsize=9,
            arrowprops={"arrowstyle": "-", "color": "0.3", "lw": 0.8},
        )
    ax.set_xticks([0, 32, 64, 96, 128, 160, 192, 224, 255])
    ax.set_xlabel("pixel value (0 = black background, 255 = white)")
    ax.set_ylabel("training pixels (log scale)")
    return fig


# -- from results to figures ---------------------------------------------------------------


def class_names(results: StudyResults) -> list[str]:
    """The class names as the data exploration recorded them, else as the data set has them."""
    if results.eda is not None and "class_names" in results.eda.metrics:
        return list(results.eda.metrics["class_names"])
    return list(results.data.class_names)


def eda_figures(results: StudyResults, summary: Summary) -> list[FigureSpec]:
    """The four data-exploration figures, from the EDA record; each needs its own arrays."""
    if results.eda is None:
        return []
    m, a = results.eda.metrics, results.eda.arrays
    names = class_names(results)
    specs = []
    if "train_counts" in m and "test_counts" in m:
        train, test = m["train_counts"], m["test_counts"]
        specs.append(
            FigureSpec(
                "class_distribution",
                f"Images per class: {count_range(train)} in the training set ({sum(train):,} in all) "
                f"and {count_range(test)} in the test set ({sum(test):,} in all).",
                plot_class_distribution(names, train, test),
                SECTION,
            )
        )
    if "sample_images" in a:
        rows, cols = a["sample_images"].shape[:2]
        specs.append(
            FigureSpec(
                "sample_grid",
                f"The first {cols} training images of each of the {rows} classes, as stored (28x28 pixels, "
                "0 = black).",
                plot_sample_grid(a["sample_images"], names),
                SECTION,
            )
        )
    if "mean_images" in a:
        specs.append(
            FigureSpec(
                "mean_images",
                "The mean training image of each class, on one shared gray scale."
                + _brightness_range(m.get("mean_intensity_per_class"), names),
                plot_mean_images(a["mean_images"], names),
                SECTION,
            )
        )
    if "pixel_histogram" in a:
        hist = np.asarray(a["pixel_histogram"])
        zero = m.get("zero_pixel_fraction", float(hist[0] / hist.sum()))
        specs.append(
            FigureSpec(
                "pixel_histogram",
                f"Distribution of the {int(hist.sum()):,} training pixel values (log scale); "
                f"{pct(zero)} of all pixels are exactly 0, the black background.",
                plot_pixel_histogram(hist),
                SECTION,
            )
        )
    return specs


def _brightness_range(means: Sequence[float] | None, names: Sequence[str]) -> str:
    """The sentence naming the darkest and the brightest class, or nothing without the means."""
    if not means:
        return ""
    lo, hi = int(np.argmin(means)), int(np.argmax(means))
    return (
        f" The mean pixel value of a class ranges from {means[lo]:.0f} ({names[lo]}) "
        f"to {means[hi]:.0f} ({names[hi]}) on the 0-255 scale."
    )
