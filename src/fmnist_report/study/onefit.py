"""One ``fit`` per run over a feed of the per-epoch orders: `training.fit_reshuffled` in a single call.

It gives bit-identical numbers and measured slower on the CPU (docs/performance.md), so
training keeps fitting epoch by epoch; the benchmarks and the identity test use this one.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from fmnist_report.study.training import RunSpec, batch_orders, epoch_arrays, held_out


def fit_once(
    trained: Any,
    x: np.ndarray,
    y: np.ndarray,
    train_idx: np.ndarray,
    val_idx: np.ndarray,
    spec: RunSpec,
    callbacks: Sequence[Any],
) -> dict[str, list[float]]:
    """`fit_reshuffled`'s training in one ``fit``, over a feed that serves each epoch its own order."""
    import keras

    orders = batch_orders(train_idx, spec.epochs, spec.seed)
    size = spec.batch_size

    class EpochFeed(keras.utils.PyDataset):
        def __init__(self) -> None:
            super().__init__()
            self.epoch = -1
            self.arrays = epoch_arrays(x, y, orders[0], 0, spec)  # Keras reads a batch to learn the shapes

        def __len__(self) -> int:
            return -(-len(train_idx) // size)

        def on_epoch_begin(self) -> None:
            self.epoch += 1
            self.arrays = epoch_arrays(x, y, orders[self.epoch], self.epoch, spec)

        def __getitem__(self, i: int) -> tuple[np.ndarray, np.ndarray]:
            xs, ys = self.arrays
            return xs[i * size : (i + 1) * size], ys[i * size : (i + 1) * size]

    fitted = trained.fit(
        EpochFeed(),
        validation_data=held_out(x[val_idx], y[val_idx], size),
        epochs=spec.epochs,
        shuffle=False,  # True would shuffle the feed's batches
        verbose=0,
        callbacks=list(callbacks),
    )
    return {name: list(values) for name, values in fitted.history.items()}
