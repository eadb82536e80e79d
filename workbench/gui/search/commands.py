"""Search edits as undo steps: applying a trial to the project, and marking a parameter searchable."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QCoreApplication
from PySide6.QtGui import QUndoCommand

from workbench.errors import GraphError, WorkbenchError
from workbench.gui.commands import GraphCommand
from workbench.project import Project
from workbench.training.settings import TrainSettings


def split_values(values: dict[str, Any]) -> tuple[dict[tuple[str, str], Any], dict[str, Any]]:
    """`fc1.out_features`-style values by (node name, param), and run settings by name."""
    nodes: dict[tuple[str, str], Any] = {}
    settings: dict[str, Any] = {}
    for name, value in values.items():
        node, dot, param = name.partition(".")
        if dot:
            nodes[(node, param)] = value
        else:
            settings[name] = value
    return nodes, settings


class ApplyTrialCommand(GraphCommand):
    """Set a trial's values in the project: node parameters through the graph's edits, run
    settings through `Project.set_settings`; undo puts every old value back."""

    def __init__(self, project: Project, number: int, values: dict[str, Any],
                 parent: QUndoCommand | None = None) -> None:
        super().__init__(project.graph, QCoreApplication.translate("Search", "Apply trial %1").replace("%1", str(number)),
                         parent)
        self.project = project
        self.node_values, self.setting_values = split_values(values)
        self.old_params: list[tuple[str, str, Any]] = []
        self.old_training: TrainSettings | None = None

    def _node_id(self, graph: Any, name: str) -> str:
        node = graph.node_by_name(name)
        if node is None:
            raise GraphError(QCoreApplication.translate("Search", "the project has no layer named '%1' any more")
                             .replace("%1", name))
        return node.id

    def check(self) -> str | None:
        def apply(graph: Any) -> None:
            for (name, param), value in self.node_values.items():
                graph.set_param(self._node_id(graph, name), param, value)
        refusal = self.refusal_on_copy(apply)
        if refusal is not None:
            return refusal
        try:
            self.project.training.replace(**self.setting_values)
        except WorkbenchError as exc:
            return str(exc)
        return None

    def redo(self) -> None:
        self.old_params = []
        for (name, param), value in self.node_values.items():
            node_id = self._node_id(self.graph, name)
            self.old_params.append((node_id, param, self.graph.set_param(node_id, param, value)))
        self.old_training = self.project.training
        if self.setting_values:
            self.project.set_settings(training=self.project.training.replace(**self.setting_values))

    def undo(self) -> None:
        if self.old_training is not None:
            self.project.set_settings(training=self.old_training)
        for node_id, param, old in reversed(self.old_params):
            self.graph.set_param(node_id, param, old)


class SetSearchCommand(GraphCommand):
    """Mark a node parameter searchable with these values, or not (None): the inspector's
    "search" field."""

    def __init__(self, graph: Any, node_id: str, key: str, entry: Any, parent: QUndoCommand | None = None) -> None:
        node = graph.node(node_id)
        text = (QCoreApplication.translate("Search", "Search %1.%2") if entry is not None
                else QCoreApplication.translate("Search", "Stop searching %1.%2"))
        super().__init__(graph, text.replace("%1", node.name).replace("%2", key), parent)
        self.node_id, self.key, self.entry = node_id, key, entry
        self.old: Any = None

    def check(self) -> str | None:
        return self.refusal_on_copy(lambda graph: graph.set_search(self.node_id, self.key, self.entry))

    def redo(self) -> None:
        self.old = self.graph.set_search(self.node_id, self.key, self.entry)

    def undo(self) -> None:
        self.graph.set_search(self.node_id, self.key, self.old)
