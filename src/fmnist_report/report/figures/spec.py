"""A report figure, known by its name and caption before it is drawn, and its PNG bytes."""

from __future__ import annotations

import io
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from fmnist_report.study.summary_types import Summary

DPI = 150
#: Fixed PNG metadata so the same figure gives the same bytes on every build.
PNG_METADATA = {"Software": None}


@dataclass(frozen=True)
class FigureSpec:
    """One report figure: a stable name (file stem), its caption, how to draw it, and its section.

    The name, caption and section come from the Summary's numbers alone, so a Summary read back
    from metrics.json (which holds no pictures) lists the same figures; ``draw`` reads the
    pictures and returns a new matplotlib Figure on each call.
    """

    name: str
    caption: str
    draw: Callable[[], Figure]
    section: str = ""


def pictures(summary: Summary, kind: str) -> Mapping[str, Any]:
    """The arrays a record of ``kind`` left for the figures; an error naming them where the Summary has none."""
    if kind not in summary.pictures:
        raise ValueError(
            f"drawing needs the arrays of the {kind!r} record, and this Summary holds none "
            "(a Summary read from metrics.json carries numbers only)"
        )
    return summary.pictures[kind]


def picture(summary: Summary, kind: str, name: str) -> Any:
    """One array of :func:`pictures`, or an error naming it."""
    arrays = pictures(summary, kind)
    if name not in arrays:
        raise ValueError(f"drawing needs the array {name!r} of the {kind!r} record, which it does not hold")
    return arrays[name]


def to_png(fig: Figure, dpi: int = DPI) -> bytes:
    """Render a figure to PNG bytes with deterministic metadata."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight", metadata=PNG_METADATA)
    return buf.getvalue()


def render_all(specs: list[FigureSpec]) -> dict[str, bytes]:
    """Draw each figure, one at a time, and return its PNG bytes by name; each figure is closed
    once rendered. Writing them is the caller's job."""
    import matplotlib.pyplot as plt

    out: dict[str, bytes] = {}
    for spec in specs:
        fig = spec.draw()
        try:
            out[spec.name] = to_png(fig)
        finally:
            plt.close(fig)
    return out
