"""The study's figures: data exploration, Dense against CNN, and the kernel-size experiment.

Each ``plot_*`` function takes plain values and returns a Figure; :func:`make` picks those
values out of a :class:`StudyResults` and writes the captions from the measured numbers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import EngFormatter, MaxNLocator, PercentFormatter

from fmnist_report.report.figures.spec import FigureSpec
from fmnist_report.report.figures.style import (
    BAND_ALPHA,
    CELL_FONT,
    SPLIT_COLORS,
    WIDTH,
    model_color,
    styled,
)

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from fmnist_report.records import Record
    from fmnist_report.study.results import StudyResults
    from fmnist_report.study.summary import Summary


@dataclass(frozen=True)
class Series:
    """One model's per-seed values of a quantity, ready to plot: ``values`` is (seeds, points)."""

    label: str
    color: str
    values: np.ndarray


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


# -- plots ---------------------------------------------------------------------------------


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
    _class_axis(ax, class_names)
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
            ax = axes[r, c]
            ax.imshow(images[r, c], cmap="gray", vmin=0, vmax=255, interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
            for spine in ax.spines.values():
                spine.set_visible(False)
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
        _epoch_axis(ax)
    ax_loss.set_ylabel("cross-entropy")
    ax_acc.set_ylabel("accuracy")
    ax_acc.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    models = [Line2D([], [], color=s.color, lw=2, label=s.label) for s in series.get("loss", [])]
    styles = [
        Line2D([], [], color="0.3", lw=1.5, ls="-", label="training"),
        Line2D([], [], color="0.3", lw=1.5, ls="--", label="validation"),
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
    _epoch_axis(ax)
    ax.set_ylabel(ylabel)
    ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
    return fig


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
            pct = round(value * 100)
            if pct == 0:
                continue  # an empty cell reads better than a wall of zeros
            color = "white" if value > 0.55 else "black"
            ax.text(c, r, f"{pct}", ha="center", va="center", fontsize=CELL_FONT, color=color)
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
    _class_axis(ax, class_names)
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
            ax.annotate(
                f"{p.short}\n{_count(p.params)} params",
                (x, p.accuracy),
                xytext=(7, 0),
                textcoords="offset points",
                ha="left",
                va="center",
                fontsize=8,
                color="0.15",
            )
        ax.margins(x=0.25, y=0.3)
        ax.grid(color="0.92", linewidth=0.6)
        ax.set_axisbelow(True)
    ax_flops.set_xscale("log")
    ax_flops.xaxis.set_major_formatter(EngFormatter(places=0, sep=""))
    ax_flops.set_xlabel("FLOPs per image (log scale)")
    ax_time.set_xlabel("training time per run (s)")
    ax_flops.set_ylabel("test accuracy")
    ax_flops.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=1))
    return fig


# -- drawing helpers -----------------------------------------------------------------------


def row_normalize(counts: np.ndarray) -> np.ndarray:
    """Each row divided by its sum (rows with no examples stay zero)."""
    counts = np.asarray(counts, dtype=float)
    totals = counts.sum(axis=1, keepdims=True)
    return np.divide(counts, totals, out=np.zeros_like(counts), where=totals > 0)


def _band(ax: Axes, s: Series, *, linestyle: str, label: str | None = None) -> None:
    values = np.atleast_2d(np.asarray(s.values, dtype=float))
    epochs = np.arange(1, values.shape[1] + 1)
    marker = "o" if values.shape[1] <= 12 else None
    ax.plot(
        epochs, values.mean(axis=0), color=s.color, ls=linestyle, lw=1.8, marker=marker, ms=3.5, label=label
    )
    if len(values) > 1:
        ax.fill_between(epochs, values.min(axis=0), values.max(axis=0), color=s.color, alpha=BAND_ALPHA, lw=0)


def _epoch_axis(ax: Axes) -> None:
    ax.set_xlabel("epoch")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.grid(color="0.92", linewidth=0.6)
    ax.set_axisbelow(True)


def _class_axis(ax: Axes, class_names: Sequence[str]) -> None:
    ax.set_xticks(np.arange(len(class_names)), class_names, rotation=30, ha="right", rotation_mode="anchor")
    ax.tick_params(axis="x", length=0)
    ax.set_xlim(-0.6, len(class_names) - 0.4)


def _count(n: float) -> str:
    """235146 -> ``235k``; 4200000 -> ``4.2M``."""
    if n >= 1e6:
        return f"{n / 1e6:.1f}M"
    if n >= 1e3:
        return f"{n / 1e3:.0f}k"
    return f"{n:.0f}"


# -- from results to figures ---------------------------------------------------------------


def _seeds_phrase(counts: Sequence[int]) -> str:
    """``3 seeds``, ``1 seed`` or ``1 to 3 seeds per model``."""
    lo, hi = min(counts), max(counts)
    if lo == hi:
        return f"{lo} seed" + ("s" if lo != 1 else "")
    return f"{lo} to {hi} seeds per model"


def _pct(x: float) -> str:
    return f"{x * 100:.1f}%"


def _history(records: list[Record], key: str) -> np.ndarray:
    """Per-seed values of one history entry as (seeds, epochs), cut to the shortest run."""
    rows = [r.metrics["history"][key] for r in records]
    n = min(len(row) for row in rows)
    return np.array([row[:n] for row in rows], dtype=float)


def _label(results: StudyResults, model_id: str) -> str:
    return results.runs[model_id][0].metrics["label"]


def _kernel_ids(results: StudyResults) -> list[str]:
    return [f"cnn{k}" for k in results.config.study.kernel_sizes if f"cnn{k}" in results.runs]


def _band_note(seed_counts: Sequence[int]) -> str:
    if max(seed_counts) > 1:
        return f"mean over {_seeds_phrase(seed_counts)}, bands from the lowest to the highest seed"
    return "one seed, so no band of seed-to-seed spread"


def _class_names(results: StudyResults) -> list[str]:
    if results.eda is not None and "class_names" in results.eda.metrics:
        return list(results.eda.metrics["class_names"])
    return list(results.data.class_names)


def eda_figures(results: StudyResults) -> list[FigureSpec]:
    """The four data-exploration figures, from the EDA record."""
    if results.eda is None:
        return []
    m, a = results.eda.metrics, results.eda.arrays
    names = _class_names(results)
    specs = []
    if "train_counts" in m and "test_counts" in m:
        train, test = m["train_counts"], m["test_counts"]
        specs.append(
            FigureSpec(
                "class_distribution",
                f"Images per class: {_count_range(train)} in the training set ({sum(train):,} in all) "
                f"and {_count_range(test)} in the test set ({sum(test):,} in all).",
                plot_class_distribution(names, train, test),
                "eda",
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
                "eda",
            )
        )
    if "mean_images" in a:
        means = m.get("mean_intensity_per_class")
        extra = ""
        if means:
            lo, hi = int(np.argmin(means)), int(np.argmax(means))
            extra = (
                f" The mean pixel value of a class ranges from {means[lo]:.0f} ({names[lo]}) "
                f"to {means[hi]:.0f} ({names[hi]}) on the 0-255 scale."
            )
        specs.append(
            FigureSpec(
                "mean_images",
                f"The mean training image of each class, on one shared gray scale.{extra}",
                plot_mean_images(a["mean_images"], names),
                "eda",
            )
        )
    if "pixel_histogram" in a:
        hist = np.asarray(a["pixel_histogram"])
        zero = m.get("zero_pixel_fraction", float(hist[0] / hist.sum()))
        specs.append(
            FigureSpec(
                "pixel_histogram",
                f"Distribution of the {int(hist.sum()):,} training pixel values (log scale); "
                f"{_pct(zero)} of all pixels are exactly 0, the black background.",
                plot_pixel_histogram(hist),
                "eda",
            )
        )
    return specs


def _count_range(counts: Sequence[int]) -> str:
    lo, hi = min(counts), max(counts)
    return f"{lo:,} per class" if lo == hi else f"{lo:,} to {hi:,} per class"


def _confusion_sum(records: list[Record]) -> np.ndarray:
    return np.sum([np.asarray(r.arrays["confusion"]) for r in records], axis=0)


def _worst_confusion(counts: np.ndarray, names: Sequence[str]) -> str:
    rates = row_normalize(counts)
    np.fill_diagonal(rates, -1.0)
    r, c = np.unravel_index(int(np.argmax(rates)), rates.shape)
    return f"{_pct(rates[r, c])} of {names[r]} images predicted as {names[c]}"


def _confusion_note(records_by_model: Sequence[list[Record]]) -> str:
    counts = [len(recs) for recs in records_by_model]
    if max(counts) > 1:
        return f"counts summed over {_seeds_phrase(counts)}, then"
    return "one seed;"


def confusion_figures(results: StudyResults) -> tuple[list[FigureSpec], list[FigureSpec]]:
    """The Dense confusion matrix alone (section 2) and Dense beside CNN 3x3 (section 3)."""
    names = _class_names(results)
    alone: list[FigureSpec] = []
    pair: list[FigureSpec] = []
    base = "rows are true classes, columns predicted ones"
    if "dense" in results.runs:
        recs = results.runs["dense"]
        counts = _confusion_sum(recs)
        alone.append(
            FigureSpec(
                "confusion_dense",
                f"Test-set confusion matrix of the {_label(results, 'dense')} baseline ({base}; "
                f"{_confusion_note([recs])} each cell is a percentage of its row). "
                f"The largest confusion: {_worst_confusion(counts, names)}.",
                plot_confusions([(_label(results, "dense"), counts)], names),
                "dense",
            )
        )
    if "dense" in results.runs and "cnn3" in results.runs:
        ids = ("dense", "cnn3")
        counts = {mid: _confusion_sum(results.runs[mid]) for mid in ids}
        worst = "; ".join(f"{_label(results, mid)}: {_worst_confusion(counts[mid], names)}" for mid in ids)
        pair.append(
            FigureSpec(
                "confusion_dense_cnn",
                f"Test-set confusion matrices of {_label(results, 'dense')} and {_label(results, 'cnn3')} "
                f"({base}; {_confusion_note([results.runs[m] for m in ids])} each cell is a percentage "
                f"of its row). The largest confusion, {worst}.",
                plot_confusions([(_label(results, mid), counts[mid]) for mid in ids], names),
                "cnn",
            )
        )
    return alone, pair


def curve_figures(results: StudyResults) -> tuple[list[FigureSpec], list[FigureSpec]]:
    """Training curves of Dense and CNN 3x3, and validation accuracy per kernel size."""
    main_ids = [mid for mid in ("dense", "cnn3") if mid in results.runs]
    main: list[FigureSpec] = []
    if main_ids:
        series = {
            key: [
                Series(_label(results, mid), model_color(mid), _history(results.runs[mid], key))
                for mid in main_ids
            ]
            for key in ("loss", "val_loss", "accuracy", "val_accuracy")
        }
        final = ", ".join(f"{s.label} {_pct(s.values.mean(axis=0)[-1])}" for s in series["val_accuracy"])
        seeds = [len(results.runs[mid]) for mid in main_ids]
        main.append(
            FigureSpec(
                "training_curves",
                f"Loss and accuracy per epoch on the training (solid) and validation (dashed) images; "
                f"{_band_note(seeds)}. Final validation accuracy: {final}.",
                plot_training_curves(series),
                "cnn",
            )
        )
    kernel_ids = _kernel_ids(results)
    kernels: list[FigureSpec] = []
    if kernel_ids:
        series_k = [
            Series(_label(results, mid), model_color(mid), _history(results.runs[mid], "val_accuracy"))
            for mid in kernel_ids
        ]
        final = ", ".join(f"{s.label} {_pct(s.values.mean(axis=0)[-1])}" for s in series_k)
        seeds = [len(results.runs[mid]) for mid in kernel_ids]
        kernels.append(
            FigureSpec(
                "training_curves_kernels",
                f"Validation accuracy per epoch for each kernel size; {_band_note(seeds)}. "
                f"After the last epoch: {final}.",
                plot_validation_curves(series_k),
                "kernels",
            )
        )
    return main, kernels


def per_class_figure(results: StudyResults, summary: Summary) -> list[FigureSpec]:
    """Per-class test accuracy of Dense and every kernel size that ran."""
    kernel_ids = _kernel_ids(results)
    if not kernel_ids:
        return []
    ids = [mid for mid in ("dense", *kernel_ids) if mid in results.runs]
    names = _class_names(results)
    groups = []
    for mid in ids:
        recs = results.runs[mid]
        mean = np.asarray(summary.row(mid)["per_class_accuracy"])
        per_seed = np.array([r.metrics["per_class"]["accuracy"] for r in recs], dtype=float)
        std = per_seed.std(axis=0, ddof=1) if len(recs) > 1 else None  # the spread stats.summarize uses
        groups.append((_label(results, mid), model_color(mid), mean, std))
    seeds = [len(results.runs[mid]) for mid in ids]
    if max(seeds) > 1:
        note = f"mean over {_seeds_phrase(seeds)}, error bars one standard deviation across seeds"
    else:
        note = "one seed, so no error bars"
    overall = np.mean([g[2] for g in groups], axis=0)
    hard = int(np.argmin(overall))
    easy = int(np.argmax(overall))
    hardest = ", ".join(f"{g[0]} {_pct(g[2][hard])}" for g in groups)
    return [
        FigureSpec(
            "per_class_accuracy",
            f"Test accuracy per class; {note}. The hardest class is {names[hard]} ({hardest}), "
            f"the easiest {names[easy]}.",
            plot_per_class_accuracy(names, groups),
            "kernels",
        )
    ]


def tradeoff_figure(results: StudyResults, summary: Summary) -> list[FigureSpec]:
    """Accuracy against cost for every kernel size, with Dense as the reference point."""
    kernel_ids = _kernel_ids(results)
    if not kernel_ids:
        return []
    ids = [mid for mid in ("dense", *kernel_ids) if mid in results.runs]
    points = []
    rows = {}
    for mid in ids:
        row = summary.row(mid)
        rows[mid] = row
        acc = row["test_accuracy"]
        recs = results.runs[mid]
        ks = recs[0].metrics["spec"].get("kernel_size")
        points.append(
            TradeoffPoint(
                label=row["label"],
                short=f"{ks}x{ks}" if ks else row["label"],
                color=model_color(mid),
                accuracy=acc["mean"],
                ci_low=acc["ci_low"],
                ci_high=acc["ci_high"],
                flops=float(row["flops"]),
                train_seconds=row["train_seconds"]["mean"],
                params=int(row["params"]),
                reference=mid == "dense",
            )
        )
    seeds = [len(results.runs[mid]) for mid in rows]
    if all(r["test_accuracy"]["has_ci"] for r in rows.values()):
        note = f"Test accuracy (mean over {_seeds_phrase(seeds)}, bars: 95% t-interval)"
    elif max(seeds) > 1:
        note = f"Test accuracy (mean over {_seeds_phrase(seeds)}; no interval where a model has one seed)"
    else:
        note = "Test accuracy (one seed, so no interval)"
    cheapest = min((rows[mid] for mid in kernel_ids), key=lambda r: r["flops"])
    dearest = max((rows[mid] for mid in kernel_ids), key=lambda r: r["flops"])
    cost = ""
    if len(kernel_ids) > 1:
        cost = (
            f" {dearest['label']} needs {dearest['flops'] / cheapest['flops']:.1f}x the FLOPs and "
            f"{dearest['train_seconds']['mean'] / cheapest['train_seconds']['mean']:.1f}x the training time "
            f"of {cheapest['label']}."
        )
    ref = "; the square marks the Dense reference" if "dense" in rows else ""
    time = "mean training time" if max(seeds) > 1 else "training time"
    return [
        FigureSpec(
            "kernel_tradeoff",
            f"{note} against FLOPs per image and {time} per run; labels give the kernel size and "
            f"parameter count{ref}.{cost}",
            plot_kernel_tradeoff(points),
            "kernels",
        )
    ]


def make(results: StudyResults, summary: Summary) -> list[FigureSpec]:
    """The study's figures in report order; a figure whose inputs did not run is left out."""
    confusion_dense, confusion_pair = confusion_figures(results)
    curves, kernel_curves = curve_figures(results)
    return [
        *eda_figures(results),
        *confusion_dense,
        *curves,
        *confusion_pair,
        *kernel_curves,
        *per_class_figure(results, summary),
        *tradeoff_figure(results, summary),
    ]
