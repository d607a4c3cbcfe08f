"""Appendix A, statistical methods: the families of comparisons and Holm's correction within each."""

from __future__ import annotations

from typing import TypedDict

from fmnist_report.report import wording
from fmnist_report.study.summary_types import ALPHA, POWER, Summary


class Family(TypedDict):
    """A family of comparisons: its name, what it covers in words, and how many comparisons it made."""

    name: str
    covers: str
    size: int


class StatisticsValues(TypedDict):
    """The statistical methods' values: the level, the families, and the paragraphs that state the rules."""

    alpha: float
    families: list[Family]
    text: str
    rule: str
    power: str


def build(summary: Summary) -> StatisticsValues:
    """The families the report tests, their sizes, and the paragraph that states the correction."""
    families = summary.families()
    return {
        "alpha": ALPHA,
        "families": [
            {"name": name, "covers": wording.FAMILY_WORDS.get(name, name), "size": size}
            for name, size in families.items()
        ],
        "text": wording.multiplicity_text(families, ALPHA),
        "rule": wording.verdict_rule_text(ALPHA),
        "power": wording.power_rule_text(ALPHA, POWER),
    }
