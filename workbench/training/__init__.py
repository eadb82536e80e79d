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

from workbench.lazy import lazy_exports

# Names resolve on first use (PEP 562): loading a project's settings must not import torch,
# which the engine's modules need.
_EXPORTS = {
    "DeviceInfo": "workbench.training.devices",
    "EpochEvent": "workbench.training.events",
    "Event": "workbench.training.events",
    "FailedEvent": "workbench.training.events",
    "FinishedEvent": "workbench.training.events",
    "LOSSES": "workbench.training.losses",
    "Listener": "workbench.training.events",
    "Loaders": "workbench.training.loaders",
    "OPTIMIZERS": "workbench.training.settings",
    "PRECISIONS": "workbench.training.settings",
    "Precision": "workbench.training.precision",
    "ResumedEvent": "workbench.training.events",
    "RunResult": "workbench.training.engine",
    "RunWriter": "workbench.training.run_writer",
    "SCHEDULERS": "workbench.training.settings",
    "StepEvent": "workbench.training.events",
    "TrainSettings": "workbench.training.settings",
    "Trainer": "workbench.training.engine",
    "ValidationMeter": "workbench.training.metrics",
    "build_optimizer": "workbench.training.optim",
    "build_scheduler": "workbench.training.optim",
    "default_loss": "workbench.training.losses",
    "get_loss": "workbench.training.losses",
    "list_devices": "workbench.training.devices",
    "load_checkpoint": "workbench.training.checkpoint",
    "make_loaders": "workbench.training.loaders",
    "metric_names": "workbench.training.metrics",
    "resolve_device": "workbench.training.devices",
    "resolve_precision": "workbench.training.precision",
    "save_checkpoint": "workbench.training.checkpoint",
}


__getattr__ = lazy_exports(__name__, _EXPORTS)

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
    "ResumedEvent",
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
