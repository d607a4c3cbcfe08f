"""Section 6, deployment: the exported model's files, its card, sample predictions and the commands that use it."""

from __future__ import annotations

import shlex
from collections.abc import Mapping, Sequence
from typing import Any

from fmnist_report.paths import printable_path
from fmnist_report.report.sections import model_card
from fmnist_report.report.sections.values import Rows, data_uri
from fmnist_report.study.results import StudyResults
from fmnist_report.study.summary import Summary


def build(
    results: StudyResults,
    summary: Summary,
    rows: Rows,
    export: Mapping[str, Any] | None,
    predictions: Sequence[Mapping[str, Any]],
) -> dict[str, Any]:
    """Section 6's values: what `export` wrote for the headline CNN and what it predicts on sample images."""
    cnn = summary.roles.headline
    # Relative to the output folder's parent, or from ~: the report names no folder of this machine.
    model_dir = printable_path(results.config.model_dir)
    model_dir_arg = shlex.quote(model_dir)  # the commands below are meant to be pasted into a shell
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
        "label": rows[cnn]["label"],
        "seed": results.first(cnn).metrics["spec"]["seed"],
        "accuracy": rows[cnn]["test_accuracy"],
        "architecture": dict(export.get("architecture", {})) if export else {},
        "serving": dict(export.get("serving", {})) if export else {},
        "created_utc": export.get("created_utc", "") if export else "",
        "files": files,
        "total_bytes": sum(f["bytes"] for f in files),
        "predictions": preds,
        "n_predictions": len(preds),
        "n_correct": sum(p["correct"] for p in preds),
        "card": model_card.build(results, summary, rows),
        "commands": [
            {
                "command": f"fmnist-report predict --model-dir {model_dir_arg} image.png",
                "what": "classify PNG/JPEG images, .npy arrays or IDX files with the exported model",
            },
            {
                "command": f"fmnist-report serve --model-dir {model_dir_arg} --port 8080",
                "what": "serve it over HTTP with the SageMaker contract: GET /ping, POST /invocations",
            },
            {
                "command": f"fmnist-report deploy --model-dir {model_dir_arg} --dry-run",
                "what": "print the steps that would upload model.tar.gz to S3 and create a SageMaker endpoint",
            },
        ],
    }
