"""Turn image files, arrays and request bodies into model inputs, and outputs into ranked classes.

Every decoder returns the one layout the model takes: float32 of shape (n, 28, 28, 1) with
values in [0, 1], a light garment on a black background, as Fashion-MNIST itself is.
Bad input raises `InputError` with one line that names the problem and the fix.
"""

from __future__ import annotations

import io
import math
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from fmnist_report.data import CLASS_NAMES, FIX_HINT, IMAGE_SHAPE, parse_idx, read_payload
from fmnist_report.errors import DataError, InputError

SIDE = IMAGE_SHAPE[0]
PIXELS = SIDE * SIDE
#: The largest decoded image accepted (width x height), so a small compressed file
#: cannot expand into gigabytes of pixels.
MAX_IMAGE_PIXELS = 4096 * 4096
#: Images whose border is brighter than this on average are taken to be dark-on-light.
BORDER_THRESHOLD = 127

#: What `metadata.json` records about the input the model expects.
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

_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
_JPEG_MAGIC = b"\xff\xd8\xff"
_NPY_MAGIC = b"\x93NUMPY"
_GZIP_MAGIC = b"\x1f\x8b"
_IDX_IMAGES_MAGIC = b"\x00\x00\x08\x03"
_SHAPES_HINT = "expected (28, 28), (784,), (28, 28, 1), (n, 28, 28), (n, 28, 28, 1) or (n, 784)"


# -- arrays -------------------------------------------------------------------------------


def to_batch(arr: np.ndarray, source: str = "input") -> np.ndarray:
    """Validate an array of images and return it as float32 (n, 28, 28, 1) in [0, 1].

    Accepted shapes: one image as (28, 28), (784,) or (28, 28, 1); a batch as (n, 28, 28),
    (n, 28, 28, 1) or (n, 784). uint8 is scaled by 1/255; floats must lie in [0, 1] and be
    finite. Other dtypes are refused rather than guessed at.
    """
    arr = np.asarray(arr)
    shape = arr.shape
    if shape in ((SIDE, SIDE), (PIXELS,), (SIDE, SIDE, 1)):
        arr = arr.reshape(1, SIDE, SIDE)
    elif arr.ndim >= 2 and (shape[1:] in ((SIDE, SIDE), (SIDE, SIDE, 1), (PIXELS,))):
        arr = arr.reshape(shape[0], SIDE, SIDE)
    else:
        raise InputError(f"{source}: array shape {shape} is not an image or batch of images; {_SHAPES_HINT}")
    if arr.shape[0] == 0:
        raise InputError(f"{source}: the batch is empty; send at least one 28x28 image")
    if arr.dtype == np.uint8:
        return (arr.astype(np.float32) / np.float32(255.0))[..., np.newaxis]
    if arr.dtype.kind == "f":
        if not np.isfinite(arr).all():
            raise InputError(f"{source}: contains NaN or infinite values; send finite pixels in [0, 1]")
        lo, hi = float(arr.min()), float(arr.max())
        if lo < 0.0 or hi > 1.0:
            raise InputError(
                f"{source}: float pixels must lie in [0, 1], found {lo:g}..{hi:g}; "
                "divide 0..255 values by 255 (or send uint8)"
            )
        return arr.astype(np.float32)[..., np.newaxis]
    raise InputError(
        f"{source}: pixel dtype {arr.dtype} is not accepted; send uint8 (0..255) or floats in [0, 1]"
    )


def from_npy_bytes(blob: bytes, source: str = "npy") -> np.ndarray:
    """Decode a `.npy` file's bytes (never pickles) into a model batch."""
    fp = io.BytesIO(blob)
    try:
        version = np.lib.format.read_magic(fp)
        if version == (1, 0):
            shape, _, dtype = np.lib.format.read_array_header_1_0(fp)
        elif version == (2, 0):
            shape, _, dtype = np.lib.format.read_array_header_2_0(fp)
        else:
            shape, dtype = None, None
        # Check the declared size against the bytes present before anything is allocated.
        if shape is not None and not dtype.hasobject:
            declared = math.prod(shape) * dtype.itemsize
            if declared != len(blob) - fp.tell():
                raise ValueError(f"header declares {declared} data bytes, found {len(blob) - fp.tell()}")
        arr = np.load(io.BytesIO(blob), allow_pickle=False)
    except (ValueError, OSError, EOFError, SyntaxError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise InputError(
            f"{source}: not a valid .npy array ({reason}); save one numeric array with numpy.save"
        ) from exc
    if not isinstance(arr, np.ndarray):  # an .npz archive
        raise InputError(f"{source}: .npz archives are not accepted; save one array with numpy.save")
    return to_batch(arr, source)


def from_idx_bytes(payload: bytes, source: str = "idx") -> np.ndarray:
    """Decode an (already decompressed) IDX images payload into a model batch."""
    try:
        images = parse_idx(payload, source, images=True, count=None)
    except DataError as exc:
        reason = str(exc).removesuffix(f"; {FIX_HINT}")
        raise InputError(f"{reason}; pass an IDX images file (idx3-ubyte)") from exc
    return to_batch(images, source)


def from_json_instances(obj: Any, source: str = "JSON body") -> np.ndarray:
    """Decode a TF Serving style request, ``{"instances": [...]}``, of float pixels in [0, 1].

    Each instance is 28x28, 28x28x1 or 784 numbers.
    """
    if not isinstance(obj, dict) or "instances" not in obj:
        raise InputError(
            f'{source}: expected an object with an "instances" list, such as {{"instances": [...]}}'
        )
    instances = obj["instances"]
    if not isinstance(instances, list) or not instances:
        raise InputError(f'{source}: "instances" must be a non-empty list of images')
    try:
        arr = np.asarray(instances, dtype=np.float64)
    except (ValueError, TypeError) as exc:
        raise InputError(
            f"{source}: instances are ragged or not numbers; each must be 28x28, 28x28x1 or 784 numbers"
        ) from exc
    if arr.shape[1:] not in ((SIDE, SIDE), (SIDE, SIDE, 1), (PIXELS,)):
        raise InputError(
            f"{source}: each instance must be 28x28, 28x28x1 or 784 numbers, got instances of shape {arr.shape[1:]}"
        )
    return to_batch(arr, source)


def from_csv(text: str, source: str = "CSV body") -> np.ndarray:
    """Decode CSV with one image per row: 784 comma-separated float pixels in [0, 1]."""
    rows = [line for line in text.splitlines() if line.strip()]
    if not rows:
        raise InputError(f"{source}: no rows; send one image per row of 784 comma-separated values")
    out = np.empty((len(rows), PIXELS), dtype=np.float64)
    for i, line in enumerate(rows):
        cells = line.split(",")
        if len(cells) != PIXELS:
            raise InputError(
                f"{source}: row {i + 1} has {len(cells)} values, expected 784 (one 28x28 image per row)"
            )
        try:
            out[i] = [float(c) for c in cells]
        except ValueError as exc:
            raise InputError(f"{source}: row {i + 1} holds a value that is not a number") from exc
    return to_batch(out, source)


# -- images -------------------------------------------------------------------------------


def from_image_bytes(blob: bytes, source: str = "image", *, invert: bool | None = None) -> np.ndarray:
    """Decode one PNG or JPEG of any size into a batch of one 28x28 image.

    The image becomes 8-bit grayscale (RGB by ITU-R 601 luma; transparent pixels are
    composited on white, as product photos sit on white). Fashion-MNIST shows a light
    garment on a dark background, so when ``invert`` is None the image is inverted if the
    mean of its border pixels is above 127 (a light background). It is then fitted into
    28x28 with its aspect ratio kept, padded with the background level.

    Args:
        invert: force the polarity: True always inverts, False never does.
    """
    from PIL import Image, ImageOps, UnidentifiedImageError

    try:
        img = Image.open(io.BytesIO(blob), formats=("PNG", "JPEG"))
        if img.width * img.height > MAX_IMAGE_PIXELS:
            raise InputError(
                f"{source}: image is {img.width}x{img.height}, larger than the "
                f"{MAX_IMAGE_PIXELS:,} pixels accepted; downscale it first"
            )
        img = ImageOps.exif_transpose(img)
        gray = _grayscale(img)
    except InputError:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise InputError(f"{source}: not a readable PNG or JPEG image ({reason})") from exc
    return to_batch(fit_image(gray, invert=invert), source)


def _grayscale(img: Any) -> np.ndarray:
    """Any PIL image as uint8 (h, w) luminance."""
    from PIL import Image

    if img.mode.startswith("I;16") or img.mode == "I":
        wide = np.asarray(img, dtype=np.float64)
        return np.clip(np.rint(wide / 257.0), 0, 255).astype(np.uint8)
    has_alpha = img.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in img.info
    if has_alpha:
        rgba = img.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        img = Image.alpha_composite(white, rgba)
    return np.asarray(img.convert("L"), dtype=np.uint8)


def fit_image(gray: np.ndarray, *, invert: bool | None = None) -> np.ndarray:
    """uint8 (h, w) grayscale -> uint8 (28, 28) in Fashion-MNIST polarity (see `from_image_bytes`)."""
    from PIL import Image, ImageOps

    border = np.concatenate([gray[0], gray[-1], gray[:, 0], gray[:, -1]]).astype(np.float64)
    if invert is None:
        invert = float(border.mean()) > BORDER_THRESHOLD
    if invert:
        gray = 255 - gray
        border = 255.0 - border
    if gray.shape == IMAGE_SHAPE:
        return gray
    background = round(float(border.mean()))
    fitted = ImageOps.pad(
        Image.fromarray(gray),
        IMAGE_SHAPE,
        method=Image.Resampling.LANCZOS,
        color=background,
    )
    return np.asarray(fitted, dtype=np.uint8)


# -- files --------------------------------------------------------------------------------


def load_inputs(path: Path, *, invert: bool | None = None) -> np.ndarray:
    """Read one input file as float32 (n, 28, 28, 1) in [0, 1].

    The kind is found from the content, not the name:

    - PNG or JPEG, any size, colour or grayscale: one image, converted as `from_image_bytes`
      says. Polarity: Fashion-MNIST is a light garment on a dark background, so an image
      whose border pixels are mostly bright (mean above 127) is inverted; ``invert`` forces it.
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
        return from_image_bytes(path.read_bytes(), source, invert=invert)
    if head.startswith(_NPY_MAGIC):
        return from_npy_bytes(path.read_bytes(), source)
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
    return top_classes(probabilities(model, to_batch(x)), top_k)
