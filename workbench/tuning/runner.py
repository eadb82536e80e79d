"""Running a study: each trial is a normal run, trained by the one engine into its own run folder.

A trial takes its values from the search space, trains the project with them through
`runs.train_project` (so it gets the engine's events, checkpoints and summary like any run), then
measures the objectives. Its run folder (runs/tune-<study>/trial-NNNN) holds, besides the usual
files, `trial.json`: the study, the trial number, its values and how it ended; the trial keeps
the folder's path as the user attribute `run_dir`.

With one objective measured per epoch, the engine's epoch events are reported to Optuna and a
hopeless trial is pruned (stopped after that epoch) by the median rule. Optuna cannot prune a
multi-objective study: there every trial runs all its epochs.

`tune` runs the trials in this process, or in K processes sharing the storage (`parallel`).
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from workbench.errors import TuningError, WorkbenchError
from workbench.files import write_json_atomic
from workbench.project import Project
from workbench.tuning.objectives import Objective, epoch_value, measure
from workbench.tuning.space import SearchSpace
from workbench.tuning.study import TrialRecord, open_study, trials_folder

log = logging.getLogger(__name__)

TRIAL_FILE = "trial.json"
PRUNE_STARTUP_TRIALS = 5  # trials that always run to the end, so that the median means something
PRUNE_WARMUP_EPOCHS = 1  # the first epoch of a trial never prunes it


@dataclass(frozen=True)
class TuneOptions:
    """One search: how many trials, what they optimise, over what, and where they are stored."""

    trials: int
    objectives: tuple[Objective, ...]
    space: SearchSpace
    storage: str
    study: str
    timeout_s: float | None = None
    parallel: int = 1  # processes running trials at once on this machine
    # torch threads per process. One: a search is many small runs, and K processes of one
    # thread each use K cores better than one run's intra-op threads do; on a busy machine a
    # second thread made a digits-MLP trial 16x slower (threads spinning for a core).
    threads: int = 1

    @property
    def prunes(self) -> bool:
        """Pruning needs one objective that the engine reports after every epoch."""
        return len(self.objectives) == 1 and self.objectives[0].per_epoch


class TrialFailed(Exception):
    """A trial's run failed (its message says why); the study records it and goes on."""


@dataclass
class SearchControl:
    """Stop requests from another thread (the app's Stop): the running trial's training stops
    after its current step, and no new trial starts."""

    stopped: threading.Event = field(default_factory=threading.Event)
    _trainer: Any = None

    def request_stop(self) -> None:
        self.stopped.set()
        trainer = self._trainer
        if trainer is not None:
            trainer.request_stop()

    def attach(self, trainer: Any) -> None:
        self._trainer = trainer
        if self.stopped.is_set():
            trainer.request_stop()


def make_pruner(options: TuneOptions) -> Any:
    import optuna

    if not options.prunes:
        return optuna.pruners.NopPruner()
    return optuna.pruners.MedianPruner(n_startup_trials=PRUNE_STARTUP_TRIALS, n_warmup_steps=PRUNE_WARMUP_EPOCHS)


def run_trial(trial: Any, project: Project, options: TuneOptions, listeners: list[Callable[[Any], None]] | None = None,
              control: SearchControl | None = None) -> tuple[float, ...]:
    """Train one trial's run and return its objective values (Optuna's objective function).

    Raises optuna.TrialPruned when the pruner stops it, TrialFailed when the run fails.
    """
    import optuna

    from workbench.runs import prepare_run, train_project

    values = options.space.suggest(trial)
    run_dir = trials_folder(project, options.study) / f"trial-{trial.number:04d}"
    trial.set_user_attr("run_dir", str(run_dir.resolve()))
    trial.set_user_attr("worker", f"{socket.gethostname()}:{os.getpid()}")  # which process ran it
    record = {"study": options.study, "storage": _shown_url(options.storage), "trial": trial.number,
              "objectives": [o.name for o in options.objectives], "params": values, "state": "RUNNING"}
    run_dir.mkdir(parents=True, exist_ok=True)
    write_json_atomic(run_dir / TRIAL_FILE, record)

    def fail(message: str) -> TrialFailed:
        trial.set_user_attr("message", message)
        write_json_atomic(run_dir / TRIAL_FILE, {**record, "state": "FAIL", "message": message})
        return TrialFailed(message)

    try:
        prepared = prepare_run(options.space.apply(project, values))
    except WorkbenchError as exc:
        raise fail(str(exc)) from None
    pruned: dict[str, Any] = {}
    trainer_box: dict[str, Any] = {}

    def report(event: Any) -> None:
        if type(event).__name__ != "EpochEvent" or not options.prunes:
            return
        value = epoch_value(options.objectives[0], event.val_loss, event.val_metrics)
        if value is None:
            return
        trial.report(value, event.epoch)
        if trial.should_prune():
            pruned["epoch"] = event.epoch
            trainer_box["t"].request_stop()

    def on_trainer(trainer: Any) -> None:
        trainer_box["t"] = trainer
        if control is not None:
            control.attach(trainer)

    try:
        result = train_project(prepared, run_dir, listeners=[report, *(listeners or [])], on_trainer=on_trainer)
    except KeyboardInterrupt:
        fail("interrupted (Ctrl+C)")
        raise
    if pruned:
        message = f"pruned after epoch {pruned['epoch']}: below the median of earlier trials"
        trial.set_user_attr("message", message)
        write_json_atomic(run_dir / TRIAL_FILE, {**record, "state": "PRUNED", "message": message})
        raise optuna.TrialPruned(message)
    if result.status == "failed":
        raise fail(result.message)
    if result.status == "stopped":
        raise fail("stopped before its last epoch")
    try:
        objective_values = measure(options.objectives, result.summary, prepared)
    except WorkbenchError as exc:
        raise fail(str(exc)) from None
    write_json_atomic(run_dir / TRIAL_FILE, {**record, "state": "COMPLETE", "values": list(objective_values)})
    return objective_values


def run_trials(project: Project, options: TuneOptions, on_trial: Callable[[TrialRecord], None] | None = None,
               control: SearchControl | None = None,
               listeners: list[Callable[[Any], None]] | None = None,
               on_study: Callable[[Any], None] | None = None) -> Any:
    """Run `options.trials` trials of the study in this process; returns the Optuna study.

    `on_trial` gets each finished trial (complete, pruned or failed); `on_study` gets the study
    once it is open (with the trials of earlier searches) and again after each trial. A
    KeyboardInterrupt marks the running trial failed and propagates; the study continues with
    the next `tune`.
    """
    study = open_study(options.storage, options.study, options.objectives, pruner=make_pruner(options))
    if on_study is not None:
        on_study(study)

    def objective(trial: Any) -> tuple[float, ...] | float:
        values = run_trial(trial, project, options, listeners=listeners, control=control)
        return values if len(values) > 1 else values[0]

    def finished(study: Any, trial: Any) -> None:
        if on_trial is not None:
            on_trial(TrialRecord.from_trial(trial))
        if on_study is not None:
            on_study(study)
        if control is not None and control.stopped.is_set():
            study.stop()

    if options.trials > 0 and not (control is not None and control.stopped.is_set()):
        study.optimize(objective, n_trials=options.trials, timeout=options.timeout_s, catch=(TrialFailed,),
                       callbacks=[finished])
    return study


def shares(trials: int, workers: int) -> list[int]:
    """`trials` split among `workers` as evenly as possible (the first ones take the rest)."""
    return [trials // workers + (1 if i < trials % workers else 0) for i in range(workers)]


def tune(project_ref: str, project: Project, options: TuneOptions,
         on_trial: Callable[[TrialRecord], None] | None = None) -> Any:
    """Run the search: in this process, or with `options.parallel` processes on one storage.

    `project_ref` (a project file or preset name) is what the other processes load; `project` is
    this process's copy. Returns the study (read after every process has finished).
    """
    if options.trials < 1:
        raise TuningError(f"--trials must be at least 1, got {options.trials}")
    if options.parallel < 1:
        raise TuningError(f"--parallel must be at least 1, got {options.parallel}")
    workers = min(options.parallel, options.trials)
    threads = options.threads
    _set_threads(threads)
    if workers == 1:
        return run_trials(project, options, on_trial)
    # The study is created here first, so that the other processes only ever load it.
    open_study(options.storage, options.study, options.objectives)
    context = multiprocessing.get_context("spawn")  # fork would copy torch's threads and locks
    queue = context.Queue()
    counts = shares(options.trials, workers)
    children = [context.Process(target=_worker, args=(project_ref, replace(options, trials=n, parallel=1, threads=threads),
                                                      queue), daemon=False) for n in counts[1:]]
    for child in children:
        child.start()
    drain = threading.Thread(target=_drain, args=(queue, on_trial), daemon=True)
    drain.start()
    try:
        study = run_trials(project, replace(options, trials=counts[0], parallel=1), on_trial)
    finally:
        for child in children:
            child.join()
        queue.put(None)
        drain.join()
    failed = [c.exitcode for c in children if c.exitcode not in (0, None)]
    if failed:
        log.warning("%d of the trial processes ended with an error (exit codes %s)", len(failed), failed)
    return study


def _worker(project_ref: str, options: TuneOptions, queue: Any) -> None:
    """A process of a parallel search: its share of the trials, each reported to the first process."""
    from workbench.presets import resolve_project

    _set_threads(options.threads)
    try:
        run_trials(resolve_project(project_ref), options, lambda record: queue.put(record.to_dict()))
    except KeyboardInterrupt:
        pass  # the first process reports the interruption


def _drain(queue: Any, on_trial: Callable[[TrialRecord], None] | None) -> None:
    while True:
        item = queue.get()
        if item is None:
            return
        if on_trial is not None:
            on_trial(TrialRecord.from_dict(item))


def _set_threads(threads: int) -> None:
    import torch

    torch.set_num_threads(max(1, threads))


def _shown_url(url: str) -> str:
    """The storage URL without a password."""
    try:
        from sqlalchemy.engine import make_url

        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - only for display; a URL the storage accepted is fine
        return url.split("@")[-1]


def trial_file(run_dir: str | Path) -> Path:
    """The trial record in a trial's run folder."""
    return Path(run_dir) / TRIAL_FILE
