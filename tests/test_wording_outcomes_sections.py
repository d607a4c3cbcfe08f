"""Sections 1 to 4, the summary, the variants family and the appendices: outcomes no other test pins."""

from __future__ import annotations

import dataclasses
import itertools

import numpy as np
import pytest

from fmnist_report.records import Record
from fmnist_report.report.sections import (
    cnn,
    data,
    dense,
    deployment,
    family,
    kernels,
    model_card,
    references,
    reproducibility,
    summary,
)
from fmnist_report.report.sections.values import model_rows
from fmnist_report.study.summary import model_summary, summarize, with_build

from .factories import VARIANTS, comparison, make_results, seed_summary

# -- section 4: kernel studies with two arms, or without the 3x3 arm ------------------------------


def kernel_arms(**accuracy: float) -> tuple[list[dict], object]:
    """One row per kernel size given (``k5=0.9``), FLOPs growing with the kernel, and every pair
    compared on one seed of 1,000 test images (each model right on its first accuracy x 1,000)."""
    rows = [
        {
            "model_id": f"cnn{name[1:]}",
            "label": f"CNN {name[1:]}x{name[1:]}",
            "kernel_size": int(name[1:]),
            "test_accuracy": seed_summary(acc),
            "flops": 100 * int(name[1:]),
        }
        for name, acc in accuracy.items()
    ]
    found = [
        comparison(a["model_id"], b["model_id"], a["label"], b["label"], round(x * 1000), round(y * 1000))
        for (a, x), (b, y) in itertools.combinations(zip(rows, accuracy.values(), strict=True), 2)
    ]
    comps = {f"{c['a']}__vs__{c['b']}": c for c in found}
    return rows, lambda a, b: comps.get(f"{a}__vs__{b}") or comps.get(f"{b}__vs__{a}")


def test_no_kernel_runs_is_said_in_one_sentence():
    assert kernels.kernel_conclusion([], lambda a, b: None) == ["No kernel-size runs were made."]


def test_two_arms_without_3x3_say_nothing_about_section_3():
    text = " ".join(kernels.kernel_conclusion(*kernel_arms(k5=0.80, k7=0.90), reference=3, section="3"))
    assert text == (
        "CNN 7x7 has the highest mean test accuracy, 90.00%. CNN 7x7 is significantly more accurate than CNN 5x5."
    )


def test_two_arms_with_3x3_behind_significantly_name_the_gap():
    paras = kernels.kernel_conclusion(*kernel_arms(k3=0.80, k5=0.90), reference=3, section="3")
    assert paras == [
        "CNN 5x5 has the highest mean test accuracy, 90.00%.",
        "CNN 5x5 is significantly more accurate than CNN 3x3.",
        "The 3x3 kernel used in section 3 is not the best-scoring size here, and the gap is significant.",
    ]


def test_two_arms_level_and_the_best_one_cheapest():
    paras = kernels.kernel_conclusion(*kernel_arms(k3=0.901, k5=0.900), reference=3, section="3")
    assert paras[1] == (
        "No other kernel size differs significantly from CNN 3x3 (CNN 5x5): the data do not single out a "
        "best kernel size."
    )
    assert paras[2:] == [
        "The 3x3 kernel used in section 3 is the best-scoring size here.",
        "CNN 3x3 is also the cheapest, so accuracy and cost agree.",
    ]


def test_the_reference_kernel_is_the_one_section_3_uses():
    paras = kernels.kernel_conclusion(*kernel_arms(k3=0.80, k5=0.90), reference=5, section="3")
    assert paras[-1] == "The 5x5 kernel used in section 3 is the best-scoring size here."


def test_without_the_cnn_of_section_3_nothing_is_said_of_it():
    assert kernels.kernel_conclusion(*kernel_arms(k3=0.80, k5=0.90)) == [
        "CNN 5x5 has the highest mean test accuracy, 90.00%.",
        "CNN 5x5 is significantly more accurate than CNN 3x3.",
    ]


# -- section 3 and section 2 -----------------------------------------------------------------------


def test_per_class_gains_only_name_no_loss():
    text = cnn.per_class_shift_text("Dense", "CNN 3x3", [0.5, 0.5], [0.6, 0.5], ["a", "b"], [100, 100])
    assert "more accurate than Dense on 1 of 2 classes, less accurate on 0 and level on 1." in text
    assert " The largest gain is on a (+10.0 pp). These per-class" in text and "loss" not in text


def test_equal_costs_are_called_the_same():
    row = {"params": 100_000, "flops": 1_000, "train_seconds": {"mean": 20.0}}
    text = cnn.cost_text("Dense", row, "Dense again", dict(row))
    assert "(the same parameters), needs the same FLOPs per image (1,000 against 1,000)" in text
    assert "took the same training time (20.0 s against 20.0 s on this machine)" in text
    assert "×" not in text


def test_the_baseline_limitations_end_with_what_a_dense_layer_cannot_know():
    paras = dense.limitations_text("Dense", 0.9, [], [])
    assert paras[-1].startswith("A dense layer treats the 784 pixels as an unordered vector")
    assert len(paras) == 2  # no weakest classes given: no sentence about them


# -- section 1 ----------------------------------------------------------------------------------------


def test_an_unknown_split_is_refused_by_name():
    with pytest.raises(ValueError, match="split must be stratified or last, got 'random'"):
        data.split_phrase("random", 0.15)


@pytest.mark.parametrize(
    ("split", "words"),
    [
        ("stratified", "split stratified 15% per class (a random, seeded choice within each class)"),
        (
            "last",
            "split the last 15% (the final images in file order, as Keras' validation_split takes them)",
        ),
    ],
)
def test_the_preprocessing_says_how_each_split_picks_its_images(split, words):
    scaled = {"min": 0.0, "max": 1.0, "mean": 0.286}
    assert words in data.preprocessing_text(split, 0.15, 51_000, 9_000, scaled, "float32", 10)


def test_balance_states_an_even_split_by_its_count():
    names = ["a", "b"]
    even = data.balance_text([5, 5], [2, 2], names)
    assert (
        even
        == "The classes are exactly balanced: every class has 5 training images; every class has 2 test images."
    )
    uneven = data.balance_text([5, 5], [2, 3], names)
    assert uneven == (
        "The classes are not balanced: every class has 5 training images; test classes range from 2 (a) "
        "to 3 (b) images, a ratio of 1.50."
    )


# -- the summary ---------------------------------------------------------------------------------------


def test_scope_says_whether_the_numbers_cover_the_full_data_set():
    full = summary.scope_text("full", 60_000, 10_000, 10, 3, full=True)
    assert "on 60,000 training and 10,000 test images (the full data set)." in full
    quick = summary.scope_text("quick", 3_000, 1_000, 2, 3, full=False)
    assert "(a stratified subset, not the full data set). This is the quick profile, a preview:" in quick


def test_scope_of_the_full_profile_on_a_subset_does_not_call_it_the_full_profile_preview():
    text = summary.scope_text("full", 3_000, 1_000, 10, 3, full=False)
    assert "(a stratified subset, not the full data set)." in text
    assert "This is the full profile, a preview" not in text
    assert "The full profile's settings on a subset are a preview:" in text
    assert "must not be quoted as the study's results" in text


# -- the variants family ---------------------------------------------------------------------------------


def test_power_notes_say_a_shared_sentence_once_and_name_each_other_one():
    row = {"label_a": "A", "label_b": "B", "power_text": "With one seed."}
    assert family.power_notes([row, {**row, "label_b": "C"}]) == ["With one seed."]
    other = {"label_a": "A", "label_b": "C", "power_text": "Another."}
    silent = {"label_a": "A", "label_b": "D", "power_text": ""}
    assert family.power_notes([row, other, silent]) == ["B vs A: With one seed.", "C vs A: Another."]


def test_describe_words_booleans_lists_floats_and_plain_values():
    assert family.describe({"batch_norm": True, "residual": False, "dense_units": [256, 128]}) == (
        "batch_norm true, residual false, dense_units [256, 128]"
    )
    assert family.describe({"dropout": 0.25, "filters": 16}) == "dropout 0.25, filters 16"


def test_class_changes_name_the_largest_gains_and_losses_or_no_change():
    base = {"label": "CNN 3x3", "per_class_accuracy": [0.5, 0.5, 0.5, 0.5]}
    other = {"label": "CNN 3x3 [dropout]", "per_class_accuracy": [0.6, 0.4, 0.52, 0.5]}
    changes = family.class_changes(["a", "b", "c", "d"], base, other)
    assert (
        changes["text"]
        == "Per class, CNN 3x3 [dropout] gains most on a (+10.0 pp) and c (+2.0 pp) and loses most on b (-10.0 pp)."
    )
    gains = family.class_changes(
        ["a", "b", "c", "d"], base, {**other, "per_class_accuracy": [0.6, 0.5, 0.5, 0.5]}
    )
    assert gains["text"] == "Per class, CNN 3x3 [dropout] gains most on a (+10.0 pp)."
    losses = family.class_changes(
        ["a", "b", "c", "d"], base, {**other, "per_class_accuracy": [0.5, 0.4, 0.5, 0.5]}
    )
    assert losses["text"] == "Per class, CNN 3x3 [dropout] loses most on b (-10.0 pp)."
    same = family.class_changes(["a", "b", "c", "d"], base, {**other, "per_class_accuracy": [0.5] * 4})
    assert same["text"] == "Per class, CNN 3x3 [dropout] matches CNN 3x3 exactly."


# -- appendices, section 6 and the model card ---------------------------------------------------------


def test_no_benchmark_sentence_without_ours_or_the_published_figures():
    assert references.benchmark_text([], [{"name": "SVC", "accuracy": 0.897}], full=True) == ""
    assert references.benchmark_text([{"name": "Dense", "accuracy": 0.88}], [], full=True) == ""


def test_precision_says_how_mixed_precision_was_chosen_or_names_float32(tmp_path):
    s = summarize(make_results(tmp_path))

    def used(precision: str, asked: str):
        return dataclasses.replace(
            s,
            study=dataclasses.replace(s.study, precision=asked),
            provenance=dataclasses.replace(s.provenance, precisions=(precision,)),
        )

    assert reproducibility.precision_text(used("mixed_bfloat16", "mixed_bfloat16")) == (
        "mixed_bfloat16 (Keras mixed precision: bfloat16 arithmetic, float32 weights and softmax output)"
    )
    assert reproducibility.precision_text(used("mixed_bfloat16", "auto")) == (
        "mixed_bfloat16 (Keras mixed precision: bfloat16 arithmetic, float32 weights and softmax output; "
        "chosen by precision = auto because this CPU computes bfloat16 natively)"
    )
    assert reproducibility.precision_text(used("float32", "mixed_bfloat16")) == "float32"


def test_the_settings_list_sequences_none_and_each_declared_variant(tmp_path):
    assert reproducibility.config_value([3, 5, 7]) == "3, 5, 7"
    assert reproducibility.config_value(None) == "none (all)" and reproducibility.config_value(10) == 10
    assert (
        reproducibility.variant_text({"name": "dropout", "base": "cnn", "dropout": 0.3})
        == "base cnn; dropout 0.3"
    )
    s = summarize(make_results(tmp_path, variants=VARIANTS))
    built = reproducibility.build(s, model_rows(s))
    listed = {c["key"]: c["value"] for c in built["config"]}
    assert listed["variant dropout"] == "base cnn; dropout 0.3" and "variants" not in listed
    assert listed["kernel_sizes"] == "3, 5, 7"
    assert built["platform_note"].endswith("Compare reports only when they name the same platform.")


def test_deployment_without_an_export_lists_no_files(tmp_path):
    s = summarize(make_results(tmp_path))
    d = deployment.build(s, model_rows(s))  # the study's summary alone: nothing was exported
    assert d["exported"] is False and d["files"] == [] and d["total_bytes"] == 0 and d["created_utc"] == ""
    s = with_build(s, environment={}, model_dir="runs/a/model", export=None, predictions=[])
    d = deployment.build(s, model_rows(s))
    assert d["exported"] is False and d["files"] == [] and d["model_dir"] == "runs/a/model"
    assert d["commands"][0]["command"] == "fmnist-report predict --model-dir runs/a/model image.png"


def test_the_model_card_flags_a_subset_and_a_missing_calibration(tmp_path):
    s = summarize(make_results(tmp_path))
    card = model_card.build(s, model_rows(s))
    assert card["full_data"] is True and card["ece"] is None and card["n_bins"] is None
    s = dataclasses.replace(s, data=dataclasses.replace(s.data, subset="300 per class"))
    s.analyses["calibration"] = {
        "n_bins": 15,
        "ece": {s.roles.headline: {"summary": seed_summary(0.03, 0.01)}},
    }
    card = model_card.build(s, model_rows(s))
    assert card["full_data"] is False and card["subset"] == "300 per class"
    assert (
        card["ece"]["mean"] == 0.03 and card["ece"]["ci_half"] == pytest.approx(0.01) and card["n_bins"] == 15
    )


def test_the_card_states_each_class_over_the_seeds_with_a_t_interval():
    # Two seeds: t(0.975, 1 df) = 12.706, so class a's half-width is 12.706 x 0.1414 / sqrt(2) = 1.2706.
    def run(seed, per_class, confusion):
        metrics = {
            "model_id": "cnn3",
            "label": "CNN 3x3",
            "spec": {"seed": seed, "precision": "float32"},
            "params": 10,
            "flops": 20,
            "test_accuracy": 0.8,
            "test_loss": 0.5,
            "train_seconds": 1.0,
            "latency_ms_batched": 0.1,
            "latency_ms_single": 0.2,
            "per_class": {"accuracy": per_class},
        }
        return Record(
            kind="train", key=f"k{seed}", metrics=metrics, arrays={"confusion": np.array(confusion)}
        )

    row = model_summary(
        [
            run(0, [0.5, 1.0, 0.75], [[4, 1, 0], [0, 5, 0], [2, 0, 3]]),
            run(1, [0.7, 1.0, 0.75], [[4, 1, 0], [0, 5, 0], [1, 1, 3]]),
        ]
    )
    assert row["per_class"][1] == {
        "n": 2,
        "mean": 1.0,
        "std": 0.0,
        "ci_low": 1.0,
        "ci_high": 1.0,
        "confidence": 0.95,
        "has_ci": True,
    }
    assert row["confusion"] == [[8, 2, 0], [0, 10, 0], [3, 1, 6]]
    classes = model_card.per_class(row, ["a", "b", "c"])
    assert [c["name"] for c in classes] == ["a", "b", "c"]
    assert classes[0]["accuracy"]["mean"] == pytest.approx(0.6)
    assert classes[0]["accuracy"]["ci_half"] == pytest.approx(1.270620, rel=1e-5)
    assert classes[1]["accuracy"]["ci_half"] == 0.0 and classes[2]["accuracy"]["mean"] == 0.75
    # The summed matrix's off-diagonal cells, most frequent first, each as a share of its true class.
    assert model_card.confusions(row, ["a", "b", "c"]) == [
        {"true": "c", "predicted": "a", "count": 3, "share": 0.3},
        {"true": "a", "predicted": "b", "count": 2, "share": 0.2},
        {"true": "c", "predicted": "b", "count": 1, "share": 0.1},
    ]
