"""A bounded load client for `fmnist-report serve`: concurrent threads POSTing to /invocations.

The serve benchmark (``python -m benchmarks serve``) and the tests that load a live server
(tests/test_server.py) both drive the server through `run_load`. Every request has a
time-out and every thread a count, so a server that misbehaves ends the load instead of
hanging it. It needs httpx (the ``[dev]`` extra); nothing in the package imports this module.
"""

from __future__ import annotations

import io
import socket
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


def free_port() -> int:
    """A TCP port on loopback that nothing listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def npy(arr: np.ndarray) -> bytes:
    """``arr`` as the bytes of a .npy file, the body of an ``application/x-npy`` request."""
    buf = io.BytesIO()
    np.save(buf, arr)
    return buf.getvalue()


@dataclass(frozen=True)
class Body:
    """One request body and how many predictions its answer must hold."""

    content: bytes
    images: int
    content_type: str = "application/x-npy"


@dataclass(frozen=True)
class Load:
    """What a load gave: one latency per request (seconds), the failures, the wall seconds."""

    latencies: tuple[float, ...]
    failures: tuple[str, ...]
    wall_seconds: float
    images: int

    def summary(self) -> dict[str, float]:
        """Requests, errors, requests and images per second, p50/p99/max latency in ms."""
        n = len(self.latencies)
        ms = np.asarray(self.latencies) * 1000
        return {
            "requests": n,
            "images": self.images,
            "errors": len(self.failures),
            "req_per_s": n / self.wall_seconds,
            "img_per_s": self.images / self.wall_seconds,
            "p50_ms": float(np.percentile(ms, 50)),
            "p99_ms": float(np.percentile(ms, 99)),
            "max_ms": float(ms.max()),
        }


def run_load(
    url: str,
    bodies: Sequence[Body],
    requests: int,
    concurrency: int,
    *,
    timeout: float = 60.0,
    join_timeout: float | None = None,
) -> Load:
    """Send ``requests`` POSTs to ``url``/invocations from ``concurrency`` threads, each on its
    own keep-alive connection; thread k's i-th request carries ``bodies[(k + i) % len(bodies)]``.

    A request fails unless it gets a 200 whose ``predictions`` hold one entry per image;
    every request is timed, failed or not. ``join_timeout`` bounds the wait for each thread.
    """
    import httpx

    latencies: list[float] = []
    failures: list[str] = []
    lock = threading.Lock()
    per_thread = [requests // concurrency + (k < requests % concurrency) for k in range(concurrency)]
    images = sum(bodies[(k + i) % len(bodies)].images for k, n in enumerate(per_thread) for i in range(n))

    def worker(k: int, count: int) -> None:
        mine, bad = [], []
        with httpx.Client(base_url=url, timeout=timeout) as http:
            for i in range(count):
                body = bodies[(k + i) % len(bodies)]
                start = time.perf_counter()
                try:
                    r = http.post(
                        "/invocations", content=body.content, headers={"content-type": body.content_type}
                    )
                    n = len(r.json()["predictions"]) if r.status_code == 200 else -1
                    if n != body.images:
                        bad.append(f"{r.status_code}: {r.text[:200]}")
                except (httpx.HTTPError, ValueError, KeyError, TypeError) as exc:
                    bad.append(repr(exc))
                mine.append(time.perf_counter() - start)
        with lock:
            latencies.extend(mine)
            failures.extend(bad)

    started = time.perf_counter()
    threads = [threading.Thread(target=worker, args=(k, n)) for k, n in enumerate(per_thread)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(join_timeout)
    wall = time.perf_counter() - started
    with lock:
        return Load(tuple(latencies), tuple(failures), wall, images)
