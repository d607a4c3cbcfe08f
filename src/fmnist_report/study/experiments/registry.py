"""What an interpretation experiment tells its runner: what it needs, and how to compute it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fmnist_report.records import Measured

#: Loads the first seed's trained model of a model id.
Loader = Callable[[str], Any]


@dataclass(frozen=True)
class Job:
    """One experiment on one build's results.

    Attributes:
        kind: the experiment's name, its store folder and its key in ``StudyResults.analyses``.
        version: bumped when the experiment's code changes what it measures.
        params: the settings that decide the result, besides the runs it reads.
        sources: store keys of the training runs it reads.
        compute: the pure computation; it may load trained models, and never writes files.
    """

    kind: str
    version: int
    params: dict[str, Any]
    sources: list[str]
    compute: Callable[[Loader], Measured]
