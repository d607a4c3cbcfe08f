"""What several claims of section 5 read from the Summary by role: the locality comparisons and
the efficiency rows, found the same way for every claim that quotes them."""

from __future__ import annotations

from dataclasses import dataclass

from fmnist_report.report.sections.types import ClaimTable
from fmnist_report.study.summary_types import EFFICIENCY, Comparison, EfficiencyRow, Summary

#: A claim's paragraphs and tables.
Found = tuple[list[str], list[ClaimTable]]


@dataclass(frozen=True)
class Pairs:
    """The four comparisons locality rests on; None where a model of the pair did not run.

    Attributes:
        dense: the dense baseline against its permuted-pixel twin; ``cnn`` the CNN against its twin.
        head_to_head: the baseline against the CNN on the original pixels.
        after: the two twins against each other, on permuted pixels.
        cnn_twin: the CNN's permuted-pixel twin, None where it did not run.
    """

    dense: Comparison | None
    cnn: Comparison | None
    head_to_head: Comparison | None
    after: Comparison | None
    cnn_twin: str | None


def pairs(summary: Summary) -> Pairs:
    """The locality comparisons of ``summary``, by the roles its models play."""
    roles = summary.roles
    dense_twin = roles.twins.get(roles.dense) if roles.dense else None
    cnn_twin = roles.twins.get(roles.headline) if roles.headline else None
    return Pairs(
        dense=summary.comparison(roles.dense, dense_twin),
        cnn=summary.comparison(roles.headline, cnn_twin),
        head_to_head=summary.comparison(roles.dense, roles.headline),
        after=summary.comparison(dense_twin, cnn_twin),
        cnn_twin=cnn_twin,
    )


def efficiency_rows(summary: Summary) -> dict[str, EfficiencyRow]:
    """The efficiency experiment's row of each model it measured, by model id; none where it did not run."""
    eff = summary.analyses.get(EFFICIENCY)
    return {r["model_id"]: r for r in eff["models"]} if eff else {}
