"""The search space: defaults from the project, a space file's overrides, values checked before
any trial, and trial values applied to a copy of the project."""

from __future__ import annotations

import json

import optuna
import pytest

from workbench.errors import TuningError
from workbench.presets import resolve_project
from workbench.tuning import build_space, parse_objectives, read_space_file
from workbench.tuning.runner import shares


def test_the_default_space_has_run_settings_dropout_and_marked_params() -> None:
    project = resolve_project("digits-mlp")
    project.graph.set_search(project.graph.node_by_name("fc1").id, "out_features", [32, 64])
    space = build_space(project)
    assert {"lr", "batch_size", "optimizer", "weight_decay", "scheduler", "dropout.p", "fc1.out_features",
            "fc2.out_features"} == set(space.names())  # the preset marks both widths searchable
    assert next(d for d in space.dimensions if d.name == "fc1.out_features").choices == (32, 64)
    assert space.fixed == {"epochs": 5}  # the preset's 20, capped for a search
    lr = next(d for d in space.dimensions if d.name == "lr")
    assert (lr.kind, lr.log) == ("float", True)


def test_a_space_file_overrides_removes_and_fixes_entries(tmp_path) -> None:
    path = tmp_path / "space.json"
    path.write_text(json.dumps({"lr": {"low": 0.001, "high": 0.01, "log": True}, "scheduler": None, "epochs": 2,
                                "fc2.out_features": {"low": 16, "high": 64, "step": 16}}))
    space = build_space(resolve_project("digits-mlp"), read_space_file(path))
    assert "scheduler" not in space.names()
    assert space.fixed == {"epochs": 2}
    fc2 = next(d for d in space.dimensions if d.name == "fc2.out_features")
    assert (fc2.kind, fc2.low, fc2.high, fc2.step) == ("int", 16, 64, 16)


@pytest.mark.parametrize("entry, words", [
    ({"lr": {"low": -1, "high": 1}}, "lr: expected a number > 0"),
    ({"batch_size": [0, 32]}, "batch_size: expected an integer >= 1"),
    ({"optimizer": ["adam", "lion"]}, "optimizer: expected one of"),
    ({"fc9.out_features": [8, 16]}, "no layer named 'fc9'"),
    ({"fc1.bias": [True, False]}, "not a number"),
    ({"colour": [1, 2]}, "neither a run setting nor <layer>.<param>"),
    ({"device": ["cpu", "cuda"]}, "give it one value"),
    ({"epochs": 0}, "epochs"),
])
def test_bad_space_entries_are_refused_before_any_trial(entry, words) -> None:
    with pytest.raises(TuningError, match=words):
        build_space(resolve_project("digits-mlp"), entry)


def test_a_missing_space_file_is_named(tmp_path) -> None:
    with pytest.raises(TuningError, match="no such file"):
        read_space_file(tmp_path / "nope.json")


def test_trial_values_are_applied_to_a_copy_of_the_project() -> None:
    project = resolve_project("digits-mlp")
    space = build_space(project, {"fc1.out_features": [24, 48], "epochs": 1})
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=1))
    trial = study.ask()
    values = space.suggest(trial)
    tried = space.apply(project, values)
    assert tried.graph.node_by_name("fc1").params["out_features"] == values["fc1.out_features"]
    assert tried.training.lr == values["lr"] and tried.training.epochs == 1
    assert project.graph.node_by_name("fc1").params["out_features"] == 128  # the original is untouched
    assert project.training.epochs == 20


def test_objectives_know_their_directions_and_refuse_unknown_names() -> None:
    assert [(o.name, o.direction) for o in parse_objectives("val_accuracy,params,latency_ms")] == \
        [("val_accuracy", "maximize"), ("params", "minimize"), ("latency_ms", "minimize")]
    with pytest.raises(TuningError, match="unknown objective 'speed'"):
        parse_objectives("val_accuracy,speed")
    with pytest.raises(TuningError, match="named twice"):
        parse_objectives("params,params")


def test_trials_are_shared_among_processes_without_losing_any() -> None:
    assert shares(20, 3) == [7, 7, 6]
    assert sum(shares(5, 4)) == 5
