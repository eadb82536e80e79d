"""`workbench train --init-from/--freeze/--freeze-until/--replace-head/--unfreeze-epoch`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from workbench.cli import main
from workbench.training.checkpoint import load_checkpoint


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def source_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("src") / "run"
    assert main(["train", "digits-mlp", "--epochs", "1", "--out", str(out), "--quiet"]) == 0
    return out


def test_init_from_a_run_with_a_frozen_backbone_and_a_new_head(capsys, source_run: Path, tmp_path: Path) -> None:
    out = tmp_path / "ft"
    code, _, err = run(capsys, "train", "digits-mlp", "--init-from", str(source_run), "--freeze-until", "fc2",
                       "--replace-head", "--epochs", "1", "--quiet", "--out", str(out))
    assert code == 0, err
    best = source_run / "checkpoints" / "best.pt"
    assert f"initialised 4 of 6 tensors from {best}" in err
    assert "skipped head_new.weight: missing in the source" in err
    assert "to fit the data: Linear 'head' (10 outputs) replaced by a fresh Linear 'head_new' with 10 outputs" in err
    summary = json.loads((out / "summary.json").read_text())
    assert summary["init_from"]["source"] == str(best)
    assert summary["init_from"]["loaded"] == ["fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"]
    assert summary["init_from"]["skipped"] == {"head_new.weight": "missing in the source",
                                               "head_new.bias": "missing in the source"}
    trained = json.loads((out / "project.json").read_text())
    frozen = {n["name"] for n in trained["graph"]["nodes"] if n.get("trainable") is False}
    assert frozen == {"digits", "flatten", "fc1", "relu1", "dropout", "fc2"}
    assert trained["training"]["init_from"] == str(source_run.resolve())
    before, after = load_checkpoint(best)["model"], load_checkpoint(out / "checkpoints" / "last.pt")["model"]
    assert torch.equal(before["fc1.weight"], after["fc1.weight"]) and torch.equal(before["fc2.bias"], after["fc2.bias"])


def test_unknown_freeze_names_are_listed(capsys, tmp_path: Path) -> None:
    code, _, err = run(capsys, "train", "digits-mlp", "--freeze", "fc1,conv9,fc7", "--out", str(tmp_path / "r"))
    assert code == 1
    assert err.strip().splitlines()[-1].endswith(
        "--freeze: no layer named 'conv9', 'fc7' (layers: flatten, fc1, relu1, dropout, fc2, relu2, head)")
    code, _, err = run(capsys, "train", "digits-mlp", "--freeze-until", "nope", "--out", str(tmp_path / "r"))
    assert code == 1 and "--freeze-until: no layer named 'nope'" in err


def test_bad_sources_are_one_line(capsys, tmp_path: Path) -> None:
    code, _, err = run(capsys, "train", "digits-mlp", "--init-from", str(tmp_path / "gone.pt"), "--out", str(tmp_path / "r"))
    assert code == 1
    assert err.strip().splitlines()[-1].endswith(f"init_from {tmp_path / 'gone.pt'}: no such file or folder — give a run "
                                                 "folder, a Workbench checkpoint (.pt) or a weights file "
                                                 "(.safetensors or a saved state_dict)")
    torch.save({"encoder.weight": torch.zeros(2, 2)}, tmp_path / "other.pt")
    code, _, err = run(capsys, "train", "digits-mlp", "--init-from", str(tmp_path / "other.pt"), "--out", str(tmp_path / "r"))
    assert code == 1 and "no tensor matches the network by name and shape" in err
    assert not (tmp_path / "r").exists()  # refused before the run folder is written
