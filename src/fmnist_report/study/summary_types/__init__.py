"""The Summary: every number the report quotes, typed, and metrics.json's schema.

This package is the one part of `study` that the report imports (its modules `rows`,
`analyses` and `facts` hold the types it re-exports). :func:`study.summary.summarize`
fills a :class:`Summary` from the records once; the sections, the figures, the export,
``metrics.json`` (:meth:`Summary.to_dict`), its JSON Schema (:func:`json_schema`) and the
readers of a build (`diff`, `verify`) all go through these types. The leaves are
``TypedDict`` rows (plain JSON objects that a type checker knows the keys of); the
containers are frozen dataclasses.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from functools import cache
from typing import Annotated, Any, Final

from pydantic import Field, TypeAdapter, ValidationError

from fmnist_report.config import StudyConfig
from fmnist_report.errors import UserError
from fmnist_report.study.summary_types.analyses import (
    Analyses,
    CalibrationAnalysis,
    ConfusedPair,
    Ece,
    EfficiencyAnalysis,
    EfficiencyMeasured,
    EfficiencyRow,
    Equivariance,
    FilterNorms,
    FiltersAnalysis,
    LayerGeometry,
    Mistake,
    MistakesAnalysis,
    PairCount,
    ParamSplit,
    ProbeMistakes,
    ReceptiveField,
    Saliency,
    SharingCost,
    ShiftAnalysis,
    ShiftMeasured,
    ShiftTest,
)
from fmnist_report.study.summary_types.facts import (
    Built,
    DataFacts,
    Deployment,
    Environment,
    Prediction,
    Provenance,
    Roles,
    TopClass,
)
from fmnist_report.study.summary_types.rows import (
    Comparison,
    Curves,
    Layer,
    Machine,
    McNemarTest,
    ModelRow,
    PerSeed,
    PowerFound,
    SeedStats,
)

__all__ = [
    "ALPHA",
    "CALIBRATION",
    "EFFICIENCY",
    "FAMILIES",
    "FAMILY_WORDS",
    "FILTERS",
    "MISTAKES",
    "NEAR_CHANCE_MARGIN",
    "POWER",
    "SCHEMA_VERSION",
    "SEED_METRICS",
    "SHIFT",
    "SHIFT_FAMILY",
    "Analyses",
    "Built",
    "CalibrationAnalysis",
    "Comparison",
    "ConfusedPair",
    "Curves",
    "DataFacts",
    "Deployment",
    "Ece",
    "EfficiencyAnalysis",
    "EfficiencyMeasured",
    "EfficiencyRow",
    "Environment",
    "Equivariance",
    "FilterNorms",
    "FiltersAnalysis",
    "Layer",
    "LayerGeometry",
    "Machine",
    "McNemarTest",
    "Mistake",
    "MistakesAnalysis",
    "ModelRow",
    "PairCount",
    "ParamSplit",
    "PerSeed",
    "PowerFound",
    "Prediction",
    "ProbeMistakes",
    "Provenance",
    "ReceptiveField",
    "Roles",
    "Saliency",
    "SchemaError",
    "SeedStats",
    "SharingCost",
    "ShiftAnalysis",
    "ShiftMeasured",
    "ShiftTest",
    "Summary",
    "TopClass",
    "chance_accuracy",
    "is_near_chance",
    "json_schema",
]

#: The shape of metrics.json. 1 was the flattened report context of earlier releases;
#: 2 is this Summary, nested. Bump on any change a reader of the file would notice.
SCHEMA_VERSION = 2
#: Per-run metrics summarised over seeds.
SEED_METRICS = ("test_accuracy", "test_loss", "train_seconds", "latency_ms_batched", "latency_ms_single")
#: Significance level of every family of pairwise comparisons (Holm's correction within each).
ALPHA = 0.05
#: The power a non-significant comparison's detectable difference is stated at.
POWER = 0.8
#: How far above chance (1 / classes) a model's mean test accuracy must reach to count as having
#: learned: 15 points, so below 25% on Fashion-MNIST's 10 classes. The study's models clear it by
#: far even at the quick profile (73.7% to 74.6% after 2 epochs on the subset, docs/performance.md;
#: 88% to 92% on the full protocol), while a model that did not learn sits at 10% to 20%, predicting
#: one or two classes for most images. 15 points are some 15 standard errors of an accuracy near
#: chance on the quick profile's 1,000 test images: test-set noise alone does not carry a model
#: across the line in either direction.
NEAR_CHANCE_MARGIN = 0.15

#: The families of pairwise comparisons in report order, each corrected with Holm's method,
#: and what each covers as Appendix A names it. `study.design` declares which pairs each makes.
FAMILY_WORDS: dict[str, str] = {
    "architecture": "Dense against the CNN",
    "kernels": "every pair of kernel sizes",
    "locality": "each network against its permuted-pixel twin, and the two twins against each other",
    "variants": "each declared variant against its base",
}
FAMILIES = tuple(FAMILY_WORDS)
#: The shift experiment's four directions are a family of their own, tested inside its analysis.
SHIFT_FAMILY = "shift"

#: The interpretation experiments' keys in :attr:`Summary.analyses` (each experiment module's ``KIND``).
#: ``Final``: a type checker reads them as the keys of :class:`Analyses`.
EFFICIENCY: Final = "efficiency"
FILTERS: Final = "filters"
SHIFT: Final = "shift"
CALIBRATION: Final = "calibration"
MISTAKES: Final = "mistakes"


def chance_accuracy(n_classes: int) -> float:
    """The accuracy of guessing: one over the number of classes."""
    return 1.0 / n_classes


def is_near_chance(accuracy: float, n_classes: int) -> bool:
    """Whether a mean test accuracy is within `NEAR_CHANCE_MARGIN` of chance: the model learned next to nothing."""
    return accuracy < chance_accuracy(n_classes) + NEAR_CHANCE_MARGIN


# -- the summary ---------------------------------------------------------------------------------


class SchemaError(UserError):
    """A metrics.json that is not this version's Summary."""


@dataclass(frozen=True)
class Summary:
    """Every derived number the report quotes, and nothing the report computes again.

    Attributes:
        study: the study's configuration (what changes a measured number).
        data: the data's facts; ``provenance`` where and how the runs were made.
        roles: which model plays which part (baseline, headline CNN, kernel arms, probe, twins).
        models: one row per model id, in the order the runs were planned. Ids with a variant
            (``cnn3[dropout=0.3]``) are keys as they are, never split.
        comparisons: keyed ``"a__vs__b"``, each with its family, its raw and Holm-adjusted
            p-values and ``significant``, the corrected verdict.
        layers: each model's layer table.
        analyses: each interpretation experiment's measurements, by its key (`SHIFT`...).
        curves: each model's per-epoch history, one list per seed.
        built: the machine the report was built on and the export; None for a summary of the
            study alone (``run --json``), before the build adds them.
        pictures: the arrays the figures draw (sample images, filters, feature maps), by
            experiment; pixels rather than printed numbers, so not part of metrics.json or of
            equality.
    """

    study: StudyConfig
    data: DataFacts
    provenance: Provenance
    roles: Roles
    models: dict[str, ModelRow]
    comparisons: dict[str, Comparison]
    layers: dict[str, list[Layer]]
    analyses: Analyses
    curves: dict[str, Curves] = field(default_factory=dict)
    built: Built | None = None
    pictures: Annotated[dict[str, Any], Field(exclude=True)] = field(
        default_factory=dict, compare=False, repr=False
    )

    @property
    def platform(self) -> str:
        return self.provenance.platform

    def row(self, model_id: str) -> ModelRow:
        return self.models[model_id]

    def comparison(self, a: str | None, b: str | None) -> Comparison | None:
        """The comparison of ``a`` and ``b`` in either order, or None."""
        return self.comparisons.get(f"{a}__vs__{b}") or self.comparisons.get(f"{b}__vs__{a}")

    def families(self) -> dict[str, int]:
        """How many comparisons each family that was tested holds, in report order."""
        sizes = {f: sum(c["family"] == f for c in self.comparisons.values()) for f in FAMILIES}
        sizes[SHIFT_FAMILY] = len(self.analyses.get(SHIFT, {}).get("max_shift_mcnemar") or {})
        return {f: n for f, n in sizes.items() if n}

    def seed(self, model_id: str) -> int:
        """The seed of a model's first run: the one exported and inspected."""
        return self.models[model_id]["seeds"][0]

    def to_dict(self) -> dict[str, Any]:
        """metrics.json: ``schema_version``, then every member but the pictures, as plain JSON values."""
        document = _adapter().dump_python(self, mode="json")
        _check_finite(document, "")
        return {"schema_version": SCHEMA_VERSION, **document}

    def to_json(self) -> str:
        """:meth:`to_dict` as text, as metrics.json holds it."""
        return json.dumps(self.to_dict(), indent=1, allow_nan=False) + "\n"

    @classmethod
    def from_dict(cls, document: Any, source: str = "metrics.json") -> Summary:
        """The Summary a metrics.json holds; one line naming ``source`` and the problem otherwise."""
        if not isinstance(document, dict) or "schema_version" not in document:
            raise SchemaError(
                f"{source} has no schema_version: it was written by a release before the Summary "
                f"(schema {SCHEMA_VERSION}); build it again with this version"
            )
        version = document["schema_version"]
        if version != SCHEMA_VERSION:
            raise SchemaError(
                f"{source} has schema_version {version}, this version reads {SCHEMA_VERSION}; "
                "build it again with this version, or read it with the release that wrote it"
            )
        body = {k: v for k, v in document.items() if k != "schema_version"}
        try:
            return _adapter().validate_python(body)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            raise SchemaError(f"{source} does not hold a Summary: {where}: {first['msg']}") from None


def _check_finite(value: Any, where: str) -> None:
    """metrics.json is strict JSON: a NaN or infinity is a bug in a summary, named here."""
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(
            f"the Summary holds {value} at {where or 'the top'}; metrics.json has no place for it"
        )
    if isinstance(value, dict):
        for k, v in value.items():
            _check_finite(v, f"{where}.{k}" if where else str(k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            _check_finite(v, f"{where}[{i}]")


@cache
def _adapter() -> TypeAdapter[Summary]:
    return TypeAdapter(Summary)


def json_schema() -> dict[str, Any]:
    """metrics.json's JSON Schema (draft 2020-12): the Summary as it is written, with its version."""
    schema = _adapter().json_schema(mode="serialization")
    schema["properties"] = {
        "schema_version": {"const": SCHEMA_VERSION, "description": "The shape of this file."},
        **schema["properties"],
    }
    schema["required"] = ["schema_version", *schema.get("required", [])]
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "fmnist-report metrics.json",
        **{k: v for k, v in schema.items() if k not in ("title", "description")},
        "description": (
            "Every number of an fmnist-report build: the study's typed Summary, serialised. "
            "`fmnist-report schema` prints this schema."
        ),
    }
