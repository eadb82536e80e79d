"""Studies on Optuna storage: where they live, opening one to continue it, and its results.

The default storage is a SQLite file beside the project (`<project dir>/<stem>.optuna.db`; for a
preset, in the runs folder). Any Optuna RDB URL works too (PostgreSQL, MySQL), so several
machines can run trials of one study. Several processes share one SQLite file: each waits up to
`SQLITE_TIMEOUT_S` for the file's lock instead of failing a trial, and heartbeats let a later
process mark the trials of a crashed one as failed, so a study can always be continued.
"""

from __future__ import annotations

import logging
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from workbench.errors import TuningError
from workbench.project import Project
from workbench.safe_names import run_folder_name
from workbench.tuning.objectives import Objective

log = logging.getLogger(__name__)

SQLITE_TIMEOUT_S = 120  # seconds a process waits for another's write to the SQLite file
HEARTBEAT_S = 10  # a running trial tells the storage it is alive this often
GRACE_S = 60  # a trial silent for this long belonged to a process that died: it is marked failed
_OPEN_TRIES = 5  # opening races (two processes creating the tables at once) are retried


def default_storage(project: Project) -> str:
    """`sqlite:///<project dir>/<stem>.optuna.db`, or in the runs folder for a preset."""
    if project.path is not None:
        path = project.path.resolve().with_name(f"{project.path.stem}.optuna.db")
    else:
        path = project.runs_dir.resolve() / f"{run_folder_name(project.name)}.optuna.db"
    path.parent.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{path}"


def default_study_name(project: Project) -> str:
    """The project's file stem (or preset name)."""
    return project.path.stem if project.path is not None else project.name


def trials_folder(project: Project, study_name: str) -> Path:
    """Where the run folders of a study's trials go: runs/<study>/trial-NNNN."""
    return project.runs_dir / f"tune-{run_folder_name(study_name)}"


def open_storage(url: str) -> Any:
    """An Optuna RDBStorage for `url`, with lock waits on SQLite and heartbeats."""
    import optuna
    from sqlalchemy.exc import IntegrityError, OperationalError

    engine_kwargs: dict[str, Any] = {}
    if url.startswith("sqlite"):
        engine_kwargs["connect_args"] = {"timeout": SQLITE_TIMEOUT_S}
    for attempt in range(_OPEN_TRIES):
        try:
            with warnings.catch_warnings():
                # Heartbeats are marked experimental in Optuna; they are what marks a crashed
                # process's trials as failed, so that the study can be continued.
                warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
                return optuna.storages.RDBStorage(url, engine_kwargs=engine_kwargs, heartbeat_interval=HEARTBEAT_S,
                                                  grace_period=GRACE_S, heartbeat_stale_trial_callback=_record_lost_trial)
        except (OperationalError, IntegrityError) as exc:
            if attempt == _OPEN_TRIES - 1:
                raise TuningError(f"storage {url}: cannot be opened ({str(exc).splitlines()[0]})") from None
            time.sleep(0.2 * (attempt + 1))  # another process is creating the tables
        except (ValueError, ImportError) as exc:  # a malformed URL, or a database driver not installed
            raise TuningError(f"--storage {url}: {exc}") from None
    raise AssertionError("unreachable")


def _record_lost_trial(study: Any, trial: Any) -> None:
    """A trial whose process stopped answering was just marked failed: say so in its trial.json."""
    from workbench.files import write_json_atomic
    from workbench.run_records import read_json_object

    run_dir = trial.user_attrs.get("run_dir")
    path = Path(run_dir) / "trial.json" if run_dir else None
    if path is None or not path.is_file():
        return
    try:
        record = read_json_object(path)
        message = f"its process stopped answering (no heartbeat for {GRACE_S} s): it crashed or was killed"
        write_json_atomic(path, {**record, "state": "FAIL", "message": message})
    except Exception:  # noqa: BLE001 - the study is right already; the file is a courtesy
        log.warning("could not record the lost trial %d in %s", trial.number, path, exc_info=True)


def open_study(storage_url: str, name: str, objectives: tuple[Objective, ...], sampler: Any = None,
               pruner: Any = None) -> Any:
    """Create the study, or load it to continue (it must have the same objectives)."""
    import optuna

    # The caller reports trials its own way; Optuna would also log each failed trial with a traceback.
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    storage = open_storage(storage_url)
    directions = [o.direction for o in objectives]
    names = [o.name for o in objectives]
    try:
        study = optuna.create_study(storage=storage, study_name=name, directions=directions, sampler=sampler,
                                    pruner=pruner, load_if_exists=True)
    except ValueError as exc:
        raise TuningError(f"study '{name}' in {storage_url}: {exc} — choose another --study") from None
    stored = study.user_attrs.get("objectives")
    if stored is None:
        study.set_user_attr("objectives", names)
    elif list(stored) != names:
        raise TuningError(f"study '{name}' in {storage_url} optimises {','.join(stored)}, not {','.join(names)} — "
                          f"use --objectives {','.join(stored)} to continue it, or --study NEW for a new one")
    return study


@dataclass(frozen=True)
class TrialRecord:
    """One trial as the terminal and the app show it."""

    number: int
    state: str  # "COMPLETE" | "PRUNED" | "FAIL" | "RUNNING" | "WAITING"
    values: tuple[float, ...] | None
    params: dict[str, Any]
    run_dir: str | None
    duration_s: float | None
    message: str = ""

    @classmethod
    def from_trial(cls, trial: Any) -> TrialRecord:
        """From an Optuna FrozenTrial."""
        duration = trial.duration.total_seconds() if trial.duration is not None else None
        return cls(trial.number, trial.state.name, tuple(trial.values) if trial.values else None, dict(trial.params),
                   trial.user_attrs.get("run_dir"), duration, trial.user_attrs.get("message", ""))

    def to_dict(self) -> dict[str, Any]:
        return {"number": self.number, "state": self.state, "values": list(self.values) if self.values else None,
                "params": self.params, "run_dir": self.run_dir, "duration_s": self.duration_s,
                "message": self.message}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TrialRecord:
        return cls(d["number"], d["state"], tuple(d["values"]) if d["values"] else None, dict(d["params"]),
                   d["run_dir"], d["duration_s"], d.get("message", ""))


def study_records(study: Any) -> list[TrialRecord]:
    """Every trial of the study, in number order."""
    return [TrialRecord.from_trial(t) for t in sorted(study.get_trials(deepcopy=False), key=lambda t: t.number)]


def pareto_front(study: Any) -> list[TrialRecord]:
    """The best trials: the Pareto front of a multi-objective study, the best one otherwise."""
    from optuna.trial import TrialState

    if not study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)):
        return []
    best = study.best_trials if len(study.directions) > 1 else [study.best_trial]
    return [TrialRecord.from_trial(t) for t in sorted(best, key=lambda t: t.number)]


def importances(study: Any, objective: int = 0, minimum_trials: int = 4) -> dict[str, float]:
    """Each parameter's importance for one objective (optuna.importance), or {} while fewer than
    `minimum_trials` trials have completed or the trials vary nothing."""
    import optuna
    from optuna.trial import TrialState

    done = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    if len(done) < minimum_trials:
        return {}
    # Optuna's default evaluator (PED-ANOVA) explains what makes the target low: a maximised
    # objective is negated, and its reminder of that is not shown.
    sign = -1.0 if study.directions[objective].name == "MAXIMIZE" else 1.0
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*importances of params to achieve low", category=UserWarning)
            return dict(optuna.importance.get_param_importances(study, target=lambda t: sign * t.values[objective]))
    except (RuntimeError, ValueError) as exc:  # e.g. every complete trial has the same params
        log.info("no importances yet: %s", exc)
        return {}


@dataclass(frozen=True)
class StudySnapshot:
    """A study as a view shows it at one moment: its trials, the best ones, the importances."""

    study: str
    storage: str
    objectives: tuple[Objective, ...]
    trials: tuple[TrialRecord, ...]
    front: frozenset[int]  # numbers of the trials on the Pareto front (the best one, single objective)
    importances: dict[str, float]  # for the first objective; {} until enough trials completed

    def trial(self, number: int) -> TrialRecord | None:
        return next((t for t in self.trials if t.number == number), None)


def snapshot(study: Any, storage: str, objectives: tuple[Objective, ...]) -> StudySnapshot:
    """Read the study once (trials, front, importances) for a view on another thread."""
    return StudySnapshot(study.study_name, storage, objectives, tuple(study_records(study)),
                         frozenset(r.number for r in pareto_front(study)), importances(study))
