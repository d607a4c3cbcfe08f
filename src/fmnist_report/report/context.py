"""The report context: results, summary, figures and export turned into the plain values templates need.

Everything the report prints comes from the dict :func:`build_context` returns, and
:func:`metrics_flat` turns the same dict into the rows of ``metrics.json``/``metrics.csv``,
so a number in the report and its machine-readable twin cannot disagree.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

import numpy as np

from fmnist_report import models
from fmnist_report.config import as_dict
from fmnist_report.report import content, narrative, wording
from fmnist_report.study.results import StudyResults
from fmnist_report.study.summary import Summary

#: The CNN of section 3 and of the export.
CNN_ID = "cnn3"
DENSE_ID = "dense"


class FigureLike(Protocol):
    """What the context needs of a figure: a name, a caption and the section it belongs to."""

    name: str
    caption: str
    section: str


# -- building blocks ----------------------------------------------------------------------------


def data_uri(png: bytes) -> str:
    """PNG bytes as a ``data:`` URI, so the HTML needs no other file."""
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def with_half(summary: Mapping[str, Any]) -> dict[str, Any]:
    """A per-seed summary with its interval half-width, the number the report prints after ±."""
    out = {k: _plain(v) for k, v in summary.items()}
    out["ci_half"] = (out["ci_high"] - out["ci_low"]) / 2 if out["has_ci"] else 0.0
    return out


def _plain(value: Any) -> Any:
    """numpy scalars and arrays as plain Python values."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    return value


def _summary_dicts(row: Mapping[str, Any]) -> dict[str, Any]:
    return {
        k: with_half(v) if isinstance(v, Mapping) and "has_ci" in v else _plain(v) for k, v in row.items()
    }


def _figures(
    specs: Sequence[FigureLike], pngs: Mapping[str, bytes]
) -> tuple[dict[str, list[dict[str, str]]], dict[str, dict[str, str]]]:
    by_section: dict[str, list[dict[str, str]]] = {}
    by_name: dict[str, dict[str, str]] = {}
    for spec in specs:
        if spec.name not in pngs:
            raise ValueError(
                f"figure {spec.name!r} has no PNG; render every figure before building the context"
            )
        fig = {
            "name": spec.name,
            "caption": spec.caption,
            "src": data_uri(pngs[spec.name]),
            "section": spec.section,
        }
        by_section.setdefault(spec.section, []).append(fig)
        by_name[spec.name] = fig
    return by_section, by_name


def _confusion(results: StudyResults, model_id: str) -> np.ndarray:
    return np.sum([r.arrays["confusion"] for r in results.runs[model_id]], axis=0)


# -- sections -------------------------------------------------------------------------------------


def _data_section(results: StudyResults, figures: list[dict[str, str]]) -> dict[str, Any]:
    if results.eda is None:
        raise ValueError("the study results lack the EDA record; run the study with the eda part")
    m = results.eda.metrics
    s = results.config.study
    names = list(m["class_names"])
    first = results.first(DENSE_ID).metrics
    shapes = [
        {"name": k, "shape": list(v), "dtype": m["dtypes"]["images" if k.startswith("x") else "labels"]}
        for k, v in m["shapes"].items()
    ]
    return {
        "source": m["source"],
        "subset": m["subset"],
        "full": m["subset"] == "full",
        "shapes": shapes,
        "dtypes": dict(m["dtypes"]),
        "pixels_raw": dict(m["pixels_raw"]),
        "pixels_scaled": dict(m["pixels_scaled"]),
        "scaled_dtype": m["scaled_dtype"],
        "zero_fraction": m["zero_pixel_fraction"],
        "classes": [
            {"name": n, "train": tr, "test": te, "mean_intensity": mi}
            for n, tr, te, mi in zip(
                names, m["train_counts"], m["test_counts"], m["mean_intensity_per_class"], strict=True
            )
        ],
        "n_train": sum(m["train_counts"]),
        "n_test": sum(m["test_counts"]),
        "n_fit": first["n_train"],
        "n_val": first["n_val"],
        "split": narrative.split_phrase(s.split, s.validation_fraction),
        "validation_fraction": s.validation_fraction,
        "balance_text": narrative.balance_text(m["train_counts"], m["test_counts"], names),
        "pixel_text": narrative.pixel_text(m["pixels_raw"], m["zero_pixel_fraction"], m["dtypes"]["images"]),
        "preprocessing_text": narrative.preprocessing_text(
            s.split,
            s.validation_fraction,
            first["n_train"],
            first["n_val"],
            m["pixels_scaled"],
            m["scaled_dtype"],
            len(names),
        ),
        "figures": figures,
    }


def _dense_section(
    results: StudyResults,
    rows: Mapping[str, dict[str, Any]],
    layers: Mapping[str, list[dict[str, Any]]],
    figures: list[dict[str, str]],
) -> dict[str, Any]:
    row = rows[DENSE_ID]
    names = list(results.data.class_names)
    pairs = narrative.most_confused(_confusion(results, DENSE_ID), names)
    weakest = narrative.weakest_classes(row["per_class_accuracy"], names)
    return {
        "label": row["label"],
        "layers": [dict(r) for r in layers[DENSE_ID]],
        "params": row["params"],
        "flops": row["flops"],
        "n_seeds": len(row["seeds"]),
        "accuracy": row["test_accuracy"],
        "loss": row["test_loss"],
        "per_class": [
            {"name": n, "accuracy": a} for n, a in zip(names, row["per_class_accuracy"], strict=True)
        ],
        "weakest": weakest,
        "confused": pairs,
        "limitations": narrative.limitations_text(row["label"], row["test_accuracy"]["mean"], weakest, pairs),
        "figures": figures,
    }


_COMPARED = (
    ("test_accuracy", "Test accuracy", "pct"),
    ("test_loss", "Test loss (cross-entropy)", "num"),
    ("params", "Parameters", "int"),
    ("flops", "FLOPs per image", "int"),
    ("train_seconds", "Training time", "s"),
    ("latency_ms_batched", "Latency per image, batches of 1,000", "ms"),
    ("latency_ms_single", "Latency, one image per call", "ms"),
)


def _cnn_section(
    results: StudyResults,
    rows: Mapping[str, dict[str, Any]],
    layers: Mapping[str, list[dict[str, Any]]],
    comparisons: Mapping[str, Any],
    figures: list[dict[str, str]],
    test_counts: Sequence[int],
) -> dict[str, Any]:
    dense, cnn = rows[DENSE_ID], rows[CNN_ID]
    names = list(results.data.class_names)
    comp = comparisons.get(f"{DENSE_ID}__vs__{CNN_ID}")
    return {
        "label": cnn["label"],
        "dense_label": dense["label"],
        "layers": [dict(r) for r in layers[CNN_ID]],
        "receptive_fields": models.receptive_fields(3),
        "design": content.design_choices(),
        "compared": [
            {"key": key, "name": name, "kind": kind, "dense": dense[key], "cnn": cnn[key]}
            for key, name, kind in _COMPARED
        ],
        "per_class": [
            {"name": n, "dense": a, "cnn": b, "diff": b - a}
            for n, a, b in zip(names, dense["per_class_accuracy"], cnn["per_class_accuracy"], strict=True)
        ],
        "per_class_text": narrative.per_class_shift_text(
            dense["label"],
            cnn["label"],
            dense["per_class_accuracy"],
            cnn["per_class_accuracy"],
            names,
            test_counts,
        ),
        "cost_text": narrative.cost_text(dense["label"], dense, cnn["label"], cnn),
        "significance": wording.significance_text(comp),
        "diff": with_half(comp["diff"]) if comp else None,
        "mcnemar": [{"seed": s, **t} for s, t in zip(comp["seeds"], comp["mcnemar"], strict=True)]
        if comp
        else [],
        "figures": figures,
    }


def kernel_ids(results: StudyResults) -> list[str]:
    """The kernel study's model ids in the configured order, those with runs only."""
    return [f"cnn{k}" for k in results.config.study.kernel_sizes if f"cnn{k}" in results.runs]


def _kernels_section(
    results: StudyResults,
    rows: Mapping[str, dict[str, Any]],
    comparisons: Mapping[str, Any],
    figures: list[dict[str, str]],
) -> dict[str, Any]:
    ids = kernel_ids(results)
    names = list(results.data.class_names)
    krows = []
    for mid in ids:
        r = rows[mid]
        k = int(mid.removeprefix("cnn"))
        krows.append(
            {
                **r,
                "kernel_size": k,
                "receptive_field": models.receptive_fields(k)[-1]["receptive_field"],
            }
        )
    pairs = []
    for i, a in enumerate(ids):
        for b in ids[i + 1 :]:
            comp = narrative.find_comparison(comparisons, a, b)
            if comp is not None:
                pairs.append(
                    {
                        "key": f"{comp['a']}__vs__{comp['b']}",
                        "label_a": comp["label_a"],
                        "label_b": comp["label_b"],
                        "diff": with_half(comp["diff"]),
                        "worst_p": comp["worst_p"],
                        "significant": comp["significant"],
                        "text": wording.significance_text(comp),
                    }
                )
    best = max(krows, key=lambda r: (r["test_accuracy"]["mean"], -r["kernel_size"])) if krows else None
    return {
        "rows": krows,
        "labels": [r["label"] for r in krows],
        "per_class": [
            {
                "name": n,
                "cells": [{"model_id": r["model_id"], "accuracy": r["per_class_accuracy"][i]} for r in krows],
            }
            for i, n in enumerate(names)
        ],
        "comparisons": pairs,
        "best": {
            "label": best["label"],
            "kernel_size": best["kernel_size"],
            "accuracy": best["test_accuracy"],
        }
        if best
        else None,
        "conclusion": narrative.kernel_conclusion(krows, comparisons),
        "tradeoff_text": narrative.tradeoff_text(krows),
        "figures": figures,
    }


def _interpretation_section(
    evidence: Sequence[Mapping[str, Any]],
    by_section: Mapping[str, list[dict[str, str]]],
    by_name: Mapping[str, dict[str, str]],
) -> dict[str, Any]:
    used: set[str] = set()
    items = []
    for item in evidence:
        missing = [n for n in item.get("figures", []) if n not in by_name]
        if missing:
            raise ValueError(
                f"interpretation item {item.get('id')!r} shows figure {missing[0]!r}, which no figure function made"
            )
        used.update(item.get("figures", []))
        items.append(
            {
                "id": item["id"],
                "claim": item["claim"],
                "title": item.get("title", ""),
                "paragraphs": list(item.get("paragraphs", [])),
                "figures": [by_name[n] for n in item.get("figures", [])],
                "tables": [
                    {
                        "caption": t["caption"],
                        "columns": list(t["columns"]),
                        "rows": [list(r) for r in t["rows"]],
                    }
                    for t in item.get("tables", [])
                ],
            }
        )
    # No figure is dropped: any the study's sections do not place and no item shows comes here.
    extra = [
        fig
        for section, figs in by_section.items()
        if section not in content.PLACED_SECTIONS
        for fig in figs
        if fig["name"] not in used
    ]
    return {"evidence": items, "extra_figures": extra}


def _deployment_section(
    results: StudyResults,
    rows: Mapping[str, dict[str, Any]],
    export: Mapping[str, Any] | None,
    predictions: Sequence[Mapping[str, Any]],
) -> dict[str, Any]:
    model_dir = results.config.model_dir.as_posix()
    files = []
    if export is not None:
        files = [
            {"path": rel, "bytes": info["bytes"], "sha256": info["sha256"][:16]}
            for rel, info in sorted(export.get("artifacts", {}).items())
        ]
    preds = [
        {
            "index": int(p["index"]),
            "true": p["true"],
            "src": data_uri(p["png"]),
            "top": [{"name": n, "probability": float(prob)} for n, prob in p["top"]],
            "correct": p["top"][0][0] == p["true"],
        }
        for p in predictions
    ]
    return {
        "exported": export is not None,
        "model_dir": model_dir,
        "label": rows[CNN_ID]["label"],
        "seed": results.first(CNN_ID).metrics["spec"]["seed"],
        "accuracy": rows[CNN_ID]["test_accuracy"],
        "architecture": dict(export.get("architecture", {})) if export else {},
        "serving": dict(export.get("serving", {})) if export else {},
        "created_utc": export.get("created_utc", "") if export else "",
        "files": files,
        "total_bytes": sum(f["bytes"] for f in files),
        "predictions": preds,
        "n_predictions": len(preds),
        "n_correct": sum(p["correct"] for p in preds),
        "commands": [
            {
                "command": f"fmnist-report predict --model-dir {model_dir} image.png",
                "what": "classify PNG/JPEG images, .npy arrays or IDX files with the exported model",
            },
            {
                "command": f"fmnist-report serve --model-dir {model_dir} --port 8080",
                "what": "serve it over HTTP with the SageMaker contract: GET /ping, POST /invocations",
            },
            {
                "command": f"fmnist-report deploy --model-dir {model_dir} --dry-run",
                "what": "print the steps that would upload model.tar.gz to S3 and create a SageMaker endpoint",
            },
        ],
    }


def _reproducibility_section(
    results: StudyResults, rows: Mapping[str, dict[str, Any]], environment: Mapping[str, Any]
) -> dict[str, Any]:
    cfg = results.config
    study = as_dict(cfg)["study"]
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
        "seeds": list(cfg.study.seed_list),
        "config": [{"key": k, "value": _config_value(v)} for k, v in study.items()],
        "precision": _precision_text(results),
        "source": results.data.source,
        "subset": results.data.subset,
        "fingerprint": results.data.fingerprint,
        "checksums": [{"file": k, "md5": v} for k, v in sorted(results.data.checksums.items())],
        "timings": timings,
        "total_seconds": sum(t["seconds"] for t in timings),
    }


def _precision_text(results: StudyResults) -> str:
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


def _config_value(value: Any) -> Any:
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    return "none (all)" if value is None else value


def _references_section(rows: Mapping[str, dict[str, Any]], full: bool) -> dict[str, Any]:
    ours = [
        {"name": rows[mid]["label"], "accuracy": rows[mid]["test_accuracy"]["mean"]}
        for mid in (DENSE_ID, CNN_ID)
        if mid in rows
    ]
    published = [dict(p) for p in content.PUBLISHED]
    return {
        "published": published,
        "ours": ours,
        "text": narrative.benchmark_text(ours, published, full),
        "citations": list(content.CITATIONS),
    }


def _summary(
    results: StudyResults,
    rows: Mapping[str, dict[str, Any]],
    comparisons: Mapping[str, Any],
    kernels: Mapping[str, Any],
    data: Mapping[str, Any],
) -> dict[str, Any]:
    s = results.config.study
    dense, cnn = rows[DENSE_ID], rows[CNN_ID]
    comp = comparisons.get(f"{DENSE_ID}__vs__{CNN_ID}")
    n_seeds = len(cnn["seeds"])
    return {
        "profile": s.profile,
        "dataset": "Fashion-MNIST",
        "n_seeds": n_seeds,
        "epochs": s.epochs,
        "n_train": data["n_train"],
        "n_test": data["n_test"],
        "dense": {"label": dense["label"], "accuracy": dense["test_accuracy"]},
        "cnn": {"label": cnn["label"], "kernel_size": 3, "accuracy": cnn["test_accuracy"]},
        "kernel_sizes": list(s.kernel_sizes),
        "diff": with_half(comp["diff"]) if comp else None,
        "worst_p": comp["worst_p"] if comp else None,
        "significant": bool(comp and comp["significant"]),
        "comparison": wording.significance_text(comp),
        "best_kernel": kernels["best"],
        "kernel_conclusion": kernels["conclusion"][:2],
        "scope_text": narrative.scope_text(
            s.profile, data["n_train"], data["n_test"], s.epochs, n_seeds, data["full"]
        ),
    }


# -- the whole context --------------------------------------------------------------------------


def build_context(
    results: StudyResults,
    summary: Summary,
    *,
    figures: Sequence[FigureLike],
    pngs: Mapping[str, bytes],
    export: Mapping[str, Any] | None,
    predictions: Sequence[Mapping[str, Any]],
    evidence: Sequence[Mapping[str, Any]],
    environment: Mapping[str, Any],
) -> dict[str, Any]:
    """Every value the templates lay out.

    Args:
        summary: the study's `Summary`.
        figures: the figure specs in report order; ``pngs`` their PNG bytes by name.
        export: the metadata `export.export_model` returned, or None when nothing was exported.
        predictions: one item per sample image: ``index``, ``true`` (class name), ``png``
            (bytes) and ``top`` ((class name, probability) pairs, most likely first).
        evidence: `interpretation.evidence(results, summary)`.
        environment: ``versions`` (name -> version), ``platform``, ``cpu``, ``logical_cpus``, ``threads``.
    """
    rows = {m: _summary_dicts(row) for m, row in summary.models.items()}
    comparisons = summary.comparisons
    by_section, by_name = _figures(figures, pngs)
    data = _data_section(results, by_section.get("eda", []))
    kernels = _kernels_section(results, rows, comparisons, by_section.get("kernels", []))
    report = results.config.report
    return {
        "meta": {
            "title": report.title,
            "author": report.author,
            "course": report.course,
            "date": report.display_date,
            "profile": results.config.study.profile,
        },
        "toc": [{"id": i, "number": n, "title": t} for i, n, t in content.SECTIONS],
        "sections": {i: {"number": n, "title": t} for i, n, t in content.SECTIONS},
        "summary": _summary(results, rows, comparisons, kernels, data),
        "data": data,
        "dense": _dense_section(results, rows, summary.layers, by_section.get("dense", [])),
        "cnn": _cnn_section(
            results,
            rows,
            summary.layers,
            comparisons,
            by_section.get("cnn", []),
            [c["test"] for c in data["classes"]],
        ),
        "kernels": kernels,
        "interpretation": _interpretation_section(evidence, by_section, by_name),
        "deployment": _deployment_section(results, rows, export, predictions),
        "reproducibility": _reproducibility_section(results, rows, environment),
        "references": _references_section(rows, data["full"]),
        # The interpretation's raw measurements, which its prose and tables quote: for metrics.json.
        "analyses": summary.analyses,
        "figure_count": len(by_name),
    }
