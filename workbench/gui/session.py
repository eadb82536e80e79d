"""One open project in the editor: the document, its undo stack and what analysis found.

The session turns the graph's and the project's listener callbacks into Qt signals for the
canvas and panels (`graph_changed`, `settings_changed`), re-runs validation + shape inference
after every structural edit (coalesced: a paste of fifty layers analyses once) and computes the
model summary a little later, when the user pauses.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtGui import QUndoStack

from workbench.errors import GraphError
from workbench.graph.analysis import Analysis, analyze
from workbench.graph.document import EventKind, Graph, GraphEvent
from workbench.gui.commands import GraphCommand

if TYPE_CHECKING:
    from workbench.graph.summary import ModelSummary
    from workbench.project import Project, SettingsChanged

log = logging.getLogger(__name__)

SUMMARY_DELAY_MS = 250


class EditorSession(QObject):
    """The project being edited."""

    graph_changed = Signal(object)  # GraphEvent
    settings_changed = Signal(object)  # SettingsChanged: the run settings (edit, undo, redo)
    analysis_changed = Signal()
    summary_changed = Signal()
    command_refused = Signal(str)  # the reason, in the user's words

    def __init__(self, project: Project, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.project = project
        self.undo_stack = QUndoStack(self)
        self.undo_stack.setUndoLimit(500)
        self.analysis: Analysis = analyze(project.graph)
        self.summary: ModelSummary | None = None
        self.summary_error: str = ""
        self.batch_size = project.training.batch_size
        self._analysis_due = False
        self._summary_timer = QTimer(self)
        self._summary_timer.setSingleShot(True)
        self._summary_timer.setInterval(SUMMARY_DELAY_MS)
        self._summary_timer.timeout.connect(self.refresh_summary)
        project.graph.subscribe(self._on_graph_event)
        project.subscribe(self._on_settings_changed)
        self._summary_timer.start()

    @property
    def graph(self) -> Graph:
        return self.project.graph

    def close(self) -> None:
        """Stop following the graph and the settings (the session is being replaced)."""
        self._summary_timer.stop()
        for unsubscribe, listener in ((self.project.graph.unsubscribe, self._on_graph_event),
                                      (self.project.unsubscribe, self._on_settings_changed)):
            try:
                unsubscribe(listener)
            except ValueError:
                pass

    # ----- edits ---------------------------------------------------------------------------

    def push(self, command: GraphCommand) -> bool:
        """Apply a command as one undo step; False (and command_refused) when it is refused."""
        reason = command.check()
        if reason:
            self.command_refused.emit(reason)
            return False
        try:
            self.undo_stack.push(command)
        except GraphError as exc:  # a check missed something: report rather than crash
            self.command_refused.emit(str(exc))
            return False
        return True

    # ----- following the document ----------------------------------------------------------

    def _on_graph_event(self, event: GraphEvent) -> None:
        self.graph_changed.emit(event)
        if event.kind is not EventKind.NODE_MOVED and not self._analysis_due:
            self._analysis_due = True
            QTimer.singleShot(0, self.refresh_analysis)

    def _on_settings_changed(self, event: SettingsChanged) -> None:
        self.settings_changed.emit(event)
        if "training.optimizer" in event.paths:  # the summary's memory estimate counts its state
            self._summary_timer.start()

    def refresh_analysis(self) -> None:
        """Re-run validation and shape inference now."""
        self._analysis_due = False
        self.analysis = analyze(self.graph)
        self.analysis_changed.emit()
        self._summary_timer.start()

    def flush(self) -> None:
        """Bring analysis up to date immediately (tests, and before saving or training)."""
        if self._analysis_due:
            self.refresh_analysis()

    def set_batch_size(self, batch_size: int) -> None:
        if batch_size != self.batch_size:
            self.batch_size = batch_size
            self._summary_timer.start()

    def refresh_summary(self) -> None:
        """Recompute the model summary (needs a valid graph)."""
        self._summary_timer.stop()
        if not self.analysis.ok:
            self.summary = None
            self.summary_error = "invalid"
            self.summary_changed.emit()
            return
        from workbench.graph.summary import summarize  # torch: only once there is something to summarize

        try:
            self.summary = summarize(self.graph, batch_size=self.batch_size, optimizer=self.project.training.optimizer)
            self.summary_error = ""
        except GraphError as exc:
            self.summary, self.summary_error = None, str(exc)
        except Exception as exc:  # a layer the meta device cannot run: show it, keep editing
            log.warning("model summary failed: %s", exc)
            self.summary, self.summary_error = None, str(exc)
        self.summary_changed.emit()
