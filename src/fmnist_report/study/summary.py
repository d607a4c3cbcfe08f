"""The study's derived numbers, computed once from the records: :func:`summarize`.

:func:`summarize` runs after the study; the export, the figures, the report and metrics.json
read the :class:`~fmnist_report.study.summary_types.Summary` it returns, never a record, and
never recompute a number of it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from functools import cache
from typing import Any

import numpy as np
from pydantic import TypeAdapter, ValidationError

from fmnist_report import __version__
from fmnist_report.json_types import JSON
from fmnist_report.paths import printable_source
from fmnist_report.records import Record
from fmnist_report.study import design, stats
from fmnist_report.study.experiments import efficiency
from fmnist_report.study.results import DEFAULT_PLATFORM, StudyResults
from fmnist_report.study.summary_types import (
    ALPHA,
    EFFICIENCY,
    FAMILIES,
    NEAR_CHANCE_MARGIN,
    POWER,
    SEED_METRICS,
    SHIFT,
    Analyses,
    Built,
    Comparison,
    DataFacts,
    Deployment,
    Environment,
    Machine,
    McNemarTest,
    ModelRow,
    PowerFound,
    Provenance,
    Roles,
    ShiftTest,
    Summary,
    chance_accuracy,
    is_near_chance,
)

__all__ = [
    "ALPHA",
    "FAMILIES",
    "NEAR_CHANCE_MARGIN",
    "POWER",
    "SEED_METRICS",
    "Summary",
    "chance_accuracy",
    "compare",
    "correct",
    "holm_directions",
    "is_near_chance",
    "paired_comparison",
    "summarize",
    "with_build",
]


def model_summary(records: list[Record]) -> ModelRow:
    """Mean, std and 95% t-interval of each headline metric over a model's seeds, and its per-seed values."""
    first = records[0].metrics
    per_class = np.array([r.metrics["per_class"]["accuracy"] for r in records], dtype=float)
    seed_stats = {
        name: stats.summarize([r.metrics[name] for r in records]).to_dict() for name in SEED_METRICS
    }
    row: ModelRow = {
        "model_id": first["model_id"],
        "label": first["label"],
        "seeds": [int(r.metrics["spec"]["seed"]) for r in records],
        "params": int(first["params"]),
        "flops": int(first["flops"]),
        "test_accuracy": seed_stats["test_accuracy"],
        "test_loss": seed_stats["test_loss"],
        "train_seconds": seed_stats["train_seconds"],
        "latency_ms_batched": seed_stats["latency_ms_batched"],
        "latency_ms_single": seed_stats["latency_ms_single"],
        "per_class_accuracy": per_class.mean(axis=0).tolist(),
        "per_class": [stats.summarize(per_class[:, c].tolist()).to_dict() for c in range(per_class.shape[1])],
        # Decided once here; the console and the report only word it (`wording.near_chance_text`).
        "near_chance": is_near_chance(seed_stats["test_accuracy"]["mean"], per_class.shape[1]),
        "per_seed": {
            "test_accuracy": [float(r.metrics["test_accuracy"]) for r in records],
            "train_seconds": [float(r.metrics["train_seconds"]) for r in records],
            "per_class_accuracy": per_class.tolist(),
        },
        "confusion": np.sum([np.asarray(r.arrays["confusion"]) for r in records], axis=0)
        .astype(int)
        .tolist(),
        "precision": [str(r.metrics["spec"]["precision"]) for r in records],
    }
    if first["spec"].get("variant") is not None:  # a declared variant: what it changes
        row["overrides"] = {k: list(v) if isinstance(v, tuple) else v for k, v in first["spec"]["overrides"]}
    return row


def correct(record: Record, y_true: np.ndarray) -> np.ndarray:
    """Which test images a run classified correctly."""
    return record.arrays["probabilities"].argmax(axis=1) == y_true


def compare(results: StudyResults, a_id: str, b_id: str) -> Comparison | None:
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
) -> Comparison:
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


def _power(diff: stats.Summary, significant: bool, family_size: int) -> PowerFound | None:
    """What a comparison that found nothing could have found, at the strictest level Holm
    applies in its family (alpha over the family's size); None for a significant one, and where
    the spread is unknown (one seed) or zero."""
    if significant:
        return None
    found = stats.power_of(diff, ALPHA / family_size, POWER)
    return found.to_dict() if found else None


def holm_family(family: str, comparisons: list[Comparison]) -> list[Comparison]:
    """The comparisons of one family with Holm-adjusted p-values and the corrected verdict.

    The adjusted p is never below the raw one, so the corrected verdict is the uncorrected one
    with the adjusted p also below ``ALPHA``.
    """
    adjusted = stats.holm([c["p_value"] for c in comparisons])
    out: list[Comparison] = []
    for c, p in zip(comparisons, adjusted, strict=True):
        significant = bool(c["significant_uncorrected"] and p < ALPHA)
        diff = stats.Summary(**c["diff"])
        corrected = c.copy()
        corrected["family"] = family
        corrected["family_size"] = len(comparisons)
        corrected["p_adjusted"] = p
        corrected["significant"] = significant
        corrected["power"] = _power(diff, significant, len(comparisons))
        out.append(corrected)
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


def corrected_comparisons(results: StudyResults, roles: Roles) -> dict[str, Comparison]:
    """Every comparison the report makes, keyed ``"a__vs__b"``, Holm-corrected within its family."""
    families: dict[str, dict[str, Comparison]] = {}
    for family, a, b in comparison_pairs(roles):
        found = compare(results, a, b)
        if found is not None:
            families.setdefault(family, {})[f"{a}__vs__{b}"] = found
    comparisons: dict[str, Comparison] = {}
    for family, members in families.items():
        comparisons.update(zip(members, holm_family(family, list(members.values())), strict=True))
    return comparisons


def holm_directions(tests: Mapping[str, McNemarTest]) -> dict[str, ShiftTest]:
    """The shift experiment's McNemar test per direction, with Holm-adjusted p over the directions."""
    adjusted = stats.holm([t["p_value"] for t in tests.values()])
    return {d: {**t, "p_adjusted": p} for (d, t), p in zip(tests.items(), adjusted, strict=True)}


def analyses(results: StudyResults, models: Mapping[str, ModelRow]) -> Analyses:
    """Each interpretation experiment's record, read as its type in `Analyses`: the shift tests
    Holm-corrected over the directions, the efficiency rows taken from the models' rows. A new
    experiment needs its type there, and nothing here; a record that does not fit its type is
    one line naming the record and the first field that does not fit."""
    found: JSON = {kind: record.metrics for kind, record in results.analyses.items()}
    untyped = sorted(set(found) - _ANALYSIS_KEYS)
    if untyped:
        raise ValueError(f"the {untyped[0]} record has no type in summary_types.Analyses; give it one")
    if "max_shift_mcnemar" in found.get(SHIFT, {}):
        tests = found[SHIFT]["max_shift_mcnemar"]
        found[SHIFT] = {**found[SHIFT], "max_shift_mcnemar": holm_directions(tests)}
    if EFFICIENCY in found:
        # The accuracy-against-cost rows come from the models' rows, never from the record.
        rows = efficiency.model_rows([models[m] for m in efficiency.builtin_ids(models)])
        found[EFFICIENCY] = {**found[EFFICIENCY], "models": rows}
    try:
        return _analyses_adapter().validate_python(found)
    except ValidationError as exc:
        first = exc.errors()[0]
        kind, *where = (str(p) for p in first["loc"])
        raise ValueError(
            f"the {kind} record {results.analyses[kind].key} does not hold its measurements: "
            f"{'.'.join(where)}: {first['msg']}"
        ) from None


_ANALYSIS_KEYS = Analyses.__required_keys__ | Analyses.__optional_keys__


@cache
def _analyses_adapter() -> TypeAdapter[Analyses]:
    return TypeAdapter(Analyses)


def summarize(results: StudyResults) -> Summary:
    """Every derived number of the study, once."""
    roles = results.roles()
    comparisons = corrected_comparisons(results, roles)
    models = {m: model_summary(records) for m, records in results.runs.items()}
    pictures = {kind: dict(record.arrays) for kind, record in results.analyses.items() if record.arrays}
    if results.eda is not None:
        pictures["eda"] = dict(results.eda.arrays)
    return Summary(
        study=results.config.study,
        data=data_facts(results),
        provenance=provenance(results),
        roles=roles,
        models=models,
        comparisons=comparisons,
        layers={m: records[0].metrics["layers"] for m, records in results.runs.items()},
        analyses=analyses(results, models),
        curves={m: histories(records) for m, records in results.runs.items()},
        pictures=pictures,
    )


def data_facts(results: StudyResults) -> DataFacts:
    """What the runs were trained and tested on, and the exploration's measurements."""
    data = results.data
    eda = dict(results.eda.metrics) if results.eda is not None else None
    if eda is not None and "source" in eda:  # the report and metrics.json name no folder of this machine
        eda["source"] = printable_source(eda["source"])
    if eda is not None and results.eda is not None:  # what the pictures hold, that the captions say
        arrays = results.eda.arrays
        if "sample_images" in arrays:
            eda["samples_per_class"] = int(arrays["sample_images"].shape[1])
        if "pixel_histogram" in arrays:
            eda["pixel_count"] = int(np.asarray(arrays["pixel_histogram"]).sum())
    first = next((records[0].metrics for records in results.runs.values()), {})
    return DataFacts(
        class_names=tuple(eda["class_names"] if eda and "class_names" in eda else data.class_names),
        n_train=len(data.y_train),
        n_test=len(data.y_test),
        n_fit=int(first.get("n_train", 0)),
        n_val=int(first.get("n_val", 0)),
        subset=data.subset,
        image_side=int(data.x_test.shape[1]),
        source=printable_source(data.source),
        fingerprint=data.fingerprint,
        checksums=dict(sorted(data.checksums.items())),
        eda=eda,
    )


def provenance(results: StudyResults) -> Provenance:
    """Where the runs trained, on which machines, in which precisions."""
    runs = [r for records in results.runs.values() for r in records]

    def named(key: str) -> tuple[str, ...]:
        found = {
            str(r.metrics.get("platform", {}).get(key) or r.metrics["spec"].get(key) or DEFAULT_PLATFORM[key])
            for r in runs
        }
        return tuple(sorted(found))

    machines: tuple[Machine, ...] = tuple(
        {"machine": machine, "runs": n} for machine, n in results.machines()
    )
    return Provenance(
        platform=results.platform(),
        backends=named("backend"),
        devices=named("device"),
        precisions=tuple(sorted({str(r.metrics["spec"]["precision"]) for r in runs})),
        machines=machines,
        fmnist_report=__version__,
    )


def histories(records: list[Record]) -> dict[str, list[list[float]]]:
    """Each history entry of a model's runs, one list of per-epoch values per seed."""
    keys = records[0].metrics["history"]
    return {k: [list(r.metrics["history"].get(k, [])) for r in records] for k in keys}


def with_build(
    summary: Summary,
    *,
    environment: Mapping[str, Any],
    model_dir: str,
    export: Mapping[str, Any] | None,
    predictions: Sequence[Mapping[str, Any]],
) -> Summary:
    """The Summary with what the build added: the machine it ran on, the export and its predictions.

    Args:
        environment: `report.environment.environment_info()`.
        model_dir: the export's folder as the report prints it.
        export: the export's metadata, or None where nothing was exported.
        predictions: `serving.publish.sample_predictions`: ``index``, ``true``, ``png`` and ``top``
            ((class, probability) pairs); the thumbnails go to the pictures.
    """
    built = Built(
        environment=Environment(
            versions=dict(environment.get("versions", {})),
            platform=str(environment.get("platform", "")),
            cpu=str(environment.get("cpu", "")),
            logical_cpus=int(environment.get("logical_cpus", 0)),
            threads=dict(environment.get("threads", {})),
            isa_cap=environment.get("isa_cap"),
            machine=environment.get("machine"),
        ),
        deployment=Deployment(
            model_dir=model_dir,
            export=_export(export),
            predictions=tuple(
                {
                    "index": int(p["index"]),
                    "true": str(p["true"]),
                    "top": [{"name": str(n), "probability": float(prob)} for n, prob in p["top"]],
                }
                for p in predictions
            ),
        ),
    )
    thumbnails = {str(int(p["index"])): p["png"] for p in predictions}
    return replace(summary, built=built, pictures={**summary.pictures, "predictions": thumbnails})


def _export(metadata: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The export's metadata with its files as a list of ``path``, ``bytes``, ``sha256``: a file
    name is a value of metrics.json, never a key (``model.tar.gz`` is no path of keys)."""
    if metadata is None:
        return None
    files = metadata.get("artifacts", {})
    return {**metadata, "artifacts": [{"path": k, **files[k]} for k in sorted(files)]}
