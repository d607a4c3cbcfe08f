"""Plain values the sections hand to the templates: data URIs, summaries with half-widths, model rows."""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any, cast

import numpy as np

from fmnist_report.study.summary_types import ModelRow, SeedStats, Summary


class HalfStats(SeedStats):
    """A per-seed summary with its interval half-width, the number the report prints after ±."""

    ci_half: float


#: Each model's summary row by model id, every per-seed summary a :class:`HalfStats`.
Rows = Mapping[str, ModelRow]


def required(model_id: str | None, role: str) -> str:
    """The model id of a part the report cannot do without (`Roles`); a one-line error where it did not run."""
    if model_id is None:
        raise ValueError(f"the study results lack {role}; run the study with it")
    return model_id


#: A transparent 1x1 PNG: the image of a picture a Summary read back from metrics.json lacks
#: (`verify` lays out the text; the pixels are not in metrics.json).
BLANK_PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII="
)


def data_uri(png: bytes) -> str:
    """PNG bytes as a ``data:`` URI, so the HTML needs no other file."""
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def with_half(summary: SeedStats | Mapping[str, Any]) -> HalfStats:
    """A per-seed summary with its interval half-width, the number the report prints after ±."""
    out = {k: plain(v) for k, v in summary.items()}
    out["ci_half"] = (out["ci_high"] - out["ci_low"]) / 2 if out["has_ci"] else 0.0
    return cast(HalfStats, out)


def plain(value: Any) -> Any:
    """numpy scalars and arrays as plain Python values."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    return value


def model_rows(summary: Summary) -> dict[str, ModelRow]:
    """The summary's per-model rows as plain values, each per-seed summary with its half-width."""
    return {
        model_id: cast(
            ModelRow,
            {
                k: with_half(v) if isinstance(v, Mapping) and "has_ci" in v else plain(v)
                for k, v in row.items()
            },
        )
        for model_id, row in summary.models.items()
    }


def confusion(row: ModelRow) -> np.ndarray:
    """A model's confusion matrices summed over its seeds (rows: true class), from its summary row."""
    return np.asarray(row["confusion"], dtype=np.int64)
