"""Comparisons pair runs by seed: only the seeds both models have, in seed order, whatever the record order."""

from __future__ import annotations

import pytest

from fmnist_report.report.wording import comparison_sentence, significance_text
from fmnist_report.study import stats
from fmnist_report.study.summary import compare, correct

from .factories import SKILL, fake_results, predictions_with_skill, train_record


@pytest.fixture
def dense_and_twin():
    """Dense on seeds 0-2 and its permuted-pixel twin on seed 0 only, as the study runs them."""
    results = fake_results(
        ["dense", "dense-permuted"],
        lambda m, s, y: predictions_with_skill(SKILL[m] + 0.1 * s, m, s, y),
        seeds=3,
    )
    assert [r.metrics["spec"]["seed"] for r in results.runs["dense"]] == [0, 1, 2]
    assert [r.metrics["spec"]["seed"] for r in results.runs["dense-permuted"]] == [0]
    return results


def test_a_one_seed_twin_is_compared_on_seed_0_only(dense_and_twin):
    results = dense_and_twin
    found = compare(results, "dense", "dense-permuted")
    assert found["seeds"] == [0] and len(found["mcnemar"]) == 1 and found["diff"]["n"] == 1
    dense0, twin = results.first("dense"), results.first("dense-permuted")
    assert found["diff"]["mean"] == pytest.approx(
        twin.metrics["test_accuracy"] - dense0.metrics["test_accuracy"]
    )
    y = results.data.y_test
    expected = stats.mcnemar_exact(correct(dense0, y), correct(twin, y))
    assert found["mcnemar"][0] == expected.to_dict()
    assert "(1 seed, no interval)" in comparison_sentence(found)


def test_disjoint_seeds_give_no_comparison(dense_and_twin):
    results = dense_and_twin
    y = results.data.y_test
    results.runs["dense-permuted"] = [
        train_record("dense-permuted", 7, y, predictions_with_skill(0.5, "x", 7, y))
    ]
    assert compare(results, "dense", "dense-permuted") is None
    assert significance_text(None) == "There is no paired comparison: the two models share no seed."


def test_the_order_of_the_records_does_not_matter():
    results = fake_results(
        ["dense", "cnn3"], lambda m, s, y: predictions_with_skill(SKILL[m], m, s, y), seeds=3
    )
    before = compare(results, "dense", "cnn3")
    for model_id, order in (("dense", [2, 0, 1]), ("cnn3", [1, 2, 0])):  # shuffled, each its own way
        results.runs[model_id] = [results.runs[model_id][i] for i in order]
    assert compare(results, "dense", "cnn3") == before
    assert before["seeds"] == [0, 1, 2]
