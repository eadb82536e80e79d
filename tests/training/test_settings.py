"""TrainSettings: defaults, round trips, and one message per kind of bad value."""

from __future__ import annotations

import dataclasses
import json

import pytest

from workbench.errors import ProjectFileError, TrainingError
from workbench.training import settings as settings_module
from workbench.training.settings import TrainSettings


def test_defaults_round_trip_through_json() -> None:
    s = TrainSettings()
    assert TrainSettings.from_dict(json.loads(json.dumps(s.to_dict()))) == s


def test_every_field_round_trips() -> None:
    s = TrainSettings(optimizer="sgd", lr=0.05, momentum=0.5, weight_decay=1e-4, l1=1e-5,
                      scheduler="onecycle", step_size=3, gamma=0.5, warmup_steps=10, epochs=7,
                      batch_size=8, grad_clip=1.0, grad_accum=4, precision="bf16", seed=123,
                      early_stopping_patience=2, device="cuda:1", num_workers=2)
    d = s.to_dict()
    assert set(d) == {f.name for f in dataclasses.fields(TrainSettings)}
    assert TrainSettings.from_dict(json.loads(json.dumps(d))) == s


def test_every_field_has_a_check() -> None:
    assert set(settings_module._KINDS) == {f.name for f in dataclasses.fields(TrainSettings)}


def test_missing_keys_take_defaults_and_ints_become_floats() -> None:
    s = TrainSettings.from_dict({"lr": 1, "epochs": 3})
    assert s == TrainSettings(lr=1.0, epochs=3)
    assert isinstance(s.lr, float)


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("lr", "abc", 'training.lr: expected a number > 0, got "abc"'),
        ("lr", 0, "training.lr: expected a number > 0, got 0"),
        ("lr", True, "training.lr: expected a number > 0, got true"),
        ("lr", None, "training.lr: expected a number > 0, got null"),
        ("momentum", 1.0, "training.momentum: expected a number in [0, 1), got 1.0"),
        ("weight_decay", -0.1, "training.weight_decay: expected a number >= 0, got -0.1"),
        ("l1", "0", 'training.l1: expected a number >= 0, got "0"'),
        ("optimizer", "adagrad",
         'training.optimizer: expected one of "adam", "adamw", "sgd", "rmsprop", got "adagrad"'),
        ("scheduler", "linear",
         'training.scheduler: expected one of "none", "step", "cosine", "onecycle", got "linear"'),
        ("precision", "fp8",
         'training.precision: expected one of "auto", "fp32", "bf16", "fp16", got "fp8"'),
        ("step_size", 0, "training.step_size: expected an integer >= 1, got 0"),
        ("gamma", 1.5, "training.gamma: expected a number in (0, 1], got 1.5"),
        ("warmup_steps", -1, "training.warmup_steps: expected an integer >= 0, got -1"),
        ("epochs", 2.5, "training.epochs: expected an integer >= 1, got 2.5"),
        ("batch_size", "32", 'training.batch_size: expected an integer >= 1, got "32"'),
        ("grad_clip", -1, "training.grad_clip: expected null or a number > 0, got -1"),
        ("grad_accum", 0, "training.grad_accum: expected an integer >= 1, got 0"),
        ("seed", -1, "training.seed: expected an integer in [0, 2**63), got -1"),
        ("early_stopping_patience", 0,
         "training.early_stopping_patience: expected null or an integer >= 1, got 0"),
        ("device", "gpu",
         'training.device: expected "auto", "cpu", "cuda", "cuda:N" or "mps", got "gpu"'),
        ("num_workers", [1], "training.num_workers: expected an integer >= 0, got [1]"),
    ],
)
def test_bad_values_name_the_path(key: str, value: object, message: str) -> None:
    with pytest.raises(ProjectFileError) as info:
        TrainSettings.from_dict({key: value})
    assert str(info.value) == message


def test_unknown_key_names_the_path_and_known_keys() -> None:
    with pytest.raises(ProjectFileError, match=r"^project\.training\.learning_rate: unknown setting; "
                                               r"known settings are: .*\blr\b"):
        TrainSettings.from_dict({"learning_rate": 0.1}, where="project.training")


def test_not_an_object() -> None:
    with pytest.raises(ProjectFileError, match=r"^training: expected an object of settings, got \[1, 2\]"):
        TrainSettings.from_dict([1, 2])


def test_non_finite_numbers_are_refused() -> None:
    with pytest.raises(ProjectFileError, match="training.lr"):
        TrainSettings.from_dict({"lr": float("nan")})


def test_constructor_and_replace_check_values() -> None:
    with pytest.raises(TrainingError, match="training setting lr: expected a number > 0"):
        TrainSettings(lr=-1.0)
    s = TrainSettings().replace(lr=0.1, scheduler="cosine")
    assert (s.lr, s.scheduler) == (0.1, "cosine")
    with pytest.raises(TrainingError, match="batch_size"):
        s.replace(batch_size=0)
    with pytest.raises(TrainingError, match="unknown training setting 'learning_rate'"):
        s.replace(learning_rate=0.1)


def test_settings_are_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        TrainSettings().lr = 0.5  # type: ignore[misc]
