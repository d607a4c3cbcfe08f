"""Whether a report PDF is what its build made: its text quotes its attached numbers, its claims hold.

`fmnist-report verify REPORT.pdf` is for whoever receives the PDF. It reads the attached
``metrics.json`` and ``configuration.toml``, checks that the headline table prints exactly the
attached headline numbers and that every headline number `diff` compares appears in the
text, that the SHA-256 the appendix prints is the attachment's, that the PDF/A and tagging
claims of the XMP metadata hold, and that the configuration is one `build --config` accepts.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fmnist_report.config import load_config
from fmnist_report.errors import UserError
from fmnist_report.report import diff
from fmnist_report.report.formatting import mean_ci, num, points
from fmnist_report.report.metrics import JSON_FILE

CONFIG_TOML = "configuration.toml"
#: A percentage as the report prints it: 67.40%, 1,234.5%.
PERCENT = re.compile(r"\d[\d,]*\.\d+%")
#: Where the headline table starts and ends in the PDF's text.
HEADLINE = ("Headline results on the test images", "Contents")
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
    return Carried(attachments, " ".join(text.split()), xmp, marked, structure)


XMP_KEYS = ("pdfaid:part", "pdfaid:conformance", "pdfuaid:part")


def checks(carried: Carried) -> list[Check]:
    """Every check of a report PDF, in the order the table shows them."""
    found = [_attached(carried)]
    metrics = carried.attachments.get(JSON_FILE)
    document = _metrics(metrics)
    found.append(
        Check(
            "metrics.json",
            document is not None,
            "parses, with a protocol" if document else "missing or not JSON",
        )
    )
    if document is not None:
        found += [_checksum(carried.text, metrics or b""), _headline(carried.text, document)]
        found.append(_quoted(carried.text, document))
    found += [_conformance(carried), _configuration(carried.attachments.get(CONFIG_TOML))]
    return found


def _attached(carried: Carried) -> Check:
    missing = [n for n in (JSON_FILE, CONFIG_TOML) if n not in carried.attachments]
    if missing:
        return Check("attachments", False, f"{', '.join(missing)} not attached")
    return Check("attachments", True, f"{JSON_FILE} and {CONFIG_TOML}")


def _metrics(data: bytes | None) -> dict[str, Any] | None:
    try:
        document = json.loads(data or b"")
    except (ValueError, UnicodeDecodeError):
        return None
    return document if isinstance(document, dict) and isinstance(document.get("summary"), dict) else None


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


def _interval(summary: dict[str, Any], prefix: str) -> str | None:
    if f"{prefix}.mean" not in summary:
        return None
    n = int(summary.get(f"{prefix}.n", 1))
    values = {k: summary.get(f"{prefix}.{k}") for k in ("mean", "ci_low", "ci_high")}
    return mean_ci({**values, "has_ci": n > 1})


def headline_numbers(document: dict[str, Any]) -> dict[str, str]:
    """The numbers the headline table prints, by metrics.json key, as the report prints them."""
    s = document["summary"]
    expected = {
        "summary.n_train": f"{num(s['n_train'])} training" if "n_train" in s else None,
        "summary.n_test": f"{num(s['n_test'])} test images" if "n_test" in s else None,
        "summary.dense.accuracy": _interval(s, "dense.accuracy"),
        "summary.cnn.accuracy": _interval(s, "cnn.accuracy"),
        "summary.diff": f"{points(abs(s['diff.mean']))} pp" if "diff.mean" in s else None,
        "summary.best_kernel.accuracy": _interval(s, "best_kernel.accuracy"),
    }
    return {key: value for key, value in expected.items() if value is not None}


def _headline(text: str, document: dict[str, Any]) -> Check:
    start = text.find(HEADLINE[0])
    end = text.find(HEADLINE[1], start)
    if start < 0:
        return Check("headline table", False, "the PDF's text has no headline table")
    table = text[start : end if end > start else None]
    expected = headline_numbers(document)
    for key, value in expected.items():
        if value not in table:
            return Check(
                "headline table",
                False,
                f"{key}: metrics.json has {value}, the headline table does not print it",
            )
    allowed = {p for value in expected.values() for p in PERCENT.findall(value)}
    foreign = [p for p in PERCENT.findall(table) if p not in allowed]
    if foreign:
        return Check(
            "headline table",
            False,
            f"the headline table prints {foreign[0]}, a number metrics.json does not hold",
        )
    return Check("headline table", True, f"{len(expected)} numbers, each the attached one")


def _quoted(text: str, document: dict[str, Any]) -> Check:
    """Every accuracy `diff` compares is printed somewhere in the report, as the report prints it."""
    build = diff.Build(Path(JSON_FILE), document, document.get("protocol"))
    numbers = {**diff.headline(build), **diff.variant_headline(build)}  # the declared variants' too
    quoted = {name: n.text() for name, n in numbers.items() if n.unit == "pct"}
    missing = [f"{name} ({value})" for name, value in quoted.items() if value not in text]
    if missing:
        return Check("tables", False, f"the text does not quote {missing[0]} of metrics.json")
    return Check("tables", True, f"{len(quoted)} accuracies of metrics.json, each quoted")


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


def _configuration(data: bytes | None) -> Check:
    if data is None:
        return Check("configuration", False, f"{CONFIG_TOML} not attached")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / CONFIG_TOML
        path.write_bytes(data)
        try:
            cfg = load_config(path)
        except UserError as exc:
            return Check("configuration", False, str(exc).replace(str(path), CONFIG_TOML))
    s = cfg.study
    return Check(
        "configuration", True, f"parses: {s.profile} profile, {s.seeds} seed(s), {s.epochs} epoch(s)"
    )


def verdict(path: Path, found: list[Check]) -> str:
    """The one line that sums up: verified, or the first check that failed and what it found."""
    failed = [c for c in found if not c.ok]
    if failed:
        return f"NOT verified: {path.name}: {failed[0].name}: {failed[0].detail}"
    return f"verified: {path.name} quotes its attached numbers and its claims hold ({len(found)} checks)"
