"""The build's machine-readable numbers: metrics.json is the Summary serialised, metrics.csv its numbers.

``metrics.json`` is :meth:`Summary.to_json`: nested, with its ``schema_version``, and described
by the JSON Schema that ships with the package (`SCHEMA_FILE`, printed by
``fmnist-report schema``). Every reader of a build (`diff`, `verify`) goes back through
:func:`read`, that is :meth:`Summary.from_dict`. ``metrics.csv`` holds the same numbers, one
row each, named by their JSON Pointer into metrics.json.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from importlib.resources import files
from typing import Any

from fmnist_report.study.summary_types import SCHEMA_VERSION, SchemaError, Summary, json_schema

#: The file name of the metrics in an output folder (and inside the PDF).
JSON_FILE = "metrics.json"
#: metrics.json's JSON Schema as the package ships it (``json_schema()``, written out).
SCHEMA_FILE = "metrics.schema.json"


def schema_text() -> str:
    """metrics.json's JSON Schema (`json_schema`) as text, as `SCHEMA_FILE` holds it and
    ``fmnist-report schema`` prints it."""
    return json.dumps(json_schema(), indent=2, ensure_ascii=False) + "\n"


def shipped_schema() -> str:
    """The JSON Schema of metrics.json as the package ships it (`SCHEMA_FILE`)."""
    return files("fmnist_report.schema").joinpath(SCHEMA_FILE).read_text(encoding="utf-8")


def read(text: str | bytes, source: str = JSON_FILE) -> Summary:
    """The Summary a metrics.json holds; a file that is not one is a one-line `SchemaError`.

    ``source`` names the file in the message. A file of another ``schema_version`` (or of a
    release before the Summary, with none) says which version it has and which this one reads.
    """
    try:
        document = json.loads(text)
    except (ValueError, UnicodeDecodeError) as exc:
        raise SchemaError(f"{source} is not an fmnist-report {JSON_FILE}: {exc}") from None
    if not isinstance(document, dict):
        raise SchemaError(f"{source} is not an fmnist-report {JSON_FILE}: it holds no JSON object")
    if "schema_version" not in document:
        if isinstance(document.get("summary"), dict):  # the flattened report context of earlier releases
            raise SchemaError(
                f"{source} has schema_version 1 (it names none: a release before the Summary wrote it), "
                f"this version reads {SCHEMA_VERSION}; build it again with this version, or read it "
                "with the release that wrote it"
            )
        raise SchemaError(f"{source} is not an fmnist-report {JSON_FILE}: it has no schema_version")
    return Summary.from_dict(document, source)


def pointer(path: tuple[str | int, ...]) -> str:
    """A JSON Pointer (RFC 6901) to ``path``: ``~`` written ``~0`` and ``/`` written ``~1``."""
    return "".join("/" + str(part).replace("~", "~0").replace("/", "~1") for part in path)


def numbers(value: Any, path: tuple[str | int, ...] = ()) -> Iterator[tuple[str, int | float]]:
    """Every number of a JSON value as ``(JSON Pointer, number)``, in document order.

    Numbers only: booleans (``has_ci``, ``significant``), strings and nulls are left out, so
    each row of metrics.csv is a quantity.
    """
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return
    if isinstance(value, int | float):
        yield pointer(path), value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from numbers(item, (*path, key))
    elif isinstance(value, list | tuple):
        for i, item in enumerate(value):
            yield from numbers(item, (*path, i))


def metrics_csv(summary: Summary) -> str:
    """metrics.csv: one row per number of metrics.json, ``path`` (its JSON Pointer) and ``value``.

    Booleans and strings are not numbers and have no row; ``schema_version`` has one, first.
    """
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["path", "value"])
    writer.writerows(numbers(summary.to_dict()))
    return buf.getvalue()
