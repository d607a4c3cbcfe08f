"""Test data built without training: tiny IDX files, toy data sets and fake study results.

This is the one place that knows the shape of a training record; tests build records
through :func:`train_record` and results through :func:`fake_results`.
"""

from __future__ import annotations

import gzip
import io
import re
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest

from fmnist_report import data as data_mod
from fmnist_report.config import Config, ReportMeta, StudyConfig
from fmnist_report.ids import ModelId
from fmnist_report.paths import printable_path
from fmnist_report.records import Record
from fmnist_report.report import preflight
from fmnist_report.study import stats, training
from fmnist_report.study.results import StudyResults
from fmnist_report.study.summary import Summary, holm_directions, paired_comparison, summarize, with_build
from fmnist_report.variants import Variant

# -- data files ------------------------------------------------------------------------------------


def idx_bytes(arr: np.ndarray, *, magic: int | None = None, type_byte: int = 0x08) -> bytes:
    """Encode an array as IDX, optionally with a wrong magic number or type byte."""
    ndim = arr.ndim
    head = bytes([0, 0, type_byte, ndim]) if magic is None else magic.to_bytes(4, "big")
    dims = b"".join(int(d).to_bytes(4, "big") for d in arr.shape)
    return head + dims + np.ascontiguousarray(arr, dtype=np.uint8).tobytes()


def tiny_arrays(n_train: int = 40, n_test: int = 20, seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {
        "train-images": rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        "train-labels": (np.arange(n_train) % 10).astype(np.uint8),
        "test-images": rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        "test-labels": (np.arange(n_test) % 10).astype(np.uint8),
    }


def write_idx_dir(directory: Path, *, gz: bool = True, arrays: dict | None = None) -> Path:
    """Write the four files (tiny, so their checksums differ from the real ones)."""
    directory.mkdir(parents=True, exist_ok=True)
    arrays = arrays or tiny_arrays()
    for spec in data_mod.FILES:
        payload = idx_bytes(arrays[spec.key])
        if gz:
            (directory / f"{spec.filename}.gz").write_bytes(gzip.compress(payload))
        else:
            (directory / spec.filename).write_bytes(payload)
    return directory


def synthetic_dataset(per_class_train: int = 30, per_class_test: int = 10, seed: int = 0) -> data_mod.Dataset:
    """A learnable toy data set: each class is a bright bar at its own position, plus noise."""
    rng = np.random.default_rng(seed)

    def make(per_class: int) -> tuple[np.ndarray, np.ndarray]:
        labels = np.repeat(np.arange(10), per_class).astype(np.uint8)
        images = rng.integers(0, 60, (len(labels), 28, 28)).astype(np.uint8)
        for i, c in enumerate(labels):
            images[i, 2 + 2 * c : 5 + 2 * c, 4:24] = 230
        order = rng.permutation(len(labels))
        return images[order], labels[order]

    x_tr, y_tr = make(per_class_train)
    x_te, y_te = make(per_class_test)
    return data_mod.Dataset(x_tr, y_tr, x_te, y_te, source="synthetic")


REAL_DIR = data_mod.SYSTEM_DIRS[0]
needs_real_data = pytest.mark.skipif(
    data_mod.files_in(REAL_DIR) is None,
    reason="the Debian package dataset-fashion-mnist is not installed",
)
#: Tests that render a PDF or import WeasyPrint, which loads Pango through cffi (asked once).
needs_pango = pytest.mark.skipif(
    preflight.pdf_engine_problem() is not None,
    reason="WeasyPrint cannot load Pango here (the PDF engine); install it as README's 'What you need' says",
)


@dataclass
class Mirror:
    """A stand-in for ``urllib.request.urlopen``: serves files by name and records each URL asked for.

    ``redirect_to`` makes every response claim to come from that base URL instead.
    """

    files: dict[str, bytes]
    redirect_to: str | None = None
    requested: list[str] = field(default_factory=list)

    def __call__(self, url: str, timeout: float) -> io.BytesIO:
        self.requested.append(url)
        name = url.rsplit("/", 1)[1]
        response = io.BytesIO(self.files[name])
        response.geturl = lambda: (self.redirect_to + name) if self.redirect_to else url  # type: ignore[attr-defined]
        response.headers = {"Content-Length": str(len(self.files[name]))}  # type: ignore[attr-defined]
        return response


def real_mirror(**kwargs: object) -> Mirror:
    """A mirror serving the installed data set's four ``.gz`` files."""
    return Mirror(
        {f"{s.filename}.gz": (REAL_DIR / f"{s.filename}.gz").read_bytes() for s in data_mod.FILES}, **kwargs
    )


def png(seed: int = 0, size: int = 16) -> bytes:
    """A small real PNG, so HTML and PDF renderers can decode it."""
    from PIL import Image

    arr = np.random.default_rng(seed).integers(0, 256, (size, size), dtype=np.uint8)
    buf = io.BytesIO()
    Image.fromarray(arr, mode="L").save(buf, format="PNG")
    return buf.getvalue()


def untrained_export(directory: Path) -> Path:
    """An untrained CNN (seeded) exported to ``directory/model``: for tests of serving, not accuracy."""
    import keras

    from fmnist_report.models import build_cnn
    from fmnist_report.serving.export import export_model

    keras.utils.set_random_seed(0)
    target = directory / "model"
    export_model(build_cnn(3), target, {"training": {"note": "untrained"}})
    return target


def lambda_model_file(path: Path, marker: Path) -> Path:
    """A .keras file with a Lambda layer that touches ``marker`` whenever the model is built from it.

    Keras safe mode must refuse it: the marker shows whether the file's code ever ran.
    """
    import keras

    # A lambda expression, so that Keras saves its bytecode (a named function is saved by name
    # only), with the marker's path a constant of that bytecode.
    touch = eval(f"lambda x: (__import__('pathlib').Path({str(marker)!r}).touch(), x)[1]")

    inputs = keras.Input((28, 28, 1))
    hidden = keras.layers.Flatten()(keras.layers.Lambda(touch)(inputs))
    keras.Model(inputs, keras.layers.Dense(10, activation="softmax")(hidden)).save(path)
    marker.unlink(missing_ok=True)  # building the model above ran it once
    return path


# -- training records ------------------------------------------------------------------------------

#: The study's models and their measured parameter counts and forward FLOPs per image
#: (tests/test_models.py pins both against the Keras builders).
COST = {
    "dense": (235_146, 469_898),
    "cnn3": (421_642, 8_520_074),
    "cnn5": (454_922, 22_167_946),
    "cnn7": (504_842, 42_639_754),
}


def cost(model_id: str, overrides: Sequence[tuple[str, object]] = ()) -> tuple[int, int]:
    """(parameters, forward FLOPs per image) of a model, its variant's ``overrides`` applied.

    A built-in model's are `COST`'s; a variant's are worked out as `models.build` lays it out
    and `models.flops_per_image` counts: its kernel size, filters, hidden units and batch
    norm (4 numbers per channel); dropout, the optimizer and the rest add no weight.
    """
    mid = ModelId.parse(model_id)
    if not overrides:
        return COST[str(ModelId(mid.arch, mid.kernel_size))]
    o = dict(overrides)
    norm = 4 if o.get("batch_norm") else 0
    params = flops = 0
    if mid.arch == "cnn":
        k, side, channels = int(o.get("kernel_size", mid.kernel_size)), 28, 1  # type: ignore[call-overload]
        for f in o.get("filters", (32, 64)):  # type: ignore[union-attr]
            params += k * k * channels * f + f + norm * f
            flops += (2 * k * k * channels * f + f) * side * side  # "same" padding, then 2x2 pooling
            side, channels = side // 2, f
        width, units = side * side * channels, tuple(o.get("dense_units", (128,)))  # type: ignore[arg-type]
    else:
        width, units = 28 * 28, tuple(o.get("dense_units", (256, 128)))  # type: ignore[arg-type]
    for n in units:
        params += width * n + n + norm * n
        flops += 2 * width * n + n
        width = n
    return params + width * 10 + 10, flops + 2 * width * 10 + 10  # and the softmax


def layer_table(model_id: str) -> list[dict[str, object]]:
    """The layer table ``models.layer_table`` gives for a model id, written out by hand."""
    mid = ModelId.parse(model_id).base()

    def row(name: str, kind: str, shape: str, params: int) -> dict[str, object]:
        return {"name": name, "type": kind, "output_shape": shape, "params": params}

    head = [row("dense_128", "Dense", "128", 3136 * 128 + 128), row("probabilities", "Dense", "10", 1290)]
    if not mid.is_cnn:
        return [
            row("image", "InputLayer", "28x28x1", 0),
            row("flatten", "Flatten", "784", 0),
            row("dense_256", "Dense", "256", 784 * 256 + 256),
            row("dense_128", "Dense", "128", 256 * 128 + 128),
            row("probabilities", "Dense", "10", 1290),
        ]
    k = mid.kernel_size or 3
    return [
        row("image", "InputLayer", "28x28x1", 0),
        row("conv1", "Conv2D", "28x28x32", (k * k + 1) * 32),
        row("pool1", "MaxPooling2D", "14x14x32", 0),
        row("conv2", "Conv2D", "14x14x64", (k * k * 32 + 1) * 64),
        row("pool2", "MaxPooling2D", "7x7x64", 0),
        row("flatten", "Flatten", "3136", 0),
        *head,
    ]


def _plain(value: object) -> object:
    """A value as a record's JSON holds it: tuples become lists."""
    return list(value) if isinstance(value, tuple) else value


#: The machine every generated training record says it was trained on.
TEST_MACHINE = {"cpu": "Generated CPU", "logical_cpus": 4, "intra_op_threads": 0}


def train_record(
    model_id: str,
    seed: int,
    y_true: np.ndarray,
    y_pred: np.ndarray,
    *,
    epochs: int = 2,
    curve: Sequence[float] | None = None,
    train_seconds: float | None = None,
    confidence: float = 0.82,
    overrides: Sequence[tuple[str, object]] | None = None,
) -> Record:
    """A training record with every field a real one has, from given test predictions.

    Probabilities put ``confidence`` on the predicted class and spread the rest evenly.
    ``curve`` is the training accuracy per epoch (the other curves follow it).
    A variant's ``overrides`` are its declaration's (by default those of the `VARIANTS` of
    its name), and its parameters and FLOPs follow from them (`cost`).
    """
    mid = ModelId.parse(model_id)
    if mid.is_variant and overrides is None:
        declared = {v.name: v.overrides for v in VARIANTS}
        if mid.variant not in declared:
            raise ValueError(f"{model_id}: give the overrides of a variant not in VARIANTS")
        overrides = declared[mid.variant]
    n = len(y_true)
    probabilities = np.full((n, 10), (1 - confidence) / 9, dtype=np.float32)
    probabilities[np.arange(n), y_pred] = confidence
    confusion = training.confusion_matrix(y_true, y_pred)
    params, flops = cost(model_id, overrides or ())
    k = mid.kernel_size or 1
    acc = np.asarray(curve if curve is not None else np.linspace(0.6, 0.8, epochs), dtype=float)
    metrics = {
        "spec": {
            "arch": mid.arch,
            "kernel_size": mid.kernel_size,
            "seed": seed,
            "epochs": len(acc),
            "precision": "mixed_bfloat16",
            "permutation_seed": seed if mid.permuted else None,
            **(
                {"variant": mid.variant, "overrides": [[k, _plain(v)] for k, v in overrides or ()]}
                if mid.is_variant
                else {}
            ),
        },
        "model_id": model_id,
        "label": mid.label,
        "history": {
            "loss": (1.5 - acc).tolist(),
            "accuracy": acc.tolist(),
            "val_loss": (1.6 - acc).tolist(),
            "val_accuracy": (acc - 0.02).tolist(),
        },
        "test_accuracy": float(np.mean(y_true == y_pred)),
        "test_loss": training.cross_entropy(probabilities, y_true.astype(np.int64)),
        "per_class": training.per_class_scores(confusion),
        "machine": dict(TEST_MACHINE),
        "params": params,
        "layers": layer_table(model_id),
        "flops": flops,
        "train_seconds": train_seconds if train_seconds is not None else 10.0 + 3 * k + seed,
        "epoch_seconds": [5.0] * len(acc),
        "latency_ms_batched": 0.01 * k,
        "latency_ms_single": 1.0 + 0.1 * k,
        "n_train": 255,
        "n_val": 45,
        "n_test": n,
    }
    return Record(
        "train", f"train-{model_id}-{seed}", metrics, {"probabilities": probabilities, "confusion": confusion}
    )


def predictions_with_skill(skill: float, model_id: str, seed: int, y_true: np.ndarray) -> np.ndarray:
    """Predictions right on about ``skill`` of the images, wrong at random elsewhere (stable per run)."""
    rng = np.random.default_rng(zlib.crc32(f"{model_id}-{seed}".encode()))
    right = rng.random(len(y_true)) < skill
    return np.where(right, y_true, (y_true + rng.integers(1, 10, len(y_true))) % 10)


def fake_eda(rng: np.random.Generator, class_names: Sequence[str] = data_mod.CLASS_NAMES) -> Record:
    """An EDA record: counts, samples, mean images and a pixel histogram."""
    histogram = rng.integers(100, 1000, 256)
    histogram[0] = 600 * 28 * 28 - histogram[1:].sum()  # every pixel of the 600 training images
    metrics = {
        "class_names": list(class_names),
        "train_counts": [60] * 10,
        "test_counts": [20] * 9 + [19],
        "zero_pixel_fraction": float(histogram[0] / histogram.sum()),
        "mean_intensity_per_class": [float(40 + 5 * c) for c in range(10)],
    }
    arrays = {
        "sample_images": rng.integers(0, 256, (10, 8, 28, 28), dtype=np.uint8),
        "mean_images": rng.uniform(0, 255, (10, 28, 28)).astype(np.float32),
        "pixel_histogram": histogram,
    }
    return Record(kind="eda", key="eda-test", metrics=metrics, arrays=arrays)


Predict = Callable[[str, int, np.ndarray], np.ndarray]


def fake_results(
    models: Sequence[str],
    predict: Predict,
    *,
    seeds: int = 2,
    data: data_mod.Dataset | None = None,
    config: Config | None = None,
    eda: Record | None = None,
    curve: Callable[[str, int], Sequence[float]] | None = None,
) -> StudyResults:
    """Results as ``run_study`` groups them: each model's runs (permuted twins: first seed only).

    ``predict(model_id, seed, y_test)`` gives each run's test predictions.
    """
    data = data if data is not None else synthetic_dataset(per_class_train=30, per_class_test=10)
    config = config or Config(study=StudyConfig(profile="quick", epochs=2, seeds=seeds))
    results = StudyResults(config=config, data=data, eda=eda)
    declared = {v.name: v.overrides for v in config.study.variants}
    for model_id in models:
        n = 1 if ModelId.parse(model_id).permuted else seeds
        results.runs[model_id] = [
            train_record(
                model_id,
                seed,
                data.y_test,
                predict(model_id, seed, data.y_test),
                curve=curve(model_id, seed) if curve else None,
                overrides=declared.get(ModelId.parse(model_id).variant or ""),
            )
            for seed in range(n)
        ]
    return results


# -- summary values ---------------------------------------------------------------------------------


def seed_summary(mean: float, half: float | None = None) -> dict:
    """A per-seed summary dict as `stats.summarize(...).to_dict()` gives it: one seed, or three with ± ``half``."""
    if half is None:
        return stats.Summary(1, mean, 0.0, mean, mean, 0.95, has_ci=False).to_dict()
    return stats.Summary(3, mean, half, mean - half, mean + half, 0.95, has_ci=True).to_dict()


def shift_metrics(
    diffs: Sequence[float],
    p: float | Sequence[float],
    directions: Sequence[str] = ("right", "left", "down", "up"),
) -> dict:
    """The shift experiment's measurements: CNN minus Dense per direction at the largest shift, each
    direction's McNemar p (one for all, or one each), Holm-adjusted as the summary does."""
    ps = p if isinstance(p, list | tuple) else [p] * len(directions)
    tests = {d: {"p_value": q, "diff": x} for d, x, q in zip(directions, diffs, ps, strict=True)}
    return {
        "magnitudes": [0, 1, 2, 3, 4],
        "models": ["dense", "cnn3"],
        "labels": {"dense": "Dense", "cnn3": "CNN 3x3"},
        "mean_accuracy": {"dense": [0.9, 0.8, 0.7, 0.5, 0.3], "cnn3": [0.92, 0.9, 0.85, 0.7, 0.5]},
        "images": "2000 of 10000 test images",
        "max_shift_mcnemar": holm_directions(tests),
    }


def mcnemar_result(p: float, diff: float) -> stats.McNemar:
    """A McNemar test result with a given p-value and accuracy difference (B minus A)."""
    return stats.McNemar(
        n=10_000,
        b=1,
        c=1,
        p_value=p,
        acc_a=0.9,
        acc_b=0.9 + diff,
        diff=diff,
        odds_ratio=1.0,
        odds_ratio_corrected=False,
    )


def comparison(a: str, b: str, label_a: str, label_b: str, right_a: int, right_b: int, n: int = 1000) -> dict:
    """A one-seed comparison as `summary.compare` returns it, from real McNemar tests.

    Model A is right on its first ``right_a`` of ``n`` test images, model B on its first ``right_b``.
    """
    correct_a = np.arange(n) < right_a
    correct_b = np.arange(n) < right_b
    diff = stats.paired_difference([right_a / n], [right_b / n])
    return paired_comparison(
        (a, b), (label_a, label_b), [0], diff, [stats.mcnemar_exact(correct_a, correct_b)]
    )


# -- a whole synthetic report -------------------------------------------------------------------

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


#: Variants the synthetic study can declare, with the skill of each (their base's, moved a little).
VARIANTS = (
    Variant("dropout", "cnn", (("dropout", 0.3),)),
    Variant("wide", "dense", (("dense_units", (512,)),)),
)
VARIANT_SKILL = {"cnn3[dropout]": 0.92, "dense[wide]": 0.56}


def make_results(
    out_dir: Path, *, seeds: int = 2, split: str = "stratified", variants: Sequence[Variant] = (), **report
) -> StudyResults:
    """A StudyResults with every model of the study (and the ``variants`` declared), built without training."""
    from fmnist_report.study.experiments import eda

    data = synthetic_dataset(per_class_train=30, per_class_test=10)
    meta = {
        "title": "A Test Report",
        "author": "Ada Tester",
        "course": "ML 101",
        "date": "2026-01-02",
        **report,
    }
    cfg = Config(
        study=StudyConfig(profile="quick", epochs=2, seeds=seeds, split=split, variants=tuple(variants)),
        report=ReportMeta(**meta),
        out_dir=out_dir,
    )
    measured = eda.run(data)
    skill = {
        **SKILL,
        **{k: v for k, v in VARIANT_SKILL.items() if k.split("[")[1][:-1] in {v.name for v in variants}},
    }
    results = fake_results(
        tuple(skill),
        lambda m, s, y: predictions_with_skill(skill[m], m, s, y),
        seeds=seeds,
        data=data,
        config=cfg,
        eda=Record("eda", "eda-test", measured.metrics, measured.arrays),
    )
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
    "machine": {"cpu": "Test CPU", "logical_cpus": 2, "intra_op_threads": 0},
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


def built(summary: Summary, results: StudyResults) -> Summary:
    """The synthetic study's Summary with what a build adds: the environment, the export, predictions."""
    return with_build(
        summary,
        environment=ENVIRONMENT,
        model_dir=printable_path(results.config.model_dir),
        export=EXPORT,
        predictions=predictions(results),
    )


def make_context(
    out_dir: Path, *, evidence: list | None = None, **kwargs
) -> tuple[StudyResults, Summary, dict]:
    """(results, summary, context) of the synthetic study."""
    from fmnist_report.report import context

    results = make_results(out_dir, **kwargs)
    summary = built(summarize(results), results)
    ctx = context.build_context(
        summary,
        config=results.config,
        figures=FIGURES,
        pngs={f.name: png(i) for i, f in enumerate(FIGURES)},
        evidence=EVIDENCE if evidence is None else evidence,
    )
    return results, summary, ctx


# -- checking HTML ------------------------------------------------------------------------------

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
HEADINGS = (
    "Summary",
    "Contents",
    "1 Data exploration",
    "2 Dense baseline",
    "3 Convolutional network",
    "4 Kernel-size study",
    "5 Interpretation",
    "6 Deployment",
    "A Appendix: reproducibility",
    "B Appendix: references",
)


class TagChecker(HTMLParser):
    """Collects unbalanced tags, what the page loads (src, and href but on links), the links it
    offers, and the text of h2 headings."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.problems: list[str] = []
        self.urls: list[str] = []
        self.links: list[str] = []
        self.h2: list[str] = []
        self._in_h2 = False
        self.imgs: list[dict[str, str]] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.urls += [attrs[a] for a in ("src", "srcset", "data") if a in attrs]
        if "href" in attrs:
            (self.links if tag in ("a", "area") else self.urls).append(attrs["href"])
        if tag == "img":
            self.imgs.append(attrs)
        if tag == "h2":
            self._in_h2 = True
            self.h2.append("")
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag not in VOID:
            self.stack.pop()

    def handle_endtag(self, tag):
        if tag == "h2":
            self._in_h2 = False
        if not self.stack or self.stack[-1] != tag:
            self.problems.append(f"</{tag}> closes <{self.stack[-1] if self.stack else 'nothing'}>")
            return
        self.stack.pop()

    def handle_data(self, data):
        if self._in_h2:
            self.h2[-1] += data


def check_html(html: str) -> TagChecker:
    """Parse the page; the checker holds its problems, URLs, images and h2 texts."""
    checker = TagChecker()
    checker.feed(html)
    checker.close()
    if checker.stack:
        checker.problems.append(f"unclosed: {checker.stack}")
    return checker


def assert_self_contained(html: str, checker: TagChecker) -> None:
    """Nothing loaded but data: URIs and in-page anchors; links (``<a href>``) may point anywhere."""
    for url in checker.urls:
        assert url.startswith(("data:image/png;base64,", "#")), url[:60]
    # CSS may load a data: URI (the fonts' @font-face rules): url(data:...) is inside the page.
    outside = re.sub(r"""url\(\s*["']?data:[^)]*\)|data:[^"]*""", "", html)
    for marker in ("<script", "<link", "<iframe", "<object", "@import", "url("):
        assert marker not in outside.lower(), marker


def tiny_spec(seed: int) -> training.RunSpec:
    """A Dense run spec for tests of executors and the store: nothing here trains it."""
    return training.RunSpec("dense", None, seed, 1, 32, 0.1, "seeded", 0.001, "float32", "fingerprint")


def tiny_record(spec: training.RunSpec) -> Record:
    """The record a run of ``spec`` would store, with its seed as metrics and arrays."""
    return Record(
        kind="train",
        key=spec.key,
        metrics={"seed": spec.seed, "layers": []},
        arrays={"p": np.full(3, spec.seed)},
    )
