"""The report context, built from a hand-made StudyResults (no training), and its metrics twin."""

from __future__ import annotations

import functools
import io
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from fmnist_report import models
from fmnist_report.config import Config, ReportMeta, StudyConfig
from fmnist_report.records import Record
from fmnist_report.report import context, narrative
from fmnist_report.study import training
from fmnist_report.study.experiments import eda
from fmnist_report.study.results import StudyResults
from fmnist_report.study.summary import summary_rows

from .conftest import synthetic_dataset

#: How often each synthetic model is right: the CNNs clearly beat the baseline.
SKILL = {"dense": 0.55, "cnn3": 0.9, "cnn5": 0.88, "cnn7": 0.86, "dense-permuted": 0.55, "cnn3-permuted": 0.4}


@dataclass
class FakeFigure:
    name: str
    caption: str
    section: str


FIGURES = [
    FakeFigure("class_distribution", "Images per class.", "eda"),
    FakeFigure("confusion_dense", "Confusion matrix of the baseline.", "dense"),
    FakeFigure("training_curves", "Loss and accuracy per epoch.", "cnn"),
    FakeFigure("kernel_tradeoff", "Accuracy against cost.", "kernels"),
    FakeFigure("filters", "First-layer filters.", "interpretation"),
    FakeFigure("feature_maps", "Feature maps.", "interpretation"),
    FakeFigure("stray", "A figure of a section no partial knows.", "elsewhere"),
]


def png(seed: int = 0, size: int = 16) -> bytes:
    """A small real PNG, so HTML and PDF renderers can decode it."""
    from PIL import Image

    arr = np.random.default_rng(seed).integers(0, 256, (size, size), dtype=np.uint8)
    buf = io.BytesIO()
    Image.fromarray(arr, mode="L").save(buf, format="PNG")
    return buf.getvalue()


@functools.cache
def cost(arch: str, k: int | None) -> tuple[int, int]:
    """Parameters and FLOPs of an architecture, built once per test run."""
    model = models.build(arch, k)
    return int(model.count_params()), models.flops_per_image(model)


def fake_record(model_id: str, seed: int, y_test: np.ndarray, k: int | None) -> Record:
    """A training record with the fields the summary and the context read, from fake predictions."""
    rng = np.random.default_rng(zlib.crc32(f"{model_id}-{seed}".encode()))
    right = rng.random(len(y_test)) < SKILL[model_id]
    pred = np.where(right, y_test, (y_test + rng.integers(1, 10, len(y_test))) % 10)
    probabilities = np.full((len(y_test), 10), 0.02, dtype=np.float32)
    probabilities[np.arange(len(y_test)), pred] = 0.82
    confusion = training.confusion_matrix(y_test, pred)
    arch = "dense" if model_id.startswith("dense") else "cnn"
    params, flops = cost(arch, k)
    label = ("Dense" if arch == "dense" else f"CNN {k}x{k}") + (
        " (permuted pixels)" if model_id.endswith("permuted") else ""
    )
    metrics = {
        "spec": {"arch": arch, "kernel_size": k, "seed": seed, "epochs": 2, "precision": "mixed_bfloat16"},
        "model_id": model_id,
        "label": label,
        "history": {
            "loss": [1.0, 0.5],
            "accuracy": [0.5, 0.7],
            "val_loss": [1.1, 0.6],
            "val_accuracy": [0.5, 0.6],
        },
        "test_accuracy": float(right.mean()),
        "test_loss": training.cross_entropy(probabilities, y_test.astype(np.int64)),
        "per_class": training.per_class_scores(confusion),
        "params": params,
        "flops": flops,
        "train_seconds": 10.0 + (k or 1) + seed,
        "epoch_seconds": [5.0, 5.0],
        "latency_ms_batched": 0.01 * (k or 1),
        "latency_ms_single": 1.0 + 0.1 * (k or 1),
        "n_train": 255,
        "n_val": 45,
        "n_test": len(y_test),
    }
    return Record(
        "train", f"train-{model_id}-{seed}", metrics, {"probabilities": probabilities, "confusion": confusion}
    )


def make_results(out_dir: Path, *, seeds: int = 2, split: str = "stratified", **report) -> StudyResults:
    """A StudyResults with every model of the study, built without training."""
    data = synthetic_dataset(per_class_train=30, per_class_test=10)
    meta = {
        "title": "A Test Report",
        "author": "Ada Tester",
        "course": "ML 101",
        "date": "2026-01-02",
        **report,
    }
    cfg = Config(
        study=StudyConfig(profile="quick", epochs=2, seeds=seeds, split=split),
        report=ReportMeta(**meta),
        out_dir=out_dir,
    )
    results = StudyResults(config=cfg, data=data, eda=eda.run(data))
    kernels = {"dense": None, "cnn3": 3, "cnn5": 5, "cnn7": 7, "dense-permuted": None, "cnn3-permuted": 3}
    for model_id, k in kernels.items():
        ids = range(seeds) if not model_id.endswith("permuted") else range(1)
        results.runs[model_id] = [fake_record(model_id, s, data.y_test, k) for s in ids]
    results.analyses["shift"] = Record("shift", "shift-1", {"accuracy": [0.9, 0.7], "layer": "conv1"})
    return results


EVIDENCE = [
    {
        "id": "locality",
        "claim": "Convolutions rely on neighbouring pixels",
        "title": "Permuting the pixels",
        "paragraphs": ["The CNN loses accuracy when the pixels are permuted.", "The dense network does not."],
        "figures": ["filters"],
        "tables": [
            {
                "caption": "Accuracy with permuted pixels",
                "columns": ["Model", "Accuracy"],
                "rows": [["Dense", 0.55]],
            }
        ],
    }
]

EXPORT = {
    "created_utc": "2026-01-02T00:00:00Z",
    "architecture": {"name": "cnn_3x3", "params": 421642},
    "serving": {"signature": "serving_default", "input": "image", "output": "probabilities"},
    "artifacts": {
        "model.tar.gz": {"sha256": "ab" * 32, "bytes": 2_000_000},
        "fashion_mnist_cnn.keras": {"sha256": "cd" * 32, "bytes": 5_000_000},
    },
}

ENVIRONMENT = {
    "versions": {
        "tensorflow": "2.99",
        "keras": "3.99",
        "numpy": "2.0",
        "python": "3.11.0",
        "weasyprint": "70",
    },
    "platform": "Linux 6 (x86_64)",
    "cpu": "Test CPU",
    "logical_cpus": 2,
    "threads": {"intra_op": 0, "inter_op": 0},
}


def predictions(results: StudyResults) -> list[dict]:
    names = results.data.class_names
    out = []
    for c, name in enumerate(names):
        guess = name if c % 3 else names[(c + 1) % 10]  # every third one wrong
        out.append(
            {
                "index": c,
                "true": name,
                "png": png(c, 28),
                "top": [(guess, 0.8), (names[(c + 2) % 10], 0.1), (names[(c + 3) % 10], 0.05)],
            }
        )
    return out


def make_context(out_dir: Path, *, evidence: list | None = None, **kwargs) -> tuple[StudyResults, dict, dict]:
    """(results, summary, context) of the synthetic study."""
    results = make_results(out_dir, **kwargs)
    summary = summary_rows(results)
    ctx = context.build_context(
        results,
        summary,
        figures=FIGURES,
        pngs={f.name: png(i) for i, f in enumerate(FIGURES)},
        export=EXPORT,
        predictions=predictions(results),
        evidence=EVIDENCE if evidence is None else evidence,
        environment=ENVIRONMENT,
    )
    return results, summary, ctx


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    return make_context(tmp_path_factory.mktemp("ctx") / "out")


def placed_figures(ctx: dict) -> list[str]:
    names = [f["name"] for key in ("data", "dense", "cnn", "kernels") for f in ctx[key]["figures"]]
    names += [f["name"] for item in ctx["interpretation"]["evidence"] for f in item["figures"]]
    names += [f["name"] for f in ctx["interpretation"]["extra_figures"]]
    return names


def test_every_figure_is_placed_exactly_once_as_a_data_uri(built):
    _, _, ctx = built
    names = placed_figures(ctx)
    assert sorted(names) == sorted(f.name for f in FIGURES)
    assert ctx["figure_count"] == len(FIGURES)
    assert [f["name"] for f in ctx["interpretation"]["extra_figures"]] == ["feature_maps", "stray"]
    assert ctx["data"]["figures"][0]["src"].startswith("data:image/png;base64,iVBOR")


def test_evidence_showing_an_unknown_figure_fails(tmp_path):
    bad = [{**EVIDENCE[0], "figures": ["no_such_figure"]}]
    with pytest.raises(ValueError, match="shows figure 'no_such_figure', which no figure function made"):
        make_context(tmp_path, evidence=bad)


def test_summary_numbers_are_the_summary_rows(built):
    _, summary, ctx = built
    rows = {r["model_id"]: r for r in summary["models"]}
    s = ctx["summary"]
    assert s["cnn"]["accuracy"]["mean"] == rows["cnn3"]["test_accuracy"]["mean"]
    assert s["dense"]["accuracy"]["ci_low"] == rows["dense"]["test_accuracy"]["ci_low"]
    comp = summary["comparisons"]["dense__vs__cnn3"]
    assert s["comparison"] == narrative.significance_text(comp)
    assert s["significant"] == narrative.is_significant(comp)
    assert s["worst_p"] == comp["worst_p"] and s["n_seeds"] == 2 and s["epochs"] == 2
    half = s["cnn"]["accuracy"]["ci_half"]
    assert half > 0 and half == pytest.approx(
        (rows["cnn3"]["test_accuracy"]["ci_high"] - rows["cnn3"]["test_accuracy"]["ci_low"]) / 2
    )


def test_dense_weak_spots_come_from_the_summed_confusion_matrices(built):
    results, summary, ctx = built
    total = sum(r.arrays["confusion"] for r in results.runs["dense"])
    off = total + total.T
    np.fill_diagonal(off, 0)
    assert ctx["dense"]["confused"][0]["count"] == off.max()
    per_class = next(r for r in summary["models"] if r["model_id"] == "dense")["per_class_accuracy"]
    assert ctx["dense"]["weakest"][0]["accuracy"] == min(per_class)
    assert ctx["dense"]["layers"][-1] == {
        "name": "probabilities",
        "type": "Dense",
        "output_shape": "10",
        "params": 1290,
    }


def test_cnn_section_compares_like_with_like(built):
    _, _, ctx = built
    cnn = ctx["cnn"]
    compared = {row["key"]: row for row in cnn["compared"]}
    assert (
        compared["params"]["dense"] == 235146
        and compared["params"]["cnn"] == models.build_cnn(3).count_params()
    )
    assert {"test_accuracy", "test_loss", "flops", "train_seconds"} <= compared.keys()
    assert len(cnn["per_class"]) == 10
    assert all(row["diff"] == pytest.approx(row["cnn"] - row["dense"]) for row in cnn["per_class"])
    assert [t["seed"] for t in cnn["mcnemar"]] == [0, 1]


def test_kernel_rows_follow_the_configured_order(built):
    _, _, ctx = built
    k = ctx["kernels"]
    assert [r["kernel_size"] for r in k["rows"]] == [3, 5, 7]
    assert k["rows"][2]["receptive_field"] == models.receptive_fields(7)[-1]["receptive_field"]
    assert [c["key"] for c in k["comparisons"]] == ["cnn3__vs__cnn5", "cnn3__vs__cnn7", "cnn5__vs__cnn7"]
    assert k["conclusion"] == narrative.kernel_conclusion(k["rows"], built[1]["comparisons"])
    best = max(k["rows"], key=lambda r: r["test_accuracy"]["mean"])
    assert k["best"]["label"] == best["label"]


def test_appendix_names_the_precision_the_runs_used(built):
    _, _, ctx = built
    text = ctx["reproducibility"]["precision"]
    assert text.startswith("mixed_bfloat16 (Keras mixed precision")
    assert "auto" in text  # the default config asked for auto; the text says how it was resolved


def test_split_wording_follows_the_config(tmp_path):
    _, _, ctx = make_context(tmp_path, seeds=1, split="last")
    assert ctx["data"]["split"] == "the last 15%"
    assert "the last 15%" in ctx["data"]["preprocessing_text"]
    assert ctx["summary"]["cnn"]["accuracy"]["ci_half"] == 0.0  # one seed: no interval


def test_deployment_lists_the_exported_files_and_predictions(built):
    _, _, ctx = built
    d = ctx["deployment"]
    assert [f["path"] for f in d["files"]] == ["fashion_mnist_cnn.keras", "model.tar.gz"]
    assert d["files"][0]["sha256"] == "cd" * 8 and d["total_bytes"] == 7_000_000
    assert len(d["predictions"]) == 10 and d["n_correct"] == 6
    assert d["model_dir"].endswith("out/model") and "fmnist-report serve" in d["commands"][1]["command"]


def test_references_cite_the_published_benchmark(built):
    _, _, ctx = built
    published = {p["name"]: p["accuracy"] for p in ctx["references"]["published"]}
    assert published == {
        "SVC (best scikit-learn model)": 0.897,
        "MLPClassifier": 0.870,
        "Human performance": 0.835,
    }
    assert any("arXiv:1708.07747" in c for c in ctx["references"]["citations"])
    assert [o["name"] for o in ctx["references"]["ours"]] == ["Dense", "CNN 3x3"]


def test_metrics_flat_holds_every_number_with_a_unique_key(built):
    _, summary, ctx = built
    rows = context.metrics_flat(ctx)
    keys = [(section, key) for section, key, _ in rows]
    assert len(keys) == len(set(keys))
    assert all(isinstance(v, int | float) and not isinstance(v, bool) for _, _, v in rows)
    flat = {(s, k): v for s, k, v in rows}
    cnn = next(r for r in summary["models"] if r["model_id"] == "cnn3")
    assert flat[("summary", "cnn.accuracy.mean")] == cnn["test_accuracy"]["mean"]
    assert flat[("kernels", "rows.cnn5.params")] == models.build_cnn(5).count_params()
    assert flat[("dense", "per_class.Shirt.accuracy")] == ctx["dense"]["per_class"][6]["accuracy"]
    assert flat[("deployment", "files.model.tar.gz.bytes")] == 2_000_000
    assert flat[("analyses", "shift.accuracy.1")] == 0.7  # the interpretation's raw measurements
    assert not any(s in ("meta", "toc", "sections") for s, _ in keys)
    nested = context.metrics_json(rows)
    assert sum(len(v) for v in nested.values()) == len(rows)
    assert nested["summary"]["n_seeds"] == 2
