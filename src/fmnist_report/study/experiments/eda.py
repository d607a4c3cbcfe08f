"""Step 1: exploratory data analysis, as numbers and arrays (figures are drawn elsewhere)."""

from __future__ import annotations

import numpy as np

from fmnist_report.data import Dataset, class_counts, scale
from fmnist_report.records import Measured

KIND = "eda"
SAMPLES_PER_CLASS = 8


def _pixel_stats(images: np.ndarray) -> dict[str, float]:
    as_float = images.astype(np.float64)
    return {
        "min": float(as_float.min()),
        "max": float(as_float.max()),
        "mean": float(as_float.mean()),
        "std": float(as_float.std()),
    }


def run(data: Dataset) -> Measured:
    """Shapes, dtypes, pixel statistics (raw and scaled), class balance, mean images, samples."""
    scaled = scale(data.x_train[:1])  # dtype and range of the preprocessing, checked on real input
    n_classes = len(data.class_names)
    samples = np.stack([np.flatnonzero(data.y_train == c)[:SAMPLES_PER_CLASS] for c in range(n_classes)])
    mean_images = np.stack([data.x_train[data.y_train == c].mean(axis=0) for c in range(n_classes)]).astype(
        np.float32
    )
    histogram = np.bincount(data.x_train.ravel(), minlength=256).astype(np.int64)
    raw = _pixel_stats(data.x_train)
    metrics = {
        "source": data.source,
        "subset": data.subset,
        "checksums": data.checksums,
        "class_names": list(data.class_names),
        "shapes": {
            "x_train": list(data.x_train.shape),
            "y_train": list(data.y_train.shape),
            "x_test": list(data.x_test.shape),
            "y_test": list(data.y_test.shape),
        },
        "dtypes": {"images": str(data.x_train.dtype), "labels": str(data.y_train.dtype)},
        "pixels_raw": raw,
        "pixels_scaled": {k: v / 255.0 for k, v in raw.items()},
        "scaled_dtype": str(scaled.dtype),
        "scaled_shape": list(scaled.shape[1:]),
        "train_counts": class_counts(data.y_train, n_classes),
        "test_counts": class_counts(data.y_test, n_classes),
        "zero_pixel_fraction": float(histogram[0] / histogram.sum()),
        "mean_intensity_per_class": [float(m.mean()) for m in mean_images],
    }
    arrays = {
        "sample_indices": samples,
        "sample_images": data.x_train[samples.ravel()].reshape(n_classes, SAMPLES_PER_CLASS, 28, 28),
        "mean_images": mean_images,
        "pixel_histogram": histogram,
    }
    return Measured(metrics, arrays)
