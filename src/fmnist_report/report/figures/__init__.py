"""Figures: ``plot_*`` functions return matplotlib Figures; ``render_all`` turns them into PNGs.

``make_all(results, summary)`` gathers every figure of the report as :class:`FigureSpec` items,
one part of the report after another: each module's ``*_figures(results, summary)`` picks the
values it draws, from the summary where it holds them, and writes the captions from them.
Only this package imports matplotlib, always with the Agg backend.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import matplotlib

matplotlib.use("Agg")

# Imported after the backend is chosen.
from fmnist_report.report.figures import (
    calibration,
    comparison,
    eda,
    efficiency,
    family,
    filters,
    kernels,
    locality,
    mistakes,
    shift,
)
from fmnist_report.report.figures.spec import DPI, FigureSpec, render_all, to_png

__all__ = ["DPI", "PARTS", "FigureSpec", "make_all", "render_all", "to_png"]

if TYPE_CHECKING:
    from fmnist_report.study.results import StudyResults
    from fmnist_report.study.summary import Summary

#: Each part of the report that has figures, in report order: sections 1 to 4, the variants,
#: then the interpretation in the order it discusses them.
PARTS = (
    eda.eda_figures,
    comparison.dense_figures,
    comparison.cnn_figures,
    kernels.kernel_figures,
    family.family_figures,
    locality.locality_figures,
    efficiency.efficiency_figures,
    filters.filter_figures,
    shift.shift_figures,
    calibration.calibration_figures,
    mistakes.mistake_figures,
)


def make_all(results: StudyResults, summary: Summary) -> list[FigureSpec]:
    """Every figure the report shows, in report order; a figure whose inputs did not run is left out."""
    return [spec for part in PARTS for spec in part(results, summary)]
