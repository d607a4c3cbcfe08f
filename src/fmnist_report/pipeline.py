"""The pipeline behind `build`, `render` and `export`: stored results in, report and model out.

`build_report` makes everything in memory first (export metadata, figures, context, HTML,
PDF, metrics) and writes the report's files only at the end, each atomically, so a failure
anywhere leaves the previous report whole.
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib.metadata
import json
import shutil
import subprocess
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console

from fmnist_report.config import Config
from fmnist_report.paths import printable_path
from fmnist_report.records import Record, make_key
from fmnist_report.report import assemble, bibliography, metrics, notes, protocol, render, wording
from fmnist_report.report.environment import environment_info
from fmnist_report.report.sections import model_card
from fmnist_report.serving import publish
from fmnist_report.store import (
    Store,
    atomic_dir,
    atomic_write,
    cached_or_run,
    ensure_writable,
)
from fmnist_report.study.analyses import ModelLoader
from fmnist_report.study.plan import plan
from fmnist_report.study.results import StudyResults
from fmnist_report.study.summary import Summary, summarize, with_build

REPORT_HTML = "report.html"
REPORT_PDF = "report.pdf"
METRICS_JSON = metrics.JSON_FILE
METRICS_CSV = "metrics.csv"
#: The effective configuration, as the PDF carries it.
CONFIG_TOML = protocol.CONFIG_TOML

Info = Callable[[str], None]


@dataclass
class Outputs:
    """What a build wrote, and how long each step took."""

    html: Path
    pdf: Path | None
    metrics_json: Path
    metrics_csv: Path
    figures_dir: Path
    model_dir: Path
    figures: int
    seconds: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Plain values for ``--json``."""
        return {
            "html": str(self.html),
            "pdf": str(self.pdf) if self.pdf else None,
            "metrics_json": str(self.metrics_json),
            "metrics_csv": str(self.metrics_csv),
            "figures_dir": str(self.figures_dir),
            "model_dir": str(self.model_dir),
            "figures": self.figures,
            "seconds": {k: round(v, 3) for k, v in self.seconds.items()},
        }


# -- the study ----------------------------------------------------------------------------------


def study(
    cfg: Config,
    console: Console,
    *,
    parts: Iterable[str] | None = None,
    fresh: bool = False,
    quiet: bool = False,
    stored_only: bool = False,
    executor: str = "local",
    ray_address: str | None = None,
    check_notes: bool = False,
    jobs: int | None = None,
    exports: bool = False,
) -> StudyResults:
    """Load the data and run (or reuse) every planned experiment, showing progress on ``console``.

    With ``stored_only`` nothing trains: a training run missing from the store is an error.
    With ``check_notes`` the author's notes are checked against the planned models first.
    With ``exports`` (the report exports the CNN) a machine that cannot write the export stops
    before anything trains (`publish.check_exportable`).
    ``jobs`` trainings run at once (default: `runtime.default_jobs` for this machine), at most
    one per logical CPU (`executors.effective_jobs`).
    """
    from fmnist_report import runtime

    chosen = runtime.configure(backend=cfg.study.backend)
    if exports:
        publish.check_exportable(cfg.model_dir)
    from fmnist_report import ui
    from fmnist_report.study import calibration, executors, runner

    reporter = ui.ConsoleReporter(console, quiet=quiet)
    reporter.info(ui.settings_line(cfg))
    reporter.info(ui.backend_line(cfg.study.backend, chosen))
    ensure_writable(cfg.out_dir)
    store = Store(cfg.cache_dir, warn=reporter.warn)
    data = runner.load_data(cfg)
    reporter.info(f"data: {data.source} ({len(data.x_train):,} train / {len(data.x_test):,} test images)")
    if check_notes:
        notes.check(cfg, [spec.model_id for spec in plan(cfg, data, parts)])
    jobs, capped = executors.effective_jobs(jobs or runtime.default_jobs(), executor, runtime.logical_cpus())
    if capped and not stored_only:
        reporter.warn(capped)
    if stored_only:
        runner.require_stored(cfg, data, store, parts)
    elif executor == "local":  # a cluster's speed is not this machine's
        calibration.announce(cfg, data, store, reporter, parts=parts, fresh=fresh, jobs=jobs)
    try:
        return runner.run_study(
            cfg,
            data,
            store,
            reporter,
            only=parts,
            fresh=fresh,
            may_train=not stored_only,
            executor=executor,
            ray_address=ray_address,
            jobs=jobs,
        )
    finally:
        reporter.close()


def font_covers(char: str) -> bool:
    """Whether the shipped font or an installed one (fontconfig, which WeasyPrint uses) has ``char``."""
    from fmnist_report.report.fonts import covers

    if covers(char):
        return True
    if shutil.which("fc-list") is None:
        return True  # nothing to ask; the PDF renderer will use what it finds
    found = subprocess.run(["fc-list", f":charset={ord(char):x}", "family"], capture_output=True, text=True)
    return bool(found.stdout.strip())


def check_report_text(config: Config) -> list[str]:
    """Look at the title-page text before any training; returns warnings for the user.

    Text may hold anything, ``//`` and ``https:`` included: it is escaped, and the HTML guard
    refuses only resource loads. What it can still lack is a font: characters that no
    installed font has (Chinese or emoji on a machine with only DejaVu, say) would print as
    empty boxes in the PDF, so each such setting gets one warning.
    """
    warnings = []
    for name, value in dataclasses.asdict(config.report).items():
        missing = sorted({c for c in value if ord(c) > 0x24F and not c.isspace() and not font_covers(c)})
        if missing:
            warnings.append(
                f"report.{name} holds characters no installed font has ({''.join(missing[:8])}); the PDF "
                "would print them as empty boxes: install a font that has them (on Debian: apt-get "
                "install fonts-noto-cjk fonts-noto-color-emoji) or change the text"
            )
    return warnings


# -- the report ------------------------------------------------------------------------------------


def figures_key(summary: Summary, records: Iterable[str]) -> str:
    """What decides the figures: the summary, the records its pictures come from, and the drawing code.

    ``summary.pictures`` stays out of the summary's JSON (which holds the study config), so the
    keys of the records those arrays were read from (``records``) stand for them.
    """
    code = hashlib.sha256()
    for source in sorted(files("fmnist_report.report.figures").iterdir(), key=lambda f: f.name):
        if source.name.endswith(".py"):
            code.update(source.read_bytes())
    params = {
        "records": sorted(records),
        "summary": hashlib.sha256(json.dumps(summary.to_dict(), sort_keys=True).encode()).hexdigest(),
        "code": code.hexdigest(),
        "matplotlib": importlib.metadata.version("matplotlib"),
    }
    return make_key("figures", params)


def make_figures(
    results: StudyResults, summary: Summary, *, fresh: bool = False, warn: Info | None = None
) -> tuple[list[Any], dict[str, bytes]]:
    """Every figure of the report, as specs and PNG bytes; nothing is written to the output.

    The specs (names, captions, sections) come from the summary without drawing. Drawing is
    most of a render's time, so the PNGs are kept in the result store under a key of
    everything that decides them, and a render of unchanged results reuses them; a damaged
    entry is reported through ``warn`` and drawn again.
    """
    from fmnist_report.report import figures

    specs = figures.make_all(summary)

    def draw() -> Record:
        pngs = figures.render_all(specs)
        listing = [{"name": s.name, "caption": s.caption, "section": s.section} for s in specs]
        arrays = {name: np.frombuffer(png, dtype=np.uint8) for name, png in pngs.items()}
        return Record(kind="figures", key=key, metrics={"figures": listing}, arrays=arrays)

    # The figures read the summary alone; the records only name what its pictures were read from.
    records = [r.key for recs in results.runs.values() for r in recs]
    records += [r.key for r in results.analyses.values()]
    records += [results.eda.key] if results.eda is not None else []
    key = figures_key(summary, records)
    record = cached_or_run(Store(results.config.cache_dir, warn=warn), "figures", key, draw, fresh=fresh)
    return specs, {spec.name: record.arrays[spec.name].tobytes() for spec in specs}


def model_card_md(summary: Summary) -> str:
    """``model_card.md`` of the exported model, for `export`, which renders no report."""
    from fmnist_report.report.sections.values import model_rows

    return render.render_model_card(model_card.build(summary, model_rows(summary)))


def build_report(
    results: StudyResults,
    *,
    pdf: bool = True,
    pdf_variant: str = render.DEFAULT_PDF_VARIANT,
    fresh: bool = False,
    reuse_export: bool = True,
    info: Info | None = None,
    warn: Info | None = None,
    may_train: bool = False,
) -> Outputs:
    """Summarise, export the model, draw the figures, render HTML and PDF, then write every output.

    The PDF is ``pdf_variant`` (`render.PDF_VARIANTS`) and carries metrics.json and the effective
    configuration as embedded files.
    ``warn`` hears of each damaged cache entry and of each model near chance; ``may_train`` lets
    a damaged stored model be trained again (`build`) rather than stop the build with a one-line
    error (`render`).
    """
    say = info or (lambda message: None)
    cfg = results.config
    load_model = ModelLoader(Store(cfg.cache_dir, warn=warn), results, may_train=may_train)
    seconds: dict[str, float] = {}

    def step(name: str, message: str, fn: Callable[[], Any]) -> Any:
        say(message)
        start = time.perf_counter()
        value = fn()
        seconds[name] = time.perf_counter() - start
        return value

    summary = summarize(results)
    for row in summary.models.values():  # the report says it too, beside the model's row
        if warn is not None and (line := wording.near_chance_line(row, cfg.study.profile)):
            warn(line)
    metadata = step(
        "export",
        f"exporting the CNN to {cfg.model_dir}",
        lambda: publish.export_cnn(results, summary, reuse=reuse_export, load_model=load_model),
    )
    predictions = step(
        "predictions", "sample predictions", lambda: publish.sample_predictions(results.data, cfg.model_dir)
    )
    specs, pngs = step(
        "figures", "drawing the figures", lambda: make_figures(results, summary, fresh=fresh, warn=warn)
    )
    # What the build adds to the study's numbers; after the figures, whose cache key is the study's.
    summary = with_build(
        summary,
        environment=environment_info(),
        model_dir=printable_path(cfg.model_dir),
        export=metadata,
        predictions=predictions,
    )
    metrics_text = summary.to_json()
    ctx = step(
        "context",
        "writing the interpretation",
        lambda: assemble.context(summary, cfg, specs, pngs, metrics_text),
    )
    html = step("html", "rendering the HTML", lambda: render.render_html(ctx))
    pdf_bytes = (
        step(
            "pdf",
            "rendering the PDF",
            lambda: render.render_pdf(
                html, variant=pdf_variant, attachments=assemble.attachments(summary, cfg, metrics_text)
            ),
        )
        if pdf
        else None
    )
    card = render.render_model_card(ctx["deployment"]["card"])
    write_start = time.perf_counter()
    out = write_outputs(cfg, html, pdf_bytes, summary, pngs, metrics_text=metrics_text, card=card)
    seconds["write"] = time.perf_counter() - write_start
    out.seconds = seconds
    return out


def write_outputs(
    cfg: Config,
    html: str,
    pdf: bytes | None,
    summary: Summary,
    pngs: Mapping[str, bytes],
    *,
    metrics_text: str | None = None,
    card: str | None = None,
) -> Outputs:
    """Write figures, metrics, PDF and HTML, each atomically; a stale PDF is removed with --no-pdf.

    metrics.json is the Summary serialised (``metrics_text``, as the PDF carries it, where the
    caller has it already) and metrics.csv its numbers. ``card`` is the exported model's
    ``model_card.md``, written beside the export.
    """

    def fill(folder: Path) -> None:
        for name, png in pngs.items():
            (folder / f"{name}.png").write_bytes(png)

    atomic_dir(cfg.figures_dir, fill)
    if card is not None:
        atomic_write(cfg.model_dir / model_card.CARD_FILE, card)
    out_dir = cfg.out_dir
    atomic_write(out_dir / bibliography.BIB_FILE, bibliography.bibtex())
    metrics_path = atomic_write(out_dir / METRICS_JSON, metrics_text or summary.to_json())
    csv_path = atomic_write(out_dir / METRICS_CSV, metrics.metrics_csv(summary))
    pdf_path = None
    if pdf is not None:
        pdf_path = atomic_write(out_dir / REPORT_PDF, pdf)
    else:
        (out_dir / REPORT_PDF).unlink(missing_ok=True)  # it would describe an older build
    html_path = atomic_write(out_dir / REPORT_HTML, html)
    return Outputs(
        html=html_path,
        pdf=pdf_path,
        metrics_json=metrics_path,
        metrics_csv=csv_path,
        figures_dir=cfg.figures_dir,
        model_dir=cfg.model_dir,
        figures=len(pngs),
    )
