"""The interpretation figures: filters, feature maps, shifts, locality, cost, calibration and errors.

Each ``plot_*`` function takes plain values and returns a Figure; :func:`make` picks them out
of ``results.analyses`` (and the permuted-pixel runs) and writes each caption from the numbers.
A figure whose record is absent is left out.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import matplotlib
import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import EngFormatter, PercentFormatter

from fmnist_report.report.figures.spec import FigureSpec
from fmnist_report.report.figures.style import MODEL_COLORS, WIDTH, model_color, styled

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from fmnist_report.study.results import StudyResults
    from fmnist_report.study.summary import Summary

SECTION = "interpretation"
ACTIVATION_CMAP = "magma"
WEIGHT_CMAP = "RdBu_r"
SALIENCY_CMAP = "hot"
LAYER_COLORS: dict[str, str] = {
    "conv1": "#332288",
    "pool1": "#88CCEE",
    "conv2": "#117733",
    "pool2": "#DDCC77",
}


def _bare(ax: Axes) -> None:
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_visible(False)


def _pct(x: float, digits: int = 1) -> str:
    return f"{x * 100:.{digits}f}%"


def _span(values: Sequence[float], digits: int) -> str:
    """``1.8x`` or ``1.8x to 2.1x``."""
    lo, hi = f"{min(values):.{digits}f}x", f"{max(values):.{digits}f}x"
    return lo if lo == hi else f"{lo} to {hi}"


def _short(label: str) -> str:
    return label.replace(" (permuted pixels)", ", permuted")


# -- plots ---------------------------------------------------------------------------------


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
        _bare(ax)
        ax.set_title(f"{k}x{k} kernels ({n})", fontsize=10)
        bar = fig.colorbar(image, ax=ax, orientation="horizontal", shrink=0.8, aspect=30)
        bar.set_ticks([-vmax, 0.0, vmax], labels=[f"{-vmax:.2f}", "0", f"{vmax:.2f}"])
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
        _bare(ax)
    return fig


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
    panels: Sequence[tuple[str, dict[str, Sequence[float | None]]]],
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
            labels = ["n/a" if np.isnan(v) else ("0" if v == 0 else f"{v:.2g}") for v in vals]
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


@styled
def plot_locality(groups: Sequence[tuple[str, float, float, str, str]]) -> Figure:
    """Accuracy on original and on permuted pixels, one pair of bars per model.

    Args:
        groups: ``(label, original accuracy, permuted accuracy, color, permuted color)``.
    """
    fig = Figure(figsize=(5.2, 3.4), layout="constrained")
    ax = fig.subplots()
    width = 0.32
    for i, (_, before, after, color, color_p) in enumerate(groups):
        b1 = ax.bar(i - width / 2, before, width, color=color, edgecolor="0.2", linewidth=0.5)
        b2 = ax.bar(i + width / 2, after, width, color=color_p, edgecolor="0.2", linewidth=0.5, hatch="//")
        ax.bar_label(b1, [_pct(before)], fontsize=8, padding=1)
        ax.bar_label(b2, [f"{_pct(after)}\n({(after - before) * 100:+.1f} pp)"], fontsize=8, padding=1)
    ax.set_xticks(range(len(groups)), [g[0] for g in groups])
    ax.set_xlim(-0.6, len(groups) - 0.4)
    ax.set_ylabel("test accuracy")
    ax.set_ylim(0, 1.12)
    ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.legend(
        handles=[
            Patch(facecolor="0.55", edgecolor="0.2", label="original pixels"),
            Patch(facecolor="0.85", edgecolor="0.2", hatch="//", label="pixels permuted"),
        ],
        loc="upper center",
        ncols=2,
        frameon=False,
    )
    return fig


@styled
def plot_param_efficiency(points: Sequence[dict[str, Any]]) -> Figure:
    """Test accuracy against parameters and against FLOPs per image (both log scale).

    Args:
        points: dicts with ``label``, ``color``, ``params``, ``flops``, ``accuracy``, ``ci_low``,
            ``ci_high`` and ``permuted`` (drawn hollow).
    """
    fig = Figure(figsize=(WIDTH, 3.5), layout="constrained")
    ax_p, ax_f = fig.subplots(1, 2, sharey=True)
    for ax, attr in ((ax_p, "params"), (ax_f, "flops")):
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
            ax.annotate(
                p.get("short", p["label"]),
                (p[attr], p["accuracy"]),
                xytext=(0, 9 if up else -10),
                textcoords="offset points",
                ha="center",
                va="bottom" if up else "top",
                fontsize=7.5,
                color="0.2",
            )
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
    return fig


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


@styled
def plot_gallery(images: np.ndarray, titles: Sequence[str], cols: int = 6) -> Figure:
    """A grid of test images, each with a title of several short lines."""
    n = len(images)
    rows = max(1, -(-n // cols))
    fig = Figure(figsize=(WIDTH, rows * 1.95), layout="constrained")
    axes = fig.subplots(rows, cols, squeeze=False)
    for i, ax in enumerate(axes.ravel()):
        _bare(ax)
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
            _bare(ax)
    axes[0, 0].set_ylabel("image", fontsize=8)
    axes[1, 0].set_ylabel("saliency", fontsize=8)
    if image is not None:
        bar = fig.colorbar(image, ax=axes[1, :].tolist(), shrink=0.9, pad=0.02)
        bar.set_label("|gradient| / max", fontsize=8)
    return fig


# -- from results to figures ---------------------------------------------------------------


def _names(results: StudyResults) -> list[str]:
    return list(results.data.class_names)


def spread_channels(order: Sequence[int], mean_activation: Sequence[float], count: int = 4) -> list[int]:
    """``count`` channels at evenly spaced ranks of ``order`` (most active first), skipping silent ones."""
    active = [c for c in order if mean_activation[c] > 0]
    if len(active) <= count:
        return list(active)
    ranks = np.linspace(0, len(active) - 1, count).round().astype(int)
    return [active[r] for r in ranks]


def filter_figures(results: StudyResults) -> list[FigureSpec]:
    """The learned kernels of every kernel size, and the feature maps of the inspected CNN."""
    rec = results.analyses.get("filters")
    if rec is None:
        return []
    m, a = rec.metrics, rec.arrays
    sizes = m["kernel_sizes"]
    norms = "; ".join(
        f"{k}x{k} {m['filter_norms'][str(k)]['min']:.2f} to {m['filter_norms'][str(k)]['max']:.2f}"
        for k in sizes
    )
    specs = [
        FigureSpec(
            "filters",
            f"The {m['n_filters'][str(sizes[0])]} learned first-layer kernels of each CNN (first seed), blue "
            f"negative and red positive, one scale per kernel size. L2 norm per kernel: {norms}.",
            plot_filters({k: a[f"kernels_k{k}"] for k in sizes}),
            SECTION,
        )
    ]
    k = m["feature_map_kernel"]
    names = _names(results)
    shown = {
        name: spread_channels(m["channel_order"][name], m["example_mean_activation"][name])
        for name in ("conv1", "conv2")
    }
    sp = m["sparsity"][str(k)]
    specs.append(
        FigureSpec(
            "feature_maps",
            f"Activations of the CNN {k}x{k} (first seed) for the first test image of each class. Columns: "
            f"{len(shown['conv1'])} of {m['channels']['conv1']} conv1 channels (28x28, each unit sees {k}x{k} "
            f"pixels) and {len(shown['conv2'])} of {m['channels']['conv2']} conv2 channels (14x14), taken at "
            "evenly spaced ranks of mean activation on these images, most active first; each column has its "
            f"own scale, black = 0. Over {m['images']}, {_pct(sp['conv1'])} of conv1 and {_pct(sp['conv2'])} "
            "of conv2 activations are exactly zero after ReLU.",
            plot_feature_maps(
                a["example_images"],
                [("conv1", a["conv1_maps"], shown["conv1"]), ("conv2", a["conv2_maps"], shown["conv2"])],
                [names[c] for c in m["example_classes"]],
            ),
            SECTION,
        )
    )
    return specs


def shift_figures(results: StudyResults) -> list[FigureSpec]:
    """Accuracy under shifts, and the layer-by-layer equivariance check."""
    rec = results.analyses.get("shift")
    if rec is None:
        return []
    m, a = rec.metrics, rec.arrays
    mags, ids = m["magnitudes"], m["models"]
    curves = [(m["labels"][mid], model_color(mid), a["accuracy"][i]) for i, mid in enumerate(ids)]
    drops = "; ".join(
        f"{m['labels'][mid]} {_pct(m['mean_accuracy'][mid][0])} unshifted, {_pct(m['mean_accuracy'][mid][-1])} "
        f"at {mags[-1]} px"
        for mid in ids
    )
    specs = [
        FigureSpec(
            "shift_accuracy",
            f"Test accuracy of the first seed's models on images shifted by 0 to {mags[-1]} pixels in each of "
            f"the directions {', '.join(m['directions'])} (vacated pixels set to 0; {m['images']}); line: mean "
            f"over directions, band: lowest to highest direction. {drops}.",
            plot_shift_accuracy(mags, curves, m["directions"]),
            SECTION,
        )
    ]
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
        else f"conv1's largest error is {max(conv1):.1g}"
    )
    specs.append(
        FigureSpec(
            "equivariance",
            f"Shifting the input, CNN {eq['kernel_size']}x{eq['kernel_size']} (first seed): (a) relative error "
            "between the feature maps of the shifted image and the original maps shifted by the same amount "
            "(a layer of stride j by the nearest whole number of its own pixels)"
            + (
                ", (b) relative change against the original maps, nothing shifted back"
                if len(panels) > 1
                else ""
            )
            + f"; interior positions only, root mean square over four directions ({eq['images']}). "
            f"{conv1_text}; a layer of stride j follows exactly only shifts that are multiples of j.",
            plot_equivariance(eq["magnitudes"], panels, strides),
            SECTION,
        )
    )
    return specs


def locality_figure(results: StudyResults) -> list[FigureSpec]:
    """Accuracy with and without the pixel permutation, for each model that has a permuted twin."""
    groups, parts = [], []
    for mid in ("dense", "cnn3"):
        twin = f"{mid}-permuted"
        if mid not in results.runs or twin not in results.runs:
            continue
        seed = results.runs[twin][0].metrics["spec"]["seed"]
        orig = next((r for r in results.runs[mid] if r.metrics["spec"]["seed"] == seed), None)
        if orig is None:
            continue
        before, after = orig.metrics["test_accuracy"], results.runs[twin][0].metrics["test_accuracy"]
        label = orig.metrics["label"]
        groups.append((label, before, after, model_color(mid), MODEL_COLORS.get(twin, model_color(twin))))
        parts.append(f"{label} {_pct(before)} to {_pct(after)} ({(after - before) * 100:+.1f} pp)")
    if not groups:
        return []
    return [
        FigureSpec(
            "locality",
            "Test accuracy with the original pixels and with one fixed random permutation of the 784 pixel "
            f"positions applied to training and test images (seed {seed}): " + "; ".join(parts) + ".",
            plot_locality(groups),
            SECTION,
        )
    ]


def efficiency_figure(summary: Summary) -> list[FigureSpec]:
    """Accuracy against parameters and FLOPs for every model."""
    eff = summary.analyses.get("efficiency")
    if eff is None or not eff["models"]:
        return []
    points = []
    for row in eff["models"]:
        acc = row["test_accuracy"]
        points.append(
            {
                "label": row["label"],
                "short": _short(row["label"]),
                "color": MODEL_COLORS.get(row["model_id"], model_color(row["model_id"])),
                "params": row["params"],
                "flops": row["flops"],
                "accuracy": acc["mean"],
                "ci_low": acc["ci_low"],
                "ci_high": acc["ci_high"],
                "permuted": row["permuted"],
            }
        )
    seeds = max(len(r["seeds"]) for r in eff["models"])
    note = "mean over seeds, bars: 95% t-interval" if seeds > 1 else "one seed, so no interval"
    dense = next((r for r in eff["models"] if r["model_id"] == "dense"), None)
    cnns = [r for r in eff["models"] if r["model_id"].startswith("cnn") and not r["permuted"]]
    tail = ""
    if dense is not None and cnns:
        p = [r["params"] / dense["params"] for r in cnns]
        f = [r["flops"] / dense["flops"] for r in cnns]
        tail = f" Against Dense, the CNNs need {_span(p, 1)} the parameters and {_span(f, 0)} the FLOPs per image."
    return [
        FigureSpec(
            "param_efficiency",
            f"Test accuracy ({note}) against trainable parameters and FLOPs per image; hollow markers are "
            f"the permuted-pixel runs.{tail}",
            plot_param_efficiency(points),
            SECTION,
        )
    ]


def pooled_bins(bins: np.ndarray) -> np.ndarray:
    """Reliability bins of several seeds (seeds, n_bins, 3) pooled: count-weighted means, summed counts."""
    count = bins[..., 2].sum(axis=0)
    safe = np.maximum(count, 1)
    acc = (bins[..., 0] * bins[..., 2]).sum(axis=0) / safe
    conf = (bins[..., 1] * bins[..., 2]).sum(axis=0) / safe
    return np.stack([acc, conf, count], axis=1)


def calibration_figure(results: StudyResults) -> list[FigureSpec]:
    """Reliability diagrams of Dense and the inspected CNN, ECE in the legend."""
    rec = results.analyses.get("calibration")
    if rec is None:
        return []
    m = rec.metrics
    ids = [mid for mid in ("dense", "cnn3") if mid in m["models"]] or m["models"][:2]
    panels, parts = [], []
    for mid in ids:
        e = m["ece"][mid]
        seeds = len(e["per_seed"])
        ece_text = f"ECE {e['summary']['mean']:.3f}" + (f" (mean of {seeds} seeds)" if seeds > 1 else "")
        panels.append(
            (m["labels"][mid], model_color(mid), pooled_bins(rec.arrays[f"reliability_{mid}"]), ece_text)
        )
        parts.append(f"{m['labels'][mid]} {ece_text}")
    seeds = max(len(m["ece"][mid]["per_seed"]) for mid in ids)
    pooled = f"bins pooled over {seeds} seeds" if seeds > 1 else "one seed"
    return [
        FigureSpec(
            "reliability",
            f"Reliability diagrams ({m['binning']}, {pooled}): solid bars show the accuracy in each bin, hatched "
            "bars the gap up (overconfident) or down (underconfident) to the bin's mean confidence, the dashed "
            "line perfect calibration; below, images per bin (log scale). " + "; ".join(parts) + ".",
            plot_reliability(panels),
            SECTION,
        )
    ]


def mistake_figures(results: StudyResults) -> list[FigureSpec]:
    """The most confident mistakes, and saliency maps of the first few."""
    rec = results.analyses.get("mistakes")
    if rec is None:
        return []
    mk, a = rec.metrics["mistakes"], rec.arrays
    gallery = mk["gallery"]
    if not gallery:
        return []
    titles = [
        f"#{g['index']}\ntrue: {g['true_name']}\npred: {g['predicted_name']}\n({_pct(g['confidence'], 0)} sure)"
        for g in gallery
    ]
    specs = [
        FigureSpec(
            "confident_mistakes",
            f"The {len(gallery)} most confident mistakes of the {mk['label']} (seed {mk['seed']}) on the test set, "
            f"with test index, true and predicted class and the predicted probability; {mk['n_confident_errors']} "
            f"of its {mk['n_errors']} errors on {mk['n_test']} images were made with at least "
            f"{_pct(mk['confident_threshold'], 0)} confidence.",
            plot_gallery(a["gallery_images"], titles),
            SECTION,
        )
    ]
    sal = rec.metrics["saliency"]
    n = len(sal["indices"])
    if n:
        shares = ", ".join(_pct(s, 0) for s in sal["on_object_share"])
        areas = ", ".join(_pct(s, 0) for s in sal["object_area"])
        specs.append(
            FigureSpec(
                "saliency",
                f"Saliency of the {n} most confident mistakes: {sal['method']}. Share of the saliency on the "
                f"garment's non-zero pixels: {shares} (those pixels cover {areas} of each image).",
                plot_saliency(
                    a["gallery_images"][:n], a["saliency"], [t.split("\n(")[0] for t in titles[:n]]
                ),
                SECTION,
            )
        )
    return specs


def make(results: StudyResults, summary: Summary) -> list[FigureSpec]:
    """The interpretation figures in the order section 5 discusses them."""
    return [
        *locality_figure(results),
        *efficiency_figure(summary),
        *filter_figures(results),
        *shift_figures(results),
        *calibration_figure(results),
        *mistake_figures(results),
    ]
