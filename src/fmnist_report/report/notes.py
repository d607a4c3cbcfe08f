"""The author's own notes: Markdown files placed between the generated sections.

A note is the author's text, not the tool's: it is rendered with raw HTML off, may embed
only local images (as ``data:`` URIs) and quotes the study's numbers through placeholders,
``{{ cnn3.test_accuracy }}``, filled from the `Summary` and printed as the report prints them,
so that a sentence cannot go stale when the numbers change. :func:`check` looks at every note
before any training and stops the build in one line at a place, a placeholder or an image that
cannot be honoured.
"""

from __future__ import annotations

import base64
import posixpath
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypedDict
from urllib.parse import unquote

from markdown_it import MarkdownIt
from markdown_it.token import Token

from fmnist_report.config import Config
from fmnist_report.errors import ConfigError
from fmnist_report.ids import ID_PATTERN
from fmnist_report.report import formatting, note_files, parts
from fmnist_report.study.summary_types import SEED_METRICS, Summary

#: The place of a note that is a section of its own, before the appendices.
DISCUSSION = "discussion"
#: How each per-seed metric is printed (`formatting.mean_ci` units); counts print as integers.
UNITS = {
    "test_accuracy": "pct",
    "test_loss": "num",
    "train_seconds": "s",
    "latency_ms_batched": "ms",
    "latency_ms_single": "ms",
}
COUNTS = ("params", "flops")
#: The parts of a per-seed summary a placeholder may name after the metric.
FIELDS = ("mean", "std", "ci_low", "ci_high", "n")
#: ``{{ model.metric }}`` or ``{{ model.metric.field }}``; a model id may carry a variant's name
#: in brackets (``cnn3[dropout=0.3]``), in the alphabet `ids` decides for every name.
PLACEHOLDER = re.compile(r"\{\{(.*?)\}\}", re.S)
NAME = re.compile(rf"(?P<model>{ID_PATTERN})\.(?P<metric>[a-z_]+)(?:\.(?P<field>[a-z_]+))?", re.ASCII)
#: ``{{ '{{' }}``: a quoted text in braces prints as it is, as in Jinja, so a note can write ``{{``.
LITERAL = re.compile(r"'([^']*)'|\"([^\"]*)\"")
REMOTE = re.compile(r"^([a-z][a-z0-9+.-]*:|//)", re.I)


@dataclass(frozen=True)
class Note:
    """One note as read: its place, its file, its Markdown text and the settings file's folder."""

    place: str
    path: Path
    text: str
    #: The folder the note was read under: its images' paths print relative to it.
    folder: Path | None = None


def places() -> list[str]:
    """Every place a note may go: ``discussion`` and ``after_<id>`` for each section of the report
    (`parts.places`, from the registry of parts)."""
    return parts.places()


def metric_names() -> list[str]:
    """The metrics a placeholder may name: the Summary's per-seed metrics, their fields and the counts."""
    names = [*COUNTS]
    for metric in SEED_METRICS:
        names += [metric, *(f"{metric}.{f}" for f in FIELDS)]
    return names


def read(config: Config) -> list[Note]:
    """The configured notes, read; a place that does not exist or an unreadable file is a ConfigError.

    A note must be a regular file of at most `note_files.MAX_NOTE_BYTES` inside the settings
    file's folder, symlinks followed (`note_files.read_note`), checked again here for a
    Config made in code.
    """
    known = places()
    folder = config.settings_file.parent if config.settings_file is not None else Path.cwd()
    notes = []
    for place, path in config.notes:
        if place not in known:
            raise ConfigError(
                f"report.notes.{place} names no place of the report; the places are {', '.join(known)}"
            )
        try:
            text = note_files.read_note(place, path, folder).decode("utf-8")
        except UnicodeDecodeError:
            raise ConfigError(
                f"report.notes.{place}: {note_files.shown(path, folder)} cannot be read (not UTF-8 "
                "text); save it as UTF-8"
            ) from None
        notes.append(Note(place, path, text, folder))
    return notes


def check(config: Config, model_ids: Iterable[str]) -> list[Note]:
    """Every note, checked before training against the models the plan will train; returns them.

    A placeholder that names no number, a remote image or a missing local one stops here in one
    line; the placeholder's message lists the valid names.
    """
    notes = read(config)
    ids = list(dict.fromkeys(model_ids))
    for note in notes:
        for name in placeholders(note.text):
            parsed = NAME.fullmatch(name)
            valid = parsed and parsed["model"] in ids and _metric(parsed) in metric_names()
            if not valid:
                examples = ", ".join(f"{m}.{x}" for m in ids for x in (*UNITS, *COUNTS))
                raise ConfigError(
                    f"{note.path}: {{{{ {name} }}}} names no number of this study; valid names are "
                    f"<model>.<metric>[.{'|'.join(FIELDS)}] from {examples}"
                )
        _images(note)
    return notes


def placeholders(text: str) -> list[str]:
    """The names inside ``{{ }}`` in a note's text, stripped; a quoted literal (``{{ '{{' }}``) is none."""
    found = (m.group(1).strip() for m in PLACEHOLDER.finditer(text))
    return [name for name in found if not LITERAL.fullmatch(name)]


def _metric(parsed: re.Match[str]) -> str:
    return parsed["metric"] + (f".{parsed['field']}" if parsed["field"] else "")


def value(summary: Summary, name: str) -> str:
    """A placeholder's number, formatted as the report formats it (`report.formatting`)."""
    parsed = NAME.fullmatch(name)
    if not parsed or parsed["model"] not in summary.models or _metric(parsed) not in metric_names():
        raise ConfigError(
            f"{{{{ {name} }}}} names no number of this build; models are {', '.join(summary.models)}"
        )
    row: Mapping[str, Any] = summary.models[parsed["model"]]  # read by the metric the placeholder names
    metric, field = parsed["metric"], parsed["field"]
    if metric in COUNTS:
        return formatting.num(row[metric])
    unit = UNITS.get(metric, "num")
    if field is None:
        return formatting.mean_ci(row[metric], unit)
    number = row[metric][field]
    if field == "n":
        return formatting.num(number)
    return formatting.pct(number) if unit == "pct" else formatting.fmt(number, unit) + _SUFFIX.get(unit, "")


_SUFFIX = {"s": " s", "ms": " ms"}


def fill(text: str, summary: Summary) -> str:
    """A note's text with every placeholder replaced by its number, and every quoted literal by its text."""

    def one(match: re.Match[str]) -> str:
        name = match.group(1).strip()
        literal = LITERAL.fullmatch(name)
        if literal:
            return literal.group(1) if literal.group(1) is not None else literal.group(2)
        return value(summary, name)

    return PLACEHOLDER.sub(one, text)


def markdown() -> MarkdownIt:
    """CommonMark with tables, raw HTML off: a ``<script>`` in a note prints as text."""
    return MarkdownIt("commonmark", {"html": False}).enable("table")


def _image_tokens(tokens: Sequence[Token]) -> Iterable[Token]:
    for token in tokens:
        if token.type == "image":
            yield token
        if token.children:
            yield from _image_tokens(token.children)


def _images(note: Note) -> dict[str, str]:
    """Each image a note shows, as src -> data: URI; a remote, outside or broken one is a ConfigError.

    A local image is checked by `note_files.image_uri`: beside the note or under its folder,
    symlinks followed, URL-decoded, and by its content a PNG, JPEG or GIF of bounded size.
    """
    embedded = {}
    for token in _image_tokens(markdown().parse(note.text)):
        src = str(token.attrs.get("src", ""))
        if REMOTE.match(src) and not src.startswith("data:"):
            raise ConfigError(
                f"{note.path}: the image {src[:60]!r} is not a local file; the report loads nothing from "
                "outside, so save the image beside the note and name its path"
            )
        if src.startswith("data:"):
            embedded[src] = src
            continue
        embedded[src] = note_files.image_uri(note.path, note.folder or note.path.parent, src)
    return embedded


#: The blocks a note's text flows in: each is laid out in the direction of its own first letter.
BLOCKS = ("p", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "ul", "ol", "li", "table", "th", "td")


def direction(text: str) -> str:
    """``rtl`` where the first letter of strong direction is right-to-left (Arabic, Hebrew...),
    ``ltr`` where it is left-to-right, ``auto`` where there is none (digits, punctuation).

    This is the rule of HTML's ``dir="auto"``, written out because WeasyPrint reads only
    ``ltr`` and ``rtl``: the HTML and the PDF lay a block out alike.
    """
    for char in text:
        kind = unicodedata.bidirectional(char)
        if kind in ("R", "AL"):
            return "rtl"
        if kind == "L":
            return "ltr"
    return "auto"


def _directions(tokens: Sequence[Token]) -> None:
    """Give each block of a rendered note its ``dir``, from the text it holds (`direction`)."""
    for at, token in enumerate(tokens):
        if token.nesting != 1 or token.tag not in BLOCKS:
            continue
        depth, text = 0, []
        for inner in tokens[at:]:
            depth += inner.nesting
            text += [c.content for c in inner.children or [] if c.type in ("text", "code_inline")]
            if depth == 0:
                break
        token.attrSet("dir", direction("".join(text)))


def to_html(note: Note, summary: Summary) -> str:
    """One note as HTML: placeholders filled, Markdown rendered, images embedded."""
    md = markdown()
    images = _images(note)
    tokens = md.parse(fill(note.text, summary))
    for token in _image_tokens(tokens):
        token.attrs["src"] = images[str(token.attrs["src"])]
    # The note's headings sit under the report's section headings (h2).
    for token in tokens:
        if token.type in ("heading_open", "heading_close"):
            token.tag = f"h{min(int(token.tag[1]) + 2, 6)}"
    _directions(tokens)
    return md.renderer.render(tokens, md.options, {})


class NoteValues(TypedDict):
    """A note as the templates lay it out: its HTML and its file's name."""

    html: str
    file: str


def build(config: Config, summary: Summary) -> dict[str, list[NoteValues]]:
    """The notes as template values by place: their HTML and their file's name."""
    out: dict[str, list[NoteValues]] = {}
    for note in read(config):
        out.setdefault(note.place, []).append({"html": to_html(note, summary), "file": note.path.name})
    return out


#: The folder the PDF carries the notes under: ``notes/<place>/`` holds a note and its images
#: at the same paths relative to each other as in the author's folder.
CARRIED = "notes"


def carried(config: Config) -> tuple[dict[str, str], dict[str, bytes]]:
    """The notes as the PDF carries them, so that `verify` and ``verify --rebuild`` lay them out again.

    Returns:
        the ``[report] notes`` table of the attached configuration (place -> attached path),
        and each attached file's bytes by its name: the note, then each local image it shows.
    """
    table: dict[str, str] = {}
    files: dict[str, bytes] = {}
    for note in read(config):
        home = f"{CARRIED}/{note.place}"
        table[note.place] = f"{home}/{note.path.name}"
        files[table[note.place]] = note.text.encode("utf-8")
        for src, uri in _images(note).items():
            if not src.startswith("data:"):  # checked by `_images`: beside the note or under it
                name = posixpath.normpath(unquote(src).replace("\\", "/"))
                files[f"{home}/{name}"] = base64.b64decode(uri.partition(",")[2])
    return table, files


def attribution(notes: Mapping[str, Sequence[NoteValues]], author: str) -> str:
    """The front matter's sentence on which text is generated and which is the author's."""
    generated = (
        "Every section marked “generated from the measurements” was written by fmnist-report from this "
        "build's numbers"
    )
    if not notes:
        return f"{generated}; the report holds no text of the author's own."
    return f"{generated}; the passages marked as notes by {author} are the author's own words."
