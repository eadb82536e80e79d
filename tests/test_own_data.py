"""Training presets on the user's own files with `--data`: CSV, image folder, text, IDX."""

from __future__ import annotations

import gzip
import json
import struct
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from workbench.cli import main
from workbench.data import load_dataset
from workbench.data.bundle import DatasetSpec
from workbench.presets import load_preset
from workbench.runs import prepare_run


def _csv(tmp_path: Path, rows: int = 800) -> Path:
    """A table with a nonlinear class rule, a categorical column and a constant-free target."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(rows, 4))
    colour = rng.choice(["red", "green", "blue"], size=rows)
    score = x[:, 0] * x[:, 1] + np.sin(2 * x[:, 2]) + (colour == "red") * 0.8
    label = np.where(score > 0.3, "yes", "no")
    lines = ["a,b,c,d,colour,label"]
    lines += [f"{a:.4f},{b:.4f},{c:.4f},{d:.4f},{col},{lab}" for (a, b, c, d), col, lab in zip(x, colour, label)]
    path = tmp_path / "table.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


def _plain_loop_accuracy(bundle, epochs: int, lr: float, batch: int, seed: int) -> float:
    """The same MLP trained by a hand-written PyTorch loop on the same split."""
    torch.manual_seed(seed)
    width = bundle.input_shape[0]
    model = nn.Sequential(nn.Linear(width, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, bundle.num_outputs))
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    loader = torch.utils.data.DataLoader(bundle.train, batch_size=batch, shuffle=True,
                                         generator=torch.Generator().manual_seed(seed))
    for _ in range(epochs):
        for x, y in loader:
            opt.zero_grad()
            nn.functional.cross_entropy(model(x), y).backward()
            opt.step()
    xs, ys = zip(*[bundle.val[i] for i in range(len(bundle.val))])
    with torch.no_grad():
        pred = model(torch.stack(xs)).argmax(1)
    return (pred == torch.stack(ys)).float().mean().item()


def test_tabular_preset_on_csv_matches_plain_loop(tmp_path: Path) -> None:
    path = _csv(tmp_path)
    out = tmp_path / "run"
    assert main(["train", "tabular-mlp", "--data", str(path), "--target", "label", "--out", str(out), "--quiet"]) == 0
    summary = json.loads((out / "summary.json").read_text())
    project = json.loads((out / "project.json").read_text())
    assert project["graph"]["nodes"][0]["params"]["shape"] == [7]  # 4 numbers + 3 one-hot colours
    settings = load_preset("tabular-mlp").training
    bundle = load_dataset(DatasetSpec("csv", str(path), {"target": "label"}))
    plain = _plain_loop_accuracy(bundle, settings.epochs, settings.lr, settings.batch_size, settings.seed)
    assert summary["val_accuracy"] >= plain - 0.03, (summary["val_accuracy"], plain)
    assert summary["val_accuracy"] > 0.85


def _write_bmp(path: Path, pixels: np.ndarray) -> None:
    """8-bit grayscale BMP (palette), bottom-up rows padded to 4 bytes."""
    h, w = pixels.shape
    stride = (w + 3) & ~3
    palette = b"".join(bytes((i, i, i, 0)) for i in range(256))
    body = b"".join(bytes(row) + b"\0" * (stride - w) for row in pixels[::-1])
    offset = 14 + 40 + len(palette)
    header = struct.pack("<2sIHHI", b"BM", offset + len(body), 0, 0, offset)
    info = struct.pack("<IiiHHIIiiII", 40, w, h, 1, 8, 0, len(body), 2835, 2835, 256, 0)
    path.write_bytes(header + info + palette + body)


@pytest.mark.slow
def test_cnn_preset_on_image_folder(tmp_path: Path) -> None:
    x, y = load_builtin_digits_raw()
    root = tmp_path / "digits"
    for i, (img, label) in enumerate(zip(x, y)):
        folder = root / f"class_{label}"
        folder.mkdir(parents=True, exist_ok=True)
        _write_bmp(folder / f"{i}.bmp", (img * 255 / 16).astype(np.uint8))
    out = tmp_path / "run"
    assert main(["train", "digits-cnn", "--data", str(root), "--out", str(out), "--quiet"]) == 0
    summary = json.loads((out / "summary.json").read_text())
    data = json.loads((out / "data.json").read_text())
    assert data["class_names"][:2] == ["class_0", "class_1"] and data["input_shape"] == [1, 8, 8]
    assert summary["val_accuracy"] >= 0.9


def load_builtin_digits_raw() -> tuple[np.ndarray, np.ndarray]:
    """The raw 8×8 digits (0..16) from the copy scikit-learn ships."""
    from workbench.data.builtin import digits_arrays

    x, y = digits_arrays()
    return x.reshape(-1, 8, 8), y


def test_gpt_preset_on_any_text_file(tmp_path: Path) -> None:
    text = tmp_path / "poem.txt"
    text.write_text("the quick brown fox jumps over the lazy dog\n" * 120, encoding="utf-8")
    prepared = prepare_run(load_preset("tiny-gpt"), {"epochs": 1}, DatasetSpec("textfile", str(text)))
    assert prepared.data.vocab is not None and len(prepared.data.vocab) == 28
    embed = prepared.project.graph.node_by_name("embed")
    head = prepared.project.graph.node_by_name("lm_head")
    assert embed.params["num_embeddings"] == 28 and head.params["out_features"] == 28
    assert any("now has 28" in c for c in prepared.changes)


def _idx(path: Path, magic: int, dims: tuple[int, ...], payload: bytes, gz: bool) -> None:
    raw = struct.pack(">I", magic) + b"".join(struct.pack(">I", d) for d in dims) + payload
    path.write_bytes(gzip.compress(raw) if gz else raw)


@pytest.mark.parametrize("gz", [False, True])
def test_idx_files_load_with_shapes_and_labels(tmp_path: Path, gz: bool) -> None:
    rng = np.random.default_rng(1)
    images = rng.integers(0, 256, size=(50, 6, 5), dtype=np.uint8)
    labels = (np.arange(50) % 4).astype(np.uint8)
    suffix = ".gz" if gz else ""
    img_path = tmp_path / f"train-images-idx3-ubyte{suffix}"
    lab_path = tmp_path / f"train-labels-idx1-ubyte{suffix}"
    _idx(img_path, 0x00000803, (50, 6, 5), images.tobytes(), gz)
    _idx(lab_path, 0x00000801, (50,), labels.tobytes(), gz)
    bundle = load_dataset(DatasetSpec("idx", str(img_path), {"labels": str(lab_path)}, val_fraction=0.2))
    assert bundle.input_shape == (1, 6, 5) and bundle.num_outputs == 4
    assert bundle.train_size + bundle.val_size == 50
    all_labels = sorted(int(bundle.train[i][1]) for i in range(bundle.train_size))
    all_labels += [int(bundle.val[i][1]) for i in range(bundle.val_size)]
    assert sorted(all_labels) == sorted(labels.tolist())


def test_data_flag_errors_are_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["train", "tabular-mlp", "--data", str(tmp_path / "missing.csv")]) == 1
    assert "--data" in capsys.readouterr().err
    odd = tmp_path / "data.xyz"
    odd.write_text("1,2")
    assert main(["train", "tabular-mlp", "--data", str(odd)]) == 1
    assert "cannot tell the format" in capsys.readouterr().err
    table = _csv(tmp_path)
    assert main(["train", "tabular-mlp", "--data", str(table), "--target", "nope"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("workbench: error: ") and "nope" in err and "table.csv" in err
