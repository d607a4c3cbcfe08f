"""The report as one registry of parts: each part declared once, in report order.

A `Part` is everything the report does with one of its parts: its id (the anchor, the key of
its values in the template context, and the place ``after_<id>`` of an author's note), its
title, its kind (front matter, a numbered section, the author's discussion, a lettered
appendix, or a part laid out inside another one's template), whether it is optional (shown
only where its builder returns something), its builder from the Summary, the figure
functions that draw its figures, and its template. The contents, the numbers and letters, the
figure list (`figure_parts`), the template context (`report.context`), base.html's includes
and the places of the author's notes (`places`) are all loops over `PARTS`; section 5's claims
are its own entries, `content.CLAIMS`. A cross-reference ("section 3", "appendix A") is
`number_of` a part, never written out.
"""

from __future__ import annotations

import functools
import importlib
import string
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from fmnist_report.config import Config
from fmnist_report.report import content
from fmnist_report.report.sections import (
    cnn,
    dense,
    deployment,
    family,
    interpretation,
    kernels,
    references,
    reproducibility,
    statistics,
)
from fmnist_report.report.sections import data as data_part
from fmnist_report.report.sections import summary as summary_part
from fmnist_report.report.sections.family import FamilyValues
from fmnist_report.report.sections.interpretation import Evidence, InterpretationValues
from fmnist_report.report.sections.summary import SummaryValues
from fmnist_report.report.sections.types import PlacedFigure
from fmnist_report.report.sections.values import Rows
from fmnist_report.study.summary_types import Summary

if TYPE_CHECKING:
    from fmnist_report.report.figures.spec import FigureSpec
    from fmnist_report.report.notes import NoteValues

#: The kinds of part: before the contents; numbered 1, 2...; the author's own section (not
#: numbered, in the contents before the appendices); lettered A, B...; inside another's template.
FRONT, NUMBERED, AUTHOR, APPENDIX, INSIDE = "front", "numbered", "author", "appendix", "inside"
#: The package whose modules `Drawn` names.
FIGURES = "fmnist_report.report.figures"

#: A figure function: the specs of a part's figures, from the Summary alone.
FigureFunction = Callable[[Summary], "list[FigureSpec]"]
#: A part's builder: its template values from its `Inputs`; None leaves an optional part out.
#: Each part's values have a type of their own (`sections.data.DataValues`...): the registry
#: holds them all, by part id.
Builder = Callable[["Inputs"], Any]


@dataclass(frozen=True)
class Drawn:
    """A figure function of `report.figures` by name, ``module.function``, and the family it
    draws where it draws one; named, so that reading the registry imports no plotting library."""

    function: str
    family: str | None = None

    def load(self) -> FigureFunction:
        module, name = self.function.rsplit(".", 1)
        fn = getattr(importlib.import_module(f"{FIGURES}.{module}"), name)
        return functools.partial(fn, family=self.family) if self.family else fn


@dataclass(frozen=True)
class Inputs:
    """What a part's builder reads: the Summary, and what the report derives from it once.

    Attributes:
        rows: the model rows (`values.model_rows`); ``config`` the build's configuration.
        figures: the figures this part lays out (its `Part.figure_section`), as template values.
        by_section, by_name: every figure, by section and by name (the interpretation places
            the ones no other part lays out).
        evidence: section 5's items (`interpretation.evidence`); ``notes`` the author's notes by place.
        value: another part's values (each part is built once); ``number`` its number or letter
            as this report shows it.
    """

    summary: Summary
    rows: Rows
    config: Config
    figures: list[PlacedFigure]
    by_section: Mapping[str, list[PlacedFigure]]
    by_name: Mapping[str, PlacedFigure]
    evidence: Sequence[Evidence]
    notes: Mapping[str, Sequence[NoteValues]]
    value: Callable[[str], Any]
    number: Callable[[str], str]


@dataclass(frozen=True)
class Part:
    """One part of the report.

    Attributes:
        id: its anchor, its values' key in the template context, and its note place ``after_<id>``.
        kind: `FRONT`, `NUMBERED`, `AUTHOR`, `APPENDIX` or `INSIDE` (then ``inside`` names the
            part whose template lays it out, and whose number it shares).
        template: the template base.html includes for it; None for a part inside another.
        build: its values from the Summary; None for a part that lays out the context's own values.
        optional: shown only where ``build`` returns something other than None; the numbers close up.
        figures: the figure functions that draw its figures, in report order.
        places: the section its figures name (`FigureSpec.section`), where that is not its id.
    """

    id: str
    title: str
    kind: str
    template: str | None
    build: Builder | None = None
    optional: bool = False
    figures: tuple[Drawn, ...] = ()
    places: str = ""
    inside: str = ""

    @property
    def figure_section(self) -> str:
        """The section its figures name."""
        return self.places or self.id

    @property
    def place(self) -> str | None:
        """The place of the author's notes that follow it (``after_<id>``), for a section or an appendix."""
        return f"after_{self.id}" if self.kind in (NUMBERED, APPENDIX) else None


def family_part(name: str, title: str, template: str) -> Part:
    """The section of a family of comparisons: the generic comparison section's values and the
    family's figures, shown only where the family made a comparison."""

    def build(i: Inputs) -> FamilyValues | None:
        return family.build(i.summary, i.rows, name, list(i.summary.data.class_names), i.figures)

    return Part(
        name, title, NUMBERED, template, build, optional=True, figures=(Drawn("family.family_figures", name),)
    )


def _summary(i: Inputs) -> SummaryValues:
    return summary_part.build(
        i.summary, i.rows, i.value("data"), i.value("kernels"), methods_in=i.number("statistics")
    )


def _interpretation(i: Inputs) -> InterpretationValues:
    elsewhere = {p.figure_section for p in PARTS if p.figures and p.id != "interpretation"}
    return interpretation.build(i.evidence, i.by_section, i.by_name, elsewhere)


#: The report's parts in order. A part whose study did not run (the variants, where none is
#: declared) is left out and the numbers close up, so the built-in study keeps its numbering.
PARTS: tuple[Part, ...] = (
    Part("title", "", FRONT, "title_page.html"),
    Part("summary", "Summary", FRONT, "summary.html", _summary),
    Part("contents", "Contents", FRONT, "contents.html"),
    Part(
        "data",
        "Data exploration",
        NUMBERED,
        "section_data.html",
        lambda i: data_part.build(i.summary, i.figures),
        figures=(Drawn("eda.eda_figures"),),
        places="eda",
    ),
    Part(
        "dense",
        "Dense baseline",
        NUMBERED,
        "section_dense.html",
        lambda i: dense.build(i.summary, i.rows, i.figures),
        figures=(Drawn("comparison.dense_figures"),),
    ),
    Part(
        "cnn",
        "Convolutional network",
        NUMBERED,
        "section_cnn.html",
        lambda i: cnn.build(i.summary, i.rows, i.figures, [c["test"] for c in i.value("data")["classes"]]),
        figures=(Drawn("comparison.cnn_figures"),),
    ),
    Part(
        "kernels",
        "Kernel-size study",
        NUMBERED,
        "section_kernels.html",
        lambda i: kernels.build(i.summary, i.rows, i.figures, cnn_section=i.number("cnn")),
        figures=(Drawn("kernels.kernel_figures"),),
    ),
    family_part("variants", "Your variants", "section_variants.html"),
    Part(
        "interpretation",
        "Interpretation",
        NUMBERED,
        "section_interpretation.html",
        _interpretation,
        figures=tuple(dict.fromkeys(Drawn(name) for claim in content.CLAIMS for name in claim.draws)),
    ),
    Part(
        "deployment",
        "Deployment",
        NUMBERED,
        "section_deployment.html",
        lambda i: deployment.build(i.summary, i.rows),
    ),
    Part(
        "discussion",
        "Discussion",
        AUTHOR,
        "section_discussion.html",
        lambda i: i.notes.get("discussion"),
        optional=True,
    ),
    Part(
        "reproducibility",
        "Appendix: reproducibility",
        APPENDIX,
        "appendix_reproducibility.html",
        lambda i: reproducibility.build(i.summary, i.rows),
    ),
    Part(
        "statistics",
        "Statistical methods",
        INSIDE,
        None,
        lambda i: statistics.build(i.summary),
        inside="reproducibility",
    ),
    Part(
        "references",
        "Appendix: references",
        APPENDIX,
        "appendix_references.html",
        lambda i: references.build(i.summary, i.rows, i.value("data")["full"]),
    ),
)


def get(part_id: str) -> Part:
    """The part of ``part_id``; a ValueError naming the parts where there is none."""
    for part in PARTS:
        if part.id == part_id:
            return part
    raise ValueError(f"the report has no part {part_id!r}; its parts are {', '.join(p.id for p in PARTS)}")


def numbering(shown: Collection[str] = ()) -> dict[str, str]:
    """The number of each numbered part, the letter of each appendix, and a part inside another
    its host's; an optional part is counted only where its id is in ``shown``."""
    numbers: dict[str, str] = {}
    counted = [p for p in PARTS if not p.optional or p.id in shown]
    sections = [p for p in counted if p.kind == NUMBERED]
    appendices = [p for p in counted if p.kind == APPENDIX]
    numbers.update((p.id, str(n)) for n, p in enumerate(sections, start=1))
    numbers.update((p.id, string.ascii_uppercase[n]) for n, p in enumerate(appendices))
    numbers.update((p.id, numbers[p.inside]) for p in counted if p.kind == INSIDE)
    return numbers


def number_of(part_id: str, shown: Collection[str] = ()) -> str:
    """The number or letter that cross-references print for a part, the optional parts in ``shown`` counted."""
    numbers = numbering(shown)
    if part_id not in numbers:
        get(part_id)  # names the parts where there is no such part
        raise ValueError(f"part {part_id!r} has no number: it is not a numbered section or appendix shown")
    return numbers[part_id]


def places() -> list[str]:
    """Every place an author's note may go: the author's own section (by its id), then ``after_<id>``
    of every numbered section and appendix, the optional ones included."""
    return [
        *(p.id for p in PARTS if p.kind == AUTHOR),
        *(p.place for p in PARTS if p.place is not None),
    ]


def figure_parts() -> list[FigureFunction]:
    """Every part's figure functions in report order, each once (section 5's in its claims' order)."""
    drawn = dict.fromkeys(d for part in PARTS for d in part.figures)
    return [d.load() for d in drawn]


class Assembly:
    """Every part's values from one Summary, each built once and on demand, so that a builder may
    read another part's values (`Inputs.value`) and the number the report gives it (`Inputs.number`)."""

    def __init__(
        self,
        summary: Summary,
        *,
        rows: Rows,
        config: Config,
        by_section: Mapping[str, list[PlacedFigure]],
        by_name: Mapping[str, PlacedFigure],
        evidence: Sequence[Evidence],
        notes: Mapping[str, Sequence[NoteValues]],
    ) -> None:
        self.summary, self.rows, self.config = summary, rows, config
        self.by_section, self.by_name = by_section, by_name
        self.evidence, self.notes = evidence, notes
        # Part id -> its values, whose type is its builder's: the registry decides which parts there are.
        self._values: dict[str, Any] = {}
        self._building: list[str] = []

    def value(self, part_id: str) -> Any:
        """The part's values: what its builder returns (None for a part without one, or not shown)."""
        if part_id in self._values:
            return self._values[part_id]
        part = get(part_id)
        if part_id in self._building:
            chain = " -> ".join([*self._building[self._building.index(part_id) :], part_id])
            raise ValueError(f"the report's parts read each other's values in a circle: {chain}")
        self._building.append(part_id)
        try:
            built = part.build(self._inputs(part)) if part.build is not None else None
        finally:
            self._building.pop()
        self._values[part_id] = built
        return built

    def shown(self, part: Part) -> bool:
        """Whether the report shows the part: always, unless it is optional and its builder returned None."""
        return not part.optional or self.value(part.id) is not None

    def numbers(self) -> dict[str, str]:
        """`numbering` of the parts this report shows."""
        return numbering([p.id for p in PARTS if p.optional and self.shown(p)])

    def number(self, part_id: str) -> str:
        """The number or letter of a part this report shows, for a cross-reference."""
        return number_of(part_id, [p.id for p in PARTS if p.optional and self.shown(p)])

    def _inputs(self, part: Part) -> Inputs:
        return Inputs(
            summary=self.summary,
            rows=self.rows,
            config=self.config,
            figures=list(self.by_section.get(part.figure_section, [])) if part.figures else [],
            by_section=self.by_section,
            by_name=self.by_name,
            evidence=self.evidence,
            notes=self.notes,
            value=self.value,
            number=self.number,
        )
