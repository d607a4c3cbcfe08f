"""What clients actually send: integer pixels, JSON types in errors, compressed bodies, HEAD and slashes."""

from __future__ import annotations

import json

import numpy as np
import pytest
from fastapi.testclient import TestClient

from fmnist_report.serving import codec, serve

from .factories import untrained_export
from .test_serve import npy, post, probabilities


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    """The app on an untrained export: these tests are about what is accepted, not accuracy."""
    app = serve.create_app(untrained_export(tmp_path_factory.mktemp("hints")))
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


def test_json_and_csv_integers_0_to_255_are_uint8_pixels(client):
    """What the SageMaker SDK's serialisers send for a uint8 array: whole numbers, in JSON and CSV alike."""
    pixels = np.random.default_rng(3).integers(0, 256, (2, 784), dtype=np.uint8)
    expected = probabilities(post(client, npy(pixels), "application/x-npy"))
    as_json = post(client, json.dumps(pixels.tolist()).encode(), "application/json")
    np.testing.assert_allclose(probabilities(as_json), expected, atol=1e-6)
    rows = "\n".join(",".join(str(v) for v in row) for row in pixels)
    np.testing.assert_allclose(probabilities(post(client, rows.encode(), "text/csv")), expected, atol=1e-6)
    # Whole numbers no larger than 1 stay floats in [0, 1]: 1 is white, not almost black.
    ones = np.ones((1, 784), np.float32)
    as_ones = post(client, json.dumps([[1] * 784]).encode(), "application/json")
    np.testing.assert_allclose(
        probabilities(as_ones), probabilities(post(client, npy(ones), "application/x-npy"))
    )
    assert codec.decode_csv(b",".join([b"255"] * 784)).max() == 1.0


def test_errors_name_json_types():
    for value, name in (
        (None, "null"),
        ([], "array"),
        ({}, "object"),
        ("x", "string"),
        (True, "boolean"),
        (2.0, "number"),
    ):
        assert codec.json_type(value) == name
    with pytest.raises(codec.CodecError, match=r"a JSON boolean is not a request"):
        codec.from_json(False)


def test_a_compressed_body_is_415_naming_its_encoding(client):
    response = client.post(
        "/invocations",
        content=b"\x1f\x8b...",
        headers={"content-type": "application/json", "content-encoding": "gzip"},
    )
    assert response.status_code == 415
    assert response.json()["error"] == "Content-Encoding gzip is not supported; send the body uncompressed"


def test_ping_answers_head_and_a_trailing_slash_is_not_redirected(client):
    head = client.head("/ping")
    assert head.status_code == 200 and head.content == b""
    slashed = post(client, npy(np.zeros((28, 28), np.uint8)), "application/x-npy").status_code
    assert slashed == 200
    response = client.post("/invocations/", content=b"x", follow_redirects=False)
    assert response.status_code == 404
    assert response.json()["error"].startswith("no such path: /invocations/;")
