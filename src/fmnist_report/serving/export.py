"""Deployment artifacts: the Keras file, a SavedModel, a SageMaker model.tar.gz and their metadata.

One export is a folder::

    fashion_mnist_cnn.keras     the Keras model (the only format `load_model` reads)
    saved_model/                TensorFlow SavedModel, signature ``serving_default``:
                                float32 ``image`` (None, 28, 28, 1) in [0, 1] -> ``probabilities`` (None, 10)
    model.tar.gz                for the SageMaker TensorFlow Serving container:
                                1/saved_model.pb, 1/variables/..., code/inference.py, code/requirements.txt
    metadata.json               classes, input contract, versions, caller's training record,
                                and the SHA-256 of every file above

The folder is written beside its final place and renamed into it, so a failed export never
leaves a half-written folder where a good one was. Reading an export back is `artifacts`;
its names are importable from here too.
"""

from __future__ import annotations

import datetime as dt
import gzip
import io
import json
import os
import platform
import shutil
import tarfile
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from fmnist_report.data import CLASS_NAMES
from fmnist_report.errors import ModelError
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
from fmnist_report.serving.codec import PREPROCESSING

# The reading side lives in `artifacts`; callers may import it from here as well.
__all__ = [
    "EXPORT_FIX",
    "FORMAT_VERSION",
    "HANDLER_REQUIREMENTS",
    "HANDLER_TEMPLATE",
    "INPUT_NAME",
    "KERAS_FILE",
    "METADATA_FILE",
    "OUTPUT_NAME",
    "RESERVED_KEYS",
    "SAVED_MODEL_DIR",
    "SERVING_VERSION",
    "SIGNATURE",
    "TARBALL",
    "export_model",
    "handler_source",
    "load_model",
    "package_versions",
    "read_metadata",
    "sha256_file",
    "verify_artifact",
    "verify_export",
    "write_saved_model",
    "write_tarball",
]

SIGNATURE = "serving_default"
INPUT_NAME = "image"
OUTPUT_NAME = "probabilities"
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
# Entries of model.tar.gz get this fixed time, so the same files give the same archive.
_TAR_MTIME = 946684800  # 2000-01-01T00:00:00Z

#: ``code/requirements.txt`` in the archive: the container pip-installs it at start-up.
#: Endpoints without internet access need these under ``code/lib`` instead.
HANDLER_REQUIREMENTS = "numpy\npillow\n"

#: ``code/inference.py`` in the archive. It must stand alone (the container has no
#: fmnist_report), so it repeats the preprocessing of `fmnist_report.inference`; the tests
#: check that both give the same pixels.
HANDLER_TEMPLATE = r'''"""Pre- and post-processing for the SageMaker TensorFlow Serving container (written by fmnist-report).

Requests: application/json {"instances": [...]} (each 28x28, 28x28x1 or 784 floats in [0, 1]),
application/x-npy (uint8 0..255 or floats in [0, 1]), image/png or image/jpeg (one image of any
size; a light background is inverted, as Fashion-MNIST is a light garment on black),
text/csv (one image of 784 values per row). Responses: application/json (default) or text/csv.
"""

import io
import json

CLASS_NAMES = __CLASS_NAMES__
SIDE = 28
PIXELS = SIDE * SIDE
BORDER_THRESHOLD = 127
MAX_IMAGE_PIXELS = 4096 * 4096
SHAPES = ((SIDE, SIDE), (PIXELS,), (SIDE, SIDE, 1))


def input_handler(data, context):
    """Turn the request body into a TF Serving REST request: {"instances": (n, 28, 28, 1) floats}."""
    content_type = _media_type(context.request_content_type) or "application/json"
    body = data.read()
    if not body:
        raise ValueError("empty request body; send one or more 28x28 images")
    if content_type == "application/json":
        obj = json.loads(body.decode("utf-8"))
        if not isinstance(obj, dict) or not isinstance(obj.get("instances"), list) or not obj["instances"]:
            raise ValueError('expected {"instances": [...]} with at least one image')
        batch = _batch(_np().asarray(obj["instances"], dtype="float64"), single=False)
    elif content_type == "application/x-npy":
        batch = _batch(_np().load(io.BytesIO(body), allow_pickle=False), single=None)
    elif content_type in ("image/png", "image/jpeg"):
        batch = _batch(_image(body), single=True)
    elif content_type == "text/csv":
        rows = [r for r in body.decode("utf-8").splitlines() if r.strip()]
        if any(len(r.split(",")) != PIXELS for r in rows):
            raise ValueError("each CSV row must hold 784 values (one 28x28 image)")
        batch = _batch(_np().asarray([[float(v) for v in r.split(",")] for r in rows]), single=False)
    else:
        raise ValueError(
            "unsupported content type %s; send application/json, application/x-npy, "
            "image/png, image/jpeg or text/csv" % (content_type,)
        )
    return json.dumps({"signature_name": "serving_default", "instances": batch.tolist()})


def output_handler(response, context):
    """Turn TF Serving's {"predictions": [[10 floats], ...]} into labelled predictions."""
    if response.status_code != 200:
        raise ValueError(response.content.decode("utf-8"))
    rows = json.loads(response.content.decode("utf-8"))["predictions"]
    predictions = []
    for row in rows:
        probs = row["probabilities"] if isinstance(row, dict) else row
        best = max(range(len(probs)), key=probs.__getitem__)
        predictions.append({"label": CLASS_NAMES[best], "class_id": best, "probabilities": probs})
    if _wants_csv(context.accept_header):
        lines = ["%s,%r" % (p["label"], p["probabilities"][p["class_id"]]) for p in predictions]
        return "\n".join(lines) + "\n", "text/csv"
    return json.dumps({"predictions": predictions}), "application/json"


def _np():
    import numpy

    return numpy


def _media_type(value):
    return (value or "").split(";")[0].strip().lower()


def _wants_csv(accept):
    for part in (accept or "").split(","):
        media = _media_type(part)
        if media in ("application/json", "application/*", "*/*"):
            return False
        if media in ("text/csv", "text/*"):
            return True
    return False


def _batch(arr, single):
    np = _np()
    if arr.shape in SHAPES and single is not False:
        arr = arr.reshape(1, SIDE, SIDE)
    elif arr.ndim >= 2 and arr.shape[1:] in SHAPES and single is not True:
        arr = arr.reshape(arr.shape[0], SIDE, SIDE)
    else:
        raise ValueError("array shape %s is not 28x28 images" % (arr.shape,))
    if arr.shape[0] == 0:
        raise ValueError("the batch is empty")
    if arr.dtype == np.uint8:
        arr = arr.astype(np.float32) / np.float32(255.0)
    elif arr.dtype.kind == "f":
        if not np.isfinite(arr).all():
            raise ValueError("pixels contain NaN or infinite values")
        if arr.min() < 0 or arr.max() > 1:
            raise ValueError("float pixels must lie in [0, 1]")
    else:
        raise ValueError("pixels must be uint8 or floats in [0, 1], not %s" % (arr.dtype,))
    return arr.astype(np.float32).reshape(-1, SIDE, SIDE, 1)


def _image(blob):
    np = _np()
    from PIL import Image, ImageOps

    img = Image.open(io.BytesIO(blob), formats=("PNG", "JPEG"))
    if img.width * img.height > MAX_IMAGE_PIXELS:
        raise ValueError("image is larger than %d pixels" % MAX_IMAGE_PIXELS)
    img = ImageOps.exif_transpose(img)
    if img.mode.startswith("I;16") or img.mode == "I":
        gray = np.clip(np.rint(np.asarray(img, dtype=np.float64) / 257.0), 0, 255).astype(np.uint8)
    else:
        if img.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in img.info:
            rgba = img.convert("RGBA")
            img = Image.alpha_composite(Image.new("RGBA", rgba.size, (255, 255, 255, 255)), rgba)
        gray = np.asarray(img.convert("L"), dtype=np.uint8)
    border = np.concatenate([gray[0], gray[-1], gray[:, 0], gray[:, -1]]).astype(np.float64)
    if float(border.mean()) > BORDER_THRESHOLD:
        gray = 255 - gray
        border = 255.0 - border
    if gray.shape != (SIDE, SIDE):
        fitted = ImageOps.pad(
            Image.fromarray(gray),
            (SIDE, SIDE),
            method=Image.Resampling.LANCZOS,
            color=int(round(float(border.mean()))),
        )
        gray = np.asarray(fitted, dtype=np.uint8)
    return gray
'''


def handler_source(class_names: tuple[str, ...] = CLASS_NAMES) -> str:
    """The text of ``code/inference.py`` for the SageMaker TensorFlow Serving container."""
    return HANDLER_TEMPLATE.replace("__CLASS_NAMES__", repr(list(class_names)))


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


def export_model(model: Any, model_dir: Path, metadata: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Write all deployment artifacts of ``model`` to ``model_dir``, replacing it atomically.

    Args:
        model: a Keras model taking (None, 28, 28, 1) float32 and returning (None, 10) probabilities.
        metadata: the caller's record, merged into metadata.json at the top level. Supply
            ``training`` (the study config and run: architecture, kernel size, seed, epochs),
            ``metrics`` (such as test accuracy with its confidence interval) and ``data``
            (source and fingerprint). Keys in `RESERVED_KEYS` are written here and refused.

    Returns:
        The metadata written to metadata.json.
    """
    extra = dict(metadata or {})
    clash = sorted(RESERVED_KEYS & extra.keys())
    if clash:
        raise ValueError(f"metadata keys {clash} are written by export_model; rename them")
    model_dir = Path(model_dir)
    if model_dir.exists() and not model_dir.is_dir():
        raise ModelError(f"{model_dir} exists and is not a folder; remove it or choose another model folder")
    parent = model_dir.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(dir=parent, prefix=f".{model_dir.name}.tmp-"))
    except OSError as exc:
        raise ModelError(f"cannot create {parent} ({exc.strerror}); choose a writable model folder") from exc
    try:
        record = _write_export(model, tmp, extra)
        _swap_in(tmp, model_dir)
    except OSError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        raise ModelError(
            f"cannot write the export to {model_dir} ({exc.strerror or exc}); check free space and permissions"
        ) from exc
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return record


def _write_export(model: Any, out: Path, extra: dict[str, Any]) -> dict[str, Any]:
    model.save(out / KERAS_FILE)
    write_saved_model(model, out / SAVED_MODEL_DIR)
    write_tarball(out / SAVED_MODEL_DIR, out / TARBALL)
    artifacts = {
        rel: {"sha256": sha256_file(out / rel), "bytes": (out / rel).stat().st_size}
        for rel in sorted(_relative_files(out))
    }
    record: dict[str, Any] = {
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


def _swap_in(tmp: Path, model_dir: Path) -> None:
    """Move ``tmp`` to ``model_dir``; an existing export is set aside and removed only after."""
    os.chmod(tmp, 0o755)  # mkdtemp makes it 0700
    if not model_dir.exists():
        os.replace(tmp, model_dir)
        return
    old = Path(tempfile.mkdtemp(dir=model_dir.parent, prefix=f".{model_dir.name}.old-"))
    os.replace(model_dir, old / "export")
    try:
        os.replace(tmp, model_dir)
    except BaseException:
        os.replace(old / "export", model_dir)
        raise
    finally:
        shutil.rmtree(old, ignore_errors=True)


def write_saved_model(model: Any, path: Path) -> None:
    """A SavedModel whose ``serving_default`` maps float32 ``image`` (None, 28, 28, 1) to ``probabilities``."""
    import keras
    import tensorflow as tf

    archive = keras.export.ExportArchive()
    archive.track(model)
    archive.add_endpoint(
        name=SIGNATURE,
        fn=lambda image: {OUTPUT_NAME: model(image, training=False)},
        input_signature=[tf.TensorSpec((None, 28, 28, 1), tf.float32, name=INPUT_NAME)],
    )
    archive.write_out(str(path), verbose=False)


def write_tarball(saved_model: Path, target: Path, class_names: tuple[str, ...] = CLASS_NAMES) -> None:
    """model.tar.gz for SageMaker TF Serving, deterministic: sorted entries, fixed times and owners."""
    members: list[tuple[str, Path | bytes | None]] = [(SERVING_VERSION, None)]
    for p in sorted(saved_model.rglob("*")):
        members.append(
            (f"{SERVING_VERSION}/{p.relative_to(saved_model).as_posix()}", None if p.is_dir() else p)
        )
    members += [
        ("code", None),
        ("code/inference.py", handler_source(class_names).encode()),
        ("code/requirements.txt", HANDLER_REQUIREMENTS.encode()),
    ]
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
