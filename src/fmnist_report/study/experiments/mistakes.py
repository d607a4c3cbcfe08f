"""Errors: the most confused class pairs, the most confident mistakes and their saliency maps."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

import numpy as np

from fmnist_report.data import Dataset, scale
from fmnist_report.json_types import JsonValue
from fmnist_report.records import Measured
from fmnist_report.study.experiments.probes import input_gradient
from fmnist_report.study.experiments.registry import Job, Loader
from fmnist_report.study.results import Roles, StudyResults
from fmnist_report.study.summary_types import ConfusedPair, Mistake, MistakesAnalysis, PairCount

KIND: Final = "mistakes"
#: Part of the cache key: bump when a change to this module changes what it measures.
VERSION = 1
TOP_PAIRS = 5
TOP_MISTAKES = 12
N_SALIENCY = 4
#: A mistake made with at least this top-class probability counts as confident.
CONFIDENT = 0.9
SALIENCY_METHOD = (
    "absolute gradient of the predicted class's logit (pre-softmax score) with respect to the input"
    " pixels, each map scaled to a maximum of 1"
)


def confused_pairs(confusion: np.ndarray, top: int = TOP_PAIRS) -> list[PairCount]:
    """The class pairs most often mistaken for each other, counting both directions, most first."""
    n = confusion.shape[0]
    pairs: list[PairCount] = []
    for a in range(n):
        for b in range(a + 1, n):
            a_as_b, b_as_a = int(confusion[a, b]), int(confusion[b, a])
            pairs.append({"a": a, "b": b, "a_as_b": a_as_b, "b_as_a": b_as_a, "total": a_as_b + b_as_a})
    pairs.sort(key=lambda p: (-p["total"], p["a"], p["b"]))
    return [p for p in pairs[:top] if p["total"] > 0]


def confident_mistakes(probabilities: np.ndarray, labels: np.ndarray, top: int = TOP_MISTAKES) -> np.ndarray:
    """Indices of the wrongly classified images with the highest confidence, most confident first."""
    predicted = probabilities.argmax(axis=1)
    wrong = np.flatnonzero(predicted != labels)
    confidence = probabilities[wrong].max(axis=1)
    return wrong[np.argsort(-confidence, kind="stable")[:top]]


def saliency(model: Any, images: np.ndarray, classes: np.ndarray) -> np.ndarray:
    """|d logit[class] / d pixel| for float images (n, 28, 28, 1), each map scaled to max 1."""
    import keras
    from keras import ops

    head = keras.Model(model.input, model.get_layer("dense_128").output)
    out = model.get_layer("probabilities")
    picks = ops.one_hot(ops.convert_to_tensor(classes, dtype="int32"), out.units)

    def score(x: Any) -> Any:
        hidden = ops.cast(head(x, training=False), "float32")
        logits = ops.matmul(hidden, ops.cast(out.kernel, "float32")) + ops.cast(out.bias, "float32")
        return ops.sum(logits * picks)

    grads = np.abs(input_gradient(score, images.astype(np.float32)))[..., 0]
    peak = grads.reshape(len(grads), -1).max(axis=1)
    return grads / np.maximum(peak, np.float32(1e-12))[:, None, None]


def run(
    confusions: dict[str, Sequence[np.ndarray]],
    labels: dict[str, str],
    model_id: str,
    probabilities: np.ndarray,
    model: Any,
    data: Dataset,
    *,
    seed: int = 0,
    top_pairs: int = TOP_PAIRS,
    top_mistakes: int = TOP_MISTAKES,
    n_saliency: int = N_SALIENCY,
) -> Measured[MistakesAnalysis]:
    """Confused pairs of each model (summed over seeds); mistakes and saliency of ``model_id``.

    Args:
        confusions: by model id, one confusion matrix (rows true, columns predicted) per seed.
        probabilities: ``model_id``'s test probabilities for the run of ``model`` (seed ``seed``).
    """
    names = data.class_names
    pairs_by_model: dict[str, list[ConfusedPair]] = {}
    errors: dict[str, int] = {}
    for m, mats in confusions.items():
        total = np.sum(np.stack(mats), axis=0)
        errors[m] = int(total.sum() - np.trace(total))
        pairs_by_model[m] = [
            {**p, "a_name": names[p["a"]], "b_name": names[p["b"]]} for p in confused_pairs(total, top_pairs)
        ]

    y = data.y_test.astype(np.int64)
    predicted = probabilities.argmax(axis=1)
    wrong = predicted != y
    order = confident_mistakes(probabilities, y, top_mistakes)
    gallery: list[Mistake] = [
        {
            "index": int(i),
            "true": int(y[i]),
            "predicted": int(predicted[i]),
            "true_name": names[y[i]],
            "predicted_name": names[predicted[i]],
            "confidence": float(probabilities[i].max()),
            "true_probability": float(probabilities[i, y[i]]),
        }
        for i in order
    ]
    shown = order[:n_saliency]
    maps = (
        saliency(model, scale(data.x_test[shown]), predicted[shown])
        if len(shown)
        else np.zeros((0, 28, 28), np.float32)
    )
    on_object = data.x_test[shown] > 0
    share = [float(maps[i][on_object[i]].sum() / max(maps[i].sum(), 1e-12)) for i in range(len(shown))]

    metrics: MistakesAnalysis = {
        "models": list(confusions),
        "labels": dict(labels),
        "n_seeds": {m: len(mats) for m, mats in confusions.items()},
        "errors": errors,
        "confused_pairs": pairs_by_model,
        "mistakes": {
            "model": model_id,
            "label": labels[model_id],
            "seed": seed,
            "n_test": len(y),
            "n_errors": int(wrong.sum()),
            "confident_threshold": CONFIDENT,
            "n_confident_errors": int(np.sum(wrong & (probabilities.max(axis=1) >= CONFIDENT))),
            "gallery": gallery,
        },
        "saliency": {
            "method": SALIENCY_METHOD,
            "indices": [int(i) for i in shown],
            "on_object_share": share,
            "object_area": [float(o.mean()) for o in on_object],
        },
    }
    arrays = {
        "gallery_images": data.x_test[order],
        "saliency": maps.astype(np.float32),
    }
    return Measured(metrics, arrays)


def job(results: StudyResults, roles: Roles) -> Job | None:
    """Confusions of the baseline and the probe CNN; the probe's confident mistakes and saliency."""
    probe = roles.probe
    if probe is None:
        return None
    confused = [m for m in (roles.dense, probe) if m is not None]

    def compute(load: Loader) -> Measured[MistakesAnalysis]:
        return run(
            {m: [r.arrays["confusion"] for r in results.runs[m]] for m in confused},
            {m: results.first(m).metrics["label"] for m in confused},
            probe,
            results.first(probe).arrays["probabilities"],
            load(probe),
            results.data,
            seed=results.seed(probe),
        )

    params: dict[str, JsonValue] = {
        "top_pairs": TOP_PAIRS,
        "top_mistakes": TOP_MISTAKES,
        "n_saliency": N_SALIENCY,
        "confident": CONFIDENT,
        "probe": probe,
    }
    return Job(KIND, VERSION, params, [r.key for m in confused for r in results.runs[m]], compute)
