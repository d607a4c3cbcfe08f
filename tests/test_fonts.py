"""The report's own fonts, in the page and the PDF; title text no installed font can print."""

from __future__ import annotations

import base64
import io
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import matplotlib
import pikepdf
import pytest
from fontTools.ttLib import TTFont, woff2

from fmnist_report import pipeline
from fmnist_report.config import Config, ReportMeta
from fmnist_report.report import fonts, render

from .factories import make_context, needs_pango

AUTHOR = "Zoë Ångström"
SANS = "fmnist-report DejaVu Sans"
MONO = "fmnist-report DejaVu Sans Mono"
FONT_FACE = re.compile(r"@font-face\s*\{(.*?)\}", re.S)
MPL_FONTS = Path(matplotlib.get_data_path()) / "fonts" / "ttf"


def font_faces(page: str) -> list[dict]:
    """Each @font-face rule of the page: its descriptors, media type and the decoded font."""
    faces = []
    for rule in FONT_FACE.findall(page):
        media_type, data = re.search(r"url\(data:([^;,]+);base64,([^)]+)\)", rule).groups()
        raw = base64.b64decode(data, validate=True)
        faces.append(
            {
                "family": re.search(r'font-family:\s*"([^"]+)"', rule).group(1),
                "weight": int(re.search(r"font-weight:\s*(\d+)", rule).group(1)),
                "style": re.search(r"font-style:\s*(\w+)", rule).group(1),
                "media_type": media_type,
                "raw": raw,
                "font": TTFont(io.BytesIO(raw)),
            }
        )
    return faces


def families(css: str, selector: str) -> list[str]:
    """The font-family list of ``selector``'s first rule in ``css``."""
    body = re.search(rf"(?m)^{re.escape(selector)}\s*\{{(.*?)\}}", css, re.S).group(1)
    value = re.search(r"font-family:\s*([^;]+);", body).group(1)
    return [name.strip().strip('"') for name in value.split(",")]


def embedded_fonts(pdf: bytes) -> dict[str, TTFont]:
    """The PDF's embedded TrueType programs, by BaseFont name (``ABCDEF+Name``)."""
    found = {}
    with pikepdf.open(io.BytesIO(pdf)) as doc:
        for page in doc.pages:
            for font in page.Resources.get("/Font", {}).values():
                descendant = font.DescendantFonts[0] if "/DescendantFonts" in font else font
                program = descendant.FontDescriptor.get("/FontFile2")
                if program is not None:
                    found[str(font.BaseFont)[1:]] = TTFont(io.BytesIO(program.read_bytes()))
    return found


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    _, _, ctx = make_context(tmp_path_factory.mktemp("fonts") / "out", author=AUTHOR)
    return render.render_html(ctx)


def test_the_page_defines_every_dejavu_face_from_a_data_uri(page):
    faces = font_faces(page)
    assert {(f["family"], f["weight"], f["style"]) for f in faces} == {
        (family, weight, style)
        for family in (SANS, MONO)
        for weight in (400, 700)
        for style in ("normal", "italic")
    }
    assert len(faces) == 8
    subfamily = {(400, "normal"): "Book", (700, "normal"): "Bold", (400, "italic"): "Oblique"}
    for face in faces:
        names = face["font"]["name"]
        assert names.getDebugName(1) == {SANS: "DejaVu Sans", MONO: "DejaVu Sans Mono"}[face["family"]]
        assert names.getDebugName(2) == subfamily.get((face["weight"], face["style"]), "Bold Oblique")
        assert "Bitstream" in names.getDebugName(0) and "Bitstream Vera" in names.getDebugName(13)


def test_each_face_holds_the_page_s_characters_and_little_else(page):
    for face in font_faces(page):
        cmap = face["font"].getBestCmap()
        # The author's name, in either case (labels are text-transformed to upper case).
        assert all(ord(c) in cmap for c in AUTHOR + AUTHOR.upper() if c != " "), face["family"]
        assert ord("\u00a0") in cmap  # the no-break space, which the source need not show
        assert ord("Ж") not in cmap  # DejaVu has Cyrillic; this page does not print it
        assert len(face["raw"]) < 16_000  # the whole TTFs are 250 to 760 kB


def test_the_fonts_are_woff2_where_brotli_is_there_and_woff_otherwise(page, monkeypatch):
    if woff2.haveBrotli:
        assert {(f["media_type"], f["raw"][:4]) for f in font_faces(page)} == {("font/woff2", b"wOF2")}
    monkeypatch.setattr(woff2, "haveBrotli", False)
    (face, *_) = font_faces(fonts.font_face_css("Zoë"))
    assert (face["media_type"], face["raw"][:4]) == ("font/woff", b"wOFF")
    assert face["font"]["name"].getDebugName(1) == "DejaVu Sans"


def test_characters_written_as_entities_are_in_the_fonts():
    (face, *_) = font_faces(fonts.font_face_css("<p>caf&eacute; &#x2192; &#1046;</p>"))
    cmap = face["font"].getBestCmap()
    assert {ord("é"), ord("É"), ord("→"), ord("Ж"), ord("ж")} <= cmap.keys()


def test_print_and_screen_css_name_the_shipped_families_first_then_cjk_and_emoji(page):
    defined = {f["family"] for f in font_faces(page)}
    printed = render.stylesheet("print.css")
    assert families(printed, "html") == [
        SANS,
        "Noto Sans CJK SC",
        "Noto Sans CJK JP",
        "Noto Sans CJK KR",
        "sans-serif",
    ]
    screen = render.stylesheet("screen.css")
    assert families(screen, "html") == [SANS, "Noto Sans CJK SC", "Noto Color Emoji", "sans-serif"]
    for css in (printed, screen):
        assert families(css, "code")[0] == MONO
    assert {SANS, MONO} <= defined


def test_the_same_context_renders_the_same_bytes(page, tmp_path):
    fonts.subset.cache_clear()
    _, _, ctx = make_context(tmp_path / "out", author=AUTHOR)
    again = render.render_html(ctx)
    assert FONT_FACE.findall(again) == FONT_FACE.findall(page)


@needs_pango
def test_the_pdf_embeds_matplotlib_s_dejavu(page):
    embedded = embedded_fonts(render.render_pdf(page))
    names = {name.split("+", 1)[1] for name in embedded}
    assert {
        "fmnist-report-DejaVu-Sans",
        "fmnist-report-DejaVu-Sans-Bold",
        "fmnist-report-DejaVu-Sans-Mono",
    } <= names
    shipped = TTFont(MPL_FONTS / "DejaVuSans.ttf", lazy=True)["head"].fontRevision
    for name, font in embedded.items():
        if "DejaVu" in name:
            assert font["name"].getDebugName(1).startswith("DejaVu Sans")
            # matplotlib's copy, not an installed DejaVu of another version (2.37 on Debian)
            assert font["head"].fontRevision == shipped, name


@needs_pango
def test_the_pdf_sets_dejavu_where_fontconfig_knows_no_font(page, tmp_path):
    conf = tmp_path / "fonts.conf"
    conf.write_text(
        '<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "urn:fontconfig:fonts.dtd">\n<fontconfig/>\n'
    )
    env = {**os.environ, "FONTCONFIG_FILE": str(conf), "XDG_CACHE_HOME": str(tmp_path / "cache")}
    if shutil.which("fc-list"):
        assert subprocess.run(["fc-list"], env=env, capture_output=True, text=True).stdout == ""
    html, pdf = tmp_path / "report.html", tmp_path / "report.pdf"
    html.write_text(page, encoding="utf-8")
    script = (
        "import sys, pathlib; from fmnist_report.report import render; "
        "p = pathlib.Path; p(sys.argv[2]).write_bytes(render.render_pdf(p(sys.argv[1]).read_text('utf-8')))"
    )
    run = subprocess.run(
        [sys.executable, "-c", script, str(html), str(pdf)], env=env, capture_output=True, text=True
    )
    assert run.returncode == 0, run.stderr[-2000:]
    embedded = embedded_fonts(pdf.read_bytes())
    assert embedded and all("+fmnist-report-DejaVu-Sans" in name for name in embedded), sorted(embedded)
    assert {f["name"].getDebugName(1) for f in embedded.values()} == {"DejaVu Sans", "DejaVu Sans Mono"}


def test_missing_fonts_names_each_absent_or_unreadable_file(tmp_path, monkeypatch):
    assert fonts.missing_fonts() == []  # this install has matplotlib's fonts
    files = [
        "DejaVuSans.ttf",
        "DejaVuSans-Bold.ttf",
        "DejaVuSans-Oblique.ttf",
        "DejaVuSans-BoldOblique.ttf",
        "DejaVuSansMono.ttf",
        "DejaVuSansMono-Bold.ttf",
        "DejaVuSansMono-Oblique.ttf",
        "DejaVuSansMono-BoldOblique.ttf",
    ]
    for name in files[1:]:
        (tmp_path / name).write_bytes(b"\x00\x01\x00\x00" + bytes(60))
    (tmp_path / files[2]).write_bytes(b"version https://git-lfs.github.com/spec/v1\n")  # not a font
    (tmp_path / files[4]).unlink()
    (tmp_path / files[4]).mkdir()  # there, but no file to read
    monkeypatch.setattr(fonts, "font_dir", lambda: tmp_path)
    assert fonts.missing_fonts() == [str(tmp_path / files[i]) for i in (0, 2, 4)]


def test_a_render_without_the_fonts_fails_with_one_line_naming_them(tmp_path, monkeypatch):
    _, _, ctx = make_context(tmp_path / "out")
    monkeypatch.setattr(fonts, "font_dir", lambda: tmp_path / "nowhere")
    with pytest.raises(render.RenderError) as info:
        render.render_html(ctx)
    message = str(info.value)
    assert "\n" not in message and "DejaVuSansMono-Bold.ttf" in message and "matplotlib" in message


def test_text_without_a_font_is_one_warning_naming_the_characters_and_the_fix(monkeypatch):
    monkeypatch.setattr(pipeline, "font_covers", lambda c: ord(c) < 0x3000)
    cfg = Config(report=ReportMeta(title="卷积 on Fashion-MNIST 😀", author="Ada Lovelace"))
    (warning,) = pipeline.check_report_text(cfg)
    assert warning.startswith("report.title holds characters no installed font has (卷积😀)")
    assert "empty boxes" in warning and "fonts-noto-cjk" in warning


def test_latin_text_asks_no_font_and_gives_no_warning(monkeypatch):
    asked = []
    monkeypatch.setattr(pipeline, "font_covers", lambda c: asked.append(c) or True)
    assert pipeline.check_report_text(Config(report=ReportMeta(title="Réseaux — Fashion-MNIST"))) == []
    assert asked == ["—"]  # Latin letters are not looked up, the dash is, and it is covered


def test_the_installed_fonts_cover_what_the_report_itself_prints():
    assert all(pipeline.font_covers(c) for c in "Aé±×—")
