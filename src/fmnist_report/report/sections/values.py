"""Plain values the sections hand to the templates: data URIs, summaries with half-widths, model rows."""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any

import numpy as np

from fmnist_report.study.results import StudyResults
from fmnist_report.study.summary import Summary

#: Each model's summary row with plain values and interval half-widths, by model id.
Rows = Mapping[str, dict[str, Any]]


def data_uri(png: bytes) -> str:
    """PNG bytes as a ``data:`` URI, so the HTML needs no other file."""
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def with_half(summary: Mapping[str, Any]) -> dict[str, Any]:
    """A per-seed summary with its interval half-width, the number the report prints after ±."""
    out = {k: plain(v) for k, v in summary.items()}
    out["ci_half"] = (out["ci_high"] - out["ci_low"]) / 2 if out["has_ci"] else 0.0
    return out


def plain(value: Any) -> Any:
    """numpy scalars and arrays as plain Python values."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    return value


def model_rows(summary: Summary) -> dict[str, dict[str, Any]]:
    """The summary's per-model rows as plain values, each per-seed summary with its half-width."""
    return {
        model_id: {
            k: with_half(v) if isinstance(v, Mapping) and "has_ci" in v else plain(v) for k, v in row.items()
        }
        for model_id, row in summary.models.items()
    }


def confusion(results: StudyResults, model_id: str) -> np.ndarray:
    """A model's confusion matrices summed over its seeds (rows: true class)."""
    return np.sum([r.arrays["confusion"] for r in results.runs[model_id]], axis=0)
