"""Verdicts in words: each sentence is written from a comparison's numbers and its ``significant`` flag.

A comparison is the dict `study.summary.compare` returns (model B against model A over
their shared seeds). Whether B differs from A is decided there, once; this module only
words that decision and never reads it back from a sentence.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fmnist_report.report.formatting import points, pvalue
from fmnist_report.study.summary import ALPHA

Comparison = Mapping[str, Any]


def verdict(comparison: Comparison | None) -> str:
    """``higher`` or ``lower`` (model B against A) when the difference is significant, else ``none``."""
    if comparison is None or not comparison["significant"]:
        return "none"
    return "higher" if comparison["diff"]["mean"] > 0 else "lower"


def accuracies(comparison: Comparison) -> tuple[float, float]:
    """Mean test accuracy of A and of B over the seeds the comparison pairs."""
    tests = comparison["mcnemar"]
    return (
        sum(t["acc_a"] for t in tests) / len(tests),
        sum(t["acc_b"] for t in tests) / len(tests),
    )


def seeds_p_text(worst_p: float, n_seeds: int) -> str:
    """McNemar's p over a comparison's seeds, from the largest of them."""
    if n_seeds == 1:
        return f"McNemar {pvalue(worst_p)}"
    if worst_p < 0.001:
        return f"McNemar p < 0.001 on each of {n_seeds} seeds"
    return f"largest McNemar {pvalue(worst_p)} across {n_seeds} seeds"


def each_p_text(worst_p: float) -> str:
    """McNemar's p of several tests at once (one per direction, say), from the largest."""
    return "McNemar p < 0.001 in each" if worst_p < 0.001 else f"largest McNemar {pvalue(worst_p)}"


#: What each family of comparisons covers, as the statistics paragraph names it.
FAMILY_WORDS = {
    "architecture": "Dense against the CNN",
    "kernels": "every pair of kernel sizes",
    "locality": "each network against its permuted-pixel twin, and the two twins against each other",
    "shift": "the four shift directions at the largest shift",
}


def holm_text(comparison: Comparison) -> str:
    """The Holm-adjusted p of a comparison and how many its family holds; '' for a family of one."""
    size = comparison.get("family_size", 1)
    if size <= 1:
        return ""
    return f"Holm-adjusted {pvalue(comparison['p_adjusted'])} over {size} comparisons"


def lost_significance(comparison: Comparison) -> bool:
    """Whether the comparison was significant only before Holm's correction (in a family of several)."""
    return (
        comparison.get("family_size", 1) > 1
        and bool(comparison.get("significant_uncorrected"))
        and not comparison["significant"]
    )


def comparison_sentence(comparison: Comparison) -> str:
    """Word the comparison of model B against model A, claiming no more than its verdict allows.

    Rules:
        - Differences are printed in percentage points with one decimal (fraction x 100).
        - "B is higher/lower than A by X" only when the comparison is ``significant`` (the verdict
          after Holm's correction within its family); X is the magnitude and the interval is
          that of the magnitude.
        - Otherwise "no significant difference between A and B: X" with the signed mean of b - a;
          where only the correction withholds the claim, the sentence says so.
        - With one seed there is no interval: the text says "(1 seed, no interval)".
        - p-values as :func:`seeds_p_text` words them, then the Holm-adjusted p (:func:`holm_text`)
          where the family holds more than one comparison.
    """
    diff, tests = comparison["diff"], comparison["mcnemar"]
    if len(tests) != diff["n"]:
        raise ValueError(
            f"need one McNemar test per seed: diff covers {diff['n']} seeds but {len(tests)} tests were given"
        )
    name_a, name_b = comparison["label_a"], comparison["label_b"]
    p_text = ", ".join(filter(None, (seeds_p_text(comparison["worst_p"], len(tests)), holm_text(comparison))))
    significant, higher = comparison["significant"], diff["mean"] > 0
    low, high = (
        (diff["ci_low"], diff["ci_high"])
        if higher or not significant
        else (-diff["ci_high"], -diff["ci_low"])
    )
    level = f"{diff['confidence'] * 100:g}% CI"
    interval = f"({level} {points(low)} to {points(high)})" if diff["has_ci"] else "(1 seed, no interval)"
    if significant:
        word = "higher" if higher else "lower"
        return f"{name_b} is {word} than {name_a} by {points(abs(diff['mean']))} pp {interval}; {p_text}"
    if lost_significance(comparison):
        return (
            f"no significant difference between {name_a} and {name_b} after Holm's correction: "
            f"{points(diff['mean'])} pp {interval}, {p_text}; uncorrected, it would have passed at "
            f"alpha {ALPHA:g}"
        )
    return f"no significant difference between {name_a} and {name_b}: {points(diff['mean'])} pp {interval}, {p_text}"


def significance_text(comparison: Comparison | None) -> str:
    """The verdict on a comparison as a sentence of its own."""
    if comparison is None:
        return "There is no paired comparison: the two models share no seed."
    text = comparison_sentence(comparison)
    return text[0].upper() + text[1:] + "."


def multiplicity_text(families: Mapping[str, int], alpha: float) -> str:
    """How the report corrects for making several comparisons: Holm's method within each family.

    Args:
        families: the number of comparisons in each family the report tests, by family name.
    """
    tested = {name: n for name, n in families.items() if n > 0}
    if not tested:
        return "The report tests no pairwise comparison."
    listed = "; ".join(
        f"{FAMILY_WORDS.get(name, name)} ({n} {'comparison' if n == 1 else 'comparisons'})"
        for name, n in tested.items()
    )
    return (
        f"Each comparison is tested at alpha {alpha:g} with Holm's step-down correction within its "
        f"family, which keeps the chance of any false claim in a family at {alpha:g} or below. The "
        f"families are: {listed}. A difference counts as significant only when its Holm-adjusted "
        "McNemar p is below alpha, every seed's difference points the same way and, with several "
        "seeds, the 95% t-interval of the difference excludes zero. The raw p-values are shown beside "
        "the adjusted ones; the intervals themselves are not adjusted."
    )
