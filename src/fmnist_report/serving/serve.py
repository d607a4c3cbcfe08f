"""The inference app: the SageMaker container contract (``GET /ping``, ``POST /invocations``).

Requests carry a batch of images in one of five content types, decoded and answered by
`codec` exactly as the SageMaker handler does; the images of concurrent requests run through
the model together (`batcher`). Every error answers with a JSON body ``{"error": "..."}``:
400 bad input, 404 and 405 a wrong path or method, 406 unsupported Accept, 408 a body too
slow to arrive, 413 too large, 415 unsupported Content-Type, 500 a bug, 503 not ready or
shutting down (a body still arriving when the server stops is answered at once, not cut off).
Running the app under uvicorn, with its connection limits, is `server`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from fmnist_report.data import CLASS_NAMES
from fmnist_report.serving import codec, inference
from fmnist_report.serving.batcher import Batcher

#: SageMaker real-time endpoints accept at most 6 MB per request; match it.
DEFAULT_MAX_BYTES = 6 * 1024 * 1024
#: Seconds a request body may pause (no byte arriving) before it is answered 408.
DEFAULT_TIMEOUT = 5.0
#: Seconds a whole request body may take; SageMaker gives an invocation 60 s in all.
BODY_DEADLINE = 60.0
#: A body over the limit is still read, and dropped, up to this size before the 413 goes out:
#: a server that closes while the client is still sending makes the client see a connection
#: reset instead of the answer. Beyond this, the 413 is sent at once and the connection closed.
DRAIN_BYTES = 64 * 1024 * 1024
#: The most images one model call takes, however many requests they come from (memory).
MODEL_BATCH = 512
#: Bodies up to this size (images apart) are decoded on the event loop: a thread hop costs more.
INLINE_DECODE_BYTES = 32 * 1024
#: The status of each refusal the codec can raise; any other `codec.CodecError` is a 400.
CODEC_STATUS: dict[type[codec.CodecError], int] = {codec.UnsupportedMediaType: 415, codec.NotAcceptable: 406}
ROUTES = "GET /ping and POST /invocations"

log = logging.getLogger(__name__)


def image_cap(max_bytes: int) -> int:
    """The most images a body of ``max_bytes`` can hold: uint8 .npy, the densest format, spends 784 bytes on one."""
    return max(1, max_bytes // codec.PIXELS)


class HTTPError(Exception):
    """A request the server refuses, with its status code; ``close`` ends the connection after."""

    def __init__(self, status: int, message: str, *, close: bool = False) -> None:
        super().__init__(message)
        self.status = status
        self.close = close


class ClientGone(Exception):
    """The client disconnected before its body was complete."""


class Shutdown:
    """Whether the server is stopping, and the requests whose bodies are still arriving."""

    def __init__(self) -> None:
        self.stopping = False
        self.readers: set[asyncio.Task[Any]] = set()

    def begin(self) -> None:
        """Stop waiting for bodies: each reader gets a 503 now, instead of a cut-off at the grace's end."""
        self.stopping = True
        for task in self.readers:
            task.cancel()


@dataclass
class Runtime:
    """The loaded model and its batcher; ``model`` is None until start-up finishes."""

    model_dir: Path
    model: Any = None
    class_names: tuple[str, ...] = CLASS_NAMES
    batcher: Batcher | None = None

    def load(self) -> None:
        from fmnist_report.serving.artifacts import load_model, read_metadata

        names = tuple(read_metadata(self.model_dir).get("class_names") or CLASS_NAMES)
        model = load_model(self.model_dir)
        self.class_names = names
        # One prediction now, so the first request does not pay for building the graph.
        inference.probabilities(model, np.zeros((1, 28, 28, 1), np.float32))
        self.model = model

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Probabilities for one batch; only the batcher's one thread calls it."""
        return inference.probabilities(self.model, x, batch_size=MODEL_BATCH)


def error(
    status: int, message: str, *, close: bool = False, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    headers = {**(headers or {}), **({"connection": "close"} if close else {})}
    return JSONResponse({"error": message}, status_code=status, headers=headers)


def create_app(
    model_dir: Path,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_batch: int | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    body_deadline: float = BODY_DEADLINE,
) -> FastAPI:
    """The server for one exported model; the model loads (verified) when the app starts.

    Args:
        max_batch: the most images in one request; by default as many as ``max_bytes`` can hold.
        timeout: seconds the body may pause before a 408; ``body_deadline`` bounds it in all.
    """
    max_batch = image_cap(max_bytes) if max_batch is None else max_batch
    if max_bytes < 1 or max_batch < 1 or timeout <= 0 or body_deadline <= 0:
        raise ValueError("max_bytes, max_batch, timeout and body_deadline must be positive")
    runtime = Runtime(Path(model_dir))
    limits = BodyLimits(max_bytes, timeout, body_deadline, Shutdown())

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await run_in_threadpool(runtime.load)
        # Late-bound, so that a test may replace `runtime.predict`.
        runtime.batcher = Batcher(lambda x: runtime.predict(x), MODEL_BATCH)
        runtime.batcher.start()
        log.info("model from %s loaded; ready", runtime.model_dir)
        yield
        await runtime.batcher.stop()
        runtime.model = None

    app = FastAPI(
        title="fmnist-report inference",
        summary="Fashion-MNIST classifier behind the SageMaker inference contract",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    # /invocations/ is a 404 that names the routes, not a redirect a client may not follow.
    app.router.redirect_slashes = False
    app.state.runtime = runtime
    app.state.shutdown = limits.shutdown

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 404:
            message = f"no such path: {request.url.path}; this server answers {ROUTES}"
        elif exc.status_code == 405:
            message = f"{request.method} is not allowed on {request.url.path}; this server answers {ROUTES}"
        else:
            message = str(exc.detail)
        return error(exc.status_code, message, headers=exc.headers)

    @app.exception_handler(Exception)
    async def crash(request: Request, exc: Exception) -> JSONResponse:
        log.error("unhandled error on %s %s: %r", request.method, request.url.path, exc)
        return error(500, "internal error; see the server log")

    @app.api_route("/ping", methods=["GET", "HEAD"])
    def ping() -> Response:
        if runtime.model is None:
            return error(503, "the model is not loaded yet; retry shortly")
        return Response(status_code=200)

    @app.post("/invocations")
    async def invocations(request: Request) -> Response:
        try:
            if runtime.model is None or runtime.batcher is None:
                raise HTTPError(503, "the model is not loaded yet; retry shortly")
            content_type = request.headers.get("content-type")
            codec.decoder(content_type)  # 415 and 406 before the body is read
            encoding = request.headers.get("content-encoding", "identity").strip().lower()
            if encoding != "identity":
                raise HTTPError(
                    415, f"Content-Encoding {encoding} is not supported; send the body uncompressed"
                )
            answer = codec.negotiate(request.headers.get("accept"))
            body = await read_body(request, limits)
            if len(body) <= INLINE_DECODE_BYTES and not codec.media_type(content_type).startswith("image/"):
                x, warnings = codec.decode(body, content_type)
            else:
                x, warnings = await run_in_threadpool(codec.decode, body, content_type)
            if len(x) > max_batch:
                raise HTTPError(413, f"{len(x)} images in one request; send at most {max_batch} per request")
            probs = await runtime.batcher.predict(x)
            for warning in warnings:
                log.warning("request answered with a warning: %s", warning)
            text, media = codec.encode(probs, answer, runtime.class_names, warnings)
            return Response(text, media_type=media)
        except HTTPError as exc:
            return error(exc.status, str(exc), close=exc.close)
        except codec.CodecError as exc:
            return error(CODEC_STATUS.get(type(exc), 400), str(exc))
        except ClientGone as exc:
            client = f"{request.client.host}:{request.client.port}" if request.client else "a client"
            log.warning("%s disconnected %s; request dropped", client, exc)
            return Response(status_code=499)  # never sent: there is no one to send it to
        except Exception:  # a bug, not the client's fault: log it and keep serving
            log.exception("invocation failed")
            return error(500, "internal error while predicting; see the server log")

    return app


# -- reading bodies -----------------------------------------------------------------------


@dataclass(frozen=True)
class BodyLimits:
    max_bytes: int
    timeout: float
    deadline: float
    shutdown: Shutdown = field(default_factory=Shutdown)


async def read_body(request: Request, limits: BodyLimits) -> bytes:
    """The request body, refused with 413 beyond ``max_bytes`` and 408 when it is too slow.

    A body over the limit is read to its end and dropped (up to `DRAIN_BYTES`) before the
    413, so the client, still sending, can read the answer.
    """
    declared = content_length(request)
    over = f"send at most {limits.max_bytes} bytes per request: smaller batches, or uint8 .npy"
    if declared is not None and declared > limits.max_bytes:
        drained = await drain(request, declared, limits)
        raise HTTPError(413, f"body of {declared} bytes exceeds the limit; {over}", close=not drained)
    chunks, size = [], 0
    async for chunk in receive_chunks(request, declared, limits):
        size += len(chunk)
        if size > limits.max_bytes:
            drained = await drain(request, declared, limits)
            raise HTTPError(
                413, f"body exceeds the limit of {limits.max_bytes} bytes; {over}", close=not drained
            )
        chunks.append(chunk)
    return b"".join(chunks)


def content_length(request: Request) -> int | None:
    declared = request.headers.get("content-length")
    if declared is None:
        return None
    if not declared.strip().isdigit():
        raise HTTPError(
            400, f"Content-Length {declared!r} is not a whole number of bytes; send the body's size"
        )
    return int(declared)


async def receive_chunks(request: Request, declared: int | None, limits: BodyLimits) -> AsyncIterator[bytes]:
    """The body's chunks as they arrive; 408 when one is ``timeout`` late or all take ``deadline``."""
    loop = asyncio.get_running_loop()
    end = loop.time() + limits.deadline
    received, more = 0, True
    expected = f" of {declared}" if declared is not None else ""
    task = asyncio.current_task()
    if limits.shutdown.stopping or task is None:
        raise shutting_down()
    limits.shutdown.readers.add(task)
    try:
        while more:
            wait = min(limits.timeout, end - loop.time())
            try:
                async with asyncio.timeout(max(wait, 0)):
                    message = await request.receive()
            except asyncio.CancelledError:
                if not limits.shutdown.stopping:
                    raise
                task.uncancel()  # the shutdown's own cancel, turned into an answer the request still sends
                raise shutting_down() from None
            except TimeoutError:
                what = (
                    f"no byte arrived for {limits.timeout:g} s"
                    if wait >= limits.timeout
                    else "it took too long"
                )
                raise HTTPError(
                    408,
                    f"the request body stalled after {received}{expected} bytes ({what}); send the whole "
                    f"body promptly, within {limits.deadline:g} s, with a Content-Length that matches it",
                    close=True,
                ) from None
            if message["type"] == "http.disconnect":
                raise ClientGone(f"after {received}{expected} bytes of the body")
            chunk = message.get("body", b"")
            more = message.get("more_body", False)
            received += len(chunk)
            if chunk:
                yield chunk
    finally:
        limits.shutdown.readers.discard(task)


def shutting_down() -> HTTPError:
    return HTTPError(503, "the server is shutting down; send the request again shortly", close=True)


async def drain(request: Request, declared: int | None, limits: BodyLimits) -> bool:
    """Read and drop the rest of a refused body; True when it was read to its end."""
    if request.headers.get("expect", "").lower() == "100-continue":
        return False  # the client waits for a go-ahead before sending; it will not get one
    if declared is not None and declared > DRAIN_BYTES:
        return False
    dropped = 0
    try:
        async for chunk in receive_chunks(request, declared, limits):
            dropped += len(chunk)
            if dropped > DRAIN_BYTES:
                return False
    except (HTTPError, ClientGone):
        return False
    return True
