"""The one Jinja environment, with the report's filters, and the HTML and PDF writers.

Templates only lay out the values of the report context; every number passes through a
filter of `report.formatting`, registered here. The HTML carries its CSS inline and its
images and fonts (`report.fonts`) as ``data:`` URIs, so it is one self-contained file: it
may link to other pages (``<a href>``) and say anything in its text, but it loads nothing
from outside. The PDF is made from that same HTML by WeasyPrint.
"""

from __future__ import annotations

import base64
import functools
import importlib.resources
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any

import jinja2

from fmnist_report.errors import UserError
from fmnist_report.report import fonts
from fmnist_report.report.formatting import FILTERS

TEMPLATE = "base.html"
ASSETS = "fmnist_report.assets"
#: Attributes whose value a browser or WeasyPrint fetches, on any element.
LOAD_ATTRIBUTES = frozenset({"src", "srcset", "poster", "data", "background", "manifest", "xlink:href"})
#: Elements whose ``href`` is a link for the reader to follow; on any other (``link``, ``base``,
#: SVG ``image`` and ``use``) an ``href`` is a resource to load.
LINK_ELEMENTS = frozenset({"a", "area"})
#: What CSS loads: ``url(...)`` and ``@import``, the latter with or without url().
CSS_URL = re.compile(r"""url\(\s*(['"]?)(.*?)\1\s*\)""", re.I | re.S)
CSS_IMPORT = re.compile(r"@import\b\s*([^;]*)", re.I)


#: The PDF variants a build may ask for: archival and tagged (PDF/A-3a, the default),
#: accessible (PDF/UA-1), or a plain untagged PDF.
PDF_VARIANTS = ("pdf/a-3a", "pdf/ua-1", "none")
DEFAULT_PDF_VARIANT = "pdf/a-3a"


@dataclass(frozen=True)
class EmbeddedFile:
    """A file the PDF carries inside itself.

    ``relationship`` says what it is to the report, in PDF/A-3's words: ``Data`` (the numbers
    the report shows), ``Source`` (what it was made from), ``Supplement``...
    """

    name: str
    data: bytes
    description: str
    relationship: str = "Supplement"
    media_type: str = "application/octet-stream"


class RenderError(UserError):
    """The report cannot be rendered: a value is missing or a resource is not self-contained."""


@functools.cache
def environment() -> jinja2.Environment:
    """The report's Jinja environment: package templates, autoescape, StrictUndefined."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("fmnist_report", "templates"),
        autoescape=jinja2.select_autoescape(["html"]),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(FILTERS)
    return env


def stylesheet(name: str) -> str:
    """One of the report's stylesheets (``screen.css``, ``print.css``) from the package assets."""
    return importlib.resources.files(ASSETS).joinpath(name).read_text(encoding="utf-8")


def _template_line(exc: BaseException) -> str:
    """``template.html line N`` of the innermost template frame in a traceback, or ''."""
    where = ""
    tb = exc.__traceback__
    while tb is not None:
        name = tb.tb_frame.f_code.co_filename
        if name.endswith((".html", ".j2")):
            where = f"{name.rsplit('/', 1)[-1]} line {tb.tb_lineno}"
        tb = tb.tb_next
    return where


def render_html(context: Mapping[str, Any], template: str = TEMPLATE) -> str:
    """The report as one self-contained HTML page."""
    env = environment()
    styles = {"screen_css": stylesheet("screen.css"), "print_css": stylesheet("print.css")}
    try:
        layout = env.get_template(template)
        # The fonts hold only the glyphs the page prints: a first pass, without them, says which.
        text = layout.render(**context, **styles, font_css="")
        page = layout.render(**context, **styles, font_css=font_css(text))
    except jinja2.UndefinedError as exc:
        where = _template_line(exc)
        raise RenderError(
            f"cannot render the report: {where + ': ' if where else ''}{exc.message}, a value the "
            "results do not provide; rebuild them with `fmnist-report build`"
        ) from None
    leak = external_reference(page)
    if leak:
        raise RenderError(
            f"the report would load {leak!r} from outside the file; remove it from the template"
        )
    return page


def font_css(page: str) -> str:
    """The ``@font-face`` rules of the report's own fonts (`report.fonts`), subset to ``page``."""
    problem = fonts.missing_fonts_problem()
    if problem:
        raise RenderError(problem)
    return fonts.font_face_css(page)


def render_model_card(card: Mapping[str, Any]) -> str:
    """``model_card.md``: the exported model's card (`sections.model_card`) as Markdown."""
    return environment().get_template("model_card.md").render(card=card)


def external_reference(html: str) -> str:
    """The first resource the page would load from outside itself, or ''.

    Loads are the ``src``-like attributes of any element, ``href`` on anything but a link
    (``<a>``, ``<area>``), and ``url()`` or ``@import`` in a ``<style>`` element or a ``style``
    attribute; ``data:`` URIs and ``#fragments`` are part of the page. Links and text are free:
    a reference may link to its source, and a title may contain ``//`` or ``http:``.
    """
    scanner = _LoadScanner()
    scanner.feed(html)
    scanner.close()
    return next((load for load in scanner.loads if not _inside(load[1])), ("", ""))[0]


def _inside(url: str) -> bool:
    """Whether a URL names something within the page: a data: URI or a fragment."""
    url = url.strip()
    return url.lower().startswith("data:") or url.startswith("#")


def _css_loads(css: str) -> list[tuple[str, str]]:
    loads = [(f"url({m.group(2)})", m.group(2)) for m in CSS_URL.finditer(css)]
    # An @import always fetches a stylesheet, even of a data: URI: the report inlines its CSS.
    return loads + [(f"@import {m.group(1).strip()}", "@import") for m in CSS_IMPORT.finditer(css)]


class _LoadScanner(HTMLParser):
    """Collects ``(description, url)`` of everything the page would fetch."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.loads: list[tuple[str, str]] = []
        self._in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if value is None:
                continue
            if name in LOAD_ATTRIBUTES or (name == "href" and tag not in LINK_ELEMENTS):
                self.loads.append((f'<{tag} {name}="{value[:60]}">', value))
            elif name == "style":
                self.loads += _css_loads(value)
        self._in_style = tag == "style"

    def handle_endtag(self, tag: str) -> None:
        self._in_style = False

    def handle_data(self, data: str) -> None:
        if self._in_style:
            self.loads += _css_loads(data)


def render_pdf(
    html: str, *, variant: str | None = DEFAULT_PDF_VARIANT, attachments: Sequence[EmbeddedFile] = ()
) -> bytes:
    """The report as PDF, from the same HTML; WeasyPrint may fetch nothing but data: URIs.

    Args:
        variant: one of :data:`PDF_VARIANTS`; PDF/A-3a and PDF/UA-1 are tagged, carry the
            title, author and language in their XMP metadata and state their conformance there.
        attachments: files embedded in the PDF (PDF/A-3 allows any kind, each with its relationship).
    """
    import logging

    from weasyprint import HTML, Attachment
    from weasyprint.urls import FatalURLFetchingError, URLFetcher

    from fmnist_report.report import pdf_log

    if variant is not None and variant not in PDF_VARIANTS:
        raise RenderError(f"PDF variant must be one of {', '.join(PDF_VARIANTS)}, got {variant!r}")
    # WeasyPrint logs every CSS property it does not know; the browser-only ones are expected.
    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    fetcher = URLFetcher(allowed_protocols={"data"}, fail_on_errors=True)
    embedded = [
        Attachment(
            # A data: URI, the one scheme the fetcher allows, carries the media type with the bytes.
            url=f"data:{a.media_type};base64,{base64.b64encode(a.data).decode()}",
            url_fetcher=fetcher,
            name=a.name,
            description=a.description,
            relationship=a.relationship,
        )
        # WeasyPrint writes the name tree in the order given; ISO 32000-1 7.9.6 wants its keys sorted.
        for a in sorted(attachments, key=lambda a: a.name)
    ]
    # What WeasyPrint cannot use (an image it cannot decode) it logs, data: URI and all, and
    # leaves out; those records stay off the console and stop the build in one line instead.
    with pdf_log.caught() as problems:
        try:
            pdf = HTML(string=html, url_fetcher=fetcher, media_type="print").write_pdf(
                pdf_variant=None if variant in (None, "none") else variant,
                attachments=embedded,
                finisher=_list_each_file_once,
            )
        except FatalURLFetchingError as exc:
            raise RenderError(
                f"the PDF needs a resource from outside the report ({exc}); embed it as a data: URI"
            ) from None
    if problems:
        raise RenderError(pdf_log.describe(problems[0], html))
    return pdf


def _list_each_file_once(document: Any, pdf: Any) -> None:
    """WeasyPrint 70 lists each PDF/A-3 attachment twice in the catalogue's /AF; keep one of each."""
    listed = pdf.catalog.get("AF")
    if listed:
        unique = list(dict.fromkeys(listed))
        listed.clear()
        listed.extend(unique)
