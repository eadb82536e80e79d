"""A tiny search for the tuning tests: digits-mlp with a few steps per trial."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from workbench.presets import resolve_project
from workbench.project import save_project

# Two epochs of 12 steps (1,437 samples at batch 128) per trial, over two searched values.
TINY_SPACE = {"lr": {"low": 1e-3, "high": 1e-1, "log": True}, "fc1.out_features": [16, 32, 64],
              "batch_size": 128, "epochs": 2, "optimizer": "adam", "scheduler": None, "weight_decay": None,
              "dropout.p": None}


@pytest.fixture
def tiny_search(tmp_path: Path) -> tuple[Path, Path]:
    """A project file and a space file in tmp_path."""
    project = save_project(resolve_project("digits-mlp"), tmp_path / "digits.json")
    space = tmp_path / "space.json"
    space.write_text(json.dumps(TINY_SPACE))
    return project, space
