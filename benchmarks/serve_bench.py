"""Case ``serve``: the inference server's throughput and latency, single images against batches.

Starts `fmnist-report serve` on a free loopback port in its own process, sends a fixed number
of requests from concurrent client threads (8 by default) through the shared load client
(`fmnist_report.serving.loadclient`), and reports requests/s, images/s, p50/p99 latency and
errors per mode, against the goals; then stops the server with SIGTERM. The counts are
bounded, so it ends by itself. The clients share the machine with the server: on 2 cores
they take a good part of it. With ``--repeat`` the modes take turns, and the medians are kept.

Modes: one image per request as uint8 .npy, one image as JSON (``{"instances": ...}``, as
a TF Serving client sends it), and batches of ``--batch`` images as uint8 .npy.

    python -m benchmarks serve output/model
    python -m benchmarks serve --untrained          # export an untrained CNN to a temporary folder
    python -m benchmarks serve output/model --requests 800 --batch 64 --concurrency 8
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks import harness

#: The goals the serving section of docs/performance.md reports against.
GOAL_P99_MS = 50.0
GOAL_BATCH_IMAGES_PER_S = 1000.0
METRICS = ("req_per_s", "img_per_s", "p50_ms", "p99_ms", "max_ms")


def export_untrained(target: str) -> str:
    """In the fresh interpreter: an untrained 3x3 CNN, exported. Its speed is the trained
    model's, and it needs no data."""
    import keras

    from fmnist_report.models import build_cnn
    from fmnist_report.serving.export import export_model

    keras.utils.set_random_seed(0)
    export_model(build_cnn(3), Path(target), {"training": {"note": "untrained, for benchmarking"}})
    return target


def start_server(model_dir: Path, port: int, log: Path) -> subprocess.Popen:
    """`fmnist-report serve` in its own process, once it answers /ping."""
    import httpx

    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    cmd = [sys.executable, "-m", "fmnist_report", "serve", "--port", str(port), "--model-dir", str(model_dir)]
    proc = subprocess.Popen(
        [*cmd, "--log-level", "warning"], stdout=log.open("wb"), stderr=subprocess.STDOUT, env=env
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise harness.CaseFailed(
                f"the server exited with status {proc.returncode}:\n{log.read_text(encoding='utf-8')[-2000:]}"
            )
        try:
            if httpx.get(f"http://127.0.0.1:{port}/ping", timeout=2).status_code == 200:
                return proc
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    proc.kill()
    raise harness.CaseFailed("the server did not answer /ping within 120 s")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("model_dir", type=Path, nargs="?", help="an export folder (default: output/model)")
    parser.add_argument(
        "--untrained", action="store_true", help="export an untrained CNN to a temporary folder"
    )
    parser.add_argument("--requests", type=int, default=800, help="single-image requests (default 800)")
    parser.add_argument("--batch", type=int, default=64, help="images per batched request (default 64)")
    parser.add_argument("--concurrency", type=int, default=8, help="client threads (default 8)")


def measure(args: argparse.Namespace) -> dict[str, Any]:
    import numpy as np

    from fmnist_report.serving.loadclient import Body, free_port, npy, run_load

    if args.requests < args.concurrency or args.batch < 1 or args.concurrency < 1:
        raise SystemExit("--requests must be at least --concurrency, and both with --batch positive")
    n, c = args.requests, args.concurrency
    rng = np.random.default_rng(0)
    one = rng.integers(0, 256, (1, 28, 28), dtype=np.uint8)
    batched = Body(npy(rng.integers(0, 256, (args.batch, 28, 28), dtype=np.uint8)), args.batch)
    modes = {
        "single npy": ([Body(npy(one), 1)], n),
        "single JSON": (
            [Body(json.dumps({"instances": (one / 255.0).tolist()}).encode(), 1, "application/json")],
            n,
        ),
        f"batch of {args.batch}": ([batched], max(n // 4, c)),
    }
    with tempfile.TemporaryDirectory(prefix="fmnist-serve-") as tmp:
        if args.untrained:
            model_dir = Path(tmp) / "model"
            harness.run(harness.Call("benchmarks.serve_bench:export_untrained", {"target": str(model_dir)}))
        else:
            model_dir = args.model_dir or harness.ROOT / "output" / "model"
            if not (model_dir / "metadata.json").is_file():
                raise SystemExit(f"{model_dir} is not an export; run the export first or pass --untrained")
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        proc = start_server(model_dir, port, Path(tmp) / "server.log")
        runs: dict[str, list[dict[str, float]]] = {mode: [] for mode in modes}
        try:
            run_load(url, [batched], c * 3, c)  # warm-up
            for i in range(args.repeat):
                for mode, (bodies, count) in modes.items():
                    runs[mode].append(run_load(url, bodies, count, c).summary())
                    print(
                        f"  [{i + 1}/{args.repeat}] {mode}: {runs[mode][-1]['req_per_s']:.0f} req/s",
                        flush=True,
                    )
        finally:
            proc.send_signal(signal.SIGTERM)
            status = proc.wait(60)
    medians = {m: harness.medians({mode: [r[m] for r in rs] for mode, rs in runs.items()}) for m in METRICS}
    errors = sum(int(r["errors"]) for rs in runs.values() for r in rs)
    single_p99, batch_rate = medians["p99_ms"]["single npy"], medians["img_per_s"][f"batch of {args.batch}"]
    goals = {
        "single_p99_below_ms": [GOAL_P99_MS, single_p99, single_p99 < GOAL_P99_MS],
        "batched_images_per_s_at_least": [
            GOAL_BATCH_IMAGES_PER_S,
            batch_rate,
            batch_rate >= GOAL_BATCH_IMAGES_PER_S,
        ],
    }
    print(f"server: {model_dir}, {c} client threads, {os.cpu_count()} CPUs, exit status {status}")
    print(
        f"{'mode':<14} {'errors':>6} {'req/s':>8} {'images/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8}"
    )
    for mode, rs in runs.items():
        m = {k: medians[k][mode] for k in METRICS}
        print(
            f"{mode:<14} {sum(int(r['errors']) for r in rs):>6} {m['req_per_s']:>8.1f} {m['img_per_s']:>9.0f} "
            f"{m['p50_ms']:>8.1f} {m['p99_ms']:>8.1f} {m['max_ms']:>8.1f}"
        )
    print(
        f"goals: single-image p99 < {GOAL_P99_MS:g} ms: {single_p99:.1f} ms "
        f"({'met' if goals['single_p99_below_ms'][2] else 'NOT met'}); batched >= {GOAL_BATCH_IMAGES_PER_S:,.0f} "
        f"images/s: {batch_rate:,.0f} ({'met' if goals['batched_images_per_s_at_least'][2] else 'NOT met'}); "
        f"errors: {errors}"
    )
    return {
        "medians": medians,
        # images/s of each mode against single images as .npy
        "ratios": {k: v / medians["img_per_s"]["single npy"] for k, v in medians["img_per_s"].items()},
        "errors": errors,
        "goals": goals,
        "server_exit_status": status,
        "runs": runs,
    }


CASES = (
    harness.Case(
        name="serve",
        summary="the inference server's throughput and latency, single images and batches, against the goals",
        add_arguments=add_arguments,
        measure=measure,
        quick=("--untrained", "--requests", "16", "--batch", "8", "--concurrency", "2"),
    ),
)
