"""The inference server: the SageMaker container contract (``GET /ping``, ``POST /invocations``).

Requests carry a batch of images in one of five content types, decoded and answered by
`codec` exactly as the SageMaker handler does; the whole batch runs through the model in one
call. Every error answers with a JSON body ``{"error": "..."}``: 400 bad input, 406
unsupported Accept, 413 too large, 415 unsupported Content-Type, 500 a bug.
"""

from __future__ import annotations

import logging
import signal
import socket
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from fmnist_report.data import CLASS_NAMES
from fmnist_report.errors import UserError
from fmnist_report.serving import codec, inference

#: SageMaker real-time endpoints accept at most 6 MB per request; match it.
DEFAULT_MAX_BYTES = 6 * 1024 * 1024
DEFAULT_MAX_BATCH = 256
#: The status of each refusal the codec can raise; any other `codec.CodecError` is a 400.
CODEC_STATUS: dict[type[codec.CodecError], int] = {codec.UnsupportedMediaType: 415, codec.NotAcceptable: 406}

log = logging.getLogger(__name__)


class HTTPError(Exception):
    """A request the server refuses, with its status code."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass
class Runtime:
    """The loaded model and what guards it; ``model`` is None until start-up finishes."""

    model_dir: Path
    model: Any = None
    class_names: tuple[str, ...] = CLASS_NAMES
    lock: threading.Lock = field(default_factory=threading.Lock)

    def load(self) -> None:
        from fmnist_report.serving.artifacts import load_model, read_metadata

        names = tuple(read_metadata(self.model_dir).get("class_names") or CLASS_NAMES)
        model = load_model(self.model_dir)
        self.class_names = names
        # One prediction now, so the first request does not pay for building the graph.
        inference.probabilities(model, np.zeros((1, 28, 28, 1), np.float32))
        self.model = model

    def predict(self, x: np.ndarray) -> np.ndarray:
        # One model call per request; the lock keeps concurrent requests from interleaving
        # inside Keras, and TensorFlow's own threads parallelise each call.
        with self.lock:
            return inference.probabilities(self.model, x, batch_size=max(len(x), 1))


def error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


def create_app(
    model_dir: Path,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_batch: int = DEFAULT_MAX_BATCH,
) -> FastAPI:
    """The server for one exported model; the model loads (verified) when the app starts."""
    if max_bytes < 1 or max_batch < 1:
        raise ValueError("max_bytes and max_batch must be positive")
    runtime = Runtime(Path(model_dir))

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await run_in_threadpool(runtime.load)
        log.info("model from %s loaded; ready", runtime.model_dir)
        yield
        runtime.model = None

    app = FastAPI(
        title="fmnist-report inference",
        summary="Fashion-MNIST classifier behind the SageMaker inference contract",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    app.state.runtime = runtime

    @app.get("/ping")
    def ping() -> Response:
        if runtime.model is None:
            return error(503, "the model is not loaded yet; retry shortly")
        return Response(status_code=200)

    @app.post("/invocations")
    async def invocations(request: Request) -> Response:
        try:
            if runtime.model is None:
                raise HTTPError(503, "the model is not loaded yet; retry shortly")
            content_type = request.headers.get("content-type")
            codec.decoder(content_type)  # 415 and 406 before the body is read
            answer = codec.negotiate(request.headers.get("accept"))
            body = await read_body(request, max_bytes)
            x, warnings = await run_in_threadpool(codec.decode, body, content_type)
            if len(x) > max_batch:
                raise HTTPError(413, f"{len(x)} images in one request; send at most {max_batch} per request")
            probs = await run_in_threadpool(runtime.predict, x)
            for warning in warnings:
                log.warning("request answered with a warning: %s", warning)
            text, media = codec.encode(probs, answer, runtime.class_names, warnings)
            return Response(text, media_type=media)
        except HTTPError as exc:
            return error(exc.status, str(exc))
        except codec.CodecError as exc:
            return error(CODEC_STATUS.get(type(exc), 400), str(exc))
        except Exception:  # a bug, not the client's fault: log it and keep serving
            log.exception("invocation failed")
            return error(500, "internal error while predicting; see the server log")

    return app


async def read_body(request: Request, max_bytes: int) -> bytes:
    """The request body, refused with 413 beyond ``max_bytes`` by header or by count."""
    declared = request.headers.get("content-length")
    if declared is not None:
        try:
            length = int(declared)
        except ValueError:
            raise HTTPError(400, f"Content-Length {declared!r} is not a number") from None
        if length > max_bytes:
            raise HTTPError(
                413, f"body of {length} bytes exceeds the limit of {max_bytes}; send smaller batches"
            )
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > max_bytes:
            raise HTTPError(413, f"body exceeds the limit of {max_bytes} bytes; send smaller batches")
        chunks.append(chunk)
    return b"".join(chunks)


# -- running ------------------------------------------------------------------------------


def bind(host: str, port: int) -> socket.socket:
    """A listening socket, so that a taken port is a one-line error rather than a log line."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto must say TCP: asyncio sets TCP_NODELAY on accepted connections only then, and
    # without it Nagle's algorithm and delayed ACKs add ~40 ms to every response.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(2048)
    except OSError as exc:
        sock.close()
        raise UserError(
            f"cannot listen on {host}:{port} ({exc.strerror}); choose another --host or --port"
        ) from exc
    sock.set_inheritable(True)
    return sock


def run(
    model_dir: Path,
    *,
    host: str = "127.0.0.1",
    port: int = 8080,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_batch: int = DEFAULT_MAX_BATCH,
    log_level: str = "info",
    on_listen: Callable[[str], None] | None = None,
) -> None:
    """Serve until SIGTERM or SIGINT, then finish in-flight requests and return normally."""
    import uvicorn

    sock = bind(host, port)
    actual_port = sock.getsockname()[1]
    config = uvicorn.Config(
        create_app(model_dir, max_bytes=max_bytes, max_batch=max_batch),
        host=host,
        port=actual_port,
        log_level=log_level,
        lifespan="on",
        timeout_graceful_shutdown=30,
    )
    server = uvicorn.Server(config)

    signalled: list[int] = []

    def stop(signum: int, frame: Any) -> None:
        signalled.append(signum)
        server.should_exit = True

    # uvicorn swaps in its own handlers while it runs and afterwards re-raises the signal it
    # caught to the handler found before it. With ours in place, that re-raise is a no-op and
    # a stop by SIGTERM or Ctrl-C ends the process with status 0, as a container expects.
    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        if on_listen:
            on_listen(f"http://{host if ':' not in host else f'[{host}]'}:{actual_port}")
        server.run(sockets=[sock])
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        sock.close()
    if not server.started and not signalled:
        raise UserError(f"the server did not start (see the log above); check the export in {model_dir}")
