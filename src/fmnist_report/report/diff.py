"""Two builds side by side: their headline numbers, old and new, and whether a change exceeds noise.

`fmnist-report diff OLD NEW` reads each build's ``metrics.json``, from its output folder or
from the report PDF that carries it, as a Summary (`metrics.read`), and takes its numbers
from the Summary's fields. Builds made under different protocols (epochs, seeds, precision,
data, platform...) measure different things, so they are compared only when asked to
(``force``), and the differences are named either way.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, NotRequired, TypedDict

from fmnist_report.errors import UserError
from fmnist_report.report import metrics
from fmnist_report.report.formatting import change, mean_ci, points, pp
from fmnist_report.report.metrics import JSON_FILE
from fmnist_report.report.protocol import COMPARED, ProtocolBlock, protocol
from fmnist_report.study.summary_types import CALIBRATION, SeedStats, Summary


class DiffError(UserError):
    """A build cannot be read, or two builds cannot be compared."""


class NumberValues(TypedDict):
    """A headline number as ``diff --json`` writes it (`Number.to_dict`)."""

    mean: float
    n: int
    ci_low: float | None
    ci_high: float | None


class RowText(TypedDict):
    """A row's old and new number and its change, as the table prints them (``-`` where absent)."""

    old: str
    new: str
    change: str


class DiffRow(TypedDict):
    """One headline number of both builds: old, new, its change and whether it exceeds seed noise."""

    name: str
    unit: str
    #: None where only one build has the number.
    old: NumberValues | None
    new: NumberValues | None
    change: float | None
    beyond_seed_interval: bool | None
    text: RowText


class ProtocolCheck(TypedDict):
    """Whether the two builds' protocols agree, and what differs."""

    same: bool
    differences: list[str]
    #: The variants' differences, where ``--only study`` set them aside.
    set_aside: NotRequired[list[str]]


class DiffResult(TypedDict):
    """A comparison of two builds (`compare`), as ``diff --json`` writes it."""

    old: str
    new: str
    protocol: ProtocolCheck
    rows: list[DiffRow]


@dataclass(frozen=True)
class Build:
    """One build: where its metrics.json was read, and the Summary it holds."""

    path: Path
    summary: Summary

    @property
    def protocol(self) -> ProtocolBlock:
        """What decides the build's numbers (`protocol.protocol`)."""
        return protocol(self.summary)


@dataclass(frozen=True)
class Number:
    """A headline number: its mean, and its 95% interval over seeds where there are several."""

    mean: float
    unit: str
    n: int = 1
    ci_low: float | None = None
    ci_high: float | None = None

    @classmethod
    def of(cls, stats: SeedStats, unit: str) -> Number:
        """The number of a per-seed summary (a model's, a comparison's or an analysis's `SeedStats`)."""
        return cls(stats["mean"], unit, int(stats.get("n", 1)), stats.get("ci_low"), stats.get("ci_high"))

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

    def to_dict(self) -> NumberValues:
        return {"mean": self.mean, "n": self.n, "ci_low": self.ci_low, "ci_high": self.ci_high}


def load(path: Path) -> Build:
    """A build from its output folder, its metrics.json or its report PDF; any problem is one line.

    A metrics.json of another ``schema_version`` names both versions (`SchemaError`).
    """
    file = path / JSON_FILE if path.is_dir() else path
    if not file.is_file():
        where = f"no {JSON_FILE} in {path}" if path.is_dir() else f"{path} does not exist"
        raise DiffError(
            f"{where}; give an output folder of `fmnist-report build`, its {JSON_FILE} or its report PDF"
        )
    try:
        text = pdf_metrics(file) if file.suffix.lower() == ".pdf" else file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise DiffError(f"{file} is not an fmnist-report {JSON_FILE}: {exc}") from None
    return Build(file, metrics.read(text, str(file)))


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


#: The row of every run's training time together, variants included.
TOTAL_TIME = "training time, all runs"


def _architecture_diff(summary: Summary) -> SeedStats | None:
    """The per-seed difference CNN minus Dense of the architecture comparison, or None."""
    dense, cnn = summary.roles.dense, summary.roles.headline
    comp = summary.comparison(dense, cnn)
    if comp is None:
        return None
    if comp["a"] == dense:
        return comp["diff"]
    d = comp["diff"]  # stored the other way round: Dense minus CNN
    return {**d, "mean": -d["mean"], "ci_low": -d["ci_high"], "ci_high": -d["ci_low"]}


def headline(build: Build) -> dict[str, Number]:
    """The numbers a diff compares, by name: accuracies with their intervals, the CNN-Dense
    difference, ECE, training time, and accuracy per class."""
    s = build.summary
    dense = s.models.get(s.roles.dense) if s.roles.dense is not None else None
    arms = [s.models[m] for m in s.roles.kernel_arms if m in s.models]
    items: list[tuple[str, Number]] = []
    if dense is not None:
        items.append(("test accuracy, dense", Number.of(dense["test_accuracy"], "pct")))
    items += [(f"test accuracy, {r['model_id']}", Number.of(r["test_accuracy"], "pct")) for r in arms]
    if (diff := _architecture_diff(s)) is not None:
        items.append(("accuracy difference, CNN - dense", Number.of(diff, "pp")))
    for m, ece in s.analyses.get(CALIBRATION, {}).get("ece", {}).items():
        items.append((f"ECE, {m}", Number.of(ece["summary"], "num")))
    if dense is not None:
        items.append(("training time, dense", Number.of(dense["train_seconds"], "s")))
    items += [(f"training time, {r['model_id']}", Number.of(r["train_seconds"], "s")) for r in arms]
    if s.models:
        total = sum(sum(row["per_seed"]["train_seconds"]) for row in s.models.values())
        items.append((TOTAL_TIME, Number(total, "s")))
    names = s.data.class_names
    if dense is not None:
        accuracy = zip(names, dense["per_class_accuracy"], strict=True)
        items += [(f"class accuracy, dense, {n}", Number(a, "pct")) for n, a in accuracy]
    for i, name in enumerate(names):
        items += [
            (f"class accuracy, {r['model_id']}, {name}", Number(r["per_class_accuracy"][i], "pct"))
            for r in arms
        ]
    return dict(items)


#: The groups of headline numbers ``diff --only`` picks: the built-in study's, or the variants'.
GROUPS = ("study", "variants")


def variant_headline(build: Build) -> dict[str, Number]:
    """Each declared variant's test accuracy and its difference from its base, with intervals."""
    s = build.summary
    comps = [c for c in s.comparisons.values() if c["family"] == "variants"]
    ids = dict.fromkeys(m for c in comps for m in (c["a"], c["b"]))
    items = [
        (f"test accuracy, {m}", Number.of(s.models[m]["test_accuracy"], "pct"))
        for m in ids
        if m in s.roles.variants and m in s.models  # the variants, not their bases (the study's rows)
    ]
    items += [(f"accuracy difference, {c['b']} - {c['a']}", Number.of(c["diff"], "pp")) for c in comps]
    return dict(items)


def protocol_differences(old: Build, new: Build, *, skip: tuple[str, ...] = ()) -> list[str]:
    """What differs between the two builds' protocols, one phrase each; [] when they match.

    ``skip`` names protocol keys (`COMPARED`) left out of the comparison.
    """
    a, b = old.protocol, new.protocol
    out = []
    for key in (k for k in COMPARED if k not in skip):
        if a[key] != b[key]:
            out += (
                variant_differences(a[key], b[key])
                if key == "variants"
                else [f"{key} {_plain(a[key])} vs {_plain(b[key])}"]
            )
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


def compare(old: Build, new: Build, *, force: bool = False, only: str | None = None) -> DiffResult:
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
    rows: list[DiffRow] = []
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
    check: ProtocolCheck = {"same": not differences, "differences": differences}
    if set_aside:
        check["set_aside"] = set_aside
    return {"old": str(old.path), "new": str(new.path), "protocol": check, "rows": rows}


def markdown(result: DiffResult) -> str:
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
