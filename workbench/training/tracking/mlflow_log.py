"""MLflow tracking for a run: parameters, per-epoch metrics, the run's files, the exported ONNX.

The MLflow run is named after the run folder, in an experiment named after the project, at the
tracking URI the settings give (`mlflow_uri`; default `sqlite:///<runs folder>/mlflow.db`: MLflow 3
refuses plain-file stores). A new experiment in a SQLite database keeps its artifacts in
`mlartifacts/` beside the database. Open it
with `mlflow ui --backend-store-uri sqlite:///runs/mlflow.db` (the full mlflow package).

- parameters: every training setting (`training.lr`...), the project, dataset, task and size;
- metrics per epoch: train_loss, val_loss, the validation metrics and the learning rate;
- artifacts when the run ends: summary.json (with the cost record), metrics.jsonl,
  project.json and data.json; the run ends FINISHED, KILLED (stopped) or FAILED;
- a resumed run (its folder's tracking.json names the MLflow run) continues the same MLflow run;
- `workbench export` of the run later adds its ONNX files under `model/` and its report
  (`log_export`), found through RUN_DIR/tracking.json.

Every call to MLflow happens on one background thread fed by a queue (a database or a server
round trip per call would otherwise stall the training loop); `close()` waits for it.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from workbench.files import write_json_atomic
from workbench.training.events import EpochEvent, Event, FailedEvent, FinishedEvent, ResumedEvent
from workbench.training.tracking import hyperparameters

log = logging.getLogger(__name__)

TRACKING_FILE = "tracking.json"  # in the run folder: where the run was logged
DB_NAME = "mlflow.db"
ARTIFACTS = "mlartifacts"
RUN_FILES = ("summary.json", "metrics.jsonl", "project.json", "data.json")
CLOSE_TIMEOUT_S = 120.0
_STATUS = {"finished": "FINISHED", "early_stopped": "FINISHED", "stopped": "KILLED", "failed": "FAILED"}


def default_uri(run_dir: Path) -> str:
    """sqlite:///<the folder holding the run folder>/mlflow.db."""
    return f"sqlite:///{(Path(run_dir).resolve().parent / DB_NAME).as_posix()}"


def artifact_location(uri: str) -> str | None:
    """A new experiment's artifact folder: beside a local SQLite database (MLflow's own default,
    ./mlruns, would land in whatever folder the command ran from); a server's choice otherwise."""
    prefix = "sqlite:///"
    if not uri.startswith(prefix) or uri == prefix + ":memory:":
        return None
    return (Path(uri[len(prefix):]).resolve().parent / ARTIFACTS).as_uri()


class MlflowLogger:
    """Listener logging one run to MLflow (see the module docstring)."""

    def __init__(self, run_dir: Path, prepared: Any, uri: str | None = None) -> None:
        self.run_dir = Path(run_dir)
        self.uri = uri or default_uri(self.run_dir)
        self.experiment = prepared.project.name
        self.params = hyperparameters(prepared)
        self.run_id: str | None = None
        self.status = "FINISHED"
        self._jobs: queue.Queue[Callable[[], None] | None] = queue.Queue()
        self._broken = False
        self._thread = threading.Thread(target=self._work, name="mlflow-logger", daemon=True)
        self._thread.start()
        self._jobs.put(self._open)

    # ---- events (training thread) --------------------------------------------------------

    def __call__(self, event: Event) -> None:
        if isinstance(event, EpochEvent):
            values = {"train_loss": event.train_loss, "lr": event.lr, "elapsed_s": event.elapsed_s,
                      **event.val_metrics}
            if event.val_loss is not None:
                values["val_loss"] = event.val_loss
            stamp = int(time.time() * 1000)
            self._jobs.put(lambda: self._log_metrics(values, event.epoch, stamp))
        elif isinstance(event, FinishedEvent):
            self.status = _STATUS.get(event.status, "FINISHED")
        elif isinstance(event, FailedEvent):
            self.status = "FAILED"
        elif isinstance(event, ResumedEvent):
            # MLflow keeps every value it was sent; the epochs done again are logged again at
            # the same step, and the newest value is the one its charts show.
            log.info("MLflow: resumed at epoch %d; later epochs are logged again", event.epoch)

    def close(self, run_dir: Path | None = None) -> None:
        """Send the run's files, end the MLflow run, and wait for the thread to finish."""
        self._jobs.put(self._finish)
        self._jobs.put(None)
        self._thread.join(CLOSE_TIMEOUT_S)
        if self._thread.is_alive():
            log.warning("MLflow at %s did not answer within %.0f s; the run's last records may be missing",
                        self.uri, CLOSE_TIMEOUT_S)

    # ---- the thread ----------------------------------------------------------------------

    def _work(self) -> None:
        while True:
            job = self._jobs.get()
            if job is None:
                return
            if self._broken:
                continue
            try:
                job()
            except Exception as exc:  # a server that went away: the run goes on without it
                self._broken = True
                log.warning("MLflow logging to %s stopped: %s", self.uri, exc)

    def _open(self) -> None:
        from mlflow import MlflowClient
        from mlflow.entities import Param

        self.client = MlflowClient(tracking_uri=self.uri)
        earlier = tracking_record(self.run_dir)
        if earlier is not None and earlier["tracking_uri"] == self.uri:
            # The run folder was logged before: a resumed run continues its MLflow run.
            self.run_id = earlier["run_id"]
            self.client.update_run(self.run_id, status="RUNNING")
            return
        experiment = self.client.get_experiment_by_name(self.experiment)
        if experiment is not None:
            experiment_id = experiment.experiment_id
        else:
            experiment_id = self.client.create_experiment(self.experiment, artifact_location=artifact_location(self.uri))
        run = self.client.create_run(experiment_id, run_name=self.run_dir.name,
                                     tags={"workbench.run_dir": str(self.run_dir.resolve())})
        self.run_id = run.info.run_id
        params = [Param(k, str(v)) for k, v in self.params.items()]
        self.client.log_batch(self.run_id, params=params)
        write_json_atomic(self.run_dir / TRACKING_FILE,
                          {"mlflow": {"tracking_uri": self.uri, "experiment_id": experiment_id, "run_id": self.run_id}})

    def _log_metrics(self, values: dict[str, float], step: int, stamp: int) -> None:
        from mlflow.entities import Metric

        assert self.run_id is not None
        metrics = [Metric(k, float(v), stamp, step) for k, v in values.items() if v is not None]
        self.client.log_batch(self.run_id, metrics=metrics)

    def _finish(self) -> None:
        assert self.run_id is not None
        for name in RUN_FILES:
            path = self.run_dir / name
            if path.is_file():
                self.client.log_artifact(self.run_id, str(path))
        self.client.set_terminated(self.run_id, self.status)


def tracking_record(run_dir: Path) -> dict[str, Any] | None:
    """RUN_DIR/tracking.json's MLflow record ({tracking_uri, experiment_id, run_id}), or None."""
    try:
        record = json.loads((Path(run_dir) / TRACKING_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    entry = record.get("mlflow") if isinstance(record, dict) else None
    if not isinstance(entry, dict) or not all(isinstance(entry.get(k), str) for k in ("tracking_uri", "run_id")):
        return None
    return entry


def log_export(run_dir: str | Path, out_dir: str | Path) -> bool:
    """Add an export's ONNX files (under `model/`) and its report to the run's MLflow run, when
    the run was logged to MLflow; True when something was sent. Problems are logged, not raised:
    the export itself succeeded."""
    entry = tracking_record(Path(run_dir))
    out = Path(out_dir)
    if entry is None:
        return False
    try:
        from mlflow import MlflowClient
    except ImportError:
        log.warning("the run was logged to MLflow but mlflow cannot be imported; the export is not logged")
        return False
    try:
        client = MlflowClient(tracking_uri=entry["tracking_uri"])
        sent = False
        for onnx in sorted(out.rglob("*.onnx")):
            client.log_artifact(entry["run_id"], str(onnx), artifact_path="model")
            sent = True
        for name in ("report.json", "report.md"):
            if (out / name).is_file():
                client.log_artifact(entry["run_id"], str(out / name), artifact_path="export")
                sent = True
        return sent
    except Exception as exc:
        log.warning("MLflow: the export could not be logged to %s: %s", entry["tracking_uri"], exc)
        return False
