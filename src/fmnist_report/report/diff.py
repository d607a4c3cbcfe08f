"""Two builds side by side: their headline numbers, old and new, and whether a change exceeds noise.

`fmnist-report diff OLD NEW` reads each build's ``metrics.json``, from its output folder or
from the report PDF that carries it. Builds made under different
protocols (epochs, seeds, precision, data, platform...) measure different things, so they
are compared only when asked to (``force``), and the differences are named either way.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fmnist_report.errors import UserError
from fmnist_report.ids import ModelId
from fmnist_report.report.formatting import change, mean_ci, points, pp
from fmnist_report.report.metrics import JSON_FILE
from fmnist_report.report.protocol import COMPARED, PLATFORM_DEFAULTS

Section = Mapping[str, Any]


class DiffError(UserError):
    """A build cannot be read, or two builds cannot be compared."""


@dataclass(frozen=True)
class Build:
    """One build's metrics.json: the numbers by section, and its protocol block (None if absent)."""

    path: Path
    sections: Mapping[str, Section]
    protocol: Mapping[str, Any] | None


@dataclass(frozen=True)
class Number:
    """A headline number: its mean, and its 95% interval over seeds where there are several."""

    mean: float
    unit: str
    n: int = 1
    ci_low: float | None = None
    ci_high: float | None = None

    @property
    def has_ci(self) -> bool:
        return self.n > 1 and self.ci_low is not None and self.ci_high is not None

    @property
    def half(self) -> float:
        return (self.ci_high - self.ci_low) / 2 if self.has_ci else 0.0  # type: ignore[operator]

    def text(self) -> str:
        if self.unit == "pp":  # a difference of fractions: signed, in percentage points
            return pp(self.mean) + (f" ± {points(self.half)}" if self.has_ci else "")
        return mean_ci(
            {"mean": self.mean, "ci_low": self.ci_low, "ci_high": self.ci_high, "has_ci": self.has_ci},
            self.unit,
        )

    def to_dict(self) -> dict[str, Any]:
        return {"mean": self.mean, "n": self.n, "ci_low": self.ci_low, "ci_high": self.ci_high}


def load(path: Path) -> Build:
    """A build from its output folder or its metrics.json; a missing or foreign file is a one-line error."""
    file = path / JSON_FILE if path.is_dir() else path
    if not file.is_file():
        where = f"no {JSON_FILE} in {path}" if path.is_dir() else f"{path} does not exist"
        raise DiffError(
            f"{where}; give an output folder of `fmnist-report build`, its {JSON_FILE} or its report PDF"
        )
    try:
        text = pdf_metrics(file) if file.suffix.lower() == ".pdf" else file.read_text(encoding="utf-8")
        document = json.loads(text)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DiffError(f"{file} is not an fmnist-report {JSON_FILE}: {exc}") from None
    sections = document if isinstance(document, dict) else {}
    summary = sections.get("summary")
    if not isinstance(summary, dict) or not isinstance(summary.get("dense.accuracy.mean"), int | float):
        raise DiffError(f"{file} is not an fmnist-report {JSON_FILE}: it has no summary.dense.accuracy")
    protocol = sections.get("protocol")
    # metrics.json holds numbers only; anything else in a hand-edited file is passed over.
    numbers = {
        name: {k: v for k, v in section.items() if isinstance(v, int | float) and not isinstance(v, bool)}
        for name, section in sections.items()
        if name != "protocol" and isinstance(section, dict)
    }
    return Build(file, numbers, protocol if isinstance(protocol, dict) else None)


def pdf_metrics(file: Path) -> str:
    """The metrics.json a report PDF carries as an attachment, as text."""
    try:
        import pikepdf
    except ImportError:
        raise DiffError(f"reading {file} needs pikepdf; install it with: pip install pikepdf") from None
    try:
        with pikepdf.open(file) as pdf:
            attached = pdf.attachments.get(JSON_FILE)
            if attached is None:
                raise DiffError(
                    f"{file} carries no {JSON_FILE}; give a report PDF that `fmnist-report build` wrote"
                )
            return attached.get_file().read_bytes().decode("utf-8")
    except pikepdf.PdfError as exc:
        raise DiffError(f"{file} is not a readable PDF ({str(exc).splitlines()[0]})") from None


def _interval(section: Section, prefix: str, unit: str) -> Number | None:
    if f"{prefix}.mean" not in section:
        return None
    return Number(
        section[f"{prefix}.mean"],
        unit,
        int(section.get(f"{prefix}.n", 1)),
        section.get(f"{prefix}.ci_low"),
        section.get(f"{prefix}.ci_high"),
    )


def _matches(section: Section, pattern: str) -> list[str]:
    """The first group of every key of ``section`` that matches ``pattern``, in file order."""
    found = (re.fullmatch(pattern, key) for key in section)
    return list(dict.fromkeys(m.group(1) for m in found if m))


#: The row of every run's training time together, variants included.
TOTAL_TIME = "training time, all runs"


def headline(build: Build) -> dict[str, Number]:
    """The numbers a diff compares, by name: accuracies with their intervals, the CNN-Dense
    difference, ECE, training time, and accuracy per class."""
    s = build.sections
    dense, kernels, summary = s.get("dense", {}), s.get("kernels", {}), s.get("summary", {})
    arms = _matches(kernels, r"rows\.([^.]+)\.test_accuracy\.mean")
    calibration = s.get("analyses", {})
    items: list[tuple[str, Number | None]] = [("test accuracy, dense", _interval(dense, "accuracy", "pct"))]
    items += [(f"test accuracy, {m}", _interval(kernels, f"rows.{m}.test_accuracy", "pct")) for m in arms]
    items.append(("accuracy difference, CNN - dense", _interval(summary, "diff", "pp")))
    for m in _matches(calibration, r"calibration\.ece\.([^.]+)\.summary\.mean"):
        items.append((f"ECE, {m}", _interval(calibration, f"calibration.ece.{m}.summary", "num")))
    items.append(("training time, dense", _interval(s.get("cnn", {}), "compared.train_seconds.dense", "s")))
    items += [(f"training time, {m}", _interval(kernels, f"rows.{m}.train_seconds", "s")) for m in arms]
    total = s.get("reproducibility", {}).get("total_seconds")
    items.append((TOTAL_TIME, Number(total, "s") if total is not None else None))
    for name in _matches(dense, r"per_class\.(.+)\.accuracy"):
        items.append((f"class accuracy, dense, {name}", Number(dense[f"per_class.{name}.accuracy"], "pct")))
    for name, m in _cells(kernels):
        items.append(
            (f"class accuracy, {m}, {name}", Number(kernels[f"per_class.{name}.cells.{m}.accuracy"], "pct"))
        )
    return {name: number for name, number in items if number is not None}


#: The groups of headline numbers ``diff --only`` picks: the built-in study's, or the variants'.
GROUPS = ("study", "variants")


def variant_headline(build: Build) -> dict[str, Number]:
    """Each declared variant's test accuracy and its difference from its base, with intervals."""
    section = build.sections.get("variants", {})
    items: list[tuple[str, Number | None]] = []
    variants = [m for m in _matches(section, r"models\.(.+)\.test_accuracy\.mean") if _is_variant(m)]
    for m in variants:  # the variants, not their bases (the study's rows have those)
        items.append((f"test accuracy, {m}", _interval(section, f"models.{m}.test_accuracy", "pct")))
    for key in _matches(section, r"comparisons\.(.+)\.diff\.mean"):
        base, _, variant = key.partition("__vs__")
        items.append(
            (f"accuracy difference, {variant} - {base}", _interval(section, f"comparisons.{key}.diff", "pp"))
        )
    return {name: number for name, number in items if number is not None}


def _is_variant(model_id: str) -> bool:
    try:
        return ModelId.parse(model_id).is_variant
    except ValueError:  # a hand-edited file: not a model of ours
        return False


def _cells(kernels: Section) -> Iterator[tuple[str, str]]:
    for key in kernels:
        found = re.fullmatch(r"per_class\.(.+)\.cells\.([^.]+)\.accuracy", key)
        if found:
            yield found.group(1), found.group(2)


def protocol_differences(old: Build, new: Build, *, skip: tuple[str, ...] = ()) -> list[str]:
    """What differs between the two builds' protocols, one phrase each; [] when they match.

    ``skip`` names protocol keys (`COMPARED`) left out of the comparison.
    """
    missing = list(dict.fromkeys(str(b.path) for b in (old, new) if b.protocol is None))
    if missing:
        return [f"no protocol recorded in {' and '.join(missing)} (built before metrics.json carried one)"]
    out = []
    for key in (k for k in COMPARED if k not in skip):
        a = old.protocol.get(key, PLATFORM_DEFAULTS.get(key, [] if key == "variants" else None))  # type: ignore[union-attr]
        b = new.protocol.get(key, PLATFORM_DEFAULTS.get(key, [] if key == "variants" else None))  # type: ignore[union-attr]
        if a != b:
            out += variant_differences(a, b) if key == "variants" else [f"{key} {_plain(a)} vs {_plain(b)}"]
    return out


def variant_differences(old: Any, new: Any) -> list[str]:
    """Each declared variant that only one build has, or that the two declare differently, by name."""
    a = {v.get("name"): v for v in old or [] if isinstance(v, dict)}
    b = {v.get("name"): v for v in new or [] if isinstance(v, dict)}
    out = [f"variant {n} only in the old build" for n in a if n not in b]
    out += [f"variant {n} only in the new build" for n in b if n not in a]
    for name in (n for n in a if n in b and a[n] != b[n]):
        changed = sorted(k for k in {*a[name], *b[name]} if a[name].get(k) != b[name].get(k))
        out.append(
            f"variant {name} differs ("
            + ", ".join(
                f"{k} {_plain(a[name].get(k, '-'))} vs {_plain(b[name].get(k, '-'))}" for k in changed
            )
            + ")"
        )
    return out


def _plain(value: Any) -> str:
    return ", ".join(str(v) for v in value) if isinstance(value, list) else str(value)


def beyond_noise(old: Number, new: Number) -> bool | None:
    """Whether the change exceeds the seed-to-seed spread: each mean lies outside the other build's
    95% interval. None where either build has a single seed, so no interval to judge by."""
    if not (old.has_ci and new.has_ci):
        return None
    return abs(new.mean - old.mean) > max(old.half, new.half)


def compare(old: Build, new: Build, *, force: bool = False, only: str | None = None) -> dict[str, Any]:
    """Every headline number of both builds with its change; refuses differing protocols unless forced.

    ``only`` keeps one group of numbers (`GROUPS`): the built-in study's or the variants'.
    """
    if only is not None and only not in GROUPS:
        raise DiffError(f"--only must be one of {', '.join(GROUPS)}, got {only!r}")
    # The built-in models keep their cache keys whatever variants a build declares, so the
    # study's numbers compare across builds that differ in their variants alone.
    skip = ("variants",) if only == "study" else ()
    differences = protocol_differences(old, new, skip=skip)
    set_aside = [d for d in protocol_differences(old, new) if d not in differences]
    if differences and not force:
        raise DiffError(
            f"the builds were made under different protocols ({'; '.join(differences)}), so their numbers "
            "are not comparable; --force compares them anyway"
        )

    def numbers(build: Build) -> dict[str, Number]:
        study = headline(build) if only in (None, "study") else {}
        if set_aside:  # the total counts the variants' runs too
            study.pop(TOTAL_TIME, None)
        return {**study, **(variant_headline(build) if only in (None, "variants") else {})}

    a, b = numbers(old), numbers(new)
    rows = []
    for name in [*a, *(n for n in b if n not in a)]:
        x, y = a.get(name), b.get(name)
        rows.append(
            {
                "name": name,
                "unit": (x or y).unit,  # type: ignore[union-attr]
                "old": x.to_dict() if x else None,
                "new": y.to_dict() if y else None,
                "change": y.mean - x.mean if x and y else None,
                "beyond_seed_interval": beyond_noise(x, y) if x and y else None,
                "text": {
                    "old": x.text() if x else "-",
                    "new": y.text() if y else "-",
                    "change": change(y.mean - x.mean, x.unit) if x and y else "-",
                },
            }
        )
    return {
        "old": str(old.path),
        "new": str(new.path),
        "protocol": {
            "same": not differences,
            "differences": differences,
            **({"set_aside": set_aside} if set_aside else {}),
        },
        "rows": rows,
    }


def markdown(result: Mapping[str, Any]) -> str:
    """The comparison as a Markdown table, with a line on the protocol and on the last column."""
    lines = [f"Comparing {result['old']} (old) with {result['new']} (new).", ""]
    if not result["protocol"]["same"]:
        lines += [f"> Protocols differ: {'; '.join(result['protocol']['differences'])}.", ""]
    if result["protocol"].get("set_aside"):
        lines += [
            f"> The variants differ ({'; '.join(result['protocol']['set_aside'])}); "
            "the study's own models are compared.",
            "",
        ]
    lines += [
        "| Number | Old | New | Change | Beyond seed noise |",
        "|---|--:|--:|--:|:-:|",
    ]
    marks = {True: "**yes**", False: "no", None: "n/a"}
    for row in result["rows"]:
        t = row["text"]
        lines.append(
            f"| {row['name']} | {t['old']} | {t['new']} | {t['change']} | {marks[row['beyond_seed_interval']]} |"
        )
    lines += [
        "",
        "Beyond seed noise: each mean lies outside the other build's 95% interval over seeds; "
        "n/a where a build has one seed or the number has no interval.",
    ]
    return "\n".join(lines) + "\n"
