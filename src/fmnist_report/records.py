"""Result records: what every experiment returns and the store keeps."""

from __future__ import annotations

import hashlib
import json
import platform
from dataclasses import dataclass, field
from typing import Any

import numpy as np

#: Bump when a change to the code changes what a record holds or how it is measured.
#: 2: training reshuffles the images every epoch on every backend (study/training.fit_reshuffled).
RECORD_VERSION = 2


@dataclass
class Record:
    """The outcome of one experiment.

    ``metrics`` holds JSON-serialisable values, ``arrays`` numeric arrays (saved as .npz),
    and ``model`` an optional trained ``keras.Model`` (saved as .keras).
    """

    kind: str
    key: str
    metrics: dict[str, Any]
    arrays: dict[str, np.ndarray] = field(default_factory=dict)
    model: Any = None


@dataclass
class Measured:
    """What an experiment returns: numbers and arrays. The runner turns it into a keyed Record."""

    metrics: dict[str, Any]
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


def make_key(kind: str, params: dict[str, Any]) -> str:
    """A stable hash of what determines a result: its kind, parameters and library versions."""
    payload = json.dumps({"kind": kind, "params": params, "versions": versions()}, sort_keys=True)
    return f"{kind}-{hashlib.sha256(payload.encode()).hexdigest()[:16]}"
