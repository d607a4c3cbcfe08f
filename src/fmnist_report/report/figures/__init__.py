"""Figures: ``plot_*`` functions return matplotlib Figures; ``render_all`` turns them into PNGs.

``make_all(results)`` gathers every figure of the report as :class:`FigureSpec` items:
the study's own (``figures.study``) and the interpretation experiments'
(``figures.interpret``). Only this package imports matplotlib, always with the Agg backend.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import matplotlib

matplotlib.use("Agg")

# Imported after the backend is chosen.
from fmnist_report.report.figures import interpret, study
from fmnist_report.report.figures.spec import DPI, FigureSpec, render_all, to_png

__all__ = ["DPI", "FigureSpec", "make_all", "render_all", "to_png"]

if TYPE_CHECKING:
    from fmnist_report.study.results import StudyResults
    from fmnist_report.study.summary import Summary


def make_all(results: StudyResults, summary: Summary) -> list[FigureSpec]:
    """Every figure the report shows, in report order."""
    specs: list[Any] = [*study.make(results, summary), *interpret.make(results, summary)]
    return specs
