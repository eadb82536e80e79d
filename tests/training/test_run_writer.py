"""RunWriter: metrics.jsonl a reader can follow, summary.json written on every ending."""

from __future__ import annotations

import ast
import json
import math
import shutil
from pathlib import Path

import torch
from torch import nn

from workbench.files import finite_json
from workbench.training import EpochEvent, FinishedEvent, RunWriter, StepEvent, Trainer, TrainSettings
from workbench.training.run_writer import step_line, truncate_metrics

FAST = TrainSettings(epochs=2, batch_size=16, lr=0.01, device="cpu")


def _lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_a_finished_run(make_classification, make_mlp, tmp_path: Path) -> None:
    writer = RunWriter(tmp_path / "run")
    result = Trainer(make_mlp(), make_classification(), FAST, "cross_entropy",
                     listeners=[writer], checkpoint_dir=tmp_path / "run").run()
    records = _lines(tmp_path / "run" / "metrics.jsonl")
    kinds = [r["kind"] for r in records]
    assert kinds == ["step"] * 8 + ["epoch"] + ["step"] * 8 + ["epoch", "finished"]
    assert records[0]["step"] == 1 and isinstance(records[0]["loss"], float)
    assert "val_accuracy" in records[8]["val_metrics"]
    summary = json.loads((tmp_path / "run" / "summary.json").read_text(encoding="utf-8"))
    assert summary["status"] == "finished"
    assert summary["global_steps"] == 16 and summary["val_accuracy"] == result.summary["val_accuracy"]
    assert summary["last_checkpoint"].endswith("last.pt")


def test_a_failed_run(make_regression, tmp_path: Path) -> None:
    writer = RunWriter(tmp_path)
    result = Trainer(nn.Linear(4, 1), make_regression(), FAST.replace(optimizer="sgd", lr=1e9),
                     "mse", listeners=[writer]).run()
    assert result.status == "failed"
    assert _lines(tmp_path / "metrics.jsonl")[-1]["kind"] == "failed"
    summary = json.loads((tmp_path / "summary.json").read_text(encoding="utf-8"))
    assert summary["status"] == "failed" and summary["message"] == result.message


def test_flushes_at_epoch_end_and_writes_strict_json(tmp_path: Path) -> None:
    writer = RunWriter(tmp_path)
    writer(StepEvent(1, 1, 0.5, 0.1, 100.0, 0.01))
    assert (tmp_path / "metrics.jsonl").read_text(encoding="utf-8") == ""  # buffered
    writer(EpochEvent(1, 0.5, math.inf, {"val_perplexity": math.inf}, 0.1, 0.02))
    lines = _lines(tmp_path / "metrics.jsonl")  # flushed: a follower sees both lines
    assert len(lines) == 2
    assert lines[1]["val_loss"] is None and lines[1]["val_metrics"] == {"val_perplexity": None}
    writer(FinishedEvent("finished", {"val_loss": math.nan}))
    assert json.loads((tmp_path / "summary.json").read_text(encoding="utf-8")) == {
        "val_loss": None, "status": "finished"}
    assert [p.name for p in sorted(tmp_path.iterdir())] == ["metrics.jsonl", "summary.json"]


def test_step_lines_are_what_json_dumps_writes() -> None:
    events = [StepEvent(1, 1, 0.123456789, 1e-05, 1234.5, 0.5), StepEvent(10**9, 3, 1e300, 5e-324, 0.0, 2.0),
              StepEvent(2, 1, 2.0, 0.1, math.inf, 0.1)]  # a non-finite number: null
    for event in events:
        line = step_line(event)
        assert line.endswith("\n") and json.loads(line) == finite_json(event.to_dict())
    assert json.loads(step_line(events[2]))["samples_per_s"] is None


def test_resumed_run_appends(make_regression, tmp_path: Path) -> None:
    s = FAST.replace(epochs=1)
    Trainer(nn.Linear(4, 1), make_regression(), s, "mse", listeners=[RunWriter(tmp_path)],
            checkpoint_dir=tmp_path).run()
    Trainer(nn.Linear(4, 1), make_regression(), s.replace(epochs=2), "mse",
            listeners=[RunWriter(tmp_path)], checkpoint_dir=tmp_path).run(
        resume_from=tmp_path / "last.pt")
    steps = [r["step"] for r in _lines(tmp_path / "metrics.jsonl") if r["kind"] == "step"]
    assert steps == list(range(1, 17))
    assert torch.load(tmp_path / "last.pt", weights_only=True)["epoch"] == 2


def test_a_resumed_run_drops_what_was_recorded_after_its_checkpoint(make_regression, tmp_path: Path) -> None:
    # A run killed at epoch 3 whose last.pt was written after epoch 1: epochs 2 and 3 happen again.
    kept = tmp_path / "epoch1.pt"

    def keep_epoch_1(event) -> None:
        if isinstance(event, EpochEvent) and event.epoch == 1:
            shutil.copy(tmp_path / "last.pt", kept)

    s = FAST.replace(epochs=3)
    Trainer(nn.Linear(4, 1), make_regression(), s, "mse", listeners=[RunWriter(tmp_path), keep_epoch_1],
            checkpoint_dir=tmp_path, checkpoint_every_s=0).run()
    with open(tmp_path / "metrics.jsonl", "a", encoding="utf-8") as fh:
        fh.write('{"kind": "step", "step": 25, "ep')  # the torn line of a killed writer
    Trainer(nn.Linear(4, 1), make_regression(), s, "mse", listeners=[RunWriter(tmp_path)],
            checkpoint_dir=tmp_path).run(resume_from=kept)
    records = _lines(tmp_path / "metrics.jsonl")
    assert [r["step"] for r in records if r["kind"] == "step"] == list(range(1, 25))
    assert [r["epoch"] for r in records if r["kind"] == "epoch"] == [1, 2, 3]
    assert [r["kind"] for r in records if r["kind"] not in ("step", "epoch")] == ["finished"]


def test_truncating_keeps_records_up_to_the_checkpoint(tmp_path: Path) -> None:
    path = tmp_path / "metrics.jsonl"
    steps = [json.dumps({"kind": "step", "step": n, "epoch": 1 + (n - 1) // 2}) for n in range(1, 7)]
    epochs = [json.dumps({"kind": "epoch", "epoch": e}) for e in (1, 2, 3)]
    stopped = json.dumps({"kind": "finished", "status": "stopped"})
    lines = [*steps[:2], epochs[0], *steps[2:4], epochs[1], *steps[4:], epochs[2], stopped]
    path.write_text("\n".join(lines) + "\n")
    assert truncate_metrics(path, epoch=1, step=2) == 7
    assert path.read_text() == "\n".join(lines[:3]) + "\n"  # cut in place: a prefix
    assert truncate_metrics(path, epoch=1, step=2) == 0 and truncate_metrics(tmp_path / "none", 1, 2) == 0
    # An older file that already holds a resumed run twice: what is kept is not a prefix.
    path.write_text("\n".join([*lines[:3], *steps[:2], epochs[0], stopped, "not json"]) + "\n")
    assert truncate_metrics(path, epoch=1, step=2) == 2
    assert path.read_text() == "\n".join([*lines[:3], *steps[:2], epochs[0]]) + "\n"


def test_the_engine_imports_no_qt() -> None:
    # Static, so that it holds whatever other tests imported into this process.
    package = Path(__import__("workbench.training").training.__file__).parent
    for source in package.glob("*.py"):
        for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            for name in names:
                assert not name.startswith(("PySide", "PyQt", "pyqtgraph", "workbench.gui")), (
                    f"{source.name} imports {name}")
