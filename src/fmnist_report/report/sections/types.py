"""Template values that several parts share: a placed figure, and a table of section 5's claims."""

from __future__ import annotations

from typing import TypedDict


class PlacedFigure(TypedDict):
    """A figure as the templates lay it out (`context.place_figures`)."""

    name: str
    caption: str
    #: Its PNG as a ``data:`` URI.
    src: str
    #: The part that lays it out (`FigureSpec.section`).
    section: str


class ClaimTable(TypedDict):
    """A table of a claim of section 5: its caption, its column headings and its rows of printed cells."""

    caption: str
    columns: list[str]
    rows: list[list[str]]
