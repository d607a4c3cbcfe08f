"""Appendix A, statistical methods: the families of comparisons and Holm's correction within each."""

from __future__ import annotations

from typing import Any

from fmnist_report.report import wording
from fmnist_report.study.summary import ALPHA, POWER, Summary


def build(summary: Summary) -> dict[str, Any]:
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
