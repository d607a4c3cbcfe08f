"""Parameter efficiency and hierarchy: accuracy per parameter and FLOP, receptive fields, weight sharing."""

from __future__ import annotations

import itertools
from typing import Any

from fmnist_report import models
from fmnist_report.records import Record

KIND = "efficiency"
#: Part of the cache key: bump when a change to this module changes what it measures.
VERSION = 1
HEAD_TYPES = ("Dense",)
CONV_TYPES = ("Conv2D",)


def _dims(shape: str) -> tuple[int, ...]:
    return tuple(int(d) for d in shape.split("x"))


def param_split(table: list[dict[str, Any]]) -> dict[str, Any]:
    """Parameters in convolution layers versus dense layers, from ``models.layer_table``."""
    conv = sum(int(r["params"]) for r in table if r["type"] in CONV_TYPES)
    head = sum(int(r["params"]) for r in table if r["type"] in HEAD_TYPES)
    total = sum(int(r["params"]) for r in table)
    return {"conv": conv, "dense": head, "total": total, "conv_share": conv / total if total else 0.0}


def weight_sharing(table: list[dict[str, Any]], kernel_size: int) -> list[dict[str, Any]]:
    """What each conv layer would cost without weight sharing or without locality.

    For a layer mapping H_in x W_in x C_in to H x W x C_out with k x k kernels:
    shared (convolution) C_out * (k*k*C_in + 1); locally connected (same windows, a separate
    kernel at every position) H * W * C_out * (k*k*C_in + 1); fully connected (every input to
    every output) (H_in*W_in*C_in + 1) * H * W * C_out.
    """
    out = []
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


def run(
    rows: list[dict[str, Any]], tables: dict[str, list[dict[str, Any]]], kernel_sizes: dict[str, int | None]
) -> Record:
    """Accuracy against cost for every model, and the hierarchy and weight-sharing numbers of each CNN.

    Args:
        rows: ``summary.model_summary`` rows (accuracy, latency over seeds; params; FLOPs).
        tables: ``models.layer_table`` of each model id.
        kernel_sizes: each model id's kernel size, None for the dense network.
    """
    model_rows = [
        {
            "model_id": r["model_id"],
            "label": r["label"],
            "permuted": r["model_id"].endswith("-permuted"),
            "params": int(r["params"]),
            "flops": int(r["flops"]),
            "seeds": list(r["seeds"]),
            "test_accuracy": r["test_accuracy"],
            "latency_ms_batched": r["latency_ms_batched"],
            "latency_ms_single": r["latency_ms_single"],
        }
        for r in rows
    ]
    cnn_sizes = sorted({k for k in kernel_sizes.values() if k is not None})
    metrics = {
        "models": model_rows,
        "param_split": {m: param_split(t) for m, t in tables.items()},
        "receptive_fields": {str(k): models.receptive_fields(k) for k in cnn_sizes},
        "weight_sharing": {
            str(k): weight_sharing(tables[m], k)
            for m, k in kernel_sizes.items()
            if k is not None and not m.endswith("-permuted") and m in tables
        },
        "layers": tables,
    }
    return Record(kind=KIND, key="", metrics=metrics)
