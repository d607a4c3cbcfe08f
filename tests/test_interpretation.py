"""Section 5: each claim's sentences follow the numbers for every outcome they may report; the items follow the claims."""

from __future__ import annotations

import numpy as np
import pytest

from fmnist_report import models
from fmnist_report.config import Config, StudyConfig
from fmnist_report.data import Dataset
from fmnist_report.report import content
from fmnist_report.report.figures import make_all
from fmnist_report.report.sections import (
    claim_calibration,
    claim_errors,
    claim_hierarchy,
    claim_locality,
    claim_not_appropriate,
    claim_translation,
    claim_weight_sharing,
    interpretation,
)
from fmnist_report.store import Store
from fmnist_report.study import analyses, summary
from fmnist_report.study.results import StudyResults
from fmnist_report.study.summary import Summary, summarize
from fmnist_report.study.training import spec_for, train

from . import factories
from .factories import comparison, shift_metrics, synthetic_dataset

N = 1000


def fake_results(accuracy: dict[str, float]) -> StudyResults:
    """One seed per model; model m gets the first round(acc * N) test images right."""
    y = np.zeros(N, dtype=np.uint8)
    data = Dataset(np.zeros((1, 28, 28), np.uint8), y[:1], np.zeros((N, 28, 28), np.uint8), y)

    def predict(model_id: str, seed: int, y_true: np.ndarray) -> np.ndarray:
        return np.where(np.arange(N) < round(accuracy[model_id] * N), 0, 1)

    return factories.fake_results(
        tuple(accuracy), predict, seeds=1, data=data, config=Config(study=StudyConfig(seeds=1))
    )


def locality(acc: dict[str, float]) -> str:
    r = fake_results(acc)
    return " ".join(
        claim_locality.locality_text(
            summary.compare(r, "dense", "dense-permuted"),
            summary.compare(r, "cnn3", "cnn3-permuted"),
            summary.compare(r, "dense", "cnn3"),
            summary.compare(r, "dense-permuted", "cnn3-permuted"),
            seed=0,
        )
    )


# -- locality --------------------------------------------------------------------------------


def test_locality_text_when_the_permutation_costs_the_cnn_its_advantage():
    text = locality({"dense": 0.85, "dense-permuted": 0.85, "cnn3": 0.90, "cnn3-permuted": 0.80})
    assert "cost the CNN 3x3 10.0 pp (90.0% to 80.0%)" in text
    assert "depends on neighbouring pixels" in text
    assert "within noise" in text and "beyond noise" not in text
    assert "turns into a deficit" in text
    assert "CNN 3x3 is higher than Dense by 5.0 pp" in text


def test_locality_text_when_the_cnn_does_not_lose_anything():
    text = locality({"dense": 0.85, "dense-permuted": 0.85, "cnn3": 0.90, "cnn3-permuted": 0.899})
    assert "did not measurably change the CNN 3x3 (90.0% to 89.9%" in text
    assert "does not depend on locality" in text
    assert "cost the CNN" not in text
    assert "keeps a significant advantage even without locality" in text


def test_locality_text_says_when_dense_moves_beyond_noise():
    text = locality({"dense": 0.85, "dense-permuted": 0.80, "cnn3": 0.85, "cnn3-permuted": 0.70})
    assert "changed beyond noise" in text and "(85.0% to 80.0%" in text
    assert "did not differ significantly on the original pixels" in text


# -- weight sharing --------------------------------------------------------------------------

SHARING = [
    {
        "layer": "conv1",
        "output": "28x28x32",
        "shared": 320,
        "locally_connected": 250_880,
        "fully_connected": 19_668_992,
    },
    {
        "layer": "conv2",
        "output": "14x14x64",
        "shared": 18_496,
        "locally_connected": 3_625_216,
        "fully_connected": 78_675_968,
    },
]
CNN_SPLIT = {"conv": 18_816, "dense": 402_826, "total": 421_642, "conv_share": 18_816 / 421_642}
SPLIT = {
    "cnn3": CNN_SPLIT,
    "dense": {"conv": 0, "dense": 235_146, "total": 235_146, "conv_share": 0.0},
    "cnn3-permuted": CNN_SPLIT,
}


def test_weight_sharing_text_counts_what_unshared_weights_would_cost():
    head_to_head = comparison("dense", "cnn3", "Dense", "CNN 3x3", 850, 910)
    text = " ".join(
        claim_weight_sharing.weight_sharing_text(
            3, SHARING, CNN_SPLIT, SPLIT["dense"], "CNN 3x3", head_to_head
        )
    )
    assert (
        "conv1 applies the same 32 kernels of 3x3 weights at all 784 positions of its 28x28x32 output" in text
    )
    assert "it would need 250,880 (784× as many); connecting every input to every output, 19,668,992" in text
    assert "hold 18,816 of its 421,642 parameters (4.5%), 8.0% of the 235,146 parameters of the Dense" in text
    assert "Most of its parameters, 402,826 (95.5%)" in text
    assert (
        "With these shared weights, CNN 3x3 is higher than Dense by 6.0 pp" in text
        and "(85.0% and 91.0%)" in text
    )
    assert claim_weight_sharing.weight_sharing_text(None, None, None, SPLIT["dense"], "", None) == []


def test_weight_sharing_tables_leave_out_the_permuted_twins():
    labels = {"cnn3": "CNN 3x3", "dense": "Dense", "cnn3-permuted": "CNN 3x3 (permuted pixels)"}
    layers, split = claim_weight_sharing.weight_sharing_tables({"3": SHARING}, SPLIT, labels)
    assert layers["rows"][0] == ["3x3", "conv1", "28x28x32", "320", "250,880", "19,668,992"]
    assert [row[0] for row in split["rows"]] == ["CNN 3x3", "Dense"]


# -- hierarchy -------------------------------------------------------------------------------


def test_hierarchy_text_reads_receptive_fields_and_sparsity():
    filters = {
        "feature_map_kernel": 3,
        "kernel_sizes": [3],
        "images": "12 test images",
        "channels": {"conv1": 32, "conv2": 64},
        "sparsity": {"3": {"conv1": 0.3, "conv2": 0.6}},
        "dead_channels": {"3": {"conv1": 0, "conv2": 2}},
    }
    text = " ".join(claim_hierarchy.hierarchy_text({"3": models.receptive_fields(3)}, filters))
    assert "with 3x3 kernels, conv1 3x3, pool1 4x4, conv2 8x8, pool2 10x10" in text
    assert "covers 10x10 of the 28x28" in text
    assert (
        "30.0% of conv1's activations and 60.0% of conv2's are exactly zero" in text and "is sparser" in text
    )
    assert "Never active on these images: 2 of 64 conv2 channels." in text
    assert claim_hierarchy.hierarchy_text({}, None) == []


# -- when convolution is not appropriate -----------------------------------------------------

ROW = {
    "dense": {"label": "Dense", "params": 235_146, "flops": 469_898, "latency_ms_batched": {"mean": 0.01}},
    "cnn3": {"label": "CNN 3x3", "params": 421_642, "flops": 8_520_074, "latency_ms_batched": {"mean": 0.1}},
}


def test_not_appropriate_when_the_cnn_loses_on_unordered_inputs_and_wins_on_images():
    after = comparison("dense-permuted", "cnn3-permuted", "Dense (permuted)", "CNN 3x3 (permuted)", 850, 800)
    before = comparison("dense", "cnn3", "Dense", "CNN 3x3", 850, 900)
    text = " ".join(claim_not_appropriate.not_appropriate_text(after, before, ROW["dense"], ROW["cnn3"]))
    assert "the convolution is the wrong tool" in text and "18.1× the FLOPs" in text
    assert "8,520,074 FLOPs per image against 469,898" in text and "(10.0×)" in text
    assert "no significant accuracy" not in text


def test_not_appropriate_when_nothing_differs():
    after = comparison("dense-permuted", "cnn3-permuted", "Dense (permuted)", "CNN 3x3 (permuted)", 850, 851)
    before = comparison("dense", "cnn3", "Dense", "CNN 3x3", 850, 851)
    text = " ".join(claim_not_appropriate.not_appropriate_text(after, before, ROW["dense"], ROW["cnn3"]))
    assert "brings no measurable benefit" in text
    assert "bought no significant accuracy" in text
    worse = comparison("dense", "cnn3", "Dense", "CNN 3x3", 900, 850)  # the CNN significantly behind
    text = " ".join(claim_not_appropriate.not_appropriate_text(None, worse, ROW["dense"], ROW["cnn3"]))
    assert "The extra cost bought lower accuracy here" in text and "no significant accuracy" not in text


# -- translation -----------------------------------------------------------------------------


def eq_metrics(conv1: list[float], change: bool = True) -> dict:
    geometry = {
        "conv1": {"stride": 1},
        "pool1": {"stride": 2},
        "conv2": {"stride": 2},
        "pool2": {"stride": 4},
    }
    metrics = {
        "magnitudes": [1, 2, 3, 4],
        "layers": list(geometry),
        "geometry": geometry,
        "relative_error": {
            "conv1": conv1,
            "pool1": [0.26, 0.0, 0.25, 0.0],
            "conv2": [0.16, 0.0, 0.16, 0.0],
            "pool2": [0.12, 0.19, 0.13, 0.0],
        },
    }
    if change:
        metrics["relative_change"] = {
            "conv1": [0.31, 0.45, 0.54, 0.61],
            "pool1": [0.26, 0.42, 0.51, 0.58],
            "conv2": [0.16, 0.29, 0.37, 0.44],
            "pool2": [0.12, 0.19, 0.26, 0.27],
        }
    return metrics


def test_equivariance_text_when_conv1_is_exact():
    text = claim_translation.equivariance_text(eq_metrics([0.0, 0.0, 0.0, 0.0]))
    assert "shifts conv1's feature maps by exactly as many pixels" in text and "identical" in text
    assert (
        "pool1 (stride 2) follows shifts that are multiples of 2 exactly (error 0) but not the others (error 0.250 to 0.260)"
        in text
    )
    assert "pool2 (stride 4) follows shifts that are multiples of 4 exactly" in text
    assert "conv1 0.310, pool1 0.260, conv2 0.160 and pool2 0.120" in text
    assert "2.6× smaller than at conv1" in text and "partial invariance" in text


def test_equivariance_text_when_conv1_is_not_exact():
    text = claim_translation.equivariance_text(eq_metrics([0.02, 0.03, 0.02, 0.04], change=False))
    assert "only approximately" in text and "0.020 to 0.040" in text
    assert "exactly as many pixels" not in text and "partial invariance" not in text


def test_shift_accuracy_text_all_directions_and_mixed():
    text = claim_translation.shift_accuracy_text(shift_metrics([0.1, 0.2, 0.15, 0.12], 1e-6))
    assert "for Dense from 90.0% to 80.0% at 1 pixel and 30.0% at 4 pixels" in text
    assert "all 4 directions, by 10.0 to 20.0 pp (McNemar p < 0.001 in each, Holm-adjusted over" in text
    mixed = claim_translation.shift_accuracy_text(shift_metrics([0.1, -0.05, 0.0, 0.12], 0.01))
    assert "ahead of Dense in 2 of 4 directions and behind in 1" in mixed
    assert "degrades more gracefully" not in mixed


# -- calibration and errors ------------------------------------------------------------------


def cal_metrics(dense: list[float], cnn: list[float]) -> dict:
    n = len(dense)
    return {
        "binning": "15 equal-width bins",
        "models": ["dense", "cnn3"],
        "labels": {"dense": "Dense", "cnn3": "CNN 3x3"},
        "ece": {
            "dense": {"per_seed": dense, "summary": {"mean": float(np.mean(dense))}},
            "cnn3": {"per_seed": cnn, "summary": {"mean": float(np.mean(cnn))}},
        },
        "mean_confidence": {"dense": [0.93] * n, "cnn3": [0.90] * n},
        "accuracy": {"dense": [0.88] * n, "cnn3": [0.91] * n},
    }


@pytest.mark.parametrize(
    ("dense", "cnn", "expected"),
    [
        ([0.05, 0.06, 0.04], [0.02, 0.03, 0.01], "CNN 3x3 has the lower ECE on every one of 3 seeds"),
        ([0.05, 0.02, 0.04], [0.02, 0.03, 0.01], "changes from seed to seed"),
        ([0.05], [0.02], "with one seed there is no way to tell"),
        ([0.0401], [0.0398], "equal to three decimals"),
    ],
)
def test_calibration_text_reports_the_order_only_as_far_as_seeds_support(dense, cnn, expected):
    text = claim_calibration.calibration_text(cal_metrics(dense, cnn), ["dense", "cnn3"])
    assert expected in text
    assert "overconfident by 5.0 pp" in text and "underconfident by 1.0 pp" in text


def errors_metrics(share: list[float], area: list[float]) -> dict:
    pair = {
        "a": 0,
        "b": 6,
        "a_name": "T-shirt/top",
        "b_name": "Shirt",
        "a_as_b": 40,
        "b_as_a": 60,
        "total": 100,
    }
    gallery = [
        {
            "index": 7,
            "true_name": "Shirt",
            "predicted_name": "T-shirt/top",
            "confidence": 0.99,
            "true_probability": 0.004,
        }
    ]
    return {
        "labels": {"cnn3": "CNN 3x3", "dense": "Dense"},
        "n_seeds": {"cnn3": 3, "dense": 3},
        "errors": {"cnn3": 250, "dense": 300},
        "confused_pairs": {"cnn3": [pair], "dense": [{**pair, "total": 130}]},
        "mistakes": {
            "model": "cnn3",
            "seed": 0,
            "n_test": 1000,
            "n_errors": 80,
            "confident_threshold": 0.9,
            "n_confident_errors": 12,
            "gallery": gallery,
        },
        "saliency": {"indices": [7, 8], "on_object_share": share, "object_area": area},
    }


def test_errors_text_from_the_numbers():
    text = " ".join(claim_errors.errors_text(errors_metrics([0.8, 0.7], [0.4, 0.5])))
    assert "40 T-shirt/top called Shirt, 60 the other way" in text and "100 of its 250 errors" in text
    assert "Dense's most confused pair is the same" in text
    assert "12 were made with at least 90% confidence" in text and "test image 7" in text
    assert "In every case" in text
    text = " ".join(claim_errors.errors_text(errors_metrics([0.3, 0.7], [0.4, 0.5])))
    assert "Only in 1 of 2 cases" in text


# -- the items -------------------------------------------------------------------------------


def drawn_names(study_summary: Summary) -> list[str]:
    """The names of section 5's figures that the summary lets the report draw."""
    return [f.name for f in make_all(study_summary) if f.section == "interpretation"]


@pytest.fixture(scope="module")
def tiny_study(tmp_path_factory):
    """Dense, CNN 3x3 and their permuted twins trained one epoch on toy data, with every analysis."""
    from fmnist_report.study.experiments import filters, shift

    tmp = tmp_path_factory.mktemp("study")
    data = synthetic_dataset(per_class_train=6, per_class_test=3)
    study = StudyConfig(epochs=1, seeds=1, kernel_sizes=(3,), batch_size=32)
    config = Config(study=study, out_dir=tmp)
    store = Store(tmp / "cache")
    results = StudyResults(config=config, data=data)
    for arch, k, perm in (("dense", None, None), ("cnn", 3, None), ("dense", None, 0), ("cnn", 3, 0)):
        record = train(spec_for(study, data, arch, 0, kernel_size=k, permutation_seed=perm), data)
        store.put(record)
        record.model = None
        results.runs[record.metrics["model_id"]] = [record]
    mp = pytest.MonkeyPatch()
    mp.setattr(shift, "N_IMAGES", 12)
    mp.setattr(shift, "N_EQUIVARIANCE", 4)
    mp.setattr(filters, "N_IMAGES", 12)
    try:
        results.analyses = analyses.run_all(results, store)
    finally:
        mp.undo()
    return results


def test_evidence_items_follow_the_claims_and_show_only_drawn_figures(tiny_study):
    summary = summarize(tiny_study)
    drawn = drawn_names(summary)
    items = interpretation.evidence(summary, drawn)
    assert [i["claim"] for i in items] == [c.name for c in content.CLAIMS]
    assert len({i["id"] for i in items}) == len(items)
    shown = [name for i in items for name in i["figures"]]
    assert len(shown) == len(set(shown)) and set(shown) <= set(drawn)
    for item in items:
        assert item["paragraphs"] and all(isinstance(p, str) and p for p in item["paragraphs"])
        for table in item["tables"]:
            assert all(len(row) == len(table["columns"]) for row in table["rows"])
    locality = items[0]
    acc = tiny_study.runs["cnn3"][0].metrics["test_accuracy"]
    assert f"{acc * 100:.1f}%" in " ".join(locality["paragraphs"])


def test_evidence_leaves_out_what_did_not_run(tiny_study):
    partial = StudyResults(config=tiny_study.config, data=tiny_study.data)
    partial.runs = {m: tiny_study.runs[m] for m in ("dense", "cnn3")}
    partial.analyses = {k: v for k, v in tiny_study.analyses.items() if k == "calibration"}
    summary = summarize(partial)
    drawn = drawn_names(summary)
    assert drawn == ["reliability"]
    items = interpretation.evidence(summary, drawn)
    assert [i["id"] for i in items] == ["calibration"]
    assert items[0]["figures"] == ["reliability"]


def test_each_claim_carries_its_own_evidence_test_on_the_summary(tiny_study):
    def applying(runs: list[str], kinds: set[str]) -> list[str]:
        partial = StudyResults(config=tiny_study.config, data=tiny_study.data)
        partial.runs = {m: tiny_study.runs[m] for m in runs}
        partial.analyses = {k: v for k, v in tiny_study.analyses.items() if k in kinds}
        measured = summarize(partial)
        return [c.id for c in content.CLAIMS if c.applies(measured)]

    every_run = ["dense", "cnn3", "dense-permuted", "cnn3-permuted"]
    assert applying(every_run, set(tiny_study.analyses)) == [
        "locality",
        "weight-sharing",
        "translation",
        "hierarchy",
        "not-appropriate",
        "calibration",
        "errors",
    ]
    # The twins alone carry locality and the case against convolution on unordered inputs.
    assert applying(every_run, set()) == ["locality", "not-appropriate"]
    # Receptive fields (efficiency) or sparsity (filters) each carry the hierarchy.
    assert applying(every_run, {"filters"}) == ["locality", "hierarchy", "not-appropriate"]
    assert applying(["dense", "cnn3"], {"efficiency"}) == ["weight-sharing", "hierarchy", "not-appropriate"]
    assert applying(["dense", "cnn3"], {"shift", "calibration", "mistakes"}) == [
        "translation",
        "calibration",
        "errors",
    ]


def test_the_claims_keep_their_order_titles_and_figures():
    assert [(c.id, c.figures, c.draws) for c in content.CLAIMS] == [
        ("locality", ("locality",), ("locality.locality_figures",)),
        ("weight-sharing", ("filters",), ("filters.filter_figures",)),
        ("translation", ("equivariance", "shift_accuracy"), ("shift.shift_figures",)),
        ("hierarchy", ("feature_maps",), ("filters.filter_figures",)),
        ("not-appropriate", ("param_efficiency",), ("efficiency.efficiency_figures",)),
        ("calibration", ("reliability",), ("calibration.calibration_figures",)),
        ("errors", ("confident_mistakes", "saliency"), ("mistakes.mistake_figures",)),
    ]
    assert content.CLAIMS[2].title == "Translation equivariance: exact in conv1, partial after pooling"


def test_each_claim_names_the_figure_functions_that_draw_its_figures(tiny_study):
    from fmnist_report.report.parts import Drawn

    measured = summarize(tiny_study)
    for claim in content.CLAIMS:
        made = [spec.name for name in claim.draws for spec in Drawn(name).load()(measured)]
        assert set(claim.figures) <= set(made), claim.id


def test_every_analysis_round_trips_through_metrics_json(tiny_study):
    measured = summarize(tiny_study)
    assert sorted(measured.analyses) == ["calibration", "efficiency", "filters", "mistakes", "shift"]
    assert list(measured.analyses["shift"]["max_shift_mcnemar"]) == ["right", "left", "down", "up"]
    assert Summary.from_dict(measured.to_dict()) == measured
