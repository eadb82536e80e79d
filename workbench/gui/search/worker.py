"""The search's background worker: trials run one at a time in a worker thread.

The worker runs `tuning.run_trials` (each trial a normal run trained by the engine) and, after
every trial, reads the study once (`tuning.study.snapshot`: trials, front, importances) and
sends it by signal; the view never touches Optuna's storage from the GUI thread. Stop is a
request: the running trial's training stops after its current step.
"""

from __future__ import annotations

import logging
from typing import Any

from PySide6.QtCore import QObject, Signal, Slot

from workbench.errors import WorkbenchError
from workbench.project import Project
from workbench.tuning.runner import SearchControl, TuneOptions, run_trials
from workbench.tuning.study import snapshot

log = logging.getLogger(__name__)

SEARCH_THREAD = "workbench-search"


class SearchWorker(QObject):
    """Runs a search on `project` (a copy, so that edits meanwhile do not reach the trials)."""

    study_changed = Signal(object)  # tuning.study.StudySnapshot
    epoch_finished = Signal(int, int)  # epoch of the running trial, its epochs
    failed = Signal(str)
    ended = Signal()

    def __init__(self, project: Project, options: TuneOptions) -> None:
        super().__init__()
        self.project = project
        self.options = options
        self.control = SearchControl()
        self._epochs = int(options.space.fixed.get("epochs", project.training.epochs))

    def request_stop(self) -> None:
        """From any thread: no new trial starts, the running one stops after its current step."""
        self.control.request_stop()

    @Slot()
    def run(self) -> None:
        import torch

        torch.set_num_threads(self.options.threads)
        try:
            run_trials(self.project, self.options, control=self.control, listeners=[self._on_event],
                       on_study=lambda study: self.study_changed.emit(
                           snapshot(study, self.options.storage, self.options.objectives)))
        except WorkbenchError as exc:
            self.failed.emit(str(exc))
        except Exception as exc:  # a bug: keep the traceback in the log, keep the app running
            log.exception("the search failed")
            self.failed.emit(f"the search failed unexpectedly ({type(exc).__name__}: {exc}) — this is a bug in Workbench")
        finally:
            self.ended.emit()

    def _on_event(self, event: Any) -> None:
        if type(event).__name__ == "EpochEvent":
            self.epoch_finished.emit(event.epoch, self._epochs)
