"""Benchmark: the study's training, notebook-style reference vs this engine, side by side.

Each (side, model) pair runs in its own subprocess so that its wall time and peak RSS are
its own; the two sides alternate model by model so that a change in machine load shifts
both alike. With ``--one-process`` each side instead trains all its models in one
interpreter, as a notebook's kernel and `fmnist-report build` do: Python, TensorFlow and
the data are loaded once a side, and the sides alternate repeat by repeat. The reference is written here, plainly, as the original notebook does it:
``model.fit`` on numpy arrays with ``validation_split``, Keras defaults, every model from
scratch, and the 3x3 CNN trained twice (once for the comparison, once for the kernel study).

    python benchmarks/study_bench.py                  # the full protocol, one seed
    python benchmarks/study_bench.py --epochs 1 --subset 6000
    python benchmarks/study_bench.py --render-out output   # also time render and PDF alone
    python benchmarks/study_bench.py --epochs 2 --subset 12000 --one-process
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from fmnist_report.runtime import describe_cpu

REFERENCE_MODELS = ["dense", "cnn3", "cnn3", "cnn5", "cnn7"]  # the notebook trains 3x3 twice

REFERENCE_CODE = r"""
import json, os, sys, time
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
import numpy as np, keras
from keras import layers
from fmnist_report.data import load, subset
model_ids, epochs, n_sub, seed = sys.argv[1].split(","), int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
d = load(offline=True)
if n_sub:
    d = subset(d, n_sub // 10, None)
x_train = d.x_train.astype("float32")[..., None] / 255.0
x_test = d.x_test.astype("float32")[..., None] / 255.0
y_train = keras.utils.to_categorical(d.y_train, 10)
y_test = keras.utils.to_categorical(d.y_test, 10)
for model_id in model_ids:
    keras.utils.set_random_seed(seed)
    if model_id == "dense":
        model = keras.Sequential([keras.Input((28, 28, 1)), layers.Flatten(),
            layers.Dense(256, activation="relu"), layers.Dense(128, activation="relu"),
            layers.Dense(10, activation="softmax")])
    else:
        k = int(model_id[3:])
        model = keras.Sequential([keras.Input((28, 28, 1)),
            layers.Conv2D(32, (k, k), padding="same", activation="relu"), layers.MaxPooling2D(2),
            layers.Conv2D(64, (k, k), padding="same", activation="relu"), layers.MaxPooling2D(2),
            layers.Flatten(), layers.Dense(128, activation="relu"), layers.Dense(10, activation="softmax")])
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    t0 = time.perf_counter()
    model.fit(x_train, y_train, epochs=epochs, batch_size=128, validation_split=0.15, verbose=0)
    train_s = time.perf_counter() - t0
    loss, acc = model.evaluate(x_test, y_test, verbose=0)
    print(json.dumps({"model": model_id, "train_seconds": train_s, "test_accuracy": float(acc),
                      "n_train": int(len(x_train) * 0.85), "total_seconds": time.perf_counter() - t0}))
"""

ENGINE_CODE = r"""
import json, sys, time
from pathlib import Path
from fmnist_report import runtime
runtime.configure()
from fmnist_report.config import load_config
from fmnist_report.store import Store
from fmnist_report.study.runner import execute, load_data
from fmnist_report.study.training import spec_for
model_ids, epochs, n_sub, seed, cache = sys.argv[1].split(","), int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
study = {"epochs": epochs, "first_seed": seed, "seeds": 1}
if n_sub:
    study["train_per_class"] = n_sub // 10
cfg = load_config(study=study, out_dir=Path(cache), offline=True)
data = load_data(cfg)
for model_id in model_ids:
    arch, k = ("dense", None) if model_id == "dense" else ("cnn", int(model_id[3:]))
    spec = spec_for(cfg.study, data, arch, seed, kernel_size=k)
    t0 = time.perf_counter()
    (record,) = execute([spec], data, Store(cfg.cache_dir)).values()
    m = record.metrics
    print(json.dumps({"model": model_id, "train_seconds": m["train_seconds"], "test_accuracy": m["test_accuracy"],
                      "n_train": m["n_train"], "total_seconds": time.perf_counter() - t0,
                      "precision": spec.precision}))
"""


def run_child(code: str, args: list[str]) -> list[dict]:
    """Run trainings in a fresh interpreter; return one JSON line per model, the first with the
    process's wall time and peak RSS (the others with none: the first stands for the process)."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-c", code, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    stdout, stderr = proc.stdout.read(), proc.stderr.read()
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"benchmark child failed:\n{stderr[-2000:]}")
    results = [json.loads(line) for line in stdout.strip().splitlines() if line.startswith("{")]
    for i, result in enumerate(results):
        result["wall_seconds"] = wall if i == 0 else 0.0
        result["peak_rss_mib"] = usage.ru_maxrss / 1024  # Linux reports KiB
    return results


def time_render(out: Path) -> dict[str, float]:
    """Time `fmnist-report render` on stored results, and PDF writing alone."""
    cli = Path(sys.executable).with_name("fmnist-report")
    start = time.perf_counter()
    subprocess.run([str(cli), "render", "--out", str(out), "--quiet"], check=True)
    render_s = time.perf_counter() - start
    code = (
        "import sys,time; from pathlib import Path; from fmnist_report import render;"
        "h=Path(sys.argv[1]).read_text(); t=time.perf_counter(); render.render_pdf(h);"
        "print(time.perf_counter()-t)"
    )
    pdf = subprocess.run(
        [sys.executable, "-c", code, str(out / "report.html")], check=True, capture_output=True, text=True
    )
    return {"render_seconds": render_s, "pdf_seconds": float(pdf.stdout.strip().splitlines()[-1])}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--subset", type=int, default=0, help="training images (stratified); 0 = all")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--render-out", type=Path, help="also time render from this output folder")
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument(
        "--one-process", action="store_true", help="each side trains all its models in one interpreter"
    )
    args = parser.parse_args()
    print(f"machine: {describe_cpu()}", flush=True)

    common = [str(args.epochs), str(args.subset), str(args.seed)]
    rows: list[dict] = []
    engine_models = list(dict.fromkeys(REFERENCE_MODELS))  # the engine trains the shared 3x3 run once
    with tempfile.TemporaryDirectory() as cache:
        if args.one_process:
            batches = [
                ("reference", REFERENCE_CODE, REFERENCE_MODELS),
                ("engine", ENGINE_CODE, engine_models),
            ]
        else:  # the sides alternate model by model
            batches = []
            for model_id in engine_models:
                batches.append(("reference", REFERENCE_CODE, [model_id] * REFERENCE_MODELS.count(model_id)))
                batches.append(("engine", ENGINE_CODE, [model_id]))
        for side, code, models in batches:
            if side == "reference" and not args.one_process:
                results = [r for m in models for r in run_child(code, [m, *common])]
            else:
                results = run_child(code, [",".join(models), *common, *([cache] if side == "engine" else [])])
            for r in results:
                rows.append({"side": side, **r})
                wall = f"{r['wall_seconds']:7.1f} s" if r["wall_seconds"] else "        "
                print(f"{side:9s} {r['model']:6s} {wall}  acc {r['test_accuracy']:.4f}", flush=True)

    print()
    print(
        f"{'side':10s} {'model':6s} {'wall s':>8s} {'train s':>8s} {'img/s':>8s} {'test acc':>9s} {'peak RSS MiB':>13s}"
    )
    for r in rows:
        ips = r["n_train"] * args.epochs / r["train_seconds"]
        print(
            f"{r['side']:10s} {r['model']:6s} {r['wall_seconds']:8.1f} {r['train_seconds']:8.1f} "
            f"{ips:8.0f} {r['test_accuracy']:9.4f} {r['peak_rss_mib']:13.0f}"
        )
    totals = {}
    for side in ("reference", "engine"):
        mine = [r for r in rows if r["side"] == side]
        distinct = {r["model"]: r["test_accuracy"] for r in mine}
        totals[side] = {
            "wall_seconds": sum(r["wall_seconds"] for r in mine),
            "mean_test_accuracy": sum(distinct.values()) / len(distinct),
            "peak_rss_mib": max(r["peak_rss_mib"] for r in mine),
        }
    ref, eng = totals["reference"], totals["engine"]
    print()
    for side, t in totals.items():
        print(
            f"{side:10s} total {t['wall_seconds']:8.1f} s   mean test accuracy {t['mean_test_accuracy']:.4f}   "
            f"peak RSS {t['peak_rss_mib']:.0f} MiB"
        )
    speedup = ref["wall_seconds"] / eng["wall_seconds"]
    gap_pp = (eng["mean_test_accuracy"] - ref["mean_test_accuracy"]) * 100
    mode = "one process a side" if args.one_process else "one process a model"
    print(f"speed-up (reference / engine, {mode}): {speedup:.2f}x   accuracy difference: {gap_pp:+.2f} pp")
    extra = {}
    if args.render_out:
        extra = time_render(args.render_out)
        print(
            f"render from stored results: {extra['render_seconds']:.1f} s; PDF alone: {extra['pdf_seconds']:.1f} s"
        )
    if args.json:
        args.json.write_text(
            json.dumps(
                {"rows": rows, "totals": totals, "speedup": speedup, "accuracy_gap_pp": gap_pp, **extra},
                indent=1,
            )
        )


if __name__ == "__main__":
    main()
