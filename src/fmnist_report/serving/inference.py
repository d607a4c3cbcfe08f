"""Model inputs from files, and model outputs as ranked classes.

Arrays, images and request bodies are decoded by `codec`, which the server and the SageMaker
handler share; this module adds what only a local caller has: input files, whose kind is
found from their content, and a loaded Keras model. Every input becomes float32 of shape
(n, 28, 28, 1) in [0, 1], a light garment on a black background, as Fashion-MNIST itself is.
Bad input raises `InputError` with one line that names the problem and the fix.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from fmnist_report.data import CLASS_NAMES, FIX_HINT, parse_idx, read_payload
from fmnist_report.errors import DataError, InputError
from fmnist_report.serving import codec

_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
_JPEG_MAGIC = b"\xff\xd8\xff"
_NPY_MAGIC = b"\x93NUMPY"
_GZIP_MAGIC = b"\x1f\x8b"
_IDX_IMAGES_MAGIC = b"\x00\x00\x08\x03"


@contextmanager
def _input_errors() -> Iterator[None]:
    """Turn the codec's errors into `InputError`, which the CLI prints as one line."""
    try:
        yield
    except codec.CodecError as exc:
        raise InputError(str(exc)) from exc


# -- files --------------------------------------------------------------------------------


def from_idx_bytes(payload: bytes, source: str = "idx") -> np.ndarray:
    """Decode an (already decompressed) IDX images payload into a model batch."""
    try:
        images = parse_idx(payload, source, images=True, count=None)
    except DataError as exc:
        reason = str(exc).removesuffix(f"; {FIX_HINT}")
        raise InputError(f"{reason}; pass an IDX images file (idx3-ubyte)") from exc
    with _input_errors():
        return codec.to_batch(images, source)


def load_inputs(path: Path, *, invert: bool | None = None) -> np.ndarray:
    """Read one input file as float32 (n, 28, 28, 1) in [0, 1].

    The kind is found from the content, not the name:

    - PNG or JPEG, any size, colour or grayscale: one image, converted as
      `codec.from_image_bytes` says. Polarity: Fashion-MNIST is a light garment on a dark
      background, so an image whose border pixels are mostly bright (mean above 127) is
      inverted; ``invert`` forces it.
    - ``.npy`` (loaded without pickles): (28, 28), (784,), (n, 28, 28), (n, 28, 28, 1) or
      (n, 784); uint8 0..255 is scaled, floats must lie in [0, 1]; NaN and inf are refused.
    - IDX images (idx3-ubyte), raw or gzipped, as in the Fashion-MNIST download.

    Arrays are used as given: they are assumed to be in the data set's polarity already.
    """
    path = Path(path)
    try:
        with path.open("rb") as fh:
            head = fh.read(8)
    except OSError as exc:
        raise InputError(f"cannot read {path} ({exc.strerror}); check the path") from exc
    source = str(path)
    if head.startswith((_PNG_MAGIC, _JPEG_MAGIC)):
        with _input_errors():
            return codec.from_image_bytes(path.read_bytes(), source, invert=invert)
    if head.startswith(_NPY_MAGIC):
        with _input_errors():
            return codec.from_npy_bytes(path.read_bytes(), source)
    if head.startswith((_GZIP_MAGIC, _IDX_IMAGES_MAGIC)) or head[:3] == b"\x00\x00\x08":
        try:
            payload = read_payload(path)
        except DataError as exc:
            reason = str(exc).removesuffix(f"; {FIX_HINT}")
            raise InputError(f"{reason}; pass a PNG, JPEG, .npy or IDX images file") from exc
        return from_idx_bytes(payload, source)
    raise InputError(
        f"{path}: unrecognised file type; pass a PNG or JPEG image, a .npy array or an IDX images file"
    )


def load_many(paths: Iterable[Path], *, invert: bool | None = None) -> tuple[np.ndarray, list[str]]:
    """Load several files into one batch, with a name for each image (``file`` or ``file[i]``)."""
    batches, names = [], []
    for path in paths:
        x = load_inputs(path, invert=invert)
        batches.append(x)
        names.extend([str(path)] if len(x) == 1 else [f"{path}[{i}]" for i in range(len(x))])
    if not batches:
        raise InputError("no input files given; pass one or more PNG, JPEG, .npy or IDX files")
    return np.concatenate(batches), names


# -- prediction ---------------------------------------------------------------------------


def probabilities(model: Any, x: np.ndarray, *, batch_size: int = 512) -> np.ndarray:
    """Class probabilities, (n, 10) float32; a batch up to ``batch_size`` runs as one call."""
    chunks = [
        np.asarray(model.predict_on_batch(x[i : i + batch_size]), dtype=np.float32)
        for i in range(0, len(x), batch_size)
    ]
    return np.concatenate(chunks) if chunks else np.zeros((0, len(CLASS_NAMES)), np.float32)


def top_classes(
    probs: np.ndarray, top_k: int = 3, class_names: Sequence[str] = CLASS_NAMES
) -> list[list[tuple[str, float]]]:
    """The ``top_k`` (class name, probability) pairs of each row, most likely first."""
    if not 1 <= top_k <= len(class_names):
        raise ValueError(f"top_k must be from 1 to {len(class_names)}, got {top_k}")
    order = np.argsort(-probs, axis=1, kind="stable")[:, :top_k]
    return [[(class_names[j], float(row[j])) for j in idx] for row, idx in zip(probs, order, strict=True)]


def predict(model: Any, x: np.ndarray, top_k: int = 3) -> list[list[tuple[str, float]]]:
    """Top-``top_k`` (class name, probability) pairs for each image of a model batch."""
    with _input_errors():
        x = codec.to_batch(x)
    return top_classes(probabilities(model, x), top_k)
