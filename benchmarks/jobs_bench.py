"""Case ``jobs``: N trainings at once (``--jobs N``, each with its share of the cores) against one at a time.

Each setting trains the same four runs (Dense and the three CNNs, one seed) from an empty
store in a fresh interpreter, start-up included; the settings take turns, repeat by repeat,
so a change in machine load hits them alike. Reports each setting's median wall seconds,
its speed-up over the first and whether every setting gave the same test probabilities
(they must: the workers keep the driver's thread pools).

    python -m benchmarks jobs                       # --jobs 1,2; 10,000 images, 2 epochs
    python -m benchmarks jobs --jobs 1,2,4,8 --subset 20000 --repeat 2
    JAX_PLATFORMS=cpu python -m benchmarks jobs --jobs 1,4,12 --seeds 3 --backend jax   # 12 runs
"""

from __future__ import annotations

import argparse
import os
import tempfile
from typing import Any

from benchmarks import harness


def train(
    jobs: int, epochs: int, images: int, backend: str, seeds: int, test_images: int = 0
) -> dict[str, str]:
    """In the fresh interpreter: the four models on ``seeds`` seeds into an empty store, ``jobs``
    at once; a digest of every run's test probabilities."""
    import hashlib
    from pathlib import Path

    from fmnist_report import runtime

    backend = runtime.configure(backend=backend)
    from fmnist_report.config import load_config
    from fmnist_report.store import Store
    from fmnist_report.study.runner import execute, load_data
    from fmnist_report.study.training import spec_for

    with tempfile.TemporaryDirectory(prefix="fmnist-jobs-") as out:
        study = {"epochs": epochs, "seeds": seeds, "train_per_class": images // 10, "backend": backend}
        if test_images:
            study["test_per_class"] = test_images // 10
        cfg = load_config(study=study, out_dir=Path(out), offline=True)
        data = load_data(cfg)
        specs = [spec_for(cfg.study, data, "cnn", s, kernel_size=k) for k in (7, 5, 3) for s in range(seeds)]
        specs += [spec_for(cfg.study, data, "dense", s) for s in range(seeds)]  # longest first
        records = execute(specs, data, Store(cfg.cache_dir), jobs=jobs)
        digest = hashlib.sha256(b"".join(records[s.key].arrays["probabilities"].tobytes() for s in specs))
    return {"digest": digest.hexdigest()}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--jobs", default="1,2", help="the settings, comma-separated; the first is the base")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--subset", type=int, default=10000, help="training images (stratified)")
    parser.add_argument("--test-subset", type=int, default=0, help="test images (stratified); 0 = all")
    parser.add_argument("--seeds", type=int, default=1, help="seeds of each of the four models")
    parser.add_argument("--backend", default="tensorflow", help="Keras backend (jax: set JAX_PLATFORMS=cpu)")


def measure(args: argparse.Namespace) -> dict[str, Any]:
    calls = {
        f"--jobs {jobs}": harness.Call(
            "benchmarks.jobs_bench:train",
            {
                "jobs": int(jobs),
                "epochs": args.epochs,
                "images": args.subset,
                "backend": args.backend,
                "seeds": args.seeds,
                "test_images": args.test_subset,
            },
        )
        for jobs in args.jobs.split(",")
    }
    runs = harness.interleave(calls, args.repeat)
    wall = harness.medians({s: [r.wall_seconds for r in rs] for s, rs in runs.items()})
    speedup = harness.ratios(wall)
    same = harness.identical({s: [r.result["digest"] for r in rs] for s, rs in runs.items()})
    print(f"{4 * args.seeds} runs, backend {args.backend}, {os.cpu_count()} logical CPUs")
    print(f"{'setting':10s} {'wall s':>8s} {'speed-up':>9s}")
    for side in runs:
        print(f"{side:10s} {wall[side]:8.1f} {speedup[side]:8.2f}x")
    print(f"same probabilities in every setting: {'yes' if same else 'NO'}")
    return {
        "medians": {"wall_seconds": wall},
        "ratios": speedup,
        "identical": same,
        "peak_rss_mib": {s: max(r.peak_rss_mib or 0 for r in rs) for s, rs in runs.items()},
    }


CASES = (
    harness.Case(
        name="jobs",
        summary="--jobs N: N trainings at once against one at a time, same probabilities checked",
        add_arguments=add_arguments,
        measure=measure,
        quick=("--jobs", "1,2", "--subset", "200", "--test-subset", "200", "--epochs", "1"),
    ),
)
