"""Whether a report PDF is what its build made: its text prints its attached numbers, its claims hold.

`fmnist-report verify REPORT.pdf` is for whoever receives the PDF. It reads the attached
``metrics.json`` (as a Summary, `metrics.read`), ``configuration.toml`` and the author's notes
(under ``notes/``), lays the report's text out again from them exactly as a build does
(`assemble.context`), and matches every number of that text, in order, against the numbers of
the PDF's text layer (`printed`): the first difference is named with its page and its place in
words. It also checks that the SHA-256 the appendix prints is the attachment's, that the PDF/A
and tagging claims of the XMP metadata hold, and that the configuration is one `build --config`
accepts.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from fmnist_report.config import Config, load_config
from fmnist_report.errors import UserError
from fmnist_report.report import metrics, printed
from fmnist_report.report.metrics import JSON_FILE
from fmnist_report.report.notes import CARRIED
from fmnist_report.report.protocol import CONFIG_TOML
from fmnist_report.study.summary_types import SCHEMA_VERSION, SchemaError, Summary

#: How the appendix names the attachment's checksum; the template prints the same words.
CHECKSUM_WORDS = "SHA-256 of the attached metrics.json:"


class VerifyError(UserError):
    """The file cannot be read as a report PDF at all."""


@dataclass(frozen=True)
class Check:
    """One thing verify looked at: its name, whether it holds, and what it found."""

    name: str
    ok: bool
    detail: str


@dataclass(frozen=True)
class Carried:
    """What a report PDF carries: its attachments, its text and its conformance claims."""

    attachments: dict[str, bytes]
    text: str
    xmp: dict[str, str]
    marked: bool
    structure: bool
    #: The text as pdftotext gives it, its pages separated by form feeds.
    pages: str = ""


def read(path: Path) -> Carried:
    """The PDF's attachments, its text (pdftotext), its XMP claims and its tagging."""
    import pikepdf

    if shutil.which("pdftotext") is None:
        raise VerifyError("verify needs pdftotext to read the PDF's text; install poppler-utils")
    try:
        with pikepdf.open(path) as pdf:
            attachments = {name: spec.get_file().read_bytes() for name, spec in pdf.attachments.items()}
            with pdf.open_metadata() as meta:
                xmp = {key: str(meta.get(key, "")) for key in XMP_KEYS}
            mark = pdf.Root.get("/MarkInfo")
            marked = bool(mark is not None and mark.get("/Marked", False))
            structure = "/StructTreeRoot" in pdf.Root
    except (pikepdf.PdfError, OSError) as exc:
        raise VerifyError(
            f"{path} cannot be read as a PDF ({exc}); give a report.pdf of fmnist-report build"
        ) from None
    text = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", str(path), "-"],
        capture_output=True,
        encoding="utf-8",
        errors="replace",
        check=False,
    ).stdout
    return Carried(attachments, " ".join(text.split()), xmp, marked, structure, text)


XMP_KEYS = ("pdfaid:part", "pdfaid:conformance", "pdfuaid:part")


def checks(carried: Carried) -> list[Check]:
    """Every check of a report PDF, in the order the table shows them."""
    found = [_attached(carried)]
    data = carried.attachments.get(JSON_FILE)
    summary, problem = _metrics(data)
    found.append(Check("metrics.json", summary is not None, problem))
    with tempfile.TemporaryDirectory() as tmp:
        cfg, configuration = _configuration(carried.attachments, Path(tmp))
        if summary is not None:
            found.append(_checksum(carried.text, data or b""))
            found.append(_numbers(carried, summary, cfg, data or b""))
        found += [_conformance(carried), configuration]
    return found


def _attached(carried: Carried) -> Check:
    missing = [n for n in (JSON_FILE, CONFIG_TOML) if n not in carried.attachments]
    if missing:
        return Check("attachments", False, f"{', '.join(missing)} not attached")
    return Check("attachments", True, f"{JSON_FILE} and {CONFIG_TOML}")


def _metrics(data: bytes | None) -> tuple[Summary | None, str]:
    """The attached Summary and what the check says of it; None and why where there is none."""
    if data is None:
        return None, "not attached"
    try:
        summary = metrics.read(data)
    except SchemaError as exc:
        return None, str(exc)
    return summary, f"a Summary of schema_version {SCHEMA_VERSION}"


def _checksum(text: str, data: bytes) -> Check:
    at = text.find(CHECKSUM_WORDS)
    actual = hashlib.sha256(data).hexdigest()
    # A line break may fall inside the 64 digits; the text has a space (or a hyphen) there.
    printed = re.match(
        r"[0-9a-f]{64}", re.sub(r"[\s\u2010\u00ad-]", "", text[at + len(CHECKSUM_WORDS) :][:100])
    )
    if at < 0 or printed is None:
        return Check("checksum", False, "the appendix prints no SHA-256 of metrics.json")
    if printed.group(0) != actual:
        return Check(
            "checksum",
            False,
            f"the attached metrics.json has SHA-256 {actual[:16]}..., the appendix prints {printed.group(0)[:16]}...",
        )
    return Check("checksum", True, f"the appendix prints the attachment's SHA-256 ({actual[:16]}...)")


def _numbers(carried: Carried, summary: Summary, cfg: Config | None, data: bytes) -> Check:
    """Every number of the text, laid out again from the attachments, against the PDF's text layer."""
    if cfg is None:
        return Check("numbers", False, f"no text to compare without a readable {CONFIG_TOML}")
    try:
        want = printed.expected(expected_html(summary, cfg, data))
    except UserError as exc:
        return Check("numbers", False, f"the attachments cannot be laid out again: {exc}")
    except (KeyError, IndexError, TypeError, ValueError) as exc:  # a metrics.json edited by hand
        return Check(
            "numbers",
            False,
            f"the attached metrics.json lacks what its report prints ({type(exc).__name__}: {exc})",
        )
    outcome = printed.compare(want, printed.on_pages(carried.pages))
    if outcome.first is not None:
        return Check("numbers", False, outcome.first.describe())
    return Check(
        "numbers",
        True,
        f"checked {outcome.checked:,} of {outcome.expected:,} numbers: each printed as the attached data "
        f"gives it ({outcome.furniture:,} page numbers and counters aside)",
    )


def expected_html(summary: Summary, cfg: Config, data: bytes) -> str:
    """The report's HTML as a build of ``summary`` with ``cfg`` writes it, figures drawn blank.

    The figures' names and captions come from the Summary's numbers (`figures.make_all` draws
    nothing until asked); their pixels are not in metrics.json, so each is a blank image.
    """
    from fmnist_report.report import assemble, figures, render
    from fmnist_report.report.sections.values import BLANK_PNG

    specs = figures.make_all(summary)
    ctx = assemble.context(summary, cfg, specs, {spec.name: BLANK_PNG for spec in specs}, data)
    return render.render_html(ctx)


def _conformance(carried: Carried) -> Check:
    part, level, ua = (carried.xmp.get(k, "") for k in XMP_KEYS)
    claims = ([f"PDF/A-{part}{level.lower()}"] if part else []) + ([f"PDF/UA-{ua}"] if ua else [])
    if not claims:
        return Check("conformance", True, "no PDF/A or PDF/UA claim to check (a plain PDF)")
    tagged_claim = level.upper() == "A" or bool(ua)
    if tagged_claim and not (carried.marked and carried.structure):
        lacking = "MarkInfo /Marked" if not carried.marked else "structure tree"
        return Check(
            "conformance", False, f"the XMP claims {', '.join(claims)}, but the PDF has no {lacking}"
        )
    return Check("conformance", True, f"{', '.join(claims)} claimed; tagged, with a structure tree")


def _configuration(attachments: dict[str, bytes], folder: Path) -> tuple[Config | None, Check]:
    """The attached configuration, read as `build --config` reads it, with the attached notes beside it."""
    data = attachments.get(CONFIG_TOML)
    if data is None:
        return None, Check("configuration", False, f"{CONFIG_TOML} not attached")
    path = unpack(attachments, folder)
    try:
        cfg = load_config(path)
    except UserError as exc:
        return None, Check("configuration", False, str(exc).replace(str(path), CONFIG_TOML))
    s = cfg.study
    return cfg, Check(
        "configuration", True, f"parses: {s.profile} profile, {s.seeds} seed(s), {s.epochs} epoch(s)"
    )


def unpack(attachments: dict[str, bytes], folder: Path) -> Path:
    """Write the attached configuration and notes into ``folder``; the configuration's path.

    Only ``configuration.toml`` and files under ``notes/`` are written, each at a relative path
    with no ``..`` (a PDF is whoever made it: its names are checked, never trusted).
    """
    for name, data in attachments.items():
        parts = PurePosixPath(name).parts
        carried = name == CONFIG_TOML or (
            len(parts) > 1 and parts[0] == CARRIED and "\\" not in name and "\0" not in name
        )
        if not carried or ".." in parts or PurePosixPath(name).is_absolute() or ":" in name:
            continue
        target = folder.joinpath(*parts)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    return folder / CONFIG_TOML


def verdict(path: Path, found: list[Check]) -> str:
    """The one line that sums up: verified, or the first check that failed and what it found."""
    failed = [c for c in found if not c.ok]
    if failed:
        return f"NOT verified: {path.name}: {failed[0].name}: {failed[0].detail}"
    numbers = next((c.detail.partition(":")[0] for c in found if c.name == "numbers"), "")
    return f"verified: {path.name}: {numbers}, each as its attached data gives it; its claims hold ({len(found)} checks)"
