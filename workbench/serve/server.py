"""Run a served folder with uvicorn: one process, or N worker processes sharing the port.

Each worker loads the model once; onnxruntime's intra-op threads are split so that
workers × threads ≤ cores. uvicorn handles SIGTERM and Ctrl+C: it stops accepting, answers the
requests in flight, runs the app's shutdown (the batcher drains its queue) and exits.
"""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import socket
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from .app import ServeSettings


def threads_per_worker(workers: int, cores: int | None = None) -> int:
    """onnxruntime intra-op threads per worker so that workers × threads ≤ cores."""
    cores = cores or os.cpu_count() or 1
    return max(1, cores // max(1, workers))


def serve(folder: str | Path, host: str = "127.0.0.1", port: int = 8000, workers: int = 1,
          settings: ServeSettings | None = None) -> None:
    """Serve until interrupted; prints the URL when the socket is bound."""
    import uvicorn

    settings = settings or ServeSettings()
    settings = dataclasses.replace(settings, threads=settings.threads or threads_per_worker(workers))
    os.environ["WORKBENCH_SERVE_DIR"] = str(Path(folder).resolve())
    os.environ["WORKBENCH_SERVE_SETTINGS"] = json.dumps(dataclasses.asdict(settings))
    from .card import read_card

    name = read_card(folder).project_name or "the model"
    if port == 0:  # "any free port": choose it here, so that the URL printed is the real one
        with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
            probe.bind((host, 0))
            port = probe.getsockname()[1]
    shown = f"[{host}]" if ":" in host else host
    print(f"Serving {name} at http://{shown}:{port}/ (API docs at /docs); Ctrl+C stops",
          file=sys.stderr, flush=True)
    # uvicorn drains, then raises the signal it caught again: with this handler a SIGTERM
    # (docker stop, systemd) ends the process with status 0 instead of dying by the signal.
    signal.signal(signal.SIGTERM, _exit_cleanly)
    uvicorn.run(f"{__package__}.app:app_from_environment", factory=True, host=host, port=port,
                workers=workers if workers > 1 else None, log_level="warning", timeout_graceful_shutdown=30)


def _exit_cleanly(signum: int, frame: Any) -> None:
    raise SystemExit(0)


@contextmanager
def background_server(app: Any, host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
    """Run an ASGI app with uvicorn in a thread (tests, benchmarks); yields its base URL.

    Port 0 takes a free port. On leaving, the server drains its requests and stops.
    """
    import uvicorn

    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, name="uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            raise RuntimeError("the HTTP server did not start")
        time.sleep(0.01)
    bound = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://{host}:{bound}"
    finally:
        server.should_exit = True
        thread.join(60)


def main(argv: list[str] | None = None) -> int:
    """`python -m serve_app.server FOLDER [--host H] [--port P] ...` inside the Docker image."""
    import argparse

    parser = argparse.ArgumentParser(description="Serve an exported model over HTTP.")
    parser.add_argument("folder", help="folder with model.onnx and serve.json")
    parser.add_argument("--host", default="0.0.0.0")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--max-batch", type=int, default=32)
    parser.add_argument("--max-wait-ms", type=float, default=2.0)
    parser.add_argument("--max-body-mb", type=float, default=8.0)
    args = parser.parse_args(argv)
    from .card import CardError

    try:
        serve(args.folder, args.host, args.port, args.workers,
              ServeSettings(max_batch=args.max_batch, max_wait_ms=args.max_wait_ms, max_body_mb=args.max_body_mb))
    except CardError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
