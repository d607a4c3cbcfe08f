"""Appendix B, references: the published accuracies beside ours, and the citations."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypedDict

from fmnist_report.report import bibliography, content
from fmnist_report.report.content import Benchmark, Citation
from fmnist_report.report.formatting import join_words, pct
from fmnist_report.report.sections.values import Rows
from fmnist_report.study.summary_types import Summary


class ReferencesValues(TypedDict):
    """Appendix B's values: the published accuracies, ours beside them, and the citations."""

    published: list[Benchmark]
    ours: list[Benchmark]
    text: str
    citations: list[Citation]
    how_to_cite: str


def benchmark_text(ours: Sequence[Benchmark], published: Sequence[Benchmark], full: bool) -> str:
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


def build(summary: Summary, rows: Rows, full: bool) -> ReferencesValues:
    """Appendix B's values: the baseline's and the headline CNN's mean accuracy among the published ones."""
    roles = summary.roles
    ours: list[Benchmark] = [
        {"name": rows[mid]["label"], "accuracy": rows[mid]["test_accuracy"]["mean"]}
        for mid in (roles.dense, roles.headline)
        if mid is not None and mid in rows
    ]
    published = [p.copy() for p in content.PUBLISHED]
    return {
        "published": published,
        "ours": ours,
        "text": benchmark_text(ours, published, full),
        "citations": [c.copy() for c in content.CITATIONS],
        "how_to_cite": bibliography.how_to_cite(),
    }
