"""The batcher: concurrent requests share model calls, each gets its own rows, failures reach all."""

from __future__ import annotations

import asyncio
import threading

import numpy as np
import pytest

from fmnist_report.serving.batcher import Batcher


class GatedModel:
    """A stand-in model: row i of the output is the mean pixel of image i, repeated; each call
    blocks until the test opens the gate, so that requests can pile up behind it."""

    def __init__(self) -> None:
        self.calls: list[int] = []
        self.gate = threading.Event()
        self.started = threading.Event()

    def __call__(self, x: np.ndarray) -> np.ndarray:
        self.calls.append(len(x))
        self.started.set()
        assert self.gate.wait(10), "the test never opened the gate"
        return np.repeat(x.reshape(len(x), -1).mean(axis=1, keepdims=True), 10, axis=1)


def images(n: int, level: float) -> np.ndarray:
    return np.full((n, 28, 28, 1), level, np.float32)


async def gather_behind_first_call(batcher: Batcher, model: GatedModel, sizes: list[int]) -> list[np.ndarray]:
    """Send one request, wait until the model is busy with it, queue the rest, then let all run."""
    first = asyncio.create_task(batcher.predict(images(sizes[0], 0.0)))
    await asyncio.to_thread(model.started.wait, 10)
    rest = [asyncio.create_task(batcher.predict(images(n, (i + 1) / 10))) for i, n in enumerate(sizes[1:])]
    await asyncio.sleep(0.05)  # let every request reach the queue
    model.gate.set()
    return await asyncio.gather(first, *rest)


def test_waiting_requests_run_in_one_call_and_get_their_own_rows():
    model = GatedModel()

    async def scenario() -> list[np.ndarray]:
        batcher = Batcher(model, max_images=512)
        batcher.start()
        try:
            return await gather_behind_first_call(batcher, model, [1, 2, 3, 1])
        finally:
            await batcher.stop()

    results = asyncio.run(scenario())
    assert model.calls == [1, 6]  # the three that waited went in together
    assert [r.shape for r in results] == [(1, 10), (2, 10), (3, 10), (1, 10)]
    for i, rows in enumerate(results):
        np.testing.assert_allclose(rows, i / 10)


def test_a_call_never_gathers_more_than_the_cap():
    model = GatedModel()

    async def scenario() -> None:
        batcher = Batcher(model, max_images=4)
        batcher.start()
        try:
            await gather_behind_first_call(batcher, model, [1, 3, 3, 5])
        finally:
            await batcher.stop()

    asyncio.run(scenario())
    assert model.calls == [1, 3, 3, 5]  # 3+3 > 4; a batch of 5 alone still runs, in one call


def test_a_failure_reaches_every_waiting_request_and_the_batcher_goes_on():
    calls = []

    def flaky(x: np.ndarray) -> np.ndarray:
        calls.append(len(x))
        if len(calls) == 1:
            raise RuntimeError("boom")
        return np.zeros((len(x), 10), np.float32)

    async def scenario() -> np.ndarray:
        batcher = Batcher(flaky, max_images=8)
        batcher.start()
        try:
            with pytest.raises(RuntimeError, match="boom"):
                await batcher.predict(images(2, 0.5))
            return await batcher.predict(images(3, 0.5))
        finally:
            await batcher.stop()

    assert asyncio.run(scenario()).shape == (3, 10)
    assert calls == [2, 3]


def test_stop_fails_what_is_still_waiting_and_refuses_new_work():
    model = GatedModel()

    async def scenario() -> None:
        batcher = Batcher(model, max_images=8)
        batcher.start()
        first = asyncio.create_task(batcher.predict(images(1, 0.0)))
        await asyncio.to_thread(model.started.wait, 10)
        queued = asyncio.create_task(batcher.predict(images(1, 0.0)))
        await asyncio.sleep(0.05)
        stopping = asyncio.create_task(batcher.stop())
        await asyncio.sleep(0.05)
        model.gate.set()  # the call in its thread finishes; nobody is left to take its result
        await stopping
        for task in (first, queued):
            with pytest.raises(RuntimeError, match="shutting down"):
                await task
        with pytest.raises(RuntimeError, match="not running"):
            await batcher.predict(images(1, 0.0))

    asyncio.run(scenario())
    with pytest.raises(ValueError, match="at least 1"):
        Batcher(GatedModel(), max_images=0)
