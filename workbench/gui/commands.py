"""Undoable edits: every change a user makes to the graph is one of these commands.

A command changes the graph document only (through its public edit methods); the canvas and the
panels follow the document's events. `check()` says beforehand why a command would be refused, so
nothing half-done ever lands on the undo stack. Undo returns the document to exactly its earlier
state, including the order of nodes and edges (`Graph.to_dict()` compares equal).
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from PySide6.QtCore import QCoreApplication
from PySide6.QtGui import QUndoCommand

from workbench.errors import GraphError
from workbench.graph.document import Edge, Graph, Node
from workbench.gui.fragments import EdgeRecord, NodeRecord

log = logging.getLogger(__name__)

MOVE_COMMAND_ID = 1001


class GraphCommand(QUndoCommand):
    """Base: holds the graph and refuses nothing by default."""

    def __init__(self, graph: Graph, text: str, parent: QUndoCommand | None = None) -> None:
        super().__init__(text, parent)
        self.graph = graph

    def check(self) -> str | None:
        """Why this command cannot be applied now, or None."""
        return None

    def refusal_on_copy(self, apply: Callable[[Graph], object]) -> str | None:
        """The GraphError `apply` raises on a copy of the graph, as text; None when it succeeds."""
        trial = self.graph.copy()
        try:
            apply(trial)
        except GraphError as exc:
            return str(exc)
        return None


class AddNodesCommand(GraphCommand):
    """Add nodes (with given ids and names) and the edges between them: a new layer, a paste,
    a duplicate or a block."""

    def __init__(self, graph: Graph, nodes: list[NodeRecord], edges: Iterable[EdgeRecord] = (), text: str | None = None,
                 parent: QUndoCommand | None = None) -> None:
        if text is None:
            text = QCoreApplication.translate("Commands", "Add %1").replace("%1", nodes[0].name) if len(nodes) == 1 else QCoreApplication.translate("Commands", "Add %1 layers").replace("%1", str(len(nodes)))
        super().__init__(graph, text, parent)
        self.nodes = list(nodes)
        self.edges = list(edges)

    @property
    def node_ids(self) -> list[str]:
        return [n.id for n in self.nodes]

    def check(self) -> str | None:
        return self.refusal_on_copy(self._apply)

    def _apply(self, graph: Graph) -> None:
        for n in self.nodes:
            graph.add_node(n.type, name=n.name, params=copy.deepcopy(n.params), position=n.position, node_id=n.id)
        for e in self.edges:
            graph.connect(e.src, e.dst, e.port)

    def redo(self) -> None:
        self._apply(self.graph)

    def undo(self) -> None:
        for n in reversed(self.nodes):
            self.graph.remove_node(n.id)


class RemoveCommand(GraphCommand):
    """Delete nodes (with all their edges) and edges."""

    def __init__(self, graph: Graph, node_ids: Iterable[str], edges: Iterable[Edge] = (),
                 parent: QUndoCommand | None = None) -> None:
        self.node_ids = [nid for nid in node_ids]
        self.edges = [e for e in edges if e.src not in self.node_ids and e.dst not in self.node_ids]
        count = len(self.node_ids)
        if count == 1:
            text = QCoreApplication.translate("Commands", "Delete %1").replace("%1", graph.node(self.node_ids[0]).name)
        elif count:
            text = QCoreApplication.translate("Commands", "Delete %1 layers").replace("%1", str(count))
        else:
            text = QCoreApplication.translate("Commands", "Delete connection") if len(self.edges) == 1 else QCoreApplication.translate("Commands", "Delete connections")
        super().__init__(graph, text, parent)
        self._order: list[str] = []
        self._edge_order: list[Edge] = []
        self._removed: list[Node] = []
        self._removed_edges: list[Edge] = []

    def redo(self) -> None:
        self._order = [n.id for n in self.graph.nodes]
        self._edge_order = self.graph.edges
        removed_edges = [e for e in self.graph.edges if e.src in self.node_ids or e.dst in self.node_ids or e in self.edges]
        for edge in removed_edges:
            self.graph.disconnect(edge)
        self._removed = [copy.deepcopy(self.graph.node(nid)) for nid in self.node_ids]
        for nid in self.node_ids:
            self.graph.remove_node(nid)
        self._removed_edges = removed_edges

    def undo(self) -> None:
        for node in self._removed:
            self.graph.restore(node)
        for edge in self._removed_edges:
            self.graph.connect(edge.src, edge.dst, edge.dst_port)
        restore_order(self.graph, self._order, self._edge_order)


class ConnectCommand(GraphCommand):
    """Connect an output to an input port."""

    def __init__(self, graph: Graph, src: str, dst: str, port: str | None = None, parent: QUndoCommand | None = None) -> None:
        super().__init__(graph, QCoreApplication.translate("Commands", "Connect %1 → %2").replace("%1", graph.node(src).name).replace("%2", graph.node(dst).name), parent)
        self.src, self.dst = src, dst
        self.port = port
        self.edge: Edge | None = None

    def check(self) -> str | None:
        return self.graph.can_connect(self.src, self.dst, self.port)

    def redo(self) -> None:
        self.edge = self.graph.connect(self.src, self.dst, self.port)
        self.port = self.edge.dst_port  # redo after undo uses the same port

    def undo(self) -> None:
        if self.edge is not None:
            self.graph.disconnect(self.edge)


class DisconnectCommand(GraphCommand):
    """Remove one edge."""

    def __init__(self, graph: Graph, edge: Edge, parent: QUndoCommand | None = None) -> None:
        super().__init__(graph, QCoreApplication.translate("Commands", "Disconnect %1 → %2").replace("%1", graph.node(edge.src).name).replace("%2", graph.node(edge.dst).name), parent)
        self.edge = edge
        self._edge_order: list[Edge] = []

    def check(self) -> str | None:
        return None if self.edge in self.graph.edges else QCoreApplication.translate("Commands", "that connection no longer exists")

    def redo(self) -> None:
        self._edge_order = self.graph.edges
        self.graph.disconnect(self.edge)

    def undo(self) -> None:
        self.graph.connect(self.edge.src, self.edge.dst, self.edge.dst_port)
        restore_order(self.graph, [n.id for n in self.graph.nodes], self._edge_order)


class MoveNodesCommand(GraphCommand):
    """Move nodes; the moves of one drag gesture merge into a single undo step."""

    def __init__(self, graph: Graph, old: Mapping[str, tuple[float, float]], new: Mapping[str, tuple[float, float]],
                 gesture: int | None = None, text: str | None = None, parent: QUndoCommand | None = None) -> None:
        if text is None:
            text = QCoreApplication.translate("Commands", "Move %1").replace("%1", graph.node(next(iter(new))).name) if len(new) == 1 else QCoreApplication.translate("Commands", "Move %1 layers").replace("%1", str(len(new)))
        super().__init__(graph, text, parent)
        self.old = dict(old)
        self.new = dict(new)
        self.gesture = gesture

    def id(self) -> int:  # noqa: A003 - Qt's name
        return MOVE_COMMAND_ID if self.gesture is not None else -1

    def mergeWith(self, other: QUndoCommand) -> bool:  # noqa: N802 - Qt's name
        if not isinstance(other, MoveNodesCommand) or other.gesture != self.gesture or self.gesture is None:
            return False
        for nid, pos in other.old.items():
            self.old.setdefault(nid, pos)
        self.new.update(other.new)
        if len(self.new) > 1:
            self.setText(QCoreApplication.translate("Commands", "Move %1 layers").replace("%1", str(len(self.new))))
        self.setObsolete(all(self.old.get(k) == v for k, v in self.new.items()))
        return True

    def redo(self) -> None:
        for nid, pos in self.new.items():
            if self.graph.has_node(nid) and self.graph.node(nid).position != pos:
                self.graph.move(nid, pos)

    def undo(self) -> None:
        for nid, pos in self.old.items():
            if self.graph.has_node(nid) and self.graph.node(nid).position != pos:
                self.graph.move(nid, pos)


class SetParamCommand(GraphCommand):
    """Change one parameter; edges on input ports that disappear (fewer merge inputs) come back
    on undo."""

    def __init__(self, graph: Graph, node_id: str, key: str, value: Any, parent: QUndoCommand | None = None) -> None:
        node = graph.node(node_id)
        super().__init__(graph, QCoreApplication.translate("Commands", "Set %1.%2").replace("%1", node.name).replace("%2", key), parent)
        self.node_id, self.key, self.value = node_id, key, value
        self.old: Any = node.params.get(key)
        self._edge_order: list[Edge] = []
        self._dropped: list[Edge] = []

    def check(self) -> str | None:
        node = self.graph.node(self.node_id)
        try:
            node.spec.param(self.key).validate(self.value)
        except GraphError as exc:
            return str(exc)
        return None

    def redo(self) -> None:
        self._edge_order = self.graph.edges
        self.old = self.graph.set_param(self.node_id, self.key, self.value)
        after = set(self.graph.edges)
        self._dropped = [e for e in self._edge_order if e not in after]

    def undo(self) -> None:
        self.graph.set_param(self.node_id, self.key, self.old)
        for edge in self._dropped:
            self.graph.connect(edge.src, edge.dst, edge.dst_port)
        restore_order(self.graph, [n.id for n in self.graph.nodes], self._edge_order)


class SetParamsCommand(GraphCommand):
    """Change several params of several nodes as one undo step ({node id: {param: value}}), e.g.
    fitting the drawing to its data. Each change is a SetParamCommand, applied in order (held
    here, not as Qt child commands: a child's Python side could be collected before Qt calls it)."""

    def __init__(self, graph: Graph, edits: Mapping[str, Mapping[str, Any]], text: str,
                 parent: QUndoCommand | None = None) -> None:
        super().__init__(graph, text, parent)
        self.edits = {nid: dict(params) for nid, params in edits.items()}
        self.steps = [SetParamCommand(graph, nid, key, value)
                      for nid, params in self.edits.items() if graph.has_node(nid) for key, value in params.items()]

    def redo(self) -> None:
        for step in self.steps:
            step.redo()

    def undo(self) -> None:
        for step in reversed(self.steps):
            step.undo()

    def check(self) -> str | None:
        def apply(graph: Graph) -> None:
            for nid, params in self.edits.items():
                for key, value in params.items():
                    graph.set_param(nid, key, value)

        if not self.edits:
            return QCoreApplication.translate("Commands", "Nothing to change.")
        missing = [nid for nid in self.edits if not self.graph.has_node(nid)]
        if missing:
            return QCoreApplication.translate("Commands", "The layer %1 is gone.").replace("%1", missing[0])
        return self.refusal_on_copy(apply)


class SetTrainingCommand(GraphCommand):
    """Freeze or unfreeze nodes, or change their learning-rate factor: one undo step for the
    whole selection (None keeps a value as it is)."""

    def __init__(self, graph: Graph, node_ids: Iterable[str], trainable: bool | None = None,
                 lr_scale: float | None = None, text: str | None = None, parent: QUndoCommand | None = None) -> None:
        self.node_ids = list(node_ids)
        if text is None:
            if trainable is None:
                text = QCoreApplication.translate("Commands", "Set learning-rate factor")
            elif trainable:
                text = QCoreApplication.translate("Commands", "Unfreeze %1 layers").replace("%1", str(len(self.node_ids)))
            else:
                text = QCoreApplication.translate("Commands", "Freeze %1 layers").replace("%1", str(len(self.node_ids)))
        super().__init__(graph, text, parent)
        self.trainable, self.lr_scale = trainable, lr_scale
        self.old: dict[str, tuple[bool, float]] = {}

    def check(self) -> str | None:
        def apply(graph: Graph) -> None:
            for node_id in self.node_ids:
                graph.set_training(node_id, self.trainable, self.lr_scale)
        return self.refusal_on_copy(apply)

    def redo(self) -> None:
        self.old = {nid: self.graph.set_training(nid, self.trainable, self.lr_scale) for nid in self.node_ids}

    def undo(self) -> None:
        for node_id, (trainable, lr_scale) in self.old.items():
            self.graph.set_training(node_id, trainable, lr_scale)


class ReplaceHeadCommand(GraphCommand):
    """Swap the last Linear for a fresh one with `outputs` outputs (training.init_from.replace_head):
    a new name, so that weights read at the start of a run never fill it, and trainable."""

    def __init__(self, graph: Graph, outputs: int, parent: QUndoCommand | None = None) -> None:
        super().__init__(graph, QCoreApplication.translate("Commands", "Replace head"), parent)
        self.outputs = outputs
        self.head_id: str | None = None
        self.old: tuple[str, Any, bool, float] | None = None

    def check(self) -> str | None:
        from workbench.training.init_from import replace_head

        return self.refusal_on_copy(lambda g: replace_head(g, self.outputs))

    def redo(self) -> None:
        from workbench.training.init_from import head_node, replace_head

        head = head_node(self.graph)
        self.head_id = head.id
        self.old = (head.name, head.params["out_features"], head.trainable, head.lr_scale)
        replace_head(self.graph, self.outputs)

    def undo(self) -> None:
        assert self.head_id is not None and self.old is not None
        name, width, trainable, lr_scale = self.old
        self.graph.set_training(self.head_id, trainable, lr_scale)
        self.graph.rename(self.head_id, name)
        self.graph.set_param(self.head_id, "out_features", width)


class RenameCommand(GraphCommand):
    def __init__(self, graph: Graph, node_id: str, name: str, parent: QUndoCommand | None = None) -> None:
        node = graph.node(node_id)
        super().__init__(graph, QCoreApplication.translate("Commands", "Rename %1 to %2").replace("%1", node.name).replace("%2", name), parent)
        self.node_id, self.name, self.old = node_id, name, node.name

    def check(self) -> str | None:
        return self.refusal_on_copy(lambda trial: trial.rename(self.node_id, self.name))

    def redo(self) -> None:
        self.old = self.graph.rename(self.node_id, self.name)

    def undo(self) -> None:
        self.graph.rename(self.node_id, self.old)


class InsertOnEdgeCommand(GraphCommand):
    """A new layer dropped onto an edge: src → new → dst, in one undo step, with the cards in
    `moves` (node id → new top-left) shifted to make room for it in the same step."""

    def __init__(self, graph: Graph, record: NodeRecord, edge: Edge,
                 moves: Mapping[str, tuple[float, float]] | None = None, parent: QUndoCommand | None = None) -> None:
        super().__init__(graph, QCoreApplication.translate("Commands", "Insert %1").replace("%1", record.name), parent)
        self.record, self.edge = record, edge
        self.moves = dict(moves or {})
        self._old_positions: dict[str, tuple[float, float]] = {}
        self._edge_order: list[Edge] = []

    def check(self) -> str | None:
        return self.refusal_on_copy(self._apply)

    def _apply(self, graph: Graph) -> None:
        r = self.record
        graph.disconnect(self.edge)
        graph.add_node(r.type, name=r.name, params=copy.deepcopy(r.params), position=r.position, node_id=r.id)
        graph.connect(self.edge.src, r.id)
        graph.connect(r.id, self.edge.dst, self.edge.dst_port)
        for nid, pos in self.moves.items():
            if graph.has_node(nid) and graph.node(nid).position != pos:
                graph.move(nid, pos)

    def redo(self) -> None:
        self._edge_order = self.graph.edges
        self._old_positions = {nid: self.graph.node(nid).position for nid in self.moves if self.graph.has_node(nid)}
        self._apply(self.graph)

    def undo(self) -> None:
        for nid, pos in self._old_positions.items():
            if self.graph.has_node(nid) and self.graph.node(nid).position != pos:
                self.graph.move(nid, pos)
        self.graph.remove_node(self.record.id)
        self.graph.connect(self.edge.src, self.edge.dst, self.edge.dst_port)
        restore_order(self.graph, [n.id for n in self.graph.nodes], self._edge_order)


class MacroCommand(GraphCommand):
    """Several commands as one undo step (e.g. re-plugging an edge to another port)."""

    def __init__(self, graph: Graph, text: str, commands: list[GraphCommand]) -> None:
        super().__init__(graph, text)
        self.commands = commands

    def check(self) -> str | None:
        # Only the first can be checked against the current graph; later ones depend on it.
        return self.commands[0].check() if self.commands else None

    def redo(self) -> None:
        for c in self.commands:
            c.redo()

    def undo(self) -> None:
        for c in reversed(self.commands):
            c.undo()


def restore_order(graph: Graph, node_ids: list[str], edges: list[Edge]) -> None:
    """Put nodes and edges back in the given order (undo re-adds at the end otherwise).

    Only the tail that differs is taken out and put back, through the public edit methods, so
    the canvas follows as usual. (A `Graph.restore(..., index=)` in the core would make this a
    no-op; until then, this keeps `to_dict()` equal after undo.)
    """
    current = [n.id for n in graph.nodes]
    if current != node_ids and set(current) == set(node_ids):
        i = next(k for k, (a, b) in enumerate(zip(current, node_ids)) if a != b)
        taken = [graph.remove_node(nid)[0] for nid in node_ids[i:]]
        for node in taken:
            graph.restore(node)
    now = graph.edges
    if now != edges:
        i = next((k for k, (a, b) in enumerate(zip(now, edges)) if a != b), min(len(now), len(edges)))
        for edge in now[i:]:
            graph.disconnect(edge)
        for edge in edges[i:]:
            graph.connect(edge.src, edge.dst, edge.dst_port)
