"""Request bodies to model batches, and probabilities to response bodies.

The one codec of every way into the model: the ``predict`` command (through `inference`),
the HTTP server (`serve`) and the SageMaker handler (`sagemaker_handler`) all decode a body
into the same float32 (n, 28, 28, 1) batch in [0, 1], a light garment on a black background
as Fashion-MNIST itself is, and answer in the same formats. A body that cannot be decoded
raises `CodecError`, a ValueError whose message is one line naming the problem and the fix.

`export` copies this file into model.tar.gz as ``code/codec.py``, beside the handler, where
fmnist_report is not installed. So it imports nothing but numpy, Pillow (only when an image
is decoded) and the standard library, and keeps the constants it needs, such as the class
names, itself; the package's own modules may import from it, never the other way round.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

#: The ten classes in label order; the tests check they are `fmnist_report.data.CLASS_NAMES`.
CLASS_NAMES: tuple[str, ...] = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)
SIDE = 28
IMAGE_SHAPE = (SIDE, SIDE)
PIXELS = SIDE * SIDE
#: The largest decoded image accepted (width x height), so a small compressed file
#: cannot expand into gigabytes of pixels.
MAX_IMAGE_PIXELS = 4096 * 4096
#: Images whose border is brighter than this on average are taken to be dark-on-light.
BORDER_THRESHOLD = 127

JSON = "application/json"
NPY = "application/x-npy"
PNG = "image/png"
JPEG = "image/jpeg"
CSV = "text/csv"

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

_ONE_IMAGE = ((SIDE, SIDE), (PIXELS,), (SIDE, SIDE, 1))
_SHAPES_HINT = "expected (28, 28), (784,), (28, 28, 1), (n, 28, 28), (n, 28, 28, 1) or (n, 784)"


class CodecError(ValueError):
    """A body or array that cannot become a model batch (HTTP 400)."""


class UnsupportedMediaType(CodecError):
    """A Content-Type that no decoder reads (HTTP 415)."""


class NotAcceptable(CodecError):
    """An Accept header that names no response type this codec writes (HTTP 406)."""


def _first_line(exc: BaseException) -> str:
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


# -- arrays -------------------------------------------------------------------------------


def to_batch(arr: Any, source: str = "input") -> np.ndarray:
    """Validate an array of images and return it as float32 (n, 28, 28, 1) in [0, 1].

    Accepted shapes: one image as (28, 28), (784,) or (28, 28, 1); a batch as (n, 28, 28),
    (n, 28, 28, 1) or (n, 784). uint8 is scaled by 1/255; floats must lie in [0, 1] and be
    finite. Other dtypes are refused rather than guessed at.
    """
    arr = np.asarray(arr)
    shape = arr.shape
    if shape in _ONE_IMAGE:
        arr = arr.reshape(1, SIDE, SIDE)
    elif arr.ndim >= 2 and shape[1:] in _ONE_IMAGE:
        arr = arr.reshape(shape[0], SIDE, SIDE)
    else:
        raise CodecError(f"{source}: array shape {shape} is not an image or batch of images; {_SHAPES_HINT}")
    if arr.shape[0] == 0:
        raise CodecError(f"{source}: the batch is empty; send at least one 28x28 image")
    if arr.dtype == np.uint8:
        return (arr.astype(np.float32) / np.float32(255.0))[..., np.newaxis]
    if arr.dtype.kind == "f":
        if not np.isfinite(arr).all():
            raise CodecError(f"{source}: contains NaN or infinite values; send finite pixels in [0, 1]")
        lo, hi = float(arr.min()), float(arr.max())
        if lo < 0.0 or hi > 1.0:
            raise CodecError(
                f"{source}: float pixels must lie in [0, 1], found {lo:g}..{hi:g}; "
                "divide 0..255 values by 255 (or send uint8)"
            )
        return arr.astype(np.float32)[..., np.newaxis]
    raise CodecError(
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
        raise CodecError(
            f"{source}: not a valid .npy array ({_first_line(exc)}); save one numeric array with numpy.save"
        ) from exc
    if not isinstance(arr, np.ndarray):  # an .npz archive
        raise CodecError(f"{source}: .npz archives are not accepted; save one array with numpy.save")
    return to_batch(arr, source)


def from_json_instances(obj: Any, source: str = "JSON body") -> np.ndarray:
    """Decode a TF Serving style request, ``{"instances": [...]}``, of float pixels in [0, 1].

    Each instance is 28x28, 28x28x1 or 784 numbers.
    """
    if not isinstance(obj, dict) or "instances" not in obj:
        raise CodecError(
            f'{source}: expected an object with an "instances" list, such as {{"instances": [...]}}'
        )
    instances = obj["instances"]
    if not isinstance(instances, list) or not instances:
        raise CodecError(f'{source}: "instances" must be a non-empty list of images')
    try:
        arr = np.asarray(instances, dtype=np.float64)
    except (ValueError, TypeError) as exc:
        raise CodecError(
            f"{source}: instances are ragged or not numbers; each must be 28x28, 28x28x1 or 784 numbers"
        ) from exc
    if arr.shape[1:] not in _ONE_IMAGE:
        raise CodecError(
            f"{source}: each instance must be 28x28, 28x28x1 or 784 numbers, got instances of shape {arr.shape[1:]}"
        )
    return to_batch(arr, source)


def from_csv(text: str, source: str = "CSV body") -> np.ndarray:
    """Decode CSV with one image per row: 784 comma-separated float pixels in [0, 1]."""
    rows = [line for line in text.splitlines() if line.strip()]
    if not rows:
        raise CodecError(f"{source}: no rows; send one image per row of 784 comma-separated values")
    out = np.empty((len(rows), PIXELS), dtype=np.float64)
    for i, line in enumerate(rows):
        cells = line.split(",")
        if len(cells) != PIXELS:
            raise CodecError(
                f"{source}: row {i + 1} has {len(cells)} values, expected 784 (one 28x28 image per row)"
            )
        try:
            out[i] = [float(c) for c in cells]
        except ValueError as exc:
            raise CodecError(f"{source}: row {i + 1} holds a value that is not a number") from exc
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
            raise CodecError(
                f"{source}: image is {img.width}x{img.height}, larger than the "
                f"{MAX_IMAGE_PIXELS:,} pixels accepted; downscale it first"
            )
        img = ImageOps.exif_transpose(img)
        gray = grayscale(img)
    except CodecError:
        raise
    except UnidentifiedImageError as exc:
        # Pillow's own message names the buffer object by its memory address; leave that out.
        raise CodecError(f"{source}: not a readable PNG or JPEG image (cannot identify image file)") from exc
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise CodecError(f"{source}: not a readable PNG or JPEG image ({_first_line(exc)})") from exc
    return to_batch(fit_image(gray, invert=invert), source)


def grayscale(img: Any) -> np.ndarray:
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


# -- request bodies -----------------------------------------------------------------------


def decode_json(body: bytes) -> np.ndarray:
    """An application/json body, ``{"instances": [...]}``, as a model batch."""
    try:
        obj = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CodecError(f'JSON body is not valid JSON ({exc}); send {{"instances": [...]}}') from exc
    except RecursionError as exc:
        raise CodecError(
            "JSON body is nested too deeply; each instance is 28x28, 28x28x1 or 784 numbers"
        ) from exc
    return from_json_instances(obj)


def decode_csv(body: bytes) -> np.ndarray:
    """A text/csv body, one image of 784 values per row, as a model batch."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CodecError("CSV body is not UTF-8 text; send 784 comma-separated numbers per row") from exc
    return from_csv(text)


#: Request media types and their decoders, in the order error messages list them.
DECODERS: dict[str, Callable[[bytes], np.ndarray]] = {
    JSON: decode_json,
    NPY: lambda body: from_npy_bytes(body, "npy body"),
    PNG: lambda body: from_image_bytes(body, "PNG body"),
    JPEG: lambda body: from_image_bytes(body, "JPEG body"),
    CSV: decode_csv,
}


def media_type(value: str | None) -> str:
    """``"Text/CSV; charset=utf-8"`` -> ``"text/csv"``."""
    return (value or "").split(";", 1)[0].strip().lower()


def decoder(content_type: str | None) -> Callable[[bytes], np.ndarray]:
    """The decoder for a Content-Type header; `UnsupportedMediaType` when there is none."""
    media = media_type(content_type)
    decode_body = DECODERS.get(media)
    if decode_body is None:
        given = f"Content-Type {media}" if media else "a missing Content-Type"
        raise UnsupportedMediaType(f"{given} is not supported; send one of {', '.join(DECODERS)}")
    return decode_body


def decode(body: bytes, content_type: str | None) -> np.ndarray:
    """A request body with its Content-Type header as float32 (n, 28, 28, 1) in [0, 1]."""
    decode_body = decoder(content_type)
    if not body:
        raise CodecError("the request body is empty; send one or more 28x28 images")
    return decode_body(body)


# -- responses ----------------------------------------------------------------------------


def negotiate(accept: str | None) -> str:
    """The response type for an Accept header, JSON when it is absent.

    Media ranges are taken by quality, then in the order given; ``q=0`` excludes one.
    Raises `NotAcceptable` when no range admits JSON or CSV.
    """
    if not accept or not accept.strip():
        return JSON
    ranges = []
    for position, part in enumerate(accept.split(",")):
        media, *params = (p.strip() for p in part.split(";"))
        q = 1.0
        for param in params:
            if param.lower().startswith("q="):
                try:
                    q = float(param[2:])
                except ValueError:
                    q = 0.0
        if q > 0:
            ranges.append((-q, position, media.lower()))
    for _, _, media in sorted(ranges):
        if media in (JSON, "application/*", "*/*"):
            return JSON
        if media in (CSV, "text/*"):
            return CSV
    raise NotAcceptable(f"cannot answer Accept: {accept}; accept {JSON} or {CSV}")


def encode(probs: Any, answer: str, class_names: Sequence[str] = CLASS_NAMES) -> tuple[str, str]:
    """Class probabilities, (n, classes), as a response body of type ``answer``.

    JSON is ``{"predictions": [{"label", "class_id", "probabilities"}, ...]}``, compact, with
    each probability as the shortest float that reads back the same; CSV is one row per
    image, ``label,probability`` of the top class with 6 decimals.

    Returns:
        The body and its media type.
    """
    probs = np.asarray(probs)
    best = [int(k) for k in probs.argmax(axis=1)]
    if answer == CSV:
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        for row, k in enumerate(best):
            writer.writerow([class_names[k], f"{float(probs[row, k]):.6f}"])
        return buf.getvalue(), CSV
    if answer != JSON:
        raise ValueError(f"answer must be {JSON} or {CSV}, got {answer!r}")
    predictions = [
        {"label": class_names[k], "class_id": k, "probabilities": [float(p) for p in probs[row]]}
        for row, k in enumerate(best)
    ]
    # The separators and flags of Starlette's JSONResponse, so the server's bytes are unchanged.
    body = json.dumps(
        {"predictions": predictions}, ensure_ascii=False, allow_nan=False, separators=(",", ":")
    )
    return body, JSON
