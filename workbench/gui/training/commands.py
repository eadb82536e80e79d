"""Run settings as undoable edits: the training settings and the dataset are part of the project.

An edit in the run settings form changes `project.training` or `project.dataset` through the
session's undo stack, like any edit of the graph: Ctrl+Z takes it back, the title shows the
project as modified, and Save writes it. Repeated edits of one field (clicking a spin box up
five times) merge into one undo step.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QCoreApplication
from PySide6.QtGui import QUndoCommand

from workbench.data.bundle import DatasetSpec
from workbench.project import Project
from workbench.training.settings import TrainSettings

RUN_SETTINGS_COMMAND_ID = 2001


class SetRunSettingsCommand(QUndoCommand):
    """Replace the project's training settings and/or dataset (one field's edit)."""

    def __init__(self, project: Project, field: str, label: str, training: TrainSettings | None = None,
                 dataset: DatasetSpec | None = None, on_change: Callable[[], None] | None = None) -> None:
        super().__init__(QCoreApplication.translate("RunSettings", "Change %1").replace("%1", label))
        self.project = project
        self.field = field
        self.old_training, self.new_training = project.training, training or project.training
        self.old_dataset, self.new_dataset = project.dataset, dataset or project.dataset
        self.on_change = on_change

    def id(self) -> int:  # noqa: A003 (Qt's name)
        return RUN_SETTINGS_COMMAND_ID

    def mergeWith(self, other: QUndoCommand) -> bool:  # noqa: N802
        if not isinstance(other, SetRunSettingsCommand) or other.project is not self.project or other.field != self.field:
            return False
        self.new_training, self.new_dataset = other.new_training, other.new_dataset
        return True

    def redo(self) -> None:
        self.project.training, self.project.dataset = self.new_training, self.new_dataset
        if self.on_change is not None:
            self.on_change()

    def undo(self) -> None:
        self.project.training, self.project.dataset = self.old_training, self.old_dataset
        if self.on_change is not None:
            self.on_change()
