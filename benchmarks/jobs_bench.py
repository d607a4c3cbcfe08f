"""Benchmark: N trainings at once (``--jobs N``, each with its share of the cores) against one at a time.

Each setting trains the same four runs (Dense and the three CNNs, one seed) from an empty
store in a fresh interpreter, start-up included; the settings alternate, repeat by repeat,
so a change in machine load hits them alike. Prints wall seconds, the speed-up over
``--jobs 1`` and whether every setting gave the same test probabilities.

    python benchmarks/jobs_bench.py                       # --jobs 1,2; 10,000 images, 2 epochs
    python benchmarks/jobs_bench.py --jobs 1,2,4,8 --subset 20000
    python benchmarks/jobs_bench.py --jobs 1,4,12 --seeds 3 --backend jax   # 12 runs, JAX on the CPU
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

from fmnist_report.runtime import describe_cpu

CHILD = r"""
import hashlib, json, sys
from pathlib import Path
from fmnist_report import runtime
backend = runtime.configure(backend=sys.argv[5])
from fmnist_report.config import load_config
from fmnist_report.store import Store
from fmnist_report.study.runner import execute, load_data
from fmnist_report.study.training import spec_for
jobs, epochs, n_sub, out, seeds = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], int(sys.argv[6])
cfg = load_config(study={"epochs": epochs, "seeds": seeds, "train_per_class": n_sub // 10, "backend": backend},
                  out_dir=Path(out), offline=True)
data = load_data(cfg)
specs = [spec_for(cfg.study, data, "cnn", seed, kernel_size=k) for k in (7, 5, 3) for seed in range(seeds)]
specs += [spec_for(cfg.study, data, "dense", seed) for seed in range(seeds)]  # longest first
records = execute(specs, data, Store(cfg.cache_dir), jobs=jobs)
digest = hashlib.sha256(b"".join(records[s.key].arrays["probabilities"].tobytes() for s in specs))
print(json.dumps({"digest": digest.hexdigest()}))
"""


def measure(jobs: int, epochs: int, images: int, backend: str, seeds: int) -> tuple[float, str]:
    with tempfile.TemporaryDirectory() as out:
        start = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-c", CHILD, str(jobs), str(epochs), str(images), out, backend, str(seeds)],
            capture_output=True,
            text=True,
            check=True,
        )
        wall = time.perf_counter() - start
    return wall, json.loads(done.stdout.strip().splitlines()[-1])["digest"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", default="1,2")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--subset", type=int, default=10000, help="training images (stratified)")
    parser.add_argument("--repeat", type=int, default=1, help="runs per setting; the median is kept")
    parser.add_argument("--seeds", type=int, default=1, help="seeds of each of the four models")
    parser.add_argument("--backend", default="tensorflow", help="Keras backend (jax: set JAX_PLATFORMS=cpu)")
    args = parser.parse_args()
    print(f"machine: {describe_cpu()}", flush=True)
    settings = [int(j) for j in args.jobs.split(",")]
    walls: dict[int, list[float]] = {j: [] for j in settings}
    digests = set()
    for _ in range(args.repeat):
        for jobs in settings:
            wall, digest = measure(jobs, args.epochs, args.subset, args.backend, args.seeds)
            walls[jobs].append(wall)
            digests.add(digest)
            print(f"  --jobs {jobs}: {wall:.1f} s", flush=True)
    base = statistics.median(walls[settings[0]])
    print(f"{4 * args.seeds} runs, backend {args.backend}")
    print(f"{os.cpu_count()} cores; {'jobs':>4s} {'wall s':>8s} {'speed-up':>9s}")
    for jobs in settings:
        wall = statistics.median(walls[jobs])
        print(f"{'':9s}{jobs:4d} {wall:8.1f} {base / wall:8.2f}x")
    print(f"same probabilities in every setting: {'yes' if len(digests) == 1 else 'NO'}")


if __name__ == "__main__":
    main()
