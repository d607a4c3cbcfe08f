"""Which Keras backend trains, on which device: chosen once, before Keras is imported.

The backend and the device kind change the arithmetic (random streams, kernels), so both
enter every cache key (:func:`fingerprint`) and the report names them.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import os
import re
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


#: Set to 1 to make `gpu_visible` report a GPU, 0 to hide one (the test suite hides it).
GPU_ENV = "FMNIST_REPORT_GPU_VISIBLE"
#: The device file the NVIDIA driver makes for the first GPU.
NVIDIA_DEVICE = Path("/dev/nvidia0")
#: The distributions that give JAX its CUDA backend (``pip install "jax[cuda13]"``).
JAX_CUDA_PLUGINS = ("jax-cuda13-plugin", "jax-cuda12-plugin")


def gpu_visible() -> bool:
    """Whether an NVIDIA GPU is visible to this process, asked without importing a framework."""
    forced = os.environ.get(GPU_ENV, "").strip().lower()
    if forced in ("1", "true", "yes"):
        return True
    if forced in ("0", "false", "no"):
        return False
    if os.environ.get("CUDA_VISIBLE_DEVICES", None) in ("", "-1"):
        return False
    return NVIDIA_DEVICE.exists() or (
        shutil.which("nvidia-smi") is not None and Path("/proc/driver/nvidia").exists()
    )


def _version(dist: str) -> str | None:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None


def has_cuda_build(name: str) -> bool:
    """Whether the installed build of a GPU backend can run on CUDA, read from its files, not imported.

    JAX on a GPU needs a CUDA plugin beside jaxlib (the lock's jaxlib alone is CPU-only, and
    JAX falls back to the CPU with a warning); PyTorch records its CUDA version in torch/version.py
    (None in a CPU build).
    """
    if name == "jax":
        return any(_version(dist) for dist in JAX_CUDA_PLUGINS) or "+cuda" in (_version("jaxlib") or "")
    if name == "torch":
        spec = importlib.util.find_spec("torch")
        folders = list(spec.submodule_search_locations or []) if spec else []
        for folder in folders:
            try:
                text = (Path(folder) / "version.py").read_text(encoding="utf-8")
            except OSError:
                continue
            found = re.search(r"^cuda\b[^=\n]*=\s*(\S+)", text, re.MULTILINE)
            return found is not None and found.group(1) != "None"
    return False


def resolve(choice: str) -> str:
    """The backend a choice means here: ``auto`` is a GPU backend only where that backend can use the GPU."""
    if choice not in BACKENDS:
        raise ConfigError(f"backend must be one of {', '.join(BACKENDS)}, got {choice!r}")
    if choice == "auto":
        if gpu_visible():
            for name in GPU_PREFERENCE:
                if installed(name) and has_cuda_build(name):
                    return name
        return "tensorflow"
    if not installed(choice):
        raise ConfigError(f"backend {choice} is not installed; install it with: {INSTALL_HINT[choice]}")
    return choice


def auto_reason(chosen: str) -> str:
    """Why ``auto`` chose ``chosen``, in a few words for the console."""
    if not gpu_visible():
        return "no GPU visible, so TensorFlow on the CPU"
    if chosen != "tensorflow":
        return f"a GPU is visible and {chosen} has a CUDA build"
    cpu_only = [name for name in GPU_PREFERENCE if installed(name)]
    if not cpu_only:
        return "a GPU is visible, but neither JAX nor PyTorch is installed; TensorFlow uses the GPU if its build can"
    return (
        f"a GPU is visible, but the installed {' and '.join(cpu_only)} {'is' if len(cpu_only) == 1 else 'are'} "
        'CPU-only, so TensorFlow; for JAX on the GPU: pip install "jax[cuda13]"'
    )


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
