"""Does starting from a model of digits 0–4 help on digits 5–9 with 10 labels per class?

    python benchmarks/transfer_digits.py [--probe]

Measures the README's table (Start from a trained model). For each seed (0, 1, 2), everything
through Workbench's own path (`prepare_run` with the data as an .npz file, `train_project`):

1. pre-train `digits-cnn` on digits 0–4 (901 images as X, y: 720 train / 181 validation), Adam,
   lr 0.002, batch 32 (the preset's settings) for 15 or 5 epochs;
2. fine-tune on 10 images per class of 5–9 (X, y), validated on the other 846 (X_val, y_val),
   with `--init-from` the pre-training run, `--replace-head` and the frozen layers of the row;
3. train the same network from scratch on the same 50 images with the same settings (the head
   is replaced too, so both arms are the same network; only initialisation and freezing differ).

The seed picks the 50 images, the 0–4 split and the training seed. Validation accuracy is the
last epoch's. `--probe` adds a converged linear classifier (L-BFGS on standardised features) on
the pixels, and on the frozen features of the pre-trained and of a random network.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import torch

from workbench.data.bundle import DatasetSpec
from workbench.data.builtin import digits_arrays
from workbench.graph.builder import build_model
from workbench.presets import load_preset
from workbench.runs import prepare_run, train_project
from workbench.training.init_from import check_names, freeze_nodes, match_weights, read_weights

SEEDS = (0, 1, 2)
CONV = ["conv1", "conv2"]
ALL_BUT_HEAD = ["conv1", "conv2", "fc1"]
# (pre-training epochs, frozen layers or None for "from 0-4, nothing frozen", epochs, lr, batch)
ROWS: list[tuple[int, list[str], int, float, int]] = [
    (15, CONV, 2, 0.002, 10),
    (15, CONV, 5, 0.002, 10),
    (15, CONV, 15, 0.002, 10),
    (15, CONV, 30, 0.002, 10),
    (15, CONV, 15, 0.002, 32),
    (15, CONV, 5, 0.01, 10),
    (15, CONV, 15, 0.01, 10),
    (5, CONV, 15, 0.002, 10),
    (15, ["conv1"], 15, 0.002, 10),
    (15, ALL_BUT_HEAD, 15, 0.002, 10),
    (15, ALL_BUT_HEAD, 20, 0.01, 10),
    (15, [], 15, 0.002, 10),
    (15, [], 5, 0.01, 10),
]


def write_sets(root: Path, seed: int, per_class: int = 10) -> tuple[Path, Path]:
    """digits-0-4.npz (X, y) and digits-5-9.npz (X, y: per_class a class; X_val, y_val: the rest)."""
    pixels, y = digits_arrays()
    x = (pixels / 16.0).reshape(-1, 1, 8, 8).astype(np.float32)
    source = y < 5
    rng = np.random.default_rng(seed)
    rest = np.flatnonzero(~source)
    pick = np.concatenate([rng.choice(rest[y[rest] == c], per_class, replace=False) for c in range(5, 10)])
    held = np.setdiff1d(rest, pick)
    np.savez(root / "digits-0-4.npz", X=x[source], y=y[source])
    np.savez(root / f"digits-5-9-s{seed}.npz", X=x[pick], y=y[pick], X_val=x[held], y_val=y[held])
    return root / "digits-0-4.npz", root / f"digits-5-9-s{seed}.npz"


def pretrain(root: Path, data: Path, seed: int, epochs: int) -> tuple[Path, float]:
    """The 0-4 run (cached by seed and epochs) and its validation accuracy."""
    out = root / f"pre-s{seed}-e{epochs}"
    if not (out / "summary.json").exists():
        prepared = prepare_run(load_preset("digits-cnn"), {"epochs": epochs, "seed": seed, "device": "cpu"},
                               DatasetSpec(source="npz", path=str(data), seed=seed))
        train_project(prepared, out)
    return out, json.loads((out / "summary.json").read_text())["val_accuracy"]


def finetune(root: Path, data: Path, seed: int, source: Path | None, frozen: list[str], epochs: int, lr: float,
             batch: int) -> float:
    """Validation accuracy on the held-out 5-9 images after training on the 50."""
    project = load_preset("digits-cnn")
    freeze_nodes(project.graph, check_names(project.graph, frozen))
    overrides: dict[str, Any] = {"epochs": epochs, "lr": lr, "batch_size": batch, "seed": seed, "device": "cpu"}
    if source is not None:
        overrides["init_from"] = str(source)
    prepared = prepare_run(project, overrides, DatasetSpec(source="npz", path=str(data)), replace_head=True)
    return float(train_project(prepared, root / "fine-tune").summary["val_accuracy"])


def probe(root: Path, data: Path, seed: int, source: Path) -> dict[str, float]:
    """Linear classifiers trained to convergence on pixels and on frozen features."""
    arrays = np.load(data)
    x_tr, x_va = (torch.tensor(arrays[k]) for k in ("X", "X_val"))
    y_tr, y_va = (torch.tensor(arrays[k]) - 5 for k in ("y", "y_val"))
    mean, std = x_tr.mean(), x_tr.std()
    x_tr, x_va = (x_tr - mean) / std, (x_va - mean) / std

    def accuracy(f_tr: torch.Tensor, f_va: torch.Tensor) -> float:
        m, s = f_tr.mean(0), f_tr.std(0) + 1e-6
        f_tr, f_va = (f_tr - m) / s, (f_va - m) / s
        w = torch.zeros(f_tr.shape[1], 5, requires_grad=True)
        b = torch.zeros(5, requires_grad=True)
        opt = torch.optim.LBFGS([w, b], max_iter=500)

        def closure() -> torch.Tensor:
            opt.zero_grad()
            loss = torch.nn.functional.cross_entropy(f_tr @ w + b, y_tr) + 1e-3 * (w ** 2).sum()
            loss.backward()
            return loss

        opt.step(closure)
        return float(((f_va @ w + b).argmax(1) == y_va).float().mean())

    def features(model: torch.nn.Module, x: torch.Tensor, upto: str) -> torch.Tensor:
        h = x
        for name in ("conv1", "relu1", "pool1", "conv2", "relu2", "pool2", "flatten", "fc1", "relu3"):
            h = getattr(model, name)(h)
            if name == upto:
                return h.flatten(1)
        raise ValueError(upto)

    graph = load_preset("digits-cnn").graph
    random_net, trained = build_model(graph, seed=seed).eval(), build_model(graph, seed=seed).eval()
    _, weights = read_weights(source)
    match_weights(trained, {k: v for k, v in weights.items() if not k.startswith("head.")}, str(source))
    out = {"pixels": accuracy(x_tr.flatten(1), x_va.flatten(1))}
    with torch.no_grad():
        for layer in ("pool2", "relu3"):
            for name, model in (("0-4", trained), ("random", random_net)):
                out[f"{name} {layer}"] = accuracy(features(model, x_tr, layer), features(model, x_va, layer))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--probe", action="store_true", help="also the linear classifiers on frozen features")
    args = parser.parse_args()
    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for pre_epochs, frozen, epochs, lr, batch in ROWS:
            transfer, scratch, pre_acc = [], [], []
            for seed in SEEDS:
                source_data, target_data = write_sets(root, seed)
                source, acc = pretrain(root, source_data, seed, pre_epochs)
                pre_acc.append(acc)
                transfer.append(finetune(root, target_data, seed, source, frozen, epochs, lr, batch))
                scratch.append(finetune(root, target_data, seed, None, [], epochs, lr, batch))
            print(f"pre-trained {pre_epochs} epochs ({100 * min(pre_acc):.0f}–{100 * max(pre_acc):.0f}% on 0–4), "
                  f"frozen {','.join(frozen) or 'nothing'}, {epochs} epochs, lr {lr}, batch {batch}: "
                  f"from 0–4 {100 * np.mean(transfer):.1f}%, from scratch {100 * np.mean(scratch):.1f}%", flush=True)
        if args.probe:
            rows = []
            for seed in SEEDS:
                source_data, target_data = write_sets(root, seed)
                source, _ = pretrain(root, source_data, seed, 15)
                rows.append(probe(root, target_data, seed, source))
            for key in rows[0]:
                print(f"linear classifier on {key}: {100 * np.mean([r[key] for r in rows]):.1f}%")


if __name__ == "__main__":
    main()
