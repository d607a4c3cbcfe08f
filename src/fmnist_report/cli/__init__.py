"""The `fmnist-report` command line: a thin Typer app; each command parses options and prints."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from fmnist_report import __version__
from fmnist_report.cli import data, diff, new, schema, serving, study, verify
from fmnist_report.cli.options import out

app = typer.Typer(
    help="Run the Fashion-MNIST convolution study and render it as an HTML and PDF report.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
data_app = typer.Typer(help="Find, verify and download Fashion-MNIST.", no_args_is_help=True)
app.add_typer(data_app, name="data")
data_app.command("check")(data.data_check)
data_app.command("fetch")(data.data_fetch)
app.command("run")(study.run_cmd)
app.command("build")(study.build_cmd)
app.command("render")(study.render_cmd)
app.command("export")(study.export_cmd)
app.command("predict")(serving.predict_cmd)
app.command("serve")(serving.serve_cmd)
app.command("deploy")(serving.deploy_cmd)
app.command("diff")(diff.diff_cmd)
app.command("variants")(study.variants_cmd)
app.command("verify")(verify.verify_cmd)
app.command("schema")(schema.schema_cmd)
app.command("new")(new.new_cmd)


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


def utf8_streams() -> None:
    """Write UTF-8 wherever stdout or stderr would use a narrower code page.

    A Windows console is UTF-8 already, but output piped to a file or another program
    takes the locale's code page (cp1252), which has no "≈" or "✓": a report line
    would end the command with a UnicodeEncodeError. What cannot be written is replaced.
    """
    for stream in (sys.stdout, sys.stderr):
        encoding = (getattr(stream, "encoding", None) or "").lower().replace("-", "")
        if encoding != "utf8" and hasattr(stream, "reconfigure"):
            stream.reconfigure(encoding="utf-8", errors="replace")


def main() -> None:
    """Console-script entry point."""
    utf8_streams()
    try:
        app()
    except KeyboardInterrupt:  # pragma: no cover - Ctrl-C outside a command body
        sys.exit(130)
