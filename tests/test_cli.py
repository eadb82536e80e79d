"""The command line end to end: presets, info, train (run folder contents), sample, and errors."""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path

import pytest

from workbench.cli import main
from workbench.presets import load_preset
from workbench.project import save_project


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_presets_lists_every_preset(capsys) -> None:
    code, out, _ = run(capsys, "presets")
    assert code == 0
    assert out.splitlines()[0].split() == ["preset", "task", "dataset", "params", "description"]
    rows = {line.split()[0]: re.split(r"\s{2,}", line) for line in out.splitlines()[2:]}
    assert rows["tiny-gpt"][:4] == ["tiny-gpt", "language model", "text", "430k"]
    assert rows["digits-cnn"][:4] == ["digits-cnn", "classification", "digits", "13.7k"]


def test_info_prints_layer_table(capsys) -> None:
    code, out, _ = run(capsys, "info", "digits-cnn")
    assert code == 0
    assert "conv2    Conv2d     B×32×4×4      4.64k   147k" in out
    assert "total: 13,706 parameters" in out


def test_info_on_invalid_graph_lists_problems(capsys, tmp_path: Path) -> None:
    project = load_preset("digits-cnn")
    flatten = project.graph.node_by_name("flatten")
    project.graph.remove_node(flatten.id)
    path = save_project(project, tmp_path / "broken.json")
    code, _, err = run(capsys, "info", str(path))
    assert code == 1
    assert "Linear 'fc1' has no input — connect a layer to it" in err


def test_malformed_project_is_one_line_exit_1(capsys, tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"format_version": 1, "graph": ')
    code, out, err = run(capsys, "train", str(bad))
    assert code == 1
    assert err.count("\n") == 1 and err.startswith("workbench: error: ") and "not valid JSON" in err
    assert "Traceback" not in err


def test_unknown_device_is_refused(capsys, tmp_path: Path) -> None:
    code, _, err = run(capsys, "train", "digits-mlp", "--device", "cuda:3", "--out", str(tmp_path / "r"))
    assert code == 1
    assert "cuda:3" in err and "cpu" in err


def test_train_writes_run_folder(capsys, tmp_path: Path) -> None:
    out_dir = tmp_path / "run"
    code, out, err = run(capsys, "train", "digits-mlp", "--epochs", "2", "--lr", "0.003", "--out", str(out_dir))
    assert code == 0, err
    summary = json.loads((out_dir / "summary.json").read_text())
    for key in ("project", "device", "epochs", "parameters", "train_loss", "val_loss", "val_accuracy",
                "samples_per_second", "duration_s", "best_checkpoint"):
        assert key in summary, key
    assert summary["project"] == "digits-mlp" and summary["epochs"] == 2 and summary["parameters"] == 17226
    assert summary["val_accuracy"] > 0.8
    records = [json.loads(line) for line in (out_dir / "metrics.jsonl").read_text().splitlines()]
    kinds = [r["kind"] for r in records]
    assert kinds.count("epoch") == 2 and kinds.count("step") == 2 * 45
    trained = json.loads((out_dir / "project.json").read_text())
    assert trained["training"]["epochs"] == 2 and trained["training"]["lr"] == 0.003
    assert Path(summary["best_checkpoint"]).is_file()
    assert "finished: val_loss" in out


def test_train_failure_is_one_line(capsys, tmp_path: Path) -> None:
    code, _, err = run(capsys, "train", "regression-mlp", "--epochs", "1", "--lr", "1e12", "--out", str(tmp_path / "r"))
    assert code == 1
    last = err.strip().splitlines()[-1]
    assert last.startswith("workbench: error: ") and "learning rate" in last


def test_a_failed_run_says_so_once_without_a_traceback(capsys, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    # The engine logged the message as an error too: the terminal showed it twice.
    with caplog.at_level(logging.INFO):
        code, _, err = run(capsys, "train", "regression-mlp", "--epochs", "1", "--lr", "1e12", "--out", str(tmp_path / "r"))
    assert code == 1 and err.count("the loss became") == 1
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING or r.exc_info], caplog.text
    assert any("run failed: the loss became" in r.getMessage() for r in caplog.records)  # still in a verbose log


def test_sample_needs_a_language_model(capsys, tmp_path: Path) -> None:
    out_dir = tmp_path / "run"
    assert run(capsys, "train", "spirals-mlp", "--epochs", "1", "--out", str(out_dir))[0] == 0
    code, _, err = run(capsys, "sample", str(out_dir), "--prompt", "def ")
    assert code == 1 and "not a language model" in err
    code, _, err = run(capsys, "sample", str(tmp_path / "nothing"))
    assert code == 1 and "no such run folder" in err


def test_tiny_gpt_trains_and_samples(capsys, tmp_path: Path) -> None:
    project = load_preset("tiny-gpt")
    # Shrink the model and the data so the round trip takes seconds; the preset itself is
    # measured in the README.
    graph = project.graph
    for name in ("block2",):
        node = graph.node_by_name(name)
        graph.remove_node(node.id)
    graph.connect(graph.node_by_name("block1").id, graph.node_by_name("norm").id)
    graph.set_param(graph.node_by_name("embed").id, "embedding_dim", 32)
    path = save_project(project, tmp_path / "gpt.json")
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("def add(a, b):\n    return a + b\n\n" * 200)
    out_dir = tmp_path / "run"
    code, _, err = run(capsys, "train", str(path), "--data", str(corpus), "--epochs", "2", "--out", str(out_dir), "--quiet")
    assert code == 0, err
    assert "Embedding 'embed' now has" in err
    code, out, err = run(capsys, "sample", str(out_dir), "--prompt", "def ", "--tokens", "40")
    assert code == 0, err
    assert out.startswith("def ") and len(out.rstrip("\n")) == 44
    code, _, err = run(capsys, "sample", str(out_dir), "--prompt", "λ")
    assert code == 1 and "never saw" in err


@pytest.fixture(scope="module")
def trained_cnn(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("cnn") / "run"
    assert main(["train", "digits-cnn", "--epochs", "2", "--out", str(out), "--quiet"]) == 0
    return out


def test_export_writes_verified_files_and_report(capsys, trained_cnn: Path, tmp_path: Path) -> None:
    out = tmp_path / "export"
    code, stdout, err = run(capsys, "export", str(trained_cnn), "--out", str(out), "--format", "onnx,code",
                            "--quantize", "int8-dynamic")
    assert code == 0, err
    report = json.loads((out / "report.json").read_text())
    names = [v["name"] for v in report["variants"]]
    assert names == ["original", "int8-dynamic"]
    original = report["variants"][0]
    assert original["max_abs_diff"] <= 1e-4
    for key in ("files", "size_bytes", "parameters", "nonzero_parameters", "val_accuracy",
                "latency_ms_batch1", "latency_ms_batch64"):
        assert key in original, key
    assert all((out / f).is_file() for v in report["variants"] for f in v["files"])
    assert "int8-dynamic" in stdout and (out / "report.md").is_file()


def test_export_bad_flag_value_is_one_line(capsys, trained_cnn: Path, tmp_path: Path) -> None:
    code, _, err = run(capsys, "export", str(trained_cnn), "--out", str(tmp_path / "e"), "--format", "tflite")
    assert code == 1 and "unknown format 'tflite'" in err and err.count("\n") == 1
    assert not (tmp_path / "e").exists()
    code, _, err = run(capsys, "export", str(tmp_path / "missing"), "--out", str(tmp_path / "e"))
    assert code == 1 and "no such run folder" in err


def test_distill_half_width_student(capsys, trained_cnn: Path, tmp_path: Path) -> None:
    out = tmp_path / "student"
    code, stdout, err = run(capsys, "distill", str(trained_cnn), "--student", "0.5", "--epochs", "1", "--out", str(out))
    assert code == 0, err
    summary = json.loads((out / "summary.json").read_text())
    teacher = json.loads((trained_cnn / "summary.json").read_text())
    assert summary["student_parameters"] < teacher["parameters"]
    assert "student:" in stdout and (out / "checkpoints" / "best.pt").is_file()
