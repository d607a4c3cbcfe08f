"""The machine and the package versions a build ran with, for the reproducibility appendix."""

from __future__ import annotations

import importlib.metadata
import os
import platform
from typing import TypedDict

from fmnist_report import runtime
from fmnist_report.records import versions

#: Python packages whose versions the appendix lists, beside those in every cache key.
REPORTED_PACKAGES = ("weasyprint", "jinja2", "matplotlib", "scipy")


class EnvironmentInfo(TypedDict):
    """This machine and its package versions, as the Summary's `Environment` takes them."""

    versions: dict[str, str]
    platform: str
    cpu: str
    logical_cpus: int
    #: TensorFlow's ``intra_op`` and ``inter_op`` threads; empty on another backend.
    threads: dict[str, int]
    #: This machine as each run's record names it (`runtime.machine`).
    machine: dict[str, str | int | float | None]
    #: The oneDNN instruction-set cap the runs' keys name, or None.
    isa_cap: str | None


def environment_info() -> EnvironmentInfo:
    """Package versions, CPU and thread settings for the reproducibility appendix."""
    keyed = versions()
    found = {k: v for k, v in keyed.items() if k not in ("record", "onednn_isa")}
    for name in REPORTED_PACKAGES:
        try:
            found[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            found[name] = "not installed"
    return {
        "versions": found,
        "platform": f"{platform.system()} {platform.release()} ({platform.machine()})",
        "cpu": runtime.cpu_name(),
        "logical_cpus": os.cpu_count() or 0,
        "threads": runtime.tensorflow_threads(),
        "machine": runtime.machine(),  # as each run's record names its machine
        "isa_cap": keyed.get("onednn_isa"),  # the cap as the runs' keys name it
    }
