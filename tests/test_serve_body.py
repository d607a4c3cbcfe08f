"""Reading a request body: the byte limit, the time-outs, draining before a 413, disconnects."""

from __future__ import annotations

import asyncio
import time

import pytest
from starlette.requests import Request

from fmnist_report.serving import serve

GONE = "gone"


def request_with(chunks: list[bytes | str | None], headers: dict[str, str]):
    """A Starlette request whose body arrives as ``chunks``; None stalls, `GONE` disconnects."""
    messages = list(chunks)
    received: list[int] = []

    async def receive():
        if not messages:
            return {"type": "http.disconnect"}
        chunk = messages.pop(0)
        if chunk == GONE:
            return {"type": "http.disconnect"}
        if chunk is None:
            await asyncio.sleep(30)  # longer than any time-out below: the read must give up first
        received.append(len(chunk))
        return {"type": "http.request", "body": chunk, "more_body": bool(messages)}

    scope = {"type": "http", "method": "POST", "path": "/invocations", "headers": []}
    scope["headers"] = [(k.encode(), v.encode()) for k, v in headers.items()]
    return Request(scope, receive), received


def read(request, max_bytes=100, timeout=0.2, deadline=5.0):
    return asyncio.run(serve.read_body(request, serve.BodyLimits(max_bytes, timeout, deadline)))


def test_body_within_the_limit_is_read_whole():
    request, _ = request_with([b"ab", b"", b"cd"], {"content-length": "4"})
    assert read(request) == b"abcd"


@pytest.mark.parametrize("value", ["abc", "-5", "1e3", ""])
def test_a_content_length_that_is_not_a_number_is_400(value):
    request, received = request_with([b"x"], {"content-length": value})
    with pytest.raises(serve.HTTPError, match="is not a whole number of bytes") as refused:
        read(request)
    assert refused.value.status == 400 and received == []


def test_a_body_shorter_than_its_content_length_is_408_within_the_timeout():
    request, _ = request_with([b"x" * 10, None], {"content-length": "50"})
    started = time.monotonic()
    with pytest.raises(
        serve.HTTPError, match=r"stalled after 10 of 50 bytes \(no byte arrived for 0.2 s\)"
    ) as slow:
        read(request, timeout=0.2)
    assert slow.value.status == 408 and slow.value.close and time.monotonic() - started < 2


def test_a_trickling_body_is_stopped_by_the_deadline():
    request, _ = request_with([b"x"] * 5 + [None], {})
    with pytest.raises(serve.HTTPError, match="it took too long") as slow:
        read(request, timeout=10, deadline=0.3)
    assert slow.value.status == 408


def test_an_oversized_body_is_read_to_its_end_before_the_413():
    request, received = request_with([b"x" * 60] * 5, {"content-length": "300"})
    with pytest.raises(serve.HTTPError, match="body of 300 bytes exceeds the limit") as refused:
        read(request, max_bytes=100)
    assert refused.value.status == 413 and not refused.value.close and sum(received) == 300
    streamed, received = request_with([b"x" * 60] * 5, {})  # no Content-Length: counted as it comes
    with pytest.raises(serve.HTTPError, match="body exceeds the limit of 100 bytes") as refused:
        read(streamed, max_bytes=100)
    assert refused.value.status == 413 and not refused.value.close and sum(received) == 300


def test_a_413_closes_the_connection_when_draining_would_not_help(monkeypatch):
    monkeypatch.setattr(serve, "DRAIN_BYTES", 200)
    huge, received = request_with([b"x" * 60] * 5, {"content-length": "300"})
    with pytest.raises(serve.HTTPError) as refused:
        read(huge, max_bytes=100)
    assert refused.value.status == 413 and refused.value.close and received == []
    waiting, received = request_with([b"x" * 60], {"content-length": "150", "expect": "100-continue"})
    with pytest.raises(serve.HTTPError) as refused:
        read(waiting, max_bytes=100)
    assert refused.value.close and received == []  # the client sends nothing until told to


def test_a_client_that_leaves_mid_body_is_told_apart():
    request, _ = request_with([b"x" * 10, GONE], {"content-length": "50"})
    with pytest.raises(serve.ClientGone, match="after 10 of 50 bytes of the body"):
        read(request)
