"""Section 5's filter figures: the learned first-layer kernels and the probe CNN's feature maps."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib
import numpy as np
from matplotlib.figure import Figure

from fmnist_report.report.figures.axes import bare
from fmnist_report.report.figures.spec import FigureSpec, pictures
from fmnist_report.report.figures.style import WIDTH, styled
from fmnist_report.report.formatting import num, pct
from fmnist_report.study.summary_types import FILTERS, Summary

SECTION = "interpretation"
ACTIVATION_CMAP = "magma"
WEIGHT_CMAP = "RdBu_r"
#: The layers whose feature maps the figure shows.
MAP_LAYERS = ("conv1", "conv2")


@styled
def plot_filters(kernels: dict[int, np.ndarray]) -> Figure:
    """Each kernel size's first-layer kernels as a grid, on a diverging scale centred at 0 per size.

    The kernels of one size are tiled into a single image with blank one-pixel gutters, so
    the figure costs one image per size rather than one axes per kernel.
    """
    sizes = sorted(kernels)
    fig = Figure(figsize=(WIDTH, 2.5), layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, len(sizes)))
    for ax, k in zip(axes, sizes, strict=True):
        weights = kernels[k]
        n = len(weights)
        cols = 8 if n >= 8 else n
        rows = -(-n // cols)
        mosaic = np.full((rows * (k + 1) - 1, cols * (k + 1) - 1), np.nan)
        for i in range(n):
            r, c = divmod(i, cols)
            mosaic[r * (k + 1) : r * (k + 1) + k, c * (k + 1) : c * (k + 1) + k] = weights[i]
        vmax = float(np.abs(weights).max()) or 1.0
        cmap = matplotlib.colormaps[WEIGHT_CMAP].with_extremes(bad="white")
        image = ax.imshow(mosaic, cmap=cmap, vmin=-vmax, vmax=vmax, interpolation="nearest")
        bare(ax)
        ax.set_title(f"{k}x{k} kernels ({n})", fontsize=10)
        bar = fig.colorbar(image, ax=ax, orientation="horizontal", shrink=0.8, aspect=30)
        bar.set_ticks([-vmax, 0.0, vmax], labels=[num(-vmax, 2), "0", num(vmax, 2)])
        bar.set_label("weight", fontsize=8)
        bar.ax.tick_params(labelsize=7)
    return fig


@styled
def plot_feature_maps(
    images: np.ndarray,
    layers: Sequence[tuple[str, np.ndarray, Sequence[int]]],
    row_labels: Sequence[str],
) -> Figure:
    """One row per example image: the input, then the chosen channels of each layer.

    Args:
        layers: ``(name, maps (n, h, w, channels), channels to show)``; a channel keeps one color
            scale down its column, so rows can be compared.
    """
    n = len(images)
    cols = 1 + sum(len(ch) for _, _, ch in layers)
    cell = 0.62
    fig = Figure(figsize=(cols * cell + 1.3, n * cell + 0.55))
    axes = fig.subplots(n, cols, squeeze=False, gridspec_kw={"wspace": 0.05, "hspace": 0.05})
    fig.subplots_adjust(
        left=1.3 / (cols * cell + 1.3), right=1.0, bottom=0.0, top=1 - 0.55 / (n * cell + 0.55)
    )
    for r in range(n):
        axes[r, 0].imshow(images[r], cmap="gray", vmin=0, vmax=255, interpolation="nearest")
        axes[r, 0].set_ylabel(row_labels[r], rotation=0, ha="right", va="center", labelpad=6)
    axes[0, 0].set_title("input", fontsize=8)
    c = 1
    for name, maps, channels in layers:
        for ch in channels:
            vmax = float(maps[..., ch].max()) or 1.0
            for r in range(n):
                axes[r, c].imshow(
                    maps[r, ..., ch], cmap=ACTIVATION_CMAP, vmin=0, vmax=vmax, interpolation="nearest"
                )
            axes[0, c].set_title(f"{name}\n#{ch}", fontsize=8)
            c += 1
    for ax in axes.ravel():
        bare(ax)
    return fig


def spread_channels(order: Sequence[int], mean_activation: Sequence[float], count: int = 4) -> list[int]:
    """``count`` channels at evenly spaced ranks of ``order`` (most active first), skipping silent ones."""
    active = [c for c in order if mean_activation[c] > 0]
    if len(active) <= count:
        return list(active)
    ranks = np.linspace(0, len(active) - 1, count).round().astype(int)
    return [active[r] for r in ranks]


def filter_figures(summary: Summary) -> list[FigureSpec]:
    """The learned kernels of every kernel size, and the feature maps of the inspected CNN."""
    m = summary.analyses.get(FILTERS)
    if m is None:
        return []
    sizes = m["kernel_sizes"]
    norms = "; ".join(
        f"{k}x{k} {num(m['filter_norms'][str(k)]['min'], 2)} to {num(m['filter_norms'][str(k)]['max'], 2)}"
        for k in sizes
    )
    k = m["feature_map_kernel"]
    names = list(summary.data.class_names)
    shown = {
        name: spread_channels(m["channel_order"][name], m["example_mean_activation"][name])
        for name in MAP_LAYERS
    }
    sp = m["sparsity"][str(k)]
    return [
        FigureSpec(
            "filters",
            f"The {m['n_filters'][str(sizes[0])]} learned first-layer kernels of each CNN (first seed), blue "
            f"negative and red positive, one scale per kernel size. L2 norm per kernel: {norms}.",
            lambda: _draw_filters(pictures(summary, FILTERS), sizes),
            SECTION,
        ),
        FigureSpec(
            "feature_maps",
            f"Activations of the CNN {k}x{k} (first seed) for the first test image of each class. Columns: "
            f"{len(shown['conv1'])} of {m['channels']['conv1']} conv1 channels (28x28, each unit sees {k}x{k} "
            f"pixels) and {len(shown['conv2'])} of {m['channels']['conv2']} conv2 channels (14x14), taken at "
            "evenly spaced ranks of mean activation on these images, most active first; each column has its "
            f"own scale, black = 0. Over {m['images']}, {pct(sp['conv1'], 1)} of conv1 and {pct(sp['conv2'], 1)} "
            "of conv2 activations are exactly zero after ReLU.",
            lambda: _draw_feature_maps(
                pictures(summary, FILTERS), shown, [names[c] for c in m["example_classes"]]
            ),
            SECTION,
        ),
    ]


def _draw_filters(a: Mapping[str, Any], sizes: Sequence[int]) -> Figure:
    return plot_filters({k: a[f"kernels_k{k}"] for k in sizes})


def _draw_feature_maps(
    a: Mapping[str, Any], shown: Mapping[str, list[int]], row_labels: Sequence[str]
) -> Figure:
    layers = [(name, a[f"{name}_maps"], shown[name]) for name in MAP_LAYERS]
    return plot_feature_maps(a["example_images"], layers, row_labels)
