"""Engine vs hand-written PyTorch loop: samples per second on the same model, data and settings.

Both sides train the same preset's model (same initial weights), on the same DataLoader
(`make_loaders`: same batch size, same seeded shuffling), with the same optimizer, and validate
after each epoch. The engine runs as `workbench train` does: with its run writer and
checkpoints. Runs alternate A, B, A, B... and the ratio of the medians is reported.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

import torch
import torch.nn.functional as F

from workbench.presets import load_preset
from workbench.runs import PreparedRun, prepare_run
from workbench.training import RunWriter, Trainer
from workbench.training.loaders import make_loaders
from workbench.training.optim import build_optimizer

PRESETS = {"mlp": "digits-mlp", "cnn": "digits-cnn", "transformer": "digits-vit"}


def _prepared(preset: str, epochs: int) -> PreparedRun:
    # No schedule, warmup or clipping: the hand loop below is the plainest fair loop.
    overrides = {"epochs": epochs, "scheduler": "none", "warmup_steps": 0, "grad_clip": None, "device": "cpu"}
    return prepare_run(load_preset(preset), overrides)


def engine_samples_per_s(prepared: PreparedRun) -> float:
    """Wall-clock samples/s of a whole engine run (train + validation + run folder)."""
    model = _fresh_copy(prepared)
    with tempfile.TemporaryDirectory() as tmp:
        run_dir = Path(tmp)
        trainer = Trainer(model, prepared.data, prepared.project.training, loss=prepared.model.loss_name,
                          listeners=[RunWriter(run_dir)], checkpoint_dir=run_dir / "checkpoints")
        t = time.perf_counter()
        result = trainer.run()
        elapsed = time.perf_counter() - t
    assert result.status == "finished", result.message
    return prepared.data.train_size * prepared.project.training.epochs / elapsed


def plain_samples_per_s(prepared: PreparedRun) -> float:
    """The same work written as a plain PyTorch loop."""
    settings = prepared.project.training
    model = _fresh_copy(prepared)
    torch.manual_seed(settings.seed)
    loaders = make_loaders(prepared.data, settings, torch.device("cpu"))
    optimizer = build_optimizer(model, settings)
    lm = prepared.data.task == "language_model"
    t = time.perf_counter()
    for _ in range(settings.epochs):
        model.train()
        for x, y in loaders.train:
            out = model(x)
            loss = F.cross_entropy(out.flatten(0, 1), y.flatten()) if lm else F.cross_entropy(out, y)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            loss.item()  # what any loop that logs its loss does
        model.eval()
        with torch.no_grad():
            for x, y in loaders.val or ():
                out = model(x)
                (F.cross_entropy(out.flatten(0, 1), y.flatten()) if lm else F.cross_entropy(out, y)).item()
    elapsed = time.perf_counter() - t
    return prepared.data.train_size * settings.epochs / elapsed


def _fresh_copy(prepared: PreparedRun) -> torch.nn.Module:
    from workbench.graph.builder import build_model

    return build_model(prepared.project.graph, seed=prepared.project.training.seed)


def throughput_ratio(preset: str, epochs: int, rounds: int) -> dict[str, float]:
    """Median engine samples/s ÷ median hand-loop samples/s over alternating rounds."""
    prepared = _prepared(preset, epochs)
    plain_samples_per_s(prepared)  # warm-up: first-call costs belong to neither side
    engine, plain = [], []
    for _ in range(rounds):
        engine.append(engine_samples_per_s(prepared))
        plain.append(plain_samples_per_s(prepared))
    e, p = statistics.median(engine), statistics.median(plain)
    return {"engine_samples_per_s": e, "plain_samples_per_s": p, "ratio": e / p}


if __name__ == "__main__":
    torch.set_num_threads(2)
    for key, preset in PRESETS.items():
        r = throughput_ratio(preset, epochs=2, rounds=5)
        print(f"{key:12s} engine {r['engine_samples_per_s']:9.0f}/s  plain {r['plain_samples_per_s']:9.0f}/s  ratio {r['ratio']:.3f}")
