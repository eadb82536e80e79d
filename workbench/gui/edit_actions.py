"""Editing in the window: adding layers, delete, clipboard (copy/cut/paste/duplicate), blocks,
auto-layout. Every change is a command pushed through the session.

A mixin of MainWindow: it uses the window's session, scene, view and block library.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QByteArray, QMimeData, QPointF, QTimer
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QInputDialog

from workbench.errors import GraphError
from workbench.gui.canvas.layout import auto_layout
from workbench.gui.commands import AddNodesCommand, RemoveCommand, ReplaceHeadCommand, SetTrainingCommand
from workbench.gui.fragments import (
    MIME_FRAGMENT,
    NodeRecord,
    fragment_bounds,
    fragment_from_text,
    fragment_of,
    fragment_to_text,
    instantiate,
)

if TYPE_CHECKING:
    from workbench.gui.main_window import MainWindow

    _Base = MainWindow
else:
    _Base = object

PASTE_OFFSET = 40.0


class EditActions(_Base):
    """Selection-based edits and insertions."""

    def add_layer_at(self, type_id: str, pos: QPointF) -> str | None:
        return self.scene.add_layer(type_id, pos)

    def add_layer_from_palette(self, type_id: str) -> str | None:
        """Double-click / Enter in the palette: after the selected layer (connected), else in the
        middle of the view."""
        if self.session is None:
            return None
        graph = self.session.graph
        selected = self.scene.selected_node_ids()
        if len(selected) == 1:
            src = graph.node(selected[0])
            trial_graph = graph.copy()
            trial = trial_graph.add_node(type_id)
            if trial_graph.can_connect(src.id, trial.id) is None and src.type != "Output":
                x, y = src.position[0] + 210.0, src.position[1]
                occupied = {(round(n.position[0]), round(n.position[1])) for n in graph.nodes}
                while (round(x), round(y)) in occupied:
                    y += 120.0
                record = NodeRecord(trial.id, trial.type, trial.name, trial.params, (x, y))
                from workbench.gui.fragments import EdgeRecord

                command = AddNodesCommand(graph, [record], [EdgeRecord(src.id, trial.id, trial_graph.free_port(trial.id) or "in")])
                if self.session.push(command):
                    self.scene.select_nodes([trial.id])
                    self.view.center_on_nodes([trial.id])
                    return trial.id
        center = self.view.mapToScene(self.view.viewport().rect().center())
        return self.scene.add_layer(type_id, center)

    def delete_selection(self) -> None:
        if self.session is None:
            return
        ids, edges = self.scene.selected_node_ids(), self.scene.selected_edges()
        if ids or edges:
            self.session.push(RemoveCommand(self.session.graph, ids, edges))

    def select_all(self) -> None:
        self.scene.select_nodes(list(self.scene.nodes))

    def copy(self) -> bool:
        if self.session is None:
            return False
        ids = self.scene.selected_node_ids()
        if not ids:
            return False
        text = fragment_to_text(fragment_of(self.session.graph, ids))
        mime = QMimeData()
        mime.setData(MIME_FRAGMENT, QByteArray(text.encode()))
        mime.setText(text)
        QGuiApplication.clipboard().setMimeData(mime)
        self._paste_count = 0
        return True

    def cut(self) -> None:
        if self.copy() and self.session is not None:
            ids = self.scene.selected_node_ids()
            command = RemoveCommand(self.session.graph, ids)
            command.setText(self.tr("Cut %1 layers").replace("%1", str(len(ids))))
            self.session.push(command)

    def paste(self) -> list[str]:
        if self.session is None:
            return []
        mime = QGuiApplication.clipboard().mimeData()
        text = ""
        if mime is not None and mime.hasFormat(MIME_FRAGMENT):
            text = bytes(mime.data(MIME_FRAGMENT).data()).decode()
        elif mime is not None and mime.hasText():
            text = mime.text()
        fragment = fragment_from_text(text)
        if not fragment or not fragment["nodes"]:
            self.statusBar().showMessage(self.tr("The clipboard holds no layers to paste."), 4000)
            return []
        self._paste_count += 1
        offset = PASTE_OFFSET * self._paste_count
        return self._insert_fragment(fragment, (offset, offset), self.tr("Paste"))

    def duplicate(self) -> list[str]:
        if self.session is None:
            return []
        ids = self.scene.selected_node_ids()
        if not ids:
            return []
        fragment = fragment_of(self.session.graph, ids)
        return self._insert_fragment(fragment, (PASTE_OFFSET, PASTE_OFFSET), self.tr("Duplicate"))

    def _insert_fragment(self, fragment: dict[str, Any], offset: tuple[float, float], text: str) -> list[str]:
        assert self.session is not None
        try:
            nodes, edges = instantiate(self.session.graph, fragment, offset)
        except (GraphError, KeyError, TypeError, ValueError) as exc:
            self.statusBar().showMessage(self.tr("Cannot paste: %1").replace("%1", str(exc)), 8000)
            return []
        if not self.session.push(AddNodesCommand(self.session.graph, nodes, edges, text=f"{text} ({len(nodes)})")):
            return []
        ids = [n.id for n in nodes]
        self.scene.select_nodes(ids)
        return ids

    def save_selection_as_block(self) -> None:
        if self.session is None:
            return
        ids = self.scene.selected_node_ids()
        if not ids:
            return
        name, ok = QInputDialog.getText(self, self.tr("Save as block"), self.tr("Block name (shown in the Layers panel):"))
        name = name.strip()
        if not ok or not name:
            return
        fragment = fragment_of(self.session.graph, ids)
        types = ", ".join(dict.fromkeys(n["type"] for n in fragment["nodes"]))
        self.blocks.save(name, fragment, description=types)
        self.palette_panel.set_blocks(self.blocks.names())
        self.statusBar().showMessage(self.tr("Saved block “%1”").replace("%1", name), 4000)

    def insert_block(self, name: str, pos: QPointF | None) -> list[str]:
        if self.session is None or name not in self.blocks.blocks:
            return []
        fragment = self.blocks.fragment(name)
        if pos is None:
            pos = self.view.mapToScene(self.view.viewport().rect().center())
        left, top = fragment_bounds(fragment)
        x, y = self.scene.card_position(pos)
        return self._insert_fragment(fragment, (x - left, y - top), self.tr("Insert block %1").replace("%1", name))

    def freeze_selection(self, trainable: bool = False) -> bool:
        """Freeze (or unfreeze) the selected layers: one undo step; False when nothing changed."""
        if self.session is None:
            return False
        graph = self.session.graph
        ids = [i for i in self.scene.selected_node_ids() if graph.node(i).trainable != trainable]
        if not ids:
            return False
        return bool(self.session.push(SetTrainingCommand(graph, ids, trainable=trainable)))

    def unfreeze_selection(self) -> bool:
        return self.freeze_selection(trainable=True)

    def replace_head(self, outputs: int | None = None) -> bool:
        """Swap the last Linear for a fresh one; asks for its outputs (the data's classes)."""
        if self.session is None:
            return False
        from workbench.training.init_from import head_node

        try:
            head = head_node(self.session.graph)
        except GraphError as exc:
            self.statusBar().showMessage(str(exc), 6000)
            return False
        if outputs is None:
            outputs, ok = QInputDialog.getInt(
                self, self.tr("Replace head"),
                self.tr("Outputs of the new last Linear (the number of classes in your data):"),
                int(head.params["out_features"]), 1, 1_000_000)
            if not ok:
                return False
        return bool(self.session.push(ReplaceHeadCommand(self.session.graph, outputs)))

    def auto_layout(self) -> None:
        if self.session is None:
            return
        self.scene.move_nodes(auto_layout(self.session.graph), text=self.tr("Auto-layout"))
        QTimer.singleShot(0, self.view.fit)

    def set_snap(self, on: bool) -> None:
        self.scene.snap_grid = 20 if on else 0
        from workbench.gui import settings as keys

        self.settings.set_value(keys.SNAP, on)
