"""Section 5's locality figure: accuracy on the original pixels against one fixed pixel permutation."""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from typing import TYPE_CHECKING

from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.ticker import PercentFormatter

from fmnist_report.report.figures.spec import FigureSpec
from fmnist_report.report.figures.style import model_color, styled
from fmnist_report.report.formatting import pct, pp

if TYPE_CHECKING:
    from fmnist_report.study.summary_types import Summary

SECTION = "interpretation"


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
        ax.bar_label(b1, [pct(before, 1)], fontsize=8, padding=1)
        ax.bar_label(b2, [f"{pct(after, 1)}\n({pp(after - before)})"], fontsize=8, padding=1)
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


def locality_figures(summary: Summary) -> list[FigureSpec]:
    """Dense and the headline CNN, each beside its permuted twin, on the seed the twin ran."""
    roles = summary.roles
    groups, parts = [], []
    seed = None
    for mid in (roles.dense, roles.headline):
        twin = roles.twins.get(mid) if mid is not None else None
        if mid is None or twin is None:
            continue
        # One seed's accuracy on either side: the twin's first seed, and the original's run on it.
        row, twin_row = summary.row(mid), summary.row(twin)
        seed = twin_row["seeds"][0]
        if seed not in row["seeds"]:
            continue
        before = row["per_seed"]["test_accuracy"][row["seeds"].index(seed)]
        after = twin_row["per_seed"]["test_accuracy"][0]
        label = row["label"]
        groups.append((label, before, after, model_color(mid), model_color(twin)))
        parts.append(f"{label} {pct(before, 1)} to {pct(after, 1)} ({pp(after - before)})")
    if not groups:
        return []
    return [
        FigureSpec(
            "locality",
            "Test accuracy with the original pixels and with one fixed random permutation of the 784 pixel "
            f"positions applied to training and test images (seed {seed}): " + "; ".join(parts) + ".",
            partial(plot_locality, groups),
            SECTION,
        )
    ]
