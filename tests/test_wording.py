"""Verdicts in words: each sentence follows the comparison's numbers and its ``significant`` flag."""

from __future__ import annotations

import numpy as np
import pytest

from fmnist_report.report import wording
from fmnist_report.study.stats import Summary, mcnemar_per_seed, paired_difference, summarize
from fmnist_report.study.summary import paired_comparison

from .factories import comparison, mcnemar_result

HIGHER = Summary(n=3, mean=0.029, std=0.0016, ci_low=0.025, ci_high=0.033, confidence=0.95, has_ci=True)


def compared(name_a: str, name_b: str, diff: Summary, tests: list) -> dict:
    """The comparison dict of B against A, verdict decided by the study's rule."""
    return paired_comparison(("a", "b"), (name_a, name_b), list(range(diff.n)), diff, tests)


def test_significant_higher():
    tests = [mcnemar_result(1e-5, 0.03), mcnemar_result(2e-4, 0.028), mcnemar_result(1e-6, 0.029)]
    assert wording.comparison_sentence(compared("Dense", "CNN 3x3", HIGHER, tests)) == (
        "CNN 3x3 is higher than Dense by 2.9 pp (95% CI 2.5 to 3.3); paired t-test over 3 seeds p = 0.0010; "
        "McNemar p < 0.05 on all 3 seeds"
    )


def test_significant_lower_reports_the_magnitude_and_the_t_test():
    diff = Summary(n=3, mean=-0.029, std=0.0016, ci_low=-0.033, ci_high=-0.025, confidence=0.95, has_ci=True)
    tests = [mcnemar_result(0.002, -0.03), mcnemar_result(0.012, -0.028), mcnemar_result(0.0004, -0.029)]
    assert wording.comparison_sentence(compared("CNN 3x3", "Dense", diff, tests)) == (
        "Dense is lower than CNN 3x3 by 2.9 pp (95% CI 2.5 to 3.3); paired t-test over 3 seeds p = 0.0010; "
        "McNemar p < 0.05 on all 3 seeds"
    )


def test_not_significant_gives_the_signed_mean_and_its_interval():
    diff = Summary(n=3, mean=0.002, std=0.0024, ci_low=-0.004, ci_high=0.008, confidence=0.95, has_ci=True)
    tests = [mcnemar_result(0.41, 0.002), mcnemar_result(0.2, 0.004), mcnemar_result(0.9, 0.0)]
    assert wording.comparison_sentence(compared("5x5", "7x7", diff, tests)) == (
        "no significant difference between 5x5 and 7x7: 0.2 pp (95% CI -0.4 to 0.8), "
        "paired t-test over 3 seeds p = 0.29; McNemar p < 0.05 on none of the 3 seeds"
    )


def test_single_seed_has_no_interval():
    higher = compared("Dense", "CNN", summarize([0.029]), [mcnemar_result(0.002, 0.029)])
    assert wording.comparison_sentence(higher) == (
        "CNN is higher than Dense by 2.9 pp (1 seed, no interval); McNemar p = 0.0020"
    )
    level = compared("5x5", "7x7", summarize([-0.003]), [mcnemar_result(0.41, -0.003)])
    assert wording.comparison_sentence(level) == (
        "no significant difference between 5x5 and 7x7: -0.3 pp (1 seed, no interval), McNemar p = 0.41"
    )


def test_the_sentence_follows_the_flag_not_its_own_reading_of_the_numbers():
    tests = [mcnemar_result(1e-5, 0.03)] * 3
    clear = compared("A", "B", HIGHER, tests)
    assert clear["significant"] and wording.comparison_sentence(clear).startswith("B is higher than A")
    withheld = {**clear, "significant": False}
    assert wording.comparison_sentence(withheld).startswith(
        "no significant difference between A and B: 2.9 pp"
    )
    assert wording.verdict(withheld) == "none"


def test_the_interval_names_its_confidence_level():
    diff = summarize([0.02, 0.03, 0.04], confidence=0.9)
    text = wording.comparison_sentence(compared("A", "B", diff, [mcnemar_result(1e-4, 0.03)] * 3))
    assert text.startswith("B is higher than A by 3.0 pp (90% CI ")


def test_end_to_end_from_predictions():
    a = [True] * 2 + [False] * 62 + [True] * 898 + [False] * 38
    b = [False] * 2 + [True] * 62 + [True] * 898 + [False] * 38
    tests = mcnemar_per_seed([(np.array(a), np.array(b))] * 3)
    diff = paired_difference([0.90, 0.91, 0.90], [0.96, 0.97, 0.95])
    text = wording.comparison_sentence(compared("Dense", "CNN", diff, tests))
    assert text.startswith("CNN is higher than Dense by 5.7 pp (95% CI ")
    assert text.endswith("; paired t-test over 3 seeds p = 0.0034; McNemar p < 0.05 on all 3 seeds")


def test_needs_one_test_per_seed():
    bad = {**compared("A", "B", HIGHER, [mcnemar_result(0.01, 0.03)] * 3), "mcnemar": [{"p_value": 0.01}]}
    with pytest.raises(ValueError, match=r"diff covers 3 seeds but 1 tests were given"):
        wording.comparison_sentence(bad)


def test_significance_text_is_a_sentence_of_its_own():
    clear = comparison("dense", "cnn3", "Dense", "CNN 3x3", 850, 910)
    close = comparison("dense", "cnn3", "Dense", "CNN 3x3", 900, 903)
    assert wording.significance_text(clear).startswith("CNN 3x3 is higher than Dense by 6.0 pp")
    assert wording.significance_text(close).startswith("No significant difference between Dense and CNN 3x3")
    assert wording.significance_text(close).endswith(".")
    assert wording.significance_text(None) == "There is no paired comparison: the two models share no seed."


def test_verdict_and_accuracies():
    assert wording.verdict(comparison("dense", "cnn3", "Dense", "CNN 3x3", 800, 900)) == "higher"
    assert wording.verdict(comparison("dense", "cnn3", "Dense", "CNN 3x3", 900, 800)) == "lower"
    assert wording.verdict(comparison("dense", "cnn3", "Dense", "CNN 3x3", 900, 899)) == "none"
    assert wording.verdict(None) == "none"
    assert wording.accuracies(comparison("dense", "cnn3", "Dense", "CNN 3x3", 850, 910)) == (0.85, 0.91)


def test_p_values_over_seeds_and_over_directions():
    assert wording.seeds_p_text(0.0004, 1) == "McNemar p < 0.001"
    assert wording.seeds_p_text(0.0004, 3) == "McNemar p < 0.001 on each of 3 seeds"
    assert wording.seeds_p_text(0.012, 3) == "largest McNemar p = 0.012 across 3 seeds"
    assert wording.each_p_text(0.0004) == "McNemar p < 0.001 in each"
    assert wording.each_p_text(0.03) == "largest McNemar p = 0.030"
