"""Where an engine run's time goes: the training itself vs the engine's own bookkeeping.

    pip install pyinstrument
    python -m benchmarks.engine_profile [--threads 1] [--epochs N] [--rounds 3]

The throughput ratio (train_throughput.py) compares two wall-clock totals, each with a few
percent of run-to-run noise on a shared machine. This profile splits single engine runs instead,
so the engine's overhead is measured as a share of the same run, under the same CPU speed: it
is what explains a ratio below 1. Each preset of train_throughput.py is profiled (pyinstrument,
0.5 ms sampling) over `rounds` whole runs with the same settings, and the time of these frames
is reported as a share of the run (a frame is counted once, with everything it calls):

- step events: `RunWriter.__call__` (metrics.jsonl), other listeners, building StepEvents;
- checkpoints: `Trainer._save`, `_write_checkpoints`, `_flush_best`, and at every epoch end
  `Trainer._state` (state dicts, RNG capture) and `snapshot` (the in-memory copy of the best state);
- validation metric: `ValidationMeter` (the hand loop counts correct predictions too);
- set-up and finish: `Trainer._setup`, `Trainer._finish`, the run folder.

The rest is the model's forward and backward passes, the optimizer and the DataLoader.

A sampling profiler that hooks every Python call makes call-heavy code (the run writer's
per-step work) look dearer than it is, so a second table accounts for the same costs by timing
each piece alone: the run writer per step event, the state built at every epoch end and its
in-memory copy (when validation improved), and the files of a run (last.pt at the start, not
fsynced; last.pt, best.pt as a hard link to it, and summary.json at the end), each set against the
preset's step and epoch times measured with the hand loop.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from workbench.bench.train_throughput import FULL, PRESETS, engine_run, fresh_model, hand_loop_run, prepared_run

CATEGORIES: dict[str, tuple[str, ...]] = {
    "step events (RunWriter)": ("RunWriter.__call__", "StepEvent.__init__", "Trainer._emit"),
    "checkpoints + state copies": ("Trainer._save", "Trainer._write_checkpoints", "Trainer._flush_best",
                                   "Trainer._state", "snapshot"),
    "validation metric": ("ValidationMeter.update", "ValidationMeter.compute", "ValidationMeter.__init__"),
    "set-up and finish": ("Trainer._setup", "Trainer._finish", "Trainer.__init__", "TemporaryDirectory.__exit__",
                          "TemporaryDirectory.__init__"),
}


def _name(frame: Any) -> str:
    return frame.function if not getattr(frame, "class_name", None) else f"{frame.class_name}.{frame.function}"


def _split(frame: Any, totals: dict[str, float]) -> None:
    name = _name(frame)
    for category, names in CATEGORIES.items():
        if name in names or frame.function in names:
            totals[category] += frame.time
            return
    for child in frame.children:
        _split(child, totals)


def profile(preset: str, epochs: int | None, rounds: int) -> dict[str, float]:
    from pyinstrument import Profiler

    prepared = prepared_run(preset, epochs)
    hand_loop_run(prepared)
    engine_run(prepared)  # warm-up
    profiler = Profiler(interval=0.0005)
    profiler.start()
    for _ in range(rounds):
        engine_run(prepared)
    profiler.stop()
    root = profiler.last_session.root_frame()
    totals = dict.fromkeys(CATEGORIES, 0.0)
    _split(root, totals)
    total = root.time
    shares = {k: v / total for k, v in totals.items()}
    shares["engine overhead (sum)"] = sum(shares.values())
    return shares


def _ms(fn: Callable[[], object], n: int = 20) -> float:
    times = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times) * 1e3


def account(preset: str, epochs: int | None) -> dict[str, float]:
    """Shares of a run's wall time, from each engine cost timed alone (no profiler)."""
    from workbench.training import RunWriter, Trainer
    from workbench.files import write_json_atomic
    from workbench.training.checkpoint import copy_checkpoint, serialize_checkpoint, snapshot, write_checkpoint_bytes
    from workbench.training.events import StepEvent

    prepared = prepared_run(preset, epochs)
    settings = prepared.project.training
    steps = -(-prepared.data.train_size // settings.batch_size)
    hand_s = prepared.data.train_size * settings.epochs / max(hand_loop_run(prepared) for _ in range(3))
    with tempfile.TemporaryDirectory(prefix="wb-bench-") as tmp:
        writer = RunWriter(Path(tmp) / "run")
        events = [StepEvent(i, 1, 0.5, 1e-3, 3e4, i * 1e-3) for i in range(1, 5001)]
        t = time.perf_counter()
        for event in events:
            writer(event)
        step_event_ms = (time.perf_counter() - t) / len(events) * 1e3
        writer.close()
        model = fresh_model(prepared)
        trainer = Trainer(model, prepared.data, settings, loss=prepared.model.loss_name)
        trainer._setup()  # noqa: SLF001 (the state needs the optimizer and loaders)
        x, y = next(iter(trainer.loaders.train))
        trainer._loss_fn(model(x), y).backward()  # noqa: SLF001
        trainer.optimizer.step()  # the optimizer's state exists from the first step on
        state_ms = _ms(trainer._state)  # noqa: SLF001
        snapshot_ms = _ms(lambda: snapshot(trainer._state()))  # noqa: SLF001
        payload = serialize_checkpoint(trainer._state())  # noqa: SLF001
        serialize_ms = _ms(lambda: serialize_checkpoint(trainer._state()))  # noqa: SLF001
        # What a run writes (engine.py): last.pt at the start (not fsynced); last.pt at the end,
        # best.pt as a hard link to it, summary.json (fsynced).
        first_ms = _ms(lambda: write_checkpoint_bytes(Path(tmp) / "first.pt", payload, durable=False), 10)
        last_ms = _ms(lambda: write_checkpoint_bytes(Path(tmp) / "last.pt", payload), 10)
        link_ms = _ms(lambda: copy_checkpoint(Path(tmp) / "last.pt", Path(tmp) / "best.pt"), 10)
        summary_ms = _ms(lambda: write_json_atomic(Path(tmp) / "summary.json", {"status": "finished"}), 10)
        file_ms = 2 * serialize_ms + first_ms + last_ms + link_ms + summary_ms
    run_ms = hand_s * 1e3
    return {
        "step events (RunWriter)": steps * settings.epochs * step_event_ms / run_ms,
        "epoch-end state + best copy": settings.epochs * snapshot_ms / run_ms,
        "checkpoint + summary files": file_ms / run_ms,
        "engine overhead (sum)": (steps * settings.epochs * step_event_ms + settings.epochs * snapshot_ms
                                  + file_ms) / run_ms,
        "(state alone, ms)": state_ms,
    }


def _table(rows: dict[str, dict[str, float]], title: str) -> None:
    names = list(next(iter(rows.values())))
    print(f"| {title} | " + " | ".join(rows) + " |")
    print("|---|" + "---:|" * len(rows))
    for name in names:
        cells = [f"{rows[k][name]:.2f}" if name.startswith("(") else f"{rows[k][name] * 100:.1f}%" for k in rows]
        print(f"| {name} | " + " | ".join(cells) + " |")
    print()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--epochs", type=int, help="default: the preset's own (as train_throughput.py)")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    epochs = {key: args.epochs or FULL[key][0] for key in PRESETS}
    _table({key: profile(preset, epochs[key], args.rounds) for key, preset in PRESETS.items()},
           "share of the engine run (pyinstrument)")
    _table({key: account(preset, epochs[key]) for key, preset in PRESETS.items()},
           "share of a run, each cost timed alone")


if __name__ == "__main__":
    main()
