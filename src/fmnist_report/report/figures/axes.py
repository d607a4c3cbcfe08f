"""Small helpers that dress an Axes the same way in every figure."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from matplotlib.axes import Axes


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
