"""Section 5, interpretation: each claim tied to this study's figures and tables, worded from the numbers.

:func:`evidence` asks each claim of `content.CLAIMS` whether its evidence ran (its own
``applies``) and, where it did, for its paragraphs and tables; :func:`build` places the items
and every figure no other part lays out.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import NotRequired, TypedDict

from fmnist_report.report import content
from fmnist_report.report.sections.types import ClaimTable, PlacedFigure
from fmnist_report.study.summary_types import Summary


class Evidence(TypedDict):
    """A claim of section 5 as `evidence` finds it: its anchor, name and title, its paragraphs,
    the names of the figures that show it and its tables."""

    id: str
    claim: str
    #: Left out of an item written by hand, which `build` gives an empty title.
    title: NotRequired[str]
    paragraphs: NotRequired[list[str]]
    figures: NotRequired[list[str]]
    tables: NotRequired[list[ClaimTable]]


class Item(TypedDict):
    """A claim as section 5 lays it out: `Evidence` with its figures placed."""

    id: str
    claim: str
    title: str
    paragraphs: list[str]
    figures: list[PlacedFigure]
    tables: list[ClaimTable]


class InterpretationValues(TypedDict):
    """Section 5's values: its items, then every figure no other part lays out."""

    evidence: list[Item]
    extra_figures: list[PlacedFigure]


def evidence(summary: Summary, drawn: Iterable[str]) -> list[Evidence]:
    """Section 5's items in reading order; an item whose evidence did not run is left out.

    Args:
        drawn: the names of the figures actually drawn; an item shows only those, each figure once.
    """
    available = set(drawn)
    shown: set[str] = set()
    items: list[Evidence] = []
    for claim in content.CLAIMS:
        if not claim.applies(summary):
            continue
        paragraphs, tables = claim.build(summary)
        figures = [f for f in claim.figures if f in available]
        if not paragraphs and not figures:
            continue
        figures = [f for f in figures if f not in shown]
        shown.update(figures)
        items.append(
            {
                "id": claim.id,
                "claim": claim.name,
                "title": claim.title,
                "paragraphs": paragraphs,
                "figures": figures,
                "tables": tables,
            }
        )
    return items


def build(
    evidence: Sequence[Evidence],
    by_section: Mapping[str, list[PlacedFigure]],
    by_name: Mapping[str, PlacedFigure],
    placed: Collection[str],
) -> InterpretationValues:
    """Section 5's values: the evidence items with their figures, then every figure no other part placed.

    Args:
        placed: the figure sections the other parts lay out (`parts.placed_elsewhere`).
    """
    used: set[str] = set()
    items: list[Item] = []
    for item in evidence:
        missing = [n for n in item.get("figures", []) if n not in by_name]
        if missing:
            raise ValueError(
                f"interpretation item {item.get('id')!r} shows figure {missing[0]!r}, which no figure function made"
            )
        used.update(item.get("figures", []))
        items.append(
            {
                "id": item["id"],
                "claim": item["claim"],
                "title": item.get("title", ""),
                "paragraphs": list(item.get("paragraphs", [])),
                "figures": [by_name[n] for n in item.get("figures", [])],
                "tables": [
                    {
                        "caption": t["caption"],
                        "columns": list(t["columns"]),
                        "rows": [list(r) for r in t["rows"]],
                    }
                    for t in item.get("tables", [])
                ],
            }
        )
    # No figure is dropped: any the study's sections do not place and no item shows comes here.
    extra = [
        fig
        for section, figs in by_section.items()
        if section not in placed
        for fig in figs
        if fig["name"] not in used
    ]
    return {"evidence": items, "extra_figures": extra}
