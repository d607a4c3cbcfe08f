"""The numbers a report prints, where it prints them, and whether a PDF prints the same ones.

`verify` renders the report's text again from the attached metrics.json, configuration and
notes, takes every number of that text with its place in words (:func:`expected`), and
matches them in order against the numbers of the PDF's text layer (:func:`on_pages`,
:func:`compare`). A number the data gives and the PDF does not print, prints otherwise, or
prints in addition is a difference; what only the page layout adds (page numbers, the
contents' page references, the "Table 3." and "Figure 7." counters) is furniture, counted
apart.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from html.parser import HTMLParser

#: A number as the report prints it: a sign where one is attached, digits with thousands
#: separators, decimals, and a percent sign: 76.40%, 1,234, -0.0360, +3.6, 0.0019.
NUMBER = re.compile(r"(?<![\w.,])[-\u2212+]?\d+(?:,\d{3})*(?:\.\d+)?%?(?![\d])")
#: What the layout alone adds: a bare whole number (a page number or a counter).
FURNITURE = re.compile(r"\d{1,4}")
#: A numbered heading: "2 Dense baseline", "A Appendix: reproducibility".
SECTION = re.compile(r"(\d+|[A-Z]) (.+)")
#: Elements whose text is not printed.
HIDDEN = frozenset({"head", "style", "script", "title"})
#: Headings, by the level they reset.
HEADINGS = ("h1", "h2", "h3", "h4")


@dataclass(frozen=True)
class Printed:
    """One number of the report's text: as printed, and where, in words."""

    text: str
    place: str


@dataclass(frozen=True)
class OnPage:
    """One number of a PDF's text layer and the page (from 1) it is printed on."""

    text: str
    page: int


@dataclass(frozen=True)
class Difference:
    """The first number where the PDF and the data part ways."""

    place: str
    expected: str | None
    printed: str | None
    page: int | None

    def describe(self) -> str:
        where = f"page {self.page}, " if self.page else ""
        if self.printed is None:
            return f"{where}{self.place}: the data gives {self.expected}, the PDF does not print it"
        if self.expected is None:
            return f"{where}{self.place}: the PDF prints {self.printed}, a number the data does not give"
        return f"{where}{self.place}: the data gives {self.expected}, the PDF prints {self.printed}"


@dataclass(frozen=True)
class Outcome:
    """How many of the expected numbers the PDF prints as the data gives them, and the first difference."""

    checked: int
    expected: int
    furniture: int
    first: Difference | None


class _Reader(HTMLParser):
    """Every number of an HTML report's visible text, with the headings and table cells around it."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[Printed] = []
        self.hidden = 0
        self.headings: dict[str, str] = {}
        self.open_heading: str | None = None
        self.caption: str | None = None
        self.in_caption = False
        self.header: list[str] = []
        self.row: list[str] = []
        self.cell: list[str] | None = None
        self.in_head = False
        self.figure = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in HIDDEN:
            self.hidden += 1
        elif tag in HEADINGS:
            self.open_heading = tag
            level = HEADINGS.index(tag)
            for deeper in HEADINGS[level:]:
                self.headings.pop(deeper, None)
            self.headings[tag] = ""
            self.caption = None
        elif tag == "table":
            self.caption, self.header = None, []
        elif tag in ("caption", "figcaption"):
            self.in_caption, self.caption = True, ""
            self.figure = tag == "figcaption"
        elif tag == "thead":
            self.in_head = True
        elif tag == "tr":
            self.row = []
        elif tag in ("td", "th"):
            self.cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in HIDDEN:
            self.hidden -= 1
        elif tag in HEADINGS:
            self.open_heading = None
        elif tag in ("caption", "figcaption"):
            self.in_caption = False
        elif tag == "thead":
            self.in_head = False
        elif tag in ("td", "th") and self.cell is not None:
            text = " ".join("".join(self.cell).split())
            (self.header if self.in_head else self.row).append(text)
            self.cell = None
        elif tag in ("figure", "table"):  # what follows is no longer in it
            self.caption, self.header, self.row = None, [], []

    def handle_data(self, data: str) -> None:
        if self.hidden:
            return
        if self.open_heading:
            self.headings[self.open_heading] += data
        if self.in_caption and self.caption is not None:
            self.caption += data
        if self.cell is not None:
            self.cell.append(data)
        for found in NUMBER.finditer(data):
            self.found.append(Printed(found.group(0), self._place()))

    def _place(self) -> str:
        # The report's title (h1) is on every place: left out.
        parts = [
            _heading(h) if tag == "h2" else " ".join(h.split())
            for tag, h in self.headings.items()
            if tag != "h1" and h.strip()
        ]
        if self.in_caption:
            parts.append("figure caption" if self.figure else "table caption")
        elif self.caption and (self.cell is not None or self.row):
            parts.append(_short(self.caption))
            column = len(self.row)
            if self.row and not self.in_head:
                parts.append(self.row[0])
            if 0 < column < len(self.header) and self.header[column]:
                parts.append(self.header[column])
        return ", ".join(parts) or "the title page"


def _heading(text: str) -> str:
    """A section's heading as a place names it: "section 2, Dense baseline" for a numbered one."""
    text = " ".join(text.split())
    numbered = SECTION.fullmatch(text)
    return f"section {numbered.group(1)}, {numbered.group(2)}" if numbered else text


def _short(text: str, words: int = 6) -> str:
    split = " ".join(text.split()).split(" ")
    return " ".join(split[:words]) + (" ..." if len(split) > words else "")


def expected(html: str) -> list[Printed]:
    """Every number of an HTML report's visible text, in reading order, with its place in words."""
    reader = _Reader()
    reader.feed(html)
    reader.close()
    return reader.found


def on_pages(text: str) -> list[OnPage]:
    """Every number of a PDF's text layer (pdftotext, pages separated by form feeds), with its page."""
    return [
        OnPage(found.group(0), page)
        for page, content in enumerate(text.split("\f"), start=1)
        for found in NUMBER.finditer(content)
    ]


def _furniture(token: str) -> bool:
    return FURNITURE.fullmatch(token) is not None


def compare(want: Sequence[Printed], got: Sequence[OnPage]) -> Outcome:
    """Match the expected numbers in order against the PDF's; furniture the PDF adds is set apart."""
    matcher = difflib.SequenceMatcher(None, [p.text for p in want], [p.text for p in got], autojunk=False)
    checked = furniture = 0
    first: Difference | None = None
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            checked += i2 - i1
            continue
        extra = [g for g in got[j1:j2] if _furniture(g.text)]
        rest = [g for g in got[j1:j2] if not _furniture(g.text)]
        expected_here = list(want[i1:i2])
        # What remains once the layout's whole numbers are set apart must be the expected numbers;
        # a whole number the data gives (a count) may have been taken for furniture, so put back
        # those the data expects, in order.
        if [g.text for g in rest] != [p.text for p in expected_here]:
            rest, extra = _realign(expected_here, list(got[j1:j2]))
        furniture += len(extra)
        for k, p in enumerate(expected_here):
            g = rest[k] if k < len(rest) else None
            if g is not None and g.text == p.text:
                checked += 1
            elif first is None:
                page = g.page if g else (got[j1].page if j1 < len(got) else None)
                first = Difference(p.place, p.text, g.text if g else None, page)
        if first is None and len(rest) > len(expected_here):
            g = rest[len(expected_here)]
            place = want[i1 - 1].place if i1 > 0 else "the title page"
            first = Difference(f"after {place}", None, g.text, g.page)
    return Outcome(checked, len(want), furniture, first)


def _realign(want: list[Printed], got: list[OnPage]) -> tuple[list[OnPage], list[OnPage]]:
    """The PDF's numbers of one stretch split into those that stand for the expected ones and furniture.

    Furniture is only ever a whole number: a printed number is kept for the expected one at the
    same place once the whole numbers the data does not give are taken out.
    """
    wanted = [p.text for p in want]
    kept: list[OnPage] = []
    extra: list[OnPage] = []
    k = 0
    for g in got:
        if (
            _furniture(g.text)
            and (k >= len(wanted) or g.text != wanted[k])
            and len(got) - len(extra) > len(want)
        ):
            extra.append(g)
        else:
            kept.append(g)
            k += 1
    return kept, extra
