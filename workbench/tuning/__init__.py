"""Hyperparameter search on Optuna: the space, the objectives, the study and its trials.

`workbench tune` and the app's Search view both use this package; every trial is a normal run
trained by the one engine. Qt-free; Optuna and torch are imported when a search runs.
"""

from __future__ import annotations

from workbench.tuning.objectives import DIRECTIONS, Objective, parse_objectives
from workbench.tuning.runner import SearchControl, TrialFailed, TuneOptions, run_trials, tune
from workbench.tuning.space import Dimension, SearchSpace, apply_values, build_space, read_space_file
from workbench.tuning.study import (
    TrialRecord,
    default_storage,
    default_study_name,
    importances,
    open_study,
    pareto_front,
    study_records,
)

__all__ = [
    "DIRECTIONS", "Dimension", "Objective", "SearchControl", "SearchSpace", "TrialFailed", "TrialRecord",
    "TuneOptions", "apply_values", "build_space", "default_storage", "default_study_name", "importances",
    "open_study", "parse_objectives", "pareto_front", "read_space_file", "run_trials", "study_records", "tune",
]
