"""Section 1, data exploration: shapes, class balance, pixel values and the preprocessing every model sees."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TypedDict

import numpy as np

from fmnist_report.paths import printable_source
from fmnist_report.report.formatting import num, pct
from fmnist_report.report.sections.types import PlacedFigure
from fmnist_report.study.summary_types import Summary


class Shape(TypedDict):
    """An array of the data set (``x_train``...), its shape and its dtype."""

    name: str
    shape: list[int]
    dtype: str


class ClassCount(TypedDict):
    """A class: its name, its training and test images, and its mean pixel intensity."""

    name: str
    train: int
    test: int
    mean_intensity: float


class DataValues(TypedDict):
    """Section 1's values."""

    source: str
    subset: str
    #: Whether the full data set was used, not a stratified subset.
    full: bool
    shapes: list[Shape]
    #: The dtypes of the images and of the labels.
    dtypes: dict[str, str]
    #: ``min``, ``max``, ``mean`` and ``std`` of the raw and the scaled pixels.
    pixels_raw: dict[str, float]
    pixels_scaled: dict[str, float]
    scaled_dtype: str
    zero_fraction: float
    classes: list[ClassCount]
    n_train: int
    n_test: int
    #: The training images fitted and held out for validation.
    n_fit: int
    n_val: int
    split: str
    validation_fraction: float
    balance_text: str
    pixel_text: str
    preprocessing_text: str
    figures: list[PlacedFigure]


def split_phrase(split: str, fraction: float) -> str:
    """How the validation images were held out: ``stratified 15% per class`` or ``the last 15%``."""
    share = f"{fraction * 100:g}%"
    if split == "stratified":
        return f"stratified {share} per class"
    if split == "last":
        return f"the last {share}"
    raise ValueError(f"split must be stratified or last, got {split!r}")


def preprocessing_text(
    split: str,
    fraction: float,
    n_fit: int,
    n_val: int,
    scaled: Mapping[str, float],
    scaled_dtype: str,
    n_classes: int,
) -> str:
    """The preprocessing every model sees, with the measured range of the scaled pixels."""
    how = split_phrase(split, fraction)
    where = (
        "a random, seeded choice within each class"
        if split == "stratified"
        else "the final images in file order, as Keras' validation_split takes them"
    )
    return (
        f"Pixels are divided by 255 and stored as {scaled_dtype}, so they lie in [0, 1] "
        f"(measured: {scaled['min']:.3f} to {scaled['max']:.3f}, mean {scaled['mean']:.3f}). "
        f"Labels become one-hot vectors of length {n_classes}. For validation the training images "
        f"are split {how} ({where}): {num(n_fit)} images are fitted and {num(n_val)} are held out. "
        "The test images are never used for training or for choosing a model; they only measure the "
        "trained ones."
    )


def balance_text(train_counts: Sequence[int], test_counts: Sequence[int], class_names: Sequence[str]) -> str:
    """Whether the classes are balanced, read from the counts."""
    parts = []
    for split, counts in (("training", train_counts), ("test", test_counts)):
        lo, hi = min(counts), max(counts)
        if lo == hi:
            parts.append(f"every class has {num(lo)} {split} images")
        else:
            low_name = class_names[int(np.argmin(counts))]
            high_name = class_names[int(np.argmax(counts))]
            parts.append(
                f"{split} classes range from {num(lo)} ({low_name}) to {num(hi)} ({high_name}) images, "
                f"a ratio of {hi / lo:.2f}"
            )
    balanced = all(min(c) == max(c) for c in (train_counts, test_counts))
    head = "The classes are exactly balanced: " if balanced else "The classes are not balanced: "
    return head + "; ".join(parts) + "."


def pixel_text(raw: Mapping[str, float], zero_fraction: float, dtype: str) -> str:
    """The raw pixel range and how much of each image is background."""
    return (
        f"Raw pixels are {dtype} values from {raw['min']:.0f} to {raw['max']:.0f} "
        f"(mean {raw['mean']:.1f}, standard deviation {raw['std']:.1f}). "
        f"{pct(zero_fraction, 1)} of all training pixels are exactly 0, the black background "
        "around each garment."
    )


def build(summary: Summary, figures: list[PlacedFigure]) -> DataValues:
    """Section 1's values, from the exploration's measurements and the split every run used."""
    m = summary.data.eda
    if m is None:
        raise ValueError("the study results lack the EDA record; run the study with the eda part")
    s = summary.study
    names = list(m["class_names"])
    n_fit, n_val = summary.data.n_fit, summary.data.n_val
    shapes: list[Shape] = [
        {"name": k, "shape": list(v), "dtype": m["dtypes"]["images" if k.startswith("x") else "labels"]}
        for k, v in m["shapes"].items()
    ]
    return {
        "source": printable_source(m["source"]),
        "subset": m["subset"],
        "full": m["subset"] == "full",
        "shapes": shapes,
        "dtypes": dict(m["dtypes"]),
        "pixels_raw": dict(m["pixels_raw"]),
        "pixels_scaled": dict(m["pixels_scaled"]),
        "scaled_dtype": m["scaled_dtype"],
        "zero_fraction": m["zero_pixel_fraction"],
        "classes": [
            {"name": n, "train": tr, "test": te, "mean_intensity": mi}
            for n, tr, te, mi in zip(
                names, m["train_counts"], m["test_counts"], m["mean_intensity_per_class"], strict=True
            )
        ],
        "n_train": sum(m["train_counts"]),
        "n_test": sum(m["test_counts"]),
        "n_fit": n_fit,
        "n_val": n_val,
        "split": split_phrase(s.split, s.validation_fraction),
        "validation_fraction": s.validation_fraction,
        "balance_text": balance_text(m["train_counts"], m["test_counts"], names),
        "pixel_text": pixel_text(m["pixels_raw"], m["zero_pixel_fraction"], m["dtypes"]["images"]),
        "preprocessing_text": preprocessing_text(
            s.split,
            s.validation_fraction,
            n_fit,
            n_val,
            m["pixels_scaled"],
            m["scaled_dtype"],
            len(names),
        ),
        "figures": figures,
    }
