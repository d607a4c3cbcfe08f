"""Every record of one build, grouped for the report, and the roles its models play."""

from __future__ import annotations

from dataclasses import dataclass, field

from fmnist_report import data as data_mod
from fmnist_report import ids
from fmnist_report.backend import Platform
from fmnist_report.config import Config
from fmnist_report.ids import ModelId
from fmnist_report.records import Record

#: The kernel size of the study's CNN: the one compared with the baseline (section 3),
#: exported, and inspected by the shift, feature-map and mistake analyses.
HEADLINE_KERNEL = 3
#: The platform of records stored before records named it.
DEFAULT_PLATFORM = {"backend": "tensorflow", "device": "cpu", "device_name": ""}


@dataclass(frozen=True)
class Roles:
    """Which trained model plays which part in the report; ``None`` where it did not run.

    Attributes:
        dense: the dense baseline.
        headline: the CNN of the comparison, the one exported.
        kernel_arms: the kernel-size study's CNNs, in the configured order.
        cnns: every CNN on the original pixels by kernel size, smallest first.
        probe: the CNN the analyses inspect: the headline CNN, else the smallest.
        twins: each model that has a permuted-pixel twin, mapped to it.
    """

    dense: str | None
    headline: str | None
    kernel_arms: tuple[str, ...]
    cnns: dict[int, str]
    probe: str | None
    twins: dict[str, str]


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

    def roles(self) -> Roles:
        """The part each trained model plays, from the ids that ran and the configured kernel sizes."""
        present = {ModelId.parse(m): m for m in self.runs}
        cnns = {m.kernel_size: s for m, s in present.items() if m.is_cnn and not m.permuted}
        cnns = dict(sorted(cnns.items()))  # type: ignore[arg-type]
        headline = cnns.get(HEADLINE_KERNEL)
        twins = {s: present[m.twin()] for m, s in present.items() if not m.permuted and m.twin() in present}
        return Roles(
            dense=present.get(ids.DENSE),
            headline=headline,
            kernel_arms=tuple(cnns[k] for k in self.config.study.kernel_sizes if k in cnns),
            cnns=cnns,  # type: ignore[arg-type]
            probe=headline or next(iter(cnns.values()), None),
            twins=twins,
        )
