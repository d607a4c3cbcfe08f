"""`fmnist-report run|build|render|export`: the study and its report.

`build` and `render` are one command body: `render` is `build` that never trains (and so
has no `--fresh`).
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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


def run_study(settings: Settings, cfg: Any, only: str | None = None, *, stored_only: bool = False) -> Any:
    """Load the data and run (or reuse) every planned experiment, with progress.

    With ``stored_only`` nothing trains: a training run missing from the store is an error.
    """
    from fmnist_report import pipeline

    parts = [p.strip() for p in only.split(",") if p.strip()] if only else None
    quiet = settings.quiet or settings.as_json
    return pipeline.study(
        cfg,
        settings.console,
        parts=parts,
        fresh=settings.fresh,
        quiet=quiet,
        stored_only=stored_only,
        executor=settings.executor,
        ray_address=settings.ray_address,
        jobs=settings.jobs,
    )


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

    summary = summarize(results).to_dict()
    if as_json:
        out.print_json(json.dumps({"profile": cfg.study.profile, **summary}))
    else:
        out.print(summary_table(summary))


def report_body(settings: Settings, *, trains: bool) -> None:
    """Run (build) or reuse (render) the study, then export, draw, render and write the report."""
    from fmnist_report.pipeline import build_report, check_report_text
    from fmnist_report.ui import ConsoleReporter

    cfg = settings.load()
    for warning in check_report_text(cfg):
        err.print(f"[yellow]warning:[/] {escape(warning)}", soft_wrap=True)
    results = run_study(settings, cfg, stored_only=not trains)
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


def _report_options(
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
    jobs: JobsOpt = None,
) -> Settings:
    """The options of `build` and `render`, declared once (their signature is the commands')."""
    return Settings(**locals())


def report_command(doc: str, *, trains: bool) -> Callable[..., None]:
    """A `build`-like command: the shared options (no --fresh when it never trains), one body."""

    @user_errors
    def command(**options: Any) -> None:
        report_body(_report_options(**options), trains=trains)

    signature = inspect.signature(_report_options, eval_str=True)
    training_only = ("fresh", "executor", "ray_address", "jobs")
    params = [p for p in signature.parameters.values() if trains or p.name not in training_only]
    command.__signature__ = signature.replace(parameters=params, return_annotation=None)  # type: ignore[attr-defined]
    del command.__wrapped__  # Typer must read the signature above, not the wrapped function's
    command.__doc__ = doc
    return command


build_cmd = report_command(
    "Run the whole study (reusing stored runs), export the CNN and render the HTML and PDF report.",
    trains=True,
)
render_cmd = report_command(
    "Render the report again from stored results, without training anything (run `build` first).",
    trains=False,
)


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

    metadata = export_cnn(results, summarize(results))
    if as_json:
        out.print_json(json.dumps({"model_dir": str(cfg.model_dir), **metadata}))
        return
    out.print(
        f"exported {metadata['training']['label']} (seed {metadata['training']['seed']}) to {cfg.model_dir}"
    )
    for rel, info in metadata["artifacts"].items():
        out.print(f"  {rel}  {info['bytes']:,} bytes  sha256 {info['sha256'][:16]}")
