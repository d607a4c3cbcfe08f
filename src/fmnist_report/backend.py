"""Which Keras backend trains, on which device: chosen once, before Keras is imported.

The backend and the device kind change the arithmetic (random streams, kernels), so both
enter every cache key (:func:`fingerprint`) and the report names them.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import os
import shutil
import sys
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from fmnist_report.errors import ConfigError

BACKENDS = ("auto", "tensorflow", "jax", "torch")
#: The backends `auto` tries on a GPU, in order; TensorFlow is the CPU backend (measured faster
#: on CPU for these convolutions, docs/performance.md).
GPU_PREFERENCE = ("jax", "torch")
#: The distribution that provides each backend's library (for versions and install hints).
DISTRIBUTIONS = {"tensorflow": ("tensorflow", "tensorflow-cpu"), "jax": ("jax",), "torch": ("torch",)}
INSTALL_HINT = {
    "tensorflow": "pip install 'fmnist-report[cpu]'",
    "jax": "pip install 'fmnist-report[jax]'",
    "torch": "pip install 'fmnist-report[torch]'",
}


@dataclass(frozen=True)
class Platform:
    """Where training runs: the Keras backend, the device kind (cpu or gpu) and its name."""

    backend: str
    device: str
    device_name: str

    @property
    def label(self) -> str:
        """How the report names it: ``TensorFlow on CPU``, ``JAX on GPU (NVIDIA H200)``."""
        names = {"tensorflow": "TensorFlow", "jax": "JAX", "torch": "PyTorch"}
        where = self.device.upper() + (f" ({self.device_name})" if self.device == "gpu" else "")
        return f"{names.get(self.backend, self.backend)} on {where}"


def installed(backend: str) -> bool:
    """Whether the backend's library can be imported (without importing it)."""
    return importlib.util.find_spec(backend) is not None


def gpu_visible() -> bool:
    """Whether an NVIDIA GPU is visible to this process, asked without importing a framework."""
    if os.environ.get("CUDA_VISIBLE_DEVICES", None) in ("", "-1"):
        return False
    return Path("/dev/nvidia0").exists() or (
        shutil.which("nvidia-smi") is not None and Path("/proc/driver/nvidia").exists()
    )


def resolve(choice: str) -> str:
    """The backend a choice means here: ``auto`` is a GPU backend where a GPU and one are present."""
    if choice not in BACKENDS:
        raise ConfigError(f"backend must be one of {', '.join(BACKENDS)}, got {choice!r}")
    if choice == "auto":
        if gpu_visible():
            for name in GPU_PREFERENCE:
                if installed(name):
                    return name
        return "tensorflow"
    if not installed(choice):
        raise ConfigError(f"backend {choice} is not installed; install it with: {INSTALL_HINT[choice]}")
    return choice


def select(choice: str) -> str:
    """Make ``choice`` the Keras backend of this process; call before anything imports Keras."""
    name = resolve(choice)
    if "keras" in sys.modules:
        import keras

        if keras.backend.backend() != name:
            raise ConfigError(
                f"Keras was already loaded with the {keras.backend.backend()} backend; "
                f"start a new process to train with {name}"
            )
        return name
    os.environ["KERAS_BACKEND"] = name
    if name == "tensorflow":
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    return name


@cache
def current() -> Platform:
    """The backend Keras runs on in this process and the device it computes on."""
    import keras

    name = keras.backend.backend()
    device, device_name = "cpu", ""
    if name == "jax":
        import jax

        dev = jax.devices()[0]
        device, device_name = ("gpu", dev.device_kind) if dev.platform == "gpu" else ("cpu", "")
    elif name == "torch":
        import torch

        if torch.cuda.is_available():
            device, device_name = "gpu", torch.cuda.get_device_name(0)
    elif name == "tensorflow":
        import tensorflow as tf

        gpus = tf.config.list_physical_devices("GPU")
        if gpus:
            details = tf.config.experimental.get_device_details(gpus[0])
            device, device_name = "gpu", str(details.get("device_name", "GPU"))
    return Platform(name, device, device_name)


def library_version(backend: str) -> str:
    """The installed version of a backend's library."""
    for dist in DISTRIBUTIONS.get(backend, (backend,)):
        try:
            return importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            continue
    return "not installed"


def fingerprint() -> dict[str, str]:
    """What of the platform enters every cache key: backend, its version and the device kind."""
    platform = current()
    return {
        "backend": platform.backend,
        "backend_version": library_version(platform.backend),
        "device": platform.device,
    }
