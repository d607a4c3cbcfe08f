"""Deployment artifacts: the Keras file, a SavedModel, a SageMaker model.tar.gz and their metadata.

One export is a folder::

    fashion_mnist_cnn.keras     the Keras model (the only format `load_model` reads)
    saved_model/                TensorFlow SavedModel, signature ``serving_default``:
                                float32 ``image`` (None, 28, 28, 1) in [0, 1] -> ``probabilities`` (None, 10)
    model.tar.gz                for the SageMaker TensorFlow Serving container:
                                1/saved_model.pb, 1/variables/..., and in code/ the handler
                                (`sagemaker_handler` as inference.py), codec.py, imaging.py,
                                requirements.txt
    metadata.json               classes, input contract, versions, caller's training record,
                                and the SHA-256 of every file above

The folder is written beside its final place and renamed into it, so a failed export never
leaves a half-written folder where a good one was. Reading an export back is `artifacts`;
its names are importable from here too.
"""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import io
import json
import platform
import tarfile
import zipfile
from importlib import resources
from pathlib import Path
from typing import Any, NotRequired, TypedDict

from fmnist_report.data import CLASS_NAMES
from fmnist_report.errors import ModelError
from fmnist_report.json_types import JsonValue
from fmnist_report.serving.artifacts import (
    EXPORT_FIX,
    KERAS_FILE,
    METADATA_FILE,
    SAVED_MODEL_DIR,
    TARBALL,
    load_model,
    read_metadata,
    sha256_file,
    verify_artifact,
    verify_export,
)
from fmnist_report.serving.codec import INPUT_NAME, OUTPUT_NAME, SIGNATURE
from fmnist_report.serving.imaging import BORDER_THRESHOLD
from fmnist_report.store import atomic_dir
from fmnist_report.study.summary_types import SeedStats

# The reading side lives in `artifacts`; callers may import it from here as well.
__all__ = [
    "EXPORT_FIX",
    "FORMAT_VERSION",
    "HANDLER_MODULES",
    "HANDLER_REQUIREMENTS",
    "INPUT_NAME",
    "KERAS_FILE",
    "METADATA_FILE",
    "OUTPUT_NAME",
    "PREPROCESSING",
    "RESERVED_KEYS",
    "SAVED_MODEL_DIR",
    "SERVING_VERSION",
    "SIGNATURE",
    "TARBALL",
    "export_model",
    "handler_files",
    "load_model",
    "package_versions",
    "read_metadata",
    "sha256_file",
    "verify_artifact",
    "verify_export",
    "write_keras_file",
    "write_saved_model",
    "write_tarball",
]

#: TF Serving loads the highest numbered version folder inside the archive.
SERVING_VERSION = "1"
FORMAT_VERSION = 1
#: Keys `export_model` writes itself; a caller's metadata may not replace them.
RESERVED_KEYS = frozenset(
    {
        "format_version",
        "created_utc",
        "class_names",
        "input",
        "preprocessing",
        "serving",
        "architecture",
        "versions",
        "artifacts",
    }
)


class ExportTraining(TypedDict):
    """The run exported: its model, its store key, its seed, its spec and the study's settings."""

    model_id: str
    label: str
    record_key: str
    seed: int
    spec: dict[str, JsonValue]
    #: The study's settings (`config.study_table`).
    study: dict[str, JsonValue]


class ExportMetrics(TypedDict):
    """The exported model's accuracy: over the study's seeds, and on the exported seed."""

    test_accuracy_over_seeds: SeedStats
    test_loss_over_seeds: SeedStats
    test_accuracy_exported_seed: float
    n_test: int


class ExportData(TypedDict):
    source: str
    fingerprint: str
    subset: str
    checksums: dict[str, str]


class StudyRecord(TypedDict, total=False):
    """What a caller of `export_model` adds to metadata.json: the study's record of the model."""

    training: ExportTraining
    metrics: ExportMetrics
    data: ExportData


class InputSpec(TypedDict):
    shape: list[int]
    dtype: str
    range: list[float]


class ServingSpec(TypedDict):
    signature: str
    input: str
    output: str
    tarball_layout: list[str]


class Architecture(TypedDict):
    name: str
    params: int


class Artifact(TypedDict):
    sha256: str
    bytes: int


class ExportMetadata(TypedDict):
    """metadata.json as `export_model` writes it; the study's record where the caller gave one."""

    format_version: int
    created_utc: str
    class_names: list[str]
    input: InputSpec
    preprocessing: dict[str, str]
    serving: ServingSpec
    architecture: Architecture
    versions: dict[str, str]
    training: NotRequired[ExportTraining]
    metrics: NotRequired[ExportMetrics]
    data: NotRequired[ExportData]
    #: Each file of the export, by its path in the folder.
    artifacts: dict[str, Artifact]


# Entries of model.tar.gz get this fixed time, so the same files give the same archive.
_TAR_MTIME = 946684800  # 2000-01-01T00:00:00Z
#: The same for the entries of the .keras zip (zip times are local and start in 1980).
_ZIP_TIME = (2000, 1, 1, 0, 0, 0)
_KERAS_DATE = "2000-01-01@00:00:00"

#: What metadata.json records about the input the model expects (`codec` does all of it).
PREPROCESSING: dict[str, str] = {
    "tensor": "float32, shape (n, 28, 28, 1), values in [0, 1]",
    "scaling": "uint8 pixels 0..255 are divided by 255; float input must already lie in [0, 1]",
    "polarity": (
        "a white (light) garment on a black background, as in Fashion-MNIST; PNG/JPEG images whose "
        f"border pixels average above {BORDER_THRESHOLD} of 255 are inverted first"
    ),
    "images": (
        "PNG/JPEG are converted to 8-bit grayscale (alpha composited on white), inverted when "
        "needed, then fitted into 28x28 with the aspect ratio kept (PIL ImageOps.pad, Lanczos), "
        "padded with the background level"
    ),
    "arrays": "npy/IDX/JSON/CSV arrays are used as given: no inversion or resizing",
}

#: ``code/requirements.txt`` in the archive: the container pip-installs it at start-up.
#: Endpoints without internet access need these under ``code/lib`` instead.
HANDLER_REQUIREMENTS = "numpy\npillow\n"
#: Modules of this package copied into ``code/`` of the archive, by their name there. The
#: container imports ``code/inference.py``; the handler imports ``codec`` from beside it, and
#: ``codec`` imports ``imaging``.
HANDLER_MODULES = {"codec.py": "codec.py", "imaging.py": "imaging.py", "inference.py": "sagemaker_handler.py"}

# -- writing ------------------------------------------------------------------------------


def package_versions() -> dict[str, str]:
    import keras
    import numpy
    import tensorflow as tf

    return {
        "python": platform.python_version(),
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "numpy": numpy.__version__,
    }


def export_model(model: Any, model_dir: Path, metadata: StudyRecord | None = None) -> ExportMetadata:
    """Write all deployment artifacts of ``model`` to ``model_dir``, replacing it atomically.

    Args:
        model: a Keras model taking (None, 28, 28, 1) float32 and returning (None, 10) probabilities.
        metadata: the caller's record, merged into metadata.json at the top level:
            ``training`` (the study config and run: architecture, kernel size, seed, epochs),
            ``metrics`` (such as test accuracy with its confidence interval) and ``data``
            (source and fingerprint). Keys in `RESERVED_KEYS` are written here and refused.

    Returns:
        The metadata written to metadata.json.
    """
    extra: StudyRecord = metadata or {}
    clash = sorted(RESERVED_KEYS & extra.keys())
    if clash:
        raise ValueError(f"metadata keys {clash} are written by export_model; rename them")
    model_dir = Path(model_dir)
    if model_dir.exists() and not model_dir.is_dir():
        raise ModelError(f"{model_dir} exists and is not a folder; remove it or choose another model folder")
    written: list[ExportMetadata] = []

    def fill(tmp: Path) -> None:
        written.append(_write_export(model, tmp, extra))

    try:
        atomic_dir(model_dir, fill, fix="choose a writable model folder")
    except OSError as exc:
        raise ModelError(
            f"cannot write the export to {model_dir} ({exc.strerror or exc}); check free space and permissions"
        ) from exc
    return written[0]


def _write_export(model: Any, out: Path, extra: StudyRecord) -> ExportMetadata:
    write_keras_file(model, out / KERAS_FILE)
    write_saved_model(model, out / SAVED_MODEL_DIR)
    write_tarball(out / SAVED_MODEL_DIR, out / TARBALL)
    artifacts: dict[str, Artifact] = {
        rel: {"sha256": sha256_file(out / rel), "bytes": (out / rel).stat().st_size}
        for rel in sorted(_relative_files(out))
    }
    record: ExportMetadata = {
        "format_version": FORMAT_VERSION,
        "created_utc": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z"),
        "class_names": list(CLASS_NAMES),
        "input": {"shape": [28, 28, 1], "dtype": "float32", "range": [0.0, 1.0]},
        "preprocessing": dict(PREPROCESSING),
        "serving": {
            "signature": SIGNATURE,
            "input": INPUT_NAME,
            "output": OUTPUT_NAME,
            "tarball_layout": [f"{SERVING_VERSION}/saved_model.pb", f"{SERVING_VERSION}/variables/", "code/"],
        },
        "architecture": {"name": model.name, "params": int(model.count_params())},
        "versions": package_versions(),
        **extra,
        "artifacts": artifacts,
    }
    text = json.dumps(record, indent=2, default=_json_default)
    (out / METADATA_FILE).write_text(text + "\n", encoding="utf-8")
    return json.loads(text)


def _json_default(value: Any) -> Any:
    """numpy scalars and arrays, paths and tuples in the caller's metadata become plain JSON."""
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, set | frozenset):
        return sorted(value)
    raise TypeError(f"metadata value {value!r} of type {type(value).__name__} is not JSON serialisable")


def _relative_files(root: Path) -> list[str]:
    return [
        p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file() and p.name != METADATA_FILE
    ]


def write_saved_model(model: Any, path: Path) -> None:
    """A SavedModel whose ``serving_default`` maps float32 ``image`` (None, 28, 28, 1) to ``probabilities``.

    The same model gives the same bytes: the module tracks the model's variables in the
    model's own order (Keras' ExportArchive lists them as the traced function met them, which
    changes from process to process), and the fingerprint's random UUID is replaced by one
    derived from the fingerprint's content hashes.
    """
    import tensorflow as tf

    module = tf.Module()
    module.weights = [v.value for v in model.variables]  # the tf.Variables behind the Keras ones
    module.serve = tf.function(
        lambda image: {OUTPUT_NAME: model(image, training=False)},
        input_signature=[tf.TensorSpec((None, 28, 28, 1), tf.float32, name=INPUT_NAME)],
    )
    tf.saved_model.save(module, str(path), signatures={SIGNATURE: module.serve.get_concrete_function()})
    _fix_fingerprint_uuid(path / "fingerprint.pb")


def _fix_fingerprint_uuid(fingerprint: Path) -> None:
    from tensorflow.core.protobuf import fingerprint_pb2

    if not fingerprint.is_file():
        return
    record = fingerprint_pb2.FingerprintDef()
    record.ParseFromString(fingerprint.read_bytes())
    record.uuid = ""
    digest = hashlib.sha256(record.SerializeToString(deterministic=True)).digest()
    record.uuid = str(int.from_bytes(digest[:16], "big"))
    fingerprint.write_bytes(record.SerializeToString(deterministic=True))


def write_keras_file(model: Any, path: Path) -> None:
    """``model.save`` with its zip made repeatable: fixed entry times and a fixed save date inside."""
    model.save(path)
    with zipfile.ZipFile(path) as src:
        entries = [(info, src.read(info)) for info in src.infolist()]
    tmp = path.with_name(path.name + ".tmp")
    with zipfile.ZipFile(tmp, "w") as dst:
        for info, data in entries:
            if info.filename == "metadata.json":
                meta = json.loads(data)
                meta["date_saved"] = _KERAS_DATE  # the time of saving, which would change every byte
                data = json.dumps(meta).encode()
            fixed = zipfile.ZipInfo(info.filename, date_time=_ZIP_TIME)
            fixed.compress_type, fixed.external_attr = info.compress_type, info.external_attr
            dst.writestr(fixed, data)
    tmp.replace(path)


def handler_files() -> dict[str, bytes]:
    """The files of ``code/`` in model.tar.gz, by name: the handler, the codec, requirements."""
    package = resources.files("fmnist_report.serving")
    files = {name: package.joinpath(module).read_bytes() for name, module in HANDLER_MODULES.items()}
    return {**files, "requirements.txt": HANDLER_REQUIREMENTS.encode()}


def write_tarball(saved_model: Path, target: Path) -> None:
    """model.tar.gz for SageMaker TF Serving, deterministic: sorted entries, fixed times and owners."""
    members: list[tuple[str, Path | bytes | None]] = [(SERVING_VERSION, None)]
    for p in sorted(saved_model.rglob("*")):
        members.append(
            (f"{SERVING_VERSION}/{p.relative_to(saved_model).as_posix()}", None if p.is_dir() else p)
        )
    members.append(("code", None))
    members += [(f"code/{name}", data) for name, data in sorted(handler_files().items())]
    with (
        target.open("wb") as raw,
        gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as gz,
        tarfile.open(fileobj=gz, mode="w", format=tarfile.USTAR_FORMAT) as tar,
    ):
        for name, content in members:
            info = tarfile.TarInfo(name)
            info.mtime = _TAR_MTIME
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            if content is None:
                info.type, info.mode = tarfile.DIRTYPE, 0o755
                tar.addfile(info)
                continue
            data = content.read_bytes() if isinstance(content, Path) else content
            info.size, info.mode = len(data), 0o644
            tar.addfile(info, io.BytesIO(data))
