"""The Output's loss follows the data's task, or the run is refused before its first step.

Cross-entropy over a regression target's single output is 0 whatever the model predicts: such a
run "finished" with loss -0.0 and learned nothing.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from torch import nn

from workbench.cli import main
from workbench.data.assemble import assemble
from workbench.data.bundle import DatasetSpec
from workbench.data.labels import infer_task
from workbench.errors import DataError, TrainingError
from workbench.presets import load_preset
from workbench.project import save_project
from workbench.runs import prepare_run
from workbench.training import TrainSettings, Trainer
from workbench.training.losses import loss_for_task

FAST = TrainSettings(epochs=1, batch_size=16, lr=0.01, device="cpu")


def _table(tmp_path: Path, target: list[str], name: str = "t.csv") -> Path:
    rng = np.random.default_rng(0)
    lines = ["a,b,y"] + [f"{a:.3f},{b:.3f},{t}" for (a, b), t in zip(rng.normal(size=(len(target), 2)), target)]
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n")
    return path


def _regression_csv(tmp_path: Path) -> Path:
    values = np.random.default_rng(1).normal(size=300)
    return _table(tmp_path, [f"{v:.4f}" for v in values], "reg.csv")


def _project_on(tmp_path: Path, csv: Path, width: int):
    project = load_preset("tabular-mlp")  # an Output with cross_entropy
    project.dataset = DatasetSpec("csv", str(csv))
    graph = project.graph
    graph.set_param(next(n for n in graph.nodes if n.type == "Input").id, "shape", [2])
    graph.set_param(graph.node_by_name("head").id, "out_features", width)
    return project


def test_a_regression_target_under_cross_entropy_is_refused_before_the_first_step(tmp_path: Path) -> None:
    project = _project_on(tmp_path, _regression_csv(tmp_path), width=1)
    with pytest.raises(DataError) as refused:
        prepare_run(project)
    message = str(refused.value)
    assert "Output 'output' trains with cross_entropy" in message
    assert "is a regression task (1 value per sample)" in message
    assert "set its loss to mse" in message and "option task to 'classification'" in message


def test_the_cli_refusal_is_one_line_and_writes_no_run_folder(tmp_path: Path, capsys) -> None:
    path = save_project(_project_on(tmp_path, _regression_csv(tmp_path), width=1), tmp_path / "p.json")
    code = main(["train", str(path), "--epochs", "1", "--out", str(tmp_path / "run")])
    err = capsys.readouterr().err
    assert code == 1 and err.count("\n") == 1 and "set its loss to mse" in err
    assert not (tmp_path / "run").exists()


def test_own_data_makes_the_output_loss_follow_the_task(tmp_path: Path) -> None:
    project = load_preset("tabular-mlp")
    prepared = prepare_run(project, {"epochs": 2}, DatasetSpec("csv", str(_regression_csv(tmp_path))))
    assert prepared.model.loss_name == "mse"
    assert "Output 'output' now trains with mse: the data is a regression task (1 value per sample)" in prepared.changes
    assert "Linear 'head' now has 1 output" in prepared.changes
    from workbench.runs import train_project

    result = train_project(prepared, tmp_path / "run")
    assert result.status == "finished" and result.summary["val_loss"] > 0.01  # a real mse, not -0.0


def test_own_classes_turn_an_mse_output_into_cross_entropy(tmp_path: Path) -> None:
    project = load_preset("regression-mlp")  # an Output with mse
    labels = [str(i % 3) for i in range(90)]
    prepared = prepare_run(project, {"epochs": 1}, DatasetSpec("csv", str(_table(tmp_path, labels))))
    assert prepared.model.loss_name == "cross_entropy" and prepared.data.num_outputs == 3
    assert any("now has 3 outputs" in change for change in prepared.changes)


def test_many_whole_numbers_in_few_rows_are_a_regression_target(tmp_path: Path) -> None:
    rows = [str(i // 2) for i in range(300)]  # 150 different whole numbers, two rows each
    assert infer_task(np.array([float(r) for r in rows])) == "regression"
    assert infer_task(np.array([int(r) for r in rows])) == "regression"
    project = load_preset("tabular-mlp")
    prepared = prepare_run(project, {"epochs": 1}, DatasetSpec("csv", str(_table(tmp_path, rows))))
    assert prepared.data.task == "regression" and prepared.model.loss_name == "mse"


def test_integer_labels_are_classes_when_few_or_well_populated() -> None:
    assert infer_task(np.array([0, 1, 1, 0])) == "classification"
    assert infer_task(np.array([0.0, 1.0, 2.0] * 5)) == "classification"
    assert infer_task(np.arange(20).repeat(2)) == "classification"  # 20 values: always classes
    assert infer_task(np.arange(50).repeat(10)) == "classification"  # 50 classes, 10 rows each
    assert infer_task(np.arange(50).repeat(9)) == "regression"
    assert infer_task(np.arange(50.0).repeat(10)) == "regression"  # whole floats: 20 values at most
    assert infer_task(np.array(["a", "b"])) == "classification"
    assert infer_task(np.array([0.5, 1.0])) == "regression"


def test_class_ids_that_are_not_whole_numbers_are_refused() -> None:
    x = np.zeros((6, 2), dtype=np.float32)
    for bad in ([0, 1, 0.5, 1, 0, 1], [0, 1, -1, 1, 0, 1]):
        with pytest.raises(DataError, match="class labels must be whole numbers from 0"):
            assemble(x, np.array(bad), spec=DatasetSpec("x"), where="w", task="classification",
                     val=(x, np.zeros(6)))


@pytest.mark.parametrize(("loss", "task", "outputs", "better"), [
    ("cross_entropy", "regression", 1, "mse"),
    ("bce_with_logits", "regression", 1, "mse"),
    ("mse", "classification", 3, "cross_entropy"),
    ("bce_with_logits", "classification", 3, "cross_entropy"),
    ("mse", "language_model", 7, "cross_entropy"),
    ("cross_entropy", "classification", 3, None),
    ("bce_with_logits", "classification", 2, None),
    ("mse", "regression", 2, None),
])
def test_each_task_has_its_losses(loss: str, task: str, outputs: int, better: str | None) -> None:
    assert loss_for_task(loss, task, outputs) == better


def test_the_engine_refuses_a_loss_that_does_not_suit_the_task(make_regression, make_classification) -> None:
    with pytest.raises(TrainingError, match=r"the cross_entropy loss cannot train a regression task \(1 value "
                                            r"per sample\); set the Output's loss to mse \(with 1 output\)"):
        Trainer(nn.Linear(4, 1), make_regression(), FAST, "cross_entropy")
    with pytest.raises(TrainingError, match="set the Output's loss to cross_entropy"):
        Trainer(nn.Linear(8, 2), make_classification(), FAST, "mse")
    Trainer(nn.Linear(8, 1), make_classification(), FAST, "bce_with_logits")  # two classes, one logit
