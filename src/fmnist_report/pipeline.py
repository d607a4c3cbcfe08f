"""The pipeline behind `build`, `render` and `export`: stored results in, report and model out.

`build_report` makes everything in memory first (export metadata, figures, context, HTML,
PDF, metrics) and writes the report's files only at the end, each atomically, so a failure
anywhere leaves the previous report whole.
"""

from __future__ import annotations

import csv
import hashlib
import importlib.metadata
import io
import json
import os
import platform
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from fmnist_report.config import Config, as_dict
from fmnist_report.data import Dataset
from fmnist_report.errors import ModelError, StoreError
from fmnist_report.records import Record, make_key, versions
from fmnist_report.report import context as context_mod
from fmnist_report.report import render
from fmnist_report.serving import export, inference
from fmnist_report.store import Store, atomic_dir, atomic_write, cached_or_run
from fmnist_report.study import plan as study
from fmnist_report.study.results import StudyResults
from fmnist_report.study.summary import model_summary, summary_rows

REPORT_HTML = "report.html"
REPORT_PDF = "report.pdf"
METRICS_JSON = "metrics.json"
METRICS_CSV = "metrics.csv"
#: Python packages whose versions the appendix lists, beside those in every cache key.
REPORTED_PACKAGES = ("weasyprint", "jinja2", "matplotlib", "scipy")
THUMBNAIL_SCALE = 3

Info = Callable[[str], None]


class NotBuiltError(StoreError):
    """A command that never trains found a training run missing from the store."""


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


# -- the never-train check ------------------------------------------------------------------------


def require_stored(config: Config, data: Dataset, store: Store, parts: Iterable[str] | None = None) -> None:
    """Fail with one line unless every planned training run is already in the store."""
    specs = study.plan(config, data, parts)
    missing = [s for s in specs if not store.has("train", s.key)]
    if missing:
        first = missing[0]
        raise NotBuiltError(
            f"{len(missing)} of {len(specs)} training runs of the {config.study.profile} profile are not in "
            f"{store.root} (first: {first.label}, seed {first.seed}); run `fmnist-report build` with the "
            "same options first"
        )


# -- export ------------------------------------------------------------------------------------------


def export_metadata(results: StudyResults) -> dict[str, Any]:
    """What metadata.json records about the exported CNN: its training, its accuracy, its data."""
    cfg = results.config
    records = results.runs[context_mod.CNN_ID]
    first = records[0]
    row = model_summary(records)
    spec = first.metrics["spec"]
    return {
        "training": {
            "model_id": first.metrics["model_id"],
            "label": first.metrics["label"],
            "record_key": first.key,
            "seed": spec["seed"],
            "spec": spec,
            "study": as_dict(cfg)["study"],
        },
        "metrics": {
            "test_accuracy_over_seeds": row["test_accuracy"],
            "test_loss_over_seeds": row["test_loss"],
            "test_accuracy_exported_seed": first.metrics["test_accuracy"],
            "n_test": first.metrics["n_test"],
        },
        "data": {
            "source": results.data.source,
            "fingerprint": results.data.fingerprint,
            "subset": results.data.subset,
            "checksums": dict(results.data.checksums),
        },
    }


def export_cnn(results: StudyResults, *, reuse: bool = False) -> dict[str, Any]:
    """Export the first seed's CNN 3x3 to the model folder; returns the export's metadata.

    With ``reuse``, an intact export of the same run with the same metrics is kept as it is.
    """
    cfg = results.config
    metadata = json.loads(json.dumps(export_metadata(results)))
    if reuse:
        try:
            current = export.verify_export(cfg.model_dir)
        except ModelError:
            current = None
        if current is not None and all(current.get(k) == v for k, v in metadata.items()):
            return current
    model = Store(cfg.cache_dir).load_model("train", results.first(context_mod.CNN_ID).key)
    return export.export_model(model, cfg.model_dir, metadata)


def thumbnail(image: np.ndarray, scale: int = THUMBNAIL_SCALE) -> bytes:
    """A uint8 28x28 image as a PNG, enlarged by whole pixels so it stays sharp."""
    from PIL import Image

    img = Image.fromarray(np.asarray(image, dtype=np.uint8), mode="L")
    img = img.resize((img.width * scale, img.height * scale), Image.Resampling.NEAREST)
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def sample_predictions(data: Dataset, model_dir: Path, top_k: int = 3) -> list[dict[str, Any]]:
    """Top-k predictions of the exported model for the first test image of each class."""
    model = export.load_model(model_dir)
    picks = [
        int(np.flatnonzero(data.y_test == c)[0])
        for c in range(len(data.class_names))
        if (data.y_test == c).any()
    ]
    ranked = inference.predict(model, data.x_test[picks], top_k=top_k)
    return [
        {
            "index": i,
            "true": data.class_names[int(data.y_test[i])],
            "png": thumbnail(data.x_test[i]),
            "top": top,
        }
        for i, top in zip(picks, ranked, strict=True)
    ]


# -- environment -----------------------------------------------------------------------------------


def cpu_model() -> str:
    """The CPU's model name from /proc/cpuinfo, else what the platform module knows."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith(("model name", "hardware", "cpu model")):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


def environment_info() -> dict[str, Any]:
    """Package versions, CPU and thread settings for the reproducibility appendix."""
    import tensorflow as tf

    found = {k: v for k, v in versions().items() if k != "record"}
    for name in REPORTED_PACKAGES:
        try:
            found[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            found[name] = "not installed"
    return {
        "versions": found,
        "platform": f"{platform.system()} {platform.release()} ({platform.machine()})",
        "cpu": cpu_model(),
        "logical_cpus": os.cpu_count() or 0,
        "threads": {
            "intra_op": tf.config.threading.get_intra_op_parallelism_threads(),
            "inter_op": tf.config.threading.get_inter_op_parallelism_threads(),
        },
    }


# -- the report ------------------------------------------------------------------------------------


def metrics_csv(rows: Iterable[tuple[str, str, Any]]) -> str:
    """The flat metrics as CSV: section, key, value."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["section", "key", "value"])
    writer.writerows(rows)
    return buf.getvalue()


def figures_key(results: StudyResults) -> str:
    """What decides the figures: every record drawn from, the study config and the drawing code."""
    from importlib.resources import files

    records = [r.key for recs in results.runs.values() for r in recs]
    records += [r.key for r in results.analyses.values()]
    records += [results.eda.key] if results.eda is not None else []
    code = hashlib.sha256()
    for source in sorted(files("fmnist_report.report.figures").iterdir(), key=lambda f: f.name):
        if source.name.endswith(".py"):
            code.update(source.read_bytes())
    params = {
        "records": sorted(records),
        "study": as_dict(results.config)["study"],
        "code": code.hexdigest(),
        "matplotlib": importlib.metadata.version("matplotlib"),
    }
    return make_key("figures", params)


def make_figures(results: StudyResults) -> tuple[list[Any], dict[str, bytes]]:
    """Every figure of the report, as specs and PNG bytes; nothing is written to the output.

    Drawing is most of a render's time, so the PNGs are kept in the result store under a key
    of everything that decides them, and a render of unchanged results reuses them.
    """
    from fmnist_report.report import figures

    def draw() -> Record:
        specs = figures.make_all(results)
        pngs = figures.render_all(specs)
        listing = [{"name": s.name, "caption": s.caption, "section": s.section} for s in specs]
        arrays = {name: np.frombuffer(png, dtype=np.uint8) for name, png in pngs.items()}
        return Record(kind="figures", key=key, metrics={"figures": listing}, arrays=arrays)

    key = figures_key(results)
    record = cached_or_run(Store(results.config.cache_dir), "figures", key, draw, fresh=False)
    specs = [
        figures.FigureSpec(f["name"], f["caption"], None, f["section"]) for f in record.metrics["figures"]
    ]
    return specs, {spec.name: record.arrays[spec.name].tobytes() for spec in specs}


def build_report(
    results: StudyResults,
    *,
    pdf: bool = True,
    reuse_export: bool = True,
    info: Info | None = None,
) -> Outputs:
    """Export the model, draw the figures, render HTML and PDF, then write every output."""
    from fmnist_report.report import interpretation

    say = info or (lambda message: None)
    cfg = results.config
    seconds: dict[str, float] = {}

    def step(name: str, message: str, fn: Callable[[], Any]) -> Any:
        say(message)
        start = time.perf_counter()
        value = fn()
        seconds[name] = time.perf_counter() - start
        return value

    summary = summary_rows(results)
    metadata = step(
        "export", f"exporting the CNN to {cfg.model_dir}", lambda: export_cnn(results, reuse=reuse_export)
    )
    predictions = step(
        "predictions", "sample predictions", lambda: sample_predictions(results.data, cfg.model_dir)
    )
    specs, pngs = step("figures", "drawing the figures", lambda: make_figures(results))
    ctx = step(
        "context",
        "writing the interpretation",
        lambda: context_mod.build_context(
            results,
            summary,
            figures=specs,
            pngs=pngs,
            export=metadata,
            predictions=predictions,
            evidence=interpretation.evidence(results),
            environment=environment_info(),
        ),
    )
    html = step("html", "rendering the HTML", lambda: render.render_html(ctx))
    pdf_bytes = step("pdf", "rendering the PDF", lambda: render.render_pdf(html)) if pdf else None
    rows = context_mod.metrics_flat(ctx)
    write_start = time.perf_counter()
    out = write_outputs(cfg, html, pdf_bytes, rows, pngs)
    seconds["write"] = time.perf_counter() - write_start
    out.seconds = seconds
    return out


def write_outputs(
    cfg: Config,
    html: str,
    pdf: bytes | None,
    rows: list[tuple[str, str, Any]],
    pngs: Mapping[str, bytes],
) -> Outputs:
    """Write figures, metrics, PDF and HTML, each atomically; a stale PDF is removed with --no-pdf."""

    def fill(folder: Path) -> None:
        for name, png in pngs.items():
            (folder / f"{name}.png").write_bytes(png)

    atomic_dir(cfg.figures_dir, fill)
    out_dir = cfg.out_dir
    metrics_path = atomic_write(
        out_dir / METRICS_JSON, json.dumps(context_mod.metrics_json(rows), indent=1, allow_nan=False) + "\n"
    )
    csv_path = atomic_write(out_dir / METRICS_CSV, metrics_csv(rows))
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
