"""One frozen, validated configuration: defaults < profile < TOML file < command line."""

from __future__ import annotations

import dataclasses
import datetime as dt
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypedDict

from fmnist_report.constraints import (
    Constraint,
    Interval,
    ListOf,
    OddInterval,
    Optional,
    Options,
    PlainText,
    echo,
    is_name,
)
from fmnist_report.errors import ConfigError
from fmnist_report.json_types import JSON, JsonValue
from fmnist_report.variants import Variant, parse_variants

#: The settings file of a project folder, relative to it.
DEFAULT_TOML = Path("report") / "report.toml"
#: The settings file of a study folder that `fmnist-report new` wrote, relative to it.
STUDY_TOML = Path("report.toml")
DEFAULT_OUT = Path("output")
PROJECT_NAME = "fmnist-report"


class Profile(TypedDict):
    """The study settings a profile presets."""

    epochs: int
    seeds: int
    train_per_class: int | None
    test_per_class: int | None


#: Profile presets. ``full`` is the study's protocol; ``quick`` is a stratified
#: subset for tests and previews.
PROFILES: dict[str, Profile] = {
    "full": {"epochs": 10, "seeds": 3, "train_per_class": None, "test_per_class": None},
    "quick": {"epochs": 2, "seeds": 1, "train_per_class": 300, "test_per_class": 100},
}


@dataclass(frozen=True)
class StudyConfig:
    """Everything that changes a measured number."""

    profile: str = "full"
    epochs: int = 10
    batch_size: int = 128
    validation_fraction: float = 0.15
    split: str = "stratified"
    seeds: int = 3
    first_seed: int = 0
    kernel_sizes: tuple[int, ...] = (3, 5, 7)
    learning_rate: float = 1e-3
    precision: str = "auto"
    train_per_class: int | None = None
    test_per_class: int | None = None
    backend: str = "auto"
    #: The student's own variants (``[[variants]]``), each trained on every seed.
    variants: tuple[Variant, ...] = ()

    @property
    def seed_list(self) -> tuple[int, ...]:
        return tuple(range(self.first_seed, self.first_seed + self.seeds))


@dataclass(frozen=True)
class ReportMeta:
    """The title page: who wrote the report, for which course, when."""

    title: str = "Exploring Convolutional Layers on Fashion-MNIST"
    author: str = "Anonymous"
    course: str = ""
    date: str = ""

    @property
    def display_date(self) -> str:
        return self.date or dt.date.today().isoformat()


@dataclass(frozen=True)
class Config:
    """The whole configuration of one build."""

    study: StudyConfig = field(default_factory=StudyConfig)
    report: ReportMeta = field(default_factory=ReportMeta)
    out_dir: Path = DEFAULT_OUT
    data_dir: Path | None = None
    offline: bool = False
    #: The settings file read, or None where the defaults stood alone.
    settings_file: Path | None = None
    #: The author's own notes, ``[report] notes``: (place, Markdown file) pairs, paths resolved.
    notes: tuple[tuple[str, Path], ...] = ()

    @property
    def cache_dir(self) -> Path:
        return self.out_dir / "cache"

    @property
    def figures_dir(self) -> Path:
        return self.out_dir / "figures"

    @property
    def model_dir(self) -> Path:
        return self.out_dir / "model"


# -- validation ---------------------------------------------------------------------------

_STUDY_RULES: dict[str, Constraint] = {
    "profile": Options(tuple(PROFILES)),
    "epochs": Interval(1, 1000, integer=True),
    "batch_size": Interval(1, 60000, integer=True),
    "validation_fraction": Interval(0.0, 0.5, closed="neither"),
    "split": Options(("stratified", "last")),
    "seeds": Interval(1, 20, integer=True),
    "first_seed": Interval(0, 2**31 - 1, integer=True),
    "kernel_sizes": ListOf(OddInterval(1, 13, integer=True), 1, 7, distinct=True, example="[3, 5, 7]"),
    "learning_rate": Interval(0.0, 1.0, closed="right"),
    "precision": Options(("auto", "float32", "mixed_bfloat16")),
    "backend": Options(("auto", "tensorflow", "jax", "torch")),
    "train_per_class": Optional(Interval(20, 6000, integer=True), "absent for all"),
    "test_per_class": Optional(Interval(1, 1000, integer=True), "absent for all"),
}
_REPORT_RULES: dict[str, Constraint] = {
    name: PlainText(300) for name in ("title", "author", "course", "date")
}
#: The sections a settings file may hold.
SECTIONS = ("report", "study", "variants")


def _check(section: str, rules: Mapping[str, Constraint], values: Any, origin: str) -> None:
    if not isinstance(values, Mapping):
        raise ConfigError(
            f"{origin}: {section} must be a table of settings, got {echo(values)}; "
            f"write them under a [{section}] header, one `key = value` a line"
        )
    for key, value in values.items():
        if key not in rules:
            raise ConfigError(
                f"{origin}: unknown key {section}.{key if is_name(key) else echo(key)}; "
                f"known keys are {', '.join(sorted(rules))}"
            )
        if not rules[key].accepts(value):
            raise ConfigError(f"{origin}: {section}.{key} must be {rules[key]}, got {echo(value)}")


def check_report_meta(values: Mapping[str, Any], origin: str) -> None:
    """Check title-page values (title, author, course, date) as a settings file's are checked."""
    _check("report", _REPORT_RULES, values, origin)


def read_toml(path: Path) -> JSON:
    """Read a settings file; a syntax error becomes a one-line ConfigError."""
    try:
        # Notepad and PowerShell 5 save UTF-8 with a byte-order mark, which TOML does not allow.
        data = tomllib.loads(path.read_bytes().decode("utf-8-sig"))
    except FileNotFoundError as exc:
        raise ConfigError(f"config file {path} does not exist; create it or drop --config") from exc
    except OSError as exc:
        raise ConfigError(
            f"config file {path} cannot be read ({exc.strerror}); name a readable file"
        ) from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"config file {path} is not UTF-8 text (byte {exc.object[exc.start]:#04x} at offset "
            f"{exc.start}); name a TOML settings file, saved as UTF-8"
        ) from exc
    except tomllib.TOMLDecodeError as exc:
        fix = "fix the syntax"
        if any(w in str(exc).lower() for w in ("escape", "hex value")):  # "C:\Users\..." in double quotes
            fix = "write paths with forward slashes (C:/Users/me/notes.md) or in single quotes"
        raise ConfigError(f"config file {path} is not valid TOML ({exc}); {fix}") from exc
    unknown = set(data) - set(SECTIONS)
    if unknown:
        raise ConfigError(
            f"{path}: unknown section [{sorted(unknown)[0]}]; the sections are [report], [study] "
            "and [[variants]]"
        )
    return data


def find_settings(start: Path | None = None) -> Path | None:
    """The settings file of the study or project the working directory is in, if any.

    The nearest folder that has one wins, from the working directory up. In the folder itself,
    ``report/report.toml`` counts, then ``report.toml`` (a study folder `fmnist-report new`
    wrote), whatever it holds, so that a mistake in it is reported. Above it, ``report.toml`` counts where it holds only this tool's sections, and
    ``report/report.toml`` where the folder is an fmnist-report checkout (its pyproject.toml
    names the project), so a command run from ``output/`` or ``src/`` still finds the title
    page it was given, and another project's settings are never read.
    """
    here = (start or Path.cwd()).resolve()
    for own in (here / DEFAULT_TOML, here / STUDY_TOML):
        if own.is_file():
            return own
    for folder in here.parents:
        if (folder / STUDY_TOML).is_file() and _is_study(folder / STUDY_TOML):
            return folder / STUDY_TOML
        if (folder / DEFAULT_TOML).is_file() and _names_project(folder / "pyproject.toml"):
            return folder / DEFAULT_TOML
    return None


def _is_study(toml: Path) -> bool:
    """Whether a report.toml above the working directory is this tool's: our sections, no others."""
    try:
        data = tomllib.loads(toml.read_bytes().decode("utf-8-sig"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return False
    return bool(data) and set(data) <= set(SECTIONS)


def _names_project(pyproject: Path) -> bool:
    try:
        with pyproject.open("rb") as fh:
            return tomllib.load(fh).get("project", {}).get("name") == PROJECT_NAME
    except (OSError, tomllib.TOMLDecodeError):
        return False


def load_config(
    toml_path: Path | None = None,
    *,
    study: Mapping[str, Any] | None = None,
    report: Mapping[str, Any] | None = None,
    out_dir: Path | None = None,
    data_dir: Path | None = None,
    offline: bool = False,
) -> Config:
    """Build the configuration.

    Args:
        toml_path: settings file; by default the project's ``report/report.toml`` (:func:`find_settings`).
        study: command-line overrides for ``[study]`` (``None`` values are ignored).
        report: command-line overrides for ``[report]``.
    """
    file_data: JSON = {}
    origin = "command line"
    if toml_path is None:
        toml_path = find_settings()
        if toml_path is not None and out_dir is None:
            # Found from a folder inside the study: its output folder, wherever the command runs.
            root = toml_path.parents[1] if toml_path.parts[-2:] == DEFAULT_TOML.parts else toml_path.parent
            out_dir = root / DEFAULT_OUT
    if toml_path is not None:
        file_data = read_toml(toml_path)

    file_study = file_data.get("study", {})
    file_report = file_data.get("report", {})
    notes: tuple[tuple[str, Path], ...] = ()
    if isinstance(file_report, dict) and "notes" in file_report:
        file_report = dict(file_report)
        notes = _notes(file_report.pop("notes"), toml_path)
    _check("study", _STUDY_RULES, file_study, str(toml_path))
    _check("report", _REPORT_RULES, file_report, str(toml_path))
    cli_study = {k: v for k, v in (study or {}).items() if v is not None}
    cli_report = {k: v for k, v in (report or {}).items() if v is not None}
    _check("study", _STUDY_RULES, cli_study, origin)
    _check("report", _REPORT_RULES, cli_report, origin)

    profile = cli_study.get("profile", file_study.get("profile", "full"))
    # The study's settings before `StudyConfig` takes them: the file's and the command line's, checked
    # one by one (`_check`) but free-form as a whole.
    merged: JSON = {"profile": profile, **PROFILES[profile]}
    # A profile picked on the command line wins over the file's study settings it presets.
    file_overrides = file_study
    if "profile" in cli_study and cli_study["profile"] != file_study.get("profile", "full"):
        file_overrides = {k: v for k, v in file_study.items() if k not in PROFILES[profile]}
    merged.update(file_overrides)
    merged.update(cli_study)
    merged["profile"] = profile
    if "kernel_sizes" in merged:
        merged["kernel_sizes"] = tuple(merged["kernel_sizes"])
    if "validation_fraction" in merged:
        merged["validation_fraction"] = float(merged["validation_fraction"])
    if "learning_rate" in merged:
        merged["learning_rate"] = float(merged["learning_rate"])
    if "variants" in file_data:
        merged["variants"] = parse_variants(
            file_data["variants"],
            str(toml_path),
            learning_rate=merged.get("learning_rate", StudyConfig.learning_rate),
            kernel_sizes=merged.get("kernel_sizes", StudyConfig.kernel_sizes),
        )

    return Config(
        study=StudyConfig(**merged),
        report=ReportMeta(**{**file_report, **cli_report}),
        out_dir=out_dir or DEFAULT_OUT,
        data_dir=data_dir,
        offline=offline,
        settings_file=toml_path,
        notes=notes,
    )


def _notes(table: Any, toml_path: Path | None) -> tuple[tuple[str, Path], ...]:
    """``[report] notes``: place -> Markdown file, each path relative to the settings file.

    The shape is checked here, and that each file lies inside the settings file's folder once
    its symlinks are followed, so a note cannot publish a file from elsewhere (``/dev/zero``,
    ``../../secret``); which places exist, and the files themselves, are the report's to check
    (`report.notes`).
    """
    origin = str(toml_path)
    example = '{ discussion = "notes/discussion.md", after_kernels = "notes/kernels.md" }'
    if not isinstance(table, Mapping):
        raise ConfigError(f"{origin}: report.notes must be a table such as {example}, got {echo(table)}")
    base = toml_path.parent if toml_path is not None else Path.cwd()
    pairs = []
    for key, value in table.items():
        if not (is_name(key) and (key == "discussion" or key.startswith("after_"))):
            raise ConfigError(
                f"{origin}: report.notes key {echo(key)} names no place; use discussion or "
                "after_<section id> (after_kernels, say)"
            )
        if not isinstance(value, str) or not value.strip():
            raise ConfigError(
                f"{origin}: report.notes.{key} must be the path of a Markdown file, got {echo(value)}"
            )
        # Written on Windows (notes\discussion.md), read on Linux in CI or Colab: one separator.
        value = value.replace("\\", "/")
        try:
            inside = (base / value).resolve().is_relative_to(base.resolve())
        except (OSError, RuntimeError, ValueError):  # a symlink loop, a NUL byte
            inside = False
        if not inside:
            raise ConfigError(
                f"{origin}: report.notes.{key}: {echo(value)} is outside the settings file's folder "
                f"{base} (symlinks followed); put the note in that folder or one under it and name "
                "it relative to the settings file"
            )
        pairs.append((key, base / value))
    return tuple(pairs)


def study_table(study: StudyConfig) -> dict[str, JsonValue]:
    """The study's settings as plain values, its seeds listed, as the export's metadata records them."""
    return {
        **dataclasses.asdict(study),
        "kernel_sizes": list(study.kernel_sizes),
        "variants": [v.to_dict() for v in study.variants],
        "seed_list": list(study.seed_list),
    }


def as_dict(config: Config) -> dict[str, JsonValue]:
    """A JSON-friendly view of the configuration, for metadata and the appendix."""
    return {
        **dataclasses.asdict(config),
        "study": study_table(config.study),
        "out_dir": str(config.out_dir),
        "data_dir": str(config.data_dir) if config.data_dir else None,
        "settings_file": str(config.settings_file) if config.settings_file else None,
        "notes": {place: str(path) for place, path in config.notes},
    }
