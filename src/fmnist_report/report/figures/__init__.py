"""Figures: ``plot_*`` functions return matplotlib Figures; ``render_all`` turns them into PNGs.

``make_all(summary)`` lists every figure of the report as :class:`FigureSpec` items, one part
of the report after another, without drawing: each module's ``*_figures(summary)`` writes the
captions from the Summary's numbers alone, so a Summary read back from metrics.json (with no
pictures) lists the same names, captions and sections. Only a spec's ``draw`` reads
``summary.pictures``; ``render_all`` calls it. Only this package imports matplotlib, always with
the Agg backend.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import matplotlib

matplotlib.use("Agg")

# Imported after the backend is chosen.
from fmnist_report.report.figures.spec import DPI, FigureSpec, render_all, to_png

__all__ = ["DPI", "FigureSpec", "make_all", "render_all", "to_png"]

if TYPE_CHECKING:
    from fmnist_report.study.summary_types import Summary


def make_all(summary: Summary) -> list[FigureSpec]:
    """Every figure the report shows, in report order, drawn by none; a figure whose inputs did not
    run is left out. Which functions, in which order, is the registry's (`parts.figure_parts`)."""
    from fmnist_report.report import parts

    return [spec for part in parts.figure_parts() for spec in part(summary)]
