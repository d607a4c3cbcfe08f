"""The build's clock: the arithmetic of the estimate, its rates, and the time left it shows."""

from __future__ import annotations

import io
import types

import pytest
from rich.console import Console

from fmnist_report import ui
from fmnist_report.records import Record
from fmnist_report.study import clock
from fmnist_report.study.training import RunSpec
from fmnist_report.ui import ConsoleReporter


def spec(arch: str = "cnn", kernel: int | None = 3, seed: int = 0, epochs: int = 10) -> RunSpec:
    return RunSpec(arch, kernel, seed, epochs, 128, 0.15, "stratified", 1e-3, "float32", "data")


def test_a_run_costs_its_epochs_steps_and_its_fixed_cost_at_its_architectures_rate():
    assert clock.steps_per_epoch(spec(), 51_000) == 399  # the last batch is partial
    assert clock.steps_per_epoch(spec(), 51_200) == 400
    rates = {"cnn3": clock.Rate(0.05, 3.0), "dense": clock.Rate(0.01, 1.0)}
    assert clock.run_seconds(spec(), 51_000, rates) == pytest.approx(3990 * 0.05 + 3.0)
    assert clock.run_seconds(spec("dense", None, epochs=2), 1280, rates) == pytest.approx(20 * 0.01 + 1.0)
    permuted = RunSpec("cnn", 3, 0, 10, 128, 0.15, "stratified", 1e-3, "float32", "data", permutation_seed=7)
    assert clock.architecture(permuted) == "cnn3"  # the same network, the same cost


def test_the_estimate_adds_runs_up_or_schedules_them_on_several_workers():
    one_step = 128  # training images for one step an epoch
    units = {"dense": clock.Rate(1.0, 0.0)}
    four = [spec("dense", None, epochs=e) for e in (4, 3, 2, 1)]
    assert [clock.run_seconds(s, one_step, units) for s in four] == [4, 3, 2, 1]
    assert clock.estimate_seconds(four, units, one_step) == pytest.approx(10)
    assert clock.estimate_seconds(four, units, one_step, jobs=2) == pytest.approx(5)  # 4+1 and 3+2
    assert clock.estimate_seconds(four, units, one_step, jobs=8) == pytest.approx(4)  # the longest run
    with pytest.raises(KeyError):
        clock.estimate_seconds([spec(kernel=7)], units, one_step)  # an architecture with no rate


def test_rates_come_from_the_stored_runs_steady_epochs_median_over_runs():
    def stored(kernel, epochs, n_train=256):
        return {
            "spec": {"arch": "cnn", "kernel_size": kernel, "batch_size": 128},
            "n_train": n_train,
            "epoch_seconds": epochs,
            "train_seconds": sum(epochs) + 1.0,  # one second of set-up besides the epochs
        }

    rates = clock.rates_from_records(
        [
            stored(3, [9.0, 2.0, 2.0]),  # the first epoch traces: left out; 2 s / 2 steps
            stored(3, [9.0, 4.0, 4.0]),
            stored(3, [9.0, 3.0, 3.0]),
            stored(7, [6.0]),  # one epoch only: it is all there is
            {"spec": {"arch": "dense", "kernel_size": None, "batch_size": 128}, "n_train": 256},  # no times
        ]
    )
    # cnn3: steps of 1.0, 2.0, 1.5 s, median 1.5; fixed costs (training beyond 3 steady epochs)
    # 8, 6, 7 s, median 7: the first epoch's extra plus the second of set-up
    assert rates["cnn3"].step == pytest.approx(1.5)
    assert rates["cnn3"].run == pytest.approx(7.0)
    assert rates["cnn7"] == clock.Rate(pytest.approx(3.0), pytest.approx(1.0))
    assert set(rates) == {"cnn3", "cnn7"}


def test_time_left_is_the_estimate_corrected_by_how_the_finished_runs_fared():
    assert 100.0 * clock.pace(0.0, 0.0) == 100.0
    assert 100.0 * clock.pace(50.0, 75.0) == pytest.approx(150.0)  # running 1.5x slow
    assert [clock.duration(s) for s in (40, 720, 7500)] == ["40 s", "12 min", "2 h 05 min"]


def test_a_short_first_run_barely_moves_the_time_left():
    """A 15 s Dense run done in 6 s of a 660 s plan: its pace counts for little, half the plan's for much."""
    plain = 645.0 * clock.pace(15.0, 6.0)
    weighed = 645.0 * clock.pace(15.0, 6.0, planned=660.0)
    assert plain == pytest.approx(258.0)  # the whole rest at the Dense run's pace: 40% of the estimate
    assert 560.0 < weighed < 645.0
    late = 330.0 * clock.pace(330.0, 495.0, planned=660.0)  # half done, 1.5x slow
    assert late == pytest.approx(330.0 * (495.0 + 66.0) / (330.0 + 66.0))
    assert late > 1.4 * 330.0


def test_the_log_says_how_much_training_is_left_after_each_run():
    buffer = io.StringIO()
    reporter = ConsoleReporter(Console(file=buffer, width=200))
    specs = [spec(seed=0), spec(seed=1), spec(seed=2)]
    reporter.expect({s.key: 60.0 for s in specs})
    reporter.plan(specs, cached=set())
    record = Record(kind="train", key=specs[0].key, metrics={"test_accuracy": 0.9, "train_seconds": 1.0})
    reporter.run_finished(specs[0], record, cached=False)
    line = buffer.getvalue().splitlines()[-1]
    assert "of training left" in line
    # two runs of 60 s are left; the first ran in well under its 60 s, so the time left is shorter
    left = reporter.seconds_left()
    assert left is not None and 0 < left < 120


def test_the_progress_bar_counts_each_runs_expected_seconds_epoch_by_epoch():
    buffer = io.StringIO()
    reporter = ConsoleReporter(Console(file=buffer, force_terminal=True, width=160))
    specs = [spec(seed=0, epochs=2), spec("dense", None, seed=1, epochs=2), spec(seed=2, epochs=2)]
    reporter.expect({specs[1].key: 30.0, specs[2].key: 10.0})  # specs[0] is cached: nothing to expect
    reporter.plan(specs, cached={specs[0].key})
    cached = Record(kind="train", key=specs[0].key, metrics={"test_accuracy": 0.9, "train_seconds": 1.0})
    reporter.run_finished(specs[0], cached, cached=True)
    assert reporter.progress is not None
    runs = reporter.progress.tasks[0]
    assert runs.total == 40.0
    (callback,) = reporter.run_started(specs[1])
    callback.on_epoch_end(0, {})
    assert runs.completed == pytest.approx(15.0)  # half the Dense run's 30 s
    callback.on_epoch_end(1, {})
    trained = Record(kind="train", key=specs[1].key, metrics={"test_accuracy": 0.8, "train_seconds": 2.0})
    reporter.run_finished(specs[1], trained, cached=False)
    assert runs.completed == pytest.approx(30.0) and runs.fields["runs"] == "1/2 runs"
    reporter.close()  # the last render
    assert "1/2 runs" in buffer.getvalue()


def test_the_pool_never_has_more_workers_than_runs_and_hands_them_out_in_plan_order():
    assert [clock.workers(jobs, 6) for jobs in (1, 2, 999)] == [1, 2, 6]
    assert clock.workers(4, 0) == 1
    units = {"dense": clock.Rate(1.0, 0.0)}
    rising = [spec("dense", None, epochs=e) for e in (1, 2, 3, 4)]  # 1, 2, 3 and 4 s
    # in this order on 2 workers: 1 then 3 on one (ends at 4), 2 then 4 on the other (ends at 6)
    assert clock.estimate_seconds(rising, units, 128, jobs=2) == pytest.approx(6)
    assert clock.makespan([5.0, 1.0, 1.0], 2, busy=[3.0]) == pytest.approx(5)  # 3+1+1 beside 5
    assert clock.makespan([], 3) == 0.0


def test_time_left_on_workers_that_share_the_cores():
    # one after another: 40 s of the running 60 s run are left, then two more runs of 60 s
    assert clock.time_left([60.0, 60.0], [(60.0, 20.0)]) == pytest.approx(160.0)
    # two at once: each run of 60 s alone takes 120 s; the busy workers are free after 20 and
    # 90 s, and the queued run takes the first one free: 20 + 120
    assert clock.time_left([60.0], [(60.0, 100.0), (60.0, 30.0)], workers=2) == pytest.approx(140.0)
    # at 1.5 times the expected seconds: runs of 180 s; the busy worker is free after 80 s
    slow = clock.time_left([60.0, 60.0], [(60.0, 100.0)], workers=2, pace=1.5)
    assert slow == pytest.approx(80.0 + 180.0)
    assert clock.pace(0.0, 5.0) == 1.0  # nothing finished: the estimate as it is
    assert clock.pace(120.0, 240.0, planned=480.0) == pytest.approx((240 + 48) / (120 + 48))


def test_the_time_left_with_two_workers_counts_each_run_as_long_as_it_ran(monkeypatch):
    """The trial's case: 4 runs of 60 s on 2 workers; wall time is no serial sum.

    Side by side, each run of 60 s alone takes 120 s (the estimate, 240 s); when the first
    ends, its twin ends too and the last two take another 120 s: 120 s are left, not 306.
    """
    now = [0.0]
    monkeypatch.setattr(ui, "time", types.SimpleNamespace(perf_counter=lambda: now[0]))
    buffer = io.StringIO()
    reporter = ConsoleReporter(Console(file=buffer, width=200))
    specs = [spec(seed=s) for s in range(4)]
    reporter.expect({s.key: 60.0 for s in specs})
    reporter.plan(specs, cached=set())
    reporter.running(2)  # as `executors.run_pool` says when its workers start

    def finish(s, at: float) -> float:
        now[0] = at
        reporter.running(2)
        record = Record(kind="train", key=s.key, metrics={"test_accuracy": 0.9, "train_seconds": 120.0})
        reporter.run_finished(s, record, cached=False)
        left = reporter.seconds_left()
        assert left is not None
        return left

    assert finish(specs[0], 120.0) == pytest.approx(120.0, abs=1.0)
    assert "about 2 min of training left" in buffer.getvalue().splitlines()[-1]
    assert finish(specs[1], 121.0) == pytest.approx(120.0, abs=1.0)  # the third began at 120
    assert finish(specs[2], 240.0) == pytest.approx(1.0, abs=1.0)  # the last began at 121
