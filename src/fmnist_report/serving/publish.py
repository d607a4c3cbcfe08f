"""The study's headline CNN as a deployable model: its metadata, its export, sample predictions."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypedDict, cast

import numpy as np

from fmnist_report.config import study_table
from fmnist_report.data import Dataset
from fmnist_report.errors import ModelError, StoreError
from fmnist_report.paths import printable_source
from fmnist_report.serving import export, inference
from fmnist_report.serving.export import ExportMetadata, StudyRecord
from fmnist_report.serving.export_tf import NO_TENSORFLOW, check_tensorflow, export_in_tensorflow
from fmnist_report.store import MODEL_FILE, Store
from fmnist_report.study.analyses import ModelLoader
from fmnist_report.study.results import StudyResults
from fmnist_report.study.summary_types import Summary

THUMBNAIL_SCALE = 3


class SamplePrediction(TypedDict):
    """The exported model's top classes for one test image, with the image as a PNG."""

    index: int
    true: str
    png: bytes
    #: (class name, probability) pairs, most probable first.
    top: list[tuple[str, float]]


def exported_id(summary: Summary) -> str:
    """The model id of the CNN that is exported: the study's headline CNN."""
    if summary.roles.headline is None:
        raise StoreError("the study's CNN did not run, so there is no model to export; build with --only cnn")
    return summary.roles.headline


def export_metadata(results: StudyResults, summary: Summary) -> StudyRecord:
    """What metadata.json records about the exported CNN: its training, its accuracy, its data."""
    cfg = results.config
    model_id = exported_id(summary)
    first = results.first(model_id)
    row = summary.row(model_id)
    spec = first.metrics["spec"]
    return {
        "training": {
            "model_id": first.metrics["model_id"],
            "label": first.metrics["label"],
            "record_key": first.key,
            "seed": spec["seed"],
            "spec": spec,
            "study": study_table(cfg.study),
        },
        "metrics": {
            "test_accuracy_over_seeds": row["test_accuracy"],
            "test_loss_over_seeds": row["test_loss"],
            "test_accuracy_exported_seed": first.metrics["test_accuracy"],
            "n_test": first.metrics["n_test"],
        },
        "data": {
            "source": printable_source(results.data.source),
            "fingerprint": results.data.fingerprint,
            "subset": results.data.subset,
            "checksums": dict(results.data.checksums),
        },
    }


def export_cnn(
    results: StudyResults,
    summary: Summary,
    *,
    reuse: bool = False,
    load_model: Callable[[str], Any] | None = None,
) -> ExportMetadata:
    """Export the first seed's headline CNN to the model folder; returns the export's metadata.

    With ``reuse``, an intact export of the same run with the same metrics is kept as it is.
    ``load_model`` gives a stored model by model id; by default a damaged one is a one-line
    error, never a training run (`analyses.ModelLoader`).
    """
    cfg = results.config
    metadata: StudyRecord = json.loads(json.dumps(export_metadata(results, summary)))
    if reuse:
        try:
            current = export.verify_export(cfg.model_dir)
        except ModelError:
            current = None
        if (
            current is not None
            and current.get("format_version") == export.FORMAT_VERSION
            and all(current.get(k) == v for k, v in metadata.items())
        ):
            # This version's metadata.json, of the same run: what `export_model` wrote.
            return cast("ExportMetadata", current)
    load_model = load_model or ModelLoader(Store(cfg.cache_dir), results, may_train=False)
    model = load_model(exported_id(summary))  # checked, and trained again if damaged and allowed
    import keras

    if keras.backend.backend() != "tensorflow":
        entry = Store(cfg.cache_dir).entry("train", results.first(exported_id(summary)).key)
        return export_in_tensorflow(entry / MODEL_FILE, cfg.model_dir, metadata)
    return export.export_model(model, cfg.model_dir, metadata)


def check_exportable(model_dir: Path) -> None:
    """Before anything trains: stop where the report's export could not be written at the end.

    Another backend trains without TensorFlow, but the SavedModel needs it; only an intact
    export already in ``model_dir`` (which the build reuses when it matches) can do without.
    """
    try:
        check_tensorflow()
    except ModelError:
        try:
            export.verify_export(model_dir)
        except ModelError:
            raise ModelError(
                f"{NO_TENSORFLOW}, then run the same command (nothing has trained yet)"
            ) from None


def thumbnail(image: np.ndarray, scale: int = THUMBNAIL_SCALE) -> bytes:
    """A uint8 28x28 image as a PNG, enlarged by whole pixels so it stays sharp."""
    from PIL import Image

    img = Image.fromarray(np.asarray(image, dtype=np.uint8), mode="L")
    img = img.resize((img.width * scale, img.height * scale), Image.Resampling.NEAREST)
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def sample_predictions(data: Dataset, model_dir: Path, top_k: int = 3) -> list[SamplePrediction]:
    """Top-k predictions of the exported model for the first test image of each class."""
    model = export.load_model(model_dir)
    picks = [
        int(np.flatnonzero(data.y_test == c)[0])
        for c in range(len(data.class_names))
        if (data.y_test == c).any()
    ]
    ranked = inference.predict(model, data.x_test[picks], top_k=top_k)
    return [
        {
            "index": i,
            "true": data.class_names[int(data.y_test[i])],
            "png": thumbnail(data.x_test[i]),
            "top": top,
        }
        for i, top in zip(picks, ranked, strict=True)
    ]
