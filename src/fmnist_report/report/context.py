"""The report context: the Summary and its figures turned into the plain values templates need.

Everything the report prints comes from the dict :func:`build_context` returns, and every
number in it is read from the `Summary`, which ``metrics.json`` serialises, so a number in the
report and its machine-readable twin cannot disagree. The parts are `report.parts`: each is
built by its own module in `report.sections` from the Summary alone, and this module places
the figures and assembles the parts the registry lists, in its order.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from fmnist_report.config import Config
from fmnist_report.report import parts
from fmnist_report.report.notes import NoteValues, attribution
from fmnist_report.report.sections.interpretation import Evidence
from fmnist_report.report.sections.types import PlacedFigure
from fmnist_report.report.sections.values import data_uri, model_rows
from fmnist_report.study.summary_types import Summary


class FigureLike(Protocol):
    """What the context needs of a figure: a name, a caption and the section it belongs to (read
    only, so that a frozen `FigureSpec` is one)."""

    @property
    def name(self) -> str: ...

    @property
    def caption(self) -> str: ...

    @property
    def section(self) -> str: ...


def place_figures(
    specs: Sequence[FigureLike], pngs: Mapping[str, bytes]
) -> tuple[dict[str, list[PlacedFigure]], dict[str, PlacedFigure]]:
    """Each figure as template values, grouped by section and by name; a figure without a PNG fails."""
    by_section: dict[str, list[PlacedFigure]] = {}
    by_name: dict[str, PlacedFigure] = {}
    for spec in specs:
        if spec.name not in pngs:
            raise ValueError(
                f"figure {spec.name!r} has no PNG; render every figure before building the context"
            )
        fig: PlacedFigure = {
            "name": spec.name,
            "caption": spec.caption,
            "src": data_uri(pngs[spec.name]),
            "section": spec.section,
        }
        by_section.setdefault(spec.section, []).append(fig)
        by_name[spec.name] = fig
    return by_section, by_name


def build_context(
    summary: Summary,
    *,
    config: Config,
    figures: Sequence[FigureLike],
    pngs: Mapping[str, bytes],
    evidence: Sequence[Evidence],
    notes: Mapping[str, Sequence[NoteValues]] | None = None,
) -> dict[str, Any]:
    """Every value the templates lay out: each part's values under its id, and the registry's
    contents (``toc``), numbers (``sections``) and order of includes (``layout``).

    The context is as open as the registry: its keys are the ids of the parts `report.parts`
    declares, each holding the values its builder returns (a type of its own, such as
    `sections.data.DataValues`), beside the fixed keys below.

    Args:
        summary: the study's `Summary`, the source of every number.
        config: the build's configuration: the report's title, author, course and date.
        figures: the figure specs in report order; ``pngs`` their PNG bytes by name.
        evidence: `sections.interpretation.evidence(summary, drawn)`.
        notes: the author's notes by place (`report.notes.build`); none by default.
    """
    by_section, by_name = place_figures(figures, pngs)
    notes = dict(notes or {})
    built = parts.Assembly(
        summary,
        rows=model_rows(summary),
        config=config,
        by_section=by_section,
        by_name=by_name,
        evidence=evidence,
        notes=notes,
    )
    values = {p.id: built.value(p.id) for p in parts.PARTS if p.build is not None}
    shown = [p for p in parts.PARTS if built.shown(p)]
    numbers = built.numbers()
    report = config.report
    return {
        "meta": {
            "title": report.title,
            "author": report.author,
            "course": report.course,
            "date": report.display_date,
            "profile": summary.study.profile,
            "attribution": attribution(notes, report.author),
        },
        "toc": [
            {"id": p.id, "number": numbers.get(p.id, ""), "title": p.title}
            for p in shown
            if p.kind in (parts.NUMBERED, parts.AUTHOR, parts.APPENDIX)
        ],
        "notes": notes,
        "sections": {
            p.id: {"number": numbers[p.id], "title": p.title}
            for p in shown
            if p.kind in (parts.NUMBERED, parts.APPENDIX)
        },
        "layout": [
            {"id": p.id, "template": p.template, "front": p.kind == parts.FRONT, "place": p.place}
            for p in shown
            if p.template is not None
        ],
        **values,
        # The interpretation's measurements, which its prose and tables quote (the Summary's own).
        "analyses": summary.analyses,
        "figure_count": len(by_name),
    }
