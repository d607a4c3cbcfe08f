"""Benchmark: the ways of handing the engine's epochs to Keras, which all give the same numbers.

- ``feed``: one ``fit`` per epoch over a tf.data pipeline with autotuning off (the engine);
- ``arrays``: one ``fit`` per epoch over the NumPy arrays, Keras' own autotuned pipeline (before);
- ``one_fit``: one ``fit`` for the whole run over a feed of the same per-epoch orders.

Each (path, model) pair trains the engine's run in a fresh interpreter; the paths
alternate, repeat by repeat, so a change in machine load hits all alike. Prints the
training seconds of each, their ratios to ``feed``, and whether the test probabilities
are identical. Set ``ONEDNN_MAX_CPU_ISA=AVX2`` to measure the float32 class on a bfloat16 CPU.

    python benchmarks/fit_paths.py                           # dense, cnn3; 12,000 images, 4 epochs
    python benchmarks/fit_paths.py --models cnn7 --epochs 2 --repeat 3 --subset 60000
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys

from fmnist_report.runtime import describe_cpu

CHILD = r"""
import hashlib, json, sys
from fmnist_report import runtime
runtime.configure()
from fmnist_report.config import load_config
from fmnist_report.study import onefit, training
from fmnist_report.study.runner import load_data
path, model_id, epochs, n_sub = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
if path == "one_fit":
    training.fit_reshuffled = onefit.fit_once  # what train() calls
if path == "arrays":  # the arrays themselves, as fit_reshuffled passed them before the feed
    training.feed = lambda xs, ys, size: {"x": xs, "y": ys, "batch_size": size}
    training.held_out = lambda xs, ys, size: (xs, ys)
cfg = load_config(study={"epochs": epochs, "seeds": 1, "train_per_class": n_sub // 10}, offline=True)
data = load_data(cfg)
arch, k = ("dense", None) if model_id == "dense" else ("cnn", int(model_id[3:]))
record = training.train(training.spec_for(cfg.study, data, arch, 0, kernel_size=k), data)
print(json.dumps({"seconds": record.metrics["train_seconds"], "last_epoch": record.metrics["epoch_seconds"][-1],
                  "digest": hashlib.sha256(record.arrays["probabilities"].tobytes()).hexdigest()}))
"""

PATHS = ("feed", "arrays", "one_fit")


def measure(path: str, model_id: str, epochs: int, images: int, env: dict[str, str] | None = None) -> dict:
    """Train the engine's run of ``model_id`` in a fresh interpreter, ``env`` added to its environment."""
    out = subprocess.run(
        [sys.executable, "-c", CHILD, path, model_id, str(epochs), str(images)],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, **(env or {})},
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def interleaved(
    variants: dict[str, tuple[str, dict[str, str]]], model_id: str, epochs: int, images: int, repeat: int
) -> dict[str, list[dict]]:
    """Each variant's runs of ``model_id`` (a path and the environment it adds), the variants
    taking turns repeat by repeat so that a change in machine load hits all alike."""
    runs: dict[str, list[dict]] = {name: [] for name in variants}
    for _ in range(repeat):
        for name, (path, env) in variants.items():
            runs[name].append(measure(path, model_id, epochs, images, env=env))
    return runs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="dense,cnn3")
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--subset", type=int, default=12000, help="training images (stratified)")
    parser.add_argument("--repeat", type=int, default=2, help="runs per pair; the median is kept")
    args = parser.parse_args()
    print(f"machine: {describe_cpu()}", flush=True)
    print(
        f"{'model':6s} {'feed s':>8s} {'arrays s':>9s} {'one-fit s':>10s} {'feed speed-up vs arrays':>24s} {'vs one-fit':>11s}  identical"
    )
    for model_id in args.models.split(","):
        runs = interleaved({p: (p, {}) for p in PATHS}, model_id, args.epochs, args.subset, args.repeat)
        seconds = {p: statistics.median(r["seconds"] for r in runs[p]) for p in PATHS}
        same = len({r["digest"] for p in PATHS for r in runs[p]}) == 1
        print(
            f"{model_id:6s} {seconds['feed']:8.1f} {seconds['arrays']:9.1f} {seconds['one_fit']:10.1f} "
            f"{seconds['arrays'] / seconds['feed']:23.2f}x {seconds['one_fit'] / seconds['feed']:10.2f}x"
            f"  {'yes' if same else 'NO'}",
            flush=True,
        )


if __name__ == "__main__":
    main()
