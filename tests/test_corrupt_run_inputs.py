"""Damaged run folders and bad flags for resume, export and sample: one line naming the file and
the field (or the flag), exit code 1, no traceback, and a refused resume writes nothing.

Each case is one a fault-injection pass met as a traceback, or as a run that "finished" having
trained nothing: a checkpoint of another network, `rng: {}`, `epoch: "abc"`, `epoch: 1000000`,
`--epochs` below the checkpoint's epoch, summary.json that is a list or binary, a shortened
vocabulary in data.json, `--temperature nan`.
"""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path
from typing import Callable

import pytest
import torch
from torch import nn

from workbench.cli import main
from workbench.presets import load_preset
from workbench.project import save_project


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("runs")
    assert main(["train", "digits-mlp", "--epochs", "2", "--out", str(root / "mlp"), "--quiet"]) == 0
    project = load_preset("tiny-gpt")
    graph = project.graph
    graph.remove_node(graph.node_by_name("block2").id)
    graph.connect(graph.node_by_name("block1").id, graph.node_by_name("norm").id)
    graph.set_param(graph.node_by_name("embed").id, "embedding_dim", 16)
    path = save_project(project, root / "gpt.json")
    (root / "corpus.txt").write_text("def add(a, b):\n    return a + b\n\n" * 60)
    assert main(["train", str(path), "--data", str(root / "corpus.txt"), "--epochs", "1", "--out",
                 str(root / "gpt"), "--quiet"]) == 0
    return {"mlp": root / "mlp", "gpt": root / "gpt"}


def _edit_checkpoints(**fields) -> Callable[[Path], None]:
    def edit(run: Path) -> None:
        for name in ("last.pt", "best.pt"):
            path = run / "checkpoints" / name
            state = torch.load(path, weights_only=True)
            state.update(fields)
            torch.save(state, path)
    return edit


def _edit_json(name: str, change: Callable[[dict], object]) -> Callable[[Path], None]:
    def edit(run: Path) -> None:
        record = json.loads((run / name).read_text())
        replaced = change(record)
        (run / name).write_text(json.dumps(record if replaced is None else replaced))
    return edit


def _drop_vocab_tail(record: dict) -> None:
    record["vocab"] = record["vocab"][:-3]


def _drop_vocab_tail_and_count(record: dict) -> None:
    record["vocab"] = record["vocab"][:-3]
    record["num_outputs"] -= 3


RESUME = ["train", "digits-mlp", "--epochs", "4", "--quiet"]
CASES = {
    # name: (run, damage, command after the run folder, what the one line says)
    "checkpoint_of_another_network": ("mlp", _edit_checkpoints(model=nn.Linear(3, 3).state_dict()), "resume",
                                      ["last.pt holds the weights of another network: it has no 'fc1.weight'"]),
    "empty_rng_record": ("mlp", _edit_checkpoints(rng={}), "resume", ["last.pt: field 'rng.torch'"]),
    "loader_state_of_another_size": ("mlp", _edit_checkpoints(loader_rng=torch.zeros(3, dtype=torch.uint8)), "resume",
                                     ["last.pt: field 'loader_rng' must be a generator state"]),
    "truncated_checkpoint": ("mlp", lambda run: (run / "checkpoints" / "last.pt").write_bytes(
        (run / "checkpoints" / "last.pt").read_bytes()[:5000]), "resume", ["last.pt cannot be read: not a readable checkpoint"]),
    "epoch_that_is_text": ("mlp", _edit_checkpoints(epoch="abc"), "resume",
                           ["last.pt: field 'epoch' must be a whole number >= 0, got 'abc'"]),
    "epoch_a_million": ("mlp", _edit_checkpoints(epoch=1_000_000), "resume",
                        ["is at epoch 1000000; epochs 4 would train nothing: set epochs to 1000001 or more"]),
    "epochs_below_the_checkpoint": ("mlp", None, ["--epochs", "1"],
                                    ["is at epoch 2; epochs 1 would train nothing: set epochs to 3 or more (--epochs 3)"]),
    "export_of_another_network": ("mlp", _edit_checkpoints(model=nn.Linear(3, 3).state_dict()), "export",
                                  ["best.pt holds the weights of another network"]),
    "summary_that_is_a_list": ("mlp", lambda run: (run / "summary.json").write_text("[1, 2]"), "export",
                               ["summary.json: must hold a JSON object, not a list"]),
    "summary_that_is_binary": ("mlp", lambda run: (run / "summary.json").write_bytes(b"\x80\xff\x00PK"), "export",
                               ["summary.json: not a text file"]),
    "summary_field_of_the_wrong_type": ("mlp", _edit_json("summary.json", lambda r: r.update(val_loss="low")), "export",
                                        ["summary.json: field 'val_loss' must be a number or null"]),
    "data_json_that_is_a_list": ("gpt", lambda run: (run / "data.json").write_text("[]"), "sample",
                                 ["data.json: must hold a JSON object, not a list"]),
    "shortened_vocabulary": ("gpt", _edit_json("data.json", _drop_vocab_tail), "sample",
                             ["data.json: field 'vocab' has", "for a model of"]),
    "shortened_vocabulary_and_count": ("gpt", _edit_json("data.json", _drop_vocab_tail_and_count), "sample",
                                       ["data.json: field 'vocab' gives", "but the run's network has"]),
    "temperature_nan": ("gpt", None, ["--temperature", "nan"], ["--temperature must be a number > 0", "got nan"]),
    "temperature_inf": ("gpt", None, ["--temperature", "inf"], ["--temperature must be a number > 0"]),
    "seed_beyond_64_bits": ("gpt", None, ["--seed", str(2**70)], ["--seed must be a whole number from 0"]),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_damaged_run_or_bad_flag_is_one_line(case: str, runs: dict[str, Path], tmp_path: Path, capsys,
                                               caplog: pytest.LogCaptureFixture) -> None:
    which, damage, command, expected = CASES[case]
    run = tmp_path / which
    shutil.copytree(runs[which], run)
    if damage is not None:
        damage(run)
    before = {p.name: p.read_bytes() for p in run.iterdir() if p.is_file()}
    if command == "resume" or which == "mlp" and isinstance(command, list):
        argv = [*RESUME, "--out", str(run), "--resume", str(run / "checkpoints" / "last.pt"), *(command if isinstance(command, list) else [])]
    elif command == "export":
        argv = ["export", str(run), "--out", str(tmp_path / "exported")]
    else:
        argv = ["sample", str(run), "--prompt", "def ", "--tokens", "5", *(command if isinstance(command, list) else [])]
    with caplog.at_level(logging.WARNING):
        code = main(argv)
    err = capsys.readouterr().err
    last = err.strip().splitlines()[-1]
    assert code == 1
    assert last.startswith("workbench: error: ") and all(text in last for text in expected), last
    assert "Traceback" not in err and not [r for r in caplog.records if r.exc_info], caplog.text
    assert {p.name: p.read_bytes() for p in run.iterdir() if p.is_file()} == before  # nothing rewritten
    assert not (tmp_path / "exported").exists()
