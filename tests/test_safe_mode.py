"""Stored and exported models are loaded in Keras safe mode: a Lambda layer's code never runs."""

from __future__ import annotations

import json

import keras
import pytest

from fmnist_report.errors import ModelError, StoreError
from fmnist_report.records import Record
from fmnist_report.serving import export
from fmnist_report.serving.artifacts import KERAS_FILE, METADATA_FILE, sha256_file
from fmnist_report.store import Store

from .factories import lambda_model_file


@pytest.fixture
def lambda_keras(tmp_path):
    marker = tmp_path / "lambda-ran"
    return lambda_model_file(tmp_path / "lambda.keras", marker), marker


def test_the_marker_shows_when_the_lambda_runs(lambda_keras):
    path, marker = lambda_keras
    assert not marker.exists()
    keras.saving.load_model(path, safe_mode=False)  # what safe mode is there to prevent
    assert marker.exists()


def test_the_store_refuses_a_lambda_layer(lambda_keras, tmp_path):
    path, marker = lambda_keras
    warnings: list[str] = []
    store = Store(tmp_path / "cache", warn=warnings.append)
    store.put(Record("train", "train-lambda", {"x": 1}, model=keras.saving.load_model(path, safe_mode=False)))
    marker.unlink()
    with pytest.raises(
        StoreError, match=r"cache entry train/train-lambda is damaged \(ValueError: .*[Ll]ambda"
    ):
        store.load_model("train", "train-lambda")
    assert store.get("train", "train-lambda", with_model=True) is None
    assert len(warnings) == 1 and "\n" not in warnings[0] and warnings[0].endswith("recomputing it")
    assert not (tmp_path / "cache" / "train" / "train-lambda").exists()
    assert not marker.exists()


def test_the_export_loader_refuses_a_lambda_layer_whose_checksum_matches(lambda_keras, tmp_path):
    path, marker = lambda_keras
    model_dir = tmp_path / "model"
    model_dir.mkdir()
    (model_dir / KERAS_FILE).write_bytes(path.read_bytes())
    artifact = {"sha256": sha256_file(model_dir / KERAS_FILE), "bytes": path.stat().st_size}
    (model_dir / METADATA_FILE).write_text(json.dumps({"artifacts": {KERAS_FILE: artifact}}))
    with pytest.raises(ModelError, match=r"cannot be loaded \(.*[Ll]ambda.*\); re-export"):
        export.load_model(model_dir)
    assert not marker.exists()
