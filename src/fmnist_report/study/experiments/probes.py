"""Probing trained models: a seeded test subsample, intermediate outputs and pixel shifts."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

BATCH = 500


def subsample(n: int, limit: int | None, seed: int = 0) -> np.ndarray:
    """Sorted indices of at most ``limit`` of ``n`` items, drawn by a seeded generator (all when it fits)."""
    if limit is None or limit >= n:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, size=limit, replace=False))


def describe_subsample(n_used: int, n_total: int, seed: int = 0) -> str:
    """How the images were chosen, in words, for the metrics."""
    if n_used == n_total:
        return f"all {n_total} test images"
    return f"{n_used} of {n_total} test images, drawn without replacement with seed {seed}"


def layer_outputs(model: Any, names: Sequence[str], x: np.ndarray, batch: int = BATCH) -> list[np.ndarray]:
    """The outputs of the named layers for float images ``x`` (n, 28, 28, 1), in batches."""
    import keras

    probe = keras.Model(model.input, [model.get_layer(name).output for name in names])
    parts: list[list[np.ndarray]] = [[] for _ in names]
    for start in range(0, len(x), batch):
        outs = probe(x[start : start + batch], training=False)
        outs = outs if isinstance(outs, list | tuple) else [outs]
        for part, out in zip(parts, outs, strict=True):
            part.append(keras.ops.convert_to_numpy(out).astype(np.float32))
    return [np.concatenate(part) for part in parts]


def shift(images: np.ndarray, dx: int, dy: int) -> np.ndarray:
    """Move images (n, h, w[, c]) by ``dx`` pixels right and ``dy`` down, filling with zeros."""
    out = np.zeros_like(images)
    h, w = images.shape[1:3]
    if abs(dx) >= w or abs(dy) >= h:
        return out
    src_y = slice(max(0, -dy), h - max(0, dy))
    dst_y = slice(max(0, dy), h - max(0, -dy))
    src_x = slice(max(0, -dx), w - max(0, dx))
    dst_x = slice(max(0, dx), w - max(0, -dx))
    out[:, dst_y, dst_x] = images[:, src_y, src_x]
    return out


def input_gradient(score: Callable[[Any], Any], x: np.ndarray) -> np.ndarray:
    """The gradient of the scalar ``score(x)`` with respect to the input batch ``x``, on any backend."""
    import keras

    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        xt = tf.convert_to_tensor(x)
        with tf.GradientTape() as tape:
            tape.watch(xt)
            value = score(xt)
        return np.asarray(tape.gradient(value, xt), dtype=np.float32)
    if backend == "jax":
        import jax

        return np.asarray(jax.grad(score)(jax.numpy.asarray(x)), dtype=np.float32)
    if backend == "torch":
        import torch

        xt = torch.tensor(x, requires_grad=True, device=keras.ops.convert_to_tensor(x).device)
        score(xt).backward()
        return xt.grad.detach().cpu().numpy().astype(np.float32)
    raise ValueError(f"no input gradient for the {backend} backend")
