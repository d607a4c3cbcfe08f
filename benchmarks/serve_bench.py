"""Benchmark: the inference server's throughput and latency, single images vs batches.

Starts `fmnist-report serve` on a free loopback port in its own process, sends a fixed number
of requests from concurrent client threads (8 by default), prints requests/s, images/s,
p50/p99 latency and errors per mode, checks them against the goals, then stops the server
with SIGTERM. The counts are bounded, so it ends by itself. The clients share the machine
with the server: on 2 cores they take a good part of it.

Modes: one image per request as uint8 .npy, one image as JSON (``{"instances": ...}``, as
a TF Serving client sends it), and batches of ``--batch`` images as uint8 .npy.

    python benchmarks/serve_bench.py output/model
    python benchmarks/serve_bench.py --untrained          # export an untrained CNN to a temp folder
    python benchmarks/serve_bench.py output/model --requests 800 --batch 64 --concurrency 8
"""

from __future__ import annotations

import argparse
import io
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import numpy as np

SERVE = "from fmnist_report.cli import main; main()"
#: The goals the serving section of docs/performance.md reports against.
GOAL_P99_MS = 50.0
GOAL_BATCH_IMAGES_PER_S = 1000.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def npy(arr: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, arr)
    return buf.getvalue()


def export_untrained(target: Path) -> Path:
    """An untrained 3x3 CNN: its speed is the trained model's, and it needs no data."""
    import keras

    from fmnist_report.models import build_cnn
    from fmnist_report.serving.export import export_model

    keras.utils.set_random_seed(0)
    export_model(build_cnn(3), target, {"training": {"note": "untrained, for benchmarking"}})
    return target


def start_server(model_dir: Path, port: int, log: Path) -> subprocess.Popen:
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    cmd = [sys.executable, "-c", SERVE, "serve", "--port", str(port), "--model-dir", str(model_dir)]
    cmd += ["--log-level", "warning"]
    proc = subprocess.Popen(cmd, stdout=log.open("wb"), stderr=subprocess.STDOUT, env=env)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            sys.exit(f"the server exited with status {proc.returncode}:\n{log.read_text()[-2000:]}")
        try:
            if httpx.get(f"{url}/ping", timeout=2).status_code == 200:
                return proc
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    proc.kill()
    sys.exit("the server did not answer /ping within 120 s")


def run_mode(
    url: str,
    body: bytes,
    images: int,
    requests: int,
    concurrency: int,
    content_type: str = "application/x-npy",
) -> dict[str, float]:
    """Send ``requests`` POSTs of ``body`` from ``concurrency`` threads; time each one."""
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    per_thread = [requests // concurrency + (k < requests % concurrency) for k in range(concurrency)]

    def worker(count: int) -> None:
        mine, bad = [], []
        with httpx.Client(base_url=url, timeout=60) as http:
            for _ in range(count):
                start = time.perf_counter()
                try:
                    r = http.post("/invocations", content=body, headers={"content-type": content_type})
                    if r.status_code != 200 or len(r.json()["predictions"]) != images:
                        bad.append(f"{r.status_code} {r.text[:100]}")
                except httpx.HTTPError as exc:
                    bad.append(repr(exc))
                mine.append(time.perf_counter() - start)
        with lock:
            latencies.extend(mine)
            errors.extend(bad)

    started = time.perf_counter()
    threads = [threading.Thread(target=worker, args=(n,)) for n in per_thread]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    ms = np.asarray(latencies) * 1000
    return {
        "requests": requests,
        "images": images,
        "errors": len(errors),
        "req_per_s": requests / wall,
        "img_per_s": requests * images / wall,
        "p50_ms": float(np.percentile(ms, 50)),
        "p99_ms": float(np.percentile(ms, 99)),
        "max_ms": float(ms.max()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model_dir", type=Path, nargs="?", help="an export folder (default: output/model)")
    parser.add_argument("--untrained", action="store_true", help="export an untrained CNN to a temp folder")
    parser.add_argument("--requests", type=int, default=800, help="single-image requests (default 800)")
    parser.add_argument("--batch", type=int, default=64, help="images per batched request (default 64)")
    parser.add_argument("--concurrency", type=int, default=8, help="client threads (default 8)")
    args = parser.parse_args()
    if args.requests < args.concurrency or args.batch < 1 or args.concurrency < 1:
        parser.error("--requests must be at least --concurrency, and both with --batch positive")

    with tempfile.TemporaryDirectory(prefix="serve-bench-") as tmp:
        if args.untrained:
            model_dir = export_untrained(Path(tmp) / "model")
        else:
            model_dir = args.model_dir or Path("output/model")
            if not (model_dir / "metadata.json").is_file():
                parser.error(f"{model_dir} is not an export; run the export first or pass --untrained")
        load_before = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
        port = free_port()
        log = Path(tmp) / "server.log"
        proc = start_server(model_dir, port, log)
        url = f"http://127.0.0.1:{port}"
        rng = np.random.default_rng(0)
        one = rng.integers(0, 256, (1, 28, 28), dtype=np.uint8)
        single = npy(one)
        as_json = json.dumps({"instances": (one / 255.0).tolist()}).encode()
        batched = npy(rng.integers(0, 256, (args.batch, 28, 28), dtype=np.uint8))
        n, c = args.requests, args.concurrency
        try:
            run_mode(url, batched, args.batch, c * 3, c)  # warm-up
            rows = [
                ("single npy", run_mode(url, single, 1, n, c)),
                ("single JSON", run_mode(url, as_json, 1, n, c, "application/json")),
                (f"batch of {args.batch}", run_mode(url, batched, args.batch, max(n // 4, c), c)),
            ]
        finally:
            proc.send_signal(signal.SIGTERM)
            status = proc.wait(60)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(
        f"server: {model_dir}, {c} client threads, {os.cpu_count()} CPUs, load average before the "
        f"run {load_before:.1f}, after {load:.1f}, server exit status {status}"
    )
    print(
        f"{'mode':<14} {'requests':>8} {'errors':>6} {'req/s':>8} {'images/s':>9} {'p50 ms':>8} {'p99 ms':>8} "
        f"{'max ms':>8}"
    )
    for name, r in rows:
        print(
            f"{name:<14} {r['requests']:>8} {r['errors']:>6} {r['req_per_s']:>8.1f} {r['img_per_s']:>9.0f} "
            f"{r['p50_ms']:>8.1f} {r['p99_ms']:>8.1f} {r['max_ms']:>8.1f}"
        )
    single_p99, batch_rate = rows[0][1]["p99_ms"], rows[2][1]["img_per_s"]
    errors = sum(int(r["errors"]) for _, r in rows)
    print(
        f"goals: single-image p99 < {GOAL_P99_MS:g} ms: {single_p99:.1f} ms "
        f"({'met' if single_p99 < GOAL_P99_MS else 'NOT met'}); batched >= {GOAL_BATCH_IMAGES_PER_S:,.0f} "
        f"images/s: {batch_rate:,.0f} ({'met' if batch_rate >= GOAL_BATCH_IMAGES_PER_S else 'NOT met'}); "
        f"errors: {errors}"
    )


if __name__ == "__main__":
    main()
