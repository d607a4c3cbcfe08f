"""The Jinja environment, filters, self-contained HTML and the PDF, on the synthetic context."""

from __future__ import annotations

import re
import shutil
import subprocess

import jinja2
import pytest

from fmnist_report.errors import UserError
from fmnist_report.report import render

from .factories import FIGURES, HEADINGS, assert_self_contained, check_html, make_context, needs_pango, png


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    _, _, ctx = make_context(tmp_path_factory.mktemp("render") / "out", author="Ada <b>Tester</b> & Co")
    return ctx, render.render_html(ctx)


def test_environment_is_strict_autoescaping_with_the_filters():
    env = render.environment()
    assert env.undefined is jinja2.StrictUndefined
    assert env.autoescape("base.html") is True
    assert {"pct", "pp", "num", "mean_ci", "pvalue"} <= env.filters.keys()
    assert env.from_string("{{ x | pct }} {{ y | num }}").render(x=0.9123, y=60000) == "91.23% 60,000"


def test_html_is_complete_balanced_and_self_contained(synthetic):
    ctx, html = synthetic
    checker = check_html(html)
    assert checker.problems == []
    assert [" ".join(h.split()) for h in checker.h2] == list(HEADINGS)
    assert_self_contained(html, checker)
    figures = [img for img in checker.imgs if "thumb" not in img.get("class", "")]
    assert len(figures) == len(FIGURES) == ctx["figure_count"]
    assert sum("thumb" in img.get("class", "") for img in checker.imgs) == 10
    assert html.count("<figure") == len(FIGURES)
    assert "screen" in html and "@page" in html  # both stylesheets inline


def test_text_from_the_config_is_escaped(synthetic):
    _, html = synthetic
    assert "Ada &lt;b&gt;Tester&lt;/b&gt; &amp; Co" in html
    assert "<b>Tester</b>" not in html


def test_numbers_pass_through_the_filters(synthetic):
    ctx, html = synthetic
    cnn = ctx["summary"]["cnn"]["accuracy"]
    assert f"{cnn['mean'] * 100:.2f}% ± {cnn['ci_half'] * 100:.2f}%" in html
    assert "235,146" in html  # the baseline's parameters, with separators


def test_a_missing_value_fails_with_one_line_naming_it(tmp_path):
    _, _, ctx = make_context(tmp_path)
    del ctx["summary"]["comparison"]
    with pytest.raises(render.RenderError) as info:
        render.render_html(ctx)
    message = str(info.value)
    assert isinstance(info.value, UserError) and "\n" not in message
    assert "summary.html line" in message and "'comparison'" in message
    assert "fmnist-report build" in message


@needs_pango
def test_text_and_links_may_name_addresses_but_nothing_is_loaded(tmp_path):
    title = "CNNs // Fashion-MNIST, see http: and https://example.com"
    evidence = [
        {
            "id": "x",
            "claim": "A claim",
            "paragraphs": ["See https://example.com/paper."],
            "figures": [],
            "tables": [],
        }
    ]
    _, _, ctx = make_context(tmp_path, evidence=evidence, title=title)
    html = render.render_html(ctx)
    assert f">{title}</h1>" in html and "See https://example.com/paper." in html
    checker = check_html(html)
    assert_self_contained(html, checker)
    assert "https://arxiv.org/abs/1708.07747" in checker.links
    assert "https://github.com/zalandoresearch/fashion-mnist" in checker.links
    assert render.render_pdf(html, variant=None)[:5] == b"%PDF-"


@pytest.mark.parametrize(
    ("page", "named"),
    [
        ('<img src="https://example.com/x.png" alt="x">', '<img src="https://example.com/x.png">'),
        ('<script src="//cdn.example.com/x.js"></script>', "<script src="),
        ('<link rel="stylesheet" href="x.css">', '<link href="x.css">'),
        ('<svg><image href="http://example.com/x.svg"/></svg>', "<image href="),
        ("<style>body { background: url('https://example.com/bg.png') }</style>", "url(https://example.com"),
        ("<style>@import 'theme.css';</style>", "@import 'theme.css'"),
        ('<p style="background: url(//example.com/x.png)">x</p>', "url(//example.com/x.png)"),
    ],
)
def test_every_kind_of_resource_load_is_found(page, named):
    assert named in render.external_reference(page)


def test_data_uris_fragments_links_and_text_are_not_loads():
    page = (
        '<p>a // b, http: c</p><a href="https://arxiv.org/abs/1708.07747">paper</a>'
        '<img src="data:image/png;base64,ab//cd" alt="x"><svg><use href="#m"/></svg>'
        "<style>p { background: url(data:image/png;base64,AA//) }</style>"
    )
    assert render.external_reference(page) == ""


def test_a_stylesheet_that_loads_from_outside_is_refused(tmp_path, monkeypatch):
    _, _, ctx = make_context(tmp_path)
    monkeypatch.setattr(render, "stylesheet", lambda name: "body { font: url(https://example.com/f.woff) }")
    with pytest.raises(render.RenderError, match=r"would load 'url\(https://example.com/f.woff\)'"):
        render.render_html(ctx)


@needs_pango
def test_the_pdf_fetches_nothing_from_outside():
    with pytest.raises(render.RenderError, match="outside the report"):
        render.render_pdf('<p>x</p><img src="https://example.invalid/x.png">')


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="pdftotext (poppler-utils) is not installed")
@needs_pango
def test_pdf_headings_toc_pages_and_numbering(synthetic, tmp_path):
    _, html = synthetic
    pdf = tmp_path / "r.pdf"
    pdf.write_bytes(render.render_pdf(html))
    text = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    pages = text.split("\f")[:-1]
    assert 12 <= len(pages) <= 60
    assert (
        "A Test Report" in pages[0] and "Ada <b>Tester</b> & Co" in pages[0] and "Page 1 of" not in pages[0]
    )
    assert f"Page 2 of {len(pages)}" in pages[1]
    toc_page = next(p for p in pages if "Contents" in p and "Appendix: references" in p)
    for heading in HEADINGS[2:]:
        number, title = heading.split(" ", 1)
        found = re.search(rf"^\s*{re.escape(number)}\s+{re.escape(title)}\s+(\d+)\s*$", toc_page, re.M)
        assert found, f"no TOC line for {heading}"
        target = pages[int(found.group(1)) - 1]
        # The section starts on the page the TOC names, and the running head says so.
        assert re.search(rf"^\s*{re.escape(number)}\s+{re.escape(title)}\s*$", target, re.M), heading
        assert target.splitlines()[0].rstrip().endswith(f"{number} {title}")
    figure_labels = re.findall(r"Figure (\d+)\.", text)
    assert [int(n) for n in figure_labels] == list(range(1, len(FIGURES) + 1))
    table_labels = [int(n) for n in re.findall(r"Table (\d+)\.", text)]
    assert table_labels == list(range(1, len(table_labels) + 1)) and len(table_labels) > 15


def test_write_outputs_swaps_the_figures_and_drops_a_stale_pdf(tmp_path):
    from fmnist_report.config import Config
    from fmnist_report.pipeline import write_outputs
    from fmnist_report.study.summary import summarize

    from .factories import make_results

    cfg = Config(out_dir=tmp_path / "out")
    (cfg.figures_dir).mkdir(parents=True)
    (cfg.figures_dir / "old_figure.png").write_bytes(png(1))
    (cfg.out_dir / "report.pdf").write_bytes(b"%PDF-1.7 an older build")
    summary = summarize(make_results(tmp_path / "study"))
    out = write_outputs(cfg, "<p>new</p>", None, summary, {"new_figure": png(2)})
    assert out.pdf is None and not (cfg.out_dir / "report.pdf").exists()
    assert sorted(p.name for p in cfg.figures_dir.iterdir()) == ["new_figure.png"]
    assert (cfg.out_dir / "report.html").read_text() == "<p>new</p>"
    assert (cfg.out_dir / "metrics.json").read_text(encoding="utf-8") == summary.to_json()
    rows = (cfg.out_dir / "metrics.csv").read_text(encoding="utf-8").splitlines()
    assert rows[:3] == ["path,value", "/schema_version,2", "/study/epochs,2"]
    assert "/models/cnn3/params,421642" in rows
    assert not list(cfg.out_dir.glob(".tmp-*"))
