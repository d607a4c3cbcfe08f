"""The inference server: the SageMaker contract in-process, then one real uvicorn under load and SIGTERM."""

from __future__ import annotations

import contextlib
import io
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from fmnist_report import data as data_mod
from fmnist_report.data import CLASS_NAMES
from fmnist_report.serving import codec, serve

from .factories import synthetic_dataset

MAX_BYTES = 200_000
MAX_BATCH = 32


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """The study's 3x3 CNN after one epoch on the toy data set, exported once for this file."""
    import keras

    from fmnist_report.models import build_cnn
    from fmnist_report.serving.export import export_model

    keras.utils.set_random_seed(0)
    toy = synthetic_dataset()
    model = build_cnn(3)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    model.fit(data_mod.scale(toy.x_train), toy.y_train, epochs=1, batch_size=32, verbose=0)
    model_dir = tmp_path_factory.mktemp("export") / "model"
    export_model(model, model_dir, {"training": {"data": "synthetic", "epochs": 1}})
    return model, model_dir, toy


@pytest.fixture(scope="module")
def client(trained):
    _, model_dir, _ = trained
    app = serve.create_app(model_dir, max_bytes=MAX_BYTES, max_batch=MAX_BATCH)
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


def npy(arr: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, arr)
    return buf.getvalue()


def image(arr: np.ndarray, fmt: str) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, format=fmt)
    return buf.getvalue()


def post(client, body, content_type: str | None, accept: str | None = None, **kw):
    headers = {k: v for k, v in (("content-type", content_type), ("accept", accept)) if v}
    return client.post("/invocations", content=body, headers=headers, **kw)


def probabilities(response) -> np.ndarray:
    assert response.status_code == 200, response.text
    preds = response.json()["predictions"]
    for p in preds:
        assert p["label"] == CLASS_NAMES[p["class_id"]] and len(p["probabilities"]) == 10
        assert p["class_id"] == int(np.argmax(p["probabilities"]))
    return np.asarray([p["probabilities"] for p in preds], dtype=np.float32)


# -- health -------------------------------------------------------------------------------


def test_ping_is_503_before_start_up_and_200_after(trained, client):
    _, model_dir, _ = trained
    cold = TestClient(serve.create_app(model_dir))  # no `with`: the lifespan has not run
    response = cold.get("/ping")
    assert response.status_code == 503 and "not loaded" in response.json()["error"]
    assert post(cold, b"{}", "application/json").status_code == 503
    ready = client.get("/ping")
    assert ready.status_code == 200 and ready.content == b""


# -- every content type -------------------------------------------------------------------


def test_json_instances_in_all_three_layouts(trained, client):
    model, _, toy = trained
    x = data_mod.scale(toy.x_test[:5])
    expected = model.predict_on_batch(x)
    for instances in (x[..., 0], x.reshape(5, 784), x):
        got = probabilities(post(client, json.dumps({"instances": instances.tolist()}), "application/json"))
        np.testing.assert_allclose(got, expected, atol=1e-5)


def test_trained_model_serves_the_right_classes(trained, client):
    _, _, toy = trained
    got = probabilities(post(client, npy(toy.x_test[:30]), "application/x-npy"))
    assert (got.argmax(axis=1) == toy.y_test[:30]).mean() >= 0.5


def test_npy_uint8_and_float(trained, client):
    model, _, toy = trained
    x = data_mod.scale(toy.x_test[:4])
    expected = model.predict_on_batch(x)
    np.testing.assert_allclose(
        probabilities(post(client, npy(toy.x_test[:4]), "application/x-npy")), expected, atol=1e-5
    )
    np.testing.assert_allclose(probabilities(post(client, npy(x), "application/x-npy")), expected, atol=1e-5)


def test_png_jpeg_and_csv(trained, client):
    model, _, toy = trained
    one = toy.x_test[0]
    expected = model.predict_on_batch(data_mod.scale(one[np.newaxis]))
    np.testing.assert_allclose(
        probabilities(post(client, image(one, "PNG"), "image/png")), expected, atol=1e-5
    )
    # The same image on a white background is inverted back before prediction.
    np.testing.assert_allclose(
        probabilities(post(client, image(255 - one, "PNG"), "image/png")), expected, atol=1e-5
    )
    jpeg = probabilities(post(client, image(one, "JPEG"), "image/jpeg"))
    assert jpeg.shape == (1, 10)
    rows = data_mod.scale(toy.x_test[:3]).reshape(3, 784)
    csv = "\n".join(",".join(f"{v:.8f}" for v in row) for row in rows)
    got = probabilities(post(client, csv, "text/csv; charset=utf-8"))
    np.testing.assert_allclose(got, model.predict_on_batch(rows.reshape(3, 28, 28, 1)), atol=1e-5)


@pytest.mark.parametrize(
    ("accept", "kind"),
    [
        (None, "json"),
        ("*/*", "json"),
        ("application/json", "json"),
        ("text/csv", "csv"),
        ("application/json;q=0.5, text/csv", "csv"),
        ("text/html, text/*;q=0.2", "csv"),
    ],
)
def test_accept_negotiation(trained, client, accept, kind):
    _, _, toy = trained
    response = post(client, npy(toy.x_test[:2]), "application/x-npy", accept)
    assert response.status_code == 200
    if kind == "json":
        assert response.headers["content-type"].startswith("application/json")
        assert len(response.json()["predictions"]) == 2
    else:
        assert response.headers["content-type"].startswith("text/csv")
        lines = response.text.splitlines()
        assert len(lines) == 2
        label, prob = lines[0].split(",")
        assert label in CLASS_NAMES and 0.0 < float(prob) <= 1.0


# -- every error class ----------------------------------------------------------------------

BAD_REQUESTS = [
    (b"{not json", "application/json", "not valid JSON"),
    (b'{"images": []}', "application/json", "instances"),
    (b'{"instances": []}', "application/json", "non-empty"),
    (json.dumps({"instances": [[0.5] * 783]}).encode(), "application/json", "shape"),
    (json.dumps({"instances": [[0.5] * 784, [0.5] * 10]}).encode(), "application/json", "ragged"),
    (b'{"instances": [[NaN]]}', "application/json", "shape"),
    (json.dumps({"instances": [[0.5] * 28] * 28}).encode(), "application/json", r"shape \(28,\)"),
    (b"[" * 100_000 + b"]" * 100_000, "application/json", "nested too deeply"),
    (json.dumps({"instances": [[2.0] * 784]}).encode(), "application/json", r"\[0, 1\]"),
    (b"", "application/json", "empty"),
    (b"\x93NUMPY garbage", "application/x-npy", "not a valid .npy"),
    (b"not a png", "image/png", "not a readable PNG"),
    (b"1,2,3", "text/csv", "784"),
    (b"\xff\xfe", "text/csv", "UTF-8"),
]


@pytest.mark.parametrize(("body", "content_type", "match"), BAD_REQUESTS)
def test_bad_input_is_400_with_a_json_error(client, body, content_type, match):
    response = post(client, body, content_type)
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("application/json")
    assert __import__("re").search(match, response.json()["error"])


def test_nan_and_out_of_range_arrays_are_400(client):
    nan = np.full((28, 28), np.nan, np.float32)
    assert "NaN" in post(client, npy(nan), "application/x-npy").json()["error"]
    nan_json = post(client, b'{"instances": [' + b",".join([b"NaN"] * 784) + b"]}", "application/json")
    assert nan_json.status_code == 400 and "each instance" in nan_json.json()["error"]
    nested_nan = "[" + ",".join(["NaN"] * 784) + "]"
    response = post(client, f'{{"instances": [{nested_nan}]}}', "application/json")
    assert response.status_code == 400 and "NaN" in response.json()["error"]
    too_bright = post(client, npy(np.full((2, 784), 3.0)), "application/x-npy")
    assert too_bright.status_code == 400 and "[0, 1]" in too_bright.json()["error"]


def test_unsupported_accept_is_406(client):
    response = post(client, npy(np.zeros((28, 28), np.uint8)), "application/x-npy", "text/html")
    assert response.status_code == 406 and "text/html" in response.json()["error"]


def test_unsupported_or_missing_content_type_is_415(client):
    for content_type in ("text/plain", "application/octet-stream", None):
        response = post(client, b"abc", content_type)
        assert response.status_code == 415
        assert "application/x-npy" in response.json()["error"]


def test_too_large_is_413(client):
    big = npy(np.zeros((MAX_BATCH + 1, 28, 28), np.uint8))  # ~26 kB: within bytes, over the batch limit
    response = post(client, big, "application/x-npy")
    assert response.status_code == 413 and f"at most {MAX_BATCH}" in response.json()["error"]
    huge = b"0" * (MAX_BYTES + 1)
    by_header = post(client, huge, "application/json")
    assert by_header.status_code == 413 and str(MAX_BYTES) in by_header.json()["error"]

    def chunks():  # no Content-Length: the count of bytes read must stop it
        for _ in range(4):
            yield b"0" * (MAX_BYTES // 3)

    streamed = post(client, chunks(), "application/json")
    assert streamed.status_code == 413 and "exceeds" in streamed.json()["error"]


def test_an_internal_failure_is_500_and_the_server_keeps_serving(client, monkeypatch):
    runtime = client.app.state.runtime

    def broken(x):
        raise RuntimeError("boom")

    monkeypatch.setattr(runtime, "predict", broken)
    response = post(client, npy(np.zeros((28, 28), np.uint8)), "application/x-npy")
    assert response.status_code == 500 and "internal error" in response.json()["error"]
    monkeypatch.undo()
    assert post(client, npy(np.zeros((28, 28), np.uint8)), "application/x-npy").status_code == 200


def test_negotiate_and_media_type():
    assert codec.media_type("Text/CSV; charset=utf-8") == "text/csv"
    assert codec.negotiate("text/csv;q=0, application/json") == "application/json"
    with pytest.raises(codec.NotAcceptable, match="cannot answer Accept: image/png"):
        codec.negotiate("image/png")


# -- a real server ------------------------------------------------------------------------


def test_bind_makes_a_tcp_socket_and_reports_a_taken_port():
    sock = serve.bind("127.0.0.1", 0)
    try:
        # asyncio turns on TCP_NODELAY for accepted connections only when proto is TCP;
        # without it every response waits ~40 ms for a delayed ACK.
        assert sock.proto == socket.IPPROTO_TCP
        with pytest.raises(
            serve.UserError, match="cannot listen on 127.0.0.1:.*choose another --host or --port"
        ):
            serve.bind("127.0.0.1", sock.getsockname()[1])
    finally:
        sock.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def running_server(model_dir: Path, folder: Path):
    """`fmnist-report serve` in its own process on a free loopback port, until the block ends."""
    port = free_port()
    log_path = folder / "server.log"
    log = log_path.open("wb")
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    cmd = [sys.executable, "-c", "from fmnist_report.cli import main; main()"]
    cmd += ["serve", "--port", str(port), "--model-dir", str(model_dir), "--log-level", "warning"]
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while True:
        if proc.poll() is not None:
            pytest.fail(f"server exited with {proc.returncode}: {log_path.read_text()[-2000:]}")
        try:
            if httpx.get(f"{url}/ping", timeout=2).status_code == 200:
                break
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"server not ready in 90 s: {log_path.read_text()[-2000:]}")
        time.sleep(0.2)
    yield proc, url, log_path
    if proc.poll() is None:
        proc.kill()
        proc.wait(10)
    log.close()


@pytest.fixture(scope="module")
def live_server(trained, tmp_path_factory):
    """One server shared by the tests that only send it requests."""
    with running_server(trained[1], tmp_path_factory.mktemp("server")) as server:
        yield server


def test_concurrent_load(live_server, capsys):
    """8 threads x 200 requests, single images and small batches mixed; no request may fail."""
    _, url, _ = live_server
    rng = np.random.default_rng(0)
    bodies = [npy(rng.integers(0, 256, (1 + (i % 4) * 5, 28, 28), dtype=np.uint8)) for i in range(8)]
    latencies: list[float] = []
    failures: list[str] = []
    lock = threading.Lock()

    def worker(k: int) -> None:
        mine, bad = [], []
        with httpx.Client(base_url=url, timeout=30) as http:
            for i in range(200):
                body = bodies[(k + i) % len(bodies)]
                start = time.perf_counter()
                try:
                    r = http.post("/invocations", content=body, headers={"content-type": "application/x-npy"})
                    n = len(r.json()["predictions"]) if r.status_code == 200 else -1
                    if n != np.load(io.BytesIO(body)).shape[0]:
                        bad.append(f"{r.status_code}: {r.text[:200]}")
                except httpx.HTTPError as exc:
                    bad.append(repr(exc))
                mine.append(time.perf_counter() - start)
        with lock:
            latencies.extend(mine)
            failures.extend(bad)

    started = time.perf_counter()
    threads = [threading.Thread(target=worker, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    wall = time.perf_counter() - started
    assert not failures, failures[:5]
    assert len(latencies) == 1600
    p50, p99 = np.percentile(np.asarray(latencies) * 1000, [50, 99])
    with capsys.disabled():
        print(
            f"\nload: 1600 requests, 8 threads, {1600 / wall:.0f} req/s, p50 {p50:.1f} ms, p99 {p99:.1f} ms"
        )


@pytest.fixture
def own_server(trained, tmp_path):
    """A server of this test's own: the test stops it, which must not stop the shared one."""
    with running_server(trained[1], tmp_path) as server:
        yield server


def test_sigterm_stops_cleanly_with_status_0(own_server):
    proc, url, log_path = own_server
    assert httpx.get(f"{url}/ping", timeout=5).status_code == 200
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=30) == 0, log_path.read_text()[-2000:]
    log = log_path.read_text()
    assert "server stopped" in log and "Traceback" not in log
