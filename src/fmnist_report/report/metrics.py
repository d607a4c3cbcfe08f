"""The report's machine-readable twin: every number of the context as metrics.json and metrics.csv rows."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np

#: The file name of the metrics in an output folder (and inside the PDF).
JSON_FILE = "metrics.json"
_ID_KEYS = ("model_id", "key", "id", "name", "file", "path", "seed")


def _walk(value: Any, prefix: str) -> Iterator[tuple[str, Any]]:
    if isinstance(value, bool) or value is None:
        return
    if isinstance(value, int | float):
        yield prefix, value
    elif isinstance(value, Mapping):
        for k, v in value.items():
            yield from _walk(v, f"{prefix}.{k}" if prefix else str(k))
    elif isinstance(value, list | tuple):
        seen: set[str] = set()
        for i, item in enumerate(value):
            label = str(i)
            if isinstance(item, Mapping):
                label = next(
                    (str(item[k]) for k in _ID_KEYS if k in item and not isinstance(item[k], Mapping)), label
                )
            if label in seen:
                label = f"{label}#{i}"
            seen.add(label)
            yield from _walk(item, f"{prefix}.{label}" if prefix else label)


def metrics_flat(context: Mapping[str, Any]) -> list[tuple[str, str, float | int]]:
    """Every number of the report as ``(section, key, value)`` rows, in report order."""
    rows = []
    for section, value in context.items():
        if section in ("meta", "toc", "sections", "notes"):
            continue
        for key, number in _walk(value, ""):
            if isinstance(number, float) and not np.isfinite(number):
                continue
            rows.append((section, key or section, number))
    return rows


def metrics_json(rows: Sequence[tuple[str, str, float | int]]) -> dict[str, dict[str, float | int]]:
    """The flat rows as ``{section: {key: value}}``."""
    out: dict[str, dict[str, float | int]] = {}
    for section, key, value in rows:
        out.setdefault(section, {})[key] = value
    return out


def metrics_document(
    rows: Sequence[tuple[str, str, float | int]], protocol: Mapping[str, Any] | None = None
) -> str:
    """metrics.json: the numbers by section, then (when given) the ``protocol`` block of the build."""
    document: dict[str, Any] = dict(metrics_json(rows))
    if protocol is not None:
        document["protocol"] = dict(protocol)
    return json.dumps(document, indent=1, allow_nan=False) + "\n"


def metrics_csv(rows: Iterable[tuple[str, str, Any]]) -> str:
    """The flat metrics as CSV: section, key, value."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["section", "key", "value"])
    writer.writerows(rows)
    return buf.getvalue()
