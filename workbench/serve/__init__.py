"""Serving a trained model over HTTP: `workbench serve TARGET`.

The runtime modules (`card`, `inputs`, `generate`, `metrics`, `batcher`, `app`, `server`) import
only the standard library, numpy, Pillow, onnxruntime, FastAPI and uvicorn, and import each other
relatively: `--write-dockerfile` copies them into an image that has no torch and no Qt. `prepare`
(run or export folder -> a served folder) and `docker` belong to Workbench and may use all of it.

A served folder holds `model.onnx` and `serve.json`, the model card: what the model reads, how a
request's values become its input (the run's table encoding or image preprocessing), what its
outputs mean, and where it came from (variant, accuracy, sha256).
"""

from __future__ import annotations

RUNTIME_MODULES = ("card", "inputs", "generate", "metrics", "batcher", "app", "server")
