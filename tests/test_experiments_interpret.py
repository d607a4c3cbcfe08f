"""The interpretation experiments on tiny models and data: exact numbers where they can be worked by hand."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from fmnist_report import models
from fmnist_report.config import Config, StudyConfig
from fmnist_report.data import scale
from fmnist_report.records import Record
from fmnist_report.store import Store
from fmnist_report.study import analyses
from fmnist_report.study.experiments import calibration, efficiency, filters, mistakes, probes, shift
from fmnist_report.study.results import StudyResults
from fmnist_report.study.training import spec_for, train

from .factories import synthetic_dataset


@pytest.fixture(scope="module")
def toy():
    return synthetic_dataset(per_class_train=8, per_class_test=4)


@pytest.fixture(scope="module")
def cnn3():
    keras.utils.set_random_seed(0)
    return models.build_cnn(3)


@pytest.fixture(scope="module")
def dense():
    keras.utils.set_random_seed(0)
    return models.build_dense()


# -- probes ----------------------------------------------------------------------------------


def test_shift_moves_right_and_down_and_fills_with_zeros():
    img = np.arange(1, 10, dtype=np.uint8).reshape(1, 3, 3)
    assert shift.shift(img, 1, 0)[0].tolist() == [[0, 1, 2], [0, 4, 5], [0, 7, 8]]
    assert probes.shift(img, 0, -1)[0].tolist() == [[4, 5, 6], [7, 8, 9], [0, 0, 0]]
    assert not probes.shift(img, 3, 0).any()


def test_subsample_is_seeded_sorted_and_whole_when_it_fits():
    assert probes.subsample(5, 10).tolist() == [0, 1, 2, 3, 4]
    a, b = probes.subsample(100, 10, seed=3), probes.subsample(100, 10, seed=3)
    assert a.tolist() == b.tolist() == sorted(set(a.tolist()))
    assert len(a) == 10
    assert (
        probes.describe_subsample(10, 100) == "10 of 100 test images, drawn without replacement with seed 0"
    )


# -- translation -----------------------------------------------------------------------------


def test_conv1_is_exactly_equivariant_and_pooling_only_for_multiples_of_its_stride(cnn3, toy):
    out, geometry = shift.equivariance_errors(cnn3, 3, toy.x_test[:12], max_shift=4)
    err = out["error"]  # (layers, directions, shifts 1..4)
    conv1, pool1, pool2 = (shift.LAYERS.index(n) for n in ("conv1", "pool1", "pool2"))
    assert geometry["pool1"]["stride"] == 2 and geometry["pool2"]["stride"] == 4
    assert np.nanmax(err[conv1]) < 1e-5
    assert np.nanmax(err[pool1][:, [1, 3]]) < 1e-5  # 2 and 4 pixels: whole pooled pixels
    assert np.nanmin(err[pool1][:, [0, 2]]) > 1e-3  # 1 and 3 pixels: not
    assert np.nanmax(err[pool2][:, 3]) < 1e-5  # 4 pixels: one pooled pixel of pool2
    # Against the unshifted maps, conv1 changes a lot: the check above is not trivially zero.
    assert np.nanmin(out["change"][conv1]) > 0.05


def test_relative_error_is_zero_for_equal_maps_and_nan_for_nothing():
    a = np.ones((2, 3, 3, 1), np.float32)
    assert shift.relative_error(a, a) == 0.0
    assert shift.relative_error(2 * a, a) == pytest.approx(1.0)
    assert np.isnan(shift.relative_error(a[:, :0], a[:, :0]))


def test_shift_run_records_accuracy_per_direction_and_comparison(cnn3, dense, toy):
    rec = shift.run(
        {"dense": dense, "cnn3": cnn3},
        {"dense": "Dense", "cnn3": "CNN 3x3"},
        cnn3,
        3,
        toy,
        max_shift=2,
        n_images=20,
        n_equivariance=6,
    )
    m = rec.metrics
    assert m["magnitudes"] == [0, 1, 2] and m["n_images"] == 20
    assert rec.arrays["accuracy"].shape == (2, 4, 3)
    x = scale(toy.x_test[rec.arrays["image_indices"]])
    plain = np.mean(np.asarray(cnn3(x)).argmax(axis=1) == toy.y_test[rec.arrays["image_indices"]])
    assert all(m["accuracy"]["cnn3"][d][0] == pytest.approx(plain) for d in shift.DIRECTIONS)
    assert set(m["max_shift_mcnemar"]) == set(shift.DIRECTIONS)
    assert (
        m["equivariance"]["relative_error"]["conv1"] == [0.0, 0.0]
        or max(m["equivariance"]["relative_error"]["conv1"]) < 1e-5
    )


# -- calibration -----------------------------------------------------------------------------


def test_ece_hand_computed():
    # Confidences 0.9 (right), 0.9 (wrong), 0.6 (right), 0.35 (wrong): three occupied bins.
    # |0.5 - 0.9| * 2/4 + |1 - 0.6| * 1/4 + |0 - 0.35| * 1/4 = 0.2 + 0.1 + 0.0875.
    probs = np.array([[0.9, 0.05, 0.05], [0.9, 0.05, 0.05], [0.2, 0.6, 0.2], [0.3, 0.35, 0.35]])
    labels = np.array([0, 1, 1, 0])
    assert calibration.ece(probs, labels) == pytest.approx(0.3875)
    bins = calibration.reliability(probs, labels)
    assert bins.shape == (15, 3) and bins[:, 2].sum() == 4
    assert bins[13].tolist() == pytest.approx([0.5, 0.9, 2.0])


def test_ece_is_zero_when_confidence_matches_accuracy():
    probs = np.tile([0.8, 0.2], (10, 1))
    labels = np.array([0] * 8 + [1] * 2)
    assert calibration.ece(probs, labels) == pytest.approx(0.0, abs=1e-12)


def test_calibration_run_summarises_each_model_over_seeds():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 10, 50)
    p = [(s, rng.dirichlet(np.ones(10), 50).astype(np.float32)) for s in (0, 1)]
    rec = calibration.run({"dense": p}, {"dense": "Dense"}, y)
    e = rec.metrics["ece"]["dense"]
    assert e["seeds"] == [0, 1] and e["summary"]["n"] == 2
    assert e["per_seed"][1] == pytest.approx(calibration.ece(p[1][1], y))
    assert rec.arrays["reliability_dense"].shape == (2, calibration.N_BINS, 3)


# -- errors ----------------------------------------------------------------------------------


def test_confused_pairs_count_both_directions():
    c = np.diag([50, 50, 50, 50])
    c[0, 2], c[2, 0], c[1, 3] = 7, 5, 9
    pairs = mistakes.confused_pairs(c, top=5)
    assert [(p["a"], p["b"], p["a_as_b"], p["b_as_a"], p["total"]) for p in pairs] == [
        (0, 2, 7, 5, 12),
        (1, 3, 9, 0, 9),
    ]


def test_confident_mistakes_are_wrong_and_most_confident_first():
    probs = np.array([[0.9, 0.1], [0.2, 0.8], [0.4, 0.6], [0.95, 0.05]])
    labels = np.array([0, 0, 0, 1])
    assert mistakes.confident_mistakes(probs, labels, top=5).tolist() == [3, 1, 2]


def test_mistakes_run_with_saliency(cnn3, toy):
    probs = np.asarray(cnn3(scale(toy.x_test)), dtype=np.float32)
    conf = np.zeros((10, 10), np.int64)
    conf[6, 0] = 3
    rec = mistakes.run({"cnn3": [conf]}, {"cnn3": "CNN 3x3"}, "cnn3", probs, cnn3, toy, n_saliency=2)
    mk = rec.metrics["mistakes"]
    assert rec.metrics["confused_pairs"]["cnn3"][0]["a_name"] == "T-shirt/top"
    assert mk["n_errors"] == int(np.sum(probs.argmax(axis=1) != toy.y_test))
    sal = rec.arrays["saliency"]
    assert sal.shape == (2, 28, 28) and sal.min() >= 0
    assert sal.reshape(2, -1).max(axis=1) == pytest.approx([1.0, 1.0])
    assert all(0 <= s <= 1 for s in rec.metrics["saliency"]["on_object_share"])


# -- filters and efficiency ------------------------------------------------------------------


def test_filters_run_returns_the_models_kernels_and_sparsity(cnn3, toy):
    keras.utils.set_random_seed(1)
    cnn5 = models.build_cnn(5)
    rec = filters.run({3: cnn3, 5: cnn5}, toy, n_images=10)
    m, a = rec.metrics, rec.arrays
    kernel = cnn3.get_layer("conv1").kernel.numpy()
    assert a["kernels_k3"].shape == (32, 3, 3) and a["kernels_k5"].shape == (32, 5, 5)
    assert np.array_equal(a["kernels_k3"][7], kernel[:, :, 0, 7])
    assert a["conv1_maps"].shape == (10, 28, 28, 32) and a["conv2_maps"].shape == (10, 14, 14, 64)
    assert m["example_classes"] == list(range(10))
    conv1 = np.asarray(probes.layer_outputs(cnn3, ["conv1"], scale(toy.x_test[probes.subsample(40, 10)]))[0])
    assert m["sparsity"]["3"]["conv1"] == pytest.approx(float(np.mean(conv1 == 0)))
    assert sorted(m["channel_order"]["conv2"]) == list(range(64))


def test_weight_sharing_in_numbers():
    table = models.layer_table(models.build_cnn(3))
    rows = {r["layer"]: r for r in efficiency.weight_sharing(table, 3)}
    assert rows["conv1"]["shared"] == 32 * (9 + 1) == 320
    assert rows["conv1"]["locally_connected"] == 28 * 28 * 32 * (9 + 1)
    assert rows["conv1"]["fully_connected"] == (28 * 28 + 1) * 28 * 28 * 32
    assert rows["conv2"]["locally_connected"] == 14 * 14 * 64 * (9 * 32 + 1)
    split = efficiency.param_split(table)
    assert split["conv"] == 320 + 18_496 and split["total"] == 421_642
    with pytest.raises(ValueError, match="expected"):
        efficiency.weight_sharing(table, 5)


# -- orchestration: cached and resumable -----------------------------------------------------


def test_run_all_computes_each_analysis_once_then_reads_the_store(tmp_path, monkeypatch):
    data = synthetic_dataset(per_class_train=6, per_class_test=3)
    study = StudyConfig(epochs=1, seeds=1, kernel_sizes=(3,), batch_size=32)
    config = Config(study=study, out_dir=tmp_path)
    store = Store(tmp_path / "cache")
    results = StudyResults(config=config, data=data)
    for arch, k, perm in (("dense", None, None), ("cnn", 3, None)):
        record = train(spec_for(study, data, arch, 0, kernel_size=k, permutation_seed=perm), data)
        store.put(record)
        record.model = None
        results.runs[record.metrics["model_id"]] = [record]
    monkeypatch.setattr(shift, "N_IMAGES", 10)
    monkeypatch.setattr(shift, "N_EQUIVARIANCE", 4)
    monkeypatch.setattr(filters, "N_IMAGES", 10)

    calls: list[str] = []
    for module in (filters, shift, calibration, mistakes, efficiency):
        original = module.run

        def counted(*args, _orig=original, _kind=module.KIND, **kwargs) -> Record:
            calls.append(_kind)
            return _orig(*args, **kwargs)

        monkeypatch.setattr(module, "run", counted)

    first = analyses.run_all(results, store)
    assert sorted(calls) == sorted(first) == ["calibration", "efficiency", "filters", "mistakes", "shift"]
    assert all(store.has(kind, rec.key) for kind, rec in first.items())
    assert first["shift"].metrics["compute_seconds"] >= 0

    calls.clear()
    second = analyses.run_all(results, store)
    assert calls == []
    assert {k: r.key for k, r in second.items()} == {k: r.key for k, r in first.items()}
    assert second["calibration"].metrics["ece"] == first["calibration"].metrics["ece"]

    analyses.run_all(results, store, fresh=True)
    assert len(calls) == 5
