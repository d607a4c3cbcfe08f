"""Options shared by several commands, declared once, and the one-line handling of user errors."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal, TypeVar

import typer
from rich.console import Console
from rich.markup import escape

from fmnist_report import data as data_mod
from fmnist_report.config import PROFILES
from fmnist_report.errors import UserError
from fmnist_report.report.render import PDF_VARIANTS

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
        "--config",
        help="Settings file (default: report.toml of the study folder you are in, made by `new`, "
        "or report/report.toml of the project folder).",
        dir_okay=False,
    ),
]
#: The profile names as a choice, so that a typo is a usage error that lists them. A Literal
#: built at run time is no type to a type checker, which reads the plain string it holds.
if TYPE_CHECKING:
    ProfileName = str
else:
    ProfileName = Literal[tuple(PROFILES)]
ProfileOpt = Annotated[
    ProfileName | None,
    typer.Option("--profile", help="full (the study's protocol) or quick (a small preview)."),
]
SeedsOpt = Annotated[int | None, typer.Option("--seeds", help="Independent training runs per model.")]
EpochsOpt = Annotated[int | None, typer.Option("--epochs", help="Override the profile's epochs.")]
OutOpt = Annotated[
    Path | None, typer.Option("--out", help="Output folder (default: output).", file_okay=False)
]
OnlyOpt = Annotated[
    str | None,
    typer.Option(
        "--only",
        help="Comma-separated parts to run: eda, dense, cnn, kernels, locality, variants, interpret.",
    ),
]
FreshOpt = Annotated[bool, typer.Option("--fresh", help="Ignore cached results and recompute everything.")]
BackendOpt = Annotated[
    str | None,
    typer.Option(
        "--backend",
        help="Keras backend: auto (jax or torch where its CUDA build sees a GPU, else tensorflow), "
        "tensorflow, jax, torch.",
    ),
]
ExecutorOpt = Annotated[
    str,
    typer.Option("--executor", help="Where training runs go: local (this process) or ray (a Ray cluster)."),
]
RayAddressOpt = Annotated[
    str | None,
    typer.Option(
        "--ray-address", help="Address of a running Ray cluster (default: start one on this machine)."
    ),
]
JobsOpt = Annotated[
    int | None,
    typer.Option(
        "--jobs",
        min=1,
        help="Trainings at once on this machine, in worker processes that share the cores; "
        "the numbers stay the same (default: 1, which measured fastest on 2 cores).",
    ),
]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="Print only errors and the final result.")]


TitleOpt = Annotated[str | None, typer.Option("--title", help="Report title (overrides report.toml).")]
AuthorOpt = Annotated[
    str | None, typer.Option("--author", help="Author on the title page (overrides report.toml).")
]
CourseOpt = Annotated[
    str | None, typer.Option("--course", help="Course on the title page (overrides report.toml).")
]
NoPdfOpt = Annotated[
    bool, typer.Option("--no-pdf", help="Write the HTML only (faster; removes a stale PDF).")
]
#: The PDF variants as a choice, so that a typo is a usage error that lists them (a string
#: to a type checker, as ProfileName).
if TYPE_CHECKING:
    PdfVariant = str
else:
    PdfVariant = Literal[tuple(PDF_VARIANTS)]
PdfVariantOpt = Annotated[
    PdfVariant,
    typer.Option(
        "--pdf-variant",
        help="pdf/a-3a: archival and tagged (default); pdf/ua-1: tagged for assistive technology; "
        "none: a plain PDF. Each carries metrics.json and the configuration as attachments.",
    ),
]
ModelDirOpt = Annotated[
    Path,
    typer.Option("--model-dir", help="Folder written by the export (metadata.json, .keras, model.tar.gz)."),
]


def user_errors(fn: F) -> F:
    """Turn user errors into one line on stderr and exit 1; Ctrl-C into exit 130."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except UserError as exc:
            err.print(f"[bold red]error:[/] {escape(str(exc))}", soft_wrap=True)
            raise typer.Exit(1) from None
        except KeyboardInterrupt:
            err.print("interrupted: finished results are kept; run the same command again to resume")
            raise typer.Exit(130) from None

    return wrapper  # type: ignore[return-value]
