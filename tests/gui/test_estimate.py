"""The run's cost estimate in the app: computed off the GUI thread on demand, shown under the run
settings; the Results panel shows a run's measured time beside its estimate."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QTimer

from workbench.gui.training.estimate_view import cost_fact
from workbench.gui.training.results_data import RunResults

pytestmark = pytest.mark.usefixtures("no_dangling_threads")


def test_estimate_button_times_steps_in_the_background_and_shows_the_figures(window, qtbot) -> None:  # noqa: ANN001
    window.training_overrides = {"epochs": 2, "device": "cpu"}
    assert window.open_preset("digits-mlp")
    window.training_overrides = {}
    view = window.training.estimate
    ticks = []
    timer = QTimer()
    timer.timeout.connect(lambda: ticks.append(1))
    timer.start(10)
    view.button.click()
    assert not view.button.isEnabled()  # the click returned at once; the work goes on elsewhere
    assert view.text.text() == "Timing a few training steps…"
    qtbot.waitUntil(lambda: view.button.isEnabled(), timeout=120_000)
    timer.stop()
    assert ticks  # the event loop ran while the steps were timed
    estimate = view.estimate
    assert estimate is not None, view.text.text()
    assert estimate.epochs == 2 and estimate.device == "cpu" and estimate.timed_steps >= 10
    lines = view.text.text().splitlines()
    assert lines == estimate.lines()
    assert lines[0].startswith("compute: ") and "× 2 epochs × 3 (forward + backward)" in lines[0]
    assert "15 W/core assumption" in lines[2] and lines[3].startswith("CO₂: ")


def test_an_estimate_that_cannot_be_made_says_why(window, qtbot, monkeypatch) -> None:  # noqa: ANN001
    import workbench.runs

    def no_data(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        from workbench.errors import DataError

        raise DataError("dataset 'x.csv': no such file")

    monkeypatch.setattr(workbench.runs, "prepare_run", no_data)
    assert window.open_preset("digits-mlp")
    view = window.training.estimate
    view.button.click()
    qtbot.waitUntil(lambda: view.button.isEnabled(), timeout=60_000)
    assert view.text.text() == "No estimate: dataset 'x.csv': no such file"
    assert view.estimate is None


SUMMARY = {"cost": {"estimate": {"time_s": 27.34}, "measured": {"wall_s": 24.14, "energy_kwh": None}}}


def test_cost_fact_puts_the_measured_time_beside_the_estimate() -> None:
    assert cost_fact(SUMMARY) == "time 24.1 s (estimated 27.3 s)"
    measured = {"cost": {"estimate": None, "measured": {"wall_s": 10.0, "energy_kwh": 0.0012}}}
    assert cost_fact(measured) == "time 10.0 s, 0.0012 kWh measured"
    assert cost_fact({}) is None


def test_results_header_shows_the_cost(window) -> None:  # noqa: ANN001
    view = window.training.results
    results = RunResults(Path("/runs/r1"), "classification", "last.pt", epoch=2, val_samples=3,
                         class_names=["a", "b"], confusion=np.array([[1, 0], [1, 1]]), accuracy=2 / 3,
                         summary=SUMMARY)
    view.show_results(results)
    assert view.header.text().endswith(" · time 24.1 s (estimated 27.3 s)")


def test_a_run_of_the_estimated_project_records_the_estimate_beside_its_time(window, qtbot, tmp_path,  # noqa: ANN001
                                                                            monkeypatch) -> None:
    import json

    monkeypatch.chdir(tmp_path)
    window.training.interactive = False
    window.training_overrides = {"epochs": 1, "device": "cpu"}
    assert window.open_preset("digits-mlp")
    window.training_overrides = {}
    view = window.training.estimate
    view.button.click()
    qtbot.waitUntil(lambda: view.button.isEnabled(), timeout=120_000)
    assert view.estimate is not None
    try:
        with qtbot.waitSignal(window.training.run_finished, timeout=120_000) as blocker:
            assert window.train()
        outcome = blocker.args[0]
        assert outcome.status == "finished", outcome.message
        cost = json.loads((outcome.run_dir / "summary.json").read_text())["cost"]
        assert cost["estimate"] == json.loads(json.dumps(view.estimate.to_dict()))
        assert cost["measured"]["wall_s"] > 0
        # Once the settings change, the estimate no longer describes the run: none is sent.
        window.session.project.training = window.session.project.training.replace(epochs=2)
        assert view.estimate_for(window.session.project, False) is None
    finally:
        window.training.shutdown()
