"""What the README promises about the outputs, read from the README itself, not from the code's constants."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from fmnist_report.report import render
from fmnist_report.report.figures import comparison, render_all
from fmnist_report.study.summary import summarize

from .factories import SKILL, fake_results, make_context, needs_pango, predictions_with_skill

README = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")
#: ISO 216 sheet sizes in millimetres.
ISO_MM = {"A3": (297, 420), "A4": (210, 297), "A5": (148, 210), "Letter": (215.9, 279.4)}
POINTS_PER_MM = 72 / 25.4
LONG_TITLE = "W" * 300  # the longest title the settings allow, and no space to break it at

needs_poppler = pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils is not installed")


def readme_value(pattern: str) -> str:
    found = re.search(pattern, README)
    assert found, f"the README no longer says {pattern!r}"
    return found.group(1)


@pytest.fixture(scope="module")
def pdf_words(tmp_path_factory) -> list[dict]:
    """Every word of the synthetic report's PDF with its page's size and its box, in points."""
    root = tmp_path_factory.mktemp("promises")
    _, _, ctx = make_context(root / "out", title=LONG_TITLE, author="A" * 300)
    pdf = root / "r.pdf"
    pdf.write_bytes(render.render_pdf(render.render_html(ctx)))
    xml = subprocess.run(
        ["pdftotext", "-bbox", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    words, page = [], None
    for line in xml.splitlines():
        if m := re.search(r'<page width="([\d.]+)" height="([\d.]+)"', line):
            page = {"number": (page or {"number": 0})["number"] + 1, "size": (float(m[1]), float(m[2]))}
            words.append({"page": page, "box": None, "text": ""})  # pages without words still count
        elif m := re.search(
            r'xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">(.*)</word>', line
        ):
            box = tuple(float(v) for v in m.groups()[:4])
            words.append({"page": page, "box": box, "text": m[5]})
    return words


@needs_poppler
@needs_pango
def test_every_pdf_page_has_the_paper_size_the_readme_names(pdf_words):
    paper = readme_value(r"paginated for (A\d|Letter)")
    width, height = (mm * POINTS_PER_MM for mm in ISO_MM[paper])
    sizes = {w["page"]["number"]: w["page"]["size"] for w in pdf_words}
    assert len(sizes) >= 12
    for number, (w, h) in sizes.items():
        assert w == pytest.approx(width, abs=0.5) and h == pytest.approx(height, abs=0.5), number


@needs_poppler
@needs_pango
def test_a_long_unbroken_title_wraps_on_the_title_page(pdf_words):
    title_page = [w for w in pdf_words if w["page"]["number"] == 1 and w["box"]]
    width, _ = title_page[0]["page"]["size"]
    assert "".join(w["text"] for w in title_page if set(w["text"]) == {"W"}) == LONG_TITLE  # all of it
    outside = [w["text"][:20] for w in title_page if w["box"][2] > width or w["box"][0] < 0]
    assert outside == []


def test_figures_have_the_resolution_the_readme_names():
    from PIL import Image

    dpi = int(readme_value(r"every figure on its own, (\d+) dpi"))
    results = fake_results(["dense", "cnn3"], lambda m, s, y: predictions_with_skill(SKILL[m], m, s, y))
    pngs = render_all(comparison.dense_figures(summarize(results)))
    assert pngs
    for name, png in pngs.items():  # PNG stores pixels per metre: 5906 is 150.01 dpi
        assert Image.open(io.BytesIO(png)).info["dpi"] == pytest.approx((dpi, dpi), abs=0.05), name


@needs_poppler
@needs_pango
def test_the_running_head_shortens_a_long_title_with_an_ellipsis(pdf_words):
    later = [w for w in pdf_words if w["page"]["number"] == 3 and w["box"]]
    width, _ = later[0]["page"]["size"]
    head = [w for w in later if w["box"][1] < 22 * POINTS_PER_MM]  # in the top margin
    titled = [w["text"] for w in head if w["text"].startswith("W")]
    assert titled and titled[0].endswith("…") and len(titled[0]) < 80  # shortened, not the 300 W's
    assert all(w["box"][0] >= 0 and w["box"][2] <= width for w in head)  # and inside the page
