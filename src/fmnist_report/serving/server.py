"""Running the inference app (`serve`) under uvicorn, with bounds on what a connection may hold.

uvicorn bounds an idle keep-alive connection (``timeout_keep_alive``) and the size of a
request head (h11's ``max_incomplete_event_size``), but not the time a request head may take
to arrive: 200 clients sending their headers a byte at a time would hold 200 connections
for ever. `HeadTimeoutProtocol` closes such a connection with a 408; the app bounds the time
a body may take (`serve.read_body`). The protocol also answers the requests h11 cannot parse
with a JSON error, as the app answers everything else.
"""

from __future__ import annotations

import asyncio
import copy
import functools
import json
import logging
import signal
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

import h11
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from fmnist_report.errors import UserError
from fmnist_report.serving.serve import DEFAULT_MAX_BYTES, DEFAULT_TIMEOUT, Shutdown, create_app

#: Seconds an idle keep-alive connection is kept open (uvicorn's default, stated here).
KEEP_ALIVE = 5
#: The largest request head (request line and headers) accepted; larger is a 400.
MAX_HEAD_BYTES = 16 * 1024

log = logging.getLogger(__name__)


class HeadTimeoutProtocol(H11Protocol):
    """uvicorn's HTTP/1.1 protocol with a deadline for each request head and JSON for its 400s.

    The deadline starts when a connection opens, and again with the first byte of each later
    request on it (an idle keep-alive connection is uvicorn's to close); it ends when h11 has
    the whole head.
    """

    def __init__(self, *args: Any, head_timeout: float = DEFAULT_TIMEOUT, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.head_timeout = head_timeout
        self.head_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self.head_timer = self.loop.call_later(self.head_timeout, self.head_timed_out)

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        waiting_for_head = self.conn.their_state is h11.IDLE and not self.transport.is_closing()
        if not waiting_for_head:
            self.cancel_head_timer()
        elif self.head_timer is None:
            self.head_timer = self.loop.call_later(self.head_timeout, self.head_timed_out)

    def connection_lost(self, exc: Exception | None) -> None:
        self.cancel_head_timer()
        super().connection_lost(exc)

    def cancel_head_timer(self) -> None:
        if self.head_timer is not None:
            self.head_timer.cancel()
            self.head_timer = None

    def head_timed_out(self) -> None:
        self.head_timer = None
        if self.transport.is_closing() or self.conn.their_state is not h11.IDLE:
            return
        client = f"{self.client[0]}:{self.client[1]}" if self.client else "a client"
        log.info("closed the connection from %s: no complete request head in %g s", client, self.head_timeout)
        message = (
            f"the request line and headers did not arrive within {self.head_timeout:g} s; send them at once"
        )
        self.write_error(408, "Request Timeout", message)

    def send_400_response(self, msg: str) -> None:
        self.write_error(
            400,
            "Bad Request",
            "the request is not valid HTTP/1.1 (its request line, a header or its Content-Length is "
            f"malformed, or the head is over {MAX_HEAD_BYTES} bytes); send a well-formed request",
        )

    def write_error(self, status: int, reason: str, message: str) -> None:
        """Answer ``{"error": message}`` outside h11's state machine, then close the connection."""
        body = json.dumps({"error": message}).encode()
        head = (
            f"HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\n"
            f"content-length: {len(body)}\r\nconnection: close\r\n\r\n"
        )
        self.transport.write(head.encode("ascii") + body)
        self.transport.close()


class StoppingServer(uvicorn.Server):
    """uvicorn's server that, as it starts to shut down, answers the bodies still arriving with a 503.

    Without this a slow upload outlives the shutdown grace and is cancelled, and the client
    reads uvicorn's plain-text 500 while the log shows a traceback.
    """

    def __init__(self, config: uvicorn.Config, stopping: Shutdown) -> None:
        super().__init__(config)
        self.stopping = stopping

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        self.stopping.begin()
        await super().shutdown(sockets)


def log_config(level: str) -> dict[str, Any]:
    """uvicorn's logging set-up, extended to this package's loggers at the same level.

    uvicorn configures only its own loggers, so without this the app's lines (such as
    "model ... loaded; ready") would never be printed.
    """
    import uvicorn.config

    config = copy.deepcopy(uvicorn.config.LOGGING_CONFIG)
    ours = logging.DEBUG if level.lower() == "trace" else level.upper()
    config["loggers"]["fmnist_report"] = {"handlers": ["default"], "level": ours, "propagate": False}
    return config


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
    max_batch: int | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    log_level: str = "info",
    on_listen: Callable[[str], None] | None = None,
) -> None:
    """Serve until SIGTERM or SIGINT, then finish in-flight requests and return normally.

    Args:
        timeout: seconds a request head may take to arrive, and a body may pause (408 after).
    """
    sock = bind(host, port)
    actual_port = sock.getsockname()[1]
    app = create_app(model_dir, max_bytes=max_bytes, max_batch=max_batch, timeout=timeout)
    config = uvicorn.Config(
        app,
        host=host,
        port=actual_port,
        http=functools.partial(HeadTimeoutProtocol, head_timeout=timeout),  # type: ignore[arg-type]
        log_level=log_level,
        log_config=log_config(log_level),
        lifespan="on",
        timeout_keep_alive=KEEP_ALIVE,
        timeout_graceful_shutdown=30,
        h11_max_incomplete_event_size=MAX_HEAD_BYTES,
    )
    server = StoppingServer(config, app.state.shutdown)

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
