"""`workbench serve`: check the settings, prepare the served folder, then serve or write a Docker folder."""

from __future__ import annotations

import math
import sys
import tempfile
from pathlib import Path

from workbench.errors import ServeError


def serve_command(target: str, *, host: str = "127.0.0.1", port: int = 8000, variant: str | None = None,
                  workers: int = 1, max_batch: int = 32, max_wait_ms: float = 2.0, max_body_mb: float = 8.0,
                  dockerfile_dir: str | None = None) -> int:
    """The CLI's serve subcommand; ServeError names the option that is out of range."""
    if not 0 <= port <= 65535:
        raise ServeError(f"--port must be from 0 to 65535, got {port}")
    if workers < 1:
        raise ServeError(f"--workers must be at least 1, got {workers}")
    if not 1 <= max_batch <= 4096:
        raise ServeError(f"--max-batch must be from 1 to 4096, got {max_batch}")
    if not math.isfinite(max_wait_ms) or not 0 <= max_wait_ms <= 1000:
        raise ServeError(f"--max-wait-ms must be from 0 to 1000, got {max_wait_ms}")
    if not math.isfinite(max_body_mb) or not 0 < max_body_mb <= 1024:
        raise ServeError(f"--max-body-mb must be more than 0 and at most 1024, got {max_body_mb}")
    try:
        import fastapi  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError:
        raise ServeError("serving needs FastAPI and uvicorn: pip install 'workbench[serve]'") from None
    from workbench.serve.app import ServeSettings

    settings = ServeSettings(max_batch=max_batch, max_wait_ms=max_wait_ms, max_body_mb=max_body_mb)
    if dockerfile_dir:
        from workbench.serve.docker import write_docker_folder

        dockerfile = write_docker_folder(target, dockerfile_dir, variant, workers, settings)
        print(f"wrote {dockerfile} (and requirements.txt, model/, serve_app/); build it with: "
              f"docker build -t model {dockerfile.parent}")
        return 0
    from workbench.serve.prepare import prepare_target
    from workbench.serve.server import serve

    with tempfile.TemporaryDirectory(prefix="workbench-serve-") as work:
        folder = prepare_target(target, Path(work) / "model", variant)
        try:
            serve(folder, host, port, workers, settings)
        except KeyboardInterrupt:
            print("stopped", file=sys.stderr)
    return 0
