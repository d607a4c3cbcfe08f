"""The report's context from the Summary: one sequence for `build` and for `verify`.

A build lays out the Summary it computed; `verify` lays out the Summary a PDF carries, with
the configuration and notes it carries, and compares the two texts number by number. Both go
through :func:`context`, so the text `verify` expects is the text a build writes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from typing import Any

from fmnist_report.config import Config
from fmnist_report.report import note_files, notes, protocol, render
from fmnist_report.report.context import FigureLike, build_context
from fmnist_report.report.metrics import JSON_FILE
from fmnist_report.report.sections import interpretation
from fmnist_report.study.summary_types import Summary


def context(
    summary: Summary,
    config: Config,
    figures: Sequence[FigureLike],
    pngs: Mapping[str, bytes],
    metrics_text: str | bytes,
) -> dict[str, Any]:
    """Every value the templates lay out: the parts, the interpretation, the author's notes, and
    the checksum of ``metrics_text`` (the attached metrics.json) that the appendix prints."""
    ctx = build_context(
        summary,
        config=config,
        figures=figures,
        pngs=pngs,
        evidence=interpretation.evidence(summary, [f.name for f in figures]),
        notes=notes.build(config, summary),
    )
    data = metrics_text.encode() if isinstance(metrics_text, str) else metrics_text
    # The appendix prints the attachment's checksum, so that `verify` can tell it was not swapped.
    ctx["meta"]["metrics_sha256"] = hashlib.sha256(data).hexdigest()
    return ctx


def attachments(summary: Summary, cfg: Config, metrics_text: str | None = None) -> list[render.EmbeddedFile]:
    """What the PDF carries: its numbers (metrics.json, the Summary) and the configuration that repeats it.

    ``metrics_text`` is ``summary.to_json()`` where the caller has it already. The author's
    notes and their images go along under ``notes/`` (`notes.carried`), so that `verify` lays out
    the same text and ``verify --rebuild`` builds the report with them.
    """
    table, carried = notes.carried(cfg)
    return [
        render.EmbeddedFile(
            JSON_FILE,
            (metrics_text or summary.to_json()).encode(),
            "Every number of the report: the study's Summary (fmnist-report schema prints its schema)",
            "Data",
            "application/json",
        ),
        render.EmbeddedFile(
            protocol.CONFIG_TOML,
            protocol.config_toml(cfg, protocol.protocol(summary), table).encode(),
            "The effective configuration: fmnist-report build --config with it repeats the study",
            "Source",
            "application/toml",
        ),
        *(
            render.EmbeddedFile(
                name,
                data,
                "The author's note" if name in table.values() else "An image of the author's note",
                "Source",
                "text/markdown" if name in table.values() else note_files.media_type(name),
            )
            for name, data in carried.items()
        ),
    ]
