"""The comparison report: one row per variant, measured the same way on the same machine.

For the original and every variant: its files and size, parameters (and non-zero ones),
validation accuracy or loss, onnxruntime latency at batch 1 and 64 (median of repeated runs
after warm-up; PyTorch eager latency too for the original) and the parity figure against the
original PyTorch model. Written as `report.json` (for programs and the app) and `report.md`
(a table for people), with the best trade-offs marked:

- ◆ on the frontier: no other variant is at least as small, as fast and as accurate, and better
  in one of them;
- ★ recommended: the smallest file whose accuracy is within one point of the original's
  (validation loss within 2% for models without an accuracy).
"""

from __future__ import annotations

import dataclasses
import json
import logging
import math
import os
import platform
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from workbench.export.onnx_export import OnnxRunner, eval_mode
from workbench.graph.inputs import call

log = logging.getLogger(__name__)

ACCURACY_SLACK = 0.01  # "within one point"
LOSS_SLACK = 0.02  # relative, for variants judged by loss
LATENCY_BUDGET_S = 2.0  # a latency figure stops repeating after this long (at least 3 timed runs)
REPORT_JSON = "report.json"
REPORT_MD = "report.md"


@dataclass
class VariantReport:
    """One row of the report."""

    name: str
    description: str
    files: list[str]  # relative to the output folder
    size_bytes: int | None  # the deployable model file (ONNX if written, else safetensors / .pt2)
    parameters: int
    nonzero_parameters: int
    val_accuracy: float | None  # classification accuracy, token accuracy for language models
    val_loss: float | None
    latency_ms_batch1: float | None  # onnxruntime, CPU
    latency_ms_batch64: float | None
    max_abs_diff: float | None  # against the original PyTorch model on the parity samples
    tolerance: float | None = None  # the bound max_abs_diff was held to (None: lossy, reported only)
    pytorch_latency_ms_batch1: float | None = None
    pytorch_latency_ms_batch64: float | None = None
    metrics: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    pareto_optimal: bool = False
    recommended: bool = False

    def to_dict(self) -> dict[str, Any]:
        return _finite(dataclasses.asdict(self))


@dataclass
class ExportReport:
    """Every variant of one export, and where and how they were measured."""

    project_name: str
    task: str
    variants: list[VariantReport]
    options: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    environment: dict[str, Any] = field(default_factory=dict)
    created: str = field(default_factory=lambda: time.strftime("%Y-%m-%dT%H:%M:%S%z"))
    out_dir: Path | None = None

    def variant(self, name: str) -> VariantReport:
        for v in self.variants:
            if v.name == name:
                return v
        raise KeyError(name)

    def to_dict(self) -> dict[str, Any]:
        return {
            "project_name": self.project_name,
            "task": self.task,
            "created": self.created,
            "environment": self.environment,
            "options": self.options,
            "variants": [v.to_dict() for v in self.variants],
            "notes": list(self.notes),
        }

    def write(self, out_dir: str | Path) -> tuple[Path, Path]:
        """report.json and report.md in `out_dir`."""
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        json_path, md_path = out / REPORT_JSON, out / REPORT_MD
        json_path.write_text(json.dumps(self.to_dict(), indent=2, ensure_ascii=False, allow_nan=False) + "\n", encoding="utf-8")
        md_path.write_text(self.markdown(), encoding="utf-8")
        return json_path, md_path

    def table_rows(self) -> list[dict[str, str]]:
        """The table as text cells (for the CLI and the app, which show the same table)."""
        rows = []
        for v in self.variants:
            mark = ("★" if v.recommended else "") + ("◆" if v.pareto_optimal else "")
            torch_ms = (
                f"{_ms(v.pytorch_latency_ms_batch1)} / {_ms(v.pytorch_latency_ms_batch64)}"
                if v.pytorch_latency_ms_batch1 is not None else ""
            )
            rows.append({
                "": mark,
                "variant": v.name,
                "size": format_bytes(v.size_bytes),
                "params": f"{v.parameters:,}",
                "non-zero": f"{v.nonzero_parameters:,}",
                "val acc": f"{v.val_accuracy:.2%}" if v.val_accuracy is not None else "–",
                "val loss": f"{v.val_loss:.4f}" if v.val_loss is not None else "–",
                "ORT ms b1": _ms(v.latency_ms_batch1),
                "ORT ms b64": _ms(v.latency_ms_batch64),
                "PyTorch ms b1 / b64": torch_ms,
                "max abs diff": f"{v.max_abs_diff:.2g}" if v.max_abs_diff is not None else "–",
            })
        return rows

    def markdown(self) -> str:
        env = self.environment
        lines = [
            f"# Export report: {self.project_name}",
            "",
            f"Task: {self.task}. Measured {self.created} on {env.get('cpu', 'a CPU')} ({env.get('machine', '?')}; "
            f"torch uses {env.get('threads', '?')} threads), onnxruntime {env.get('onnxruntime', '?')}, "
            f"torch {env.get('torch', '?')}. Latency: median of up to {env.get('latency_repeats', '?')} runs after "
            "warm-up; figures compare within this report only.",
            "",
        ]
        rows = self.table_rows()
        if rows:
            header = list(rows[0])
            lines.append("| " + " | ".join(header) + " |")
            lines.append("|" + "|".join("---" for _ in header) + "|")
            for row in rows:
                lines.append("| " + " | ".join(row[h].replace("|", "\\|") for h in header) + " |")
        lines += [
            "",
            "★ recommended: the smallest file within one point of the original's accuracy"
            " (or 2% of its validation loss). ◆ best trade-off: no other variant is at least as small,"
            " as fast and as accurate while better in one of them.",
            "",
            "## Variants",
            "",
        ]
        for v in self.variants:
            tol = f" (tolerance {v.tolerance:.1g})" if v.tolerance is not None else ""
            lines.append(f"- **{v.name}**: {v.description}. Files: {', '.join(v.files) or 'none'}."
                         + (f" Max abs diff {v.max_abs_diff:.2g}{tol}." if v.max_abs_diff is not None else ""))
            lines.extend(f"  - {note}" for note in v.notes)
        if self.notes:
            lines += ["", "## Notes", ""]
            lines.extend(f"- {note}" for note in self.notes)
        return "\n".join(lines) + "\n"


# ----- measuring --------------------------------------------------------------------------------


def environment(latency_repeats: int) -> dict[str, Any]:
    """Where the figures were measured (they only compare within one report)."""
    import onnxruntime

    return {
        "machine": f"{platform.system()} {platform.machine()}, {os.cpu_count()} cores",
        "cpu": _cpu_name(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "onnxruntime": onnxruntime.__version__,
        "threads": torch.get_num_threads(),
        "latency_repeats": latency_repeats,
    }


def _cpu_name() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def measure_latency(run: Callable[[], Any], *, repeats: int = 20, warmup: int = 3,
                    budget_s: float = LATENCY_BUDGET_S) -> float:
    """Median wall time of `run()` in milliseconds, after `warmup` untimed calls."""
    for _ in range(warmup):
        run()
    times: list[float] = []
    started = time.perf_counter()
    for _ in range(max(1, repeats)):
        t0 = time.perf_counter()
        run()
        times.append((time.perf_counter() - t0) * 1000.0)
        if len(times) >= 3 and time.perf_counter() - started > budget_s:
            break
    return statistics.median(times)


def batch_of(inputs: Any, size: int) -> Any:
    """`size` samples made from `inputs` (repeated when there are fewer); a tuple of inputs
    (a network with several) gives a tuple."""
    if isinstance(inputs, tuple):
        return tuple(batch_of(t, size) for t in inputs)
    reps = math.ceil(size / len(inputs))
    return inputs.repeat(reps, *([1] * (inputs.dim() - 1)))[:size] if reps > 1 else inputs[:size]


def onnx_latency(path: str | Path, inputs: torch.Tensor, repeats: int) -> tuple[float, float]:
    """onnxruntime CPU latency in ms at batch 1 and batch 64."""
    runner = OnnxRunner(path)
    one, many = batch_of(inputs, 1), batch_of(inputs, 64)
    return (measure_latency(lambda: runner(one), repeats=repeats),
            measure_latency(lambda: runner(many), repeats=repeats))


def torch_latency(model: nn.Module, inputs: torch.Tensor, repeats: int) -> tuple[float, float]:
    """PyTorch eager CPU latency in ms at batch 1 and batch 64 (eval mode, no autograd)."""
    one, many = batch_of(inputs, 1), batch_of(inputs, 64)
    with eval_mode(model), torch.inference_mode():
        return (measure_latency(lambda: call(model, one), repeats=repeats),
                measure_latency(lambda: call(model, many), repeats=repeats))


# ----- trade-offs -------------------------------------------------------------------------------


def mark_tradeoffs(variants: list[VariantReport]) -> None:
    """Set `pareto_optimal` and `recommended` on the variants (see the module docstring)."""
    if not variants:
        return

    def quality(v: VariantReport) -> float:
        if v.val_accuracy is not None:
            return v.val_accuracy
        return -v.val_loss if v.val_loss is not None else -math.inf

    def objectives(v: VariantReport) -> tuple[float, float, float]:
        latency = v.latency_ms_batch1 if v.latency_ms_batch1 is not None else v.pytorch_latency_ms_batch1
        return (float(v.size_bytes) if v.size_bytes is not None else math.inf,
                latency if latency is not None else math.inf,
                -quality(v))

    scores = [objectives(v) for v in variants]
    for v, s in zip(variants, scores):
        v.pareto_optimal = not any(
            all(a <= b for a, b in zip(o, s)) and any(a < b for a, b in zip(o, s)) for o in scores if o is not s
        )
    original = variants[0]
    if original.val_accuracy is not None:
        good = [v for v in variants if v.val_accuracy is not None and v.val_accuracy >= original.val_accuracy - ACCURACY_SLACK]
    elif original.val_loss is not None:
        bound = original.val_loss + abs(original.val_loss) * LOSS_SLACK
        good = [v for v in variants if v.val_loss is not None and v.val_loss <= bound]
    else:
        good = list(variants)
    good = good or [original]
    best = min(good, key=lambda v: (objectives(v)[0], objectives(v)[1]))
    for v in variants:
        v.recommended = v is best


# ----- text -------------------------------------------------------------------------------------


def format_bytes(n: int | None) -> str:
    if n is None:
        return "–"
    for unit, size in (("GB", 1e9), ("MB", 1e6), ("KB", 1e3)):
        if n >= size:
            return f"{n / size:.1f} {unit}"
    return f"{n} B"


def _ms(value: float | None) -> str:
    if value is None:
        return "–"
    return f"{value:.3f}" if value < 1 else f"{value:.2f}" if value < 100 else f"{value:.0f}"


def _finite(value: Any) -> Any:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value
