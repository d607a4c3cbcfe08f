"""What decides a build's numbers, and the configuration that repeats it.

The protocol block goes into ``metrics.json`` beside the numbers, so that `fmnist-report diff`
can tell whether two builds measured the same thing; the effective configuration goes into the
PDF as a TOML file that ``fmnist-report build --config`` reads back.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Mapping
from typing import Any

from fmnist_report import __version__
from fmnist_report.config import Config
from fmnist_report.study.results import StudyResults

#: Bump when the protocol block changes shape.
PROTOCOL_FORMAT = 1
#: Protocol fields that must agree before two builds' numbers are compared.
COMPARED = (
    "epochs",
    "seeds",
    "precision",
    "data_fingerprint",
    "backend",
    "device",
    "batch_size",
    "learning_rate",
    "validation_fraction",
    "split",
    "variants",
)
#: What a run that does not name its platform was trained on: TensorFlow, on the CPU.
PLATFORM_DEFAULTS = {"backend": "tensorflow", "device": "cpu"}


def _platform(results: StudyResults, key: str) -> str:
    """The backend or device every run names (its record's ``platform`` or spec), or the default."""
    found = set()
    for records in results.runs.values():
        for r in records:
            named = r.metrics.get("platform", {}).get(key) or r.metrics.get("spec", {}).get(key)
            found.add(str(named or PLATFORM_DEFAULTS[key]))
    return ", ".join(sorted(found)) or PLATFORM_DEFAULTS[key]


def protocol(results: StudyResults) -> dict[str, Any]:
    """The protocol of a build: everything that decides its numbers, as plain values."""
    study = results.config.study
    precisions = sorted({r.metrics["spec"]["precision"] for recs in results.runs.values() for r in recs})
    return {
        "format": PROTOCOL_FORMAT,
        "fmnist_report": __version__,
        "profile": study.profile,
        "epochs": study.epochs,
        "seeds": list(study.seed_list),
        "precision": ", ".join(precisions) or study.precision,
        "data_fingerprint": results.data.fingerprint,
        "data_subset": results.data.subset,
        "backend": _platform(results, "backend"),
        "device": _platform(results, "device"),
        "batch_size": study.batch_size,
        "learning_rate": study.learning_rate,
        "validation_fraction": study.validation_fraction,
        "split": study.split,
        "kernel_sizes": list(study.kernel_sizes),
        # The declared variants: two builds of different studies are not compared.
        "variants": [v.to_dict() for v in study.variants],
    }


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError(f"cannot write {value!r} to TOML")
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)  # a JSON string is a valid TOML basic string
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    raise TypeError(f"cannot write a {type(value).__name__} to TOML")


def _toml_table(name: str, values: Mapping[str, Any]) -> list[str]:
    lines = [f"[{name}]"]
    for key, value in values.items():
        # TOML has no null: an unset value (all images, say) is left out, as the file would be.
        lines.append(f"# {key}: not set" if value is None else f"{key} = {_toml_value(value)}")
    return lines


#: Settings whose ``auto`` a build resolves; the configuration records what it resolved to.
RESOLVED = ("backend", "precision")


def config_toml(config: Config, resolved: Mapping[str, str] | None = None) -> str:
    """The effective configuration as a settings file: ``build --config`` with it repeats the study.

    Args:
        resolved: the build's protocol (or any mapping with `RESOLVED` keys): where a setting
            said ``auto``, the value it resolved to is written instead, when it is one value.
    """
    report = {**dataclasses.asdict(config.report), "date": config.report.display_date}
    study = {k: v for k, v in dataclasses.asdict(config.study).items() if k != "variants"}
    notes = []
    for key in RESOLVED:
        value = str((resolved or {}).get(key, ""))
        if study.get(key) == "auto" and value and "," not in value:
            study[key] = value
            notes.append(f'# {key}: "auto" in the settings, resolved by this build to "{value}"')
    source = config.settings_file.name if config.settings_file else "none (the defaults)"
    lines = [
        "# The effective configuration of this report (defaults, settings file and command line merged).",
        "# Repeat the study with: fmnist-report build --config <this file>",
        f"# Settings file read: {source}",
        *notes,
        *_toml_table("report", report),
        "",
        *_toml_table("study", study),
    ]
    for variant in config.study.variants:
        lines += ["", *_toml_table("[variants]", variant.to_dict())]
    return "\n".join(lines) + "\n"
