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
"""

from __future__ import annotations

import argparse
from typing import Any

import torch

from benchmarks.train_throughput import FULL, PRESETS, engine_run, hand_loop_run, prepared_run

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--epochs", type=int, help="default: the preset's own (as train_throughput.py)")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    rows = {key: profile(preset, args.epochs or FULL[key][0], args.rounds) for key, preset in PRESETS.items()}
    names = list(next(iter(rows.values())))
    print("| share of the engine run | " + " | ".join(rows) + " |")
    print("|---|" + "---:|" * len(rows))
    for name in names:
        print(f"| {name} | " + " | ".join(f"{rows[k][name] * 100:.1f}%" for k in rows) + " |")


if __name__ == "__main__":
    main()
