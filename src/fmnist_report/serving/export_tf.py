"""Export a stored ``.keras`` model from a TensorFlow process, whatever backend trained it.

The SavedModel and model.tar.gz need TensorFlow as Keras' backend, and a process's backend
is fixed once Keras is imported; a study trained with JAX or PyTorch therefore exports in
a short TensorFlow subprocess (`python -m fmnist_report.serving.export_tf`). The .keras
format is backend-neutral, so the exported model computes what the trained one does.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from fmnist_report.errors import ModelError

if TYPE_CHECKING:
    from fmnist_report.serving.export import ExportMetadata, StudyRecord

TIMEOUT_S = 600
NO_TENSORFLOW = (
    "exporting the SavedModel needs TensorFlow, which is not installed; "
    "install it with: pip install 'fmnist-report[cpu]'"
)


def check_tensorflow() -> None:
    """A one-line error where TensorFlow, which writes the SavedModel, is not installed."""
    if importlib.util.find_spec("tensorflow") is None:
        raise ModelError(NO_TENSORFLOW)


def export_in_tensorflow(keras_file: Path, model_dir: Path, metadata: StudyRecord) -> ExportMetadata:
    """Run `export.export_model` on ``keras_file`` in a TensorFlow subprocess; returns its metadata."""
    check_tensorflow()
    env = {**os.environ, "KERAS_BACKEND": "tensorflow", "TF_CPP_MIN_LOG_LEVEL": "2"}
    cmd = [sys.executable, "-m", "fmnist_report.serving.export_tf", str(keras_file), str(model_dir)]
    done = subprocess.run(
        cmd, input=json.dumps(metadata), capture_output=True, text=True, env=env, timeout=TIMEOUT_S
    )
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise ModelError(
            f"the TensorFlow export of {keras_file} failed ({last}); run `fmnist-report export` again"
        )
    return json.loads(done.stdout)


def main() -> None:
    """Entry of the subprocess: metadata JSON on stdin, the export's metadata JSON on stdout."""
    keras_file, model_dir = Path(sys.argv[1]), Path(sys.argv[2])
    metadata = json.loads(sys.stdin.read())
    from fmnist_report import runtime

    runtime.quiet_tensorflow()
    import keras

    from fmnist_report.serving import export

    model = keras.saving.load_model(keras_file, safe_mode=True)
    print(json.dumps(export.export_model(model, model_dir, metadata)))


if __name__ == "__main__":
    main()
