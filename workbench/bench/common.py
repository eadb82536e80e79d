"""Helpers shared by the benchmarks: alternating runs, medians and percentiles, the machine,
and running one piece alone."""

from __future__ import annotations

import argparse
import math
import os
import platform
import statistics
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")
U = TypeVar("U")


def median(values: Sequence[float]) -> float:
    return float(statistics.median(values))


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100), nearest-rank: a value that was actually measured."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return float(ordered[rank - 1])


def alternate(a: Callable[[], T], b: Callable[[], U], rounds: int) -> tuple[list[T], list[U]]:
    """Run `a` and `b` `rounds` times each, interleaved A B, B A, A B, ...

    Interleaving spreads slow drifts of the machine (a neighbour's load, thermal state) over
    both sides; swapping the order each round keeps either side from always running second.
    """
    xs: list[T] = []
    ys: list[U] = []
    for i in range(rounds):
        if i % 2 == 0:
            xs.append(a())
            ys.append(b())
        else:
            ys.append(b())
            xs.append(a())
    return xs, ys


def paired_ratio(xs: Sequence[float], ys: Sequence[float]) -> float:
    """The median of x_i / y_i over the rounds of `alternate`.

    Each round's two runs are back to back, so a drift of the machine's speed (a neighbour's
    load on a shared machine changes it by 10-40 % from one minute to the next) scales both and
    cancels in their ratio; a ratio of the two sides' medians keeps whatever drift the rounds
    did not spread evenly.
    """
    return median([x / y for x, y in zip(xs, ys, strict=True)])


def offscreen_qt() -> None:
    """Qt without a screen, before any QApplication exists (an empty value would survive setdefault)."""
    if not os.environ.get("QT_QPA_PLATFORM"):
        os.environ["QT_QPA_PLATFORM"] = "offscreen"


def qt_app() -> Any:
    """The app's QApplication (`workbench.gui.app.ensure_app`), offscreen unless a platform is set."""
    offscreen_qt()
    from workbench.gui.app import ensure_app  # also guards against PySide6's lost references

    return ensure_app()


def none_refs_lost_per_void_call() -> float:
    """References to None that one call of a void Qt method takes away (0 when bindings are sound).

    PySide6 6.12.0 / shiboken6 6.12.0 return None from every void method without a reference of
    their own; on CPython < 3.12 (None is not immortal there) None's count then runs down by one
    per call until the interpreter aborts ("none_dealloc: deallocating None"). A live plot
    makes hundreds of such calls per repaint.
    """
    from PySide6.QtCore import QPointF

    point = QPointF(0.0, 0.0)
    before = sys.getrefcount(None)
    for _ in range(100):
        point.setX(1.0)
    return (before - sys.getrefcount(None)) / 100


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _memory_gb() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 1024**2, 1)
    except OSError:
        pass
    return None


def load_average() -> float | None:
    """1-minute load average (Unix): above the core count, other work shares the CPUs."""
    try:
        return round(os.getloadavg()[0], 2)
    except (AttributeError, OSError):
        return None


def machine() -> dict[str, Any]:
    """What the numbers were measured on."""
    import torch

    info: dict[str, Any] = {
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "memory_gb": _memory_gb(),
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(),
        "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
        "load_average_start": load_average(),
    }
    for name in ("onnxruntime", "PySide6", "pyqtgraph"):
        try:
            module = __import__(name)
            info[name] = getattr(module, "__version__", "?")
        except ImportError:
            info[name] = None
    return info


def run_alone(piece: str, description: str) -> None:
    """`python -m workbench.bench.PIECE [--quick]`: the piece exactly as `workbench bench` runs it
    (the same torch thread count: alone, torch's default would make its ratios incomparable),
    its numbers printed; exit status 1 if it failed."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--quick", action="store_true", help="fewer repetitions, as `workbench bench --quick`")
    args = parser.parse_args()
    from workbench.bench import run_benchmarks

    results = run_benchmarks(quick=args.quick, only=[piece])
    for name, value in results.items():
        if isinstance(value, float):
            print(f"{name:45s} {value:12.4g}")
    for name, error in results.get("errors", {}).items():
        print(f"{name}: {error}", file=sys.stderr)
    if results.get("errors"):
        raise SystemExit(1)
