"""Run settings: defaults, round trips, one message per kind of bad value, and one declaration
per setting that the loader, the constructor and the form all read."""

from __future__ import annotations

import ast
import dataclasses
import json
import math
from pathlib import Path
from typing import Any

import pytest

from workbench.data.bundle import DatasetSpec
from workbench.errors import ProjectFileError, TrainingError, WorkbenchError
from workbench.settings_spec import SettingSpec, declaration, declarations
from workbench.training.settings import OPTIMIZERS, SCHEDULERS, TrainSettings

RECORDS: dict[str, type] = {"training": TrainSettings, "dataset": DatasetSpec}
DECLARED = [(key, spec) for key, record in RECORDS.items() for spec in declarations(record)]
PACKAGE = Path(__file__).resolve().parents[2] / "workbench"


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


def test_every_field_is_declared_once_with_its_default_label_help_and_group() -> None:
    for record in RECORDS.values():
        specs = declarations(record)
        assert [s.name for s in specs] == [f.name for f in dataclasses.fields(record)]
        defaults = record()
        for spec in specs:
            assert isinstance(spec, SettingSpec)
            assert getattr(defaults, spec.name) == spec.default
            assert spec.label and spec.doc and spec.group, spec.name  # the form shows all three


def _samples(spec: SettingSpec) -> tuple[list[Any], list[Any]]:
    """Values the declaration accepts and refuses, derived from its kind and range."""
    ok: list[Any] = [None] if spec.optional else []
    bad: list[Any] = [] if spec.optional else [None]
    if spec.kind in ("int", "float"):
        unit: float = 1 if spec.kind == "int" else 1e-3
        cast = int if spec.kind == "int" else float
        bad += ["1", True, [1]]
        if spec.kind == "int":
            bad.append(1.5)
        else:
            bad.append(math.inf)
        for bound, is_open, inward in ((spec.minimum, spec.open_minimum, unit), (spec.maximum, spec.open_maximum, -unit)):
            if bound is None:
                continue
            (bad if is_open else ok).append(cast(bound))
            ok.append(cast(bound + inward))
            bad.append(cast(bound - inward))
    elif spec.kind == "choice":
        ok += list(spec.choices)
        bad += [spec.choices[0].upper(), 1]
    elif spec.kind == "text":
        ok.append("cuda:1" if spec.pattern and not spec.pattern.startswith(".") else "a name")
        bad += [1, ["x"]]
        if spec.pattern:
            bad.append("\n")
    elif spec.kind == "object":
        ok.append({"seq_len": 8})
        bad += [[1], "{}"]
    elif spec.kind == "bool":
        ok += [True, False]
        bad += [0, "true"]
    return ok, bad


@pytest.mark.parametrize(("key", "spec"), DECLARED, ids=[f"{k}.{s.name}" for k, s in DECLARED])
def test_the_loader_and_the_constructor_accept_and_refuse_what_the_declaration_says(key: str, spec: SettingSpec) -> None:
    record = RECORDS[key]
    ok, bad = _samples(spec)
    assert ok and bad
    for value in ok:
        loaded = record.from_dict(json.loads(json.dumps({spec.name: value})), where=key)
        assert getattr(loaded, spec.name) == value
        assert record.from_dict(json.loads(json.dumps(loaded.to_dict())), where=key) == loaded
    for value in bad:
        with pytest.raises(ProjectFileError) as info:
            record.from_dict({spec.name: value}, where=key)
        assert str(info.value) == f"{key}.{spec.name}: expected {spec.describe()}, got {json.dumps(value)}"
        with pytest.raises(WorkbenchError, match=f"setting {spec.name}: expected "):
            record().replace(**{spec.name: value})


def test_no_module_keeps_another_table_of_settings() -> None:
    """A dict, list, tuple or set literal naming two or more settings of one record is a second
    table of them (a checker table, a label table): the declarations are the only one."""
    modules = ["settings_spec.py", "training/settings.py", "data/bundle.py", "data/options.py", "project.py",
               "gui/session.py", "gui/training/settings_form.py", "gui/training/setting_editors.py",
               "gui/training/commands.py", "gui/training/panel.py"]
    offenders = []
    for module in modules:
        tree = ast.parse((PACKAGE / module).read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Dict):
                items = node.keys
            elif isinstance(node, (ast.List, ast.Tuple, ast.Set)):
                items = node.elts
            else:
                continue
            strings = {i.value for i in items if isinstance(i, ast.Constant) and isinstance(i.value, str)}
            for key, record in RECORDS.items():
                names = {s.name for s in declarations(record)}
                named = strings & (names | {f"{key}.{n}" for n in names})
                if len(named) >= 2:
                    offenders.append(f"{module}:{node.lineno} {sorted(named)}")
    assert not offenders


def test_settings_apply_where_their_declaration_says() -> None:
    momentum = declaration(TrainSettings, "momentum")
    assert [o for o in OPTIMIZERS if momentum.applies(TrainSettings(optimizer=o))] == ["sgd", "rmsprop"]
    for name in ("step_size", "gamma"):
        assert [s for s in SCHEDULERS if declaration(TrainSettings, name).applies(TrainSettings(scheduler=s))] == ["step"]
    path = declaration(DatasetSpec, "path")
    assert path.applies(DatasetSpec("csv")) and path.applies(DatasetSpec("images"))
    assert not path.applies(DatasetSpec("digits"))
    # A setting for some tasks only applies to those, and to data whose task is not known yet.
    text_only = dataclasses.replace(declaration(DatasetSpec, "options"), tasks=("language_model",))
    assert text_only.applies(DatasetSpec(), "language_model") and text_only.applies(DatasetSpec(), None)
    assert not text_only.applies(DatasetSpec(), "classification")


def test_dataset_round_trips_and_leaves_out_what_is_empty() -> None:
    full = DatasetSpec("csv", "data/t.csv", {"target": "price"}, val_fraction=0.25, seed=3)
    assert DatasetSpec.from_dict(json.loads(json.dumps(full.to_dict()))) == full
    assert DatasetSpec().to_dict() == {"source": "digits", "val_fraction": 0.2, "seed": 0}
    with pytest.raises(ProjectFileError, match=r"^dataset\.folder: unknown setting; known settings are: options, path, "):
        DatasetSpec.from_dict({"folder": "x"})


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
        ("num_workers", [1], "training.num_workers: expected \"auto\", null or an integer >= 0, got [1]"),
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
