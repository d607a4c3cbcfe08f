"""Appendix A, reproducibility: versions, machine, configuration, precision, data checksums and timings."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fmnist_report.config import as_dict
from fmnist_report.paths import printable_source
from fmnist_report.report.sections.family import describe
from fmnist_report.report.sections.values import Rows
from fmnist_report.study.results import StudyResults


def precision_text(results: StudyResults) -> str:
    """The arithmetic the runs actually used (``auto`` resolved), the same for every model."""
    used = sorted({r.metrics["spec"]["precision"] for recs in results.runs.values() for r in recs})
    text = ", ".join(used) or results.config.study.precision
    if "mixed_bfloat16" in used:
        text += (
            " (Keras mixed precision: bfloat16 arithmetic, float32 weights and softmax output; "
            "chosen by precision = auto because this CPU computes bfloat16 natively)"
            if results.config.study.precision == "auto"
            else " (Keras mixed precision: bfloat16 arithmetic, float32 weights and softmax output)"
        )
    return text


def levers_text(results: StudyResults) -> list[str]:
    """The speed levers the runs were trained with: those of the CPU class their precision shows."""
    from fmnist_report import runtime

    used = {r.metrics["spec"]["precision"] for recs in results.runs.values() for r in recs}
    if results.platform() != "TensorFlow on CPU" or len(used) != 1:
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


def trained_on_text(results: StudyResults, environment: Mapping[str, Any]) -> str:
    """Which machines trained the stored runs, with how many runs each, and what that means.

    A store can be filled on one machine and rendered on another: the machine table above
    describes the renderer, each run's record the machine that trained it.
    """
    here = environment.get("machine")
    machines = results.machines()
    parts = []
    for machine, n in machines:
        runs = f"{n} run{'s' if n != 1 else ''}"
        if machine is None:
            parts.append(f"not recorded for {runs}, stored by an earlier version")
        else:
            parts.append(f"{machine_text(machine)}{' (this machine)' if machine == here else ''}: {runs}")
    recorded = [m for m, _ in machines if m is not None]
    note = f". {THREADS_NOTE}" if len(recorded) > 1 or (recorded and recorded[0] != here) else ""
    return "; ".join(parts) + note


def config_value(value: Any) -> Any:
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


def variant_text(declared: Mapping[str, Any]) -> str:
    """A declared variant as the settings table shows it: ``base cnn; dropout 0.3``."""
    overrides = {k: v for k, v in declared.items() if k not in ("name", "base")}
    return f"base {declared['base']}; {describe(overrides)}"


def build(results: StudyResults, rows: Rows, environment: Mapping[str, Any]) -> dict[str, Any]:
    """Appendix A's values, from the results, the summary rows and the machine's environment."""
    cfg = results.config
    study = as_dict(cfg)["study"]
    # The variants get a line each in words, and none at all where the study declares none.
    declared = study.pop("variants")
    study.update({f"variant {v['name']}": variant_text(v) for v in declared})
    timings = []
    for mid, records in results.runs.items():
        seconds = [float(r.metrics["train_seconds"]) for r in records]
        timings.append(
            {"model_id": mid, "label": rows[mid]["label"], "seeds": len(seconds), "seconds": sum(seconds)}
        )
    return {
        "versions": [{"name": k, "version": v} for k, v in environment.get("versions", {}).items()],
        "platform": environment.get("platform", ""),
        "cpu": environment.get("cpu", ""),
        "logical_cpus": environment.get("logical_cpus", 0),
        "threads": environment.get("threads", ""),
        "trained_on": trained_on_text(results, environment),
        "isa": isa_text(environment.get("isa_cap")),
        "seeds": list(cfg.study.seed_list),
        "config": [{"key": k, "value": config_value(v)} for k, v in study.items()],
        "precision": precision_text(results),
        "levers": levers_text(results),
        "training_platform": results.platform(),
        "platform_note": PLATFORM_NOTE,
        "source": printable_source(results.data.source),
        "subset": results.data.subset,
        "fingerprint": results.data.fingerprint,
        "checksums": [{"file": k, "md5": v} for k, v in sorted(results.data.checksums.items())],
        "timings": timings,
        "total_seconds": sum(t["seconds"] for t in timings),
    }
