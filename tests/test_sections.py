"""The report's parts (sections 1 to 4, the summary, appendix B): every sentence against each outcome it may report."""

from __future__ import annotations

import itertools
from collections.abc import Callable

import numpy as np
import pytest

from fmnist_report.report.sections import cnn, data, dense, kernels, references, summary

from .factories import comparison, seed_summary


def kernel_row(k: int, acc: float, flops: int) -> dict:
    return {
        "model_id": f"cnn{k}",
        "label": f"CNN {k}x{k}",
        "kernel_size": k,
        "test_accuracy": seed_summary(acc),
        "flops": flops,
        "params": 400_000 + 1000 * k,
        "train_seconds": seed_summary(10.0 * k),
    }


def kernel_study(*accuracy: float) -> tuple[list[dict], Callable[[str, str], dict | None]]:
    """Rows of the 3x3, 5x5 and 7x7 CNNs (as many as accuracies given; 100, 200, 300 FLOPs), and the
    lookup of their comparisons.

    Each pair is compared on one seed of 1,000 test images, each model right on its first
    ``round(accuracy * 1000)``; the lookup finds a pair in either order, as `Summary.comparison` does.
    """
    sizes = (3, 5, 7)[: len(accuracy)]
    rows = [kernel_row(k, acc, 100 * (i + 1)) for i, (k, acc) in enumerate(zip(sizes, accuracy, strict=True))]
    found = [
        comparison(
            a["model_id"], b["model_id"], a["label"], b["label"], round(acc_a * 1000), round(acc_b * 1000)
        )
        for (a, acc_a), (b, acc_b) in itertools.combinations(zip(rows, accuracy, strict=True), 2)
    ]
    comparisons = {f"{c['a']}__vs__{c['b']}": c for c in found}
    return rows, lambda a, b: comparisons.get(f"{a}__vs__{b}") or comparisons.get(f"{b}__vs__{a}")


# -- summary ----------------------------------------------------------------------------------------


def test_scope_warns_about_a_preview_and_a_single_seed():
    quick = summary.scope_text("quick", 3000, 1000, 2, 1, full=False)
    assert "1 seed per model, 2 epochs each, on 3,000 training and 1,000 test images" in quick
    assert "preview" in quick and "no interval over seeds" in quick
    full = summary.scope_text("full", 60000, 10000, 10, 3, full=True)
    assert "preview" not in full and "no interval" not in full
    assert "95% Student-t intervals over the 3 seeds" in full


# -- data (section 1) -------------------------------------------------------------------------------


def test_split_phrase_follows_the_configured_split():
    assert data.split_phrase("stratified", 0.15) == "stratified 15% per class"
    assert data.split_phrase("last", 0.15) == "the last 15%"
    with pytest.raises(ValueError, match="stratified or last"):
        data.split_phrase("random", 0.15)


def test_preprocessing_text_gives_the_measured_range_and_split_sizes():
    text = data.preprocessing_text(
        "last", 0.15, 51000, 9000, {"min": 0.0, "max": 1.0, "mean": 0.286}, "float32", 10
    )
    assert "the last 15%" in text and "51,000 images are fitted and 9,000 are held out" in text
    assert "measured: 0.000 to 1.000" in text and "float32" in text and "length 10" in text


def test_balance_text_says_balanced_only_when_it_is():
    names = ["a", "b", "c"]
    assert data.balance_text([5, 5, 5], [2, 2, 2], names).startswith("The classes are exactly balanced")
    uneven = data.balance_text([5, 10, 5], [2, 2, 2], names)
    assert uneven.startswith("The classes are not balanced")
    assert "from 5 (a) to 10 (b) images, a ratio of 2.00" in uneven


def test_pixel_text():
    text = data.pixel_text({"min": 0, "max": 255, "mean": 72.94, "std": 90.02}, 0.5012, "uint8")
    assert "uint8 values from 0 to 255 (mean 72.9, standard deviation 90.0)" in text
    assert "50.1% of all training pixels are exactly 0" in text


# -- dense (section 2) ------------------------------------------------------------------------------


def test_most_confused_sums_both_directions_and_names_the_dominant_one_first():
    names = ["T-shirt", "Trouser", "Shirt"]
    cm = np.array([[80, 0, 15], [1, 99, 0], [30, 0, 70]])
    pairs = dense.most_confused(cm, names, top=2)
    assert pairs[0] == {
        "a": "Shirt",
        "b": "T-shirt",
        "a_as_b": 30,
        "b_as_a": 15,
        "count": 45,
        "share": 45 / 195,
    }
    assert (pairs[1]["a"], pairs[1]["b"], pairs[1]["count"]) == ("Trouser", "T-shirt", 1)
    assert dense.most_confused(np.eye(3, dtype=int) * 5, names) == []


def test_weakest_classes_are_sorted_weakest_first():
    weakest = dense.weakest_classes([0.9, 0.4, 0.7, 0.95], ["a", "b", "c", "d"], top=2)
    assert weakest == [{"name": "b", "accuracy": 0.4}, {"name": "c", "accuracy": 0.7}]


def test_limitations_name_the_measured_weak_spots():
    pairs = [{"a": "Shirt", "b": "T-shirt", "a_as_b": 30, "b_as_a": 15, "count": 45, "share": 0.2}]
    weakest = [{"name": "Shirt", "accuracy": 0.61}, {"name": "Coat", "accuracy": 0.8}]
    text = " ".join(dense.limitations_text("Dense", 0.88, weakest, pairs))
    assert "weakest classes are Shirt (61.00%) and Coat (80.00%), against 88.00% overall" in text
    assert "Shirt taken for T-shirt 30 times and the reverse 15 times" in text
    clean = " ".join(dense.limitations_text("Dense", 1.0, [], []))
    assert "no confusions" in clean and "taken for" not in clean


# -- cnn (section 3) --------------------------------------------------------------------------------


def test_per_class_shift_counts_gains_losses_and_ties():
    names = ["a", "b", "c", "d"]
    text = cnn.per_class_shift_text(
        "Dense", "CNN", [0.5, 0.8, 0.7, 0.9], [0.7, 0.75, 0.7, 0.95], names, [100] * 4
    )
    assert "more accurate than Dense on 2 of 4 classes, less accurate on 1 and level on 1" in text
    assert "largest gain is on a (+20.0 pp), the largest loss on b (-5.0 pp)" in text
    assert "not tested one by one; with 100 test images per class" in text
    worse = cnn.per_class_shift_text("Dense", "CNN", [0.9, 0.9], [0.8, 0.85], ["a", "b"], [10, 12])
    assert "on 0 of 2 classes, less accurate on 2" in worse and "largest gain" not in worse
    assert "largest loss is on a (-10.0 pp)" in worse and "10 to 12 test images" in worse


def test_cost_text_uses_measured_ratios():
    a = {"params": 100_000, "flops": 200_000, "train_seconds": seed_summary(10.0)}
    b = {"params": 180_000, "flops": 3_600_000, "train_seconds": seed_summary(25.0)}
    text = cnn.cost_text("Dense", a, "CNN 3x3", b)
    assert "CNN 3x3 has 180,000 parameters against 100,000 for Dense (1.8× the parameters)" in text
    assert "18.0× the FLOPs per image" in text and "2.5× the training time" in text
    cheaper = cnn.cost_text("Big", b, "Small", a)
    assert "only 0.56× the parameters" in cheaper


# -- kernels (section 4) ----------------------------------------------------------------------------


def test_kernel_conclusion_when_3x3_is_best_and_significantly_so():
    text = " ".join(kernels.kernel_conclusion(*kernel_study(0.91, 0.85, 0.84), reference=3, section="3"))
    assert text.startswith("CNN 3x3 has the highest mean test accuracy, 91.00%.")
    assert "significantly more accurate than CNN 5x5 and CNN 7x7" in text
    assert "The 3x3 kernel used in section 3 is the best-scoring size here" in text
    assert "also the cheapest" in text
    assert "not distinguishable" not in text and "do not single out" not in text


def test_kernel_conclusion_when_7x7_is_best_says_3x3_is_not():
    text = " ".join(kernels.kernel_conclusion(*kernel_study(0.85, 0.905, 0.91), reference=3, section="3"))
    assert text.startswith("CNN 7x7 has the highest mean test accuracy, 91.00%.")
    assert "significantly more accurate than CNN 3x3, but not distinguishable from CNN 5x5" in text
    assert (
        "The 3x3 kernel used in section 3 is not the best-scoring size here, and the gap is significant"
        in text
    )
    assert "trade-off" not in text  # the cheapest (3x3) is significantly worse: no trade-off claim


def test_kernel_conclusion_when_no_difference_is_significant():
    text = " ".join(kernels.kernel_conclusion(*kernel_study(0.900, 0.902, 0.903), reference=3, section="3"))
    assert "CNN 7x7 has the highest mean test accuracy" in text
    assert "No other kernel size differs significantly from CNN 7x7 (CNN 3x3 and CNN 5x5)" in text
    assert "do not single out a best kernel size" in text
    assert "significantly more accurate" not in text
    assert "is not the best-scoring size here, but the gap is not significant" in text
    assert (
        "Since CNN 3x3 is not significantly less accurate and needs the fewest FLOPs (100 per image against 300)"
        in text
    )


def test_kernel_conclusion_names_a_tie_as_a_tie():
    text = " ".join(kernels.kernel_conclusion(*kernel_study(0.90, 0.92, 0.92), reference=3, section="3"))
    assert text.startswith("CNN 5x5 and CNN 7x7 share the highest mean test accuracy, 92.00%.")
    assert "has the highest" not in text
    assert "CNN 5x5 is significantly more accurate than CNN 3x3, but not distinguishable from CNN 7x7" in text


def test_kernel_conclusion_with_one_kernel_claims_nothing():
    assert kernels.kernel_conclusion(*kernel_study(0.9), reference=3, section="3") == [
        "Only CNN 3x3 was trained, so no kernel sizes can be compared."
    ]


def test_tradeoff_text_reads_growth_from_the_rows():
    rows = [kernel_row(7, 0.9, 4_200), kernel_row(3, 0.9, 1_000)]
    text = kernels.tradeoff_text(rows)
    assert text.startswith("From CNN 3x3 to CNN 7x7")
    assert "FLOPs per image from 1,000 to 4,200 (4.2×)" in text
    assert "training time from 30.0 s to 70.0 s (2.3×)" in text
    assert "grows less than the FLOPs" in text  # parameters 1.0× against FLOPs 4.2×
    rows[0]["params"] = 10_000_000
    assert "grows less than the FLOPs" not in kernels.tradeoff_text(rows)
    assert kernels.tradeoff_text(rows[:1]) == ""


# -- references (appendix B) ------------------------------------------------------------------------


def test_benchmark_text_places_ours_among_the_published_figures():
    published = [{"name": "SVC", "accuracy": 0.897}, {"name": "MLP", "accuracy": 0.870}]
    text = references.benchmark_text(
        [{"name": "CNN 3x3", "accuracy": 0.91}, {"name": "Dense", "accuracy": 0.88}], published, full=True
    )
    assert "Our CNN 3x3 (91.00%) is above every published figure listed" in text
    assert "Our Dense (88.00%) is above MLP and below SVC" in text
    assert "subset" not in text
    low = references.benchmark_text([{"name": "Dense", "accuracy": 0.70}], published, full=False)
    assert "below every published figure listed" in low and "subset of the test set" in low
