"""The one Jinja environment, with the report's filters, and the HTML and PDF writers.

Templates only lay out the values of the report context; every number passes through a
filter of `report.formatting`, registered here. The HTML carries its CSS inline and its
images as ``data:`` URIs, so it is one self-contained file; the PDF is made from that same
HTML by WeasyPrint.
"""

from __future__ import annotations

import functools
import importlib.resources
from collections.abc import Mapping
from typing import Any

import jinja2

from fmnist_report.errors import UserError
from fmnist_report.report.formatting import FILTERS

TEMPLATE = "base.html"
ASSETS = "fmnist_report.assets"
#: Strings that must never appear in the HTML outside a data: URI: the report loads nothing.
EXTERNAL_MARKERS = ("http:", "https:", "ftp:", "file:", "//")


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
    try:
        page = env.get_template(template).render(
            **context, screen_css=stylesheet("screen.css"), print_css=stylesheet("print.css")
        )
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


def external_reference(html: str) -> str:
    """The first reference to anything outside the page (data: URIs aside), or ''."""
    stripped = _strip_data_uris(html)
    lowered = stripped.lower()
    for marker in EXTERNAL_MARKERS:
        at = lowered.find(marker)
        if at >= 0:
            return stripped[max(0, at - 20) : at + 40]
    return ""


def _strip_data_uris(html: str) -> str:
    out, pos = [], 0
    while (at := html.find("data:", pos)) >= 0:
        end = html.find('"', at)
        end = len(html) if end < 0 else end
        out.append(html[pos:at])
        pos = end
    out.append(html[pos:])
    return "".join(out)


def render_pdf(html: str) -> bytes:
    """The report as PDF, from the same HTML; WeasyPrint may fetch nothing but data: URIs."""
    import logging

    from weasyprint import HTML
    from weasyprint.urls import FatalURLFetchingError, URLFetcher

    # WeasyPrint logs every CSS property it does not know; the browser-only ones are expected.
    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    fetcher = URLFetcher(allowed_protocols={"data"}, fail_on_errors=True)
    try:
        return HTML(string=html, url_fetcher=fetcher, media_type="print").write_pdf()
    except FatalURLFetchingError as exc:
        raise RenderError(
            f"the PDF needs a resource from outside the report ({exc}); embed it as a data: URI"
        ) from None
