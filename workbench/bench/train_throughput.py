"""Engine vs hand-written PyTorch loop: samples per second on the same model, data and settings.

    python -m workbench.bench.train_throughput [--quick]

What each side does, timed from its first line to its last:

- engine: `Trainer(...).run()` exactly as `workbench train` runs it: loaders, optimizer, the
  first checkpoint (last.pt of the untrained model), every step with its StepEvent written to
  metrics.jsonl by the RunWriter, validation with the task's metric after each epoch, epoch-end
  checkpoints (at most one per 10 s), last.pt + best.pt at the end and summary.json.
- hand loop: the plainest correct loop over the same DataLoader: zero_grad, forward, loss,
  backward, step, `loss.item()` (any loop that logs its loss reads it), and after each epoch a
  validation pass with loss and accuracy. It writes nothing to disk.

Both build the same model from the same seed (outside the timing), read the same DataLoader
(`make_loaders`: batch size, seeded shuffling) and use the same optimizer and thread count; the
preset's schedule, warm-up and clipping are switched off on both so the hand loop stays plain.
Data loading (the DataBundle) is outside the timing on both sides. Runs alternate, and the
ratio is the median over rounds of engine ÷ hand loop within the round (the two runs of a round
are back to back, so a drift of the machine's speed cancels); the ratio of the two sides'
median samples/s is in the JSON too (`train_throughput_ratio_of_medians_*`). Epoch counts are the presets'
own (quick mode: 4 instead of 25 for the transformer), so the engine's fixed costs (the first
and last checkpoint, summary.json) are spread over a run as long as a real one.

`hand_loop_run_to_run_noise_*` says how much identical hand-loop runs differed (median absolute
deviation ÷ median): on a machine shared with other work it is several percent, and a ratio
cannot resolve a difference much smaller than that. Counting CPU time instead of
wall time does not help: the noise is in how fast the shared cores run, not only in how often
this process gets them. benchmarks/engine_profile.py measures the engine's overhead inside single
runs, where that noise does not reach.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import torch

from workbench.bench.common import alternate, median, paired_ratio, run_alone
from workbench.presets import load_preset
from workbench.runs import PreparedRun, prepare_run
from workbench.training import Listener, RunWriter, Trainer
from workbench.training.loaders import make_loaders
from workbench.training.losses import get_loss
from workbench.training.optim import build_optimizer
from workbench.training.precision import resolve_precision

PRESETS = {"mlp": "digits-mlp", "cnn": "digits-cnn", "transformer": "digits-vit"}
# (epochs, rounds) per model; None keeps the preset's epochs.
FULL: dict[str, tuple[int | None, int]] = {"mlp": (None, 9), "cnn": (None, 9), "transformer": (None, 5)}
QUICK: dict[str, tuple[int | None, int]] = {"mlp": (None, 9), "cnn": (None, 7), "transformer": (4, 6)}
SMOKE: dict[str, tuple[int | None, int]] = {"mlp": (1, 1), "cnn": (1, 1), "transformer": (1, 1)}


def prepared_run(preset: str, epochs: int | None = None, device: str = "cpu", precision: str = "auto") -> PreparedRun:
    """The preset with the plain settings both sides use."""
    overrides: dict[str, Any] = {"scheduler": "none", "warmup_steps": 0, "grad_clip": None,
                                 "device": device, "precision": precision}
    if epochs is not None:
        overrides["epochs"] = epochs
    return prepare_run(load_preset(preset), overrides)


def fresh_model(prepared: PreparedRun) -> torch.nn.Module:
    from workbench.graph.builder import build_model

    return build_model(prepared.project.graph, seed=prepared.project.training.seed)


def engine_run(prepared: PreparedRun, listeners: Iterable[Listener] = (), model: torch.nn.Module | None = None) -> float:
    """Samples/s of one whole engine run (see the module docstring for what it includes)."""
    model = model if model is not None else fresh_model(prepared)
    settings = prepared.project.training
    with tempfile.TemporaryDirectory(prefix="wb-bench-") as tmp:
        run_dir = Path(tmp)
        t = time.perf_counter()
        trainer = Trainer(model, prepared.data, settings, loss=prepared.model.loss_name,
                          listeners=[RunWriter(run_dir), *listeners], checkpoint_dir=run_dir / "checkpoints")
        result = trainer.run()
        elapsed = time.perf_counter() - t
    if result.status != "finished":
        raise RuntimeError(f"benchmark run did not finish: {result.message}")
    return prepared.data.train_size * settings.epochs / elapsed


def hand_loop_run(prepared: PreparedRun) -> float:
    """Samples/s of the same training written as a plain PyTorch loop."""
    settings = prepared.project.training
    model = fresh_model(prepared)
    loss_fn = get_loss(prepared.model.loss_name)  # cross_entropy: F.cross_entropy, flattened for tokens
    device = torch.device(settings.device)
    precision = resolve_precision(settings.precision, device)
    t = time.perf_counter()
    torch.manual_seed(settings.seed)
    model.to(device)
    loaders = make_loaders(prepared.data, settings, device)
    optimizer = build_optimizer(model, settings)
    scaler = torch.amp.GradScaler(device.type) if precision.use_scaler else None
    move = device.type != "cpu"
    for _ in range(settings.epochs):
        model.train()
        for x, y in loaders.train:
            if move:
                x, y = x.to(device, non_blocking=True), y.to(device, non_blocking=True)
            optimizer.zero_grad(set_to_none=True)
            if precision.autocast_dtype is None:
                loss = loss_fn(model(x), y)
            else:
                with torch.autocast(device.type, dtype=precision.autocast_dtype):
                    loss = loss_fn(model(x), y)
            if scaler is None:
                loss.backward()
                optimizer.step()
            else:
                scaler.scale(loss).backward()
                scaler.step(optimizer)
                scaler.update()
            loss.item()
        model.eval()
        with torch.no_grad():
            total = correct = 0.0
            for x, y in loaders.val or ():
                if move:
                    x, y = x.to(device, non_blocking=True), y.to(device, non_blocking=True)
                out = model(x)
                total += loss_fn(out, y) * y.shape[0]
                correct += (out.argmax(-1) == y).sum()
            float(total), float(correct)
    elapsed = time.perf_counter() - t
    return prepared.data.train_size * settings.epochs / elapsed


def throughput_ratio(preset: str, epochs: int | None, rounds: int, device: str = "cpu",
                     precision: str = "auto") -> dict[str, float]:
    """Engine ÷ hand-loop samples/s over alternating runs: the median of each round's ratio
    (`paired_ratio`), and the ratio of the two sides' medians."""
    prepared = prepared_run(preset, epochs, device, precision)
    hand_loop_run(prepared)  # warm-up: first-call costs (allocator, kernels) belong to neither side
    engine, hand = alternate(lambda: engine_run(prepared), lambda: hand_loop_run(prepared), rounds)
    e, h = median(engine), median(hand)
    return {"engine_samples_per_s": e, "hand_samples_per_s": h, "ratio": paired_ratio(engine, hand),
            "ratio_of_medians": e / h,
            "epochs": prepared.project.training.epochs, "rounds": rounds, "noise": run_to_run_noise(hand)}


def run_to_run_noise(values: list[float]) -> float:
    """How much identical runs differ here: median absolute deviation ÷ median (0.02 = 2 %).

    A ratio's shortfall smaller than about this is not resolved by `rounds` runs per side.
    """
    m = median(values)
    return median([abs(v - m) for v in values]) / m if m else float("nan")


def measure(quick: bool = False, smoke: bool = False, device: str = "cpu", suffix: str = "") -> dict[str, float]:
    """`train_throughput_ratio{suffix}_{mlp,cnn,transformer}` and their minimum."""
    plan = SMOKE if smoke else QUICK if quick else FULL
    out: dict[str, float] = {}
    for key, preset in PRESETS.items():
        epochs, rounds = plan[key]
        r = throughput_ratio(preset, epochs, rounds, device=device)
        out[f"train_throughput_ratio{suffix}_{key}"] = r["ratio"]
        out[f"train_throughput_ratio_of_medians{suffix}_{key}"] = r["ratio_of_medians"]
        out[f"engine_samples_per_s{suffix}_{key}"] = r["engine_samples_per_s"]
        out[f"hand_loop_samples_per_s{suffix}_{key}"] = r["hand_samples_per_s"]
        out[f"train_epochs{suffix}_{key}"] = r["epochs"]
        out[f"hand_loop_run_to_run_noise{suffix}_{key}"] = r["noise"]
    out[f"train_throughput_ratio{suffix}"] = min(out[f"train_throughput_ratio{suffix}_{k}"] for k in PRESETS)
    return out


if __name__ == "__main__":
    run_alone("train_throughput", __doc__.splitlines()[0])
