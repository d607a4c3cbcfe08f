"""The study's derived numbers, computed once: per-model rows, comparisons, roles, layer tables.

:func:`summarize` runs after the study; export, figures and the report context read the
:class:`Summary` it returns and never recompute a number of it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from fmnist_report.records import Record
from fmnist_report.study import design, stats
from fmnist_report.study.experiments import efficiency, shift
from fmnist_report.study.results import Roles, StudyResults

#: Per-run metrics summarised over seeds.
SEED_METRICS = ("test_accuracy", "test_loss", "train_seconds", "latency_ms_batched", "latency_ms_single")
#: Significance level of every family of pairwise comparisons (Holm's correction within each).
ALPHA = 0.05
#: The power a non-significant comparison's detectable difference is stated at.
POWER = 0.8
#: The families of comparisons, each corrected with Holm's method (`design.FAMILIES`); the
#: four shift directions of the translation experiment are a family inside its analysis.
FAMILIES = tuple(f.name for f in design.FAMILIES)
#: How far above chance (1 / classes) a model's mean test accuracy must reach to count as having
#: learned: 15 points, so below 25% on Fashion-MNIST's 10 classes. The study's models clear it by
#: far even at the quick profile (73.7% to 74.6% after 2 epochs on the subset, docs/performance.md;
#: 88% to 92% on the full protocol), while a model that did not learn sits at 10% to 20%, predicting
#: one or two classes for most images. 15 points are some 15 standard errors of an accuracy near
#: chance on the quick profile's 1,000 test images: test-set noise alone does not carry a model
#: across the line in either direction.
NEAR_CHANCE_MARGIN = 0.15


def chance_accuracy(n_classes: int) -> float:
    """The accuracy of guessing: one over the number of classes."""
    return 1.0 / n_classes


def is_near_chance(accuracy: float, n_classes: int) -> bool:
    """Whether a mean test accuracy is within `NEAR_CHANCE_MARGIN` of chance: the model learned next to nothing."""
    return accuracy < chance_accuracy(n_classes) + NEAR_CHANCE_MARGIN


@dataclass(frozen=True)
class Summary:
    """Every derived number the report quotes.

    Attributes:
        models: :func:`model_summary` rows by model id, in the order the runs were planned.
        comparisons: :func:`compare` results keyed ``"a__vs__b"``, each with its family, its raw
            and Holm-adjusted p-values and a ``significant`` flag that is the corrected verdict.
        roles: which model plays which part (baseline, headline CNN, kernel arms, probe, twins).
        layers: each model's layer table (name, type, output shape, parameters).
        analyses: each interpretation experiment's measurements; the cost rows of
            ``efficiency`` are this summary's own model rows.
        curves: each model's per-epoch history (``loss``, ``val_accuracy``...), one list per seed.
    """

    models: dict[str, dict[str, Any]]
    comparisons: dict[str, dict[str, Any]]
    roles: Roles
    layers: dict[str, list[dict[str, Any]]]
    analyses: dict[str, dict[str, Any]]
    platform: str = ""
    curves: dict[str, dict[str, list[list[float]]]] = field(default_factory=dict)

    def row(self, model_id: str) -> dict[str, Any]:
        return self.models[model_id]

    def comparison(self, a: str | None, b: str | None) -> dict[str, Any] | None:
        """The comparison of ``a`` and ``b`` in either order, or None."""
        return self.comparisons.get(f"{a}__vs__{b}") or self.comparisons.get(f"{b}__vs__{a}")

    def families(self) -> dict[str, int]:
        """How many comparisons each family that was tested holds, in report order."""
        sizes = {f: sum(c["family"] == f for c in self.comparisons.values()) for f in FAMILIES}
        sizes[shift.KIND] = len(self.analyses.get(shift.KIND, {}).get("max_shift_mcnemar") or {})
        return {f: n for f, n in sizes.items() if n}

    def to_dict(self) -> dict[str, Any]:
        """The machine-readable summary (``run --json``): per-model rows and the comparisons."""
        return {
            "platform": self.platform,
            "models": list(self.models.values()),
            "comparisons": self.comparisons,
        }


def model_summary(records: list[Record]) -> dict[str, Any]:
    """Mean, std and 95% t-interval of each headline metric over a model's seeds."""
    first = records[0].metrics
    row: dict[str, Any] = {
        "model_id": first["model_id"],
        "label": first["label"],
        "seeds": [r.metrics["spec"]["seed"] for r in records],
        "params": first["params"],
        "flops": first["flops"],
    }
    for name in SEED_METRICS:
        row[name] = stats.summarize([r.metrics[name] for r in records]).to_dict()
    per_class = np.array([r.metrics["per_class"]["accuracy"] for r in records])
    row["per_class_accuracy"] = per_class.mean(axis=0).tolist()
    # Decided once here; the console and the report only word it (`wording.near_chance_text`).
    row["near_chance"] = is_near_chance(row["test_accuracy"]["mean"], per_class.shape[1])
    if first["spec"].get("variant") is not None:  # a declared variant: what it changes
        row["overrides"] = {k: v for k, v in first["spec"]["overrides"]}
    return row


def correct(record: Record, y_true: np.ndarray) -> np.ndarray:
    """Which test images a run classified correctly."""
    return record.arrays["probabilities"].argmax(axis=1) == y_true


def compare(results: StudyResults, a_id: str, b_id: str) -> dict[str, Any] | None:
    """B against A on the seeds both have: paired difference, McNemar per seed, verdict."""
    if a_id not in results.runs or b_id not in results.runs:
        return None
    a_by_seed = {r.metrics["spec"]["seed"]: r for r in results.runs[a_id]}
    b_by_seed = {r.metrics["spec"]["seed"]: r for r in results.runs[b_id]}
    seeds = sorted(set(a_by_seed) & set(b_by_seed))
    if not seeds:
        return None
    y = results.data.y_test
    a_acc = [a_by_seed[s].metrics["test_accuracy"] for s in seeds]
    b_acc = [b_by_seed[s].metrics["test_accuracy"] for s in seeds]
    diff = stats.paired_difference(a_acc, b_acc)
    tests = stats.mcnemar_per_seed((correct(a_by_seed[s], y), correct(b_by_seed[s], y)) for s in seeds)
    labels = (a_by_seed[seeds[0]].metrics["label"], b_by_seed[seeds[0]].metrics["label"])
    return paired_comparison((a_id, b_id), labels, seeds, diff, tests)


def paired_comparison(
    ids: tuple[str, str],
    labels: tuple[str, str],
    seeds: list[int],
    diff: stats.Summary,
    tests: list[stats.McNemar],
) -> dict[str, Any]:
    """The comparison of B against A as plain values, with the verdict decided once (``significant``).

    The verdict is the paired t-test over seeds where there are several, McNemar's test where
    there is one (`stats.decision_p`); McNemar per seed is kept as the evidence about the
    sampling of the test set (``mcnemar``, ``mcnemar_significant``).

    Args:
        ids: the model ids of A and B; ``labels`` their names in the report.
        diff: the per-seed differences ``b - a`` (`stats.paired_difference`).
        tests: one McNemar test per seed, in seed order.
    """
    p, test = stats.decision_p(diff, tests)
    significant = stats.is_significant(diff, tests, alpha=ALPHA)
    return {
        "a": ids[0],
        "b": ids[1],
        "label_a": labels[0],
        "label_b": labels[1],
        "seeds": seeds,
        "diff": diff.to_dict(),
        "mcnemar": [t.to_dict() for t in tests],
        "worst_p": stats.worst_p(tests),
        "mcnemar_significant": sum(t.p_value < ALPHA for t in tests),
        "test": test,
        "p_value": p,
        # A comparison on its own is a family of one, where Holm changes nothing.
        "family": None,
        "family_size": 1,
        "p_adjusted": p,
        "significant_uncorrected": significant,
        "significant": significant,
        "power": _power(diff, significant, 1),
    }


def _power(diff: stats.Summary, significant: bool, family_size: int) -> dict[str, Any] | None:
    """What a comparison that found nothing could have found, at the strictest level Holm
    applies in its family (alpha over the family's size); None for a significant one, and where
    the spread is unknown (one seed) or zero."""
    if significant:
        return None
    found = stats.power_of(diff, ALPHA / family_size, POWER)
    return found.to_dict() if found else None


def holm_family(family: str, comparisons: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The comparisons of one family with Holm-adjusted p-values and the corrected verdict.

    The adjusted p is never below the raw one, so the corrected verdict is the uncorrected one
    with the adjusted p also below ``ALPHA``.
    """
    adjusted = stats.holm([c["p_value"] for c in comparisons])
    out = []
    for c, p in zip(comparisons, adjusted, strict=True):
        significant = bool(c["significant_uncorrected"] and p < ALPHA)
        diff = stats.Summary(**c["diff"])
        out.append(
            {
                **c,
                "family": family,
                "family_size": len(comparisons),
                "p_adjusted": p,
                "significant": significant,
                "power": _power(diff, significant, len(comparisons)),
            }
        )
    return out


def comparison_pairs(roles: Roles) -> list[tuple[str, str, str]]:
    """``(family, a, b)`` for every comparison the declared families make, each pair once."""
    seen: set[tuple[str, str]] = set()
    out = []
    for family in design.FAMILIES:
        for a, b in family.pairs(roles):
            if a is not None and b is not None and a != b and (a, b) not in seen:
                seen.add((a, b))
                out.append((family.name, a, b))
    return out


def corrected_comparisons(results: StudyResults, roles: Roles) -> dict[str, dict[str, Any]]:
    """Every comparison the report makes, keyed ``"a__vs__b"``, Holm-corrected within its family."""
    families: dict[str, dict[str, dict[str, Any]]] = {}
    for family, a, b in comparison_pairs(roles):
        found = compare(results, a, b)
        if found is not None:
            families.setdefault(family, {})[f"{a}__vs__{b}"] = found
    comparisons = {}
    for family, members in families.items():
        comparisons.update(zip(members, holm_family(family, list(members.values())), strict=True))
    return comparisons


def holm_directions(tests: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The shift experiment's McNemar test per direction, with Holm-adjusted p over the directions."""
    adjusted = stats.holm([t["p_value"] for t in tests.values()])
    return {d: {**t, "p_adjusted": p} for (d, t), p in zip(tests.items(), adjusted, strict=True)}


def summarize(results: StudyResults) -> Summary:
    """Every derived number of the study, once."""
    roles = results.roles()
    comparisons = corrected_comparisons(results, roles)
    models = {m: model_summary(records) for m, records in results.runs.items()}
    analyses = {kind: dict(record.metrics) for kind, record in results.analyses.items()}
    if analyses.get(shift.KIND, {}).get("max_shift_mcnemar"):
        moved = analyses[shift.KIND]
        analyses[shift.KIND] = {**moved, "max_shift_mcnemar": holm_directions(moved["max_shift_mcnemar"])}
    if efficiency.KIND in analyses:
        measured = {k: v for k, v in analyses[efficiency.KIND].items() if k != "models"}
        studied = efficiency.builtin_ids(models)
        analyses[efficiency.KIND] = {
            "models": efficiency.model_rows([models[m] for m in studied]),
            **measured,
        }
    return Summary(
        models=models,
        comparisons=comparisons,
        roles=roles,
        layers={m: records[0].metrics["layers"] for m, records in results.runs.items()},
        analyses=analyses,
        platform=results.platform(),
        curves={m: histories(records) for m, records in results.runs.items()},
    )


def histories(records: list[Record]) -> dict[str, list[list[float]]]:
    """Each history entry of a model's runs, one list of per-epoch values per seed."""
    keys = records[0].metrics["history"]
    return {k: [list(r.metrics["history"].get(k, [])) for r in records] for k in keys}
