"""Dynamic batching: requests that arrive together share one onnxruntime call.

Each request puts its prepared samples on an asyncio queue with a future. One worker task takes
the first waiting item, gathers more until `max_batch` samples, runs the session once in a
thread (the event loop keeps accepting requests meanwhile) and splits the outputs back to the
futures. A request larger than `max_batch` runs alone.

The worker waits for company (up to `max_wait_s`) only while other requests are on their way
in: announced by `arriving()` when their body starts, not yet queued. With none arriving,
waiting cannot fill the batch (under closed-loop load every client is waiting for this very
answer), so the batch runs at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np


@dataclass
class _Item:
    x: np.ndarray
    future: asyncio.Future[np.ndarray]


class Batcher:
    """Gathers concurrent `infer` calls into batched runs of `run`."""

    def __init__(self, run: Callable[[np.ndarray], np.ndarray], max_batch: int = 32, max_wait_s: float = 0.002,
                 on_batch: Callable[[int], None] | None = None) -> None:
        self.run = run
        self.max_batch = max(1, max_batch)
        self.max_wait_s = max(0.0, max_wait_s)
        self.on_batch = on_batch
        self._queue: asyncio.Queue[_Item] | None = None
        self._task: asyncio.Task[None] | None = None
        self._arriving = 0  # requests reading or preparing their body, not yet queued

    @contextlib.contextmanager
    def arriving(self) -> Iterator[None]:
        """Around reading and preparing a request: batches wait for it (up to max_wait_s)."""
        self._arriving += 1
        try:
            yield
        finally:
            self._arriving -= 1

    def start(self) -> None:
        """Start the worker task on the running loop."""
        self._queue = asyncio.Queue()
        self._task = asyncio.get_running_loop().create_task(self._work())

    async def stop(self) -> None:
        """Finish what is queued, then stop the worker."""
        if self._queue is not None:
            await self._queue.join()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def submit(self, x: np.ndarray) -> asyncio.Future[np.ndarray]:
        """Queue `x` (N, ...) now; the future gets its outputs, run with other waiting requests."""
        if self._queue is None:
            raise RuntimeError("the batcher is not started")
        future: asyncio.Future[np.ndarray] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait(_Item(x, future))
        return future

    async def infer(self, x: np.ndarray) -> np.ndarray:
        """The model's outputs for `x` (N, ...), run together with other waiting requests."""
        return await self.submit(x)

    async def _work(self) -> None:
        assert self._queue is not None
        queue = self._queue
        carry: _Item | None = None
        while True:
            first = carry if carry is not None else await queue.get()
            carry = None
            items, size = [first], len(first.x)
            deadline = time.perf_counter() + self.max_wait_s
            while size < self.max_batch:
                try:
                    nxt = queue.get_nowait()
                except asyncio.QueueEmpty:
                    if self._arriving == 0 or time.perf_counter() >= deadline:
                        break
                    await asyncio.sleep(0)  # let the arriving requests' handlers run
                    continue
                if size + len(nxt.x) > self.max_batch:
                    carry = nxt  # starts the next batch
                    break
                items.append(nxt)
                size += len(nxt.x)
            await self._run(items, size)
            for _ in items:
                queue.task_done()

    async def _run(self, items: list[_Item], size: int) -> None:
        x = items[0].x if len(items) == 1 else np.concatenate([i.x for i in items])
        try:
            out = await asyncio.to_thread(self.run, x)
        except Exception as exc:  # noqa: BLE001 - each waiting request gets the failure
            for item in items:
                if not item.future.done():
                    item.future.set_exception(exc)
            return
        if self.on_batch is not None:
            self.on_batch(size)
        start = 0
        for item in items:
            n = len(item.x)
            if not item.future.done():
                item.future.set_result(out[start:start + n])
            start += n
