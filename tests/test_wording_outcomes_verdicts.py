"""The verdict sentences no other test pins: McNemar on some seeds, each power outcome, the appendix rules."""

from __future__ import annotations

import re

from fmnist_report.report import wording
from fmnist_report.study import stats, summary

from .factories import mcnemar_result


def compared(diffs: list[float], mcnemar_p: list[float] | float = 0.3) -> dict:
    """B against A over as many seeds as ``diffs``, each seed's McNemar at ``mcnemar_p``."""
    ps = mcnemar_p if isinstance(mcnemar_p, list) else [mcnemar_p] * len(diffs)
    tests = [mcnemar_result(p, d) for p, d in zip(ps, diffs, strict=True)]
    diff = stats.summarize(diffs)
    return summary.paired_comparison(("a", "b"), ("A", "B"), list(range(len(diffs))), diff, tests)


def test_the_t_test_sentence_counts_the_seeds_mcnemar_passes_on_when_some_do():
    comp = compared([0.030, 0.031, 0.029], [0.01, 0.3, 0.02])
    assert comp["test"] == "t" and comp["mcnemar_significant"] == 2
    assert wording.decision_p_text(comp).endswith("; McNemar p < 0.05 on 2 of 3 seeds")
    assert "on 2 of 3 seeds" in wording.comparison_sentence(comp)


def test_power_in_a_family_of_one_names_alpha_without_holm():
    comp = compared([0.004, -0.002, 0.003])
    assert not comp["significant"] and comp["family_size"] == 1
    text = wording.power_text(comp)
    assert "with 80% power at alpha 0.05, assuming the per-seed differences" in text
    assert "comparisons of its family" not in text


def test_power_in_a_larger_family_names_the_strictest_holm_level():
    comp = compared([0.004, -0.002, 0.003])
    diff = stats.summarize([0.004, -0.002, 0.003])
    family = {**comp, "family_size": 3, "power": stats.power_of(diff, summary.ALPHA / 3).to_dict()}
    text = wording.power_text(family)
    assert (
        "at alpha 0.0167 (0.05 over the 3 comparisons of its family, the strictest level Holm's "
        "correction uses)" in text
    )


def test_power_of_a_zero_observed_difference_says_no_seed_count_helps():
    comp = compared([0.01, -0.01, 0.0])
    assert comp["power"]["observed"] == 0
    assert wording.power_text(comp).endswith(
        "; the observed difference is zero, so no number of seeds would make it significant."
    )


def test_power_of_a_tiny_difference_needs_more_seeds_than_the_limit():
    comp = compared([0.02, -0.0199, 0.0])
    assert comp["power"]["seeds"] is None and comp["power"]["limit"] == 1000
    assert wording.power_text(comp).endswith("; the observed 0.0 pp would need more than 1,000 seeds.")


def test_power_of_a_moderate_difference_says_about_how_many_seeds():
    comp = compared([0.004, -0.002, 0.003])
    needed = comp["power"]["seeds"]
    # d = 0.00167 / 0.00321 = 0.518; at alpha 0.05 a one-sample t reaches 80% power at 32 seeds
    # (a Monte Carlo of 200,000 draws: 0.798 at 31, 0.813 at 32).
    assert needed == 32
    found = re.search(r"; the observed 0\.2 pp would need about ([\d,]+) seeds\.$", wording.power_text(comp))
    assert found and int(found.group(1).replace(",", "")) == needed
    assert "more than" not in wording.power_text(comp)


def test_the_multiplicity_paragraph_says_comparison_for_a_family_of_one_and_skips_empty_ones():
    text = wording.multiplicity_text({"architecture": 1, "kernels": 3, "locality": 0}, 0.05)
    words = wording.FAMILY_WORDS
    assert f"{words['architecture']} (1 comparison); {words['kernels']} (3 comparisons)." in text
    assert words["locality"] not in text
    assert "tested at alpha 0.05 with Holm's step-down correction" in text


def test_the_appendix_rules_carry_the_levels_they_are_given():
    rule = wording.verdict_rule_text(0.01)
    assert "before correction it is significant at alpha 0.01 exactly when the 95% t-interval" in rule
    assert "McNemar's test on that seed decides" in rule
    power = wording.power_rule_text(0.05, 0.9)
    assert "its seeds would detect with 90% power, at alpha 0.05 divided by the number" in power
    assert "noncentral t distribution" in power
