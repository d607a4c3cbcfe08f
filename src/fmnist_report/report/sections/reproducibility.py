"""Appendix A, reproducibility: versions, machine, configuration, precision, data checksums and timings."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any, TypedDict

from fmnist_report.config import StudyConfig
from fmnist_report.report.sections.family import describe
from fmnist_report.report.sections.values import Rows
from fmnist_report.study.summary_types import Machine, Summary
from fmnist_report.variants import PlainValue

#: A study setting as the appendix lists it: a `StudyConfig` field (None where unset, a list for
#: a tuple), or a declared variant in words.
Setting = PlainValue | None
#: A setting as the settings table prints it: lists joined, None in words.
Printed = str | int | float | bool


class Version(TypedDict):
    """A package and its version."""

    name: str
    version: str


class ConfigLine(TypedDict):
    """A line of the settings table."""

    key: str
    value: Printed


class Checksum(TypedDict):
    """A data file and its MD5."""

    file: str
    md5: str


class Timing(TypedDict):
    """A model's training time over its seeds."""

    model_id: str
    label: str
    seeds: int
    seconds: float


class ReproducibilityValues(TypedDict):
    """Appendix A's values."""

    versions: list[Version]
    #: The machine the report was built on; empty (0 for the CPUs) where the Summary does not know it.
    platform: str
    cpu: str
    logical_cpus: int
    #: TensorFlow's ``intra_op`` and ``inter_op`` threads; empty where unknown or on another backend.
    threads: dict[str, int] | str
    trained_on: str
    isa: str
    seeds: list[int]
    config: list[ConfigLine]
    precision: str
    levers: list[str]
    training_platform: str
    platform_note: str
    source: str
    subset: str
    fingerprint: str
    checksums: list[Checksum]
    timings: list[Timing]
    total_seconds: float


def precision_text(summary: Summary) -> str:
    """The arithmetic the runs actually used (``auto`` resolved), the same for every model."""
    used = list(summary.provenance.precisions)
    text = ", ".join(used) or summary.study.precision
    if "mixed_bfloat16" in used:
        text += (
            " (Keras mixed precision: bfloat16 arithmetic, float32 weights and softmax output; "
            "chosen by precision = auto because this CPU computes bfloat16 natively)"
            if summary.study.precision == "auto"
            else " (Keras mixed precision: bfloat16 arithmetic, float32 weights and softmax output)"
        )
    return text


def levers_text(summary: Summary) -> list[str]:
    """The speed levers the runs were trained with: those of the CPU class their precision shows."""
    from fmnist_report import runtime

    used = set(summary.provenance.precisions)
    if summary.platform != "TensorFlow on CPU" or len(used) != 1:
        return []  # the levers were measured for TensorFlow on the CPU
    return list(runtime.LEVERS["bfloat16" if used == {"mixed_bfloat16"} else "float32"])


def isa_text(cap: str | None) -> str:
    """The oneDNN instruction-set cap the build ran under, in words; empty where there was none."""
    if not cap:
        return ""
    return (
        f"capped at {cap} (ONEDNN_MAX_CPU_ISA): oneDNN ran the kernels of a CPU with that "
        "instruction set, whatever this CPU offers; the cap is part of every run's key"
    )


THREADS_NOTE = (
    "oneDNN splits a convolution's sums by intra-op thread, so CNN runs trained with another "
    "thread count differ in their last digits; build with --fresh to train every run on this machine"
)


def machine_text(machine: Mapping[str, Any]) -> str:
    """A run's machine in words: ``AMD EPYC, 2 logical CPUs, TensorFlow's default threads``."""
    threads = machine.get("intra_op_threads")
    text = f"{machine['cpu']}, {machine['logical_cpus']} logical CPUs"
    if threads is None:
        return text
    return text + (", TensorFlow's default threads" if threads == 0 else f", {threads} intra-op threads")


def trained_on_text(machines: Sequence[Machine], environment: Mapping[str, Any]) -> str:
    """Which machines trained the stored runs, with how many runs each, and what that means.

    A store can be filled on one machine and rendered on another: the machine table above
    describes the renderer, each run's record the machine that trained it.
    """
    here = environment.get("machine")
    parts = []
    for entry in machines:
        machine, n = entry["machine"], entry["runs"]
        runs = f"{n} run{'s' if n != 1 else ''}"
        if machine is None:
            parts.append(f"not recorded for {runs}, stored by an earlier version")
        else:
            parts.append(f"{machine_text(machine)}{' (this machine)' if machine == here else ''}: {runs}")
    recorded = [m["machine"] for m in machines if m["machine"] is not None]
    note = f". {THREADS_NOTE}" if len(recorded) > 1 or (recorded and recorded[0] != here) else ""
    return "; ".join(parts) + note


def config_value(value: Setting | tuple[int, ...]) -> Printed:
    """A configuration value as the appendix lists it: sequences joined, None as ``none (all)``."""
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    return "none (all)" if value is None else value


PLATFORM_NOTE = (
    "The backend and the device draw other random numbers and round differently, so the same "
    "seed does not give the same numbers on another platform. From the same initial weights "
    "and batch order, the CNN 7x7 of seed 0 reached 91.44% with TensorFlow on a CPU and 91.61% "
    "with JAX on an NVIDIA H200 (docs/performance.md). Compare reports only when they name the "
    "same platform."
)


def variant_text(declared: Mapping[str, PlainValue]) -> str:
    """A declared variant as the settings table shows it: ``base cnn; dropout 0.3``."""
    overrides = {k: v for k, v in declared.items() if k not in ("name", "base")}
    return f"base {declared['base']}; {describe(overrides)}"


def study_settings(study: StudyConfig) -> dict[str, Setting]:
    """The study's settings as the appendix lists them: the configuration's ``study`` table, with
    each declared variant on a line of its own in words (and none where the study declares none)."""
    fields = dataclasses.asdict(study)
    fields.pop("variants")
    out: dict[str, Setting] = {
        **fields,
        "kernel_sizes": list(study.kernel_sizes),
        "seed_list": list(study.seed_list),
    }
    out.update({f"variant {v.name}": variant_text(v.to_dict()) for v in study.variants})
    return out


def build(summary: Summary, rows: Rows) -> ReproducibilityValues:
    """Appendix A's values, from the Summary, its model rows and the machine the build ran on."""
    environment = dataclasses.asdict(summary.built.environment) if summary.built else {}
    study = summary.study
    data = summary.data
    timings: list[Timing] = []
    for mid, row in rows.items():
        seconds = row["per_seed"]["train_seconds"]
        timings.append(
            {"model_id": mid, "label": row["label"], "seeds": len(seconds), "seconds": sum(seconds)}
        )
    return {
        "versions": [{"name": k, "version": v} for k, v in environment.get("versions", {}).items()],
        "platform": environment.get("platform", ""),
        "cpu": environment.get("cpu", ""),
        "logical_cpus": environment.get("logical_cpus", 0),
        "threads": environment.get("threads", ""),
        "trained_on": trained_on_text(summary.provenance.machines, environment),
        "isa": isa_text(environment.get("isa_cap")),
        "seeds": list(study.seed_list),
        "config": [{"key": k, "value": config_value(v)} for k, v in study_settings(study).items()],
        "precision": precision_text(summary),
        "levers": levers_text(summary),
        "training_platform": summary.platform,
        "platform_note": PLATFORM_NOTE,
        "source": data.source,
        "subset": data.subset,
        "fingerprint": data.fingerprint,
        "checksums": [{"file": k, "md5": v} for k, v in sorted(data.checksums.items())],
        "timings": timings,
        "total_seconds": sum(t["seconds"] for t in timings),
    }
