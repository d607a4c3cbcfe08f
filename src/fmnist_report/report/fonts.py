"""The report's own fonts: DejaVu Sans and DejaVu Sans Mono, as matplotlib ships them.

The print and screen CSS name these families first, and the page defines them with
``@font-face`` rules whose fonts are ``data:`` URIs, so a report sets its text in the same
font, and paginates the same, on Linux, macOS, Windows or Colab, with or without DejaVu
installed. The fonts are no files of this project: matplotlib, a core dependency, carries the
TTFs and their licence (``LICENSE_DEJAVU``, the DejaVu fonts licence, a free licence derived
from Bitstream Vera's) in ``mpl-data/fonts/ttf``.

Each face is subset to the characters the page prints, without hinting, as WOFF2 where
fontTools can compress it (brotli) and WOFF otherwise; the PDF, made from the same page,
takes the same faces, and WeasyPrint subsets them again to the glyphs it uses.

The CSS family names are the report's own ("fmnist-report DejaVu Sans"), not "DejaVu Sans":
WeasyPrint's fontconfig does not let a ``@font-face`` rule hide an installed font of the same
name, and a system's DejaVu (2.37 on Debian) would win over matplotlib's (2.35). The fonts
themselves keep their names, licence and copyright.
"""

from __future__ import annotations

import base64
import functools
import html
import io
import unicodedata
from dataclasses import dataclass
from pathlib import Path

SANS = "fmnist-report DejaVu Sans"
MONO = "fmnist-report DejaVu Sans Mono"
#: TrueType's two sfnt versions: what a readable font file starts with.
SFNT_MAGIC = (b"\x00\x01\x00\x00", b"true")
#: What a page may print that its source need not hold: ASCII, the no-break space, the soft
#: hyphen and the hyphen WeasyPrint adds where ``hyphens: auto`` breaks a word, dashes, quotes, the
#: ellipsis and the list bullets.
ALWAYS = (
    "".join(map(chr, range(0x20, 0x7F)))
    + "\u00a0\u00ad\u2010\u2011\u2013\u2014\u2018\u2019\u201c\u201d\u2022\u2026\u25aa\u25e6"
)
#: The name records each subset keeps: copyright, names, version, and the licence's text and address.
NAME_IDS = (0, 1, 2, 3, 4, 5, 6, 13, 14)


@dataclass(frozen=True)
class Face:
    """One font file and the CSS family, weight and style it stands for."""

    family: str
    weight: int
    style: str
    file: str


#: DejaVu's obliques stand for italic, as on any system that installs DejaVu.
FACES = (
    Face(SANS, 400, "normal", "DejaVuSans.ttf"),
    Face(SANS, 700, "normal", "DejaVuSans-Bold.ttf"),
    Face(SANS, 400, "italic", "DejaVuSans-Oblique.ttf"),
    Face(SANS, 700, "italic", "DejaVuSans-BoldOblique.ttf"),
    Face(MONO, 400, "normal", "DejaVuSansMono.ttf"),
    Face(MONO, 700, "normal", "DejaVuSansMono-Bold.ttf"),
    Face(MONO, 400, "italic", "DejaVuSansMono-Oblique.ttf"),
    Face(MONO, 700, "italic", "DejaVuSansMono-BoldOblique.ttf"),
)
#: format() and media type of each flavour a face can be embedded as.
FORMATS = {"woff2": ("woff2", "font/woff2"), "woff": ("woff", "font/woff")}


def font_dir() -> Path:
    """The folder of matplotlib's TrueType fonts (``mpl-data/fonts/ttf``)."""
    import matplotlib  # the top-level module only: no pyplot, no backend

    return Path(matplotlib.get_data_path()) / "fonts" / "ttf"


def missing_fonts() -> list[str]:
    """The report's font files that are missing or unreadable, as paths; [] when all are there."""
    try:
        folder = font_dir()
    except ImportError:
        return [face.file for face in FACES]
    missing = []
    for face in FACES:
        path = folder / face.file
        try:
            with path.open("rb") as f:
                if f.read(4) not in SFNT_MAGIC:
                    missing.append(str(path))
        except OSError:
            missing.append(str(path))
    return missing


def missing_fonts_problem() -> str | None:
    """What is wrong with the shipped fonts and how to mend it, in one line; None when all are there."""
    missing = missing_fonts()
    if not missing:
        return None
    return (
        f"the report's fonts are missing or damaged ({', '.join(missing)}); they come with "
        "matplotlib: reinstall it (python scripts/dev.py setup, or pip install --force-reinstall matplotlib)"
    )


@functools.cache
def _shipped_cmap() -> frozenset[int]:
    from fontTools.ttLib import TTFont

    with TTFont(font_dir() / FACES[0].file, lazy=True) as font:
        return frozenset(font.getBestCmap())


def covers(char: str) -> bool:
    """Whether the shipped DejaVu Sans has a glyph for ``char`` (False where it cannot be read)."""
    try:
        return ord(char) in _shipped_cmap()
    except (OSError, ImportError):
        return False


def flavor() -> str:
    """``woff2`` where fontTools can write it (it needs brotli), else ``woff`` (zlib)."""
    from fontTools.ttLib import woff2

    return "woff2" if woff2.haveBrotli else "woff"


def characters(page: str) -> str:
    """What the page may print, sorted: the characters of its source, entities decoded, both
    cases of each (CSS may ``text-transform`` them), and :data:`ALWAYS`."""
    chars = set(html.unescape(page))
    chars |= {c for char in chars for c in char.upper() + char.lower()}
    chars |= set(ALWAYS)
    # Controls and lone surrogates have no glyph; spaces and format characters (the soft hyphen) do.
    return "".join(sorted(c for c in chars if unicodedata.category(c) not in ("Cc", "Cs")))


def font_face_css(page: str) -> str:
    """``@font-face`` rules of every face in :data:`FACES`, each a ``data:`` URI holding the
    glyphs of the characters ``page`` (the HTML source, markup and all) may print."""
    kind = flavor()
    fmt, media_type = FORMATS[kind]
    chars = characters(page)
    rules = [
        "/* DejaVu Sans and DejaVu Sans Mono from matplotlib (DejaVu fonts licence), subset to this page. */"
    ]
    for face in FACES:
        data = base64.b64encode(subset(face.file, chars, kind)).decode("ascii")
        rules.append(
            f'@font-face {{ font-family: "{face.family}"; font-weight: {face.weight}; '
            f'font-style: {face.style}; src: url(data:{media_type};base64,{data}) format("{fmt}"); }}'
        )
    return "\n".join(rules) + "\n"


@functools.lru_cache(maxsize=32)
def subset(file: str, chars: str, kind: str) -> bytes:
    """The font ``file`` of :func:`font_dir` cut down to ``chars``, as ``kind`` (woff2, woff).

    Layout features (kerning, ligatures, marks) stay, so text is set as with the whole font;
    hinting goes: it halves the size, and WeasyPrint lays text out without it.
    """
    from fontTools import subset as ft_subset

    options = ft_subset.Options()
    options.flavor = kind
    options.hinting = False
    options.name_IDs = list(NAME_IDS)
    options.drop_tables += ["FFTM"]  # FontForge's timestamps, which fontTools cannot subset
    font = ft_subset.load_font(str(font_dir() / file), options)
    subsetter = ft_subset.Subsetter(options)
    subsetter.populate(text=chars)
    subsetter.subset(font)
    out = io.BytesIO()
    ft_subset.save_font(font, out, options)
    return out.getvalue()
