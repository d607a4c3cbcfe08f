"""Keras backends and executors: choosing one, keying results by it, and the same numbers either way."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from fmnist_report import backend, records
from fmnist_report.errors import ConfigError
from fmnist_report.study import executors, training

from .factories import REAL_DIR, needs_real_data, synthetic_dataset

# -- choosing the backend ----------------------------------------------------------------------


def test_auto_is_tensorflow_without_a_gpu(monkeypatch):
    monkeypatch.setattr(backend, "gpu_visible", lambda: False)
    assert backend.resolve("auto") == "tensorflow"


def test_auto_prefers_jax_then_torch_on_a_gpu(monkeypatch):
    monkeypatch.setattr(backend, "gpu_visible", lambda: True)
    monkeypatch.setattr(backend, "has_cuda_build", lambda name: True)
    monkeypatch.setattr(backend, "installed", lambda name: name in ("jax", "torch"))
    assert backend.resolve("auto") == "jax"
    monkeypatch.setattr(backend, "installed", lambda name: name == "torch")
    assert backend.resolve("auto") == "torch"
    monkeypatch.setattr(backend, "installed", lambda name: False)
    assert backend.resolve("auto") == "tensorflow"


def test_auto_never_picks_a_cpu_only_build_on_a_gpu(monkeypatch):
    """The lock's jaxlib has no CUDA plugin: with a GPU visible, auto still trains on TensorFlow."""
    monkeypatch.setenv(backend.GPU_ENV, "1")
    assert backend.gpu_visible()
    if backend.installed("jax"):
        assert not backend.has_cuda_build("jax")  # the CPU-only jaxlib of the lock
    monkeypatch.setattr(backend, "installed", lambda name: name in ("jax", "torch"))
    monkeypatch.setattr(backend, "has_cuda_build", lambda name: name == "torch")
    assert backend.resolve("auto") == "torch"
    assert backend.auto_reason("torch") == "a GPU is visible and torch has a CUDA build"
    monkeypatch.setattr(backend, "has_cuda_build", lambda name: False)
    assert backend.resolve("auto") == "tensorflow"
    assert backend.auto_reason("tensorflow").startswith(
        "a GPU is visible, but the installed jax and torch are CPU-only, so TensorFlow;"
    )
    monkeypatch.setenv(backend.GPU_ENV, "0")
    assert backend.auto_reason("tensorflow") == "no GPU visible, so TensorFlow on the CPU"


def test_jax_has_a_cuda_build_only_with_its_plugin(monkeypatch):
    versions = {"jaxlib": "0.10.2"}
    monkeypatch.setattr(backend, "_version", versions.get)
    assert not backend.has_cuda_build("jax")
    versions["jax-cuda13-plugin"] = "0.10.2"
    assert backend.has_cuda_build("jax")


@pytest.mark.parametrize(("line", "cuda"), [("cuda: Optional[str] = None", False), ("cuda = '12.8'", True)])
def test_torch_has_a_cuda_build_when_its_version_file_names_cuda(monkeypatch, tmp_path, line, cuda):
    import importlib.machinery

    (tmp_path / "torch").mkdir()
    (tmp_path / "torch" / "version.py").write_text(f"__version__ = '2.9.0'\n{line}\ngit_version = 'x'\n")
    found = importlib.machinery.ModuleSpec("torch", None, is_package=True)
    found.submodule_search_locations = [str(tmp_path / "torch")]
    monkeypatch.setattr(backend.importlib.util, "find_spec", lambda name: found if name == "torch" else None)
    assert backend.has_cuda_build("torch") is cuda


def test_gpu_visible_reads_the_override_cuda_visible_devices_and_the_device_file(monkeypatch, tmp_path):
    monkeypatch.delenv(backend.GPU_ENV, raising=False)
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    monkeypatch.setattr(backend.shutil, "which", lambda name: None)
    device = tmp_path / "nvidia0"
    monkeypatch.setattr(backend, "NVIDIA_DEVICE", device)
    assert not backend.gpu_visible()
    device.touch()  # a stand-in /dev/nvidia0
    assert backend.gpu_visible()
    for hidden in ("", "-1"):
        monkeypatch.setenv("CUDA_VISIBLE_DEVICES", hidden)
        assert not backend.gpu_visible()
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "0")
    monkeypatch.setenv(backend.GPU_ENV, "0")
    assert not backend.gpu_visible()
    device.unlink()
    monkeypatch.setenv(backend.GPU_ENV, "1")
    assert backend.gpu_visible()


def test_the_suite_hides_the_gpu_from_every_process_it_starts():
    """conftest pins it, so that `auto` is TensorFlow here and in the CLI subprocesses alike."""
    assert os.environ[backend.GPU_ENV] == "0"
    assert backend.resolve("auto") == "tensorflow"


def test_a_backend_that_is_missing_or_unknown_is_one_line_with_the_fix(monkeypatch):
    monkeypatch.setattr(backend, "installed", lambda name: False)
    with pytest.raises(ConfigError, match=r"backend torch is not installed; install it with: pip install"):
        backend.resolve("torch")
    with pytest.raises(ConfigError, match="backend must be one of auto, tensorflow, jax, torch, got 'mxnet'"):
        backend.resolve("mxnet")


def test_switching_backend_after_keras_loaded_is_refused():
    import keras

    other = "jax" if keras.backend.backend() != "jax" else "tensorflow"
    if not backend.installed(other):
        pytest.skip(f"{other} is not installed")
    with pytest.raises(ConfigError, match="start a new process"):
        backend.select(other)


# -- the platform in every cache key -----------------------------------------------------------


def test_tensorflow_on_the_cpu_keys_as_before_and_others_add_their_platform(monkeypatch):
    here = backend.current()
    assert (here.backend, here.device) == ("tensorflow", "cpu")
    assert set(records.versions()) == {"record", "tensorflow", "keras", "numpy", "python"}
    cpu_key = records.make_key("train", {"x": 1})
    monkeypatch.setattr(
        backend, "fingerprint", lambda: {"backend": "jax", "backend_version": "0.10.2", "device": "gpu"}
    )
    assert records.versions()["jax"] == "0.10.2" and records.versions()["device"] == "gpu"
    assert "tensorflow" not in records.versions()
    assert records.make_key("train", {"x": 1}) != cpu_key


def test_platform_labels():
    assert backend.Platform("tensorflow", "cpu", "").label == "TensorFlow on CPU"
    assert backend.Platform("jax", "gpu", "NVIDIA H200").label == "JAX on GPU (NVIDIA H200)"


# -- the loss is the same on every backend ------------------------------------------------------


def test_training_through_the_logits_view_is_tensorflow_s_own_softmax_cross_entropy(tmp_path):
    """On TensorFlow the engine's logits loss changes nothing: the old path gives the same bits."""
    import keras

    from fmnist_report import models
    from fmnist_report.data import one_hot, scale

    data = synthetic_dataset(per_class_train=6, per_class_test=2)
    x, y = scale(data.x_train), one_hot(data.y_train)

    def fit(view: bool) -> np.ndarray:
        keras.utils.set_random_seed(0)
        model = models.build("cnn", 3)
        trained = training.logits_view(model) if view else model
        loss = keras.losses.CategoricalCrossentropy(from_logits=view)
        trained.compile(optimizer=keras.optimizers.Adam(), loss=loss)
        trained.fit(x, y, batch_size=16, epochs=2, shuffle=True, verbose=0)
        return training.predict_proba(model, scale(data.x_test))

    np.testing.assert_array_equal(fit(view=True), fit(view=False))


# -- executors ---------------------------------------------------------------------------------


def test_an_unknown_executor_is_one_line():
    with pytest.raises(ConfigError, match="--executor must be one of local, ray, got 'dask'"):
        executors.check_executor("dask")


def run_cli(tmp_path, *extra: str, env: dict[str, str] | None = None) -> dict:
    """`fmnist-report run --json` on 30 real images per class, in a fresh process (``env``
    added to this one's)."""
    (tmp_path / "r.toml").write_text(
        "[study]\nprofile = 'quick'\ntrain_per_class = 30\ntest_per_class = 20\nepochs = 1\n"
    )
    cmd = [
        sys.executable, "-c", "from fmnist_report.cli import main; main()", "run", "--config", "r.toml",
        "--only", "dense,cnn", "--json", "--data-dir", str(REAL_DIR), *extra,
    ]  # fmt: skip
    env = {**os.environ, "COLUMNS": "200", **(env or {})}
    done = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, timeout=600, env=env)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout)


def accuracies(summary: dict) -> dict[str, list]:
    return {m: row["test_accuracy"] for m, row in summary["models"].items()}


@needs_real_data
@pytest.mark.slow
def test_run_with_the_jax_backend_on_the_cpu(tmp_path):
    """JAX trains; XLA's compiled programs stay in the user's cache, and a second store trained
    from them gets the first one's probabilities bit for bit, compiling nothing new."""
    pytest.importorskip("jax")
    xdg = {"XDG_CACHE_HOME": str(tmp_path / "xdg")}
    first, again = tmp_path / "first", tmp_path / "again"
    first.mkdir()
    again.mkdir()
    summary = run_cli(first, "--backend", "jax", env=xdg)
    assert summary["provenance"]["platform"] == "JAX on CPU"  # `run --json` prints the Summary
    assert list(summary["models"]) == ["dense", "cnn3"]
    assert all(0.1 < m["test_accuracy"]["mean"] <= 1.0 for m in summary["models"].values())
    stored = sorted(p.name for p in (first / "output" / "cache" / "train").iterdir())
    assert len(stored) == 2
    compiled = tmp_path / "xdg" / "fmnist-report" / "xla"
    programs = {p.name for p in compiled.glob("*-cache")}
    assert any(name.startswith("jit_") for name in programs)
    assert not (first / "output" / "cache" / "xla").exists()  # never in a store that may travel
    run_cli(again, "--backend", "jax", env=xdg)
    assert {p.name for p in compiled.glob("*-cache")} == programs  # every program read back
    for key in stored:
        with (
            np.load(first / "output" / "cache" / "train" / key / "arrays.npz") as a,
            np.load(again / "output" / "cache" / "train" / key / "arrays.npz") as b,
        ):
            np.testing.assert_array_equal(a["probabilities"], b["probabilities"])


@needs_real_data
@pytest.mark.slow
def test_ray_executor_gives_the_in_process_numbers(tmp_path):
    pytest.importorskip("ray")
    (tmp_path / "local").mkdir()
    (tmp_path / "ray").mkdir()
    local = run_cli(tmp_path / "local")
    remote = run_cli(tmp_path / "ray", "--executor", "ray")
    assert remote["provenance"]["platform"] == local["provenance"]["platform"] == "TensorFlow on CPU"
    assert accuracies(remote) == accuracies(local)
    assert len(list((tmp_path / "ray" / "output" / "cache" / "train").iterdir())) == 2
    assert not list((tmp_path / "ray" / "output" / "cache" / "train").glob(".tmp-*"))


def test_a_fresh_process_that_sees_a_gpu_and_a_cpu_only_jaxlib_trains_on_tensorflow():
    """The trial's case: a GPU visible, JAX installed without CUDA. Keras must come up on TensorFlow."""
    pytest.importorskip("jax")
    code = (
        "from fmnist_report import runtime, ui; chosen = runtime.configure(backend='auto'); "
        "import keras; print(keras.backend.backend()); print(ui.backend_line('auto', chosen))"
    )
    env = {**os.environ, backend.GPU_ENV: "1"}
    env.pop("KERAS_BACKEND", None)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, env=env)
    assert done.returncode == 0, done.stderr[-2000:]
    name, line = done.stdout.strip().splitlines()
    assert name == "tensorflow"
    assert line.startswith("backend: tensorflow (auto: a GPU is visible, but the installed jax is CPU-only")
