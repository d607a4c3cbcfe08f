"""The machine and the package versions a build ran with, for the reproducibility appendix."""

from __future__ import annotations

import importlib.metadata
import os
import platform
from pathlib import Path
from typing import Any

from fmnist_report import runtime
from fmnist_report.records import versions

#: Python packages whose versions the appendix lists, beside those in every cache key.
REPORTED_PACKAGES = ("weasyprint", "jinja2", "matplotlib", "scipy")


def cpu_model() -> str:
    """The CPU's model name from /proc/cpuinfo, else what the platform module knows."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith(("model name", "hardware", "cpu model")):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


def environment_info() -> dict[str, Any]:
    """Package versions, CPU and thread settings for the reproducibility appendix."""
    import keras

    found = {k: v for k, v in versions().items() if k not in ("record", "onednn_isa")}
    for name in REPORTED_PACKAGES:
        try:
            found[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            found[name] = "not installed"
    return {
        "versions": found,
        "platform": f"{platform.system()} {platform.release()} ({platform.machine()})",
        "cpu": cpu_model(),
        "logical_cpus": os.cpu_count() or 0,
        "threads": _tensorflow_threads() if keras.backend.backend() == "tensorflow" else {},
        "isa_cap": runtime.isa_cap() if keras.backend.backend() == "tensorflow" else None,
    }


def _tensorflow_threads() -> dict[str, int]:
    import tensorflow as tf

    return {
        "intra_op": tf.config.threading.get_intra_op_parallelism_threads(),
        "inter_op": tf.config.threading.get_inter_op_parallelism_threads(),
    }
