"""Training in the app: run settings, the worker thread, live curves, the runs list and results.

    panel = TrainingPanel(window)       # main_window.py builds it and docks its widgets
    window.train()                      # Train: checks the graph, then panel.start(project)
    panel.wait_for_run()                # -> RunOutcome once the worker's thread has finished

Modules: worker.py (QThread worker, event buffer, distributed job follower), panel.py (the
controller and the Training dock), settings_form.py (every engine setting, devices, memory),
plots.py (pyqtgraph curves), series.py (growing arrays; no Qt), progress.py, runs_list.py,
run_folders.py (no Qt), results.py and results_data.py (no Qt), commands.py (undoable settings).
"""

from __future__ import annotations

from workbench.gui.preload import live_threads
from workbench.gui.training.panel import ReadOnlyBanner, TrainingPanel
from workbench.gui.training.worker import RunOutcome, RunRequest

__all__ = ["ReadOnlyBanner", "RunOutcome", "RunRequest", "TrainingPanel", "live_threads"]
