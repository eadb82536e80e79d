"""Under load: 32 concurrent clients, good and malformed requests mixed, over real HTTP on
loopback. Every good request gets its own right answer, every bad one a 4xx, the server stays
up, and concurrent requests share onnxruntime calls."""

from __future__ import annotations

import asyncio
import re

import httpx
import numpy as np
import onnxruntime as ort
import pytest

from workbench.serve.app import ServeSettings, create_app
from workbench.serve.card import read_card
from workbench.serve.server import background_server as live_server

CLIENTS = 32
PER_CLIENT = 33  # 1,056 requests


def expected_classes(folder, pixels: np.ndarray) -> tuple[list[str], np.ndarray]:
    card = read_card(folder)
    mean, std = card.normalization["mean"][0], card.normalization["std"][0]
    session = ort.InferenceSession(str(folder / card.model_file), providers=["CPUExecutionProvider"])
    logits = session.run(None, {session.get_inputs()[0].name: ((pixels[:, None] - mean) / std).astype(np.float32)})[0]
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    probs = e / e.sum(axis=1, keepdims=True)
    return [card.class_names[k] for k in probs.argmax(axis=1)], probs.max(axis=1)


BAD_BODIES = [b"{oops", b'{"instances": [[1, 2]]}', b'{"instances": [{"image": "%%%"}]}', b'{"instances": []}',
              b'{"instances": [[["x"]]]}', b'{"prompt": "hi"}', b"null"]


def test_a_thousand_mixed_requests_from_32_clients(digits_run, served) -> None:
    folder = served(digits_run)
    rng = np.random.default_rng(0)
    total = CLIENTS * PER_CLIENT
    pixels = rng.random((total, 8, 8))
    names, probs = expected_classes(folder, pixels)
    app = create_app(folder, ServeSettings(max_batch=32, max_wait_ms=5.0))
    bad_count = good_count = 0
    failures: list[str] = []

    async def client(k: int, base: str) -> None:
        nonlocal bad_count, good_count
        async with httpx.AsyncClient(base_url=base, timeout=60.0) as http:
            for j in range(PER_CLIENT):
                i = k * PER_CLIENT + j
                if i % 3 == 2:  # a malformed request
                    body = BAD_BODIES[i % len(BAD_BODIES)]
                    r = await http.post("/predict", content=body, headers={"content-type": "application/json"})
                    if not 400 <= r.status_code < 500 or "error" not in r.json():
                        failures.append(f"bad request {body!r}: {r.status_code} {r.text[:80]}")
                    bad_count += 1
                else:
                    r = await http.post("/predict", json={"instances": [pixels[i].tolist()]})
                    got = r.json()["predictions"][0] if r.status_code == 200 else None
                    if got is None or got["class"] != names[i] or abs(got["probability"] - probs[i]) > 1e-5:
                        failures.append(f"request {i}: {r.status_code} {r.text[:80]}, expected {names[i]}")
                    good_count += 1

    with live_server(app) as base:
        async def everyone() -> None:
            await asyncio.gather(*(client(k, base) for k in range(CLIENTS)))

        asyncio.run(asyncio.wait_for(everyone(), timeout=600))
        health = httpx.get(f"{base}/health", timeout=30)
        metrics = httpx.get(f"{base}/metrics", timeout=30).text

    assert failures == []
    assert good_count + bad_count == total >= 1000 and bad_count > 300
    assert health.status_code == 200
    assert re.search(r'workbench_requests_total\{path="/predict",status="200"\} (\d+)', metrics).group(1) == str(good_count)
    errors = sum(int(n) for n in re.findall(r'workbench_requests_total\{path="/predict",status="4\d\d"\} (\d+)', metrics))
    assert errors == bad_count
    # batching merged concurrent requests: fewer model calls than samples, and some call took several
    calls = int(re.search(r"workbench_batch_size_count (\d+)", metrics).group(1))
    assert int(re.search(r"workbench_batch_size_max (\d+)", metrics).group(1)) > 1
    assert calls < good_count


def test_with_batching_off_every_call_is_one_sample(digits_run, served) -> None:
    folder = served(digits_run)
    app = create_app(folder, ServeSettings(batching=False))

    async def burst(base: str) -> None:
        async with httpx.AsyncClient(base_url=base, timeout=60.0) as http:
            await asyncio.gather(*(http.post("/predict", json={"instances": [[[0.5] * 8] * 8]}) for _ in range(64)))

    with live_server(app) as base:
        asyncio.run(burst(base))
        metrics = httpx.get(f"{base}/metrics", timeout=30).text
    assert "workbench_batch_size_max 1\n" in metrics
    assert "workbench_batch_size_count 64" in metrics


@pytest.mark.parametrize("max_batch", [1, 3])
def test_batches_never_exceed_max_batch(digits_run, served, max_batch) -> None:
    app = create_app(served(digits_run), ServeSettings(max_batch=max_batch, max_wait_ms=20.0))

    async def burst(base: str) -> list[int]:
        async with httpx.AsyncClient(base_url=base, timeout=60.0) as http:
            rs = await asyncio.gather(*(http.post("/predict", json={"instances": [[[0.1] * 8] * 8] * 2})
                                        for _ in range(16)))
            return [r.status_code for r in rs]

    with live_server(app) as base:
        codes = asyncio.run(burst(base))
        metrics = httpx.get(f"{base}/metrics", timeout=30).text
    assert codes == [200] * 16
    # a request of 2 samples runs whole even when max_batch is 1
    assert int(re.search(r"workbench_batch_size_max (\d+)", metrics).group(1)) == max(2, max_batch - max_batch % 2)
