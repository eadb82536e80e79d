"""Train every bundled preset with its own settings and print the README's presets table.

    python benchmarks/presets.py [--only NAME ...] [--json PATH]

Each preset trains exactly as `workbench train PRESET` does; the time is the whole run
(data loading excluded). For the language model the bigram baseline on the same split is
printed beside its validation loss.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from pathlib import Path

import torch

from workbench.data.text import bigram_baseline_loss
from workbench.graph.summary import format_count
from workbench.presets import list_presets, load_preset
from workbench.runs import prepare_run, train_project


def measure(name: str) -> dict:
    project = load_preset(name)
    prepared = prepare_run(project)
    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        result = train_project(prepared, Path(tmp) / "run")
        elapsed = time.perf_counter() - t
    summary = result.summary
    row = {
        "preset": name,
        "status": result.status,
        "epochs": summary.get("epochs"),
        "parameters": summary.get("parameters"),
        "val_loss": summary.get("val_loss"),
        "seconds": round(elapsed, 1),
    }
    for key in ("val_accuracy", "val_mae", "val_token_accuracy"):
        if key in summary:
            row[key] = summary[key]
    if prepared.data.task == "language_model":
        row["bigram_val_loss"] = bigram_baseline_loss(prepared.data)
    return row


def result_text(row: dict) -> str:
    if "val_accuracy" in row:
        return f"val accuracy **{row['val_accuracy']:.3f}**"
    if "bigram_val_loss" in row:
        return f"val loss **{row['val_loss']:.2f}** nats/char (bigram baseline {row['bigram_val_loss']:.2f})"
    if "val_mae" in row:
        return f"val MSE **{row['val_loss']:.3f}**, MAE {row['val_mae']:.3f} (standardised target)"
    return f"val loss {row['val_loss']:.3f}"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--only", nargs="*")
    parser.add_argument("--json")
    args = parser.parse_args()
    torch.set_num_threads(os.cpu_count() or 1)
    infos = {p.name: p for p in list_presets()}
    rows = [measure(name) for name in infos if not args.only or name in args.only]
    print(f"Measured on {platform.processor() or platform.machine()}, {os.cpu_count()} cores, torch {torch.__version__}\n")
    print("| preset | task | data | params | epochs | result | time |")
    print("|---|---|---|---|---|---|---|")
    for row in rows:
        info = infos[row["preset"]]
        print(f"| `{row['preset']}` | {info.task} | {info.dataset} | {format_count(info.parameters)} | "
              f"{row['epochs']} | {result_text(row)} | {row['seconds']:.0f} s |")
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
