"""Request bodies to model batches, and probabilities to response bodies.

The one codec of every way into the model: the ``predict`` command (through `inference`),
the HTTP server (`serve`) and the SageMaker handler (`sagemaker_handler`) all decode a body
into the same float32 (n, 28, 28, 1) batch in [0, 1], a light garment on a black background
as Fashion-MNIST itself is, with the same warnings (a blank or tiny image is answered, but
flagged), and answer in the same formats. A body that cannot be decoded raises `CodecError`,
a ValueError whose message is one line naming the problem and the fix.

`export` copies this file into model.tar.gz as ``code/codec.py``, beside the handler and its
one helper `imaging` (PNG/JPEG pixels), where fmnist_report is not installed: it imports only
numpy, `imaging`, Pillow (when an image is decoded) and the standard library, and keeps its own
constants (the class names); the package may import from it, never the reverse. `imaging` comes
from the package where it is installed, else from beside this file.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

try:
    from fmnist_report.serving import imaging
except ImportError:  # in the container: imaging.py sits beside this file in code/
    if not TYPE_CHECKING:  # (a type checker reads the package's module, the one it can find)
        import imaging

#: The ten classes in label order; the tests check they are `fmnist_report.data.CLASS_NAMES`.
CLASS_NAMES: tuple[str, ...] = tuple(
    ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
)
SIDE = 28
IMAGE_SHAPE = (SIDE, SIDE)
PIXELS = SIDE * SIDE
#: An image whose pixels (in [0, 1]) vary less than this is blank: its class is a guess.
BLANK_STD = 0.01
#: A PNG/JPEG narrower or lower than this shows no garment once scaled to 28x28.
MIN_IMAGE_SIDE = 8
#: The SavedModel signature, its one input and its output, as TF Serving names them.
SIGNATURE = "serving_default"
INPUT_NAME = "image"
OUTPUT_NAME = "probabilities"

JSON = "application/json"
NPY = "application/x-npy"
PNG = "image/png"
JPEG = "image/jpeg"
CSV = "text/csv"

_ONE_IMAGE = ((SIDE, SIDE), (PIXELS,), (SIDE, SIDE, 1))
_SHAPES_HINT = "expected (28, 28), (784,), (28, 28, 1), (n, 28, 28), (n, 28, 28, 1) or (n, 784)"
_IMAGE_HINT = "each image is 784, 28x28 or 28x28x1 numbers in [0, 1] (or whole numbers 0..255)"
_JSON_HINT = 'send a list of images, {"instances": [...]} or {"inputs": [...]}'


class Decoded(NamedTuple):
    """A request body as a model batch, with what the caller should be told about it."""

    batch: np.ndarray
    warnings: tuple[str, ...] = ()


class CodecError(ValueError):
    """A body or array that cannot become a model batch (HTTP 400)."""


class UnsupportedMediaType(CodecError):
    """A Content-Type that no decoder reads (HTTP 415)."""


class NotAcceptable(CodecError):
    """An Accept header that names no response type this codec writes (HTTP 406)."""


_JSON_NAMES = {type(None): "null", bool: "boolean", int: "number", float: "number", str: "string"}
_JSON_NAMES.update({list: "array", dict: "object"})


def json_type(value: Any) -> str:
    """The JSON name of a parsed value's type (a client knows only these): ``None`` is "null"."""
    return _JSON_NAMES.get(type(value), type(value).__name__)


def _first_line(exc: BaseException) -> str:
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


# -- arrays -------------------------------------------------------------------------------


def to_batch(arr: Any, source: str = "input", *, text: bool = False) -> np.ndarray:
    """Validate an array of images and return it as float32 (n, 28, 28, 1) in [0, 1].

    Accepted shapes: one image as (28, 28), (784,) or (28, 28, 1); a batch as (n, 28, 28),
    (n, 28, 28, 1) or (n, 784). uint8 is scaled by 1/255; floats must lie in [0, 1] and be
    finite. With ``text`` (JSON or CSV numbers), whole numbers 0..255 are uint8 pixels, as
    serialisers write uint8 arrays; 0 and 1 alone stay floats (JavaScript writes 1.0 as 1).
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
    if arr.dtype.kind == "f":
        if not np.isfinite(arr).all():
            raise CodecError(f"{source}: contains NaN or infinite values; send finite pixels in [0, 1]")
        lo, hi = float(arr.min()), float(arr.max())
        if text and lo >= 0.0 and 1.0 < hi <= 255.0 and bool((arr == np.round(arr)).all()):
            arr = arr.astype(np.uint8)
        elif lo < 0.0 or hi > 1.0:
            allowed = "floats in [0, 1] or whole numbers 0..255" if text else "floats in [0, 1]"
            fix = "" if text else "; divide 0..255 values by 255 (or send uint8)"
            raise CodecError(f"{source}: pixels must be {allowed}, found {lo:g}..{hi:g}{fix}")
        else:
            return arr.astype(np.float32)[..., np.newaxis]
    if arr.dtype == np.uint8:
        return (arr.astype(np.float32) / np.float32(255.0))[..., np.newaxis]
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
        if shape is not None and dtype is not None and not dtype.hasobject:
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


def from_json(obj: Any, source: str = "JSON body") -> np.ndarray:
    """Decode a parsed JSON request in any layout that SageMaker and TF Serving clients send.

    - a bare list of images, as the SageMaker SDK's JSONSerializer sends an array;
    - ``{"instances": [...]}``, TF Serving's row format, each row an image or ``{"image": ...}``;
    - ``{"inputs": [...]}`` or ``{"inputs": {"image": [...]}}``, TF Serving's columnar format.

    ``signature_name`` may accompany the last two. The first dimension is always the batch;
    each image is 784, 28x28 or 28x28x1 pixels, floats in [0, 1] or whole numbers 0..255.
    """
    if isinstance(obj, list):
        return _json_images(obj, f"{source}: the list")
    if not isinstance(obj, dict):
        raise CodecError(f"{source}: a JSON {json_type(obj)} is not a request; {_JSON_HINT}")
    signature = obj.get("signature_name", SIGNATURE)
    if signature != SIGNATURE:
        raise CodecError(
            f'{source}: signature_name {signature!r} is not served; use "{SIGNATURE}" or leave it out'
        )
    keys = [key for key in ("instances", "inputs") if key in obj]
    if len(keys) != 1:
        found = "both" if keys else "neither"
        raise CodecError(
            f'{source}: expected an object with "instances" or "inputs", found {found}; {_JSON_HINT}'
        )
    key = keys[0]
    value = obj[key]
    if key == "inputs" and isinstance(value, dict):
        value = _named_input(value, f'{source}: "inputs"')
    elif key == "instances" and isinstance(value, list) and value and isinstance(value[0], dict):
        value = [_named_input(row, f"{source}: instance {i}") for i, row in enumerate(value)]
    return _json_images(value, f'{source}: "{key}"')


def _named_input(value: Any, what: str) -> Any:
    if not isinstance(value, dict):
        raise CodecError(f'{what} is a JSON {json_type(value)}, not an object {{"{INPUT_NAME}": ...}}')
    if set(value) != {INPUT_NAME}:
        raise CodecError(f'{what} names the inputs {sorted(value)}; this model has one input, "{INPUT_NAME}"')
    return value[INPUT_NAME]


def _json_images(value: Any, what: str) -> np.ndarray:
    if not isinstance(value, list) or not value:
        raise CodecError(f"{what} must be a non-empty list of images; {_IMAGE_HINT}")
    ragged = f"{what}: the images are ragged, or hold nulls or lists where numbers belong; {_IMAGE_HINT}"
    try:
        # No dtype: numpy would parse strings such as "0.5" as numbers; they are refused instead.
        arr = np.asarray(value)
    except ValueError as exc:
        raise CodecError(ragged) from exc
    if arr.dtype == object:
        raise CodecError(ragged)
    if arr.dtype.kind != "f":  # `decode_json` reads every JSON number as a float
        raise CodecError(f"{what}: the images hold values that are not numbers; {_IMAGE_HINT}")
    if arr.shape[1:] not in _ONE_IMAGE:
        raise CodecError(
            f"{what}: each image must be 784, 28x28 or 28x28x1 numbers, got images of shape {arr.shape[1:]}"
        )
    return to_batch(arr, what, text=True)


# -- images -------------------------------------------------------------------------------


def from_image_bytes(blob: bytes, source: str = "image", *, invert: bool | None = None) -> np.ndarray:
    """Decode one PNG or JPEG of any size into a batch of one 28x28 image.

    The image becomes 8-bit grayscale (`imaging.read_image`), is inverted when its border
    is light, since Fashion-MNIST shows a light garment on a dark background, and is fitted
    into 28x28 with its aspect ratio kept (`imaging.fit_image`).

    Args:
        invert: force the polarity: True always inverts, False never does.
    """
    return to_batch(imaging.fit_image(_read_image(blob, source), IMAGE_SHAPE, invert=invert), source)


def _read_image(blob: bytes, source: str) -> np.ndarray:
    try:
        return imaging.read_image(blob, source)
    except imaging.ImageError as exc:
        raise CodecError(str(exc)) from exc


# -- request bodies -----------------------------------------------------------------------


def decode_json(body: bytes) -> np.ndarray:
    """An application/json body in any layout `from_json` reads, as a model batch."""
    try:
        # Integers are read as floats, so a pixel of thousands of digits becomes inf (refused
        # as not finite) rather than an OverflowError or a breach of Python's int-digit limit.
        obj = json.loads(body, parse_int=float)
    except RecursionError as exc:
        raise CodecError(f"JSON body is nested too deeply; {_IMAGE_HINT}") from exc
    except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        raise CodecError(f"JSON body is not valid JSON ({_first_line(exc)}); {_JSON_HINT}") from exc
    return from_json(obj)


def decode_csv(body: bytes, source: str = "CSV body") -> np.ndarray:
    """A text/csv body, one image per row of 784 comma-separated pixels: floats in [0, 1] or 0..255."""
    try:
        rows = [line for line in body.decode("utf-8").splitlines() if line.strip()]
    except UnicodeDecodeError as exc:
        raise CodecError(f"{source} is not UTF-8 text; send 784 comma-separated numbers per row") from exc
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
    return to_batch(out, source, text=True)


def decode_image(body: bytes, source: str) -> Decoded:
    """A PNG or JPEG body as a batch of one, with a warning when the image is too small to show anything."""
    gray = _read_image(body, source)
    height, width = gray.shape
    notes: tuple[str, ...] = ()
    if min(height, width) < MIN_IMAGE_SIDE:
        notes = (f"{source}: the image is only {width}x{height} pixels, so its predicted class is a guess",)
    return Decoded(to_batch(imaging.fit_image(gray, IMAGE_SHAPE), source), notes)


#: Request media types and their decoders, in the order error messages list them.
DECODERS: dict[str, Callable[[bytes], Decoded]] = {
    JSON: lambda body: Decoded(decode_json(body)),
    NPY: lambda body: Decoded(from_npy_bytes(body, "npy body")),
    PNG: lambda body: decode_image(body, "PNG body"),
    JPEG: lambda body: decode_image(body, "JPEG body"),
    CSV: lambda body: Decoded(decode_csv(body)),
}


def media_type(value: str | None) -> str:
    """``"Text/CSV; charset=utf-8"`` -> ``"text/csv"``."""
    return (value or "").split(";", 1)[0].strip().lower()


def decoder(content_type: str | None) -> Callable[[bytes], Decoded]:
    """The decoder for a Content-Type header; `UnsupportedMediaType` when there is none."""
    media = media_type(content_type)
    decode_body = DECODERS.get(media)
    if decode_body is None:
        given = f"Content-Type {media}" if media else "a missing Content-Type"
        raise UnsupportedMediaType(f"{given} is not supported; send one of {', '.join(DECODERS)}")
    return decode_body


def decode(body: bytes, content_type: str | None) -> Decoded:
    """A request body with its Content-Type header as float32 (n, 28, 28, 1) in [0, 1], with warnings."""
    decode_body = decoder(content_type)
    if not body:
        raise CodecError("the request body is empty; send one or more 28x28 images")
    batch, notes = decode_body(body)
    return Decoded(batch, notes + blank_warnings(batch))


def blank_warnings(batch: np.ndarray) -> tuple[str, ...]:
    """A warning naming the images of a batch that are (nearly) one flat level, if any are."""
    blank = np.flatnonzero(batch.reshape(len(batch), -1).std(axis=1) < BLANK_STD)
    if not blank.size:
        return ()
    more = f" and {blank.size - 10} more" if blank.size > 10 else ""
    listed = ", ".join(str(i) for i in blank[:10]) + more
    which = f"image {listed} is" if blank.size == 1 else f"images {listed} are"
    return (f"{which} blank (pixel std below {BLANK_STD}), so the predicted class is a guess",)


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


def encode(
    probs: Any, answer: str, class_names: Sequence[str] = CLASS_NAMES, warnings: Sequence[str] = ()
) -> tuple[str, str]:
    """Class probabilities, (n, classes), as a response body of type ``answer``.

    JSON is ``{"predictions": [{"label", "class_id", "probabilities"}, ...]}``, compact, with
    each probability as the shortest float that reads back the same, and ``"warnings"`` when
    there are any; CSV is one row per image, ``label,probability`` of the top class with 6
    decimals (it has no place for warnings: the caller logs them).

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
    answer_obj = (
        {"predictions": predictions, "warnings": list(warnings)} if warnings else {"predictions": predictions}
    )
    # The separators and flags of Starlette's JSONResponse, so the server's bytes are unchanged.
    return json.dumps(answer_obj, ensure_ascii=False, allow_nan=False, separators=(",", ":")), JSON
