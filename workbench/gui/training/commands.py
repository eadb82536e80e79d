"""Run settings as undoable edits: the training settings and the dataset are part of the project.

An edit in the run settings form becomes a `SetRunSettingsCommand` on the session's undo stack,
like any edit of the graph: Ctrl+Z takes it back, the title shows the project as modified, and
Save writes it. The command changes the project through `Project.set_settings`, whose
`SettingsChanged` event the form (and anything else that shows a setting) follows. Repeated
edits of one setting (clicking a spin box up five times) merge into one undo step; an edit
inside a setting (one field of an image transform) merges only with edits of that same part,
and a structural one (adding a transform) with none.
"""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication
from PySide6.QtGui import QUndoCommand

from workbench.data.bundle import DatasetSpec
from workbench.project import SETTINGS_RECORDS, Project
from workbench.settings_spec import SETTINGS_CONTEXT, SettingSpec, declaration
from workbench.training.settings import TrainSettings

RUN_SETTINGS_COMMAND_ID = 2001


def setting_spec(path: str) -> SettingSpec:
    """The declaration of the setting at `path` ("training.lr", "dataset.source")."""
    key, _, name = path.partition(".")
    return declaration(SETTINGS_RECORDS[key], name)


class SetRunSettingsCommand(QUndoCommand):
    """Replace the project's training settings and/or dataset (one setting's edit).

    `text`: the undo text (default "Change <label>"); `merge_key`: consecutive edits of the same
    setting with equal keys merge into one undo step, and None never merges.
    """

    def __init__(self, project: Project, path: str, training: TrainSettings | None = None,
                 dataset: DatasetSpec | None = None, text: str | None = None, merge_key: str | None = "") -> None:
        if text is None:
            label = QCoreApplication.translate(SETTINGS_CONTEXT, setting_spec(path).label)
            text = QCoreApplication.translate("RunSettings", "Change %1").replace("%1", label)
        super().__init__(text)
        self.project = project
        self.path = path
        self.merge_key = merge_key
        self.old_training, self.new_training = project.training, training or project.training
        self.old_dataset, self.new_dataset = project.dataset, dataset or project.dataset

    def id(self) -> int:  # noqa: A003 (Qt's name)
        return -1 if self.merge_key is None else RUN_SETTINGS_COMMAND_ID  # -1: Qt never merges it

    def mergeWith(self, other: QUndoCommand) -> bool:  # noqa: N802
        if (not isinstance(other, SetRunSettingsCommand) or other.project is not self.project
                or other.path != self.path or other.merge_key != self.merge_key):
            return False
        self.new_training, self.new_dataset = other.new_training, other.new_dataset
        return True

    def redo(self) -> None:
        self.project.set_settings(training=self.new_training, dataset=self.new_dataset)

    def undo(self) -> None:
        self.project.set_settings(training=self.old_training, dataset=self.old_dataset)
