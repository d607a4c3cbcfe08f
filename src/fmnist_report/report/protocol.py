"""What decides a build's numbers, and the configuration that repeats it.

The protocol of a build is computed from its Summary (metrics.json), so that `fmnist-report
diff` can tell whether two builds measured the same thing; the effective configuration goes
into the PDF as a TOML file that ``fmnist-report build --config`` reads back.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Mapping
from typing import Any, Literal, TypedDict, get_args

from fmnist_report.config import Config
from fmnist_report.study.summary_types import Summary
from fmnist_report.variants import PlainValue

#: The effective configuration's file name, in an output folder and inside the PDF.
CONFIG_TOML = "configuration.toml"

#: Bump when the protocol block changes shape.
PROTOCOL_FORMAT = 1


class ProtocolBlock(TypedDict):
    """The protocol of a build: everything that decides its numbers (`protocol`)."""

    format: int
    #: The release that made the numbers.
    fmnist_report: str
    profile: str
    epochs: int
    seeds: list[int]
    #: The precisions, backends and devices the runs used, joined by commas.
    precision: str
    data_fingerprint: str
    data_subset: str
    backend: str
    device: str
    batch_size: int
    learning_rate: float
    validation_fraction: float
    split: str
    kernel_sizes: list[int]
    #: The declared variants as ``[[variants]]`` tables.
    variants: list[dict[str, PlainValue]]


#: A protocol field that must agree before two builds' numbers are compared (`COMPARED`).
Compared = Literal[
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
]
#: Protocol fields that must agree before two builds' numbers are compared, in that order.
COMPARED: tuple[Compared, ...] = get_args(Compared)
#: What a run that does not name its platform was trained on: TensorFlow, on the CPU.
PLATFORM_DEFAULTS = {"backend": "tensorflow", "device": "cpu"}


def protocol(summary: Summary) -> ProtocolBlock:
    """The protocol of a build: everything that decides its numbers, as plain values."""
    study, data, made = summary.study, summary.data, summary.provenance
    return {
        "format": PROTOCOL_FORMAT,
        "fmnist_report": made.fmnist_report,
        "profile": study.profile,
        "epochs": study.epochs,
        "seeds": list(study.seed_list),
        "precision": ", ".join(made.precisions) or study.precision,
        "data_fingerprint": data.fingerprint,
        "data_subset": data.subset,
        "backend": ", ".join(made.backends) or PLATFORM_DEFAULTS["backend"],
        "device": ", ".join(made.devices) or PLATFORM_DEFAULTS["device"],
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


def config_toml(
    config: Config, resolved: Mapping[str, object] | None = None, notes: Mapping[str, str] | None = None
) -> str:
    """The effective configuration as a settings file: ``build --config`` with it repeats the study.

    Args:
        resolved: the build's protocol (or any mapping with `RESOLVED` keys): where a setting
            said ``auto``, the value it resolved to is written instead, when it is one value.
        notes: the author's notes as the PDF carries them (place -> path beside this file,
            `report.notes.carried`), written as the ``[report] notes`` table.
    """
    report = {**dataclasses.asdict(config.report), "date": config.report.display_date}
    study = {k: v for k, v in dataclasses.asdict(config.study).items() if k != "variants"}
    comments = []
    for key in RESOLVED:
        value = str((resolved or {}).get(key, ""))
        if study.get(key) == "auto" and value and "," not in value:
            study[key] = value
            comments.append(f'# {key}: "auto" in the settings, resolved by this build to "{value}"')
    source = config.settings_file.name if config.settings_file else "none (the defaults)"
    lines = [
        "# The effective configuration of this report (defaults, settings file and command line merged).",
        "# Repeat the study with: fmnist-report build --config <this file>",
        f"# Settings file read: {source}",
        *comments,
        *_toml_table("report", report),
        *(
            ["notes = { " + ", ".join(f"{k} = {_toml_value(v)}" for k, v in notes.items()) + " }"]
            if notes
            else []
        ),
        "",
        *_toml_table("study", study),
    ]
    for variant in config.study.variants:
        lines += ["", *_toml_table("[variants]", variant.to_dict())]
    return "\n".join(lines) + "\n"
