"""What an interpretation experiment tells its runner: what it needs, and how to compute it."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from fmnist_report.json_types import JsonValue
from fmnist_report.records import Measured
from fmnist_report.study.summary_types import (
    CalibrationAnalysis,
    EfficiencyMeasured,
    FiltersAnalysis,
    MistakesAnalysis,
    ShiftMeasured,
)

#: Loads the first seed's trained model of a model id.
Loader = Callable[[str], Any]
#: What one of the interpretation experiments measures (`summary_types` has each one's type).
Measures = FiltersAnalysis | ShiftMeasured | CalibrationAnalysis | MistakesAnalysis | EfficiencyMeasured


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
    params: Mapping[str, JsonValue]
    sources: list[str]
    compute: Callable[[Loader], Measured[Measures]]
