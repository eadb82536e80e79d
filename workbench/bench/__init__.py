"""`workbench bench`: the benchmarks in this package, run side by side.

    results = run_benchmarks(quick=True)        # {key: number, ..., "machine": {...}, ...}
    print(format_table(results))

Each piece is a module of this package (`python -m workbench.bench.NAME [--quick]` runs one
alone), so an installed wheel benchmarks itself as a clone does; the repository's `benchmarks/`
folder keeps the scripts that are not part of the command. Each piece returns numbers under fixed keys;
`GOALS` says which of them have a goal and what it is. A piece that fails is recorded under
"errors" and the others still run. Nothing here imports Qt or torch until a piece needs it.

Every training comparison runs with `threads` intra-op threads on both sides (default 1; see
docs/performance.md for why a shared 2-core machine needs that to give repeatable ratios).
"""

from __future__ import annotations

import importlib
import logging
import math
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from workbench.errors import WorkbenchError

log = logging.getLogger(__name__)

DEFAULT_THREADS = 1


@dataclass(frozen=True)
class Goal:
    """A key of the results with its goal (`target` None: reported, no goal)."""

    key: str
    unit: str
    op: str = ""  # ">=" or "<="; "" without a goal
    target: float | None = None

    def met(self, value: float | None) -> bool | None:
        if self.target is None or value is None or not math.isfinite(value):
            return None
        return value >= self.target if self.op == ">=" else value <= self.target

    def text(self) -> str:
        return "" if self.target is None else f"{self.op} {self.target:g}"


# The table, in the order it is printed.
GOALS: tuple[Goal, ...] = (
    Goal("train_throughput_ratio", "×", ">=", 0.98),
    Goal("train_throughput_ratio_mlp", "×", ">=", 0.98),
    Goal("train_throughput_ratio_cnn", "×", ">=", 0.98),
    Goal("train_throughput_ratio_transformer", "×", ">=", 0.98),
    Goal("gui_train_throughput_ratio", "×", ">=", 0.95),
    Goal("event_loop_lag_p99_ms", "ms", "<=", 16),
    Goal("event_loop_lag_max_ms", "ms", "<=", 50),
    Goal("step_to_plot_latency_ms_median", "ms", "<=", 100),
    Goal("gui_thread_cpu_share_while_training", "×"),
    Goal("train_click_to_first_step_s", "s", "<=", 1.0),
    Goal("plot_redraw_ms_1e6", "ms", "<=", 16),
    Goal("plot_repaint_ms_1e6", "ms", "<=", 16),
    Goal("plot_redraw_ms_1e6_plotwidget", "ms", "<=", 16),
    Goal("shape_inference_ms_200_nodes", "ms", "<=", 20),
    Goal("startup_to_window_s", "s", "<=", 1.5),
    Goal("onnx_vs_torch_latency_ratio_batch1", "×"),
    Goal("int8_vs_fp32_latency_ratio", "×"),
    Goal("int8_vs_fp32_latency_ratio_batch256", "×"),
    Goal("qt_none_refs_lost_per_void_call", "refs"),
    Goal("train_throughput_ratio_cuda", "×", ">=", 0.98),
    Goal("data_loading_ratio", "×", ">=", 0.95),
    Goal("data_memory_growth", "×", "<=", 1.2),
    Goal("csv_load_vs_pandas", "×", "<=", 2),
    Goal("serve_requests_per_s", "req/s"),
    Goal("serve_p99_ms", "ms"),
    Goal("serve_batching_gain", "×", ">=", 1.5),
    Goal("serve_vs_plain_fastapi", "×", ">=", 1.2),
)
# The keys the issue asks for on every machine (the CUDA ones only where there is a GPU).
REQUIRED_KEYS: tuple[str, ...] = (
    "train_throughput_ratio", "train_throughput_ratio_mlp", "train_throughput_ratio_cnn",
    "train_throughput_ratio_transformer", "gui_train_throughput_ratio", "event_loop_lag_p99_ms",
    "event_loop_lag_max_ms", "step_to_plot_latency_ms_median", "train_click_to_first_step_s", "plot_redraw_ms_1e6",
    "shape_inference_ms_200_nodes", "startup_to_window_s", "onnx_vs_torch_latency_ratio_batch1",
    "int8_vs_fp32_latency_ratio", "data_loading_ratio", "data_memory_growth",
    "csv_load_vs_pandas",
    "serve_requests_per_s", "serve_p99_ms", "serve_batching_gain", "serve_vs_plain_fastapi",
)
CUDA_KEYS: tuple[str, ...] = ("train_throughput_ratio_cuda", "train_throughput_ratio_cuda_mlp",
                              "train_throughput_ratio_cuda_cnn", "train_throughput_ratio_cuda_transformer")


@dataclass(frozen=True)
class Piece:
    """One benchmark module and the function that measures it."""

    name: str  # module of workbench.bench
    what: str  # one line for the progress output
    measure: Callable[[ModuleType, bool, bool], dict[str, float]]  # (module, quick, smoke)


def _plain(module: ModuleType, quick: bool, smoke: bool) -> dict[str, float]:
    return module.measure(quick, smoke=smoke)


def _cuda(module: ModuleType, quick: bool, smoke: bool) -> dict[str, float]:
    return module.measure(quick, smoke=smoke, device="cuda", suffix="_cuda")


PIECES: tuple[Piece, ...] = (
    Piece("shape_inference", "shape inference of a 200-node graph", _plain),
    Piece("startup", "start-up to the window (separate processes)", _plain),
    Piece("plot_redraw", "plot redraw with 1,000,000 points", _plain),
    Piece("inference", "ONNX vs PyTorch, int8 vs fp32 latency", _plain),
    Piece("train_throughput", "engine vs hand-written loop (MLP, CNN, Transformer)", _plain),
    Piece("gui_training", "training in the app: throughput, event-loop lag, step-to-plot latency", _plain),
    Piece("data_loading", "image pipeline vs torchvision's ImageFolder; memory at 5,000 vs 50,000 images", _plain),
    Piece("tables", "CSV loading vs pandas.read_csv (1,000,000 rows)", _plain),
    Piece("serving", "HTTP serving, 32 clients: batching vs none vs a plain FastAPI app", _plain),
)
CUDA_PIECE = Piece("train_throughput", "engine vs hand-written loop on CUDA with AMP", _cuda)


def _give_collection_back() -> None:
    """A GUI piece's app collects garbage from its event loop (workbench.gui.collector); the
    pieces after it run without one, as `workbench train` does, so Python's own collection
    comes back (the next GUI piece's app installs its collector again)."""
    collector = sys.modules.get("workbench.gui.collector")
    if collector is not None:
        collector.uninstall_main_thread_collector()


def run_benchmarks(
    quick: bool = False,
    threads: int | None = DEFAULT_THREADS,
    only: Iterable[str] | None = None,
    progress: Callable[[str], None] | None = None,
    smoke: bool = False,
) -> dict[str, Any]:
    """Run the pieces (`only`: their module names) and return every number with its context.

    `threads`: torch's intra-op threads for every piece (None: leave torch's default).
    `smoke`: every piece at a token size (one epoch, a few repetitions), for tests: the same code
    paths and keys in seconds, numbers that mean nothing.
    """
    import torch

    if threads is not None:
        torch.set_num_threads(threads)
    common = importlib.import_module("workbench.bench.common")
    say = progress or (lambda _text: None)
    chosen = set(only) if only is not None else None
    unknown = (chosen or set()) - {p.name for p in PIECES}
    if unknown:
        raise WorkbenchError(f"no benchmark named {', '.join(sorted(unknown))} (known: {', '.join(p.name for p in PIECES)})")
    results: dict[str, Any] = {}
    errors: dict[str, str] = {}
    timings: dict[str, float] = {}
    machine = common.machine()
    pieces = [p for p in PIECES if chosen is None or p.name in chosen]
    if torch.cuda.is_available() and (chosen is None or "train_throughput" in chosen):
        pieces.append(CUDA_PIECE)
    t_all = time.perf_counter()
    for piece in pieces:
        say(f"{piece.what}…")
        t = time.perf_counter()
        try:
            module = importlib.import_module(f"workbench.bench.{piece.name}")
            values = piece.measure(module, quick, smoke)
        except Exception as exc:  # one broken piece must not hide the others' numbers
            log.exception("benchmark %s failed", piece.name)
            errors[piece.name if piece is not CUDA_PIECE else "train_throughput_cuda"] = f"{type(exc).__name__}: {exc}"
            continue
        finally:
            timings[piece.name if piece is not CUDA_PIECE else "train_throughput_cuda"] = round(time.perf_counter() - t, 1)
            _give_collection_back()
        results.update({k: float(v) for k, v in values.items()})
    machine["load_average_end"] = common.load_average()
    out: dict[str, Any] = dict(sorted(results.items()))
    out["machine"] = machine
    out["settings"] = {"quick": quick, "smoke": smoke, "torch_threads": torch.get_num_threads(),
                       "seconds": round(time.perf_counter() - t_all, 1), "seconds_per_piece": timings,
                       "command": "workbench bench" + (" --quick" if quick else "")}
    if not torch.cuda.is_available():
        out["skipped"] = {key: "no CUDA device on this machine" for key in CUDA_KEYS}
    if errors:
        out["errors"] = errors
    return out


def write_json(results: dict[str, Any], path: str | Path) -> Path:
    """The results as JSON, atomically (NaN and infinities as null: JSON has neither)."""
    from workbench.files import write_json_atomic

    return write_json_atomic(path, results)


def table_rows(results: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    """(key, value, goal, met) for every key with a goal entry that was measured or skipped."""
    rows = []
    skipped = results.get("skipped", {})
    for goal in GOALS:
        value = results.get(goal.key)
        if value is None:
            if goal.key in skipped:
                rows.append((goal.key, "—", goal.text(), "skipped: " + skipped[goal.key]))
            elif goal.key in REQUIRED_KEYS:
                rows.append((goal.key, "—", goal.text(), "not measured"))
            continue
        met = goal.met(value)
        rows.append((goal.key, _format(value, goal.unit), goal.text(), "" if met is None else ("yes" if met else "NO")))
    return rows


def _format(value: float, unit: str) -> str:
    if not math.isfinite(value):
        return str(value)
    if unit == "×":
        return f"{value:.3f}"
    if unit == "refs":
        return f"{value:g}"
    return f"{value:.3g} {unit}" if abs(value) < 100 else f"{value:.0f} {unit}"


def format_table(results: dict[str, Any], markdown: bool = False) -> str:
    """The results as a text table (or a Markdown one, for docs/performance.md)."""
    header = ("key", "value", "goal", "met?")
    rows = table_rows(results)
    if markdown:
        lines = ["| " + " | ".join(header) + " |", "|---|---:|---|---|"]
        lines += ["| `" + r[0] + "` | " + " | ".join(r[1:]) + " |" for r in rows]
        return "\n".join(lines)
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(4)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(header, widths)).rstrip(), "  ".join("-" * w for w in widths)]
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows]
    return "\n".join(lines)


def describe_machine(results: dict[str, Any]) -> str:
    """One line: what the numbers were measured on."""
    m = results.get("machine", {})
    s = results.get("settings", {})
    gpu = m.get("gpu") or "no GPU"
    return (f"{m.get('cpu')}, {m.get('cores')} cores, {m.get('memory_gb')} GB, {gpu}; {m.get('os')}; "
            f"Python {m.get('python')}, torch {m.get('torch')} ({s.get('torch_threads')} intra-op thread(s)), "
            f"onnxruntime {m.get('onnxruntime')}, PySide6 {m.get('PySide6')}, pyqtgraph {m.get('pyqtgraph')}; "
            f"load average {m.get('load_average_start')} → {m.get('load_average_end')}")
