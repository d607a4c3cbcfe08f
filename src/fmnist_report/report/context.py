"""The report context: results, summary, figures and export turned into the plain values templates need.

Everything the report prints comes from the dict :func:`build_context` returns, and
`metrics.metrics_flat` turns the same dict into the rows of ``metrics.json``/``metrics.csv``,
so a number in the report and its machine-readable twin cannot disagree. Each part of the
report is built by its own module in `report.sections`; this module places the figures and
assembles the parts in report order.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from fmnist_report.report import content
from fmnist_report.report.notes import DISCUSSION, attribution
from fmnist_report.report.sections import (
    cnn,
    dense,
    deployment,
    family,
    interpretation,
    kernels,
    references,
    reproducibility,
    statistics,
)
from fmnist_report.report.sections import data as data_part
from fmnist_report.report.sections import summary as summary_part
from fmnist_report.report.sections.values import data_uri, model_rows
from fmnist_report.study.results import StudyResults
from fmnist_report.study.summary import Summary

#: The heading of the author's discussion.
DISCUSSION_TITLE = "Discussion"


class FigureLike(Protocol):
    """What the context needs of a figure: a name, a caption and the section it belongs to."""

    name: str
    caption: str
    section: str


def place_figures(
    specs: Sequence[FigureLike], pngs: Mapping[str, bytes]
) -> tuple[dict[str, list[dict[str, str]]], dict[str, dict[str, str]]]:
    """Each figure as template values, grouped by section and by name; a figure without a PNG fails."""
    by_section: dict[str, list[dict[str, str]]] = {}
    by_name: dict[str, dict[str, str]] = {}
    for spec in specs:
        if spec.name not in pngs:
            raise ValueError(
                f"figure {spec.name!r} has no PNG; render every figure before building the context"
            )
        fig = {
            "name": spec.name,
            "caption": spec.caption,
            "src": data_uri(pngs[spec.name]),
            "section": spec.section,
        }
        by_section.setdefault(spec.section, []).append(fig)
        by_name[spec.name] = fig
    return by_section, by_name


def build_context(
    results: StudyResults,
    summary: Summary,
    *,
    figures: Sequence[FigureLike],
    pngs: Mapping[str, bytes],
    export: Mapping[str, Any] | None,
    predictions: Sequence[Mapping[str, Any]],
    evidence: Sequence[Mapping[str, Any]],
    environment: Mapping[str, Any],
    notes: Mapping[str, Sequence[Mapping[str, Any]]] | None = None,
) -> dict[str, Any]:
    """Every value the templates lay out.

    Args:
        summary: the study's `Summary`.
        figures: the figure specs in report order; ``pngs`` their PNG bytes by name.
        export: the metadata `export.export_model` returned, or None when nothing was exported.
        predictions: one item per sample image: ``index``, ``true`` (class name), ``png``
            (bytes) and ``top`` ((class name, probability) pairs, most likely first).
        evidence: `sections.interpretation.evidence(results, summary, drawn)`.
        environment: ``versions`` (name -> version), ``platform``, ``cpu``, ``logical_cpus``, ``threads``.
        notes: the author's notes by place (`report.notes.build`); none by default.
    """
    rows = model_rows(summary)
    by_section, by_name = place_figures(figures, pngs)
    data = data_part.build(results, summary, by_section.get("eda", []))
    kernel_study = kernels.build(results, summary, rows, by_section.get("kernels", []))
    variants = family.build(
        summary, rows, "variants", list(results.data.class_names), by_section.get("variants", [])
    )
    numbered = content.sections(["variants"] if variants else [])
    report = results.config.report
    notes = dict(notes or {})
    toc = [{"id": i, "number": n, "title": t} for i, n, t in numbered]
    if DISCUSSION in notes:  # the author's discussion comes before the appendices
        first_appendix = next(k for k, (_, n, _) in enumerate(numbered) if not n.isdigit())
        toc.insert(first_appendix, {"id": DISCUSSION, "number": "", "title": DISCUSSION_TITLE})
    return {
        "meta": {
            "title": report.title,
            "author": report.author,
            "course": report.course,
            "date": report.display_date,
            "profile": results.config.study.profile,
            "attribution": attribution(notes, report.author),
        },
        "toc": toc,
        "notes": notes,
        "sections": {i: {"number": n, "title": t} for i, n, t in numbered},
        "summary": summary_part.build(results, summary, rows, data, kernel_study),
        "data": data,
        "dense": dense.build(results, summary, rows, by_section.get("dense", [])),
        "cnn": cnn.build(
            results, summary, rows, by_section.get("cnn", []), [c["test"] for c in data["classes"]]
        ),
        "kernels": kernel_study,
        "variants": variants,
        "interpretation": interpretation.build(evidence, by_section, by_name),
        "deployment": deployment.build(results, summary, rows, export, predictions),
        "reproducibility": reproducibility.build(results, rows, environment),
        "statistics": statistics.build(summary),
        "references": references.build(summary, rows, data["full"]),
        # The interpretation's raw measurements, which its prose and tables quote: for metrics.json.
        "analyses": summary.analyses,
        "figure_count": len(by_name),
    }
