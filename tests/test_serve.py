"""The inference app in-process: the SageMaker contract, every request layout, every error as JSON."""

from __future__ import annotations

import io
import json
import logging
import re

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


def json_layouts(x: np.ndarray) -> dict[str, object]:
    """The same images in every JSON layout SageMaker and TF Serving clients send."""
    flat, square = x.reshape(len(x), 784).tolist(), x[..., 0].tolist()
    return {
        "bare list Nx784": flat,
        "bare list Nx28x28": square,
        "bare list Nx28x28x1": x.tolist(),
        "inputs Nx784": {"inputs": flat},
        "inputs Nx28x28": {"inputs": square},
        "inputs Nx28x28x1": {"inputs": x.tolist(), "signature_name": "serving_default"},
        "inputs by name": {"inputs": {"image": square}},
        "instances by name": {"instances": [{"image": row} for row in flat]},
        "instances with signature": {"signature_name": "serving_default", "instances": square},
    }


def test_every_json_layout_gives_the_same_predictions(trained, client):
    model, _, toy = trained
    x = data_mod.scale(toy.x_test[:3])
    expected = model.predict_on_batch(x)
    for name, obj in json_layouts(x).items():
        response = post(client, json.dumps(obj), "application/json")
        assert response.status_code == 200, (name, response.text)
        np.testing.assert_allclose(probabilities(response), expected, atol=1e-5, err_msg=name)


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


def huge_pixel(digits: bytes) -> bytes:
    """One image as a JSON list whose first pixel is an integer of many digits."""
    return b"[[" + digits + b"," + b",".join([b"0.5"] * 783) + b"]]"


BAD_REQUESTS = [
    (b"{not json", "application/json", "not valid JSON"),
    (b'{"images": []}', "application/json", "instances"),
    (b'{"instances": []}', "application/json", "non-empty"),
    (json.dumps({"instances": [[0.5] * 783]}).encode(), "application/json", "shape"),
    (json.dumps({"instances": [[0.5] * 784, [0.5] * 10]}).encode(), "application/json", "ragged"),
    (json.dumps([[0.5] * 784, [0.5] * 783]).encode(), "application/json", "the list: the images are ragged"),
    (
        json.dumps([[0.5] * 784]).encode()[:-1] + b', "x"]',
        "application/json",
        "the list: the images are ragged, or hold nulls",
    ),
    (json.dumps([["0.5"] * 784]).encode(), "application/json", "not numbers"),
    (json.dumps(["a", "b"]).encode(), "application/json", "not numbers"),
    (json.dumps([[None] * 784]).encode(), "application/json", "nulls"),
    (json.dumps([0.5] * 784).encode(), "application/json", r"the list: .*shape \(\)"),
    (json.dumps({"inputs": {"pixels": [[0.5] * 784]}}).encode(), "application/json", '"image"'),
    (
        json.dumps({"inputs": {"image": [[0.5] * 784], "x": 1}}).encode(),
        "application/json",
        r"\['image', 'x'\]",
    ),
    (json.dumps({"instances": [{"img": [0.5] * 784}]}).encode(), "application/json", 'instance 0 .*"image"'),
    (json.dumps({"instances": [[0.5] * 784], "inputs": [[0.5] * 784]}).encode(), "application/json", "both"),
    (
        json.dumps({"instances": [[0.5] * 784], "signature_name": "predict"}).encode(),
        "application/json",
        "serving_default",
    ),
    (b'"just a string"', "application/json", "a JSON string is not a request"),
    (b"null", "application/json", "a JSON null is not a request"),
    (json.dumps({"inputs": [[0.5] * 784], "instances": None}).encode(), "application/json", "both"),
    (json.dumps({"inputs": None}).encode(), "application/json", "non-empty list"),
    (json.dumps({"instances": [None]}).encode(), "application/json", "nulls"),
    (
        json.dumps({"instances": [{"image": [0.5] * 784}, 3]}).encode(),
        "application/json",
        r'instance 1 is a JSON number, not an object \{"image": \.\.\.\}',
    ),
    (huge_pixel(b"9" * 401), "application/json", "NaN or infinite"),  # float(): OverflowError
    (huge_pixel(b"9" * 5001), "application/json", "NaN or infinite"),  # past Python's int-digit limit
    (b'{"inputs": ' + huge_pixel(b"1" + b"0" * 400) + b"}", "application/json", "NaN or infinite"),
    (b'{"instances": [[NaN]]}', "application/json", "shape"),
    (json.dumps({"instances": [[0.5] * 28] * 28}).encode(), "application/json", r"shape \(28,\)"),
    (b"[" * 100_000 + b"]" * 100_000, "application/json", "nested too deeply"),
    (
        json.dumps({"instances": [[2.5] * 784]}).encode(),
        "application/json",
        r"\[0, 1\] or whole numbers 0\.\.255",
    ),
    (json.dumps({"instances": [[256] * 784]}).encode(), "application/json", r"found 256\.\.256"),
    (json.dumps({"instances": [[-1] + [3] * 783]}).encode(), "application/json", r"whole numbers 0\.\.255"),
    (b",".join([b"2.5"] * 784), "text/csv", r"\[0, 1\] or whole numbers 0\.\.255"),
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
    assert re.search(match, response.json()["error"])


def test_nan_and_out_of_range_arrays_are_400(client):
    nan = np.full((28, 28), np.nan, np.float32)
    assert "NaN" in post(client, npy(nan), "application/x-npy").json()["error"]
    nan_json = post(client, b'{"instances": [' + b",".join([b"NaN"] * 784) + b"]}", "application/json")
    assert nan_json.status_code == 400 and "each image" in nan_json.json()["error"]
    nested_nan = "[" + ",".join(["NaN"] * 784) + "]"
    response = post(client, f'{{"instances": [{nested_nan}]}}', "application/json")
    assert response.status_code == 400 and "NaN" in response.json()["error"]
    too_bright = post(client, npy(np.full((2, 784), 3.0)), "application/x-npy")
    assert too_bright.status_code == 400 and "[0, 1]" in too_bright.json()["error"]


def test_a_blank_or_tiny_image_is_answered_with_a_warning(client, caplog):
    caplog.set_level(logging.WARNING, logger="fmnist_report.serving.serve")
    garment = np.zeros((28, 28), np.uint8)
    garment[7:14, 4:24] = 230
    plain = post(client, npy(garment), "application/x-npy")
    assert plain.status_code == 200 and "warnings" not in plain.json()
    blank = post(client, npy(np.stack([garment, np.zeros((28, 28), np.uint8)])), "application/x-npy")
    assert blank.status_code == 200 and len(blank.json()["predictions"]) == 2
    assert blank.json()["warnings"] == [
        "image 1 is blank (pixel std below 0.01), so the predicted class is a guess"
    ]
    tiny = post(client, image(np.full((1, 1), 200, np.uint8), "PNG"), "image/png")
    assert tiny.status_code == 200 and len(tiny.json()["predictions"]) == 1
    assert any("only 1x1 pixels" in w for w in tiny.json()["warnings"])
    caplog.clear()
    as_csv = post(client, npy(np.zeros((2, 28, 28), np.uint8)), "application/x-npy", "text/csv")
    assert as_csv.status_code == 200 and len(as_csv.text.splitlines()) == 2  # CSV has no place for it...
    logged = [r.getMessage() for r in caplog.records]
    assert logged == [
        "request answered with a warning: images 0, 1 are blank (pixel std below 0.01), "
        "so the predicted class is a guess"
    ]  # ...so it is logged, in one line


def test_wrong_path_or_method_is_a_json_error(client):
    missing = client.get("/predict")
    assert missing.status_code == 404
    assert missing.json() == {
        "error": "no such path: /predict; this server answers GET /ping and POST /invocations"
    }
    wrong = client.get("/invocations")
    assert wrong.status_code == 405 and wrong.headers["allow"] == "POST"
    assert wrong.json()["error"].startswith("GET is not allowed on /invocations")


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


def test_the_image_cap_follows_the_byte_limit(trained):
    _, model_dir, toy = trained
    assert serve.image_cap(6 * 1024 * 1024) == 8024 and serve.image_cap(100) == 1
    # 300 float32 images (0.9 MB, as a client sent them) fit the default 6 MB and so the default cap.
    x = data_mod.scale(np.resize(toy.x_test, (300, 28, 28)))
    with TestClient(serve.create_app(model_dir), raise_server_exceptions=False) as default:
        response = post(default, npy(x), "application/x-npy")
    assert response.status_code == 200 and len(response.json()["predictions"]) == 300


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
