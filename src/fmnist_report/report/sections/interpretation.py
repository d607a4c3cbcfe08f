"""Section 5, interpretation: each claim tied to this study's figures and tables, worded from the numbers.

:func:`evidence` reads the results and the Summary and asks each claim's module for its
paragraphs and tables; :func:`build` places the items and every figure no other section shows.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from fmnist_report.ids import ModelId
from fmnist_report.report import content
from fmnist_report.report.sections import (
    claim_calibration,
    claim_errors,
    claim_hierarchy,
    claim_locality,
    claim_not_appropriate,
    claim_translation,
    claim_weight_sharing,
)
from fmnist_report.study.experiments import calibration, efficiency, filters, mistakes, shift
from fmnist_report.study.results import StudyResults
from fmnist_report.study.summary import Summary

#: A claim's paragraphs and tables.
Found = tuple[list[str], list[dict[str, Any]]]


def claims(results: StudyResults, summary: Summary) -> dict[str, Found]:
    """Paragraphs and tables of each claim whose evidence ran, by claim id."""
    roles, an = summary.roles, summary.analyses
    dense_twin, cnn_twin = roles.twins.get(roles.dense), roles.twins.get(roles.headline)
    dense_p = summary.comparison(roles.dense, dense_twin)
    cnn_p = summary.comparison(roles.headline, cnn_twin)
    head_to_head = summary.comparison(roles.dense, roles.headline)
    after = summary.comparison(dense_twin, cnn_twin)
    eff = an.get(efficiency.KIND)
    rows = {r["model_id"]: r for r in eff["models"]} if eff else {}
    labels = {m: r["label"] for m, r in rows.items()}
    found: dict[str, Found] = {}

    if dense_p or cnn_p:
        seed = results.seed(cnn_twin) if cnn_twin else None
        found["locality"] = (
            claim_locality.locality_text(dense_p, cnn_p, head_to_head, after, seed),
            [claim_locality.locality_table(dense_p, cnn_p)],
        )
    if eff is not None:
        sharing, split = eff["weight_sharing"], eff["param_split"]
        probe = roles.probe
        k = ModelId.parse(probe).kernel_size if probe else None
        found["weight-sharing"] = (
            claim_weight_sharing.weight_sharing_text(
                k,
                sharing.get(str(k)),
                split.get(probe),
                split.get(roles.dense),
                labels.get(probe, probe),
                head_to_head,
            ),
            claim_weight_sharing.weight_sharing_tables(sharing, split, labels),
        )
    if shift.KIND in an:
        sm = an[shift.KIND]
        found["translation"] = (
            [
                claim_translation.equivariance_text(sm["equivariance"]),
                claim_translation.shift_accuracy_text(sm),
            ],
            claim_translation.shift_tables(sm),
        )
    fm = an.get(filters.KIND)
    rf = eff["receptive_fields"] if eff else {}
    if fm or rf:
        found["hierarchy"] = (
            claim_hierarchy.hierarchy_text(rf, fm),
            claim_hierarchy.hierarchy_tables(rf, fm),
        )
    dense_row, cnn_row = rows.get(roles.dense), rows.get(roles.headline)
    if after is not None or (dense_row and cnn_row):
        found["not-appropriate"] = (
            claim_not_appropriate.not_appropriate_text(after, head_to_head, dense_row, cnn_row),
            [claim_not_appropriate.cost_table(list(rows.values()))] if rows else [],
        )
    if calibration.KIND in an:
        cm = an[calibration.KIND]
        ids = [m for m in (roles.dense, roles.headline) if m in cm["models"]] or cm["models"][:2]
        found["calibration"] = (
            [claim_calibration.calibration_text(cm, ids)],
            [claim_calibration.calibration_table(cm)],
        )
    if mistakes.KIND in an:
        mm = an[mistakes.KIND]
        found["errors"] = (claim_errors.errors_text(mm), claim_errors.errors_tables(mm))
    return found


def evidence(results: StudyResults, summary: Summary, drawn: Iterable[str]) -> list[dict[str, Any]]:
    """Section 5's items in reading order; an item whose evidence did not run is left out.

    Args:
        drawn: the names of the figures actually drawn; an item shows only those, each figure once.
    """
    available = set(drawn)
    found = claims(results, summary)
    shown: set[str] = set()
    items = []
    for claim in content.CLAIMS:
        if claim.id not in found:
            continue
        paragraphs, tables = found[claim.id]
        figures = [f for f in claim.figures if f in available]
        if not paragraphs and not figures:
            continue
        figures = [f for f in figures if f not in shown]
        shown.update(figures)
        items.append(
            {
                "id": claim.id,
                "claim": claim.name,
                "title": claim.title,
                "paragraphs": paragraphs,
                "figures": figures,
                "tables": tables,
            }
        )
    return items


def build(
    evidence: Sequence[Mapping[str, Any]],
    by_section: Mapping[str, list[dict[str, str]]],
    by_name: Mapping[str, dict[str, str]],
) -> dict[str, Any]:
    """Section 5's values: the evidence items with their figures, then every figure no section placed."""
    used: set[str] = set()
    items = []
    for item in evidence:
        missing = [n for n in item.get("figures", []) if n not in by_name]
        if missing:
            raise ValueError(
                f"interpretation item {item.get('id')!r} shows figure {missing[0]!r}, which no figure function made"
            )
        used.update(item.get("figures", []))
        items.append(
            {
                "id": item["id"],
                "claim": item["claim"],
                "title": item.get("title", ""),
                "paragraphs": list(item.get("paragraphs", [])),
                "figures": [by_name[n] for n in item.get("figures", [])],
                "tables": [
                    {
                        "caption": t["caption"],
                        "columns": list(t["columns"]),
                        "rows": [list(r) for r in t["rows"]],
                    }
                    for t in item.get("tables", [])
                ],
            }
        )
    # No figure is dropped: any the study's sections do not place and no item shows comes here.
    extra = [
        fig
        for section, figs in by_section.items()
        if section not in content.PLACED_SECTIONS
        for fig in figs
        if fig["name"] not in used
    ]
    return {"evidence": items, "extra_figures": extra}
