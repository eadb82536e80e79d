"""Checkpoint files: atomic, weights-only loadable, and complete RNG capture."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from workbench.errors import ProjectFileError
from workbench.training.checkpoint import FORMAT_VERSION, copy_checkpoint, load_checkpoint, save_checkpoint
from workbench.training.rng import capture_rng_state, restore_rng_state, seed_everything
from workbench.training.settings import TrainSettings


def _state() -> dict:
    model = nn.Linear(3, 2)
    opt = torch.optim.Adam(model.parameters())
    model(torch.randn(4, 3)).sum().backward()
    opt.step()
    gen = torch.Generator().manual_seed(5)
    return {"model": model.state_dict(), "optimizer": opt.state_dict(), "scheduler": None,
            "scaler": None, "epoch": 1, "global_step": 4, "best_val_loss": 0.25, "bad_epochs": 0,
            "rng": capture_rng_state(), "loader_rng": gen.get_state(),
            "settings": TrainSettings().to_dict()}


def test_round_trip_weights_only(tmp_path: Path) -> None:
    path = save_checkpoint(tmp_path / "sub" / "last.pt", _state())
    raw = torch.load(path, weights_only=True)  # the safe loader accepts everything we wrote
    assert raw["format_version"] == FORMAT_VERSION
    loaded = load_checkpoint(path)
    assert loaded["global_step"] == 4 and loaded["settings"] == TrainSettings().to_dict()
    model = nn.Linear(3, 2)
    model.load_state_dict(loaded["model"])
    assert [p.name for p in tmp_path.joinpath("sub").iterdir()] == ["last.pt"]  # no temp files


def test_overwrite_is_atomic_replace(tmp_path: Path) -> None:
    path = tmp_path / "last.pt"
    save_checkpoint(path, _state())
    second = _state()
    second["global_step"] = 9
    save_checkpoint(path, second)
    assert load_checkpoint(path)["global_step"] == 9
    assert sorted(p.name for p in tmp_path.iterdir()) == ["last.pt"]


def test_a_copy_keeps_its_contents_when_the_source_is_replaced(tmp_path: Path) -> None:
    last = save_checkpoint(tmp_path / "last.pt", _state())
    best = copy_checkpoint(last, tmp_path / "best.pt")
    assert best.read_bytes() == last.read_bytes()
    later = _state()
    later["global_step"] = 9
    save_checkpoint(last, later)  # the next epoch's last.pt
    assert load_checkpoint(best)["global_step"] == 4 and load_checkpoint(last)["global_step"] == 9
    assert sorted(p.name for p in tmp_path.iterdir()) == ["best.pt", "last.pt"]  # no link left over


def test_a_copy_without_hard_links_writes_the_bytes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_links(*_args: object) -> None:
        raise OSError("hard links are not supported here")

    last = save_checkpoint(tmp_path / "last.pt", _state())
    monkeypatch.setattr("os.link", no_links)
    best = copy_checkpoint(last, tmp_path / "best.pt")
    assert best.read_bytes() == last.read_bytes() and best.stat().st_nlink == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["best.pt", "last.pt"]


def test_rng_capture_and_restore() -> None:
    seed_everything(3)
    torch.rand(2), np.random.rand(), random.random()
    state = capture_rng_state()
    first = (torch.rand(3), np.random.rand(3), [random.random() for _ in range(3)])
    torch.rand(5), np.random.rand(5), random.random()  # move every generator on
    restore_rng_state(state)
    again = (torch.rand(3), np.random.rand(3), [random.random() for _ in range(3)])
    assert torch.equal(first[0], again[0])
    assert np.array_equal(first[1], again[1])
    assert first[2] == again[2]


def test_unreadable_files_raise_project_file_error(tmp_path: Path) -> None:
    with pytest.raises(ProjectFileError, match="does not exist"):
        load_checkpoint(tmp_path / "nope.pt")
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"not a checkpoint")
    with pytest.raises(ProjectFileError, match="cannot be read"):
        load_checkpoint(bad)
    future = _state()
    save_checkpoint(tmp_path / "future.pt", future)
    raw = torch.load(tmp_path / "future.pt", weights_only=True)
    raw["format_version"] = FORMAT_VERSION + 1
    torch.save(raw, tmp_path / "future.pt")
    with pytest.raises(ProjectFileError, match="update Workbench"):
        load_checkpoint(tmp_path / "future.pt")


def test_objects_that_are_not_weights_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "evil.pt"
    torch.save({"format_version": 1, "model": nn.Linear(2, 2)}, path)  # a pickled module
    with pytest.raises(ProjectFileError, match="cannot be read"):
        load_checkpoint(path)
