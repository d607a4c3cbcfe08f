"""PNG and JPEG files as small grayscale images in Fashion-MNIST's polarity.

Part of the codec: `codec` turns the result into model batches. Like `codec`, this file is
copied into model.tar.gz (``code/imaging.py``) where fmnist_report is not installed, so it
imports nothing but numpy, Pillow and the standard library.
"""

from __future__ import annotations

import io
from typing import Any

import numpy as np

#: The largest decoded image accepted (width x height), so a small compressed file
#: cannot expand into gigabytes of pixels.
MAX_IMAGE_PIXELS = 4096 * 4096
#: Images whose border is brighter than this on average are taken to be dark-on-light.
BORDER_THRESHOLD = 127


class ImageError(ValueError):
    """Bytes that are not a PNG or JPEG this module reads; the message names the fix."""


def read_image(blob: bytes, source: str = "image") -> np.ndarray:
    """A PNG or JPEG of any size as uint8 (h, w) grayscale, upright as its EXIF says.

    RGB becomes luminance by ITU-R 601 luma; transparent pixels are composited on white, as
    product photos sit on white; 16-bit images are scaled to 8 bits.
    """
    from PIL import Image, ImageOps, UnidentifiedImageError

    try:
        img = Image.open(io.BytesIO(blob), formats=("PNG", "JPEG"))
        if img.width * img.height > MAX_IMAGE_PIXELS:
            raise ImageError(
                f"{source}: image is {img.width}x{img.height}, larger than the "
                f"{MAX_IMAGE_PIXELS:,} pixels accepted; downscale it first"
            )
        return grayscale(ImageOps.exif_transpose(img))
    except ImageError:
        raise
    except UnidentifiedImageError as exc:
        # Pillow's own message names the buffer object by its memory address; leave that out.
        raise ImageError(f"{source}: not a readable PNG or JPEG image (cannot identify image file)") from exc
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ImageError(f"{source}: not a readable PNG or JPEG image ({reason})") from exc


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


def fit_image(gray: np.ndarray, shape: tuple[int, int], *, invert: bool | None = None) -> np.ndarray:
    """uint8 (h, w) grayscale as uint8 ``shape``: a light garment on a dark background.

    Fashion-MNIST shows a light garment on a dark background, so when ``invert`` is None the
    image is inverted if the mean of its border pixels is above `BORDER_THRESHOLD` (a light
    background); True or False forces it. The image is then fitted into ``shape`` with its
    aspect ratio kept (Lanczos), padded with the background level.
    """
    from PIL import Image, ImageOps

    border = np.concatenate([gray[0], gray[-1], gray[:, 0], gray[:, -1]]).astype(np.float64)
    if invert is None:
        invert = float(border.mean()) > BORDER_THRESHOLD
    if invert:
        gray = 255 - gray
        border = 255.0 - border
    if gray.shape == shape:
        return gray
    background = round(float(border.mean()))
    size = (shape[1], shape[0])  # PIL counts width first
    fitted = ImageOps.pad(Image.fromarray(gray), size, method=Image.Resampling.LANCZOS, color=background)
    return np.asarray(fitted, dtype=np.uint8)
