"""Benchmark: one ``fit`` per epoch (the engine) against one ``fit`` over a feed of the same orders.

Each (path, model) pair trains the engine's run in a fresh interpreter; the two paths
alternate, repeat by repeat, so a change in machine load hits both alike. Prints the
training seconds of each, their ratio, and whether the test probabilities are identical.

    python benchmarks/fit_paths.py                           # dense, cnn3; 12,000 images, 4 epochs
    python benchmarks/fit_paths.py --models cnn7 --epochs 2 --repeat 3
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys

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
cfg = load_config(study={"epochs": epochs, "seeds": 1, "train_per_class": n_sub // 10}, offline=True)
data = load_data(cfg)
arch, k = ("dense", None) if model_id == "dense" else ("cnn", int(model_id[3:]))
record = training.train(training.spec_for(cfg.study, data, arch, 0, kernel_size=k), data)
print(json.dumps({"seconds": record.metrics["train_seconds"],
                  "digest": hashlib.sha256(record.arrays["probabilities"].tobytes()).hexdigest()}))
"""

PATHS = ("per_epoch", "one_fit")


def measure(path: str, model_id: str, epochs: int, images: int) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", CHILD, path, model_id, str(epochs), str(images)],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="dense,cnn3")
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--subset", type=int, default=12000, help="training images (stratified)")
    parser.add_argument("--repeat", type=int, default=2, help="runs per pair; the median is kept")
    args = parser.parse_args()
    print(f"{'model':6s} {'per-epoch s':>12s} {'one-fit s':>10s} {'one-fit speed-up':>17s}  identical")
    for model_id in args.models.split(","):
        runs: dict[str, list[dict]] = {p: [] for p in PATHS}
        for _ in range(args.repeat):
            for path in PATHS:
                runs[path].append(measure(path, model_id, args.epochs, args.subset))
        seconds = {p: statistics.median(r["seconds"] for r in runs[p]) for p in PATHS}
        same = len({r["digest"] for p in PATHS for r in runs[p]}) == 1
        print(
            f"{model_id:6s} {seconds['per_epoch']:12.1f} {seconds['one_fit']:10.1f} "
            f"{seconds['per_epoch'] / seconds['one_fit']:16.2f}x  {'yes' if same else 'NO'}",
            flush=True,
        )


if __name__ == "__main__":
    main()
