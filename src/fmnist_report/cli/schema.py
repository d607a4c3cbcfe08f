"""`fmnist-report schema`: the JSON Schema of metrics.json, the public contract of a build's numbers."""

from __future__ import annotations

import typer


def schema_cmd() -> None:
    """Print the JSON Schema of metrics.json (draft 2020-12) on stdout."""
    from fmnist_report.report import metrics

    typer.echo(metrics.schema_text(), nl=False)
