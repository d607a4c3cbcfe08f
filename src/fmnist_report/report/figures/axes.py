"""Small helpers that dress an Axes the same way in every figure."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure
    from matplotlib.text import Annotation


def bare(ax: Axes) -> None:
    """No ticks and no frame: for panels that show an image."""
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_visible(False)


def class_axis(ax: Axes, class_names: Sequence[str]) -> None:
    """An x axis of class names, slanted, one slot per class."""
    ax.set_xticks(np.arange(len(class_names)), class_names, rotation=30, ha="right", rotation_mode="anchor")
    ax.tick_params(axis="x", length=0)
    ax.set_xlim(-0.6, len(class_names) - 0.4)


def separate_labels(
    fig: Figure, labels: Sequence[Annotation], *, gap_pt: float = 1.0, rounds: int = 60
) -> None:
    """Move point labels (offset annotations) down, each below any it overprints, until none touch.

    Points of similar cost and accuracy, as many seeds make them, would otherwise print their
    labels over each other. Only labels of the same axes are compared; layout runs first, so
    the boxes are where the PNG will show them.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    if not isinstance(fig.canvas, FigureCanvasAgg):
        FigureCanvasAgg(fig)
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
    fig.draw_without_rendering()
    to_points = 72.0 / fig.dpi
    for _ in range(rounds):
        moved = False
        boxes = [label.get_window_extent(renderer) for label in labels]
        for j, later in enumerate(labels):
            for i in range(j):
                if labels[i].axes is not later.axes or not boxes[i].overlaps(boxes[j]):
                    continue
                dx, dy = later.xyann
                later.xyann = (dx, dy - (boxes[j].y1 - boxes[i].y0) * to_points - gap_pt)
                boxes[j] = later.get_window_extent(renderer)
                moved = True
        if not moved:
            return
