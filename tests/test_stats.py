"""Seed statistics: t-intervals, McNemar's exact test, Holm's correction and the significance verdict."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from fmnist_report.study.stats import (
    Summary,
    holm,
    is_significant,
    mcnemar_exact,
    mcnemar_per_seed,
    paired_difference,
    summarize,
    worst_p,
)

from .factories import mcnemar_result

T_975_2 = 4.302652729911275  # Student t, 0.975 quantile, 2 degrees of freedom (tables)


def paired(b: int, c: int, both_right: int = 0, both_wrong: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Correctness arrays with b examples only A gets right and c only B gets right."""
    a = [True] * b + [False] * c + [True] * both_right + [False] * both_wrong
    bb = [False] * b + [True] * c + [True] * both_right + [False] * both_wrong
    return np.array(a, dtype=bool), np.array(bb, dtype=bool)


def exact_p(b: int, c: int) -> float:
    """Two-sided exact McNemar p-value by direct binomial sums, without scipy."""
    n, k = b + c, min(b, c)
    return min(1.0, 2 * sum(math.comb(n, i) for i in range(k + 1)) / 2**n)


# --- summarize ---------------------------------------------------------------------------


def test_summarize_three_seeds_by_hand():
    s = summarize([0.90, 0.91, 0.92])
    half = 0.01 * T_975_2 / math.sqrt(3)
    assert s.n == 3 and s.has_ci and s.confidence == 0.95
    assert s.mean == pytest.approx(0.91)
    assert s.std == pytest.approx(0.01)
    assert s.ci_low == pytest.approx(0.91 - half)
    assert s.ci_high == pytest.approx(0.91 + half)
    assert half == pytest.approx(0.0248414, abs=1e-7)


def test_summarize_other_confidence_uses_its_own_quantile():
    s = summarize([0.90, 0.91, 0.92], confidence=0.90)
    half = 0.01 * 2.919985580355516 / math.sqrt(3)  # t(0.95, 2)
    assert (s.ci_low, s.ci_high) == pytest.approx((0.91 - half, 0.91 + half))


def test_summarize_one_seed_has_no_interval():
    s = summarize([0.87])
    assert s == Summary(n=1, mean=0.87, std=0.0, ci_low=0.87, ci_high=0.87, confidence=0.95, has_ci=False)


def test_summarize_to_dict_is_json_ready():
    d = summarize([1.0, 3.0]).to_dict()
    assert json.loads(json.dumps(d)) == d
    assert d["n"] == 2 and d["mean"] == 2.0 and d["has_ci"] is True
    assert set(d) == {"n", "mean", "std", "ci_low", "ci_high", "confidence", "has_ci"}


@pytest.mark.parametrize("values", [[], [[0.1, 0.2]]])
def test_summarize_rejects_empty_or_nested(values):
    with pytest.raises(ValueError, match=r"values must be a non-empty 1-D sequence, got shape"):
        summarize(values)


def test_summarize_rejects_non_finite():
    with pytest.raises(ValueError, match=r"values must all be finite, got \[0.9, nan\]"):
        summarize([0.9, float("nan")])


@pytest.mark.parametrize("confidence", [0.0, 1.0, 95])
def test_summarize_rejects_bad_confidence(confidence):
    with pytest.raises(ValueError, match=r"confidence must be strictly between 0 and 1, got"):
        summarize([0.9, 0.91], confidence=confidence)


# --- paired_difference -------------------------------------------------------------------


def test_paired_difference_is_b_minus_a():
    d = paired_difference([0.80, 0.81, 0.79], [0.83, 0.85, 0.80])
    # differences 0.03, 0.04, 0.01: mean 0.08/3, squared deviations sum to 14/3 * 1e-4
    std = math.sqrt(7 / 3) * 0.01
    half = std * T_975_2 / math.sqrt(3)
    assert d.mean == pytest.approx(0.08 / 3)
    assert d.std == pytest.approx(std) and d.std == pytest.approx(0.0152753, abs=1e-7)
    assert (d.ci_low, d.ci_high) == pytest.approx((0.08 / 3 - half, 0.08 / 3 + half))


def test_paired_difference_needs_matching_seeds():
    with pytest.raises(ValueError, match=r"must pair up seed by seed, got 3 and 2 values"):
        paired_difference([0.8, 0.8, 0.8], [0.9, 0.9])


# --- mcnemar_exact -----------------------------------------------------------------------


def test_mcnemar_one_sided_disagreement():
    t = mcnemar_exact(*paired(b=10, c=0, both_right=80, both_wrong=10))
    assert (t.n, t.b, t.c) == (100, 10, 0)
    assert t.p_value == pytest.approx(2 * 0.5**10) and t.p_value == pytest.approx(0.001953125)
    assert (t.acc_a, t.acc_b) == pytest.approx((0.90, 0.80))
    assert t.diff == pytest.approx(-0.10)
    assert t.odds_ratio == pytest.approx(0.5 / 10.5)
    assert t.odds_ratio_corrected is True


def test_mcnemar_balanced_disagreement_gives_p_one():
    t = mcnemar_exact(*paired(b=7, c=7, both_right=20))
    assert t.p_value == 1.0
    assert t.diff == 0.0
    assert t.odds_ratio == 1.0 and t.odds_ratio_corrected is False


def test_mcnemar_identical_predictions():
    a = np.array([True, False, True, True])
    t = mcnemar_exact(a, a.copy())
    assert (t.b, t.c, t.p_value) == (0, 0, 1.0)
    assert t.odds_ratio == 1.0 and t.odds_ratio_corrected is True


def test_mcnemar_matches_direct_binomial_sum():
    # b=3, c=9: 2 * (C(12,0)+C(12,1)+C(12,2)+C(12,3)) / 2**12 = 2 * 299 / 4096
    t = mcnemar_exact(*paired(b=3, c=9, both_right=50, both_wrong=5))
    assert t.p_value == pytest.approx(598 / 4096, rel=1e-12)
    assert t.odds_ratio == pytest.approx(3.0) and t.odds_ratio_corrected is False
    assert t.diff == pytest.approx(6 / 67)


@pytest.mark.parametrize(("b", "c"), [(1, 0), (5, 6), (2, 15), (40, 25)])
def test_mcnemar_agrees_with_scipy_free_formula(b, c):
    assert mcnemar_exact(*paired(b, c)).p_value == pytest.approx(exact_p(b, c), rel=1e-12)


def test_mcnemar_to_dict_is_json_ready():
    d = mcnemar_exact(*paired(b=2, c=4)).to_dict()
    assert json.loads(json.dumps(d)) == d
    assert (d["b"], d["c"], d["odds_ratio"]) == (2, 4, 2.0)


def test_mcnemar_rejects_non_boolean():
    with pytest.raises(
        ValueError, match=r"correct_a must be a boolean array \(True = correct\), got dtype int"
    ):
        mcnemar_exact(np.array([1, 0, 1]), np.array([True, False, True]))


def test_mcnemar_rejects_2d():
    with pytest.raises(ValueError, match=r"correct_b must be 1-D .*got shape \(2, 2\)"):
        mcnemar_exact(np.array([True] * 4), np.ones((2, 2), dtype=bool))


def test_mcnemar_rejects_empty():
    with pytest.raises(ValueError, match="correct_a must not be empty"):
        mcnemar_exact(np.array([], dtype=bool), np.array([], dtype=bool))


def test_mcnemar_rejects_unequal_lengths():
    with pytest.raises(ValueError, match=r"same test set, got lengths 3 and 2"):
        mcnemar_exact(np.array([True] * 3), np.array([True] * 2))


# --- several seeds -----------------------------------------------------------------------


def test_mcnemar_per_seed_and_worst_p():
    tests = mcnemar_per_seed([paired(10, 0), paired(7, 7), paired(3, 9)])
    assert [(t.b, t.c) for t in tests] == [(10, 0), (7, 7), (3, 9)]
    assert worst_p(tests) == 1.0
    assert worst_p(tests[::2]) == pytest.approx(598 / 4096)


def test_worst_p_needs_tests():
    with pytest.raises(ValueError, match="at least one McNemar test, got none"):
        worst_p([])


# --- is_significant ------------------------------------------------------------------------

HIGHER = Summary(n=3, mean=0.029, std=0.0016, ci_low=0.025, ci_high=0.033, confidence=0.95, has_ci=True)


def test_significant_when_every_seed_agrees_and_the_interval_excludes_zero():
    tests = [mcnemar_result(1e-5, 0.03), mcnemar_result(2e-4, 0.028), mcnemar_result(1e-6, 0.029)]
    assert is_significant(HIGHER, tests)


def test_a_ci_crossing_zero_overrides_significant_mcnemar():
    diff = Summary(n=3, mean=0.004, std=0.005, ci_low=-0.008, ci_high=0.016, confidence=0.95, has_ci=True)
    tests = [mcnemar_result(1e-4, 0.01), mcnemar_result(1e-4, 0.009), mcnemar_result(1e-4, 0.001)]
    assert not is_significant(diff, tests)


def test_a_seed_whose_mcnemar_test_fails_no_longer_withholds_the_claim():
    # With several seeds the t-test over seeds decides; McNemar per seed is evidence beside it,
    # so one seed at p = 0.06 cannot veto a difference every seed shows.
    tests = [mcnemar_result(1e-5, 0.03), mcnemar_result(0.06, 0.028), mcnemar_result(1e-6, 0.029)]
    assert is_significant(HIGHER, tests)


def test_p_equal_to_alpha_is_not_significant():
    tests = [mcnemar_result(0.01, 0.03)] * 3
    assert not is_significant(HIGHER, tests, alpha=0.01, p_value=0.01)
    assert is_significant(HIGHER, tests, alpha=0.01, p_value=0.0099)


def test_seeds_disagreeing_in_direction_is_not_significant():
    diff = summarize([0.03, -0.01, 0.029])
    tests = [mcnemar_result(1e-5, 0.03), mcnemar_result(1e-5, -0.01), mcnemar_result(1e-5, 0.029)]
    assert not is_significant(diff, tests)


def test_one_seed_is_significant_on_mcnemar_alone():
    assert is_significant(summarize([0.029]), [mcnemar_result(0.002, 0.029)])
    assert not is_significant(summarize([-0.003]), [mcnemar_result(0.41, -0.003)])
    assert not is_significant(summarize([0.0]), [mcnemar_result(1e-6, 0.0)])  # no direction, no claim


def test_significant_end_to_end_from_predictions():
    acc_a, acc_b = [0.90, 0.91, 0.90], [0.96, 0.97, 0.95]
    tests = mcnemar_per_seed([paired(b=2, c=62, both_right=898, both_wrong=38)] * 3)
    assert is_significant(paired_difference(acc_a, acc_b), tests)


@pytest.mark.parametrize("alpha", [0.0, 1.0, 5])
def test_is_significant_rejects_bad_alpha(alpha):
    with pytest.raises(ValueError, match="alpha must be strictly between 0 and 1"):
        is_significant(HIGHER, [mcnemar_result(0.01, 0.03)] * 3, alpha=alpha)


def test_an_adjusted_p_value_decides_in_place_of_the_largest_seed_p():
    tests = [mcnemar_result(0.01, 0.03)] * 3
    assert is_significant(HIGHER, tests)
    assert not is_significant(HIGHER, tests, p_value=0.06)


# --- holm ---------------------------------------------------------------------------------------


def test_holm_matches_a_hand_worked_example():
    # Sorted: 0.005 x 4 = 0.02; 0.01 x 3 = 0.03; 0.03 x 2 = 0.06; 0.04 x 1 = 0.04, raised to
    # the running maximum 0.06. At alpha 0.05 only the two smallest are rejected.
    adjusted = holm([0.01, 0.04, 0.03, 0.005])
    assert adjusted == pytest.approx([0.03, 0.06, 0.06, 0.02], abs=1e-12)
    assert [p < 0.05 for p in adjusted] == [True, False, False, True]


def test_holm_caps_at_one_keeps_ties_and_leaves_a_single_test_alone():
    assert holm([0.5, 0.6, 0.01]) == pytest.approx([1.0, 1.0, 0.03])
    assert holm([0.02, 0.02]) == pytest.approx([0.04, 0.04])
    assert holm([0.041]) == [0.041]
    assert holm([]) == []


@pytest.mark.parametrize("bad", [[0.1, 1.2], [-0.01], [[0.1, 0.2]]])
def test_holm_rejects_values_that_are_no_p_values(bad):
    with pytest.raises(ValueError, match="values in \\[0, 1\\]"):
        holm(bad)


# --- rounding noise is no spread -----------------------------------------------------------


def test_equal_differences_of_rounded_accuracies_have_no_spread():
    """Accuracies of k/10,000 whose per-seed differences are all +0.5 pp: the float std is ~6e-17.

    Found in a trial: the t branch took that noise for spread and printed "p < 0.001" while
    McNemar's test gave p = 0.40 on every seed.
    """
    from fmnist_report.study.stats import decision_p, has_spread, power_of

    a = [0.8997, 0.8923, 0.9096]
    b = [0.9047, 0.8973, 0.9146]
    diff = paired_difference(a, b)
    assert diff.std != 0.0 and diff.std < 1e-15  # the noise this test is about
    assert not has_spread(diff)
    tests = [mcnemar_result(0.40, 0.005)] * 3
    assert decision_p(diff, tests) == (0.40, "mcnemar")
    assert not is_significant(diff, tests)
    assert power_of(diff, 0.05) is None


def test_random_equal_differences_never_take_the_t_branch():
    """20,000 random 3-seed cases with one difference on every seed: none is decided by the t-test."""
    from fmnist_report.study.stats import decision_p

    rng = np.random.default_rng(0)
    base = rng.integers(8000, 9500, size=(20_000, 3)) / 10_000
    shift = rng.integers(-200, 200, size=(20_000, 1)) / 10_000
    tests = [mcnemar_result(0.5, 0.0)]
    diffs = [
        paired_difference(a, np.round((a + s) * 10_000) / 10_000) for a, s in zip(base, shift, strict=True)
    ]
    assert sum(d.std != 0.0 for d in diffs) > 5_000  # the rounding noise the old test took for spread
    assert {decision_p(d, tests)[1] for d in diffs} == {"mcnemar"}


def test_a_real_spread_of_one_hundredth_of_a_point_is_still_spread():
    from fmnist_report.study.stats import decision_p, has_spread

    diff = paired_difference([0.9, 0.9, 0.9], [0.9050, 0.9051, 0.9050])
    assert has_spread(diff) and decision_p(diff, [mcnemar_result(0.5, 0.005)])[1] == "t"


@pytest.mark.parametrize(
    ("n", "alpha", "d"),
    [(3, 0.05, 3.264), (3, 0.05 / 3, 5.667), (2, 0.05, 11.55)],
)
def test_the_detectable_effect_at_the_studys_sizes(n, alpha, d):
    """Cohen's d the paired t-test detects with 80% power, each checked by a 400,000-draw Monte Carlo."""
    from fmnist_report.study.stats import minimum_effect

    assert minimum_effect(n, alpha) == pytest.approx(d, abs=0.001 if d < 10 else 0.01)
