"""The app trains from another run's weights (init_from) and says what it loaded."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from workbench.cli import main as cli_main

pytestmark = pytest.mark.usefixtures("no_dangling_threads", "no_dangling_processes")

RUN_TIMEOUT_MS = 120_000


@pytest.fixture
def trainer(window, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator:  # noqa: ANN001
    monkeypatch.chdir(tmp_path)
    window.training.interactive = False
    window.training.start_spare()
    yield window
    window.training.shutdown()


def test_a_run_started_from_another_lists_what_it_loaded(trainer, qtbot, tmp_path: Path) -> None:  # noqa: ANN001
    source = tmp_path / "source"
    assert cli_main(["train", "digits-mlp", "--epochs", "1", "--out", str(source), "--quiet"]) == 0
    window = trainer
    window.training_overrides = {"epochs": 1, "init_from": str(source)}
    assert window.open_preset("digits-mlp")
    window.training_overrides = {}
    window.session.flush()
    graph = window.session.graph
    window.scene.select_nodes([graph.node_by_name(n).id for n in ("fc1", "fc2")])
    window.act_freeze.trigger()
    messages: list[str] = []
    window.training.status_message.connect(lambda text, _ms: messages.append(text))
    with qtbot.waitSignal(window.training.run_finished, timeout=RUN_TIMEOUT_MS) as blocker:
        assert window.train()
    outcome = blocker.args[0]
    assert outcome.status == "finished", outcome.message
    best = source / "checkpoints" / "best.pt"
    assert f"initialised 6 of 6 tensors from {best}" in messages
    summary = json.loads((outcome.run_dir / "summary.json").read_text(encoding="utf-8"))
    assert summary["init_from"]["source"] == str(best) and len(summary["init_from"]["loaded"]) == 6
    trained = json.loads((outcome.run_dir / "project.json").read_text(encoding="utf-8"))
    assert {n["name"] for n in trained["graph"]["nodes"] if n.get("trainable") is False} == {"fc1", "fc2"}
