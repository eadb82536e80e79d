"""What a search optimises: the objectives, their directions, and how each is measured.

- validation metrics (`val_accuracy`, `val_loss`, `val_mae`, ...): the last epoch's value, read
  from the run's summary; the per-epoch values are what pruning looks at;
- `params`: the trainable and frozen parameters of the network, from the model summary;
- `flops`: forward FLOPs per sample, from the model summary;
- `latency_ms`: the median time of one forward pass of a single sample on the CPU, measured on
  the built module after a few warm-up runs.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass
from typing import Any

from workbench.errors import TuningError

DIRECTIONS: dict[str, str] = {
    "val_accuracy": "maximize",
    "val_token_accuracy": "maximize",
    "val_loss": "minimize",
    "val_mae": "minimize",
    "val_perplexity": "minimize",
    "params": "minimize",
    "flops": "minimize",
    "latency_ms": "minimize",
}
LATENCY_WARMUP = 3
LATENCY_RUNS = 20


@dataclass(frozen=True)
class Objective:
    """One objective: its name and whether larger is better."""

    name: str
    direction: str  # "maximize" | "minimize"

    @property
    def per_epoch(self) -> bool:
        """Whether the engine reports it after every epoch (so pruning can use it)."""
        return self.name.startswith("val_")


def parse_objectives(text: str | list[str] | tuple[str, ...]) -> tuple[Objective, ...]:
    """`val_accuracy,params` as objectives; TuningError names an unknown or repeated one."""
    names = [n.strip() for n in (text.split(",") if isinstance(text, str) else text) if n.strip()]
    if not names:
        raise TuningError(f"--objectives: name at least one of {', '.join(DIRECTIONS)}")
    for name in names:
        if name not in DIRECTIONS:
            raise TuningError(f"--objectives: unknown objective '{name}' (known: {', '.join(DIRECTIONS)})")
    if len(set(names)) != len(names):
        raise TuningError(f"--objectives: an objective is named twice in {','.join(names)}")
    return tuple(Objective(n, DIRECTIONS[n]) for n in names)


def epoch_value(objective: Objective, val_loss: float | None, val_metrics: dict[str, float]) -> float | None:
    """The objective's value after one epoch, or None when the epoch did not report it."""
    if objective.name == "val_loss":
        return val_loss
    return val_metrics.get(objective.name)


def measure(objectives: tuple[Objective, ...], summary: dict[str, Any], prepared: Any) -> tuple[float, ...]:
    """The objectives' values for a finished run: `summary` is its summary.json, `prepared` the
    runs.PreparedRun it trained. TuningError when the run did not report a metric."""
    from workbench.graph.summary import summarize

    model_summary = None
    values: list[float] = []
    for objective in objectives:
        if objective.per_epoch:
            value = summary.get(objective.name)
            if not isinstance(value, (int, float)):
                raise TuningError(f"the run reported no {objective.name} (its task is {prepared.data.task}); "
                                  "choose an objective the task has")
            values.append(float(value))
        elif objective.name in ("params", "flops"):
            if model_summary is None:
                model_summary = summarize(prepared.project.graph, batch_size=1)
            values.append(float(model_summary.total_params if objective.name == "params" else model_summary.total_flops))
        else:
            values.append(latency_ms(prepared.model, prepared.data))
    return tuple(values)


def latency_ms(model: Any, data: Any) -> float:
    """Median milliseconds of one single-sample forward pass on the CPU (after warm-up runs)."""
    import torch

    dtype = torch.long if data.input_dtype == "int64" else torch.float32
    sample = torch.zeros((1, *data.input_shape), dtype=dtype)
    was_training = model.training
    device = next(model.parameters(), torch.empty(0)).device
    model.eval().to("cpu")
    times: list[float] = []
    try:
        with torch.inference_mode():
            for i in range(LATENCY_WARMUP + LATENCY_RUNS):
                start = time.perf_counter()
                model(sample)
                if i >= LATENCY_WARMUP:
                    times.append((time.perf_counter() - start) * 1000)
    finally:
        model.train(was_training).to(device)
    return statistics.median(times)
