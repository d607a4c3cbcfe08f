"""Section 1's figures, data exploration: images per class, samples, mean images, pixel values."""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from typing import TYPE_CHECKING

import numpy as np
from matplotlib.figure import Figure

from fmnist_report.report.figures.axes import bare, class_axis
from fmnist_report.report.figures.spec import FigureSpec, picture
from fmnist_report.report.figures.style import SPLIT_COLORS, WIDTH, styled
from fmnist_report.report.formatting import num, pct, span

if TYPE_CHECKING:
    from fmnist_report.study.summary_types import Summary

SECTION = "eda"
#: The key of the exploration's arrays in ``Summary.pictures``.
PICTURES = "eda"


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
            f"value 0: {pct(counts[0] / counts.sum(), 1)} of all pixels",
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


# -- from the summary to figures ---------------------------------------------------------------


def eda_figures(summary: Summary) -> list[FigureSpec]:
    """The four data-exploration figures: captions from the exploration's measurements, drawings
    from its pictures."""
    m = summary.data.eda
    if m is None:
        return []
    names = list(summary.data.class_names)
    specs = []
    train = m.get("train_counts")
    if train is not None and "test_counts" in m:
        test = m["test_counts"]
        specs.append(
            FigureSpec(
                "class_distribution",
                f"Images per class: {_per_class(train)} in the training set ({num(sum(train))} in all) "
                f"and {_per_class(test)} in the test set ({num(sum(test))} in all).",
                partial(plot_class_distribution, names, train, test),
                SECTION,
            )
        )
    # The exploration stores the first few training images of each class: the Summary says how many.
    cols = int(m.get("samples_per_class", 0))
    if cols:
        specs.append(
            FigureSpec(
                "sample_grid",
                f"The first {cols} training images of each of the {len(names)} classes, as stored (28x28 "
                "pixels, 0 = black).",
                lambda: plot_sample_grid(_samples(summary, cols), names),
                SECTION,
            )
        )
    specs.append(
        FigureSpec(
            "mean_images",
            "The mean training image of each class, on one shared gray scale."
            + _brightness_range(m.get("mean_intensity_per_class"), names),
            lambda: plot_mean_images(picture(summary, PICTURES, "mean_images"), names),
            SECTION,
        )
    )
    if "pixel_count" in m and "zero_pixel_fraction" in m:
        # The histogram counts every pixel of every training image.
        pixels = m["pixel_count"]
        specs.append(
            FigureSpec(
                "pixel_histogram",
                f"Distribution of the {num(pixels)} training pixel values (log scale); "
                f"{pct(m['zero_pixel_fraction'], 1)} of all pixels are exactly 0, the black background.",
                lambda: plot_pixel_histogram(np.asarray(picture(summary, PICTURES, "pixel_histogram"))),
                SECTION,
            )
        )
    return specs


def _per_class(counts: Sequence[int]) -> str:
    """``6,000 per class`` or ``19 to 20 per class``."""
    return f"{span(counts, num)} per class"


def _samples(summary: Summary, cols: int) -> np.ndarray:
    """The first ``cols`` stored sample images of each class, (classes, cols, side, side)."""
    images = np.asarray(picture(summary, PICTURES, "sample_images"))
    if images.shape[1] < cols:
        raise ValueError(
            f"the sample grid shows {cols} images per class, the exploration stored {images.shape[1]}"
        )
    return images[:, :cols]


def _brightness_range(means: Sequence[float] | None, names: Sequence[str]) -> str:
    """The sentence naming the darkest and the brightest class, or nothing without the means."""
    if not means:
        return ""
    lo, hi = int(np.argmin(means)), int(np.argmax(means))
    return (
        f" The mean pixel value of a class ranges from {num(means[lo])} ({names[lo]}) "
        f"to {num(means[hi])} ({names[hi]}) on the 0-255 scale."
    )
