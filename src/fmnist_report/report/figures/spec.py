"""A report figure and its PNG bytes."""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from matplotlib.figure import Figure

DPI = 150
#: Fixed PNG metadata so the same figure gives the same bytes on every build.
PNG_METADATA = {"Software": None}


@dataclass
class FigureSpec:
    """One report figure: a stable name (file stem), a caption and the figure itself.

    ``figure`` is None for a figure whose PNG was taken from the result store.
    """

    name: str
    caption: str
    figure: Figure | None
    section: str = ""


def to_png(fig: Figure, dpi: int = DPI) -> bytes:
    """Render a figure to PNG bytes with deterministic metadata."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight", metadata=PNG_METADATA)
    return buf.getvalue()


def render_all(specs: list[FigureSpec]) -> dict[str, bytes]:
    """Each figure's PNG bytes by name; the figures are closed. Writing them is the caller's job."""
    import matplotlib.pyplot as plt

    out: dict[str, bytes] = {}
    for spec in specs:
        out[spec.name] = to_png(spec.figure)
        plt.close(spec.figure)
    return out
