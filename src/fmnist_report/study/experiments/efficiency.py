"""Parameter efficiency and hierarchy: accuracy per parameter and FLOP, receptive fields, weight sharing."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping, Sequence
from typing import Final

from fmnist_report import models
from fmnist_report.ids import ModelId
from fmnist_report.records import Measured
from fmnist_report.study.experiments.registry import Job, Loader
from fmnist_report.study.results import Roles, StudyResults
from fmnist_report.study.summary_types import (
    EfficiencyMeasured,
    EfficiencyRow,
    Layer,
    ModelRow,
    ParamSplit,
    SharingCost,
)

KIND: Final = "efficiency"
#: Part of the cache key: bump when a change to this module changes what it measures.
VERSION = 1
HEAD_TYPES = ("Dense",)
CONV_TYPES = ("Conv2D",)


def _dims(shape: str) -> tuple[int, ...]:
    return tuple(int(d) for d in shape.split("x"))


def param_split(table: Sequence[Layer]) -> ParamSplit:
    """Parameters in convolution layers versus dense layers, from ``models.layer_table``."""
    conv = sum(int(r["params"]) for r in table if r["type"] in CONV_TYPES)
    head = sum(int(r["params"]) for r in table if r["type"] in HEAD_TYPES)
    total = sum(int(r["params"]) for r in table)
    return {"conv": conv, "dense": head, "total": total, "conv_share": conv / total if total else 0.0}


def weight_sharing(table: Sequence[Layer], kernel_size: int) -> list[SharingCost]:
    """What each conv layer would cost without weight sharing or without locality.

    For a layer mapping H_in x W_in x C_in to H x W x C_out with k x k kernels:
    shared (convolution) C_out * (k*k*C_in + 1); locally connected (same windows, a separate
    kernel at every position) H * W * C_out * (k*k*C_in + 1); fully connected (every input to
    every output) (H_in*W_in*C_in + 1) * H * W * C_out.
    """
    out: list[SharingCost] = []
    for prev, row in itertools.pairwise(table):
        if row["type"] not in CONV_TYPES:
            continue
        h_in, w_in, c_in = _dims(prev["output_shape"])
        h, w, c_out = _dims(row["output_shape"])
        window = kernel_size * kernel_size * c_in + 1
        shared = c_out * window
        if shared != row["params"]:
            raise ValueError(
                f"{row['name']}: {row['params']} parameters, expected {shared} for k={kernel_size}"
            )
        out.append(
            {
                "layer": row["name"],
                "input": prev["output_shape"],
                "output": row["output_shape"],
                "shared": shared,
                "locally_connected": h * w * c_out * window,
                "fully_connected": (h_in * w_in * c_in + 1) * h * w * c_out,
            }
        )
    return out


def model_rows(rows: Sequence[ModelRow]) -> list[EfficiencyRow]:
    """Accuracy against cost for every model, from the summary's per-model rows."""
    return [
        {
            "model_id": r["model_id"],
            "label": r["label"],
            "permuted": ModelId.parse(r["model_id"]).permuted,
            "params": int(r["params"]),
            "flops": int(r["flops"]),
            "seeds": list(r["seeds"]),
            "test_accuracy": r["test_accuracy"],
            "latency_ms_batched": r["latency_ms_batched"],
            "latency_ms_single": r["latency_ms_single"],
        }
        for r in rows
    ]


def run(tables: Mapping[str, list[Layer]]) -> Measured[EfficiencyMeasured]:
    """The hierarchy and weight-sharing numbers of each CNN, from the models' layer tables.

    Args:
        tables: each model id's layer table (``models.layer_table``).
    """
    kernel_sizes = {m: ModelId.parse(m).kernel_size for m in tables}
    cnn_sizes = sorted({k for k in kernel_sizes.values() if k is not None})
    measured: EfficiencyMeasured = {
        "param_split": {m: param_split(t) for m, t in tables.items()},
        "receptive_fields": {str(k): models.receptive_fields(k) for k in cnn_sizes},
        "weight_sharing": {
            str(k): weight_sharing(tables[m], k)
            for m, k in kernel_sizes.items()
            if k is not None and not ModelId.parse(m).permuted
        },
        "layers": dict(tables),
    }
    return Measured(measured)


def job(results: StudyResults, roles: Roles) -> Job | None:
    """Parameter split, receptive fields and weight sharing of every trained model.

    The accuracy-against-cost rows come from the summary (:func:`model_rows`), not from
    this record, so they can never go stale.
    """
    studied = builtin_ids(results.runs)  # the variants have their own section
    if not studied:
        return None

    def compute(load: Loader) -> Measured[EfficiencyMeasured]:
        return run({m: results.first(m).metrics["layers"] for m in studied})

    return Job(KIND, VERSION, {}, [r.key for m in studied for r in results.runs[m]], compute)


def builtin_ids(model_ids: Iterable[str]) -> list[str]:
    """The built-in models of the study among ``model_ids``, in their order (no declared variant)."""
    return [m for m in model_ids if not ModelId.parse(m).is_variant]
