"""Case ``study``: the study's training, a notebook-style reference against this engine, side by side.

The reference is written here plainly, as the original notebook does it: ``model.fit`` on
NumPy arrays with ``validation_split``, Keras defaults, every model from scratch, and the
3x3 CNN trained twice (once for the comparison, once for the kernel study). The engine
trains through the build's own code (`study.runner.execute`), the shared 3x3 run once.

By default each (side, model) pair runs in a fresh interpreter, so that its wall time and
peak RSS are its own, the sides taking turns model by model. With ``--one-process`` each
side trains all its models in one interpreter, as a notebook's kernel and `fmnist-report
build` do, the sides taking turns repeat by repeat. Reports each side's median wall
seconds, the speed-up (reference over engine) and the difference in mean test accuracy.

    python -m benchmarks study                          # the full protocol, one seed
    python -m benchmarks study --epochs 2 --subset 12000 --one-process
    python -m benchmarks study --render-out output      # also time render and the PDF alone
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks import harness

MODELS = ("dense", "cnn3", "cnn5", "cnn7")
REFERENCE_TWICE = "cnn3"  # the notebook trains the 3x3 CNN for the comparison and the kernel study


def reference(models: list[str], epochs: int, subset: int, seed: int) -> list[dict[str, Any]]:
    """In the fresh interpreter: the notebook's way, one model after another."""
    import os

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras
    from keras import layers

    from fmnist_report.data import load
    from fmnist_report.data import subset as stratified

    d = load(offline=True)
    if subset:
        d = stratified(d, subset // 10, None)
    x_train = d.x_train.astype("float32")[..., None] / 255.0
    x_test = d.x_test.astype("float32")[..., None] / 255.0
    y_train = keras.utils.to_categorical(d.y_train, 10)
    y_test = keras.utils.to_categorical(d.y_test, 10)
    rows = []
    for model_id in models:
        keras.utils.set_random_seed(seed)
        if model_id == "dense":
            stack = [
                layers.Flatten(),
                layers.Dense(256, activation="relu"),
                layers.Dense(128, activation="relu"),
            ]
        else:
            k = int(model_id[3:])
            stack = [
                layers.Conv2D(32, (k, k), padding="same", activation="relu"),
                layers.MaxPooling2D(2),
                layers.Conv2D(64, (k, k), padding="same", activation="relu"),
                layers.MaxPooling2D(2),
                layers.Flatten(),
                layers.Dense(128, activation="relu"),
            ]
        model = keras.Sequential([keras.Input((28, 28, 1)), *stack, layers.Dense(10, activation="softmax")])
        model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
        t0 = time.perf_counter()
        model.fit(x_train, y_train, epochs=epochs, batch_size=128, validation_split=0.15, verbose=0)
        train_s = time.perf_counter() - t0
        _, acc = model.evaluate(x_test, y_test, verbose=0)
        rows.append(
            {
                "model": model_id,
                "train_seconds": train_s,
                "test_accuracy": float(acc),
                "n_train": int(len(x_train) * 0.85),
                "total_seconds": time.perf_counter() - t0,
            }
        )
    return rows


def engine(models: list[str], epochs: int, subset: int, seed: int) -> list[dict[str, Any]]:
    """In the fresh interpreter: the build's own training, into an empty store."""
    from fmnist_report import runtime

    runtime.configure()
    from fmnist_report.config import load_config
    from fmnist_report.store import Store
    from fmnist_report.study.runner import execute, load_data
    from fmnist_report.study.training import spec_for

    study: dict[str, Any] = {"epochs": epochs, "first_seed": seed, "seeds": 1}
    if subset:
        study["train_per_class"] = subset // 10
    rows = []
    with tempfile.TemporaryDirectory(prefix="fmnist-study-") as cache:
        cfg = load_config(study=study, out_dir=Path(cache), offline=True)
        data = load_data(cfg)
        for model_id in models:
            arch, k = ("dense", None) if model_id == "dense" else ("cnn", int(model_id[3:]))
            spec = spec_for(cfg.study, data, arch, seed, kernel_size=k)
            t0 = time.perf_counter()
            (record,) = execute([spec], data, Store(cfg.cache_dir)).values()
            m = record.metrics
            rows.append(
                {
                    "model": model_id,
                    "train_seconds": m["train_seconds"],
                    "test_accuracy": m["test_accuracy"],
                    "n_train": m["n_train"],
                    "total_seconds": time.perf_counter() - t0,
                    "precision": spec.precision,
                }
            )
    return rows


def pdf_seconds(html_file: str) -> float:
    """In the fresh interpreter: writing the PDF of a rendered report, alone."""
    from fmnist_report.report import render

    html = Path(html_file).read_text(encoding="utf-8")
    start = time.perf_counter()
    render.render_pdf(html)
    return time.perf_counter() - start


def time_render(out: Path) -> dict[str, float]:
    """`fmnist-report render` on stored results, and the PDF alone."""
    out = out.absolute()
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "fmnist_report", "render", "--out", str(out), "--quiet"], check=True
    )
    render_s = time.perf_counter() - start
    pdf = harness.run(
        harness.Call("benchmarks.study_bench:pdf_seconds", {"html_file": str(out / "report.html")})
    )
    return {"render_seconds": render_s, "pdf_seconds": pdf.result}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--models", default=",".join(MODELS), help="of dense,cnn3,cnn5,cnn7")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--subset", type=int, default=0, help="training images (stratified); 0 = all")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--render-out", type=Path, help="also time render from this output folder")
    parser.add_argument(
        "--one-process", action="store_true", help="each side trains all its models in one interpreter"
    )


def batches(args: argparse.Namespace) -> list[dict[str, harness.Call]]:
    """The comparisons to interleave: one per model, or one for the whole study (``--one-process``).
    The reference gets one process per model it trains, the 3x3 CNN's second one included."""
    chosen = [m for m in MODELS if m in args.models.split(",")]
    common = {"epochs": args.epochs, "subset": args.subset, "seed": args.seed}

    def ref(models: list[str]) -> harness.Call:
        return harness.Call("benchmarks.study_bench:reference", {"models": models, **common})

    def eng(models: list[str]) -> harness.Call:
        return harness.Call("benchmarks.study_bench:engine", {"models": models, **common})

    twice = [m for m in chosen for _ in range(2 if m == REFERENCE_TWICE else 1)]
    if args.one_process:
        return [{"reference": ref(twice), "engine": eng(chosen)}]
    out = []
    for model in chosen:
        sides = {f"reference {model}": ref([model])}
        if model == REFERENCE_TWICE:
            sides[f"reference {model} again"] = ref([model])
        sides[f"engine {model}"] = eng([model])
        out.append(sides)
    return out


def measure(args: argparse.Namespace) -> dict[str, Any]:
    repeats: dict[str, list[dict[str, float]]] = {"reference": [], "engine": []}
    for _ in range(args.repeat):
        repeats["reference"].append({"wall": 0.0, "train": 0.0})
        repeats["engine"].append({"wall": 0.0, "train": 0.0})
    rows: list[dict[str, Any]] = []
    for sides in batches(args):
        runs = harness.interleave(
            sides,
            args.repeat,
            show=lambda s, r: f"{r.wall_seconds:.1f} s, acc {r.result[0]['test_accuracy']:.4f}",
        )
        for label, rs in runs.items():
            side = label.split()[0]
            for i, r in enumerate(rs):
                repeats[side][i]["wall"] += r.wall_seconds
                for j, row in enumerate(r.result):
                    repeats[side][i]["train"] += row["train_seconds"]
                    rows.append(
                        {
                            "side": side,
                            "repeat": i,
                            **row,
                            "wall_seconds": r.wall_seconds if j == 0 else 0.0,
                            "peak_rss_mib": r.peak_rss_mib,
                        }
                    )
    wall = harness.medians({s: [t["wall"] for t in ts] for s, ts in repeats.items()})
    train = harness.medians({s: [t["train"] for t in ts] for s, ts in repeats.items()})
    accuracy = {}
    for side in ("reference", "engine"):
        per_model: dict[str, list[float]] = {}
        for r in rows:
            if r["side"] == side:
                per_model.setdefault(r["model"], []).append(r["test_accuracy"])
        accuracy[side] = statistics.mean(statistics.median(v) for v in per_model.values())
    report(rows, args.epochs)
    speedup = harness.ratios(wall, base="reference")["engine"]
    gap_pp = (accuracy["engine"] - accuracy["reference"]) * 100
    mode = "one process a side" if args.one_process else "one process a model"
    for side in wall:
        print(
            f"{side:10s} total {wall[side]:8.1f} s (training {train[side]:.1f} s)   mean test accuracy {accuracy[side]:.4f}"
        )
    print(f"speed-up (reference / engine, {mode}): {speedup:.2f}x   accuracy difference: {gap_pp:+.2f} pp")
    extra = time_render(args.render_out) if args.render_out else {}
    if extra:
        print(
            f"render from stored results: {extra['render_seconds']:.1f} s; PDF alone: {extra['pdf_seconds']:.1f} s"
        )
    return {
        "medians": {"wall_seconds": wall, "train_seconds": train, "mean_test_accuracy": accuracy},
        "ratios": {"wall": speedup, "train": harness.ratios(train, base="reference")["engine"]},
        "accuracy_gap_pp": gap_pp,
        "rows": rows,
        **extra,
    }


def report(rows: list[dict[str, Any]], epochs: int) -> None:
    print(
        f"\n{'side':10s} {'model':6s} {'wall s':>8s} {'train s':>8s} {'img/s':>8s} {'test acc':>9s} {'peak RSS MiB':>13s}"
    )
    for r in rows:
        ips = r["n_train"] * epochs / r["train_seconds"]
        rss = f"{r['peak_rss_mib']:13.0f}" if r["peak_rss_mib"] else f"{'':13s}"
        print(
            f"{r['side']:10s} {r['model']:6s} {r['wall_seconds']:8.1f} {r['train_seconds']:8.1f} "
            f"{ips:8.0f} {r['test_accuracy']:9.4f} {rss}"
        )
    print()


CASES = (
    harness.Case(
        name="study",
        summary="the study's training, notebook-style reference against the engine, side by side",
        add_arguments=add_arguments,
        measure=measure,
        quick=("--models", "dense", "--epochs", "1", "--subset", "500", "--one-process"),
    ),
)
