"""`fmnist-report run|build|render|export|variants`: the study and its report.

`build` and `render` spell out their own options and share one body: `render` is `build`
that never trains (and so has no `--fresh`, `--executor` or `--ray-address`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape

from fmnist_report.cli.options import (
    AuthorOpt,
    BackendOpt,
    ConfigOpt,
    CourseOpt,
    DataDirOpt,
    EpochsOpt,
    ExecutorOpt,
    FreshOpt,
    JobsOpt,
    JsonOpt,
    NoPdfOpt,
    OfflineOpt,
    OnlyOpt,
    OutOpt,
    PdfVariantOpt,
    ProfileOpt,
    QuietOpt,
    RayAddressOpt,
    SeedsOpt,
    TitleOpt,
    err,
    out,
    user_errors,
)
from fmnist_report.report.render import DEFAULT_PDF_VARIANT


@dataclass(frozen=True)
class Settings:
    """What the study commands were asked for on the command line."""

    profile: str | None = None
    seeds: int | None = None
    epochs: int | None = None
    out_dir: Path | None = None
    config: Path | None = None
    data_dir: Path | None = None
    offline: bool = False
    title: str | None = None
    author: str | None = None
    course: str | None = None
    fresh: bool = False
    quiet: bool = False
    as_json: bool = False
    no_pdf: bool = False
    pdf_variant: str = DEFAULT_PDF_VARIANT
    backend: str | None = None
    executor: str = "local"
    ray_address: str | None = None
    only: str | None = None
    jobs: int | None = None

    @property
    def console(self) -> Console:
        """Where progress goes: stderr with --json, so stdout stays machine-readable."""
        return err if self.as_json else out

    def load(self) -> Any:
        from fmnist_report.config import load_config

        return load_config(
            self.config,
            study={
                "profile": self.profile,
                "seeds": self.seeds,
                "epochs": self.epochs,
                "backend": self.backend,
            },
            report={"title": self.title, "author": self.author, "course": self.course},
            out_dir=self.out_dir,
            data_dir=self.data_dir,
            offline=self.offline,
        )


def run_study(
    settings: Settings,
    cfg: Any,
    only: str | None = None,
    *,
    stored_only: bool = False,
    check_notes: bool = False,
    exports: bool = False,
) -> Any:
    """Load the data and run (or reuse) every planned experiment, with progress.

    With ``stored_only`` nothing trains: a training run missing from the store is an error;
    ``check_notes`` checks the author's notes against the plan before anything trains;
    ``exports`` checks that the report's export can be written.
    """
    from fmnist_report import pipeline
    from fmnist_report.study.executors import check_executor
    from fmnist_report.study.plan import check_declared

    parts = parse_only(only)
    # before the data loads and the output folder is made
    check_executor(settings.executor, ray_address=settings.ray_address)
    check_declared(cfg, parts)
    quiet = settings.quiet or settings.as_json
    results = pipeline.study(
        cfg,
        settings.console,
        parts=parts,
        fresh=settings.fresh,
        quiet=quiet,
        stored_only=stored_only,
        executor=settings.executor,
        ray_address=settings.ray_address,
        check_notes=check_notes,
        jobs=settings.jobs,
        exports=exports,
    )
    if parts is not None and "interpret" in parts and not results.analyses:
        err.print(
            "[yellow]hint:[/] --only interpret explains the CNN runs, and none were chosen or stored; "
            "add them: --only cnn,interpret (stored runs are reused)",
            soft_wrap=True,
        )
    return results


def parse_only(only: str | None) -> list[str] | None:
    """``--only a,b`` as its parts; None when it is not given, a one-line error when it names none."""
    if only is None:
        return None
    parts = [p.strip() for p in only.split(",") if p.strip()]
    if not parts:
        from fmnist_report.errors import ConfigError
        from fmnist_report.study.plan import PARTS

        raise ConfigError(
            f"--only {only!r} names no part; give one or more of {', '.join(PARTS)}, comma-separated "
            "(or leave --only out to run them all)"
        )
    return parts


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
    backend: BackendOpt = None,
    executor: ExecutorOpt = "local",
    ray_address: RayAddressOpt = None,
    jobs: JobsOpt = None,
) -> None:
    """Run the study's experiments (reusing cached runs) and print a summary table."""
    # The parameters are Settings' fields by name; `only` picks parts and is no setting.
    settings = Settings(**{name: value for name, value in locals().items() if name != "only"})
    cfg = settings.load()
    results = run_study(settings, cfg, only)
    from fmnist_report.study.summary import summarize
    from fmnist_report.ui import summary_table

    summary = summarize(results)
    if as_json:
        out.print_json(summary.to_json())
    else:
        out.print(summary_table(summary, cfg.study.profile))


def report_body(settings: Settings, *, trains: bool) -> None:
    """Run (build) or reuse (render) the study, then export, draw, render and write the report."""
    from fmnist_report.pipeline import build_report, check_report_text
    from fmnist_report.ui import ConsoleReporter

    cfg = settings.load()
    from fmnist_report.report.preflight import check_fonts, check_pdf_engine

    check_fonts()  # before anything trains
    if not settings.no_pdf:
        check_pdf_engine()
    for warning in check_report_text(cfg):
        err.print(f"[yellow]warning:[/] {escape(warning)}", soft_wrap=True)
    results = run_study(settings, cfg, settings.only, stored_only=not trains, check_notes=True, exports=True)
    console = settings.console
    outputs = build_report(
        results,
        pdf=not settings.no_pdf,
        pdf_variant=settings.pdf_variant,
        fresh=settings.fresh,
        info=None if settings.quiet or settings.as_json else console.print,
        warn=ConsoleReporter(console, quiet=True).warn,
        may_train=trains,
    )
    if settings.as_json:
        out.print_json(json.dumps({"profile": cfg.study.profile, **outputs.to_dict()}))
        return
    written = [outputs.html, *([outputs.pdf] if outputs.pdf else [])]
    out.print(f"report: {', '.join(str(p) for p in written)}")
    out.print(
        f"metrics: {outputs.metrics_json}, {outputs.metrics_csv}; figures: {outputs.figures_dir} "
        f"({outputs.figures}); model: {outputs.model_dir}"
    )


@user_errors
def build_cmd(
    profile: ProfileOpt = None,
    seeds: SeedsOpt = None,
    epochs: EpochsOpt = None,
    out_dir: OutOpt = None,
    config: ConfigOpt = None,
    title: TitleOpt = None,
    author: AuthorOpt = None,
    course: CourseOpt = None,
    fresh: FreshOpt = False,
    quiet: QuietOpt = False,
    as_json: JsonOpt = False,
    data_dir: DataDirOpt = None,
    offline: OfflineOpt = False,
    no_pdf: NoPdfOpt = False,
    pdf_variant: PdfVariantOpt = DEFAULT_PDF_VARIANT,
    backend: BackendOpt = None,
    executor: ExecutorOpt = "local",
    ray_address: RayAddressOpt = None,
    only: OnlyOpt = None,
    jobs: JobsOpt = None,
) -> None:
    """Run the whole study (reusing stored runs), export the CNN and render the HTML and PDF report."""
    # The parameters are Settings' fields by name.
    report_body(Settings(**locals()), trains=True)


@user_errors
def render_cmd(
    profile: ProfileOpt = None,
    seeds: SeedsOpt = None,
    epochs: EpochsOpt = None,
    out_dir: OutOpt = None,
    config: ConfigOpt = None,
    title: TitleOpt = None,
    author: AuthorOpt = None,
    course: CourseOpt = None,
    quiet: QuietOpt = False,
    as_json: JsonOpt = False,
    data_dir: DataDirOpt = None,
    offline: OfflineOpt = False,
    no_pdf: NoPdfOpt = False,
    pdf_variant: PdfVariantOpt = DEFAULT_PDF_VARIANT,
    backend: BackendOpt = None,
    only: OnlyOpt = None,
) -> None:
    """Render the report again from stored results, without training anything (run `build` first)."""
    # The parameters are Settings' fields by name.
    report_body(Settings(**locals()), trains=False)


@user_errors
def export_cmd(
    profile: ProfileOpt = None,
    seeds: SeedsOpt = None,
    epochs: EpochsOpt = None,
    out_dir: OutOpt = None,
    config: ConfigOpt = None,
    quiet: QuietOpt = False,
    as_json: JsonOpt = False,
    data_dir: DataDirOpt = None,
    offline: OfflineOpt = False,
    backend: BackendOpt = None,
) -> None:
    """Export the stored CNN 3x3 (first seed) for serving; never trains (run `build` first)."""
    settings = Settings(**{**locals(), "quiet": True})  # the parameters are Settings' fields by name
    cfg = settings.load()
    results = run_study(settings, cfg, "cnn", stored_only=True)
    from fmnist_report.serving.publish import export_cnn
    from fmnist_report.study.summary import summarize

    summary = summarize(results)
    metadata = export_cnn(results, summary)
    from fmnist_report.pipeline import model_card_md
    from fmnist_report.report.sections.model_card import CARD_FILE
    from fmnist_report.store import atomic_write

    atomic_write(cfg.model_dir / CARD_FILE, model_card_md(summary))
    if as_json:
        out.print_json(json.dumps({"model_dir": str(cfg.model_dir), **metadata}))
        return
    out.print(
        f"exported {metadata['training']['label']} (seed {metadata['training']['seed']}) to {cfg.model_dir}"
    )
    for rel, info in metadata["artifacts"].items():
        out.print(f"  {rel}  {info['bytes']:,} bytes  sha256 {info['sha256'][:16]}")


@user_errors
def variants_cmd(
    list_: Annotated[
        bool, typer.Option("--list", help="Print every override a [[variants]] table can set.")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """The overrides a variant can declare: key, the bases it applies to with their values, allowed values."""
    from fmnist_report.variants import vocabulary_rows

    rows = vocabulary_rows()
    if as_json:
        out.print_json(json.dumps(rows))
        return
    if not list_:
        out.print("Declare variants as [[variants]] tables in report/report.toml; `--list` prints the keys.")
        return
    from rich.table import Table

    table = Table("key", "bases (their value)", "allowed", "what it changes", box=None, show_lines=False)
    for row in rows:
        table.add_row(row["key"], row["bases"], row["allowed"], row["help"])
    out.print(table)
