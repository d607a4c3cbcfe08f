"""Section 5, calibration: how far each model's confidence matches its accuracy, and over how many seeds."""

from __future__ import annotations

from collections.abc import Sequence

from fmnist_report.report.formatting import pct, span
from fmnist_report.report.sections.roles import Found
from fmnist_report.report.sections.types import ClaimTable
from fmnist_report.study.summary_types import CALIBRATION, CalibrationAnalysis, Summary


def applies(summary: Summary) -> bool:
    """The evidence ran: the calibration experiment binned the models' confidences."""
    return CALIBRATION in summary.analyses


def build(summary: Summary) -> Found:
    """The calibration paragraph, for the baseline and the CNN where measured (else the first
    two models), and the table of every model."""
    measured = summary.analyses[CALIBRATION]
    roles = summary.roles
    wanted = [m for m in (roles.dense, roles.headline) if m is not None and m in measured["models"]]
    ids = wanted or measured["models"][:2]
    return [calibration_text(metrics=measured, ids=ids)], [calibration_table(metrics=measured)]


def calibration_text(metrics: CalibrationAnalysis, ids: Sequence[str]) -> str:
    """ECE of each model, over- or under-confidence, and whether the order holds on every seed."""
    labels, ece = metrics["labels"], metrics["ece"]
    parts = []
    for m in ids:
        conf = sum(metrics["mean_confidence"][m]) / len(metrics["mean_confidence"][m])
        acc = sum(metrics["accuracy"][m]) / len(metrics["accuracy"][m])
        gap = conf - acc
        lean = (
            "overconfident"
            if gap > 0
            else "underconfident"
            if gap < 0
            else "neither over- nor underconfident"
        )
        spread = ""
        if len(ece[m]["per_seed"]) > 1:
            spread = (
                f", {span(ece[m]['per_seed'], lambda x: f'{x:.3f}')} over {len(ece[m]['per_seed'])} seeds"
            )
        parts.append(
            f"{labels[m]} ECE {ece[m]['summary']['mean']:.3f}{spread} (mean confidence {pct(conf, 1)} against accuracy "
            f"{pct(acc, 1)}: {lean} by {abs(gap) * 100:.1f} pp)"
        )
    text = (
        f"Expected calibration error ({metrics['binning']}; the count-weighted mean gap between accuracy and "
        f"confidence): {'; '.join(parts)}."
    )
    if len(ids) == 2:
        a, b = ids
        pairs = list(zip(ece[a]["per_seed"], ece[b]["per_seed"], strict=False))
        if all(round(x, 3) == round(y, 3) for x, y in pairs):
            text += " The two are equal to three decimals."
        elif len(pairs) == 1:
            lower = labels[b] if pairs[0][1] < pairs[0][0] else labels[a]
            text += (
                f" {lower} has the lower ECE in this single run; with one seed there is no way to tell "
                "whether that order would hold on another."
            )
        elif all(y < x for x, y in pairs):
            text += f" {labels[b]} has the lower ECE on every one of {len(pairs)} seeds."
        elif all(x < y for x, y in pairs):
            text += f" {labels[a]} has the lower ECE on every one of {len(pairs)} seeds."
        else:
            text += (
                " Which model has the lower ECE changes from seed to seed, so neither is better calibrated."
            )
    return text


def calibration_table(metrics: CalibrationAnalysis) -> ClaimTable:
    """ECE, mean confidence and accuracy per model (means over seeds)."""
    rows = []
    for m in metrics["models"]:
        n = len(metrics["ece"][m]["per_seed"])
        rows.append(
            [
                metrics["labels"][m],
                f"{metrics['ece'][m]['summary']['mean']:.3f}",
                pct(sum(metrics["mean_confidence"][m]) / n, 1),
                pct(sum(metrics["accuracy"][m]) / n, 1),
                str(n),
            ]
        )
    return {
        "caption": f"Expected calibration error ({metrics['binning']}), mean over seeds.",
        "columns": ["Model", "ECE", "Mean confidence", "Accuracy", "Seeds"],
        "rows": rows,
    }
