"""`workbench serve --write-dockerfile DIR`: a folder that builds an image serving the model.

DIR gets model/ (the ONNX file and serve.json), serve_app/ (the runtime modules of this package
and its page, copied as they are: they import only onnxruntime, numpy, Pillow, FastAPI and
uvicorn), requirements.txt pinned to the versions running here, and a Dockerfile. No torch, no Qt.
"""

from __future__ import annotations

import shutil
from importlib import metadata, resources
from pathlib import Path

from workbench.errors import ServeError
from workbench.serve import RUNTIME_MODULES
from workbench.serve.app import ServeSettings
from workbench.serve.prepare import prepare_target

APP_PACKAGE = "serve_app"
REQUIREMENTS = ("onnxruntime", "numpy", "pillow", "fastapi", "uvicorn")

DOCKERFILE = """\
# Serves {project} ({variant}) with onnxruntime behind FastAPI; written by `workbench serve --write-dockerfile`.
#   docker build -t {tag} .
#   docker run --rm -p 8000:8000 {tag}
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /srv
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY {app}/ {app}/
COPY model/ model/
EXPOSE 8000
# uvicorn drains in-flight requests on SIGTERM (docker stop) before it exits.
CMD ["python", "-m", "{app}.server", "model", "--host", "0.0.0.0", "--port", "8000", "--workers", "{workers}", \
"--max-batch", "{max_batch}", "--max-wait-ms", "{max_wait_ms}", "--max-body-mb", "{max_body_mb}"]
"""


def requirements() -> str:
    """requirements.txt: the runtime packages at the versions installed here."""
    lines = []
    for name in REQUIREMENTS:
        try:
            lines.append(f"{name}=={metadata.version(name)}")
        except metadata.PackageNotFoundError:
            lines.append(name)
    return "\n".join(lines) + "\n"


def copy_runtime(dest: Path) -> Path:
    """The runtime modules and the page as a standalone package `serve_app` in `dest`."""
    package = dest / APP_PACKAGE
    (package / "static").mkdir(parents=True, exist_ok=True)
    source = resources.files("workbench.serve")
    (package / "__init__.py").write_text('"""Standalone server of one exported model (copied from Workbench)."""\n',
                                         encoding="utf-8")
    for name in RUNTIME_MODULES:
        (package / f"{name}.py").write_text(source.joinpath(f"{name}.py").read_text(encoding="utf-8"), encoding="utf-8")
    for item in source.joinpath("static").iterdir():
        if item.is_file():
            (package / "static" / item.name).write_bytes(item.read_bytes())
    return package


def write_docker_folder(target: str | Path, out_dir: str | Path, variant: str | None = None, workers: int = 1,
                        settings: ServeSettings | None = None) -> Path:
    """Write the Docker build folder for `target` into `out_dir` and return the Dockerfile's path."""
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise ServeError(f"{out} is a file — give a folder for --write-dockerfile")
    if (out / "model").exists():
        shutil.rmtree(out / "model")
    if (out / APP_PACKAGE).exists():
        shutil.rmtree(out / APP_PACKAGE)
    out.mkdir(parents=True, exist_ok=True)
    folder = prepare_target(target, out / "model", variant)
    copy_runtime(out)
    (out / "requirements.txt").write_text(requirements(), encoding="utf-8")
    from workbench.serve.card import read_card

    card = read_card(folder)
    settings = settings or ServeSettings()
    tag = "".join(c if c.isalnum() or c in "-_." else "-" for c in (card.project_name or "model").lower()) or "model"
    dockerfile = out / "Dockerfile"
    dockerfile.write_text(DOCKERFILE.format(project=card.project_name or "the model", variant=card.variant, tag=tag,
                                            app=APP_PACKAGE, workers=max(1, workers), max_batch=settings.max_batch,
                                            max_wait_ms=settings.max_wait_ms, max_body_mb=settings.max_body_mb),
                          encoding="utf-8")
    (out / ".dockerignore").write_text("**/__pycache__\n", encoding="utf-8")
    return dockerfile
