"""Levers that claim the same numbers: the tf.data feed, thread counts, --jobs."""

from __future__ import annotations

import numpy as np
import pytest

from fmnist_report.data import one_hot, scale
from fmnist_report.errors import ConfigError
from fmnist_report.store import Store
from fmnist_report.study import executors, training
from fmnist_report.study.plan import plan
from fmnist_report.study.runner import NullReporter, execute

from .factories import synthetic_dataset
from .test_study import CountingReporter, tiny_config


def test_the_tf_data_feed_gives_the_probabilities_of_keras_own_array_pipeline(
    tmp_path, toy_data, monkeypatch
):
    """`training.feed` (autotuning off) against NumPy arrays handed to ``fit`` as before, CNN and Dense."""
    import keras

    x, y = scale(toy_data.x_train), one_hot(toy_data.y_train)
    for arch, kernel in (("cnn", 3), ("dense", None)):
        spec = training.spec_for(tiny_config(tmp_path, epochs=2).study, toy_data, arch, 2, kernel_size=kernel)
        tr, va = training.validation_split(toy_data.y_train, spec.validation_fraction, spec.split, spec.seed)
        probabilities, losses = [], []
        for arrays in (False, True):
            if arrays:  # what fit_reshuffled passed before the feed: the arrays and a batch size
                monkeypatch.setattr(
                    training, "feed", lambda xs, ys, size: {"x": xs, "y": ys, "batch_size": size}
                )
                monkeypatch.setattr(training, "held_out", lambda xs, ys, size: (xs, ys))
            else:
                assert "y" not in training.feed(x[:4], y[:4], 2)  # a pipeline on TensorFlow
            keras.utils.set_random_seed(spec.seed)
            model, trained = training.compiled(spec)
            history = training.fit_reshuffled(trained, x, y, tr, va, spec, [])
            losses.append(history["val_loss"])
            probabilities.append(training.predict_proba(model, scale(toy_data.x_test)))
            monkeypatch.undo()
        assert np.array_equal(probabilities[0], probabilities[1])
        assert losses[0] == losses[1] and len(losses[0]) == 2
        assert probabilities[0].std() > 0


def test_a_cnn_trained_in_a_pool_worker_gives_the_numbers_of_jobs_1(tmp_path):
    """oneDNN splits a convolution's sums by thread, so a worker whose thread pools differ from
    this process's gives other CNN numbers. Such a difference shows from 200 images a class in
    batches of 128 (1 thread against 2, measured on 2 cores), not on the tiny data sets of the
    other tests: this one trains on that much, one epoch, in one worker."""
    import keras

    data = synthetic_dataset(per_class_train=200, per_class_test=20)
    (spec,) = plan(tiny_config(tmp_path, batch_size=128, kernel_sizes=(3,)), data, ["cnn"])
    here = execute([spec], data, Store(tmp_path / "here"), NullReporter())[spec.key]  # --jobs 1
    (pooled,) = executors.run_pool(
        [spec], data, jobs=2, backend=keras.backend.backend(), running=lambda count: None
    )
    assert np.array_equal(here.arrays["probabilities"], pooled.arrays["probabilities"])
    assert here.metrics["history"] == pooled.metrics["history"]
    assert pooled.metrics["machine"] == here.metrics["machine"]  # the same threads, the same CPU
    assert here.arrays["probabilities"].std() > 0


def test_jobs_below_one_is_a_config_error(tmp_path, toy_data):
    cfg = tiny_config(tmp_path)
    with pytest.raises(ConfigError, match="--jobs must be a whole number of at least 1, got 0"):
        execute(plan(cfg, toy_data, ["dense"]), toy_data, Store(cfg.cache_dir), jobs=0)


@pytest.mark.slow  # two spawned processes import TensorFlow, then four tiny trainings: about 40 s
def test_jobs_give_the_in_process_numbers_and_a_rerun_resumes(tmp_path, toy_data):
    cfg = tiny_config(tmp_path)
    specs = plan(cfg, toy_data, ["dense", "cnn"])
    here = execute(specs, toy_data, Store(tmp_path / "here"), NullReporter())

    pooled_store = Store(tmp_path / "pool")
    with pytest.raises(KeyboardInterrupt):
        execute(specs, toy_data, pooled_store, CountingReporter(stop_after=1), jobs=2)
    assert len(list((tmp_path / "pool" / "train").iterdir())) == 1  # the first to finish, stored whole
    resumed = CountingReporter()
    pooled = execute(specs, toy_data, pooled_store, resumed, jobs=2)
    assert len(resumed.cached) == 1 and len(resumed.trained) == 1
    for spec in specs:
        a, b = here[spec.key], pooled[spec.key]
        assert np.array_equal(a.arrays["probabilities"], b.arrays["probabilities"])
        assert a.metrics["history"] == b.metrics["history"]
    assert pooled_store.read("train", specs[0].key, with_model=True).model is not None
