"""The `fmnist-report` command line: thin wrappers that parse options and print results."""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from . import __version__
from . import data as data_mod
from .errors import UserError

app = typer.Typer(
    help="Run the Fashion-MNIST convolution study and render it as an HTML and PDF report.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
data_app = typer.Typer(help="Find, verify and download Fashion-MNIST.", no_args_is_help=True)
app.add_typer(data_app, name="data")

out = Console(highlight=False)
err = Console(stderr=True, highlight=False)

F = TypeVar("F", bound=Callable[..., Any])

DataDirOpt = Annotated[
    Path | None,
    typer.Option(
        "--data-dir",
        help="Folder holding the four Fashion-MNIST files (.gz or raw).",
        file_okay=False,
        envvar=data_mod.ENV_DATA_DIR,
    ),
]
OfflineOpt = Annotated[bool, typer.Option("--offline", help="Never download; fail if the data is not here.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON only.")]
ConfigOpt = Annotated[
    Path | None,
    typer.Option(
        "--config", help="Settings file (default: report/report.toml when present).", dir_okay=False
    ),
]
ProfileOpt = Annotated[
    str | None, typer.Option("--profile", help="full (the study's protocol) or quick (a small preview).")
]
SeedsOpt = Annotated[int | None, typer.Option("--seeds", help="Independent training runs per model.")]
EpochsOpt = Annotated[int | None, typer.Option("--epochs", help="Override the profile's epochs.")]
OutOpt = Annotated[
    Path | None, typer.Option("--out", help="Output folder (default: output).", file_okay=False)
]
OnlyOpt = Annotated[
    str | None,
    typer.Option("--only", help="Comma-separated parts to run: eda, dense, cnn, kernels, locality."),
]
FreshOpt = Annotated[bool, typer.Option("--fresh", help="Ignore cached results and recompute everything.")]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="Print only errors and the final result.")]


def user_errors(fn: F) -> F:
    """Turn user errors into one line on stderr and exit 1; Ctrl-C into exit 130."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except UserError as exc:
            err.print(f"[bold red]error:[/] {exc}", soft_wrap=True)
            raise typer.Exit(1) from None
        except KeyboardInterrupt:
            err.print("interrupted: finished results are kept; run the same command again to resume")
            raise typer.Exit(130) from None

    return wrapper  # type: ignore[return-value]


def _version(value: bool) -> None:
    if value:
        out.print(f"fmnist-report {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit."),
    ] = False,
) -> None:
    """Fashion-MNIST convolution study and report."""


# -- data -----------------------------------------------------------------------------------


@data_app.command("check")
@user_errors
def data_check(data_dir: DataDirOpt = None, as_json: JsonOpt = False) -> None:
    """Locate the data, verify each file's content checksum and print what it holds."""
    source = data_mod.locate(data_dir)
    if source is None:
        raise UserError(data_mod.not_found_message())
    dataset, checks = data_mod.load_source(source, verify=False)
    bad = [c for c in checks if not c.ok]
    summary = {
        "source": source.label,
        "directory": str(source.directory),
        "files": [
            {
                "file": str(c.path),
                "md5": c.md5,
                "expected_md5": c.expected_md5,
                "ok": c.ok,
                "shape": list(c.shape),
            }
            for c in checks
        ],
        "dtype": str(dataset.x_train.dtype),
        "pixel_range": [int(dataset.x_train.min()), int(dataset.x_train.max())],
        "train_class_counts": data_mod.class_counts(dataset.y_train),
        "test_class_counts": data_mod.class_counts(dataset.y_test),
        "ok": not bad,
    }
    if as_json:
        out.print_json(json.dumps(summary))
    else:
        out.print(f"source: {source.label} ({source.directory})")
        table = Table("file", "status", "shape")
        table.add_column("content MD5", no_wrap=True, min_width=32)
        for c in checks:
            status = "[green]OK[/]" if c.ok else f"[red]MISMATCH[/] (expected {c.expected_md5})"
            table.add_row(c.path.name, status, "x".join(map(str, c.shape)), c.md5)
        out.print(table)
        out.print(
            f"images: train {len(dataset.x_train):,}, test {len(dataset.x_test):,}; "
            f"dtype {dataset.x_train.dtype}; pixel range {summary['pixel_range'][0]}..{summary['pixel_range'][1]}"
        )
        counts = Table("class", "train", "test")
        for name, a, b in zip(
            dataset.class_names,
            summary["train_class_counts"],
            summary["test_class_counts"],
            strict=True,
        ):
            counts.add_row(name, f"{a:,}", f"{b:,}")
        out.print(counts)
    if bad:
        raise UserError(
            f"{len(bad)} file(s) failed the content checksum: "
            f"{', '.join(c.path.name for c in bad)}; {data_mod.FIX_HINT}"
        )


@data_app.command("fetch")
@user_errors
def data_fetch(
    dest: Annotated[
        Path | None,
        typer.Option(help="Where to put the files (default: the user cache).", file_okay=False),
    ] = None,
    force: Annotated[bool, typer.Option(help="Download again even if valid files are there.")] = False,
) -> None:
    """Download the four official files with checksum verification."""
    from rich.progress import DownloadColumn, Progress, TransferSpeedColumn

    with Progress(
        *Progress.get_default_columns(),
        DownloadColumn(),
        TransferSpeedColumn(),
        console=err,
        disable=not err.is_terminal,
    ) as progress:
        tasks: dict[str, Any] = {}

        def on_progress(key: str, done: int, total: int) -> None:
            if key not in tasks:
                tasks[key] = progress.add_task(key, total=total or None)
            progress.update(tasks[key], completed=done)

        target = data_mod.fetch(dest, progress=on_progress, force=force)
    out.print(f"Fashion-MNIST is in {target}, all four files verified")


# -- the study ------------------------------------------------------------------------------


def _load_config(
    config: Path | None,
    profile: str | None,
    seeds: int | None,
    epochs: int | None,
    out_dir: Path | None,
    data_dir: Path | None,
    offline: bool,
    report: dict[str, Any] | None = None,
) -> Any:
    from .config import load_config

    return load_config(
        config,
        study={"profile": profile, "seeds": seeds, "epochs": epochs},
        report=report,
        out_dir=out_dir,
        data_dir=data_dir,
        offline=offline,
    )


def _run_study(cfg: Any, only: str | None, fresh: bool, quiet: bool, console: Console) -> Any:
    """Load the data and run (or reuse) every planned experiment, with progress."""
    from . import runtime

    runtime.configure()
    from .store import Store
    from .study import load_data, run_study
    from .ui import ConsoleReporter

    reporter = ConsoleReporter(console, quiet=quiet)
    store = Store(cfg.cache_dir, warn=reporter.warn)
    parts = [p.strip() for p in only.split(",") if p.strip()] if only else None
    data = load_data(cfg)
    reporter.info(f"data: {data.source} ({len(data.x_train):,} train / {len(data.x_test):,} test images)")
    try:
        return run_study(cfg, data, store, reporter, only=parts, fresh=fresh)
    finally:
        reporter.close()


@app.command("run")
@user_errors
def run_cmd(
    profile: ProfileOpt = None,
    seeds: SeedsOpt = None,
    epochs: EpochsOpt = None,
    only: OnlyOpt = None,
    fresh: FreshOpt = False,
    quiet: QuietOpt = False,
    as_json: JsonOpt = False,
    config: ConfigOpt = None,
    out_dir: OutOpt = None,
    data_dir: DataDirOpt = None,
    offline: OfflineOpt = False,
) -> None:
    """Run the study's experiments (reusing cached runs) and print a summary table."""
    from .summary import summary_rows
    from .ui import summary_table

    cfg = _load_config(config, profile, seeds, epochs, out_dir, data_dir, offline)
    # With --json, progress goes to stderr so stdout stays machine-readable.
    results = _run_study(cfg, only, fresh, quiet or as_json, err if as_json else out)
    summary = summary_rows(results)
    if as_json:
        out.print_json(json.dumps({"profile": cfg.study.profile, **summary}))
    else:
        out.print(summary_table(summary))


def main() -> None:
    """Console-script entry point."""
    try:
        app()
    except KeyboardInterrupt:  # pragma: no cover - Ctrl-C outside a command body
        sys.exit(130)
