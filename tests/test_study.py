"""The study engine: specs, training records, the store's cache, resume and determinism."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from fmnist_report.config import Config, StudyConfig
from fmnist_report.records import Record
from fmnist_report.store import Store
from fmnist_report.study import training
from fmnist_report.study.plan import plan
from fmnist_report.study.results import StudyResults
from fmnist_report.study.runner import NullReporter, run_study

from .factories import REAL_DIR, needs_real_data

TINY = StudyConfig(profile="quick", epochs=1, seeds=1, batch_size=32, kernel_sizes=(3, 5))


def tiny_config(tmp_path, **study_overrides) -> Config:
    fields = {**TINY.__dict__, **study_overrides}
    return Config(study=StudyConfig(**fields), out_dir=tmp_path / "out")


class CountingReporter(NullReporter):
    def __init__(self, stop_after: int | None = None) -> None:
        self.trained: list[str] = []
        self.cached: list[str] = []
        self.warnings: list[str] = []
        self.stop_after = stop_after

    def run_finished(self, spec, record, cached):
        (self.cached if cached else self.trained).append(spec.model_id)
        if self.stop_after is not None and len(self.trained) >= self.stop_after:
            raise KeyboardInterrupt  # as if the user pressed Ctrl-C during the next run

    def warn(self, message):
        self.warnings.append(message)


def test_plan_shares_the_3x3_run_and_adds_locality(tmp_path, toy_data):
    specs = plan(tiny_config(tmp_path, seeds=2), toy_data)
    ids = [(s.model_id, s.seed) for s in specs]
    assert ids.count(("cnn3", 0)) == 1  # the comparison CNN is the kernel study's 3x3 arm
    assert {m for m, _ in ids} == {"dense", "cnn3", "cnn5", "dense-permuted", "cnn3-permuted"}
    assert len(specs) == 2 * 3 + 2
    assert len({s.key for s in specs}) == len(specs)


def test_spec_key_changes_with_what_changes_results(tmp_path, toy_data):
    cfg = tiny_config(tmp_path)
    a = training.spec_for(cfg.study, toy_data, "cnn", 0, kernel_size=3)
    assert a.key == training.spec_for(cfg.study, toy_data, "cnn", 0, kernel_size=3).key
    assert a.key != training.spec_for(cfg.study, toy_data, "cnn", 1, kernel_size=3).key
    assert a.key != training.spec_for(tiny_config(tmp_path, epochs=2).study, toy_data, "cnn", 0, 3).key


def test_stratified_validation_split_holds_out_15_percent_of_each_class():
    labels = np.repeat(np.arange(10), 100)
    tr, va = training.validation_split(labels, 0.15, "stratified", seed=0)
    assert np.bincount(labels[va]).tolist() == [15] * 10
    assert len(np.intersect1d(tr, va)) == 0 and len(tr) + len(va) == 1000
    tr, va = training.validation_split(labels, 0.15, "last", seed=0)
    np.testing.assert_array_equal(va, np.arange(850, 1000))


def test_scores_from_a_hand_made_confusion_matrix():
    y_true = np.array([0, 0, 0, 1, 1, 2])
    y_pred = np.array([0, 0, 1, 1, 2, 2])
    cm = training.confusion_matrix(y_true, y_pred, num_classes=3)
    assert cm.tolist() == [[2, 1, 0], [0, 1, 1], [0, 0, 1]]
    scores = training.per_class_scores(cm)
    assert scores["recall"] == pytest.approx([2 / 3, 1 / 2, 1.0])
    assert scores["precision"] == pytest.approx([1.0, 1 / 2, 1 / 2])
    assert scores["f1"][0] == pytest.approx(2 * (1.0 * 2 / 3) / (1.0 + 2 / 3))


def test_cross_entropy_matches_hand_computation():
    p = np.array([[0.5, 0.5], [0.9, 0.1]], dtype=np.float32)
    assert training.cross_entropy(p, np.array([0, 1])) == pytest.approx(-(np.log(0.5) + np.log(0.1)) / 2)


def test_permutation_is_fixed_and_a_permutation():
    images = np.arange(2 * 784, dtype=np.int64).reshape(2, 28, 28)
    a = training.permute_pixels(images, 5)
    np.testing.assert_array_equal(a, training.permute_pixels(images, 5))
    assert sorted(a[0].ravel().tolist()) == list(range(784))
    assert not np.array_equal(a, images)


def test_training_is_deterministic_per_seed(tmp_path, toy_data):
    spec = training.spec_for(tiny_config(tmp_path).study, toy_data, "cnn", 0, kernel_size=3)
    a, b = training.train(spec, toy_data), training.train(spec, toy_data)
    np.testing.assert_array_equal(a.arrays["probabilities"], b.arrays["probabilities"])
    assert a.metrics["history"] == b.metrics["history"]
    assert a.metrics["params"] == 421_642 and a.metrics["n_val"] == 50  # 4.5 per class rounds up to 5


def test_cache_hit_trains_nothing_and_gives_the_same_numbers(tmp_path, toy_data):
    cfg = tiny_config(tmp_path)
    store = Store(cfg.cache_dir)
    first = CountingReporter()
    results = run_study(cfg, toy_data, store, first, only=["dense", "cnn"])
    assert sorted(first.trained) == ["cnn3", "dense"]
    second = CountingReporter()
    again = run_study(cfg, toy_data, store, second, only=["dense", "cnn"])
    assert second.trained == [] and sorted(second.cached) == ["cnn3", "dense"]
    for model_id in ("dense", "cnn3"):
        np.testing.assert_array_equal(
            results.first(model_id).arrays["probabilities"], again.first(model_id).arrays["probabilities"]
        )
        assert results.first(model_id).metrics == again.first(model_id).metrics


def test_interrupted_build_resumes_from_the_finished_runs(tmp_path, toy_data):
    cfg = tiny_config(tmp_path)
    store = Store(cfg.cache_dir)
    with pytest.raises(KeyboardInterrupt):
        run_study(cfg, toy_data, store, CountingReporter(stop_after=1), only=["dense", "kernels"])
    assert len(list((cfg.cache_dir / "train").iterdir())) == 1  # the finished run is kept, whole
    resumed = CountingReporter()
    run_study(cfg, toy_data, store, resumed, only=["dense", "kernels"])
    assert len(resumed.cached) == 1 and len(resumed.trained) == 2


def test_damaged_cache_entry_is_reported_and_recomputed(tmp_path, toy_data):
    cfg = tiny_config(tmp_path)
    store = Store(cfg.cache_dir)
    run_study(cfg, toy_data, store, CountingReporter(), only=["dense"])
    (entry,) = (cfg.cache_dir / "train").iterdir()
    (entry / "arrays.npz").write_bytes(b"not a zip file")
    reporter = CountingReporter()
    store = Store(cfg.cache_dir, warn=reporter.warn)
    run_study(cfg, toy_data, store, reporter, only=["dense"])
    assert reporter.trained == ["dense"]
    assert len(reporter.warnings) == 1 and "is damaged" in reporter.warnings[0]
    assert "recomputing" in reporter.warnings[0]


def test_store_round_trip_and_half_written_entries(tmp_path):
    store = Store(tmp_path)
    record = Record("eda", "k1", {"x": 1.5}, {"a": np.arange(3)})
    store.put(record)
    got = store.get("eda", "k1")
    assert got.metrics == {"x": 1.5} and got.arrays["a"].tolist() == [0, 1, 2]
    # A folder left by a kill -9 mid-write is never mistaken for an entry, and is cleaned.
    (tmp_path / "eda" / ".tmp-k2.abc").mkdir()
    assert store.get("eda", "k2") is None
    assert store.clean_partial() == 1


def test_unknown_part_is_a_config_error(tmp_path, toy_data):
    from fmnist_report.errors import ConfigError

    with pytest.raises(ConfigError, match="unknown part 'cnns'; choose from eda, dense"):
        run_study(tiny_config(tmp_path), toy_data, Store(tmp_path), only=["cnns"])


@needs_real_data
@pytest.mark.slow
def test_run_command_on_a_small_real_subset(tmp_path, monkeypatch):
    """End to end through the CLI on 30 real images per class; the second run trains nothing."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "r.toml").write_text(
        "[study]\nprofile = 'quick'\ntrain_per_class = 30\ntest_per_class = 20\nepochs = 1\n"
    )
    from fmnist_report.cli import app

    args = ["run", "--config", "r.toml", "--only", "eda,dense,cnn", "--json", "--data-dir", str(REAL_DIR)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["schema_version"] == 2 and summary["built"] is None  # the Summary of the study alone
    assert [m["model_id"] for m in summary["models"].values()] == ["dense", "cnn3"]
    assert all(0.1 < m["test_accuracy"]["mean"] <= 1.0 for m in summary["models"].values())
    assert "dense__vs__cnn3" in summary["comparisons"]
    assert len(list((tmp_path / "output" / "cache" / "train").iterdir())) == 2
    again = CliRunner().invoke(app, args)
    assert again.exit_code == 0 and json.loads(again.stdout) == summary


def test_study_results_groups_runs_by_model(tmp_path, toy_data):
    cfg = tiny_config(tmp_path, seeds=2)
    results = run_study(cfg, toy_data, Store(cfg.cache_dir), only=["dense"])
    assert [r.metrics["spec"]["seed"] for r in results.runs["dense"]] == [0, 1]
    assert isinstance(results, StudyResults) and results.eda is None


def test_unwritable_output_fails_fast_with_one_line(tmp_path):
    from fmnist_report.cli import app

    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    result = CliRunner().invoke(app, ["run", "--profile", "quick", "--out", str(blocker / "out")])
    assert result.exit_code == 1
    assert "is not writable" in result.output and "--out" in result.output
    assert "Traceback" not in result.output


def test_every_epoch_trains_on_a_new_order_of_the_same_images():
    orders = training.batch_orders(np.arange(40, 100), epochs=3, seed=0)
    assert all(sorted(o.tolist()) == list(range(40, 100)) for o in orders)
    assert len({tuple(o.tolist()) for o in orders}) == 3  # Keras' TensorFlow backend repeats one
    again = training.batch_orders(np.arange(40, 100), epochs=3, seed=0)
    assert all(np.array_equal(a, b) for a, b in zip(orders, again, strict=True))
    assert not np.array_equal(orders[0], training.batch_orders(np.arange(40, 100), 1, seed=1)[0])


def test_fit_reshuffled_feeds_each_epoch_its_own_order(tmp_path, toy_data):
    spec = training.spec_for(tiny_config(tmp_path).study, toy_data, "dense", 3)
    fed: list[np.ndarray] = []

    class Recorder:
        def fit(self, x, **kwargs):
            assert kwargs["shuffle"] is False and kwargs["epochs"] == kwargs["initial_epoch"] + 1
            batches = [images.numpy() for images, _ in x]  # the pipeline `training.feed` builds
            assert {len(b) for b in batches[:-1]} == {spec.batch_size}
            fed.append(np.concatenate(batches)[:, 0, 0].copy())
            return type("History", (), {"history": {"loss": [float(len(fed))]}})()

    x = np.arange(100, dtype=np.float32)[:, None, None] * np.ones((1, 28, 28), np.float32)
    history = training.fit_reshuffled(Recorder(), x, x, np.arange(80), np.arange(80, 100), spec, [])
    expected = training.batch_orders(np.arange(80), spec.epochs, spec.seed)
    assert [f.tolist() for f in fed] == [e.astype(np.float32).tolist() for e in expected]
    assert history == {"loss": [float(i + 1) for i in range(spec.epochs)]}
