"""The verdict rule over seeds, and the power a comparison that found nothing states."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest

from fmnist_report.report import wording
from fmnist_report.study import stats, summary
from fmnist_report.study.stats import Summary

from .factories import mcnemar_result


def comparison(diffs: list[float], mcnemar_p: float = 0.3) -> dict:
    """A comparison of B against A whose per-seed differences are ``diffs``."""
    diff = stats.summarize(diffs)
    tests = [mcnemar_result(mcnemar_p, d) for d in diffs]
    return summary.paired_comparison(("a", "b"), ("A", "B"), list(range(len(diffs))), diff, tests)


def draws(true_diff: float, spread: float, n: int, seed: int = 0) -> list[float]:
    """Per-seed differences: a true difference plus training noise with a given spread."""
    noise = np.random.default_rng(seed).standard_normal(n)
    noise = (noise - noise.mean()) / noise.std(ddof=1)  # exactly the spread asked for
    return (true_diff + spread * noise).tolist()


def test_more_seeds_make_the_same_true_difference_easier_to_call():
    # A true difference of 1 pp under 1.5 pp of training noise: 3 seeds cannot tell, 20 can.
    few, many = comparison(draws(0.01, 0.015, 3)), comparison(draws(0.01, 0.015, 20))
    assert not few["significant"] and many["significant"]
    assert many["p_value"] < few["p_value"] and many["test"] == few["test"] == "t"
    # McNemar on each seed (every seed at p = 0.3) no longer vetoes the verdict: it is evidence.
    assert many["mcnemar_significant"] == 0


def test_identical_models_are_never_significant():
    same = comparison([0.0, 0.0, 0.0], mcnemar_p=1.0)
    assert same["p_value"] == 1.0 and not same["significant"] and same["power"] is None
    assert wording.comparison_sentence(same).startswith("no significant difference between A and B: 0.0 pp")


def test_one_seed_is_decided_by_mcnemar_and_several_by_the_t_test():
    one = comparison([0.02], mcnemar_p=0.001)
    assert one["test"] == "mcnemar" and one["p_value"] == 0.001 and one["significant"]
    several = comparison([0.02, 0.021, 0.019], mcnemar_p=0.4)
    assert several["test"] == "t" and several["significant"]
    assert "McNemar p < 0.05 on none of the 3 seeds" in wording.comparison_sentence(several)


def test_the_verdict_never_contradicts_the_interval_printed_beside_it():
    rng = np.random.default_rng(1)
    for n in (2, 3, 5, 20):
        for _ in range(60):
            found = comparison((rng.normal(rng.normal(0, 0.01), 0.01, n)).tolist())
            d = found["diff"]
            excludes_zero = d["ci_low"] > 0 or d["ci_high"] < 0
            assert found["significant"] == excludes_zero  # a family of one: no correction
            text = wording.comparison_sentence(found)
            assert text.startswith("no significant difference") == (not excludes_zero)


def test_holm_withholding_a_claim_is_worded_without_denying_the_interval():
    members = [comparison(draws(0.01, 0.004, 3, seed=s)) for s in range(3)]
    members[1] = comparison(draws(0.002, 0.02, 3))
    family = summary.holm_family("kernels", members)
    lost = [c for c in family if wording.lost_significance(c)]
    assert lost, "one comparison should pass before the correction and fail after it"
    text = wording.comparison_sentence(lost[0])
    assert "no significant difference" not in text
    assert "before correction, but not after Holm's correction" in text


def test_paired_t_p_matches_the_t_distribution_by_hand():
    # mean 0.01, std 0.005, n = 4: t = 0.01 / (0.005 / 2) = 4, two-sided p with 3 df = 0.0280.
    diff = Summary(n=4, mean=0.01, std=0.005, ci_low=0.0, ci_high=0.02, confidence=0.95, has_ci=True)
    assert stats.paired_t_p(diff) == pytest.approx(0.02801, abs=1e-5)
    assert math.isnan(stats.paired_t_p(stats.summarize([0.01])))


def test_minimum_effect_against_hand_worked_values():
    # n = 10, two-sided alpha 0.05, power 0.8: d = 0.996 (G*Power; statsmodels TTestPower gives 0.9960).
    assert stats.minimum_effect(10, 0.05) == pytest.approx(0.9960, abs=2e-4)
    # Large n: the normal approximation (z_0.975 + z_0.8) / sqrt(n) = 2.8016 / 20.
    assert stats.minimum_effect(400, 0.05) == pytest.approx(2.8016 / 20, rel=3e-3)
    # Small n, worked independently (noncentral t; a Monte Carlo of 400,000 draws gives power
    # 0.801, 0.800 and 0.801 at these effects): n = 3 at 0.05, n = 3 at 0.05 / 3, n = 2 at 0.05.
    assert stats.minimum_effect(3, 0.05) == pytest.approx(3.264, abs=1e-3)
    assert stats.minimum_effect(3, 0.05 / 3) == pytest.approx(5.667, abs=1e-3)
    assert stats.minimum_effect(2, 0.05) == pytest.approx(11.55, abs=1e-2)
    # The effect found has the power asked for, and a smaller one less.
    d = stats.minimum_effect(3, 0.05 / 3)
    assert stats.t_power(d, 3, 0.05 / 3) == pytest.approx(0.8, abs=1e-6)
    assert stats.t_power(0.9 * d, 3, 0.05 / 3) < 0.8


def test_seeds_needed_is_the_first_count_with_enough_power():
    n = stats.seeds_needed(0.5, 0.05)
    assert n == 34  # G*Power, one-sample t, d = 0.5, two-sided 0.05, power 0.8: 34
    assert stats.t_power(0.5, n, 0.05) >= 0.8 > stats.t_power(0.5, n - 1, 0.05)
    assert stats.seeds_needed(0.01, 0.05) is None and stats.seeds_needed(0.0, 0.05) is None


def test_a_non_significant_comparison_states_its_detectable_difference():
    found = summary.holm_family("kernels", [comparison(draws(0.002, 0.01, 3, seed=s)) for s in range(3)])[0]
    power = found["power"]
    assert power["alpha"] == pytest.approx(0.05 / 3) and power["n"] == 3
    # Three seeds at alpha 0.05 / 3 detect d = 5.667 with 80% power (noncentral t with 2 df; a
    # Monte Carlo of 400,000 draws of three N(5.667, 1) seeds gives power 0.7995), so the
    # detectable difference is 5.667 per-seed standard deviations.
    assert power["detectable"] == pytest.approx(5.667 * found["diff"]["std"], rel=2e-4)
    text = wording.power_text(found)
    assert f"about {power['detectable'] * 100:.1f} pp with 80% power at alpha 0.0167" in text
    assert "assuming the per-seed differences vary as much as observed" in text
    assert re.search(r"would need (about [\d,]+|more than 1,000) seeds\.$", text)


def test_power_sentences_for_one_seed_and_for_no_spread():
    assert "With one seed" in wording.power_text(comparison([0.001]))
    same = comparison([0.001, 0.001], mcnemar_p=0.4)  # no spread: McNemar decides, no interval shown
    assert same["test"] == "mcnemar" and not same["significant"]
    assert "(the same on all 2 seeds, no interval)" in wording.comparison_sentence(same)
    assert "the seed-to-seed spread is zero" in wording.power_text(same)
    assert wording.power_text(comparison(draws(0.02, 0.001, 5))) == ""  # significant: nothing to add
