"""Result records: what every experiment returns and the store keeps."""

from __future__ import annotations

import hashlib
import json
import platform
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import numpy as np

from fmnist_report.json_types import JSON, JsonValue

#: Bump when a change to the code changes what a record holds or how it is measured.
#: 2: training reshuffles the images every epoch on every backend (study/training.fit_reshuffled).
RECORD_VERSION = 2


@dataclass
class Record:
    """The outcome of one experiment.

    ``metrics`` holds JSON-serialisable values, ``arrays`` numeric arrays (saved as .npz),
    and ``model`` an optional trained ``keras.Model`` (saved as .keras). The store holds every
    kind and reads them back from disk, so ``metrics`` is plain JSON here; the reader of a kind
    gives it its type (`summary.summarize` the experiments').
    """

    kind: str
    key: str
    metrics: JSON
    arrays: dict[str, np.ndarray] = field(default_factory=dict)
    model: Any = None


#: An experiment's numbers: a TypedDict of its own (`summary_types.ShiftMeasured`...).
Metrics = TypeVar("Metrics", bound=Mapping[str, object], covariant=True)


@dataclass(frozen=True)
class Measured(Generic[Metrics]):
    """What an experiment returns: numbers and arrays. The runner turns it into a keyed Record."""

    metrics: Metrics
    arrays: dict[str, np.ndarray] = field(default_factory=dict)


def versions() -> dict[str, str]:
    """Library versions and the platform that can change a result, part of every cache key.

    The backend's library is keyed by its own name and version; a device other than the CPU
    adds ``device``, and a oneDNN instruction-set cap adds ``onednn_isa``. TensorFlow on the
    CPU, the default, so keys as it always has.
    """
    import keras

    from fmnist_report import backend, runtime

    found = backend.fingerprint()
    keyed = {
        "record": str(RECORD_VERSION),
        found["backend"]: found["backend_version"],
        "keras": keras.__version__,
        "numpy": np.__version__,
        "python": platform.python_version(),
    }
    if found["device"] != "cpu":
        keyed["device"] = found["device"]
    if found["backend"] == "tensorflow" and runtime.isa_cap():
        keyed["onednn_isa"] = runtime.isa_cap()
    return keyed


def make_key(kind: str, params: Mapping[str, JsonValue]) -> str:
    """A stable hash of what determines a result: its kind, parameters and library versions."""
    payload = json.dumps({"kind": kind, "params": params, "versions": versions()}, sort_keys=True)
    return f"{kind}-{hashlib.sha256(payload.encode()).hexdigest()[:16]}"
