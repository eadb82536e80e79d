"""Fixtures for the serving tests: tiny trained runs of each kind, served folders, a live server.

Each run trains one epoch through the CLI (as a user would), on data the fixture writes itself:
digits (built in), a CSV table with a text column, a folder of PNG images, and a character
language model from a very small GPT project.
"""

from __future__ import annotations

import base64
import csv
import io
import json
import random
from pathlib import Path

import numpy as np
import pytest

from workbench.cli import main as cli


def _train(out: Path, *args: str) -> Path:
    code = cli(["train", *args, "--epochs", "1", "--device", "cpu", "--out", str(out), "--quiet"])
    assert code == 0 and (out / "checkpoints" / "best.pt").is_file(), f"training {args} failed"
    return out


@pytest.fixture(scope="session")
def digits_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _train(tmp_path_factory.mktemp("runs") / "digits", "digits-mlp")


@pytest.fixture(scope="session")
def table_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("table")
    rng = random.Random(0)
    with open(root / "shop.csv", "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["age", "color", "size", "label"])
        for _ in range(200):
            age, color, size = rng.uniform(10, 80), rng.choice(["red", "green", "blue"]), rng.uniform(0, 5)
            writer.writerow([f"{age:.1f}", color, f"{size:.2f}", "big" if size + 2 * (color == "red") > 3 else "small"])
    return _train(root / "run", "tabular-mlp", "--data", str(root / "shop.csv"), "--target", "label")


def png_bytes(pixels: np.ndarray) -> bytes:
    """A uint8 H×W or H×W×3 array as PNG bytes."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return buffer.getvalue()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


@pytest.fixture(scope="session")
def image_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("images")
    rng = np.random.default_rng(0)
    for name in ("cats", "dogs"):
        (root / "data" / name).mkdir(parents=True)
        for i in range(12):
            pixels = (rng.random((12, 12, 3)) * 255).astype(np.uint8)
            if name == "cats":
                pixels[:, :, 0] = 255
            (root / "data" / name / f"{i}.png").write_bytes(png_bytes(pixels))
    return _train(root / "run", "digits-cnn", "--data", str(root / "data"), "--image-size", "8", "8")


@pytest.fixture(scope="session")
def text_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from workbench.presets import load_preset
    from workbench.project import project_to_dict

    root = tmp_path_factory.mktemp("text")
    project = project_to_dict(load_preset("tiny-gpt"))
    project["name"] = "micro-gpt"
    project["dataset"]["options"]["seq_len"] = 16
    project["training"]["warmup_steps"] = 0
    nodes = {n["name"]: n for n in project["graph"]["nodes"]}
    nodes["tokens"]["params"]["shape"] = [16]
    nodes["embed"]["params"]["embedding_dim"] = 16
    nodes["pos"]["params"]["max_len"] = 16
    nodes["block1"]["params"]["heads"] = 2
    # one block: drop block2 and join block1 to the norm
    project["graph"]["nodes"] = [n for n in project["graph"]["nodes"] if n["name"] != "block2"]
    block2 = nodes["block2"]["id"]
    edges = [e for e in project["graph"]["edges"] if e["dst"] != block2]
    for edge in edges:
        if edge["src"] == block2:
            edge["src"] = nodes["block1"]["id"]
    project["graph"]["edges"] = edges
    (root / "micro-gpt.json").write_text(json.dumps(project), encoding="utf-8")
    (root / "story.txt").write_text("the cat sat on the mat. the dog sat on the log. " * 40, encoding="utf-8")
    return _train(root / "run", str(root / "micro-gpt.json"), "--data", str(root / "story.txt"))


@pytest.fixture(scope="session")
def served(tmp_path_factory: pytest.TempPathFactory):
    """served(run_dir) -> the served folder of that run (exported once per run)."""
    from workbench.serve.prepare import prepare_target

    cache: dict[Path, Path] = {}

    def make(run: Path) -> Path:
        if run not in cache:
            cache[run] = prepare_target(run, tmp_path_factory.mktemp("served") / "model")
        return cache[run]

    return make
