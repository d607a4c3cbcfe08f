"""`fmnist-report diff OLD NEW`: two builds' headline numbers side by side, read from their metrics.json."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Literal

import typer

from fmnist_report.cli.options import JsonOpt, out, user_errors

BuildArg = Annotated[
    Path,
    typer.Argument(
        help="An output folder of `build`, its metrics.json, or its report PDF (which carries it)."
    ),
]


@user_errors
def diff_cmd(
    old: BuildArg,
    new: BuildArg,
    force: Annotated[
        bool, typer.Option("--force", help="Compare builds made under different protocols anyway.")
    ] = False,
    as_json: JsonOpt = False,
    only: Annotated[
        Literal["study", "variants"] | None,
        typer.Option(
            "--only",
            help="Compare one group of numbers: study (the built-in models, whatever variants the "
            "builds declare) or variants.",
        ),
    ] = None,
) -> None:
    """Compare two builds: each headline number old and new, its change, and whether it exceeds seed noise."""
    from fmnist_report.report import diff

    result = diff.compare(diff.load(old), diff.load(new), force=force, only=only)
    if as_json:
        out.print_json(json.dumps(result))
    else:
        out.print(diff.markdown(result), end="", markup=False, soft_wrap=True)
