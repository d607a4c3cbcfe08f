"""`fmnist-report predict|serve|deploy`: use the exported model."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.measure import Measurement
from rich.table import Table

from fmnist_report.cli.options import JsonOpt, ModelDirOpt, err, out, user_errors
from fmnist_report.errors import UserError


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
    table = Table("input", *(f"#{i + 1}" for i in range(top)))
    for name, classes in zip(names, ranked, strict=True):
        table.add_row(escape(name), *(f"{c} {p:.1%}" for c, p in classes))
    # As wide as the rows need, past the terminal if it must be: a cut name names no file.
    needed = Measurement.get(out, out.options.update_width(100_000), table).maximum
    console = out if needed <= out.width else Console(file=out.file, width=needed, highlight=False)
    console.print(table)


class LogLevel(StrEnum):
    """uvicorn's log levels; the server's own lines follow the same level."""

    critical = "critical"
    error = "error"
    warning = "warning"
    info = "info"
    debug = "debug"
    trace = "trace"


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
        int | None,
        typer.Option(
            "--max-batch",
            min=1,
            help="Most images in one request (413 above); default: as many as --max-bytes holds as uint8 .npy.",
            show_default=False,
        ),
    ] = None,
    timeout: Annotated[
        float,
        typer.Option(
            "--timeout",
            min=0.1,
            help="Seconds a request head may take to arrive, and a request body may pause (408 after).",
        ),
    ] = 5.0,
    log_level: Annotated[
        LogLevel, typer.Option(help="Log level of uvicorn and of the server.")
    ] = LogLevel.info,
) -> None:
    """Serve the model over HTTP with the SageMaker contract: GET /ping, POST /invocations."""
    from fmnist_report import runtime

    runtime.quiet_tensorflow()
    from fmnist_report.serving.export import verify_export
    from fmnist_report.serving.server import run

    verify_export(model_dir)  # a bad export is one line here, not a failed start-up in the log
    run(
        model_dir,
        host=host,
        port=port,
        max_bytes=max_bytes,
        max_batch=max_batch,
        timeout=timeout,
        log_level=log_level.value,
        on_listen=lambda url: err.print(
            f"serving {model_dir} on {url} (SIGTERM or Ctrl-C stops)", markup=False
        ),
    )
    err.print("server stopped")


@user_errors
def deploy_cmd(
    model_dir: ModelDirOpt = Path("output/model"),
    instance_type: Annotated[
        str, typer.Option(help="SageMaker instance type (x86 CPU or NVIDIA GPU).")
    ] = "ml.m5.large",
    role: Annotated[
        str | None, typer.Option(help="ARN of the IAM role SageMaker runs the endpoint as.")
    ] = None,
    bucket: Annotated[
        str | None, typer.Option(help="S3 bucket (default: sagemaker-REGION-ACCOUNT, created if missing).")
    ] = None,
    s3_prefix: Annotated[
        str, typer.Option("--s3-prefix", help="Key prefix for model.tar.gz (then its sha256 prefix).")
    ] = "fmnist-report/model",
    endpoint_name: Annotated[
        str | None, typer.Option(help="Endpoint name (default: fmnist-report-<sha256 prefix>).")
    ] = None,
    region: Annotated[
        str | None, typer.Option(help="AWS region (default: from the AWS configuration).")
    ] = None,
    framework_version: Annotated[
        str | None,
        typer.Option(
            help="TensorFlow Serving image version (default: the one that serves SavedModels of the "
            "TensorFlow that wrote the export, 2.20 for 2.21).",
            show_default=False,
        ),
    ] = None,
    image_uri: Annotated[
        str | None,
        typer.Option(
            "--image-uri",
            help="Serving image to use instead (ECR URI), e.g. a newer tensorflow-inference tag or a "
            "region this tool knows no registry for.",
            show_default=False,
        ),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Check everything, print the steps and change nothing.")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Upload model.tar.gz to S3 and deploy it to a SageMaker endpoint (TF Serving container), with boto3."""
    from fmnist_report.serving import deploy

    try:
        plan = deploy.plan_deployment(
            model_dir,
            role=role,
            bucket=bucket,
            s3_prefix=s3_prefix,
            endpoint_name=endpoint_name,
            region=region,
            instance_type=instance_type,
            framework_version=framework_version,
            image_uri=image_uri,
        )
    except deploy.DeployError as exc:
        if as_json:
            out.print_json(json.dumps({"errors": exc.problems}))
        for problem in exc.problems:
            err.print(f"[bold red]error:[/] {escape(problem)}", soft_wrap=True)
        raise typer.Exit(1) from None
    problems = deploy.blockers(plan)
    if as_json:
        out.print_json(json.dumps({**deploy.describe(plan), "dry_run": dry_run, "blocked_by": problems}))
    else:
        heading = "would" if dry_run or problems else "will"
        out.print(f"deployment plan ({heading} do):")
        for i, step in enumerate(plan.steps(), 1):
            out.print(f"  {i}. {step}", markup=False, soft_wrap=True)
        for note in plan.notes():
            out.print(f"note: {note}", markup=False, soft_wrap=True)
    for problem in problems:
        err.print(f"[bold red]blocked:[/] {escape(problem)}", soft_wrap=True)
    if dry_run:
        verdict = "a real run would be blocked" if problems else "a real run would go ahead"
        err.print(f"dry run: nothing was changed; {verdict}")
        if problems:
            raise typer.Exit(1)
        return
    if problems:
        raise UserError(f"not deploying, nothing was changed: {len(problems)} blocker(s) above")
    name = deploy.execute(plan, echo=lambda line: err.print(line, markup=False, soft_wrap=True))
    err.print(f"endpoint {name} is in service; try it with:", markup=False)
    out.print(deploy.invoke_example(plan), markup=False, soft_wrap=True)
