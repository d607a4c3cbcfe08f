"""`fmnist-report serve` as a real process on loopback: sockets, time-outs, load, logs and SIGTERM.

Every client here is bounded: sockets have time-outs and loops have counts, so a server that
misbehaves fails a test instead of hanging it.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import httpx
import numpy as np
import pytest
import uvicorn.config
from typer.testing import CliRunner

from fmnist_report.cli import app
from fmnist_report.cli.serving import LogLevel
from fmnist_report.serving import server
from fmnist_report.serving.loadclient import Body, free_port, npy, run_load

from .factories import untrained_export

TIMEOUT = 1.0  # the server's --timeout, for heads and for body pauses


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    """An untrained CNN, exported once: these tests are about HTTP, not accuracy."""
    return untrained_export(tmp_path_factory.mktemp("export"))


@contextlib.contextmanager
def started_server(model_dir, folder):
    """`fmnist-report serve` in its own process on a free loopback port, logging at info."""
    port = free_port()
    log_path = folder / "server.log"
    log = log_path.open("wb")
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    cmd = [sys.executable, "-c", "from fmnist_report.cli import main; main()", "serve"]
    cmd += ["--port", str(port), "--model-dir", str(model_dir), "--timeout", str(TIMEOUT)]
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    try:
        while True:
            if proc.poll() is not None:
                pytest.fail(f"server exited with {proc.returncode}: {log_path.read_text()[-2000:]}")
            try:
                if httpx.get(f"{url}/ping", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"server not ready in 90 s: {log_path.read_text()[-2000:]}")
            time.sleep(0.2)
        yield proc, url, port, log_path
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
        log.close()


@pytest.fixture(scope="module")
def live_server(model_dir, tmp_path_factory):
    """One server shared by the tests that leave it running."""
    with started_server(model_dir, tmp_path_factory.mktemp("server")) as server:
        yield server


def connect(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    sock.settimeout(10)
    return sock


def read_response(sock: socket.socket) -> tuple[int, dict[str, str], bytes]:
    """One HTTP response from a raw socket: status, headers (lower-case names), body."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise AssertionError(f"connection closed before a response; got {data!r}")
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:])
    headers = {k.lower(): v for k, v in headers.items()}
    length = int(headers.get("content-length", 0))
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        body += chunk
    return int(lines[0].split()[1]), headers, body


def request_head(length: int | str, *extra: str) -> bytes:
    lines = ["POST /invocations HTTP/1.1", "Host: 127.0.0.1", "Content-Type: application/x-npy"]
    lines += [f"Content-Length: {length}", *extra]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def wait_for_log(log_path, text: str, seconds: float = 10) -> str:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        log = log_path.read_text()
        if text in log:
            return log
        time.sleep(0.1)
    raise AssertionError(f"{text!r} never appeared in the log: {log_path.read_text()[-2000:]}")


# -- start-up and the command line ----------------------------------------------------------


def test_bind_makes_a_tcp_socket_and_reports_a_taken_port():
    sock = server.bind("127.0.0.1", 0)
    try:
        # asyncio turns on TCP_NODELAY for accepted connections only when proto is TCP;
        # without it every response waits ~40 ms for a delayed ACK.
        assert sock.proto == socket.IPPROTO_TCP
        with pytest.raises(
            server.UserError, match="cannot listen on 127.0.0.1:.*choose another --host or --port"
        ):
            server.bind("127.0.0.1", sock.getsockname()[1])
    finally:
        sock.close()


def test_log_level_is_a_choice_of_uvicorn_levels(model_dir):
    assert {level.value for level in LogLevel} == set(uvicorn.config.LOG_LEVELS)
    result = CliRunner().invoke(app, ["serve", "--model-dir", str(model_dir), "--log-level", "verbose"])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "'verbose' is not one of" in result.output and "info" in result.output


def test_the_server_logs_that_the_model_is_ready(live_server):
    _, _, _, log_path = live_server
    wait_for_log(log_path, "loaded; ready", seconds=1)


# -- load -------------------------------------------------------------------------------------


def test_concurrent_load(live_server, capsys):
    """8 threads x 200 requests, single images and small batches mixed; no request may fail."""
    _, url, _, _ = live_server
    rng = np.random.default_rng(0)
    arrays = [rng.integers(0, 256, (1 + (i % 4) * 5, 28, 28), dtype=np.uint8) for i in range(8)]
    load = run_load(url, [Body(npy(a), len(a)) for a in arrays], 1600, 8, timeout=30, join_timeout=120)
    assert not load.failures, load.failures[:5]
    assert len(load.latencies) == 1600
    p50, p99 = np.percentile(np.asarray(load.latencies) * 1000, [50, 99])
    wall = load.wall_seconds
    with capsys.disabled():
        print(
            f"\nload: 1600 requests, 8 threads, {1600 / wall:.0f} req/s, p50 {p50:.1f} ms, p99 {p99:.1f} ms"
        )


# -- what a client can get wrong ------------------------------------------------------------


def test_errors_on_the_wire_are_json(live_server):
    _, url, port, _ = live_server
    missing = httpx.get(f"{url}/nothing", timeout=10)
    assert missing.status_code == 404 and "GET /ping and POST /invocations" in missing.json()["error"]
    assert httpx.put(f"{url}/invocations", timeout=10).status_code == 405
    with connect(port) as sock:  # h11 refuses this before the app sees it
        sock.sendall(request_head("twelve") + b"x" * 12)
        status, headers, body = read_response(sock)
    assert status == 400 and headers["content-type"] == "application/json"
    assert "Content-Length is malformed" in json.loads(body)["error"]


@pytest.mark.parametrize("keep_alive", [True, False])
def test_a_60_mb_body_gets_a_413_the_client_can_read(live_server, keep_alive):
    _, _, port, _ = live_server
    size = 60_000_000
    with connect(port) as sock:
        sock.sendall(request_head(size, *([] if keep_alive else ["Connection: close"])))
        block = b"\0" * 65536
        for start in range(0, size, len(block)):
            sock.sendall(block[: size - start])
        status, _, body = read_response(sock)
    assert status == 413 and "body of 60000000 bytes exceeds the limit" in json.loads(body)["error"]


def test_urllib_reads_the_413_of_a_60_mb_body(live_server):
    """Python's own client sends `Connection: close`; it used to see a connection reset."""
    _, url, _, _ = live_server
    request = urllib.request.Request(
        f"{url}/invocations", data=b"\0" * 60_000_000, headers={"Content-Type": "application/x-npy"}
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=30)
    assert refused.value.code == 413 and "exceeds the limit" in json.loads(refused.value.read())["error"]


def test_a_body_shorter_than_its_content_length_gets_a_408(live_server):
    _, _, port, _ = live_server
    with connect(port) as sock:
        started = time.monotonic()
        sock.sendall(request_head(1000) + b"\0" * 100)
        status, headers, body = read_response(sock)
        assert time.monotonic() - started < TIMEOUT + 3
        assert status == 408 and headers["connection"] == "close"
        assert "stalled after 100 of 1000 bytes" in json.loads(body)["error"]
        assert sock.recv(10) == b""  # and the connection is closed


def test_slow_request_heads_are_cut_off(live_server):
    """A slow-header client holds nothing for long: 50 of them, and one that sends nothing."""
    _, url, port, _ = live_server
    socks = [connect(port) for _ in range(51)]
    try:
        for sock in socks[1:]:
            sock.sendall(b"POST /invocations HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # never finished
        started = time.monotonic()
        for sock in socks:
            status, _, body = read_response(sock)
            assert status == 408 and "did not arrive within 1 s" in json.loads(body)["error"]
            assert sock.recv(10) == b""
        assert time.monotonic() - started < TIMEOUT + 5
    finally:
        for sock in socks:
            sock.close()
    assert httpx.get(f"{url}/ping", timeout=10).status_code == 200  # and the server still serves


def test_a_client_leaving_mid_body_is_one_log_line(live_server):
    _, url, port, log_path = live_server
    with connect(port) as sock:
        sock.sendall(request_head(10_000) + b"\0" * 100)
        time.sleep(0.2)
    log = wait_for_log(log_path, "disconnected after 100 of 10000 bytes of the body; request dropped")
    assert "Traceback" not in log
    assert httpx.get(f"{url}/ping", timeout=10).status_code == 200


# -- stopping (its own server, so the order of the tests does not matter) ------------------------------------------------------


def test_sigterm_stops_cleanly_with_status_0(model_dir, tmp_path):
    with started_server(model_dir, tmp_path) as (proc, url, _, log_path):
        stop_with_sigterm(proc, url, log_path)


def stop_with_sigterm(proc, url, log_path) -> None:
    assert httpx.get(f"{url}/ping", timeout=5).status_code == 200
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=30) == 0, log_path.read_text()[-2000:]
    log = log_path.read_text()
    assert "server stopped" in log and "Traceback" not in log


def test_sigterm_during_a_slow_body_answers_json_and_stops_promptly(model_dir, tmp_path):

    with started_server(model_dir, tmp_path) as (proc, _, port, log_path), connect(port) as sock:
        sock.sendall(request_head(10_000) + b"\0" * 100)
        time.sleep(0.2)
        proc.send_signal(signal.SIGTERM)
        signalled = time.monotonic()
        for _ in range(100):  # a byte every 0.2 s keeps the body inside the 1 s pause limit
            if select.select([sock], [], [], 0.2)[0]:
                break
            sock.sendall(b"\0")
        status, headers, body = read_response(sock)
        waited = time.monotonic() - signalled
        assert proc.wait(timeout=30) == 0, log_path.read_text()[-2000:]
    assert status == 503 and headers["content-type"] == "application/json"
    assert "shutting down" in json.loads(body)["error"]
    assert waited < 5, f"the answer came {waited:.1f} s after SIGTERM"
    log = log_path.read_text()
    assert "server stopped" in log and "Traceback" not in log
