"""The run's cost before it is paid: an Estimate button and its answer, under the run settings.

Pressing Estimate asks the panel (`estimate_requested`) to run `estimate_project` in a thread
of its own: it loads the data, builds the network and times a few real training steps
(training.cost), which takes seconds, so the window never waits for it. The answer is the
core's own lines: FLOPs, time on the chosen device, energy and CO₂, each saying what it rests on.

The estimate shown is sent with the next run when the project has not changed since
(`estimate_for`), so that summary.json holds it beside the measured time, as a command-line run's does.
`cost_fact` gives the Results panel's words for what a finished run measured beside its estimate.
"""

from __future__ import annotations

import json
from typing import Any

from PySide6.QtCore import QCoreApplication, QEvent, Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from workbench.gui import theme

class EstimateView(QWidget):
    """An Estimate button and the estimate's lines (or why there is none)."""

    estimate_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.button = QPushButton()
        self.text = QLabel()
        self.text.setWordWrap(True)
        self.text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.text.hide()
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.button)
        row.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 4, 0, 0)
        layout.addLayout(row)
        layout.addWidget(self.text)
        self.estimate: Any = None  # the last CostEstimate shown
        self.estimated_for: str | None = None  # estimate_key of the project it was made for
        self.button.clicked.connect(self._clicked)
        self.retranslate()

    def retranslate(self) -> None:
        """Texts in the current language."""
        self.button.setText(QCoreApplication.translate("EstimateView", "Estimate cost"))
        self.button.setToolTip(QCoreApplication.translate("EstimateView", "Time a few training steps on the chosen device, then estimate the run's "
                                   "compute, time, energy and CO₂"))

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)

    def _clicked(self) -> None:
        self.set_busy()
        self.estimate_requested.emit()

    def set_busy(self) -> None:
        """Shown while the steps are being timed."""
        self.estimate = None
        self.button.setEnabled(False)
        self.text.setStyleSheet("")
        self.text.setText(QCoreApplication.translate("EstimateView", "Timing a few training steps…"))
        self.text.show()

    def show_estimate(self, estimate: Any, key: str | None = None) -> None:
        """A training.cost.CostEstimate, in the core's words; `key`: estimate_key of its project."""
        self.estimate = estimate
        self.estimated_for = key
        self.button.setEnabled(True)
        self.text.setStyleSheet("")
        self.text.setText("\n".join(estimate.lines()))
        self.text.show()

    def estimate_for(self, project: Any, fit_data: bool) -> dict[str, Any] | None:
        """The estimate shown, as a record for the run's summary, if it was made for exactly this
        project (network, data and settings) and data fitting; None otherwise."""
        if self.estimate is None or self.estimated_for != estimate_key(project, fit_data):
            return None
        return dict(self.estimate.to_dict())

    def show_message(self, message: str) -> None:
        """Why there is no estimate (the data cannot load, the device is missing...)."""
        self.estimate = None
        self.estimated_for = None
        self.button.setEnabled(True)
        self.text.setStyleSheet(f"color: {theme.colors().error.name()};")
        self.text.setText(QCoreApplication.translate("EstimateView", "No estimate: %1").replace("%1", message))
        self.text.show()


def estimate_key(project: Any, fit_data: bool) -> str:
    """What an estimate depends on: the project as saved (network, data, settings) less where
    its nodes sit on the canvas, and whether the network is fitted to the data."""
    from workbench.project import project_to_dict

    return json.dumps([_without_positions(project_to_dict(project)), fit_data], sort_keys=True, default=str)


def _without_positions(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_positions(v) for k, v in value.items() if k != "position"}
    if isinstance(value, list):
        return [_without_positions(v) for v in value]
    return value


def estimate_project(project: Any, fit_data: bool = False) -> Any:
    """The cost estimate of training `project` as it stands (worker thread: seconds)."""
    from workbench.runs import prepare_run
    from workbench.training.cost import estimate_cost

    prepared = prepare_run(project, None, project.dataset if fit_data else None)
    return estimate_cost(prepared.model, prepared.project.graph, prepared.data, prepared.project.training,
                         prepared.model.loss_name)


def cost_fact(summary: dict[str, Any]) -> str | None:
    """"time 24.1 s (estimated 27.3 s)", and the energy where NVML measured it, from
    summary.json's cost; None when the run recorded none."""
    cost = summary.get("cost")
    if not isinstance(cost, dict) or not isinstance(cost.get("measured"), dict):
        return None
    measured = cost["measured"]
    wall = measured.get("wall_s")
    if not isinstance(wall, (int, float)):
        return None
    text = QCoreApplication.translate("EstimateView", "time %1 s").replace("%1", f"{wall:.1f}")
    estimate = cost.get("estimate")
    if isinstance(estimate, dict) and isinstance(estimate.get("time_s"), (int, float)):
        text += " " + QCoreApplication.translate("EstimateView", "(estimated %1 s)").replace("%1", f"{estimate['time_s']:.1f}")
    energy = measured.get("energy_kwh")
    if isinstance(energy, (int, float)):
        text += ", " + QCoreApplication.translate("EstimateView", "%1 kWh measured").replace("%1", f"{energy:.3g}")
    return text
