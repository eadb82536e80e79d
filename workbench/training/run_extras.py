"""What a run does besides training: its cost record and its tracking loggers.

`runs.train_project` makes one `RunExtras` per run: before training it makes the cost
estimate (when asked) and the loggers the settings ask for (TensorBoard, MLflow), which listen
to the engine's events like any other listener; it starts NVML's energy counter when the run
starts, and when the run has ended it adds `cost` to summary.json and closes the loggers (an
MLflow logger sends the completed summary as an artifact then).

summary.json's `cost`:

    {"estimate": {...CostEstimate.to_dict()...} | null,
     "measured": {"wall_s": ..., "energy_kwh": ... | null, "energy_basis": "...",
                  "co2_g": ... | null, "grid_g_per_kwh": ...}}
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import torch

from workbench.errors import ProjectFileError
from workbench.files import write_json_atomic
from workbench.run_records import read_json_object
from workbench.training.cost import JOULES_PER_KWH, CostEstimate, estimate_cost
from workbench.training.power import EnergyMeter

log = logging.getLogger(__name__)


class RunExtras:
    """One run's estimate, energy meter and tracking loggers (see the module docstring)."""

    def __init__(self, prepared: Any, run_dir: Path, *, writes: bool, estimate: CostEstimate | bool,
                 single: bool) -> None:
        from workbench.training.tracking import make_loggers

        self.prepared = prepared
        self.run_dir = Path(run_dir)
        self.writes = writes
        settings = prepared.project.training
        self.grid = settings.grid_intensity
        # Only the process that writes the run folder logs; a resumed or distributed run has
        # no single-process estimate to compare with.
        self.estimate: CostEstimate | None = None
        if isinstance(estimate, CostEstimate):
            self.estimate = estimate
        elif estimate and writes and single:
            self.estimate = _estimate_or_none(prepared)
        self.loggers = make_loggers(settings, self.run_dir, prepared) if writes else []
        self.listeners = list(self.loggers)
        self._meter: EnergyMeter | None = None

    def start(self, device: torch.device) -> None:
        """Read the energy counter at the start of training."""
        self._meter = EnergyMeter(device)
        self._meter.start()

    def finish(self, result: Any) -> None:
        """Record the cost in summary.json and close the loggers (after the summary is complete)."""
        joules = self._meter.stop() if self._meter is not None else None
        basis = self._meter.basis if self._meter is not None else "not measured"
        if self.writes:
            record = cost_record(self.estimate, dict(getattr(result, "summary", {}) or {}), joules, basis, self.grid)
            path = self.run_dir / "summary.json"
            try:
                summary = read_json_object(path)
            except ProjectFileError as exc:
                log.warning("cannot record the run's cost: %s", exc)
            else:
                summary["cost"] = record
                write_json_atomic(path, summary)
        for logger in self.loggers:
            try:
                logger.close(self.run_dir)
            except Exception:  # a tracking server that went away must not fail a finished run
                log.exception("closing %r failed", logger)


def _estimate_or_none(prepared: Any) -> CostEstimate | None:
    """The run's cost estimate; None (logged) when it cannot be made: the run itself then says why."""
    try:
        return estimate_cost(prepared.model, prepared.project.graph, prepared.data, prepared.project.training,
                             prepared.model.loss_name)
    except Exception as exc:
        log.warning("no cost estimate: %s", exc)
        return None


def cost_record(estimate: CostEstimate | None, summary: dict[str, Any], joules: float | None, energy_basis: str,
                grid_g_per_kwh: float) -> dict[str, Any]:
    """summary.json's `cost`: the estimate made before the run (or null) beside what the run measured."""
    kwh = joules / JOULES_PER_KWH if joules is not None else None
    return {
        "estimate": estimate.to_dict() if estimate is not None else None,
        "measured": {
            "wall_s": summary.get("duration_s"),
            "energy_kwh": kwh,
            "energy_basis": energy_basis,
            "co2_g": kwh * grid_g_per_kwh if kwh is not None else None,
            "grid_g_per_kwh": grid_g_per_kwh,
        },
    }
