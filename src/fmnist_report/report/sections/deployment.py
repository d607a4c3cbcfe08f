"""Section 6, deployment: the exported model's files, its card, sample predictions and the commands that use it."""

from __future__ import annotations

import shlex
from typing import TypedDict

from fmnist_report.report.sections import model_card
from fmnist_report.report.sections.model_card import CardValues
from fmnist_report.report.sections.values import BLANK_PNG, Rows, data_uri, required
from fmnist_report.study.summary_types import Deployment, SeedStats, Summary, TopClass


class ExportedFile(TypedDict):
    """A file of the export: its path in the folder, its size and the start of its SHA-256."""

    path: str
    bytes: int
    sha256: str


class Shown(TypedDict):
    """A sample prediction: the test image, its class, its thumbnail and the model's top classes."""

    index: int
    true: str
    src: str
    top: list[TopClass]
    correct: bool


class Command(TypedDict):
    """A command that uses the export, and what it does."""

    command: str
    what: str


class Architecture(TypedDict, total=False):
    """The exported network's name and parameters (the export's metadata); empty where nothing was exported."""

    name: str
    params: int


class Serving(TypedDict, total=False):
    """The SavedModel's signature, its input and output names, and the tarball's layout (the
    export's metadata); empty where nothing was exported."""

    signature: str
    input: str
    output: str
    tarball_layout: list[str]


class DeploymentValues(TypedDict):
    """Section 6's values."""

    exported: bool
    model_dir: str
    label: str
    seed: int
    accuracy: SeedStats
    architecture: Architecture
    serving: Serving
    #: The export's time (UTC, ISO 8601); empty where nothing was exported.
    created_utc: str
    files: list[ExportedFile]
    total_bytes: int
    predictions: list[Shown]
    n_predictions: int
    n_correct: int
    card: CardValues
    commands: list[Command]


def build(summary: Summary, rows: Rows) -> DeploymentValues:
    """Section 6's values: what `export` wrote for the headline CNN and what it predicts on sample images.

    They are the Summary's `Deployment`, which the build adds (`summary.with_build`); a summary
    of the study alone exported nothing.
    """
    cnn = required(summary.roles.headline, "the CNN")
    deployment = summary.built.deployment if summary.built else Deployment("", None, ())
    export = deployment.export
    # Relative to the output folder's parent, or from ~: the report names no folder of this machine.
    shown = deployment.model_dir
    model_dir_arg = shlex.quote(shown)  # the commands below are meant to be pasted into a shell
    thumbnails = summary.pictures.get("predictions", {})
    files: list[ExportedFile] = []
    if export is not None:
        files = [
            {"path": f["path"], "bytes": f["bytes"], "sha256": f["sha256"][:16]}
            for f in export.get("artifacts", [])
        ]
    preds: list[Shown] = [
        {
            "index": p["index"],
            "true": p["true"],
            "src": data_uri(thumbnails.get(str(p["index"]), BLANK_PNG)),
            "top": [{"name": t["name"], "probability": t["probability"]} for t in p["top"]],
            "correct": p["top"][0]["name"] == p["true"],
        }
        for p in deployment.predictions
    ]
    return {
        "exported": export is not None,
        "model_dir": shown,
        "label": rows[cnn]["label"],
        "seed": summary.seed(cnn),
        "accuracy": rows[cnn]["test_accuracy"],
        "architecture": Architecture(**export.get("architecture", {})) if export else {},
        "serving": Serving(**export.get("serving", {})) if export else {},
        "created_utc": export.get("created_utc", "") if export else "",
        "files": files,
        "total_bytes": sum(f["bytes"] for f in files),
        "predictions": preds,
        "n_predictions": len(preds),
        "n_correct": sum(p["correct"] for p in preds),
        "card": model_card.build(summary, rows),
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
