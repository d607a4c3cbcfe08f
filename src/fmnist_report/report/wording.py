"""Verdicts in words: each sentence is written from a comparison's numbers and its ``significant`` flag.

A comparison is the Summary's `Comparison` (model B against model A over their shared
seeds). Whether B differs from A is decided there, once; this module only
words that decision and never reads it back from a sentence.
"""

from __future__ import annotations

from collections.abc import Mapping

from fmnist_report.report.formatting import num, pct, points, pvalue
from fmnist_report.study.summary_types import (
    ALPHA,
    SHIFT_FAMILY,
    Comparison,
    ModelRow,
    chance_accuracy,
)
from fmnist_report.study.summary_types import FAMILY_WORDS as COMPARED_FAMILIES


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


def decision_p_text(comparison: Comparison) -> str:
    """The p-value the verdict rests on, and McNemar's per-seed evidence beside it.

    With several seeds: the paired t-test over seeds, then on how many seeds McNemar's test of the
    test-set predictions is below alpha. With one seed: McNemar's p, as before.
    """
    tests = comparison["mcnemar"]
    if comparison.get("test", "mcnemar") != "t":
        return seeds_p_text(comparison["worst_p"], len(tests))
    passed, n = comparison["mcnemar_significant"], len(tests)
    seeds = (
        f"all {n} seeds"
        if passed == n
        else f"none of the {n} seeds"
        if passed == 0
        else f"{passed} of {n} seeds"
    )
    return f"paired t-test over {n} seeds {pvalue(comparison['p_value'])}; McNemar p < {ALPHA:g} on {seeds}"


#: What each family of comparisons covers, as the statistics paragraph names it.
FAMILY_WORDS = {
    **COMPARED_FAMILIES,
    SHIFT_FAMILY: "the four shift directions at the largest shift",
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
        - Where only Holm's correction withholds the claim (the interval excludes zero), the
          sentence says that B differs before the correction and not after it.
        - Otherwise "no significant difference between A and B: X" with the signed mean of b - a;
          with several seeds its interval then contains zero.
        - With one seed there is no interval: the text says "(1 seed, no interval)".
        - The p-value the verdict rests on (:func:`decision_p_text`), then the Holm-adjusted p
          (:func:`holm_text`) where the family holds more than one comparison.
    """
    diff, tests = comparison["diff"], comparison["mcnemar"]
    if len(tests) != diff["n"]:
        raise ValueError(
            f"need one McNemar test per seed: diff covers {diff['n']} seeds but {len(tests)} tests were given"
        )
    name_a, name_b = comparison["label_a"], comparison["label_b"]
    p_text = ", ".join(filter(None, (decision_p_text(comparison), holm_text(comparison))))
    significant, higher = comparison["significant"], diff["mean"] > 0
    flipped = not higher and (significant or lost_significance(comparison))
    low, high = (-diff["ci_high"], -diff["ci_low"]) if flipped else (diff["ci_low"], diff["ci_high"])
    level = f"{diff['confidence'] * 100:g}% CI"
    if not diff["has_ci"]:
        interval = "(1 seed, no interval)"
    elif diff["std"] == 0:
        interval = f"(the same on all {diff['n']} seeds, no interval)"
    else:
        interval = f"({level} {points(low)} to {points(high)})"
    word = "higher" if higher else "lower"
    if significant:
        return f"{name_b} is {word} than {name_a} by {points(abs(diff['mean']))} pp {interval}; {p_text}"
    if lost_significance(comparison):
        return (
            f"{name_b} is {word} than {name_a} by {points(abs(diff['mean']))} pp {interval} before "
            f"correction, but not after Holm's correction within its family: {p_text}; the claim is "
            f"withheld at alpha {ALPHA:g}"
        )
    return f"no significant difference between {name_a} and {name_b}: {points(diff['mean'])} pp {interval}, {p_text}"


def power_text(comparison: Comparison | None) -> str:
    """What a comparison that found no significant difference could have found; '' for a significant one.

    The detectable difference is at 80% power at the strictest level Holm's correction applies in
    the family (alpha over its size), from the observed spread of the per-seed differences.
    """
    if comparison is None or comparison["significant"]:
        return ""
    diff, found = comparison["diff"], comparison.get("power")
    if diff["n"] < 2:
        return (
            "With one seed there is no seed-to-seed spread, so the smallest difference this design "
            "could detect cannot be estimated; two seeds or more give it."
        )
    if not found:
        return (
            f"All {diff['n']} seeds gave the same difference, so the seed-to-seed spread is zero and the "
            "smallest detectable difference cannot be estimated."
        )
    size = comparison.get("family_size", 1)
    level = f"alpha {found['alpha']:.3g}" + (
        f" ({ALPHA:g} over the {size} comparisons of its family, the strictest level Holm's correction uses)"
        if size > 1
        else ""
    )
    text = (
        f"With {found['n']} seeds this comparison detects a true difference of about "
        f"{points(found['detectable'])} pp with {found['power'] * 100:g}% power at {level}, assuming the "
        f"per-seed differences vary as much as observed (standard deviation {points(found['std'])} pp) and "
        "the test set stays the same"
    )
    if found["observed"] == 0:
        return text + "; the observed difference is zero, so no number of seeds would make it significant."
    needed = found["seeds"]
    if needed is None:
        return (
            text
            + f"; the observed {points(found['observed'])} pp would need more than {num(found['limit'])} seeds."
        )
    return text + f"; the observed {points(found['observed'])} pp would need about {num(needed)} seeds."


def significance_text(comparison: Comparison | None) -> str:
    """The verdict on a comparison as a sentence of its own."""
    if comparison is None:
        return "There is no paired comparison: the two models share no seed."
    text = comparison_sentence(comparison)
    return text[0].upper() + text[1:] + "."


# -- models that learned next to nothing -------------------------------------------------------

Row = ModelRow


def near_chance_cause(row: Row) -> str:
    """Why a near-chance model likely failed: SGD and batch norm are slow to start in few steps."""
    overrides = row.get("overrides") or {}
    if overrides.get("optimizer") == "sgd" or overrides.get("batch_norm"):
        return "it likely had too few steps for its optimizer or batch norm"
    return "it did not learn in the steps it had"


def _chance_words(row: Row) -> tuple[str, str]:
    """``("19.1% on 10 classes", "10%")``: a row's mean test accuracy, and chance for its classes."""
    n = len(row["per_class_accuracy"])
    return f"{pct(row['test_accuracy']['mean'], 1)} on {n} classes", pct(chance_accuracy(n), 0)


def near_chance_text(row: Row) -> str:
    """``CNN 3x3 [x] reached 19.1% on 10 classes, near chance (10%): <cause>``; '' for a model that learned.

    Whether a model is near chance is the summary's ``near_chance`` flag, decided once there.
    """
    if not row.get("near_chance"):
        return ""
    reached, chance = _chance_words(row)
    return f"{row['label']} reached {reached}, near chance ({chance}): {near_chance_cause(row)}"


def near_chance_line(row: Row, profile: str | None = None) -> str:
    """The console's line on a near-chance model, with what to try; '' for a model that learned."""
    text = near_chance_text(row)
    if not text:
        return ""
    return text + ("; try more epochs" if profile == "full" else "; try more epochs or --profile full")


def near_chance_note(row: Row) -> str:
    """The short note beside a near-chance model's row in a table; '' for a model that learned."""
    if not row.get("near_chance"):
        return ""
    return f"Near chance ({_chance_words(row)[1]}): {near_chance_cause(row)}."


def near_chance_changes(base: Row, other: Row) -> str:
    """Instead of the per-class gains and losses of ``other`` against ``base``, where either is near
    chance: those changes are not a finding. '' where both learned."""
    failed = other if other.get("near_chance") else base if base.get("near_chance") else None
    if failed is None:
        return ""
    reached, chance = _chance_words(failed)
    whose = (
        f"its per-class changes against {base['label']}"
        if failed is other
        else f"the per-class changes of {other['label']} against it"
    )
    return (
        f"{failed['label']} reached {reached}, near chance ({chance}), so {whose} are not meaningful: "
        f"{near_chance_cause(failed)}."
    )


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
        f"families are: {listed}. A difference counts as significant only when the Holm-adjusted p of "
        "its test (below) is under alpha. The raw p-values are shown beside the adjusted ones; the "
        "intervals themselves are not adjusted."
    )


def verdict_rule_text(alpha: float) -> str:
    """Appendix A's paragraph on how a verdict is decided, and how McNemar's test enters it."""
    return (
        "With two seeds or more, the verdict is the paired t-test over seeds of the per-seed "
        "difference in test accuracy: each seed is one draw of the training randomness (initial "
        "weights, batch order, validation split), so the test gains power as seeds are added, and "
        f"before correction it is significant at alpha {alpha:g} exactly when the 95% t-interval "
        "printed beside it excludes zero. McNemar's exact test of each seed's predictions on the test "
        "images is the evidence about the sampling of the test set; the report says on how many seeds "
        "it passes, and it does not decide. With a single seed there is no spread to test, and "
        "McNemar's test on that seed decides (Dietterich 1998; Colas, Sigaud & Oudeyer 2018)."
    )


def power_rule_text(alpha: float, power: float) -> str:
    """Appendix A's paragraph on the power statements of comparisons that found no difference."""
    return (
        "For each comparison that is not significant, the report gives the smallest true difference "
        f"its seeds would detect with {power * 100:g}% power, at alpha {alpha:g} divided by the number "
        "of comparisons in its family (the strictest level Holm's correction applies), and roughly how "
        "many seeds the observed difference would need. Both come from the noncentral t distribution "
        "of the paired t-test, with the observed standard deviation of the per-seed differences taken "
        "as the true one; a few seeds estimate that spread only loosely, so the numbers are a guide "
        "to the design, not a guarantee (Colas, Sigaud & Oudeyer 2018)."
    )
