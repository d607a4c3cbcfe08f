"""`fmnist-report new DIR`: write a study folder of one's own."""

from __future__ import annotations

import os
import shlex
import subprocess
from pathlib import Path
from typing import Annotated

import typer

from fmnist_report.cli.options import out, user_errors
from fmnist_report.config import ReportMeta


@user_errors
def new_cmd(
    folder: Annotated[Path, typer.Argument(metavar="DIR", help="The new study's folder (new, or empty).")],
    title: Annotated[str, typer.Option("--title", help="Report title.")] = ReportMeta.title,
    author: Annotated[str, typer.Option("--author", help="Author on the title page.")] = "Your Name",
    course: Annotated[str, typer.Option("--course", help="Course on the title page.")] = "",
    git: Annotated[
        str | None,
        typer.Option(
            "--git",
            help="Install fmnist-report from this repository instead of PyPI (CI and dev container): "
            "its https URL pinned to a tag or commit, e.g. https://github.com/OWNER/fmnist-report@v1.0.0.",
        ),
    ] = None,
) -> None:
    """Write a study folder: report.toml with an example variant, a note, a GitHub workflow, a dev container."""
    from fmnist_report import scaffold

    files = scaffold.render(
        title=title, author=author, course=course, pip_requirement=scaffold.requirement(git)
    )
    target = scaffold.write_study(folder, files)
    out.print(f"wrote {target}:", soft_wrap=True, markup=False)
    for path in files:
        out.print(f"  {path}", markup=False)
    # One command a line: PowerShell 5 has no &&, and cmd.exe no single quotes.
    quoted = subprocess.list2cmdline([str(folder)]) if os.name == "nt" else shlex.quote(str(folder))
    out.print(f"next: cd {quoted}", soft_wrap=True, markup=False)
    out.print(
        "      fmnist-report build --profile quick   (a preview; the full study without --profile)",
        soft_wrap=True,
        markup=False,
    )
    if git is None:
        out.print(
            f"note: the workflow installs {scaffold.requirement()} from PyPI; if your copy came from a "
            "git repository, put its URL in the workflow's pip line (or run new with --git URL@TAG)",
            soft_wrap=True,
            markup=False,
        )
