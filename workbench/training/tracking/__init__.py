"""Runs logged to other tools: TensorBoard event files and MLflow tracking.

Both are optional (`pip install 'workbench[tracking]'` adds tensorboard and mlflow-skinny) and
chosen per run: the run settings `log_tensorboard` / `log_mlflow` (and `mlflow_uri`), which the
command line sets from `--log tensorboard,mlflow` and `--mlflow-uri`. A logger is a listener of
the engine's events, like the run writer, with a `close(run_dir)` that `runs.train_project` calls
once summary.json is complete. Asking for a logger whose package is missing fails before the
run starts, with a TrackingError naming what to install.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from workbench.errors import TrackingError

log = logging.getLogger(__name__)

BACKENDS = ("tensorboard", "mlflow")
INSTALL = "pip install 'workbench[tracking]'"
# What each backend imports, and the package that provides it.
_NEEDS = {"tensorboard": (("tensorboard", "tensorboard"), ("torch.utils.tensorboard", "tensorboard")),
          "mlflow": (("mlflow", "mlflow-skinny"),)}


def parse_backends(values: str | Iterable[str] | None, where: str = "--log") -> tuple[str, ...]:
    """`tensorboard,mlflow` (or a list of such texts, as a repeated option gives) -> the names,
    in BACKENDS order; TrackingError for an unknown one."""
    if values is None:
        return ()
    texts = [values] if isinstance(values, str) else list(values)
    names = {part.strip().lower() for text in texts for part in text.split(",") if part.strip()}
    unknown = sorted(names - set(BACKENDS))
    if unknown:
        raise TrackingError(f"{where} {unknown[0]}: unknown logger; choose from {', '.join(BACKENDS)}")
    return tuple(b for b in BACKENDS if b in names)


def backends_of(settings: Any) -> tuple[str, ...]:
    """The loggers a TrainSettings asks for."""
    return tuple(b for b, on in (("tensorboard", settings.log_tensorboard), ("mlflow", settings.log_mlflow)) if on)


def require(backends: Iterable[str]) -> None:
    """Import what each backend needs; TrackingError naming the package to install otherwise."""
    for backend in backends:
        for module, package in _NEEDS[backend]:
            try:
                importlib.import_module(module)
            except ImportError as exc:
                raise TrackingError(f"logging to {backend} needs the {package} package, which cannot be imported "
                                    f"({exc}): {INSTALL}") from None


def make_loggers(settings: Any, run_dir: Path, prepared: Any) -> list[Any]:
    """The loggers `settings` asks for, ready to listen to a run of `prepared` into `run_dir`."""
    backends = backends_of(settings)
    require(backends)
    loggers: list[Any] = []
    if "tensorboard" in backends:
        from workbench.training.tracking.tensorboard_log import TensorBoardLogger

        loggers.append(TensorBoardLogger(run_dir, prepared))
    if "mlflow" in backends:
        from workbench.training.tracking.mlflow_log import MlflowLogger

        loggers.append(MlflowLogger(run_dir, prepared, settings.mlflow_uri))
    return loggers


def hyperparameters(prepared: Any) -> dict[str, Any]:
    """The run's settings and what it trains, flat, as both tools want their parameters."""
    project = prepared.project
    params: dict[str, Any] = {f"training.{k}": v for k, v in project.training.to_dict().items()}
    params["project"] = project.name
    params["dataset"] = project.dataset.path or project.dataset.source
    params["task"] = prepared.data.task
    params["parameters"] = sum(p.numel() for p in prepared.model.parameters())
    return params
