"""Every record of one build, grouped for the report, and the roles its models play."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from fmnist_report import data as data_mod
from fmnist_report.backend import Platform
from fmnist_report.config import Config
from fmnist_report.records import Record
from fmnist_report.study import design
from fmnist_report.study.design import HEADLINE_KERNEL, Roles

__all__ = ["HEADLINE_KERNEL", "Roles", "StudyResults"]

#: The platform of records stored before records named it.
DEFAULT_PLATFORM = {"backend": "tensorflow", "device": "cpu", "device_name": ""}


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

    def seed(self, model_id: str) -> int:
        """The seed of a model's first run."""
        return int(self.first(model_id).metrics["spec"]["seed"])

    def platform(self) -> str:
        """Where the runs were trained, as the report names it (``TensorFlow on CPU``...).

        A record stored before records named their platform was trained with TensorFlow on
        the CPU: its cache key says so (`records.versions`).
        """
        found = {
            Platform(**r.metrics.get("platform", DEFAULT_PLATFORM)).label
            for records in self.runs.values()
            for r in records
        }
        return " and ".join(sorted(found)) or Platform(**DEFAULT_PLATFORM).label

    def machines(self) -> list[tuple[dict[str, str | int | float | None] | None, int]]:
        """Each machine that trained runs here (its record's ``machine``; None where a record
        stored before records named it), with how many runs, in the order first met."""
        counts: dict[str, int] = {}  # keyed by the machine as JSON: a dict cannot be a key
        for records in self.runs.values():
            for r in records:
                key = json.dumps(r.metrics.get("machine"), sort_keys=True)
                counts[key] = counts.get(key, 0) + 1
        return [(json.loads(key), n) for key, n in counts.items()]

    def roles(self) -> Roles:
        """The part each trained model plays, from the study's declarations and the ids that ran."""
        return design.roles(self.config.study, set(self.runs))
