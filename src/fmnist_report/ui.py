"""Progress reporting for the terminal (rich bars with ETA), for logs (plain lines) and quiet mode."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from fmnist_report.config import Config
from fmnist_report.records import Record
from fmnist_report.report import wording
from fmnist_report.report.formatting import mean_ci, num, plural
from fmnist_report.study import clock
from fmnist_report.study.summary_types import SeedStats, Summary
from fmnist_report.study.training import RunSpec


def _epoch_callback(on_epoch: Any) -> Any:
    import keras

    class EpochProgress(keras.callbacks.Callback):
        def on_epoch_end(self, epoch: int, logs: dict[str, float] | None = None) -> None:
            on_epoch(epoch + 1, logs or {})

    return EpochProgress()


class ConsoleReporter:
    """Reports the study's progress: rich bars on a terminal, one line per event elsewhere."""

    def __init__(self, console: Console, *, quiet: bool = False) -> None:
        self.console = console
        self.quiet = quiet
        self.live = console.is_terminal and not quiet
        self.progress: Progress | None = None
        self._runs_task: Any = None
        self._epoch_task: Any = None
        self._done = 0
        self._total = 0
        self._running = 0
        #: Seconds each run to train should take here alone (`expect`), what the bar has counted
        #: of each, and the expected and measured seconds of the runs finished so far, each as
        #: long as it ran (runs side by side take longer each, `clock.time_left`).
        self._expected: dict[str, float] = {}
        self._counted: dict[str, float] = {}
        self._finished = [0.0, 0.0]
        self._last_event = time.perf_counter()  # the plan told, or the last run finished
        self._todo = 0
        #: The time line: the runs not yet started, in the order the executor starts them; when
        #: each started one began; how many run at once (`running`).
        self._queue: list[str] = []
        self._began: dict[str, float] = {}
        self._workers = 1

    # -- the study's Reporter protocol --
    def expect(self, seconds: Mapping[str, float]) -> None:
        self._expected = dict(seconds)

    def plan(self, specs: Sequence[RunSpec], cached: set[str]) -> None:
        self._total = len(specs)
        todo = self._total - len(cached)
        self._line(f"{plural(self._total, 'training run')} planned: {len(cached)} cached, {todo} to train")
        self._last_event = time.perf_counter()
        self._queue = [s.key for s in specs if s.key not in cached]
        if self.live and todo:
            # With an estimate the bar counts expected seconds, so its time remaining weighs a
            # CNN 7x7 run as the 7x7 costs; without one, it counts runs.
            timed = all(s.key in self._expected for s in specs if s.key not in cached)
            self.progress = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                TextColumn("{task.fields[runs]}") if timed else MofNCompleteColumn(),
                TimeElapsedColumn(),
                TextColumn("remaining"),
                TimeRemainingColumn(),
                console=self.console,
                transient=False,
            )
            self.progress.start()
            total = sum(self._expected[s.key] for s in specs if s.key not in cached) if timed else todo
            self._runs_task = self.progress.add_task("runs", total=total, runs=f"0/{todo} runs")
            self._todo = todo

    def run_started(self, spec: RunSpec) -> list[Any]:
        desc = f"{spec.label}, seed {spec.seed}"
        if self.progress is not None:
            if self._epoch_task is not None:
                self.progress.remove_task(self._epoch_task)
            self._epoch_task = self.progress.add_task(f"  {escape(desc)}: epochs", total=spec.epochs, runs="")
        else:
            self._line(f"training {desc} ({plural(spec.epochs, 'epoch')})")

        def on_epoch(epoch: int, logs: dict[str, float]) -> None:
            if self.progress is not None:
                self.progress.update(self._epoch_task, completed=epoch)
                self._count(spec, self._expected.get(spec.key, 0.0) * epoch / spec.epochs)
            elif not self.quiet:
                self._line(
                    f"  epoch {epoch}/{spec.epochs}: loss {_plain(logs.get('loss', float('nan')), 4)}, "
                    f"val_accuracy {_plain(logs.get('val_accuracy', float('nan')), 4)}"
                )

        return [_epoch_callback(on_epoch)]

    def run_finished(self, spec: RunSpec, record: Record, cached: bool) -> None:
        self._done += 1
        m = record.metrics
        how = "cached" if cached else f"trained in {_plain(m['train_seconds'], 0)} s"
        if not cached:
            self._finish(spec)
            left = self.seconds_left()
            if left is not None and self.progress is None and self._done < self._total:
                how += f"; about {clock.duration(left)} of training left"
        self._line(
            f"[{self._done}/{self._total}] {spec.label}, seed {spec.seed}: "
            f"test accuracy {_plain(m['test_accuracy'], 4)} ({how})"
        )
        if self._done == self._total:
            self.close()

    def warn(self, message: str) -> None:
        self.console.print(f"[yellow]warning:[/] {escape(message)}", soft_wrap=True)

    def running(self, count: int) -> None:
        """How many runs are training at once (more than one in a pool or on a cluster): the next
        runs of the plan start now, up to ``count``."""
        if self.progress is not None and self._runs_task is not None:
            self.progress.update(self._runs_task, description=f"runs ({count} running)")
        elif count > 1 and count != self._running:
            self._line(f"{count} runs training")
        self._running = count
        self._workers = max(self._workers, count)
        now = time.perf_counter()
        while len(self._began) < count and self._queue:
            self._began[self._queue.pop(0)] = now

    def seconds_left(self) -> float | None:
        """Until the last run ends: the runs started and those still to start, on the workers,
        at the pace of the finished runs (`clock.time_left`)."""
        if not self._expected:
            return None
        now = time.perf_counter()
        alone = self._expected
        expected_done, actual_done = self._finished
        pace = clock.pace(expected_done, actual_done, planned=self._workers * sum(alone.values()))
        return clock.time_left(
            [alone.get(k, 0.0) for k in self._queue],
            [(alone.get(k, 0.0), now - began) for k, began in self._began.items()],
            workers=self._workers,
            pace=pace,
        )

    def _count(self, spec: RunSpec, seconds: float) -> None:
        """Move the runs bar to ``seconds`` of this run's expected time."""
        if self.progress is not None and self._expected:
            self.progress.advance(self._runs_task, max(0.0, seconds - self._counted.get(spec.key, 0.0)))
        self._counted[spec.key] = max(seconds, self._counted.get(spec.key, 0.0))

    def _finish(self, spec: RunSpec) -> None:
        now = time.perf_counter()
        if spec.key in self._queue:  # an executor that said nothing of its start
            self._queue.remove(spec.key)
        began = self._began.pop(spec.key, self._last_event)
        self._last_event = now  # where the next run the executor says nothing of begins
        if self._queue and len(self._began) < self._workers:  # its worker takes the next run
            self._began[self._queue.pop(0)] = now
        expected = self._expected.get(spec.key)
        if expected is not None:
            self._count(spec, expected)
            self._finished[0] += expected * self._workers
            self._finished[1] += now - began
        if self.progress is not None:
            if not self._expected:
                self.progress.advance(self._runs_task)
            finished = sum(1 for k, v in self._counted.items() if v >= self._expected.get(k, 0.0))
            self.progress.update(self._runs_task, runs=f"{finished}/{self._todo} runs")

    # -- helpers --
    def info(self, message: str) -> None:
        self._line(message)

    def _line(self, message: str) -> None:
        if not self.quiet:
            self.console.print(message, soft_wrap=True, highlight=False, markup=False)

    def close(self) -> None:
        if self.progress is not None:
            self.progress.stop()
            self.progress = None


def _plain(x: float, digits: int) -> str:
    """A number as the terminal prints it: fixed decimals, no thousands separators."""
    return num(x, digits, grouped=False)


def _mean_ci(s: SeedStats, digits: int = 4) -> str:
    """``mean ± 95% CI half-width`` as the terminal's table prints it: no unit, no separators."""
    return mean_ci(s, "num", digits, grouped=False)


#: The headline table's columns; :func:`summary_rows` gives its cells.
SUMMARY_COLUMNS = ("model", "seeds", "accuracy", "loss", "params", "MFLOPs/image", "train s")


def summary_rows(summary: Summary) -> list[list[str]]:
    """The headline table's cells, one row per model (mean ± 95% CI half-width where seeds > 1)."""
    return [
        [
            escape(row["label"]),
            str(len(row["seeds"])),
            _mean_ci(row["test_accuracy"]),
            _mean_ci(row["test_loss"]),
            num(row["params"]),
            _plain(row["flops"] / 1e6, 2),
            _mean_ci(row["train_seconds"], digits=0),
        ]
        for row in summary.models.values()
    ]


def near_chance_lines(summary: Summary, profile: str | None = None) -> list[str]:
    """One line per model whose accuracy is near chance (the summary's ``near_chance`` flag)."""
    return [line for row in summary.models.values() if (line := wording.near_chance_line(row, profile))]


def summary_table(summary: Summary, profile: str | None = None) -> Any:
    """A rich table of the per-model summary, one line per comparison, then one per near-chance model."""
    from rich.table import Table

    table = Table(title="Results (test set; mean ± 95% CI half-width over seeds)")
    for col in SUMMARY_COLUMNS:
        table.add_column(col, justify="left" if col == "model" else "right")
    for cells in summary_rows(summary):
        table.add_row(*cells)
    grid = Table.grid(padding=(0, 1))
    grid.add_row(table)
    for comp in summary.comparisons.values():
        grid.add_row(f"• {escape(wording.comparison_sentence(comp))}")
    for line in near_chance_lines(summary, profile):
        grid.add_row(f"[yellow]warning:[/] {escape(line)}")
    return grid


def settings_line(cfg: Config) -> str:
    """Which settings file this build read, or that the defaults apply (and how to change that)."""
    if cfg.settings_file:
        return f"settings: {cfg.settings_file}"
    return (
        "settings: no settings file found (report/report.toml of the project folder), so the defaults "
        f'apply, author "{cfg.report.author}"; pass --config FILE to use one'
    )


def backend_line(choice: str, chosen: str) -> str:
    """What the backend setting chose, and for ``auto`` why (`backend.auto_reason`)."""
    from fmnist_report import backend

    if choice != "auto":
        return f"backend: {chosen} (asked for)"
    return f"backend: {chosen} (auto: {backend.auto_reason(chosen)})"
