"""A run's test scores from its predictions: the confusion matrix, per-class scores, the loss."""

from __future__ import annotations

import numpy as np


def per_class_scores(confusion: np.ndarray) -> dict[str, list[float]]:
    """Accuracy (recall), precision, recall and F1 per class from a confusion matrix (rows: true)."""
    tp = np.diag(confusion).astype(np.float64)
    support = confusion.sum(axis=1)
    predicted = confusion.sum(axis=0)
    recall = np.divide(tp, support, out=np.zeros_like(tp), where=support > 0)
    precision = np.divide(tp, predicted, out=np.zeros_like(tp), where=predicted > 0)
    denom = precision + recall
    f1 = np.divide(2 * precision * recall, denom, out=np.zeros_like(tp), where=denom > 0)
    return {
        "accuracy": recall.tolist(),
        "precision": precision.tolist(),
        "recall": recall.tolist(),
        "f1": f1.tolist(),
    }


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, num_classes: int = 10) -> np.ndarray:
    """Counts, rows indexed by the true class and columns by the predicted class."""
    return np.bincount(y_true.astype(np.int64) * num_classes + y_pred, minlength=num_classes**2).reshape(
        num_classes, num_classes
    )


def cross_entropy(probabilities: np.ndarray, labels: np.ndarray) -> float:
    """Mean categorical cross-entropy, clipped like Keras (epsilon 1e-7)."""
    p = np.clip(probabilities[np.arange(len(labels)), labels], 1e-7, 1.0)
    return float(-np.mean(np.log(p)))
