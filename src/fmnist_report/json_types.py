"""The JSON this package reads from outside before it knows its shape, and any JSON value."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, TypeAlias

#: A JSON object (or TOML table) whose shape is known only once it is checked: a settings
#: file's tables before `config` validates them, a request body before the server decodes it,
#: an export's metadata.json before its checksums are verified, a stored record's metrics
#: before the reader of its kind (a training run, an experiment) takes them. Free-form because
#: it comes from a file or a client, written by whichever version or person wrote it; every
#: other object of this package has a type of its own.
JSON: TypeAlias = dict[str, Any]

#: Any value `json.dumps` writes, such as the settings a cache key hashes.
JsonValue: TypeAlias = str | int | float | bool | Sequence["JsonValue"] | Mapping[str, "JsonValue"] | None
