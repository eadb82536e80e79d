"""The training engine: settings, the loop, its events, checkpoints and devices. No Qt here.

    trainer = Trainer(model, bundle, TrainSettings(epochs=10), loss="cross_entropy",
                      listeners=[RunWriter(run_dir)], checkpoint_dir=run_dir)
    result = trainer.run()          # from a worker thread; request_stop()/pause() from another

On several processes or machines (PyTorch DDP): distributed.py is a rank's side (process group,
devices, agreed stops, error files), launcher.py starts a job through torchrun's launcher and
reports its failures in one line, jobs.py runs a job as a child process for the app
(start_distributed_job, follow_metrics / MetricsTail, stop_job).
"""

from __future__ import annotations

from workbench.training.checkpoint import load_checkpoint, save_checkpoint
from workbench.training.devices import DeviceInfo, list_devices, resolve_device
from workbench.training.engine import RunResult, Trainer
from workbench.training.events import (
    EpochEvent,
    Event,
    FailedEvent,
    FinishedEvent,
    Listener,
    StepEvent,
)
from workbench.training.loaders import Loaders, make_loaders
from workbench.training.losses import LOSSES, default_loss, get_loss
from workbench.training.metrics import ValidationMeter, metric_names
from workbench.training.optim import build_optimizer, build_scheduler
from workbench.training.precision import Precision, resolve_precision
from workbench.training.run_writer import RunWriter
from workbench.training.settings import OPTIMIZERS, PRECISIONS, SCHEDULERS, TrainSettings

__all__ = [
    "DeviceInfo",
    "EpochEvent",
    "Event",
    "FailedEvent",
    "FinishedEvent",
    "LOSSES",
    "Listener",
    "Loaders",
    "OPTIMIZERS",
    "PRECISIONS",
    "Precision",
    "RunResult",
    "RunWriter",
    "SCHEDULERS",
    "StepEvent",
    "TrainSettings",
    "Trainer",
    "ValidationMeter",
    "build_optimizer",
    "build_scheduler",
    "default_loss",
    "get_loss",
    "list_devices",
    "load_checkpoint",
    "make_loaders",
    "metric_names",
    "resolve_device",
    "resolve_precision",
    "save_checkpoint",
]
