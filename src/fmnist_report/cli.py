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
from rich.markup import escape
from rich.table import Table

from fmnist_report import __version__
from fmnist_report import data as data_mod
from fmnist_report.errors import UserError

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
    typer.Option(
        "--only", help="Comma-separated parts to run: eda, dense, cnn, kernels, locality, interpret."
    ),
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
            err.print(f"[bold red]error:[/] {escape(str(exc))}", soft_wrap=True)
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
    from fmnist_report.config import load_config

    return load_config(
        config,
        study={"profile": profile, "seeds": seeds, "epochs": epochs},
        report=report,
        out_dir=out_dir,
        data_dir=data_dir,
        offline=offline,
    )


def _run_study(
    cfg: Any, only: str | None, fresh: bool, quiet: bool, console: Console, *, stored_only: bool = False
) -> Any:
    """Load the data and run (or reuse) every planned experiment, with progress.

    With ``stored_only`` nothing trains: a training run missing from the store is an error.
    """
    from fmnist_report import runtime

    runtime.configure()
    from fmnist_report.store import Store, ensure_writable
    from fmnist_report.study.runner import load_data, run_study
    from fmnist_report.ui import ConsoleReporter

    reporter = ConsoleReporter(console, quiet=quiet)
    ensure_writable(cfg.out_dir)
    store = Store(cfg.cache_dir, warn=reporter.warn)
    parts = [p.strip() for p in only.split(",") if p.strip()] if only else None
    data = load_data(cfg)
    reporter.info(f"data: {data.source} ({len(data.x_train):,} train / {len(data.x_test):,} test images)")
    if stored_only:
        from fmnist_report.pipeline import require_stored

        require_stored(cfg, data, store, parts)
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
    cfg = _load_config(config, profile, seeds, epochs, out_dir, data_dir, offline)
    # With --json, progress goes to stderr so stdout stays machine-readable.
    results = _run_study(cfg, only, fresh, quiet or as_json, err if as_json else out)
    from fmnist_report.study.summary import summarize
    from fmnist_report.ui import summary_table

    summary = summarize(results).to_dict()
    if as_json:
        out.print_json(json.dumps({"profile": cfg.study.profile, **summary}))
    else:
        out.print(summary_table(summary))


# -- the report: build, render, export ------------------------------------------------------

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


def _report(cfg: Any, results: Any, *, pdf: bool, quiet: bool, as_json: bool, console: Console) -> None:
    """Export, draw, render and write the report; print where everything went."""
    from fmnist_report.pipeline import build_report

    outputs = build_report(results, pdf=pdf, info=None if quiet or as_json else console.print)
    if as_json:
        out.print_json(json.dumps({"profile": cfg.study.profile, **outputs.to_dict()}))
        return
    written = [outputs.html, *([outputs.pdf] if outputs.pdf else [])]
    out.print(f"report: {', '.join(str(p) for p in written)}")
    out.print(
        f"metrics: {outputs.metrics_json}, {outputs.metrics_csv}; figures: {outputs.figures_dir} "
        f"({outputs.figures}); model: {outputs.model_dir}"
    )


@app.command("build")
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
) -> None:
    """Run the whole study (reusing stored runs), export the CNN and render the HTML and PDF report."""
    report = {"title": title, "author": author, "course": course}
    cfg = _load_config(config, profile, seeds, epochs, out_dir, data_dir, offline, report)
    console = err if as_json else out
    results = _run_study(cfg, None, fresh, quiet or as_json, console)
    _report(cfg, results, pdf=not no_pdf, quiet=quiet, as_json=as_json, console=console)


@app.command("render")
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
) -> None:
    """Render the report again from stored results, without training anything (run `build` first)."""
    report = {"title": title, "author": author, "course": course}
    cfg = _load_config(config, profile, seeds, epochs, out_dir, data_dir, offline, report)
    console = err if as_json else out
    results = _run_study(cfg, None, False, quiet or as_json, console, stored_only=True)
    _report(cfg, results, pdf=not no_pdf, quiet=quiet, as_json=as_json, console=console)


@app.command("export")
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
) -> None:
    """Export the stored CNN 3x3 (first seed) for serving; never trains (run `build` first)."""
    cfg = _load_config(config, profile, seeds, epochs, out_dir, data_dir, offline)
    results = _run_study(cfg, "cnn", False, True, err if as_json else out, stored_only=True)
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


# -- deployment: predict, serve, deploy ----------------------------------------------------

ModelDirOpt = Annotated[
    Path,
    typer.Option("--model-dir", help="Folder written by the export (metadata.json, .keras, model.tar.gz)."),
]


@app.command("predict")
@user_errors
def predict_cmd(
    files: Annotated[
        list[Path],
        typer.Argument(help="PNG/JPEG images, .npy arrays or IDX image files.", dir_okay=False),
    ],
    model_dir: ModelDirOpt = Path("output/model"),
    top: Annotated[int, typer.Option("--top", min=1, max=10, help="How many classes to list.")] = 3,
    invert: Annotated[
        bool | None,
        typer.Option(
            "--invert/--no-invert",
            help="Force the polarity of PNG/JPEG input; by default a light background is inverted.",
            show_default=False,
        ),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Classify images with the exported model and print the top classes of each."""
    from fmnist_report import runtime

    runtime.quiet_tensorflow()
    from fmnist_report.serving.export import load_model
    from fmnist_report.serving.inference import load_many, predict

    x, names = load_many(files, invert=invert)
    ranked = predict(load_model(model_dir), x, top_k=top)
    if as_json:
        rows = [
            {"input": name, "top": [{"class": c, "probability": round(p, 6)} for c, p in classes]}
            for name, classes in zip(names, ranked, strict=True)
        ]
        out.print_json(json.dumps(rows))
        return
    from rich.markup import escape

    table = Table("input", *(f"#{i + 1}" for i in range(top)))
    for name, classes in zip(names, ranked, strict=True):
        table.add_row(escape(name), *(f"{c} {p:.1%}" for c, p in classes))
    out.print(table)


@app.command("serve")
@user_errors
def serve_cmd(
    host: Annotated[
        str, typer.Option(help="Address to listen on (0.0.0.0 inside a container).")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=0, max=65535, help="TCP port (SageMaker uses 8080).")] = 8080,
    model_dir: ModelDirOpt = Path("output/model"),
    max_bytes: Annotated[
        int, typer.Option("--max-bytes", min=1, help="Largest request body accepted (413 above).")
    ] = 6 * 1024 * 1024,
    max_batch: Annotated[
        int, typer.Option("--max-batch", min=1, help="Most images in one request (413 above).")
    ] = 256,
    log_level: Annotated[str, typer.Option(help="uvicorn log level: debug, info, warning, error.")] = "info",
) -> None:
    """Serve the model over HTTP with the SageMaker contract: GET /ping, POST /invocations."""
    from fmnist_report import runtime

    runtime.quiet_tensorflow()
    from fmnist_report.serving.export import verify_export
    from fmnist_report.serving.serve import run

    verify_export(model_dir)  # a bad export is one line here, not a failed start-up in the log
    run(
        model_dir,
        host=host,
        port=port,
        max_bytes=max_bytes,
        max_batch=max_batch,
        log_level=log_level,
        on_listen=lambda url: err.print(
            f"serving {model_dir} on {url} (SIGTERM or Ctrl-C stops)", markup=False
        ),
    )
    err.print("server stopped")


@app.command("deploy")
@user_errors
def deploy_cmd(
    model_dir: ModelDirOpt = Path("output/model"),
    instance_type: Annotated[str, typer.Option(help="SageMaker instance type.")] = "ml.m5.large",
    role: Annotated[
        str | None, typer.Option(help="ARN of the IAM role SageMaker runs the endpoint as.")
    ] = None,
    bucket: Annotated[
        str | None, typer.Option(help="S3 bucket (default: the SageMaker default bucket).")
    ] = None,
    s3_prefix: Annotated[
        str, typer.Option("--s3-prefix", help="Key prefix for model.tar.gz.")
    ] = "fmnist-report/model",
    endpoint_name: Annotated[
        str | None, typer.Option(help="Endpoint name (default: fmnist-report-<sha256 prefix>).")
    ] = None,
    region: Annotated[
        str | None, typer.Option(help="AWS region (default: from the AWS configuration).")
    ] = None,
    framework_version: Annotated[str, typer.Option(help="TensorFlow Serving image version.")] = "2.16",
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Print the steps and change nothing.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Upload model.tar.gz to S3 and deploy it to a SageMaker endpoint (TF Serving container)."""
    from fmnist_report.serving import deploy

    plan = deploy.plan_deployment(
        model_dir,
        role=role,
        bucket=bucket,
        s3_prefix=s3_prefix,
        endpoint_name=endpoint_name,
        region=region,
        instance_type=instance_type,
        framework_version=framework_version,
    )
    problems = [] if dry_run else deploy.blockers(plan)
    if as_json:
        out.print_json(json.dumps({**deploy.describe(plan), "dry_run": dry_run, "blocked_by": problems}))
    else:
        heading = "would" if dry_run or problems else "will"
        out.print(f"deployment plan ({heading} do):")
        for i, step in enumerate(plan.steps(), 1):
            out.print(f"  {i}. {step}", markup=False, soft_wrap=True)
        for note in plan.notes():
            out.print(f"note: {note}", markup=False, soft_wrap=True)
    if dry_run:
        err.print("dry run: nothing was changed")
        return
    if problems:
        raise UserError(f"not deploying, nothing was changed: {'; '.join(problems)}")
    name = deploy.execute(plan, echo=err.print)
    err.print(f"endpoint {name} is in service; try it with:", markup=False)
    out.print(deploy.invoke_example(plan), markup=False, soft_wrap=True)


def main() -> None:
    """Console-script entry point."""
    try:
        app()
    except KeyboardInterrupt:  # pragma: no cover - Ctrl-C outside a command body
        sys.exit(130)
