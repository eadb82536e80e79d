"""Tracking interop: TensorBoard's own reader and MLflow's client read back what a run logged,
and a missing package is told before the run starts."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from workbench.errors import TrackingError
from workbench.presets import resolve_project
from workbench.training.tracking import INSTALL, parse_backends, require

EPOCHS = 2


def test_log_names_are_parsed_from_a_list_or_repeated_options() -> None:
    assert parse_backends("mlflow, tensorboard") == ("tensorboard", "mlflow")
    assert parse_backends(["mlflow", "tensorboard,mlflow"]) == ("tensorboard", "mlflow")
    assert parse_backends(None) == ()
    with pytest.raises(TrackingError, match="--log wandb: unknown logger; choose from tensorboard, mlflow"):
        parse_backends("tensorboard,wandb")


@pytest.mark.parametrize("backend, module, package", [("mlflow", "mlflow", "mlflow-skinny"),
                                                      ("tensorboard", "tensorboard", "tensorboard")])
def test_a_missing_package_is_one_line_naming_what_to_install(monkeypatch: pytest.MonkeyPatch, backend: str,
                                                              module: str, package: str) -> None:
    monkeypatch.setitem(sys.modules, module, None)  # `import module` now raises ImportError
    with pytest.raises(TrackingError) as caught:
        require([backend])
    message = str(caught.value)
    assert "\n" not in message
    assert f"logging to {backend} needs the {package} package" in message and message.endswith(INSTALL)


def test_cli_refuses_a_missing_package_before_loading_data(monkeypatch: pytest.MonkeyPatch, capsys,
                                                           tmp_path: Path) -> None:
    import workbench.runs
    from workbench.cli import main

    monkeypatch.setitem(sys.modules, "mlflow", None)
    monkeypatch.setattr(workbench.runs, "prepare_run", lambda *a, **k: pytest.fail("data loaded"))
    assert main(["train", "digits-mlp", "--log", "mlflow", "--out", str(tmp_path / "run")]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"workbench: error: logging to mlflow needs the mlflow-skinny package, which cannot be imported "
                   f"(import of mlflow halted; None in sys.modules): {INSTALL}"]
    assert not (tmp_path / "run").exists()


@pytest.fixture(scope="module")
def logged_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """digits-mlp trained for two epochs with both loggers, MLflow in a SQLite file."""
    from workbench.runs import prepare_run, train_project

    root = tmp_path_factory.mktemp("tracked")
    uri = f"sqlite:///{(root / 'store.db').as_posix()}"
    prepared = prepare_run(resolve_project("digits-mlp"), {
        "epochs": EPOCHS, "device": "cpu", "log_tensorboard": True, "log_mlflow": True, "mlflow_uri": uri})
    result = train_project(prepared, root / "run")
    assert result.status == "finished"
    return root / "run", uri


def _records(run_dir: Path, kind: str) -> list[dict]:
    lines = (run_dir / "metrics.jsonl").read_text().splitlines()
    return [r for r in map(json.loads, lines) if r["kind"] == kind]


def test_tensorboard_reader_reads_back_the_runs_scalars_graph_hparams_and_confusion_matrix(logged_run) -> None:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    from tensorboard.plugins.hparams.plugin_data_pb2 import HParamsPluginData

    run_dir, _ = logged_run
    acc = EventAccumulator(str(run_dir / "tensorboard"), size_guidance={"scalars": 0, "images": 0})
    acc.Reload()
    steps, epochs = _records(run_dir, "step"), _records(run_dir, "epoch")
    loss = acc.Scalars("train/loss")
    assert [e.step for e in loss] == [r["step"] for r in steps]
    assert [e.value for e in loss] == pytest.approx([r["loss"] for r in steps], rel=1e-6)
    assert [e.value for e in acc.Scalars("train/lr")] == pytest.approx([r["lr"] for r in steps], rel=1e-6)
    accuracy = acc.Scalars("epoch/val_accuracy")
    assert [e.value for e in accuracy] == pytest.approx([r["val_metrics"]["val_accuracy"] for r in epochs], rel=1e-6)
    assert [e.step for e in accuracy] == [steps[-1]["step"] // EPOCHS * (i + 1) for i in range(EPOCHS)]
    assert [e.value for e in acc.Scalars("epoch/val_loss")] == pytest.approx([r["val_loss"] for r in epochs], rel=1e-6)
    assert acc.Graph() is not None  # add_graph traced the built module
    image = acc.Images("validation/confusion_matrix")[-1]
    assert (image.width, image.height) == (10 * 24, 10 * 24)  # ten classes, 24 px each

    hp = EventAccumulator(str(run_dir / "tensorboard" / "hparams"))
    hp.Reload()
    start = HParamsPluginData.FromString(hp.PluginTagToContent("hparams")["_hparams_/session_start_info"])
    settings = json.loads((run_dir / "project.json").read_text())["training"]
    assert start.session_start_info.hparams["training.lr"].number_value == pytest.approx(settings["lr"])
    assert start.session_start_info.hparams["training.optimizer"].string_value == settings["optimizer"]
    final = hp.Scalars("hparam/val_accuracy")[-1].value
    assert final == pytest.approx(epochs[-1]["val_metrics"]["val_accuracy"], rel=1e-6)


def test_mlflow_client_reads_back_params_metrics_and_artifacts(logged_run) -> None:
    from mlflow import MlflowClient

    run_dir, uri = logged_run
    record = json.loads((run_dir / "tracking.json").read_text())["mlflow"]
    assert record["tracking_uri"] == uri
    client = MlflowClient(tracking_uri=uri)
    run = client.get_run(record["run_id"])
    assert run.info.status == "FINISHED" and run.info.run_name == run_dir.name
    assert client.get_experiment(run.info.experiment_id).name == "digits-mlp"
    settings = json.loads((run_dir / "project.json").read_text())["training"]
    assert run.data.params["training.lr"] == str(settings["lr"])
    assert run.data.params["training.epochs"] == str(EPOCHS)
    epochs = _records(run_dir, "epoch")
    history = client.get_metric_history(record["run_id"], "val_loss")
    assert [m.step for m in history] == [1, 2]
    assert [m.value for m in history] == pytest.approx([r["val_loss"] for r in epochs])
    accuracy = client.get_metric_history(record["run_id"], "val_accuracy")
    assert [m.value for m in accuracy] == pytest.approx([r["val_metrics"]["val_accuracy"] for r in epochs])
    assert run.info.artifact_uri.startswith((run_dir.parent / "mlartifacts").as_uri())  # beside the database
    names = {a.path for a in client.list_artifacts(record["run_id"])}
    assert {"summary.json", "metrics.jsonl", "project.json", "data.json"} <= names
    # The summary sent is the completed one, with the cost record.
    local = client.download_artifacts(record["run_id"], "summary.json", str(run_dir.parent))
    assert "cost" in json.loads(Path(local).read_text())


def test_an_export_of_the_run_adds_its_onnx_files_as_the_model(logged_run, tmp_path: Path) -> None:
    from mlflow import MlflowClient

    from workbench.training.tracking.mlflow_log import log_export

    run_dir, uri = logged_run
    out = tmp_path / "export"
    (out / "int8").mkdir(parents=True)
    (out / "model.onnx").write_bytes(b"onnx bytes")
    (out / "int8" / "model_int8.onnx").write_bytes(b"int8 bytes")
    (out / "report.json").write_text("{}")
    assert log_export(run_dir, out)
    record = json.loads((run_dir / "tracking.json").read_text())["mlflow"]
    client = MlflowClient(tracking_uri=uri)
    assert {a.path for a in client.list_artifacts(record["run_id"], "model")} == {"model/model.onnx",
                                                                                 "model/model_int8.onnx"}
    assert not log_export(tmp_path, out)  # a run never logged to MLflow: nothing to do


def test_a_resumed_run_continues_its_mlflow_run_and_its_tensorboard_steps(tmp_path: Path) -> None:
    from mlflow import MlflowClient
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    from workbench.runs import prepare_run, train_project

    uri = f"sqlite:///{(tmp_path / 'store.db').as_posix()}"
    overrides = {"device": "cpu", "log_tensorboard": True, "log_mlflow": True, "mlflow_uri": uri}
    run_dir = tmp_path / "run"
    first = prepare_run(resolve_project("digits-mlp"), {**overrides, "epochs": 1})
    assert train_project(first, run_dir).status == "finished"
    run_id = json.loads((run_dir / "tracking.json").read_text())["mlflow"]["run_id"]
    again = prepare_run(resolve_project("digits-mlp"), {**overrides, "epochs": 2})
    assert train_project(again, run_dir, resume_from=run_dir / "checkpoints" / "last.pt").status == "finished"

    assert json.loads((run_dir / "tracking.json").read_text())["mlflow"]["run_id"] == run_id
    client = MlflowClient(tracking_uri=uri)
    assert [m.step for m in client.get_metric_history(run_id, "val_loss")] == [1, 2]
    assert client.get_run(run_id).info.status == "FINISHED"
    assert len(client.search_runs([client.get_run(run_id).info.experiment_id])) == 1
    acc = EventAccumulator(str(run_dir / "tensorboard"), size_guidance={"scalars": 0})
    acc.Reload()
    steps = [e.step for e in acc.Scalars("train/loss")]
    assert steps == list(range(1, len(_records(run_dir, "step")) + 1))  # each step once
