"""The report's figure style: one color per model, font sizes, page width."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ParamSpec

import matplotlib
from matplotlib.figure import Figure

if TYPE_CHECKING:
    from matplotlib.typing import RcKeyType

#: One color per model, the same in every figure of the report (Okabe-Ito, colour-blind safe).
#: A permuted-pixel twin takes a lighter or neighbouring hue of its model's color.
MODEL_COLORS: dict[str, str] = {
    "dense": "#E69F00",
    "cnn3": "#0072B2",
    "cnn5": "#009E73",
    "cnn7": "#CC79A7",
    "dense-permuted": "#D55E00",
    "cnn3-permuted": "#56B4E9",
}
#: Colors for models outside the palette (other kernel sizes), picked by a stable hash of the id.
EXTRA_COLORS: tuple[str, ...] = ("#882255", "#44AA99", "#999933", "#AA4499", "#332288", "#117733")
#: Training and test split colors: neutral grays, so they never read as a model.
SPLIT_COLORS: dict[str, str] = {"train": "#4D4D4D", "test": "#A6A6A6"}

WIDTH = 8.0  # inches: prints at about 16 cm across an A4 page
STYLE: dict[RcKeyType, Any] = {
    "font.size": 10,
    "axes.titlesize": 10,
    "axes.labelsize": 10,
    "xtick.labelsize": 9,
    "ytick.labelsize": 9,
    "legend.fontsize": 9,
    "figure.titlesize": 11,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": False,
    "image.cmap": "gray",
}
CELL_FONT = 8  # confusion-matrix cell labels: the smallest text in any figure
BAND_ALPHA = 0.2

P = ParamSpec("P")


def styled(plot: Callable[P, Figure]) -> Callable[P, Figure]:
    """Draw with the report's font sizes and spines, whatever the global settings are."""

    @functools.wraps(plot)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> Figure:
        with matplotlib.rc_context(STYLE):
            return plot(*args, **kwargs)

    return wrapper


def model_color(model_id: str) -> str:
    """The palette color of a model; models outside it get a stable color from ``EXTRA_COLORS``."""
    if model_id in MODEL_COLORS:
        return MODEL_COLORS[model_id]
    index = sum(model_id.encode()) % len(EXTRA_COLORS)  # stable across runs, unlike hash()
    return EXTRA_COLORS[index]
