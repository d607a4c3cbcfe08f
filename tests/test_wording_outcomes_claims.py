"""Calibration, translation, errors and hierarchy: the outcomes no other test pins, each from its numbers."""

from __future__ import annotations

from fmnist_report import models
from fmnist_report.report.sections import claim_calibration, claim_errors, claim_hierarchy, claim_translation

from .factories import shift_metrics

# -- calibration ------------------------------------------------------------------------------------


def calibration(dense: list[float], cnn: list[float], conf: float = 0.93, acc: float = 0.88) -> dict:
    """ECE per seed of Dense and the CNN; Dense's mean confidence and accuracy are ``conf`` and ``acc``."""
    n = len(dense)
    return {
        "binning": "15 equal-width bins",
        "models": ["dense", "cnn3"],
        "labels": {"dense": "Dense", "cnn3": "CNN 3x3"},
        "ece": {
            "dense": {"per_seed": dense, "summary": {"mean": sum(dense) / n}},
            "cnn3": {"per_seed": cnn, "summary": {"mean": sum(cnn) / n}},
        },
        "mean_confidence": {"dense": [conf] * n, "cnn3": [0.90] * n},
        "accuracy": {"dense": [acc] * n, "cnn3": [0.91] * n},
    }


def test_the_cnn_worse_calibrated_on_every_seed_names_dense_as_lower():
    text = claim_calibration.calibration_text(
        calibration([0.02, 0.03, 0.01], [0.05, 0.06, 0.04]), ["dense", "cnn3"]
    )
    assert text.endswith(" Dense has the lower ECE on every one of 3 seeds.")
    assert "CNN 3x3 has the lower" not in text


def test_the_ece_range_over_seeds_is_given_only_with_several_seeds():
    several = claim_calibration.calibration_text(
        calibration([0.02, 0.03, 0.01], [0.05, 0.06, 0.04]), ["dense", "cnn3"]
    )
    assert "Dense ECE 0.020, 0.010 to 0.030 over 3 seeds (mean confidence 93.0%" in several
    assert "CNN 3x3 ECE 0.050, 0.040 to 0.060 over 3 seeds (mean confidence 90.0%" in several
    one = claim_calibration.calibration_text(calibration([0.02], [0.05]), ["dense", "cnn3"])
    assert "Dense ECE 0.020 (mean confidence 93.0% against accuracy 88.0%" in one and "over 1 seed" not in one


def test_a_model_whose_confidence_equals_its_accuracy_leans_neither_way():
    text = claim_calibration.calibration_text(
        calibration([0.02], [0.05], conf=0.88, acc=0.88), ["dense", "cnn3"]
    )
    assert (
        "(mean confidence 88.0% against accuracy 88.0%: neither over- nor underconfident by 0.0 pp)" in text
    )


def test_with_one_model_there_is_no_order_to_state():
    text = claim_calibration.calibration_text(calibration([0.02, 0.03], [0.05, 0.06]), ["dense"])
    assert text.startswith("Expected calibration error (15 equal-width bins;") and "CNN 3x3" not in text
    assert "lower ECE" not in text and "three decimals" not in text


# -- translation ------------------------------------------------------------------------------------


def equivariance(errors: dict[str, list[float]], strides: dict[str, int], change: dict | None = None) -> dict:
    metrics = {
        "magnitudes": [1, 2, 3, 4],
        "layers": list(errors),
        "geometry": {name: {"stride": strides[name]} for name in errors},
        "relative_error": errors,
    }
    if change is not None:
        metrics["relative_change"] = change
    return metrics


def test_conv1_equal_up_to_float_rounding_gives_the_largest_error():
    text = claim_translation.equivariance_text(equivariance({"conv1": [1e-7, 3e-7, 2e-7, 0.0]}, {"conv1": 1}))
    assert "the two are equal up to float rounding (largest relative error 3.0e-07)" in text
    assert "identical" not in text
    assert "Pooling breaks" not in text  # no layer after conv1: nothing to say about pooling


def test_later_layers_approximate_or_follow_no_shift_and_pooling_is_named():
    errors = {"conv1": [0.0] * 4, "pool1": [0.2, 0.01, 0.2, 0.02], "pool3": [0.3, 0.4, 0.35, 0.5]}
    text = claim_translation.equivariance_text(equivariance(errors, {"conv1": 1, "pool1": 2, "pool3": 8}))
    assert " Pooling breaks exact equivariance, because a shift that is not a whole number of pooled" in text
    assert (
        "pool1 (stride 2) follows shifts that are multiples of 2 approximately (error 0.010 to 0.020) "
        "but not the others (error 0.200)"
    ) in text
    assert text.endswith("pool3 (stride 8) follows no shift of 1 to 4 pixels exactly (error 0.300 to 0.500).")


def test_a_last_layer_as_sensitive_to_one_pixel_as_conv1_is_said_to_be():
    change = {"conv1": [0.2, 0.3, 0.4, 0.5], "pool1": [0.25, 0.3, 0.4, 0.5]}
    eq = equivariance({"conv1": [0.0] * 4, "pool1": [0.2, 0.0, 0.2, 0.0]}, {"conv1": 1, "pool1": 2}, change)
    text = claim_translation.equivariance_text(eq)
    assert "a 1-pixel shift changes each layer by (relative error) conv1 0.200 and pool1 0.250." in text
    assert text.endswith(" pool1 is not less sensitive to a 1-pixel shift than conv1 here.")
    assert "partial invariance" not in text


def test_behind_in_all_directions_gives_the_deficits_as_positive_points():
    text = claim_translation.shift_accuracy_text(shift_metrics([-0.1, -0.2, -0.15, -0.12], 1e-6))
    assert text.endswith(
        " At 4 pixels the CNN 3x3 is behind Dense in all 4 directions, by 10.0 to 20.0 pp "
        "(McNemar p < 0.001 in each, Holm-adjusted over the 4 directions)."
    )
    assert "degrades more gracefully" not in text and "ahead of" not in text


def test_one_direction_is_not_called_holm_adjusted():
    text = claim_translation.shift_accuracy_text(shift_metrics([0.01], 0.4, directions=("right",)))
    assert text.endswith(
        "significantly ahead of Dense in 0 of 1 directions and behind in 0 (McNemar, alpha 0.05); the "
        "difference ranges from +1.0 pp."
    )
    assert "Holm" not in text


def test_with_one_model_there_is_no_comparison_at_the_largest_shift():
    metrics = shift_metrics([0.1, 0.2, 0.15, 0.12], 1e-6)
    metrics["models"] = ["dense"]
    text = claim_translation.shift_accuracy_text(metrics)
    assert text.endswith("falls for Dense from 90.0% to 80.0% at 1 pixel and 30.0% at 4 pixels.")


# -- errors -----------------------------------------------------------------------------------------


def errors(other_pair: tuple[int, int], share: list[float]) -> dict:
    def pair(a: int, b: int, names: tuple[str, str], total: int) -> dict:
        return {
            "a": a,
            "b": b,
            "a_name": names[0],
            "b_name": names[1],
            "a_as_b": 40,
            "b_as_a": 60,
            "total": total,
        }

    return {
        "labels": {"cnn3": "CNN 3x3", "dense": "Dense"},
        "n_seeds": {"cnn3": 1, "dense": 1},
        "errors": {"cnn3": 250, "dense": 300},
        "confused_pairs": {
            "cnn3": [pair(0, 6, ("T-shirt/top", "Shirt"), 100)],
            "dense": [pair(*other_pair, ("Pullover", "Coat"), 130)],
        },
        "mistakes": {
            "model": "cnn3",
            "seed": 0,
            "n_test": 1000,
            "n_errors": 80,
            "confident_threshold": 0.9,
            "n_confident_errors": 0,
            "gallery": [],
        },
        "saliency": {
            "indices": [7, 8, 9][: len(share)],
            "on_object_share": share,
            "object_area": [0.4] * len(share),
        },
    }


def test_a_different_most_confused_pair_is_named_as_different():
    paras = claim_errors.errors_text(errors((2, 4), [0.8, 0.6]))
    assert paras[0].startswith(
        "The CNN 3x3's most confused class pairs, summed over 1 seed, are T-shirt/top/Shirt"
    )
    assert paras[0].endswith(" Dense's most confused pair is different: Pullover/Coat, 130 errors.")
    assert len(paras) == 2  # no gallery: no paragraph about confident mistakes


def test_the_saliency_shares_and_areas_are_given_as_ranges():
    text = claim_errors.errors_text(errors((0, 6), [0.8, 0.6]))[1]
    assert text.startswith(
        "For the 2 most confident mistakes, 60% to 80% of the saliency (the absolute gradient of the "
        "predicted score) falls on the garment's non-zero pixels, which cover 40% of the image."
    )


# -- hierarchy --------------------------------------------------------------------------------------


def sparsity(conv1: float, conv2: float, dead: dict[str, int]) -> str:
    filters = {
        "feature_map_kernel": 5,
        "kernel_sizes": [5],
        "images": "12 test images",
        "channels": {"conv1": 32, "conv2": 64},
        "sparsity": {"5": {"conv1": conv1, "conv2": conv2}},
        "dead_channels": {"5": dead},
    }
    paras = claim_hierarchy.hierarchy_text({}, filters)
    assert len(paras) == 1  # no receptive fields: no paragraph about them
    return paras[0]


def test_a_deeper_layer_less_sparse_or_as_sparse_is_worded_so():
    assert "are exactly zero after ReLU (12 test images): the deeper layer is less sparse." in sparsity(
        0.6, 0.3, {"conv1": 0, "conv2": 0}
    )
    assert "the deeper layer is as sparse." in sparsity(0.4, 0.4, {"conv1": 0, "conv2": 0})


def test_every_channel_active_is_said_and_dead_ones_are_counted_per_layer():
    alive = sparsity(0.3, 0.6, {"conv1": 0, "conv2": 0})
    assert " Every channel of both layers is active on some of these images." in alive
    dead = sparsity(0.3, 0.6, {"conv1": 1, "conv2": 3})
    assert "Never active on these images: 1 of 32 conv1 channels and 3 of 64 conv2 channels." in dead
    assert "Every channel" not in dead


def test_receptive_fields_alone_give_one_paragraph_per_kernel_size():
    paras = claim_hierarchy.hierarchy_text({"5": models.receptive_fields(5)}, None)
    assert len(paras) == 1 and "with 5x5 kernels, conv1 5x5" in paras[0]
    assert "a unit of the 5x5 network covers" in paras[0]
