"""Data augmentation a variant can declare: random whole-pixel shifts, drawn per image and epoch."""

from __future__ import annotations

import numpy as np


def shift_images(images: np.ndarray, max_shift: int, rng: np.random.Generator) -> np.ndarray:
    """Each image moved by its own random whole-pixel offset in each direction, up to ``max_shift``.

    Pixels shifted in are zero (the background); nothing is flipped or scaled.
    """
    n, h, w = images.shape[:3]
    dy = rng.integers(-max_shift, max_shift + 1, size=(n,))
    dx = rng.integers(-max_shift, max_shift + 1, size=(n,))
    padded = np.pad(
        images, ((0, 0), (max_shift, max_shift), (max_shift, max_shift), *((0, 0),) * (images.ndim - 3))
    )
    rows = (np.arange(h)[None, :] + max_shift - dy[:, None])[:, :, None]
    cols = (np.arange(w)[None, :] + max_shift - dx[:, None])[:, None, :]
    return padded[np.arange(n)[:, None, None], rows, cols]
