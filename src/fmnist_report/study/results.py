"""Every record of one build, grouped for the report."""

from __future__ import annotations

from dataclasses import dataclass, field

from fmnist_report import data as data_mod
from fmnist_report.config import Config
from fmnist_report.records import Record


@dataclass
class StudyResults:
    """Every record of one build, grouped for the report."""

    config: Config
    data: data_mod.Dataset
    eda: Record | None = None
    runs: dict[str, list[Record]] = field(default_factory=dict)
    analyses: dict[str, Record] = field(default_factory=dict)

    def model_ids(self) -> list[str]:
        return list(self.runs)

    def first(self, model_id: str) -> Record:
        """The run of the first seed: the one whose model is exported and inspected."""
        return self.runs[model_id][0]
