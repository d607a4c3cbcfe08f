"""Export artifacts: round trips, the SavedModel signature, the SageMaker archive, integrity (the handler: test_handler)."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
import sys
import tarfile
from importlib import resources
from pathlib import Path

import numpy as np
import pytest

from fmnist_report.data import CLASS_NAMES
from fmnist_report.errors import ModelError
from fmnist_report.serving import export

from .factories import untrained_export

CALLER_METADATA = {
    "training": {"arch": "cnn", "kernel_size": 3, "epochs": 1, "seed": 0},
    "metrics": {"test_accuracy": {"mean": np.float64(0.9), "ci95": np.array([0.88, 0.92])}},
}
CALLER_METADATA_JSON = {"training": CALLER_METADATA["training"], "metrics": {"test_accuracy": 0.9}}
SIGNATURE_ARGS = ("--signature_def", "serving_default")


@pytest.fixture(scope="module")
def model():
    import keras

    from fmnist_report.models import build_cnn

    keras.utils.set_random_seed(0)
    return build_cnn(3)


@pytest.fixture(scope="module")
def exported(model, tmp_path_factory):
    model_dir = tmp_path_factory.mktemp("export") / "model"
    record = export.export_model(model, model_dir, CALLER_METADATA)
    return model_dir, record


@pytest.fixture(scope="module")
def batch():
    return np.random.default_rng(0).random((6, 28, 28, 1), dtype=np.float32)


def test_export_writes_every_artifact_and_metadata(exported):
    model_dir, record = exported
    assert (model_dir / export.KERAS_FILE).is_file()
    assert (model_dir / "saved_model" / "saved_model.pb").is_file()
    assert (model_dir / export.TARBALL).is_file()
    on_disk = json.loads((model_dir / export.METADATA_FILE).read_text())
    assert on_disk == record
    assert record["class_names"] == list(CLASS_NAMES)
    assert record["input"] == {"shape": [28, 28, 1], "dtype": "float32", "range": [0.0, 1.0]}
    assert "white" in record["preprocessing"]["polarity"] and "255" in record["preprocessing"]["scaling"]
    assert set(record["versions"]) == {"python", "tensorflow", "keras", "numpy"}
    assert record["training"] == CALLER_METADATA["training"]
    assert record["metrics"]["test_accuracy"] == {"mean": 0.9, "ci95": [0.88, 0.92]}
    created = dt.datetime.fromisoformat(record["created_utc"])
    assert created.utcoffset() == dt.timedelta(0)
    files = {"fashion_mnist_cnn.keras", "model.tar.gz", "saved_model/saved_model.pb"}
    assert files <= set(record["artifacts"])
    assert any(k.startswith("saved_model/variables/") for k in record["artifacts"])
    for rel, entry in record["artifacts"].items():
        assert export.sha256_file(model_dir / rel) == entry["sha256"]
    # Nothing is left beside the export.
    assert [p.name for p in model_dir.parent.iterdir()] == ["model"]


def test_caller_may_not_overwrite_reserved_keys(model, tmp_path):
    with pytest.raises(ValueError, match="artifacts"):
        export.export_model(model, tmp_path / "m", {"artifacts": {}})
    assert not (tmp_path / "m").exists()


def test_keras_round_trip(exported, model, batch):
    model_dir, _ = exported
    reloaded = export.load_model(model_dir)
    np.testing.assert_allclose(reloaded.predict_on_batch(batch), model.predict_on_batch(batch), atol=1e-5)


def test_saved_model_round_trip(exported, model, batch):
    import tensorflow as tf

    model_dir, _ = exported
    serving = tf.saved_model.load(str(model_dir / "saved_model")).signatures["serving_default"]
    _, inputs = serving.structured_input_signature
    assert inputs["image"].shape.as_list() == [None, 28, 28, 1] and inputs["image"].dtype == tf.float32
    out = serving(image=tf.constant(batch))["probabilities"].numpy()
    np.testing.assert_allclose(out, model.predict_on_batch(batch), atol=1e-5)


def test_saved_model_cli_shows_the_signature(exported):
    cli = Path(sys.executable).parent / "saved_model_cli"
    if not cli.exists():
        pytest.skip("saved_model_cli is not installed; test_saved_model_round_trip checks the signature")
    model_dir, _ = exported
    shown = subprocess.run(
        [str(cli), "show", "--dir", str(model_dir / "saved_model"), "--tag_set", "serve", *SIGNATURE_ARGS],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    assert "inputs['image']" in shown and "outputs['probabilities']" in shown
    assert "dtype: DT_FLOAT" in shown and "shape: (-1, 28, 28, 1)" in shown and "shape: (-1, 10)" in shown


def test_tarball_layout_and_determinism(exported, tmp_path):
    model_dir, _ = exported
    with tarfile.open(model_dir / export.TARBALL) as tar:
        names = tar.getnames()
        assert all(m.mtime == tar.getmembers()[0].mtime and m.uid == 0 for m in tar.getmembers())
        code = {m.name: tar.extractfile(m).read() for m in tar.getmembers() if m.name.startswith("code/")}
    assert names == sorted(names, key=lambda n: (not n.startswith("1"), n))
    assert {"1/saved_model.pb", "1/variables/variables.index", "code"} <= set(names)
    assert any(n.startswith("1/variables/variables.data-") for n in names)
    # The handler and the codec go in as the package's own files, byte for byte.
    package = resources.files("fmnist_report.serving")
    assert code == {
        "code/codec.py": package.joinpath("codec.py").read_bytes(),
        "code/imaging.py": package.joinpath("imaging.py").read_bytes(),
        "code/inference.py": package.joinpath("sagemaker_handler.py").read_bytes(),
        "code/requirements.txt": b"numpy\npillow\n",
    }
    again = tmp_path / "again.tar.gz"
    export.write_tarball(model_dir / "saved_model", again)
    assert again.read_bytes() == (model_dir / export.TARBALL).read_bytes()


# -- integrity and atomicity --------------------------------------------------------------


def test_tampered_model_is_refused_before_loading(exported, tmp_path):
    model_dir, _ = exported
    copy = tmp_path / "copy"
    shutil.copytree(model_dir, copy)
    with (copy / export.KERAS_FILE).open("ab") as fh:
        fh.write(b"\0")
    with pytest.raises(
        ModelError, match=r"sha256 mismatch: the model file was changed after export; re-export"
    ):
        export.load_model(copy)
    with pytest.raises(ModelError, match="sha256 mismatch"):
        export.verify_export(copy)


def test_missing_folder_or_metadata(exported, tmp_path):
    with pytest.raises(ModelError, match="does not exist; export a model first"):
        export.load_model(tmp_path / "absent")
    model_dir, _ = exported
    copy = tmp_path / "copy"
    shutil.copytree(model_dir, copy)
    (copy / export.METADATA_FILE).unlink()
    with pytest.raises(ModelError, match="metadata.json is missing"):
        export.load_model(copy)
    (copy / export.METADATA_FILE).write_text("{not json")
    with pytest.raises(ModelError, match="not JSON"):
        export.load_model(copy)


def test_failed_export_leaves_the_good_one(exported, model, tmp_path, monkeypatch):
    model_dir, _ = exported
    target = tmp_path / "model"
    shutil.copytree(model_dir, target)
    before = (target / export.METADATA_FILE).read_bytes()

    def broken(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(export, "write_tarball", broken)
    with pytest.raises(ModelError, match="No space left on device"):
        export.export_model(model, target, CALLER_METADATA)
    assert (target / export.METADATA_FILE).read_bytes() == before
    export.verify_export(target)
    assert [p.name for p in tmp_path.iterdir()] == ["model"]


def test_export_replaces_an_older_export(exported, model, tmp_path):
    model_dir, _ = exported
    target = tmp_path / "model"
    shutil.copytree(model_dir, target)
    (target / "stale.txt").write_text("from an older export")
    record = export.export_model(model, target, {"training": {"run": 2}})
    assert record["training"] == {"run": 2} and not (target / "stale.txt").exists()
    export.verify_export(target)
    assert [p.name for p in tmp_path.iterdir()] == ["model"]


def test_two_exports_in_tensorflow_processes_give_the_same_bytes(model, tmp_path):
    """`export_tf` (the export after a JAX or PyTorch training) twice: every artifact byte-identical."""
    from fmnist_report.serving.export_tf import export_in_tensorflow

    keras_file = tmp_path / "stored.keras"
    model.save(keras_file)
    first = export_in_tensorflow(keras_file, tmp_path / "a", CALLER_METADATA_JSON)
    second = export_in_tensorflow(keras_file, tmp_path / "b", CALLER_METADATA_JSON)
    assert first["training"] == CALLER_METADATA_JSON["training"]
    assert first["artifacts"] == second["artifacts"]
    for rel in first["artifacts"]:
        assert (tmp_path / "a" / rel).read_bytes() == (tmp_path / "b" / rel).read_bytes(), rel
    reloaded = export.load_model(tmp_path / "a")
    x = np.random.default_rng(1).random((3, 28, 28, 1), dtype=np.float32)
    np.testing.assert_allclose(reloaded.predict(x, verbose=0), model.predict(x, verbose=0), atol=1e-6)


def test_the_keras_file_has_fixed_times_and_save_date(exported):
    import zipfile

    model_dir, _ = exported
    with zipfile.ZipFile(model_dir / export.KERAS_FILE) as z:
        assert {info.date_time for info in z.infolist()} == {(2000, 1, 1, 0, 0, 0)}
        assert json.loads(z.read("metadata.json"))["date_saved"] == "2000-01-01@00:00:00"


def test_a_report_that_could_not_be_exported_stops_before_anything_trains(tmp_path, monkeypatch):
    """Training on JAX or PyTorch needs no TensorFlow, the SavedModel does: say so before training."""
    import io

    from rich.console import Console

    from fmnist_report import pipeline, runtime
    from fmnist_report.config import load_config
    from fmnist_report.serving.publish import check_exportable
    from fmnist_report.study import runner

    cfg = load_config(None, out_dir=tmp_path / "out", offline=True)
    intact = untrained_export(tmp_path)  # made while TensorFlow is still importable
    monkeypatch.setattr(runtime, "configure", lambda **_: "jax")
    monkeypatch.setitem(sys.modules, "tensorflow", None)  # what a missing package looks like to import
    monkeypatch.setattr(
        runner, "load_data", lambda cfg: pytest.fail("the data loaded: training was on its way")
    )
    with pytest.raises(ModelError) as caught:
        pipeline.study(cfg, Console(file=io.StringIO()), exports=True)
    assert str(caught.value) == (
        "exporting the SavedModel needs TensorFlow, which is not installed; install it with: "
        "pip install 'fmnist-report[cpu]', then run the same command (nothing has trained yet)"
    )
    check_exportable(intact)  # an intact export is reused when it matches: no TensorFlow needed
    (intact / export.KERAS_FILE).write_bytes(b"changed")
    with pytest.raises(ModelError, match="nothing has trained yet"):
        check_exportable(intact)
