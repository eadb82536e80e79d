"""Serving throughput: `workbench serve` beside itself without batching and a plain FastAPI app.

    python -m workbench.bench.serving [--quick]

The digits-cnn preset's network (its weights as built: speed does not depend on them) is
exported to ONNX and served on loopback by a separate process, one server at a time, each with
one onnxruntime intra-op thread. 32 concurrent clients (asyncio, keep-alive HTTP/1.1, one
sample per request body) send the same requests to each:

- `serve_requests_per_s`, `serve_p99_ms`: `workbench serve`'s app with dynamic batching
  (max batch 32, max wait 2 ms): answered requests per second, and the 99th percentile of the
  clients' round trip.
- `serve_batching_gain`: requests per second with batching ÷ the same app with batching off
  (every request its own onnxruntime call). Goal ≥ 1.5.
- `serve_vs_plain_fastapi`: requests per second ÷ a plain FastAPI endpoint written here (a sync
  handler, run in FastAPI's thread pool, that parses the body, standardises it, calls
  onnxruntime for that one request and answers class and probability). Goal ≥ 1.2.

Rounds alternate the servers; each figure is the median over rounds, after a warm-up.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from workbench.bench.common import median, percentile, run_alone

CLIENTS = 32
SERVERS = ("batching", "no_batching", "plain")


def make_model(folder: Path) -> Path:
    """The digits-cnn network as model.onnx + serve.json in `folder`."""
    import torch

    from workbench.export.onnx_export import export_onnx
    from workbench.graph.builder import build_model
    from workbench.presets import load_preset
    from workbench.serve.card import ModelCard, file_sha256

    torch.manual_seed(0)
    model = build_model(load_preset("digits-cnn").graph, seed=0).eval()
    shape = tuple(model.input_spec.shape)
    folder.mkdir(parents=True, exist_ok=True)
    export_onnx(model, folder / "model.onnx", torch.rand(2, *shape), opset=18, metadata={})
    ModelCard(task="classification", loss="cross_entropy", input_shape=shape, input_dtype="float32", kind="array",
              class_names=[str(i) for i in range(10)], normalization={"mean": [0.3], "std": [0.37]},
              project_name="digits-cnn", sha256=file_sha256(folder / "model.onnx")).write(folder)
    return folder


def plain_app(folder: Path) -> Any:
    """What one writes without a batcher: parse, standardise, run onnxruntime per request."""
    import onnxruntime as ort
    from fastapi import FastAPI

    card = json.loads((folder / "serve.json").read_text())
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    session = ort.InferenceSession(str(folder / "model.onnx"), options, providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    mean, std = card["normalization"]["mean"][0], card["normalization"]["std"][0]
    classes = card["class_names"]
    app = FastAPI()

    @app.get("/health")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/predict")
    def predict(body: dict[str, Any]) -> dict[str, Any]:
        x = ((np.asarray(body["instances"], dtype=np.float32) - mean) / std).reshape(-1, *card["input_shape"])
        logits = session.run(None, {name: x.astype(np.float32)})[0]
        e = np.exp(logits - logits.max(axis=1, keepdims=True))
        probs = e / e.sum(axis=1, keepdims=True)
        return {"predictions": [{"class": classes[int(p.argmax())], "probability": float(p.max())} for p in probs]}

    return app


def _serve_main(kind: str, folder: str, port: int) -> None:
    """The server process: one of SERVERS on 127.0.0.1:port until terminated."""
    import uvicorn

    if kind == "plain":
        app = plain_app(Path(folder))
    else:
        from workbench.serve.app import ServeSettings, create_app

        app = create_app(folder, ServeSettings(max_batch=32, max_wait_ms=2.0, threads=1, batching=kind == "batching"))
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class _Server:
    """A server process, started and waited for; stopped on exit."""

    def __init__(self, kind: str, folder: Path) -> None:
        self.port = _free_port()
        env = {**os.environ, "OMP_NUM_THREADS": "1"}
        self.process = subprocess.Popen([sys.executable, "-m", "workbench.bench.serving", "--serve", kind,
                                         str(folder), str(self.port)], env=env,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def __enter__(self) -> _Server:
        deadline = time.monotonic() + 120
        while True:
            try:
                status, _ = asyncio.run(_one(self.port, "GET", "/health", b""))
                if status == 200:
                    return self
            except OSError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                err = self.process.stderr.read().decode(errors="replace") if self.process.stderr else ""
                self.__exit__()
                raise RuntimeError(f"the benchmark server did not start: {err.strip()[-300:]}")
            time.sleep(0.1)

    def __exit__(self, *_: Any) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def _request(method: str, path: str, body: bytes) -> bytes:
    return (f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\nConnection: keep-alive\r\n\r\n").encode() + body


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    length = next(int(line.split(":", 1)[1]) for line in lines[1:] if line.lower().startswith("content-length:"))
    return status, await reader.readexactly(length)


async def _one(port: int, method: str, path: str, body: bytes) -> tuple[int, bytes]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(_request(method, path, body))
        await writer.drain()
        return await _read_response(reader)
    finally:
        writer.close()


async def _load(port: int, bodies: list[bytes]) -> tuple[float, list[float]]:
    """All `bodies` sent by CLIENTS keep-alive connections; (seconds, round trips in ms)."""
    queue = list(reversed(bodies))
    latencies: list[float] = []

    async def client() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            while queue:
                body = queue.pop()
                start = time.perf_counter()
                writer.write(_request("POST", "/predict", body))
                await writer.drain()
                status, answer = await _read_response(reader)
                if status != 200 or b'"class"' not in answer:
                    raise RuntimeError(f"the server answered {status}: {answer[:200]!r}")
                latencies.append((time.perf_counter() - start) * 1000.0)
        finally:
            writer.close()

    start = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(CLIENTS)))
    return time.perf_counter() - start, latencies


def measure(quick: bool = False, smoke: bool = False) -> dict[str, float]:
    requests = 64 if smoke else 600 if quick else 2000
    rounds = 1 if smoke else 2 if quick else 3
    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as tmp:
        folder = make_model(Path(tmp) / "model")
        shape = json.loads((folder / "serve.json").read_text())["input_shape"]
        bodies = [json.dumps({"instances": [rng.random(shape).round(4).tolist()]}).encode() for _ in range(requests)]
        rates: dict[str, list[float]] = {k: [] for k in SERVERS}
        p99: list[float] = []
        for _ in range(rounds):
            for kind in SERVERS:
                with _Server(kind, folder) as server:
                    asyncio.run(_load(server.port, bodies[: min(len(bodies), 128)]))  # warm-up
                    seconds, latencies = asyncio.run(_load(server.port, bodies))
                rates[kind].append(len(bodies) / seconds)
                if kind == "batching":
                    p99.append(percentile(latencies, 99))
    pairs = list(zip(rates["batching"], rates["no_batching"], rates["plain"]))
    return {
        "serve_requests_per_s": median(rates["batching"]),
        "serve_p99_ms": median(p99),
        "serve_batching_gain": median([a / b for a, b, _ in pairs]),
        "serve_vs_plain_fastapi": median([a / c for a, _, c in pairs]),
        "serve_no_batching_requests_per_s": median(rates["no_batching"]),
        "serve_plain_fastapi_requests_per_s": median(rates["plain"]),
    }


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "--serve":
        _serve_main(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    else:
        run_alone("serving", __doc__.splitlines()[0])
