"""The estimate's inputs and sum: a calibration timed on a fake clock, rates from stored runs or
a calibration, and the estimate of a plan, each checked against numbers worked out by hand."""

from __future__ import annotations

import types

import pytest

from fmnist_report.study import calibration, clock
from fmnist_report.study.training import RunSpec

from .factories import synthetic_dataset
from .test_study import CountingReporter, tiny_config


def spec(arch: str = "cnn", kernel: int | None = 3, seed: int = 0, epochs: int = 10) -> RunSpec:
    return RunSpec(arch, kernel, seed, epochs, 128, 0.15, "stratified", 1e-3, "float32", "data")


@pytest.fixture
def fake_training(monkeypatch):
    """Training on a fake clock: building a model costs 1 s, its first fit traces for 2 s, a step
    takes 0.1 s and predicting 0.5 s. Returns the steps of each fit call."""
    now = [0.0]
    fits: list[int] = []

    class Trained:
        traced = False

        def fit(self, x, y, batch_size, validation_data=None, shuffle=False, verbose=0):
            steps = len(x) // batch_size
            now[0] += steps * 0.1 + (0.0 if self.traced else 2.0)
            self.traced = True
            fits.append(steps)

    def compiled(spec):
        now[0] += 1.0
        return object(), Trained()

    def predict(model, x):
        now[0] += 0.5

    monkeypatch.setattr(calibration, "time", types.SimpleNamespace(perf_counter=lambda: now[0]))
    monkeypatch.setattr(calibration, "compiled", compiled)
    monkeypatch.setattr(calibration, "feed", lambda x, y, size: {"x": x, "y": y, "batch_size": size})
    monkeypatch.setattr(calibration, "held_out", lambda x, y, size: (x, y))
    monkeypatch.setattr(calibration, "predict_proba", predict)
    return fits


def test_calibrate_times_steps_after_a_warm_up_and_charges_tracing_to_the_run(fake_training):
    rates = calibration.calibrate([spec(seed=0), spec(seed=1)])  # one architecture: timed once
    assert fake_training == [50, 30]  # a warm-up call of 50 steps, then 30 timed steps
    # a step: 3.0 s / 30 = 0.1 s, plus validation's share: a third of a step per held-out image,
    # 0.15 / 0.85 = 3/17 held out per training image, so 0.1 * (1 + 1/17)
    # a run besides its steps: 1 (build) + 2 (tracing) + 5 (warm-up) + 0.5 (predict) - 50 * 0.1
    assert rates == {"cnn3": clock.Rate(pytest.approx(0.1 * 18 / 17), pytest.approx(3.5))}


def test_calibrate_spends_no_more_than_its_budget(fake_training):
    rates = calibration.calibrate([spec()], budget={"cnn3": 8})
    # 8 steps: 8 * 50 // 80 = 5 to warm up, the 3 left timed; 1 + 2 + 0.5 + 0.5 - 5 * 0.1 = 3.5
    assert fake_training == [5, 3]
    assert rates["cnn3"] == clock.Rate(pytest.approx(0.1 * 18 / 17), pytest.approx(3.5))


def stored(arch: str, kernel: int | None, epochs: list[float], train_seconds: float, n_train: int) -> dict:
    spec_fields = {"arch": arch, "kernel_size": kernel, "batch_size": 128}
    return {"spec": spec_fields, "n_train": n_train, "epoch_seconds": epochs, "train_seconds": train_seconds}


def test_rates_for_reads_the_stored_architectures_and_calibrates_a_tenth_of_the_others(monkeypatch):
    asked = []

    def calibrate(specs, budget):
        asked.append(([clock.architecture(s) for s in specs], budget))
        return {"cnn5": clock.Rate(0.3, 5.0)}

    monkeypatch.setattr(calibration, "calibrate", calibrate)
    # cnn3 stored: steady epochs of 2 s over ceil(1280 / 128) = 10 steps; 10 - 3 * 2 = 4 s besides
    runs = [stored("cnn", 3, [5.0, 2.0, 2.0], 10.0, 1280)]
    todo = [spec(seed=1), spec(kernel=5, seed=0), spec(kernel=5, seed=1)]
    rates, source = calibration.rates_for(todo, runs, 1280)
    assert rates == {"cnn3": clock.Rate(pytest.approx(0.2), pytest.approx(4.0)), "cnn5": clock.Rate(0.3, 5.0)}
    # cnn5 will train 2 runs * 10 epochs * 10 steps = 200 steps: a tenth of them, 20
    assert asked == [(["cnn5", "cnn5"], {"cnn5": 20})]
    assert source == "the stored runs' epoch times and a short calibration"
    assert calibration.rates_for(todo[:1], runs, 1280)[1] == "the stored runs' epoch times"
    assert calibration.rates_for(todo[1:], [], 1280)[1] == "a short calibration"


class FakeStore:
    def __init__(self, records: dict[str, dict]) -> None:
        self.records = records

    def has(self, kind: str, key: str) -> bool:
        return key in self.records

    def get(self, kind: str, key: str):
        return types.SimpleNamespace(metrics=self.records[key]) if key in self.records else None


def test_the_estimate_prices_each_run_to_train_and_schedules_them_on_the_workers_that_start():
    data = synthetic_dataset(per_class_train=30, per_class_test=10)
    # 30 images a class, 15% held out: 5 a class (half rounds up), so 250 train in 2 steps of 128
    dense0, cnn0 = spec("dense", None, 0, epochs=2), spec(seed=0, epochs=2)
    todo = [spec("dense", None, 1, epochs=2), spec(seed=1, epochs=2), spec(seed=2, epochs=2)]
    store = FakeStore(
        {
            # dense: steady epochs of 1 s over 2 steps, 0.5 s a step; 7 - 3 * 1 = 4 s besides
            dense0.key: stored("dense", None, [3.0, 1.0, 1.0], 7.0, 250),
            # cnn3: steady epochs of 2 s, 1 s a step; 12 - 3 * 2 = 6 s besides
            cnn0.key: stored("cnn", 3, [6.0, 2.0, 2.0], 12.0, 250),
        }
    )
    # predicting 100 test images costs a third of a step per 128 images
    predicting = 100 / 128 / 3
    dense = 2 * 2 * 0.5 + 4.0 + predicting * 0.5
    cnn = 2 * 2 * 1.0 + 6.0 + predicting * 1.0
    plan = [dense0, cnn0, *todo]
    one = calibration.estimate(plan, data, store, fresh=False)
    assert one.per_run == {todo[0].key: pytest.approx(dense), todo[1].key: pytest.approx(cnn),
                           todo[2].key: pytest.approx(cnn)}  # fmt: skip
    assert one.total == pytest.approx(dense + 2 * cnn)
    assert one.source == "the stored runs' epoch times"
    # 2 workers: each run twice as long; the Dense run and one CNN start, the other CNN follows
    # the Dense run on its worker
    assert calibration.estimate(plan, data, store, fresh=False, jobs=2).total == pytest.approx(
        2 * dense + 2 * cnn
    )
    # --jobs 999 starts 3 workers for 3 runs: each three times as long, all at once
    many = calibration.estimate(plan, data, store, fresh=False, jobs=999)
    assert many.total == pytest.approx(3 * cnn)
    assert many.per_run == one.per_run  # each run's own seconds, as the clock counts them
    assert calibration.estimate(plan[:2], data, store, fresh=False).total == 0.0  # all stored


def test_a_very_long_estimate_is_one_warning_before_training_that_says_how_to_shorten_it(
    tmp_path, toy_data, monkeypatch
):
    cfg = tiny_config(tmp_path)
    hours = 326 * 3600.0

    def estimate(specs, data, store, *, fresh, jobs=1):
        return calibration.Estimate({s.key: hours / len(specs) for s in specs}, hours, "a short calibration")

    monkeypatch.setattr(calibration, "estimate", estimate)
    monkeypatch.setattr(calibration, "logical_cpus", lambda: 2, raising=False)
    reporter = CountingReporter()
    reporter.info = lambda message: None
    calibration.announce(cfg, toy_data, None, reporter, parts=["dense"], fresh=False, jobs=1)
    (line,) = reporter.warnings
    assert "326 h 00 min" in line and "--profile quick" in line and "--seeds 1" in line
    assert "--jobs" not in line  # 2 cores: one run at a time measured fastest
    assert "\n" not in line

    hours = calibration.LONG_BUILD_S - 60
    reporter.warnings.clear()
    calibration.announce(cfg, toy_data, None, reporter, parts=["dense"], fresh=False, jobs=1)
    assert reporter.warnings == []
    assert "--jobs up to 16" in calibration.long_build_line(20 * 3600.0, 1, 16)
