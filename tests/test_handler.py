"""The SageMaker handler in model.tar.gz against the server, on a corpus of real client requests."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import tarfile
from collections import namedtuple
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import PIL
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from fmnist_report import idx
from fmnist_report.data import CLASS_NAMES
from fmnist_report.serving import codec, export, sagemaker_handler, serve

from .factories import untrained_export

Context = namedtuple("Context", "request_content_type accept_header")
TFServingReply = namedtuple("TFServingReply", "status_code content")


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory) -> Path:
    """An untrained CNN (seeded), exported once for this file: the handler never sees weights."""
    return untrained_export(tmp_path_factory.mktemp("export"))


# The handler in model.tar.gz is run as the container runs it: unpacked, loaded by path from
# code/ in a fresh interpreter where fmnist_report cannot be imported. Every request below
# goes through it and through `serve`; both must make the same batch, byte for byte, give
# the same answer, and refuse the same requests with the same message.

JSON, NPY, PNG, JPEG, CSV = "application/json", "application/x-npy", "image/png", "image/jpeg", "text/csv"


@dataclass(frozen=True)
class Sample:
    """One request: its body and headers, and the status `serve` gives it."""

    name: str
    body: bytes
    content_type: str | None
    accept: str | None = None
    status: int = 200


def _npy(arr: np.ndarray, **kwargs) -> bytes:
    buf = io.BytesIO()
    np.save(buf, arr, **kwargs)
    return buf.getvalue()


def _image(arr: np.ndarray, fmt: str) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, format=fmt)
    return buf.getvalue()


def _instances(arr) -> bytes:
    return json.dumps({"instances": np.asarray(arr).tolist()}).encode()


def _json(obj) -> bytes:
    return json.dumps(obj).encode()


def request_corpus() -> list[Sample]:
    """Every content type the server takes, with each way a request can be refused."""
    pixels = np.random.default_rng(7).integers(0, 256, (3, 28, 28), dtype=np.uint8)
    floats = pixels / 255.0
    garment = np.zeros((28, 28), np.uint8)
    garment[7:14, 4:24] = 230
    light = np.full((50, 40, 3), 250, np.uint8)  # RGB, light background, not square
    light[10:30, 5:35] = (20, 60, 90)
    cutout = np.zeros((60, 60, 4), np.uint8)  # transparent but for an opaque dark bar
    cutout[20:30, 10:50] = (30, 30, 30, 255)
    rows = "\n".join(",".join(f"{v:.8f}" for v in row) for row in floats.reshape(3, 784))
    objects = np.empty(2, dtype=object)
    return [
        Sample("json 28x28", _instances(floats), JSON),
        Sample("json 784", _instances(floats.reshape(3, 784)), JSON, accept=CSV),
        Sample("json 28x28x1", _instances(floats[..., np.newaxis]), JSON, accept="*/*"),
        Sample("json bare list 784", _json(floats.reshape(3, 784).tolist()), JSON),
        Sample("json bare list 28x28", _json(floats.tolist()), JSON, accept=CSV),
        Sample("json bare list 28x28x1", _json(floats[..., np.newaxis].tolist()), JSON),
        Sample("json inputs 784", _json({"inputs": floats.reshape(3, 784).tolist()}), JSON),
        Sample("json inputs 28x28x1", _json({"inputs": floats[..., np.newaxis].tolist()}), JSON),
        Sample("json inputs named", _json({"inputs": {"image": floats.tolist()}}), JSON),
        Sample("json instances named", _json({"instances": [{"image": f} for f in floats.tolist()]}), JSON),
        Sample(
            "json signature_name",
            _json({"signature_name": "serving_default", "instances": floats.tolist()}),
            JSON,
        ),
        Sample("json blank image (warning)", _json([[0.0] * 784, floats[0].reshape(784).tolist()]), JSON),
        Sample("npy blank images (warning)", _npy(np.zeros((12, 28, 28), np.uint8)), NPY),
        Sample("png 1x1 (warning)", _image(np.full((1, 1), 200, np.uint8), "PNG"), PNG),
        Sample("npy uint8", _npy(pixels), NPY),
        Sample(
            "npy float32", _npy(floats.astype(np.float32)), NPY, accept="application/json;q=0.5, text/csv"
        ),
        Sample("npy float64 784", _npy(floats[0].reshape(784)), NPY),
        Sample("png dark", _image(garment, "PNG"), PNG),
        Sample("png light rgb", _image(light, "PNG"), PNG, accept="text/html, text/*;q=0.2"),
        Sample("png rgba", _image(cutout, "PNG"), PNG),
        Sample("png 16 bit", _image(garment.astype(np.uint16) * 257, "PNG"), PNG),
        Sample("jpeg", _image(garment, "JPEG"), JPEG),
        Sample("csv", rows.encode(), "text/csv; charset=utf-8"),
        # What the SageMaker SDK's JSON and CSV serialisers write for a uint8 array.
        Sample("json uint8 integers", _json(pixels.reshape(-1, 784).tolist()), JSON),
        Sample(
            "csv uint8 integers",
            "\n".join(",".join(map(str, r)) for r in pixels.reshape(-1, 784)).encode(),
            CSV,
        ),
        Sample("json integers over 255", _json([[256] * 784]), JSON, status=400),
        Sample("json null", b"null", JSON, status=400),
        Sample("json not json", b"{not json", JSON, status=400),
        Sample("json without instances", b'{"images": []}', JSON, status=400),
        Sample("json empty instances", b'{"instances": []}', JSON, status=400),
        Sample("json 783 values", _instances([[0.5] * 783]), JSON, status=400),
        Sample(
            "json ragged", json.dumps({"instances": [[0.5] * 784, [0.5] * 10]}).encode(), JSON, status=400
        ),
        Sample("json one row", _instances([[0.5] * 28] * 28), JSON, status=400),
        Sample("json ragged bare list", _json([[0.5] * 784, [0.5] * 783]), JSON, status=400),
        Sample("json bare image, not a list of them", _json([0.5] * 784), JSON, status=400),
        Sample("json list of strings", _json(["a", "b"]), JSON, status=400),
        Sample("json numbers as strings", _json([["0.5"] * 784]), JSON, status=400),
        Sample("json nulls", _json([[None] * 784]), JSON, status=400),
        Sample(
            "json inputs names an unknown input",
            _json({"inputs": {"pixels": [[0.5] * 784]}}),
            JSON,
            status=400,
        ),
        Sample(
            "json inputs names two inputs",
            _json({"inputs": {"image": [[0.5] * 784], "x": [1]}}),
            JSON,
            status=400,
        ),
        Sample(
            "json instances name an unknown input",
            _json({"instances": [{"img": [0.5] * 784}]}),
            JSON,
            status=400,
        ),
        Sample(
            "json both instances and inputs",
            _json({"instances": [[0.5] * 784], "inputs": [[0.5] * 784]}),
            JSON,
            status=400,
        ),
        Sample(
            "json other signature",
            _json({"signature_name": "predict", "inputs": [[0.5] * 784]}),
            JSON,
            status=400,
        ),
        Sample("json a string", b'"images"', JSON, status=400),
        Sample(
            "json 401-digit pixel", b"[[" + b"9" * 401 + b"," + b"0.5," * 782 + b"0.5]]", JSON, status=400
        ),
        Sample(
            "json 5001-digit pixel", b"[[" + b"9" * 5001 + b"," + b"0.5," * 782 + b"0.5]]", JSON, status=400
        ),
        Sample("json nan", _instances(np.full((1, 784), np.nan)), JSON, status=400),
        Sample("json nested too deeply", b"[" * 100_000 + b"]" * 100_000, JSON, status=400),
        Sample("json out of range", _instances([[2.5] * 784]), JSON, status=400),
        Sample("empty body", b"", JSON, status=400),
        Sample("npy garbage", b"\x93NUMPY garbage", NPY, status=400),
        Sample("npy truncated", _npy(pixels)[:-10], NPY, status=400),
        Sample("npy pickled objects", _npy(objects, allow_pickle=True), NPY, status=400),
        Sample("npy int64", _npy(np.zeros((28, 28), np.int64)), NPY, status=400),
        Sample("npy out of range", _npy(np.full((2, 784), 3.0)), NPY, status=400),
        Sample("png garbage", b"not a png", PNG, status=400),
        Sample("csv short row", b"1,2,3", CSV, status=400),
        Sample("csv not utf-8", b"\xff\xfe", CSV, status=400),
        Sample("csv not numbers", ("0," * 783 + "x").encode(), CSV, status=400),
        Sample("text/plain", b"abc", "text/plain", status=415),
        Sample("no content type", b"abc", None, status=415),
        Sample("text/plain and accept text/html", b"abc", "text/plain", accept="text/html", status=415),
        Sample("accept text/html", _npy(pixels), NPY, accept="text/html", status=406),
    ]


REQUESTS = request_corpus()
DECODED = [s.name for s in REQUESTS if s.status == 200]
REFUSED = [s.name for s in REQUESTS if s.status != 200]
REFUSAL_TYPES = {400: "CodecError", 406: "NotAcceptable", 415: "UnsupportedMediaType"}

# Runs the unpacked handler in `python -I -S`: no site-packages but those of numpy and Pillow,
# and fmnist_report blocked even where it is installed beside them.
HANDLER_RUNNER = """
import importlib.util, io, json, sys

from collections import namedtuple
from pathlib import Path

code, work = Path(sys.argv[1]), Path(sys.argv[2])
sys.path[:0] = [str(code), *sys.argv[3:]]
sys.modules["fmnist_report"] = None
spec = importlib.util.spec_from_file_location("inference", code / "inference.py")
handler = importlib.util.module_from_spec(spec)
spec.loader.exec_module(handler)
Context = namedtuple("Context", "request_content_type accept_header")
Reply = namedtuple("Reply", "status_code content")
answers = {}
for case in json.loads((work / "cases.json").read_text()):
    context = Context(case["content_type"], case["accept"])
    try:
        request = handler.input_handler(io.BytesIO((work / case["body"]).read_bytes()), context)
    except ValueError as exc:
        answers[case["name"]] = {"refused": type(exc).__name__, "message": str(exc)}
        continue
    answers[case["name"]] = {"request": request}
    if case["reply"]:
        reply = Reply(200, (work / case["reply"]).read_bytes())
        answers[case["name"]]["body"], answers[case["name"]]["type"] = handler.output_handler(reply, context)
result = {"codec": handler.codec.__file__, "answers": answers}
(work / "answers.json").write_text(json.dumps(result))
"""


def fake_probabilities(n: int) -> np.ndarray:
    """What the model might say about n images: float32 rows that sum to 1, fixed by n."""
    p = np.random.default_rng(n).random((n, 10), dtype=np.float32)
    return p / p.sum(axis=1, keepdims=True)


@dataclass
class ServerAnswer:
    status: int
    body: bytes
    media_type: str
    batch: np.ndarray | None


@pytest.fixture(scope="module")
def server_answers(model_dir) -> dict[str, ServerAnswer]:
    """What `serve` makes of each request: the batch the model would get, and the response."""
    app = serve.create_app(model_dir)
    with TestClient(app, raise_server_exceptions=False) as client:
        seen: list[np.ndarray] = []

        def capture(x: np.ndarray) -> np.ndarray:
            seen.append(x)
            return fake_probabilities(len(x))

        app.state.runtime.predict = capture
        answers = {}
        for sample in REQUESTS:
            seen.clear()
            headers = {"content-type": sample.content_type, "accept": sample.accept}
            response = client.post(
                "/invocations", content=sample.body, headers={k: v for k, v in headers.items() if v}
            )
            answers[sample.name] = ServerAnswer(
                response.status_code,
                response.content,
                codec.media_type(response.headers["content-type"]),
                seen[0] if seen else None,
            )
    return answers


@pytest.fixture(scope="module")
def code_dir(model_dir, tmp_path_factory) -> Path:
    """code/ of model.tar.gz, unpacked as the container unpacks it."""
    code = tmp_path_factory.mktemp("unpacked") / "code"
    code.mkdir()
    with tarfile.open(model_dir / export.TARBALL) as tar:
        for member in tar.getmembers():
            if member.isfile() and member.name.startswith("code/"):
                (code / Path(member.name).name).write_bytes(tar.extractfile(member).read())
    return code


@pytest.fixture(scope="module")
def handler_answers(code_dir, server_answers, tmp_path_factory) -> dict:
    """What the unpacked handler makes of each request, given TF Serving's reply to the batch."""
    work = tmp_path_factory.mktemp("handler")
    cases = []
    for i, sample in enumerate(REQUESTS):
        (work / f"{i}.body").write_bytes(sample.body)
        batch = server_answers[sample.name].batch
        reply = None
        if batch is not None:
            reply = f"{i}.reply"
            (work / reply).write_text(json.dumps({"predictions": fake_probabilities(len(batch)).tolist()}))
        case = {"name": sample.name, "body": f"{i}.body", "reply": reply}
        cases.append({**case, "content_type": sample.content_type, "accept": sample.accept})
    (work / "cases.json").write_text(json.dumps(cases))
    libraries = sorted({str(Path(module.__file__).parents[1]) for module in (np, PIL)})
    command = [sys.executable, "-I", "-S", "-c", HANDLER_RUNNER, str(code_dir), str(work), *libraries]
    run = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
    assert run.returncode == 0, run.stderr[-3000:]
    return json.loads((work / "answers.json").read_text())


def test_handler_runs_on_the_codec_beside_it(handler_answers, code_dir):
    assert Path(handler_answers["codec"]) == code_dir / "codec.py"
    assert set(handler_answers["answers"]) == {s.name for s in REQUESTS}


@pytest.mark.parametrize("name", DECODED)
def test_handler_decodes_and_answers_as_the_server_does(name, server_answers, handler_answers):
    server, handler = server_answers[name], handler_answers["answers"][name]
    assert server.status == 200, server.body
    assert "refused" not in handler, handler
    request = json.loads(handler["request"])
    assert request["signature_name"] == export.SIGNATURE
    instances = np.asarray(request["instances"], dtype=np.float32)
    assert server.batch.dtype == np.float32 and server.batch.shape[1:] == (28, 28, 1)
    assert instances.shape == server.batch.shape
    assert instances.tobytes() == server.batch.tobytes()
    assert (handler["type"], handler["body"].encode()) == (server.media_type, server.body)


@pytest.mark.parametrize("name", [n for n in DECODED if "(warning)" in n])
def test_both_warn_of_blank_and_tiny_images(name, server_answers, handler_answers):
    server = json.loads(server_answers[name].body)
    assert server["warnings"] and all("guess" in w for w in server["warnings"])
    assert json.loads(handler_answers["answers"][name]["body"])["warnings"] == server["warnings"]


@pytest.mark.parametrize("name", REFUSED)
def test_handler_refuses_what_the_server_refuses(name, server_answers, handler_answers):
    sample = next(s for s in REQUESTS if s.name == name)
    server, handler = server_answers[name], handler_answers["answers"][name]
    assert server.status == sample.status and server.batch is None
    refusal = {"refused": REFUSAL_TYPES[server.status], "message": json.loads(server.body)["error"]}
    assert handler == refusal


def test_shipped_codec_holds_the_package_constants():
    assert codec.CLASS_NAMES == CLASS_NAMES
    assert codec.IMAGE_SHAPE == idx.IMAGE_SHAPE


def test_handler_output_reads_both_row_layouts_and_upstream_errors():
    probs = [[0.1] * 10, [0.0] * 7 + [0.9, 0.1, 0.0]]
    as_lists = TFServingReply(200, json.dumps({"predictions": probs}).encode())
    as_objects = TFServingReply(
        200, json.dumps({"predictions": [{"probabilities": p} for p in probs]}).encode()
    )
    for reply in (as_lists, as_objects):
        body, content_type = sagemaker_handler.output_handler(reply, Context(JSON, JSON))
        assert content_type == JSON
        second = json.loads(body)["predictions"][1]
        assert second == {"label": "Sneaker", "class_id": 7, "probabilities": probs[1]}
    body, content_type = sagemaker_handler.output_handler(as_lists, Context(JSON, "text/csv"))
    assert content_type == CSV and body.splitlines() == ["T-shirt/top,0.100000", "Sneaker,0.900000"]
    with pytest.raises(ValueError, match=r"TensorFlow Serving answered 400: .*bad input"):
        sagemaker_handler.output_handler(TFServingReply(400, b'{"error": "bad input"}'), Context("", ""))
