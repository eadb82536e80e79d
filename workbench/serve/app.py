"""The FastAPI application of a served folder: /predict, /health, /metadata, /metrics and a page.

`create_app` loads the ONNX file once (per worker process) and answers requests in the model's
own terms (see `inputs`). A user's mistake is a 4xx whose body names the field and what was
expected; only a fault of the server itself is a 500.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response

from .batcher import Batcher
from .card import ModelCard, read_card
from .generate import check_settings, generate
from .inputs import InputError, answers, prepare
from .metrics import Metrics

log = logging.getLogger(__name__)

MAX_INSTANCES = 1024  # per request; more belongs in several requests or a batch job


@dataclass(frozen=True)
class ServeSettings:
    """How the server batches and what it accepts."""

    max_batch: int = 32  # samples per onnxruntime call
    max_wait_ms: float = 2.0  # how long the first request of a batch waits for company
    max_body_mb: float = 8.0  # larger request bodies are refused with 413
    threads: int | None = None  # onnxruntime intra-op threads (None: cores / workers)
    batching: bool = True  # off: every request runs alone (for comparison)


class HttpError(Exception):
    """A user's mistake: a status and a message naming the field."""

    def __init__(self, status: int, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.field = status, message, field


class Model:
    """The onnxruntime session of a served folder and its card."""

    def __init__(self, folder: str | Path, threads: int | None = None) -> None:
        import onnxruntime as ort

        self.folder = Path(folder)
        self.card: ModelCard = read_card(self.folder)
        options = ort.SessionOptions()
        options.log_severity_level = 3
        options.intra_op_num_threads = threads or max(1, os.cpu_count() or 1)
        options.inter_op_num_threads = 1
        self.threads = options.intra_op_num_threads
        self.session = ort.InferenceSession(str(self.folder / self.card.model_file), options,
                                            providers=["CPUExecutionProvider"])
        self.input_name = self.session.get_inputs()[0].name

    def run(self, x: np.ndarray) -> np.ndarray:
        """Outputs for a batch (N, *input_shape)."""
        dtype = np.int64 if self.card.input_dtype == "int64" else np.float32
        return np.asarray(self.session.run(None, {self.input_name: x.astype(dtype, copy=False)})[0])


def create_app(folder: str | Path, settings: ServeSettings | None = None) -> FastAPI:
    """The ASGI application serving the model in `folder` (model.onnx + serve.json)."""
    settings = settings or ServeSettings()
    model = Model(folder, settings.threads)
    card = model.card
    metrics = Metrics()
    batcher = Batcher(model.run, settings.max_batch if settings.batching else 1,
                      settings.max_wait_ms / 1000.0 if settings.batching else 0.0, on_batch=metrics.batch)
    limit = int(settings.max_body_mb * 1024 * 1024)

    @asynccontextmanager
    async def lifespan(_: Any) -> AsyncIterator[None]:
        batcher.start()
        yield
        await batcher.stop()  # in-flight requests are answered before the worker ends

    app = FastAPI(title=f"{card.project_name or 'model'} — Workbench", lifespan=lifespan,
                  description=f"A {card.task} model ({card.kind} input), variant {card.variant}.")
    app.state.model = model
    app.state.metrics = metrics
    app.state.settings = settings

    app.add_middleware(_Counter, metrics=metrics)

    @app.exception_handler(HttpError)
    async def user_mistake(_: Request, exc: HttpError) -> JSONResponse:
        body: dict[str, Any] = {"error": exc.message}
        if exc.field:
            body["field"] = exc.field
        return JSONResponse(body, status_code=exc.status)

    @app.get("/health")
    async def health() -> dict[str, Any]:
        """Liveness: the model is loaded."""
        return {"status": "ok", "variant": card.variant}

    @app.get("/metadata")
    async def metadata() -> dict[str, Any]:
        """What the model reads and answers, and where it came from."""
        return metadata_record(model, settings)

    @app.get("/metrics", response_class=PlainTextResponse)
    async def metrics_text() -> str:
        """Prometheus text format: requests, errors, latency, batch sizes."""
        return metrics.render()

    @app.get("/", response_class=HTMLResponse)
    async def page() -> str:
        """A small page to try the model."""
        return resources.files(__package__).joinpath("static/index.html").read_text(encoding="utf-8")

    @app.post("/predict", openapi_extra={"requestBody": {"required": True, "content": {"application/json": {
        "schema": request_schema(card)}}}})
    async def predict(request: Request) -> Response:
        """Answers for `instances` (or one `instance`); a language model takes a `prompt`."""
        start = time.perf_counter()
        if card.kind == "text":
            body = await _read_json(request, limit)
            if not isinstance(body, dict):
                raise HttpError(422, "expected a JSON object such as {\"prompt\": \"...\"}", "body")
            predictions = [await _generate(model, body, "")] if "instances" not in body else [
                await _generate(model, item, f"instances[{i}].") for i, item in
                enumerate(_instances(body))]
        else:
            with batcher.arriving():
                body = await _read_json(request, limit)
                if not isinstance(body, dict):
                    raise HttpError(422, "expected a JSON object such as {\"instances\": [...]}", "body")
                instances = _instances(body)
                try:
                    x = await asyncio.to_thread(prepare, card, instances) if len(instances) > 8 else prepare(card, instances)
                except InputError as exc:
                    raise HttpError(422, str(exc), exc.field) from None
                pending = batcher.submit(x)  # queued before it stops arriving
            outputs = await pending
            predictions = answers(card, outputs)
        answer = {"predictions": predictions, "variant": card.variant,
                  "latency_ms": round((time.perf_counter() - start) * 1000.0, 3)}
        # json.dumps straight away: FastAPI's encoder walks every value of the answer again
        return Response(json.dumps(answer, ensure_ascii=False), media_type="application/json")

    return app


class _Counter:
    """Counts every answer by path and status, and times /predict (a plain ASGI middleware:
    Starlette's BaseHTTPMiddleware costs a task and a stream per request)."""

    def __init__(self, app: Any, metrics: Metrics) -> None:
        self.app, self.metrics = app, metrics

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500
        path = scope.get("path", "")

        async def sending(message: Any) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            self.metrics.request(path if path in _PATHS else "other", status, time.perf_counter() - start)


_PATHS = ("/predict", "/health", "/metadata", "/metrics", "/", "/docs", "/openapi.json")


async def _read_json(request: Request, limit: int) -> Any:
    """The body as JSON, refused with 413 as soon as it passes `limit` bytes."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise HttpError(413, f"the body is {int(declared):,} bytes; this server takes at most {limit:,} "
                             "(start it with a larger --max-body-mb)", "body")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise HttpError(413, f"the body is larger than {limit:,} bytes, the most this server takes "
                                 "(start it with a larger --max-body-mb)", "body")
        chunks.append(chunk)
    try:
        return json.loads(b"".join(chunks))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise HttpError(400, f"the body is not valid JSON ({exc})", "body") from None
    except RecursionError:
        raise HttpError(400, "the body nests JSON too deeply", "body") from None


def _instances(body: dict[str, Any]) -> list[Any]:
    if "instances" in body:
        instances = body["instances"]
        if not isinstance(instances, list) or not instances:
            raise HttpError(422, "expected a non-empty array of samples", "instances")
        if len(instances) > MAX_INSTANCES:
            raise HttpError(422, f"{len(instances):,} samples; send at most {MAX_INSTANCES:,} per request", "instances")
        return instances
    if "instance" in body:
        return [body["instance"]]
    raise HttpError(422, "missing; expected {\"instances\": [sample, ...]} or {\"instance\": sample}", "instances")


async def _generate(model: Model, item: Any, where: str) -> dict[str, Any]:
    card = model.card
    if not isinstance(item, dict):
        raise HttpError(422, "expected an object with a prompt", where.rstrip(".") or "body")
    prompt, tokens = item.get("prompt", ""), item.get("max_tokens", 100)
    temperature, seed = item.get("temperature", 0.8), item.get("seed", 0)
    try:
        check_settings(prompt, tokens, temperature, seed, card.vocab or [])
    except InputError as exc:
        raise HttpError(422, f"{where}{exc}", f"{where}{exc.field}") from None
    text = await asyncio.to_thread(generate, model.run, card.vocab or [], card.input_shape[0], prompt,
                                   tokens, float(temperature), seed)
    return {"text": text, "prompt": prompt, "max_tokens": tokens, "temperature": temperature, "seed": seed}


def request_schema(card: ModelCard) -> dict[str, Any]:
    """JSON schema of a /predict body for this model (for /docs and /metadata)."""
    if card.kind == "text":
        return {"type": "object", "properties": {
            "prompt": {"type": "string"}, "max_tokens": {"type": "integer", "minimum": 1, "default": 100},
            "temperature": {"type": "number", "exclusiveMinimum": 0, "default": 0.8},
            "seed": {"type": ["integer", "null"], "default": 0}}}
    if card.kind == "table":
        props: dict[str, Any] = {}
        for f in (card.encoding or {}).get("features", []):
            props[f["name"]] = ({"type": "number"} if f["kind"] == "numeric"
                                else {"type": "string", "enum": list(f["categories"])})
        sample: dict[str, Any] = {"type": "object", "properties": props, "required": list(props)}
    elif card.kind == "image":
        sample = {"oneOf": [{"type": "string", "description": "base64 PNG or JPEG"},
                            {"type": "object", "properties": {"image": {"type": "string"}}},
                            {"type": "array", "description": "pixels in [0, 1], H×W or H×W×C"}]}
    else:
        sample = {"type": "array", "description": f"numbers of shape {list(card.input_shape)}"}
    return {"type": "object", "properties": {"instances": {"type": "array", "items": sample, "minItems": 1,
                                                           "maxItems": MAX_INSTANCES}}, "required": ["instances"]}


def metadata_record(model: Model, settings: ServeSettings) -> dict[str, Any]:
    """The /metadata answer."""
    card = model.card
    return {
        "project": card.project_name,
        "task": card.task,
        "kind": card.kind,
        "loss": card.loss,
        "input": {"shape": list(card.input_shape), "dtype": card.input_dtype, "schema": request_schema(card)},
        "classes": card.class_names,
        "features": [{k: v for k, v in f.items() if k in ("name", "kind", "categories")}
                     for f in (card.encoding or {}).get("features", [])] or None,
        "preprocessing": card.preprocessing,
        "normalization": card.normalization,
        "vocab_size": len(card.vocab) if card.vocab else None,
        "model_file": card.model_file,
        "sha256": card.sha256,
        "variant": card.variant,
        "accuracy": card.accuracy,
        "batching": {"max_batch": settings.max_batch if settings.batching else 1,
                     "max_wait_ms": settings.max_wait_ms if settings.batching else 0.0,
                     "threads": model.threads},
        "max_body_mb": settings.max_body_mb,
    }


def app_from_environment() -> Any:
    """App factory for uvicorn's worker processes: the folder and settings come from the environment."""
    folder = os.environ["WORKBENCH_SERVE_DIR"]
    raw = json.loads(os.environ.get("WORKBENCH_SERVE_SETTINGS", "{}"))
    return create_app(folder, ServeSettings(**raw))
