"""Translation: accuracy on shifted test images, and how exactly each CNN layer is equivariant."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, Final

import numpy as np

from fmnist_report import models
from fmnist_report.data import Dataset, scale
from fmnist_report.ids import ModelId
from fmnist_report.json_types import JsonValue
from fmnist_report.records import Measured
from fmnist_report.study import stats
from fmnist_report.study.experiments.probes import describe_subsample, layer_outputs, shift, subsample
from fmnist_report.study.experiments.registry import Job, Loader
from fmnist_report.study.results import Roles, StudyResults
from fmnist_report.study.summary_types import LayerGeometry, McNemarTest, ShiftMeasured
from fmnist_report.study.training import predict_proba

KIND: Final = "shift"
#: Part of the cache key: bump when a change to this module changes what it measures.
VERSION = 1
#: Unit steps of the four axis directions, as (dx, dy): right and down are positive.
DIRECTIONS: dict[str, tuple[int, int]] = {"right": (1, 0), "left": (-1, 0), "down": (0, 1), "up": (0, -1)}
MAX_SHIFT = 4
#: Test images classified at every shift; a subsample keeps the full profile to seconds.
N_IMAGES = 2000
#: Test images whose feature maps are compared for the equivariance check.
N_EQUIVARIANCE = 200
LAYERS = ("conv1", "pool1", "conv2", "pool2")
GRID = "the four axis directions (right, left, down, up), 0 to {m} pixels, vacated pixels set to 0"


def accuracy_grid(
    classifiers: Mapping[str, Any], x: np.ndarray, y: np.ndarray, max_shift: int
) -> tuple[np.ndarray, np.ndarray]:
    """Per-image correctness and accuracy, shaped (models, directions, magnitudes[, images])."""
    correct = np.zeros((len(classifiers), len(DIRECTIONS), max_shift + 1, len(y)), dtype=bool)
    for m, model in enumerate(classifiers.values()):
        unshifted = predict_proba(model, scale(x)).argmax(axis=1) == y
        for d, (ux, uy) in enumerate(DIRECTIONS.values()):
            correct[m, d, 0] = unshifted
            for s in range(1, max_shift + 1):
                pred = predict_proba(model, scale(shift(x, s * ux, s * uy))).argmax(axis=1)
                correct[m, d, s] = pred == y
    return correct, correct.mean(axis=-1)


def _crop(arr: np.ndarray, ux: int, uy: int, lead: int, margin: int) -> np.ndarray:
    """Drop ``lead`` rows/columns on the side the content moved away from and ``margin`` elsewhere."""
    h, w = arr.shape[1:3]
    left = lead if ux > 0 else margin
    right = lead if ux < 0 else margin
    top = lead if uy > 0 else margin
    bottom = lead if uy < 0 else margin
    return arr[:, top : h - bottom, left : w - right]


def relative_error(out: np.ndarray, ref: np.ndarray) -> float:
    """||out - ref|| / ||ref|| in float64; NaN when there is nothing to compare."""
    if ref.size == 0:
        return math.nan
    ref64 = ref.astype(np.float64)
    denom = float(np.sum(ref64**2))
    if denom == 0:
        return math.inf
    return math.sqrt(float(np.sum((out.astype(np.float64) - ref64) ** 2)) / denom)


def equivariance_errors(
    cnn: Any, kernel_size: int, x: np.ndarray, max_shift: int
) -> tuple[dict[str, np.ndarray], dict[str, LayerGeometry]]:
    """How each layer's maps respond to shifting the input, per layer, direction and shift.

    ``error`` compares f(shifted input) with the shifted f(input). A layer of stride j sees an
    input shift of s pixels as s / j of its own pixels; when j does not divide s the reference
    is shifted by the better of floor(s / j) and ceil(s / j) (kept in ``offset``). ``change``
    compares f(shifted input) with the unshifted f(input): how much the shift changes the layer's
    maps where they are not moved back. Only interior positions count: ``ceil((s + R/2) / j)``
    are cropped on the side the image moved away from and ``ceil((R/2) / j)`` on the others,
    R being the layer's receptive field.

    Returns:
        arrays ``error``, ``offset`` and ``change`` shaped (layers, directions, magnitudes
        1..max_shift), and each layer's stride and receptive field.
    """
    geometry: dict[str, LayerGeometry] = {
        r["layer"]: {"stride": r["stride"], "receptive_field": r["receptive_field"]}
        for r in models.receptive_fields(kernel_size)
    }
    shape = (len(LAYERS), len(DIRECTIONS), max_shift)
    out = {
        "error": np.full(shape, np.nan),
        "offset": np.zeros(shape, dtype=np.int64),
        "change": np.full(shape, np.nan),
    }
    reference = layer_outputs(cnn, LAYERS, scale(x))
    for d, (ux, uy) in enumerate(DIRECTIONS.values()):
        for s in range(1, max_shift + 1):
            moved = layer_outputs(cnn, LAYERS, scale(shift(x, s * ux, s * uy)))
            for li, name in enumerate(LAYERS):
                j, rf = geometry[name]["stride"], geometry[name]["receptive_field"]
                lead = math.ceil((s + rf / 2) / j)
                margin = math.ceil(rf / 2 / j)
                inner = _crop(moved[li], ux, uy, lead, margin)
                candidates = [
                    (
                        relative_error(
                            inner, _crop(shift(reference[li], c * ux, c * uy), ux, uy, lead, margin)
                        ),
                        c,
                    )
                    for c in sorted({s // j, -(-s // j)})
                ]
                err, c = min(candidates, key=lambda t: (math.isnan(t[0]), t[0]))
                out["error"][li, d, s - 1], out["offset"][li, d, s - 1] = err, c
                out["change"][li, d, s - 1] = relative_error(
                    inner, _crop(reference[li], ux, uy, lead, margin)
                )
    return out, geometry


def rms_over_directions(values: np.ndarray) -> list[list[float | None]]:
    """Root-mean-square over axis 1 (directions) of (layers, directions, shifts); None where all are missing."""
    out = []
    for layer in values:
        row = []
        for col in layer.T:
            ok = col[np.isfinite(col)]
            row.append(float(np.sqrt(np.mean(ok**2))) if ok.size else None)
        out.append(row)
    return out


def run(
    classifiers: Mapping[str, Any],
    labels: dict[str, str],
    cnn: Any,
    kernel_size: int,
    data: Dataset,
    *,
    max_shift: int = MAX_SHIFT,
    n_images: int = N_IMAGES,
    n_equivariance: int = N_EQUIVARIANCE,
) -> Measured[ShiftMeasured]:
    """Accuracy of each classifier under shifts, and the layer-by-layer equivariance of ``cnn``.

    Args:
        classifiers: trained models by model id, compared in this order (first = A, second = B).
        labels: display names by model id.
        cnn: the CNN whose feature maps are checked (``conv1``, ``pool1``, ``conv2``, ``pool2``).
    """
    n_test = len(data.y_test)
    idx = subsample(n_test, n_images)
    x, y = data.x_test[idx], data.y_test[idx]
    correct, accuracy = accuracy_grid(classifiers, x, y, max_shift)
    ids = list(classifiers)
    names = list(DIRECTIONS)

    comparison: dict[str, McNemarTest] = {}
    if len(ids) >= 2:
        comparison = {
            name: stats.mcnemar_exact(correct[0, d, max_shift], correct[1, d, max_shift]).to_dict()
            for d, name in enumerate(names)
        }

    eq_idx = subsample(n_test, n_equivariance, seed=1)
    eq, geometry = equivariance_errors(cnn, kernel_size, data.x_test[eq_idx], max_shift)
    errors, changes = rms_over_directions(eq["error"]), rms_over_directions(eq["change"])

    metrics: ShiftMeasured = {
        "grid": GRID.format(m=max_shift),
        "directions": names,
        "magnitudes": list(range(max_shift + 1)),
        "models": ids,
        "labels": {m: labels[m] for m in ids},
        "n_images": len(idx),
        "images": describe_subsample(len(idx), n_test),
        "accuracy": {
            m: {name: accuracy[i, d].tolist() for d, name in enumerate(names)} for i, m in enumerate(ids)
        },
        "mean_accuracy": {m: accuracy[i].mean(axis=0).tolist() for i, m in enumerate(ids)},
        "max_shift_mcnemar": comparison,
        "equivariance": {
            "kernel_size": kernel_size,
            "layers": list(LAYERS),
            "geometry": geometry,
            "magnitudes": list(range(1, max_shift + 1)),
            "relative_error": dict(zip(LAYERS, errors, strict=True)),
            "relative_change": dict(zip(LAYERS, changes, strict=True)),
            "n_images": len(eq_idx),
            "images": describe_subsample(len(eq_idx), n_test, seed=1),
            "method": (
                "root-mean-square over the four directions of ||f(shift(x)) - shift(f(x))|| / ||shift(f(x))||"
                " on interior positions; a layer of stride j is shifted by the better of floor(s/j) and"
                " ceil(s/j) of its own pixels; relative_change compares with the unshifted f(x) instead"
            ),
        },
    }
    arrays = {
        "accuracy": accuracy.astype(np.float64),
        "correct": correct,
        "equivariance_error": eq["error"],
        "equivariance_offset": eq["offset"],
        "equivariance_change": eq["change"],
        "image_indices": idx,
    }
    return Measured(metrics, arrays)


def job(results: StudyResults, roles: Roles) -> Job | None:
    """Shifted inputs for the dense baseline and the probe CNN; equivariance of the probe's maps."""
    probe = roles.probe
    if probe is None:
        return None
    compared = [m for m in (roles.dense, probe) if m is not None]
    kernel = ModelId.parse(probe).kernel_size
    if kernel is None:  # Roles only ever picks a CNN as the probe
        raise ValueError(f"the shift probe must be a CNN, got {probe}")

    def compute(load: Loader) -> Measured[ShiftMeasured]:
        return run(
            {m: load(m) for m in compared},
            {m: results.first(m).metrics["label"] for m in compared},
            load(probe),
            kernel,
            results.data,
            max_shift=MAX_SHIFT,
            n_images=N_IMAGES,
            n_equivariance=N_EQUIVARIANCE,
        )

    params: dict[str, JsonValue] = {
        "max_shift": MAX_SHIFT,
        "n_images": N_IMAGES,
        "n_equivariance": N_EQUIVARIANCE,
        "directions": DIRECTIONS,
    }
    return Job(KIND, VERSION, params, [results.first(m).key for m in compared], compute)
