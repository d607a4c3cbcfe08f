"""Locality and "not appropriate": the outcomes no other test pins, each from the numbers that lead to it.

Every comparison is one seed of 1,000 test images (`factories.comparison`): 100 images apart is
significant under McNemar's test, 1 image apart is not.
"""

from __future__ import annotations

from fmnist_report.report import wording
from fmnist_report.report.sections import claim_locality, claim_not_appropriate

from .factories import comparison

DENSE, CNN = "Dense", "CNN 3x3"
DENSE_P, CNN_P = "Dense (permuted pixels)", "CNN 3x3 (permuted pixels)"


def cnn_change(right_before: int, right_after: int) -> dict:
    return comparison("cnn3", "cnn3-permuted", CNN, CNN_P, right_before, right_after)


def margins(before: tuple[int, int], after: tuple[int, int]) -> str:
    """The margin paragraph: Dense against the CNN on the original pixels, then on permuted ones."""
    head = comparison("dense", "cnn3", DENSE, CNN, *before)
    permuted = comparison("dense-permuted", "cnn3-permuted", DENSE_P, CNN_P, *after)
    paras = claim_locality.locality_text(None, None, head, permuted)
    assert len(paras) == 2 and paras[1].startswith("With the original pixels, ")
    return paras[1]


def test_the_opening_names_the_permutation_seed_only_when_there_is_one():
    with_seed = claim_locality.locality_text(None, None, None, None, seed=7)
    assert with_seed[0].count("one fixed random permutation (seed 7), the same for every") == 1
    without = claim_locality.locality_text(None, None, None, None)
    assert len(without) == 1 and "one fixed random permutation, the same for every" in without[0]
    assert "(seed" not in without[0]


def test_a_cnn_that_gains_on_permuted_pixels_shows_no_reliance_on_locality():
    change = cnn_change(800, 900)
    assert wording.verdict(change) == "higher"
    text = claim_locality.locality_text(None, change, None, None)[1]
    assert text.startswith("The CNN 3x3 became more accurate on permuted pixels (80.0% to 90.0%): ")
    assert "This run gives no evidence that it relies on locality." in text
    assert "cost the" not in text and "did not measurably change" not in text


def test_margin_an_advantage_that_disappears_without_locality():
    text = margins((800, 900), (800, 801))
    assert text.endswith(" The CNN 3x3's advantage over Dense disappears once locality is gone.")
    assert "turns into a deficit" not in text


def test_margin_no_difference_with_or_without_locality():
    text = margins((850, 851), (800, 801))
    assert text.endswith(" Neither with nor without locality did the two networks differ significantly.")


def test_margin_dense_ahead_on_the_original_pixels():
    text = margins((900, 800), (800, 801))
    assert "CNN 3x3 is lower than Dense by 10.0 pp" in text
    assert text.endswith(
        " Dense was ahead even on the original pixels, so this run shows no benefit of locality."
    )


def test_margin_dense_ahead_on_both_is_still_no_benefit_of_locality():
    text = margins((900, 800), (900, 800))
    assert text.endswith("so this run shows no benefit of locality.")


def test_margin_the_cnn_ahead_only_on_permuted_pixels():
    text = margins((850, 851), (800, 900))
    assert text.endswith(
        " The CNN 3x3 is significantly ahead only on the permuted pixels, which locality does not explain."
    )


# -- when convolution is not appropriate ------------------------------------------------------------

ROWS = {
    "dense": {"label": DENSE, "params": 235_146, "flops": 469_898, "latency_ms_batched": {"mean": 0.01}},
    "cnn3": {"label": CNN, "params": 421_642, "flops": 8_520_074, "latency_ms_batched": {"mean": 0.1}},
}


def test_the_cnn_staying_ahead_on_permuted_pixels_is_not_called_a_failure():
    after = comparison("dense-permuted", "cnn3-permuted", DENSE_P, CNN_P, 800, 900)
    text = claim_not_appropriate.not_appropriate_text(after, None, ROWS["dense"], ROWS["cnn3"])[0]
    assert text.endswith(
        " Here the CNN stayed ahead even without spatial order, at 18.1× the FLOPs of Dense; this run "
        "does not show convolution failing on unordered inputs."
    )
    assert "wrong tool" not in text and "no measurable benefit" not in text


def test_without_cost_rows_the_permuted_verdict_says_more_computation_than_dense():
    lower = comparison("dense-permuted", "cnn3-permuted", DENSE_P, CNN_P, 900, 800)
    level = comparison("dense-permuted", "cnn3-permuted", DENSE_P, CNN_P, 900, 899)
    higher = comparison("dense-permuted", "cnn3-permuted", DENSE_P, CNN_P, 800, 900)
    texts = [claim_not_appropriate.not_appropriate_text(c, None, None, None) for c in (lower, level, higher)]
    assert all(len(t) == 1 for t in texts)  # no cost paragraph without the rows
    assert texts[0][0].endswith("it is less accurate and still costs more computation than Dense.")
    assert texts[1][0].endswith("brings no measurable benefit while costing more computation than Dense.")
    assert "stayed ahead even without spatial order, at more computation than Dense;" in texts[2][0]
    assert all("computation of Dense" not in t[0] for t in texts)


def test_a_cnn_ahead_on_images_gets_no_cost_verdict_after_its_comparison():
    head = comparison("dense", "cnn3", DENSE, CNN, 800, 900)
    text = claim_not_appropriate.not_appropriate_text(None, head, ROWS["dense"], ROWS["cnn3"])[0]
    assert text.startswith("Even on images the CNN 3x3 costs more to run: 8,520,074 FLOPs per image against")
    assert "0.100 against 0.010 ms per image in batches of 1,000 on this machine (10.0×)" in text
    assert text.endswith(
        "In return, CNN 3x3 is higher than Dense by 10.0 pp (1 seed, no interval); McNemar p < 0.001."
    )
