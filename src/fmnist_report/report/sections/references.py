"""Appendix B, references: the published accuracies beside ours, and the citations."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from fmnist_report.report import bibliography, content
from fmnist_report.report.formatting import join_words, pct
from fmnist_report.report.sections.values import Rows
from fmnist_report.study.summary import Summary


def benchmark_text(
    ours: Sequence[Mapping[str, Any]], published: Sequence[Mapping[str, Any]], full: bool
) -> str:
    """Where our accuracies sit among the published ones (descriptive, not a test)."""
    if not ours or not published:
        return ""
    sentences = []
    for row in ours:
        acc = row["accuracy"]
        above = [p["name"] for p in published if acc > p["accuracy"]]
        below = [p["name"] for p in published if acc <= p["accuracy"]]
        if not below:
            where = "above every published figure listed"
        elif not above:
            where = "below every published figure listed"
        else:
            where = f"above {join_words(above)} and below {join_words(below)}"
        sentences.append(f"Our {row['name']} ({pct(acc)}) is {where}.")
    caveat = (
        " These are descriptive comparisons only: the published numbers come from other training "
        "set-ups and are not tested against ours."
    )
    if not full:
        caveat += " Ours are measured on a subset of the test set, which makes them noisier still."
    return " ".join(sentences) + caveat


def build(summary: Summary, rows: Rows, full: bool) -> dict[str, Any]:
    """Appendix B's values: the baseline's and the headline CNN's mean accuracy among the published ones."""
    roles = summary.roles
    ours = [
        {"name": rows[mid]["label"], "accuracy": rows[mid]["test_accuracy"]["mean"]}
        for mid in (roles.dense, roles.headline)
        if mid in rows
    ]
    published = [dict(p) for p in content.PUBLISHED]
    return {
        "published": published,
        "ours": ours,
        "text": benchmark_text(ours, published, full),
        "citations": [dict(c) for c in content.CITATIONS],
        "how_to_cite": bibliography.how_to_cite(),
    }
