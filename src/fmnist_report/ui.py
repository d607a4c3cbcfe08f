"""Progress reporting for the terminal (rich bars with ETA), for logs (plain lines) and quiet mode."""

from __future__ import annotations

from collections.abc import Sequence
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
from fmnist_report.report.formatting import plural
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

    # -- the study's Reporter protocol --
    def plan(self, specs: Sequence[RunSpec], cached: set[str]) -> None:
        self._total = len(specs)
        todo = self._total - len(cached)
        self._line(f"{plural(self._total, 'training run')} planned: {len(cached)} cached, {todo} to train")
        if self.live and todo:
            self.progress = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                TextColumn("ETA"),
                TimeRemainingColumn(),
                console=self.console,
                transient=False,
            )
            self.progress.start()
            # ETA over runs counts only the ones that train; cached ones finish at once.
            self._runs_task = self.progress.add_task("runs", total=todo)

    def run_started(self, spec: RunSpec) -> list[Any]:
        desc = f"{spec.label}, seed {spec.seed}"
        if self.progress is not None:
            if self._epoch_task is not None:
                self.progress.remove_task(self._epoch_task)
            self._epoch_task = self.progress.add_task(f"  {escape(desc)}: epochs", total=spec.epochs)
        else:
            self._line(f"training {desc} ({plural(spec.epochs, 'epoch')})")

        def on_epoch(epoch: int, logs: dict[str, float]) -> None:
            if self.progress is not None:
                self.progress.update(self._epoch_task, completed=epoch)
            elif not self.quiet:
                self._line(
                    f"  epoch {epoch}/{spec.epochs}: loss {logs.get('loss', float('nan')):.4f}, "
                    f"val_accuracy {logs.get('val_accuracy', float('nan')):.4f}"
                )

        return [_epoch_callback(on_epoch)]

    def run_finished(self, spec: RunSpec, record: Record, cached: bool) -> None:
        self._done += 1
        m = record.metrics
        how = "cached" if cached else f"trained in {m['train_seconds']:.0f} s"
        if self.progress is not None and not cached:
            self.progress.advance(self._runs_task)
        self._line(
            f"[{self._done}/{self._total}] {spec.label}, seed {spec.seed}: "
            f"test accuracy {m['test_accuracy']:.4f} ({how})"
        )
        if self._done == self._total:
            self.close()

    def warn(self, message: str) -> None:
        self.console.print(f"[yellow]warning:[/] {escape(message)}", soft_wrap=True)

    def running(self, count: int) -> None:
        """How many runs are training at once (more than one on a cluster)."""
        if self.progress is not None and self._runs_task is not None:
            self.progress.update(self._runs_task, description=f"runs ({count} running)")
        elif count > 1 and count != self._running:
            self._line(f"{count} runs training")
        self._running = count

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


def _mean_ci(s: dict[str, Any], scale: float = 1.0, digits: int = 4) -> str:
    text = f"{s['mean'] * scale:.{digits}f}"
    if s["has_ci"]:
        half = (s["ci_high"] - s["ci_low"]) / 2 * scale
        text += f" ± {half:.{digits}f}"
    return text


#: The headline table's columns; :func:`summary_rows` gives its cells.
SUMMARY_COLUMNS = ("model", "seeds", "accuracy", "loss", "params", "MFLOPs/image", "train s")


def summary_rows(summary: dict[str, Any]) -> list[list[str]]:
    """The headline table's cells, one row per model (mean ± 95% CI half-width where seeds > 1)."""
    return [
        [
            escape(row["label"]),
            str(len(row["seeds"])),
            _mean_ci(row["test_accuracy"]),
            _mean_ci(row["test_loss"]),
            f"{row['params']:,}",
            f"{row['flops'] / 1e6:.2f}",
            _mean_ci(row["train_seconds"], digits=0),
        ]
        for row in summary["models"]
    ]


def summary_table(summary: dict[str, Any]) -> Any:
    """A rich table of the per-model summary, then one line per comparison."""
    from rich.table import Table

    table = Table(title="Results (test set; mean ± 95% CI half-width over seeds)")
    for col in SUMMARY_COLUMNS:
        table.add_column(col, justify="left" if col == "model" else "right")
    for cells in summary_rows(summary):
        table.add_row(*cells)
    grid = Table.grid(padding=(0, 1))
    grid.add_row(table)
    for comp in summary["comparisons"].values():
        grid.add_row(f"• {escape(wording.comparison_sentence(comp))}")
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
