"""WeasyPrint's complaints during one render, caught instead of printed.

WeasyPrint logs what it cannot use (an image it cannot decode, a stylesheet it cannot load)
as ``ERROR`` records of the ``weasyprint`` logger and carries on, so a broken image would give
a PDF with a hole in it, an exit status of 0 and, on the console, the image's ``data:`` URI,
bytes and all. While :func:`caught` is active those records reach no other handler; the
caller turns the first into its one-line error with :func:`describe`, which names an image by
its alt text and never repeats the content of a ``data:`` URI.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from html.parser import HTMLParser

LOGGER = "weasyprint"
#: A data: URI's content, wherever a message quotes it.
DATA_URI = re.compile(r"(data:[^,\s'\"]*),[^\s'\")]*", re.I)


class _Collect(logging.Handler):
    def __init__(self, records: list[logging.LogRecord]) -> None:
        super().__init__(logging.ERROR)
        self.records = records

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@contextmanager
def caught() -> Iterator[list[logging.LogRecord]]:
    """The ``ERROR`` records WeasyPrint logs inside the block, kept from every other handler."""
    logger = logging.getLogger(LOGGER)
    records: list[logging.LogRecord] = []
    handler = _Collect(records)
    propagate = logger.propagate
    logger.addHandler(handler)
    logger.propagate = False
    try:
        yield records
    finally:
        logger.removeHandler(handler)
        logger.propagate = propagate


def redact(text: str) -> str:
    """``text`` on one line, each data: URI cut to its media type, the whole cut short."""
    text = " ".join(DATA_URI.sub(r"\1,...", text).split())
    return text if len(text) <= 200 else text[:200] + "..."


def describe(record: logging.LogRecord, html: str) -> str:
    """One line on what WeasyPrint could not use, without the content of any data: URI."""
    if str(record.msg).startswith("Failed to load image") and record.args:
        url = str(record.args[0] if isinstance(record.args, tuple) else record.args)
        return (
            f"the PDF cannot be made: the image {_image_name(url, html)} cannot be decoded by "
            "WeasyPrint; replace it with a valid PNG, JPEG or GIF file"
        )
    try:
        message = record.getMessage()
    except (TypeError, ValueError):
        message = str(record.msg)
    return f"the PDF cannot be made: WeasyPrint reports {redact(message)!r}; fix the page or its images"


def _image_name(url: str, html: str) -> str:
    """An image of the page by its alt text, else by its place among the images, else its URL redacted."""
    finder = _Images()
    finder.feed(html)
    finder.close()
    for number, (src, alt) in enumerate(finder.images, start=1):
        if src == url:
            return repr(alt[:80]) if alt.strip() else f"number {number} of the page (it has no alt text)"
    return repr(redact(url))


class _Images(HTMLParser):
    """``(src, alt)`` of every ``<img>`` of a page, in order."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.images: list[tuple[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "img":
            values = dict(attrs)
            self.images.append((values.get("src") or "", values.get("alt") or ""))
