"""`fmnist-report data`: find, verify and download Fashion-MNIST."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from fmnist_report import data as data_mod
from fmnist_report.cli.options import DataDirOpt, JsonOpt, OfflineOpt, err, out, user_errors
from fmnist_report.errors import UserError


@user_errors
def data_check(data_dir: DataDirOpt = None, offline: OfflineOpt = False, as_json: JsonOpt = False) -> None:
    """Locate the data, verify each file's content checksum and print what it holds."""
    del offline  # a check never downloads; the option is taken so the common options work here too
    source = data_mod.locate(data_dir)
    if source is None:
        raise UserError(data_mod.not_found_message())
    dataset, checks = data_mod.load_source(source, verify=False)
    bad = [c for c in checks if not c.ok]
    low, high = int(dataset.x_train.min()), int(dataset.x_train.max())
    train_counts = data_mod.class_counts(dataset.y_train)
    test_counts = data_mod.class_counts(dataset.y_test)
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
        "pixel_range": [low, high],
        "train_class_counts": train_counts,
        "test_class_counts": test_counts,
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
            f"dtype {dataset.x_train.dtype}; pixel range {low}..{high}"
        )
        counts = Table("class", "train", "test")
        for name, a, b in zip(
            dataset.class_names,
            train_counts,
            test_counts,
            strict=True,
        ):
            counts.add_row(name, f"{a:,}", f"{b:,}")
        out.print(counts)
    if bad:
        raise UserError(
            f"{len(bad)} file(s) failed the content checksum: "
            f"{', '.join(c.path.name for c in bad)}; {data_mod.FIX_HINT}"
        )


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
