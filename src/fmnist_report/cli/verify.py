"""`fmnist-report verify REPORT.pdf`: whether a report PDF quotes its attached numbers, and a rebuild."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from fmnist_report.cli.options import DataDirOpt, OfflineOpt, out, user_errors

PdfArg = Annotated[
    Path, typer.Argument(help="A report.pdf made by `fmnist-report build`.", exists=True, dir_okay=False)
]
RebuildOpt = Annotated[
    Path | None,
    typer.Option(
        "--rebuild",
        help="Train again from the attached configuration into this folder and diff its numbers "
        "against the attached ones.",
        file_okay=False,
    ),
]


@user_errors
def verify_cmd(
    report: PdfArg, rebuild: RebuildOpt = None, data_dir: DataDirOpt = None, offline: OfflineOpt = False
) -> None:
    """Check that a report PDF's text quotes its attached metrics.json and that its claims hold."""
    from fmnist_report.report import verify

    carried = verify.read(report)
    found = verify.checks(carried)
    table = Table("Check", "Holds", "What was found", box=None, pad_edge=False)
    for check in found:
        table.add_row(check.name, "yes" if check.ok else "[red]no[/]", escape(check.detail))
    out.print(escape(verify.verdict(report, found)), soft_wrap=True)
    out.print(table)
    if rebuild is not None:
        _rebuild(report, carried, rebuild, data_dir=data_dir, offline=offline)
    if not all(c.ok for c in found):
        raise typer.Exit(1)


def _rebuild(report: Path, carried: object, folder: Path, *, data_dir: Path | None, offline: bool) -> None:
    """Build again from the attached configuration into ``folder``, with the progress `build`
    shows, and print `diff` of the PDF's attached numbers (old) and the rebuilt ones (new)."""
    import dataclasses

    from fmnist_report import pipeline
    from fmnist_report.config import load_config
    from fmnist_report.errors import UserError
    from fmnist_report.report import diff, verify
    from fmnist_report.ui import ConsoleReporter

    attached = getattr(carried, "attachments", {})
    if verify.CONFIG_TOML not in attached or verify.JSON_FILE not in attached:
        raise UserError(
            f"--rebuild needs the attached {verify.CONFIG_TOML} and {verify.JSON_FILE}; this PDF lacks one"
        )
    # The PDF carries the old numbers (`diff.load` reads its attachment), read before the rebuild:
    # rebuilt into the PDF's own folder, it would replace the PDF.
    old = diff.load(report)
    folder.mkdir(parents=True, exist_ok=True)
    # The configuration and the author's notes it names, as the PDF carries them.
    settings = verify.unpack(attached, folder)
    cfg = load_config(settings, out_dir=folder, data_dir=data_dir, offline=offline)
    results = pipeline.study(cfg, out, quiet=False)
    pipeline.build_report(results, info=out.print, warn=ConsoleReporter(out, quiet=True).warn, may_train=True)
    new = dataclasses.replace(diff.load(folder), path=folder)
    result = diff.compare(old, new, force=True)
    out.print(f"rebuilt in {folder}; attached (old) against rebuilt (new):")
    out.print(diff.markdown(result), end="", markup=False, soft_wrap=True)
