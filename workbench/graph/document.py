"""The graph document: nodes, edges and the edits on them, with change events.

This is the single truth about a network. The canvas, inspector and summary follow its events;
the app's undo commands call its edit methods. Every edit validates first and either applies
completely or raises GraphError and changes nothing.
"""

from __future__ import annotations

import copy
import math
import re
from collections.abc import Callable, Container, Iterable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from workbench.errors import GraphError
from workbench.i18n import _
from workbench.graph.search_values import check_search, check_search_entry
from workbench.layers import layer_spec
from workbench.layers.params import show_value
from workbench.layers.registry import LayerSpec

OUTPUT_PORT = "out"  # every node has one output; it may feed many inputs


@dataclass
class Node:
    """One layer on the canvas."""

    id: str
    type: str
    name: str
    params: dict[str, Any]
    position: tuple[float, float] = (0.0, 0.0)
    # Training facts of the node, not of its layer type: whether its parameters learn, and a
    # factor on the run's learning rate for them (fine-tuning trains a new head faster).
    trainable: bool = True
    lr_scale: float = 1.0
    # Parameters a hyperparameter search may vary, with the values it may try (search_values).
    search: dict[str, Any] = field(default_factory=dict)

    @property
    def spec(self) -> LayerSpec:
        return layer_spec(self.type)

    def input_ports(self) -> tuple[str, ...]:
        return self.spec.input_ports(self.params)

    def label(self) -> str:
        """`Linear 'fc1'`: how messages name this node."""
        return f"{self.type} '{self.name}'"


@dataclass(frozen=True)
class Edge:
    """A tensor flowing from one node's output into an input port of another."""

    src: str
    dst: str
    dst_port: str = "in"


class EventKind(Enum):
    """What kind of change a GraphEvent reports."""

    NODE_ADDED = "node_added"
    NODE_REMOVED = "node_removed"  # detail["node"]: the removed Node
    EDGE_ADDED = "edge_added"
    EDGE_REMOVED = "edge_removed"
    PARAMS_CHANGED = "params_changed"  # detail: key, old, new
    NODE_RENAMED = "node_renamed"  # detail: old, new
    NODE_MOVED = "node_moved"
    TRAINING_CHANGED = "training_changed"  # detail: old, new — each (trainable, lr_scale)
    SEARCH_CHANGED = "search_changed"  # detail: key, old, new — a param's search values (None: not searched)
    RESET = "reset"  # anything may have changed: rebuild from the document


@dataclass(frozen=True)
class GraphEvent:
    """What changed, and where."""

    kind: EventKind
    node_id: str | None = None
    edge: Edge | None = None
    detail: Mapping[str, Any] = field(default_factory=dict)


Listener = Callable[[GraphEvent], None]
_NAME_OK = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# Attributes of torch.nn.Module: a layer named like one could not become a submodule. Kept as
# data so that editing graphs needs no torch import; a test compares it with the installed torch.
RESERVED_NAMES = frozenset({
    'T_destination', '_apply', '_call_impl', '_compiled_call_impl', '_get_backward_hooks', '_get_backward_pre_hooks',
    '_get_name', '_load_from_state_dict', '_maybe_warn_non_full_backward_hook', '_named_members', '_register_load_state_dict_pre_hook', '_register_state_dict_hook',
    '_replicate_for_data_parallel', '_save_to_state_dict', '_slow_forward', '_version', '_wrapped_call_impl', 'add_module',
    'apply', 'bfloat16', 'buffers', 'call_super_init', 'children', 'compile',
    'cpu', 'cuda', 'double', 'dump_patches', 'eval', 'extra_repr',
    'float', 'forward', 'get_buffer', 'get_extra_state', 'get_parameter', 'get_submodule',
    'half', 'ipu', 'load_state_dict', 'modules', 'mtia', 'named_buffers',
    'named_children', 'named_modules', 'named_parameters', 'parameters', 'register_backward_hook', 'register_buffer',
    'register_forward_hook', 'register_forward_pre_hook', 'register_full_backward_hook', 'register_full_backward_pre_hook', 'register_load_state_dict_post_hook', 'register_load_state_dict_pre_hook',
    'register_module', 'register_parameter', 'register_state_dict_post_hook', 'register_state_dict_pre_hook', 'requires_grad_', 'set_extra_state',
    'set_submodule', 'share_memory', 'state_dict', 'to', 'to_empty', 'train',
    'type', 'xpu', 'zero_grad',
    # Set on nn.Module by torch._dynamo (the ONNX exporter's tracer) once it has run in the process.
    '___needs_generation_tag_patch',
})


class Graph:
    """A directed acyclic graph of layers.

    Besides the nodes and the edges (dicts used as ordered sets, so that removing one is O(1)),
    the graph keeps indexes that every edit updates: edges by target and port, edges by source,
    node ids by name, and per name stem the lowest suffix that may be free. Each lookup then
    costs O(1) instead of a scan, so loading or building an n-node graph is O(n), not O(n²).
    """

    def __init__(self) -> None:
        self._nodes: dict[str, Node] = {}
        self._edges: dict[Edge, None] = {}
        self._into: dict[str, dict[str, Edge]] = {}  # node id -> input port -> edge
        self._out: dict[str, dict[Edge, None]] = {}  # node id -> edges leaving it
        self._names: dict[str, str] = {}  # layer name -> node id
        self._name_hints: dict[str, int] = {}  # name stem -> lowest suffix that may be free
        self._listeners: list[Listener] = []
        self._next_id = 1

    # ----- reading -------------------------------------------------------------------------

    @property
    def nodes(self) -> list[Node]:
        return list(self._nodes.values())

    @property
    def edges(self) -> list[Edge]:
        return list(self._edges)

    def node(self, node_id: str) -> Node:
        try:
            return self._nodes[node_id]
        except KeyError:
            raise GraphError(f"no node with id {show_value(node_id)}") from None

    def has_node(self, node_id: str) -> bool:
        return node_id in self._nodes

    def node_by_name(self, name: str) -> Node | None:
        node_id = self._names.get(name)
        return None if node_id is None else self._nodes[node_id]

    def edges_into(self, node_id: str) -> list[Edge]:
        return list(self._into.get(node_id, {}).values())

    def edges_from(self, node_id: str) -> list[Edge]:
        return list(self._out.get(node_id, ()))

    def edge_into(self, node_id: str, port: str) -> Edge | None:
        return self._into.get(node_id, {}).get(port)

    def __len__(self) -> int:
        return len(self._nodes)

    # ----- events --------------------------------------------------------------------------

    def subscribe(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def unsubscribe(self, listener: Listener) -> None:
        self._listeners.remove(listener)

    def _emit(self, event: GraphEvent) -> None:
        for listener in list(self._listeners):
            listener(event)

    # ----- edits ---------------------------------------------------------------------------

    def add_node(
        self,
        type_id: str,
        name: str | None = None,
        params: Mapping[str, Any] | None = None,
        position: tuple[float, float] = (0.0, 0.0),
        node_id: str | None = None,
        trainable: bool = True,
        lr_scale: float = 1.0,
        search: Mapping[str, Any] | None = None,
    ) -> Node:
        """Add a layer; params not given take their defaults, given ones are validated (and so are
        the search values of `search`)."""
        spec = layer_spec(type_id)
        node_id = node_id or self.new_id()
        if node_id in self._nodes:
            raise GraphError(f"a node with id {show_value(node_id)} already exists")
        name = name or self.unique_name(spec.default_name)
        self._check_name(name)
        values = spec.defaults()
        for key, value in (params or {}).items():
            values[key] = _validated(spec, key, value)
        node = Node(node_id, spec.type_id, name, values, _position(position),
                    _trainable(trainable), _lr_scale(lr_scale), check_search(spec, dict(search or {})))
        self._insert(node)
        self._emit(GraphEvent(EventKind.NODE_ADDED, node_id))
        return node

    def remove_node(self, node_id: str) -> tuple[Node, list[Edge]]:
        """Remove a node and its edges; returns both so an undo can put them back."""
        node = self.node(node_id)
        removed = [e for e in self._edges if node_id in (e.src, e.dst)]
        for edge in removed:
            self.disconnect(edge)
        del self._nodes[node_id]
        self._forget_name(node.name)
        self._emit(GraphEvent(EventKind.NODE_REMOVED, node_id, detail={"node": node}))
        return node, removed

    def can_connect(self, src: str, dst: str, dst_port: str | None = None) -> str | None:
        """Why the connection would be refused, or None if it is allowed."""
        reason = self._refusal(src, dst, dst_port)
        if reason is None and self._reaches(dst, src):
            return _("connecting {source} to {target} would make a cycle").format(
                source=self._nodes[src].label(), target=self._nodes[dst].label())
        return reason

    def connect(self, src: str, dst: str, dst_port: str | None = None) -> Edge:
        """Connect src's output to an input of dst (the first free one if no port is named)."""
        reason = self.can_connect(src, dst, dst_port)
        if reason:
            raise GraphError(_("cannot connect: {reason}").format(reason=reason))
        edge = Edge(src, dst, dst_port or self.free_port(dst) or "")
        self._link(edge)
        self._emit(GraphEvent(EventKind.EDGE_ADDED, edge=edge))
        return edge

    def connect_all(self, requests: Iterable[tuple[str, str, str | None]]) -> list[Edge | GraphError]:
        """`connect` for each (src, dst, port) in order: the Edge made, or the GraphError refusing it.

        The result is what calling `connect` one by one gives, but the cycle check runs once for
        all the edges (a topological sort) instead of a search per edge, so that loading a long
        chain whose edges come last-first costs O(n), not O(n²). Only when the edges do close a
        cycle are they connected again one by one, to refuse exactly the ones `connect` would.
        """
        requests = list(requests)
        results: list[Edge | GraphError] = []
        added: list[Edge] = []
        for src, dst, port in requests:
            reason = self._refusal(src, dst, port)
            if reason:
                results.append(GraphError(_("cannot connect: {reason}").format(reason=reason)))
                continue
            edge = Edge(src, dst, port or self.free_port(dst) or "")
            self._link(edge)
            added.append(edge)
            results.append(edge)
        if not self._has_cycle():
            for edge in added:
                self._emit(GraphEvent(EventKind.EDGE_ADDED, edge=edge))
            return results
        for edge in added:
            self._unlink(edge)
        results = []
        for src, dst, port in requests:
            try:
                results.append(self.connect(src, dst, port))
            except GraphError as exc:
                results.append(exc)
        return results

    def disconnect(self, edge: Edge) -> None:
        if edge not in self._edges:
            raise GraphError(f"no edge from {show_value(edge.src)} to {show_value(f'{edge.dst}.{edge.dst_port}')}")
        self._unlink(edge)
        self._emit(GraphEvent(EventKind.EDGE_REMOVED, edge=edge))

    def set_param(self, node_id: str, key: str, value: Any) -> Any:
        """Change one param (validated); returns the previous value. Dropping a merge's
        input count removes the edges of the ports that disappear, so undo must record them."""
        node = self.node(node_id)
        new = _validated(node.spec, key, value)
        old = node.params[key]
        if new == old:
            return old
        node.params[key] = new
        valid_ports = set(node.input_ports())
        for edge in [e for e in self.edges_into(node_id) if e.dst_port not in valid_ports]:
            self.disconnect(edge)
        self._emit(GraphEvent(EventKind.PARAMS_CHANGED, node_id, detail={"key": key, "old": old, "new": new}))
        return old

    def rename(self, node_id: str, name: str) -> str:
        node = self.node(node_id)
        if name == node.name:
            return name
        self._check_name(name)
        old, node.name = node.name, name
        self._forget_name(old)
        self._names[name] = node_id
        self._emit(GraphEvent(EventKind.NODE_RENAMED, node_id, detail={"old": old, "new": name}))
        return old

    def set_training(
        self, node_id: str, trainable: bool | None = None, lr_scale: float | None = None
    ) -> tuple[bool, float]:
        """Freeze/unfreeze a node or change its learning-rate factor (None: keep); returns the
        previous (trainable, lr_scale) so an undo can put them back."""
        node = self.node(node_id)
        old = (node.trainable, node.lr_scale)
        new = (old[0] if trainable is None else _trainable(trainable),
               old[1] if lr_scale is None else _lr_scale(lr_scale))
        if new == old:
            return old
        node.trainable, node.lr_scale = new
        self._emit(GraphEvent(EventKind.TRAINING_CHANGED, node_id, detail={"old": old, "new": new}))
        return old

    def set_search(self, node_id: str, key: str, entry: Any) -> Any:
        """Mark param `key` as searchable with these values (search_values), or not (None);
        returns the previous entry (None when it was not searched) so an undo can put it back."""
        node = self.node(node_id)
        new = None if entry is None else check_search_entry(node.spec, key, entry)
        old = node.search.get(key)
        if new == old:
            return old
        if new is None:
            del node.search[key]
        else:
            node.search[key] = new
        self._emit(GraphEvent(EventKind.SEARCH_CHANGED, node_id, detail={"key": key, "old": old, "new": new}))
        return old

    def move(self, node_id: str, position: tuple[float, float]) -> None:
        node = self.node(node_id)
        node.position = _position(position)
        self._emit(GraphEvent(EventKind.NODE_MOVED, node_id))

    def restore(self, node: Node, edges: Iterable[Edge] = ()) -> None:
        """Put back a removed node exactly as it was (used by undo)."""
        if node.id in self._nodes:
            raise GraphError(f"a node with id {show_value(node.id)} already exists")
        self._check_name(node.name)
        self._insert(copy.deepcopy(node))
        self._emit(GraphEvent(EventKind.NODE_ADDED, node.id))
        for edge in edges:
            self.connect(edge.src, edge.dst, edge.dst_port)

    def clear(self) -> None:
        for index in (self._nodes, self._edges, self._into, self._out, self._names, self._name_hints):
            index.clear()
        self._next_id = 1
        self._emit(GraphEvent(EventKind.RESET))

    # ----- helpers -------------------------------------------------------------------------

    def free_port(self, node_id: str) -> str | None:
        taken = self._into.get(node_id, {})
        return next((p for p in self.node(node_id).input_ports() if p not in taken), None)

    def new_id(self) -> str:
        while f"n{self._next_id}" in self._nodes:
            self._next_id += 1
        return f"n{self._next_id}"

    def unique_name(self, base: str) -> str:
        """`base`, or `base_2`, `base_3`... whichever is free (the lowest such number)."""
        stem = _stem(base)
        name = free_name(base, self._names.keys(), self._name_hints.get(stem, 2))
        if name != base:
            # every suffix below this one is taken: the next search for this stem starts here
            self._name_hints[stem] = int(name.rsplit("_", 1)[1])
        return name

    def _check_name(self, name: str) -> None:
        if not _NAME_OK.match(name):
            raise GraphError(
                _("{name} is not a valid layer name: use letters, digits and _, starting with a letter")
                .format(name=show_value(name)))
        if name in RESERVED_NAMES or (name.startswith("__") and name.endswith("__")):
            raise GraphError(_("'{name}' is a reserved word in PyTorch modules — choose another layer name")
                             .format(name=name))
        if name in self._names:
            raise GraphError(_("the name '{name}' is already used by another layer — choose another").format(name=name))

    def _insert(self, node: Node) -> None:
        """Add a checked node to the nodes and the name index."""
        self._nodes[node.id] = node
        self._names[node.name] = node.id
        m = re.fullmatch(r"n(\d{1,18})", node.id)  # longer: not ours, and int() may refuse it
        if m:
            self._next_id = max(self._next_id, int(m.group(1)) + 1)

    def _forget_name(self, name: str) -> None:
        """A name is free again: a later `unique_name` for its stem may hand it out."""
        del self._names[name]
        m = re.fullmatch(r"(.*)_(\d{1,18})", name)
        if m and m.group(1) in self._name_hints:
            self._name_hints[m.group(1)] = min(self._name_hints[m.group(1)], max(2, int(m.group(2))))

    def _link(self, edge: Edge) -> None:
        self._edges[edge] = None
        self._into.setdefault(edge.dst, {})[edge.dst_port] = edge
        self._out.setdefault(edge.src, {})[edge] = None

    def _unlink(self, edge: Edge) -> None:
        del self._edges[edge]
        del self._into[edge.dst][edge.dst_port]
        del self._out[edge.src][edge]

    def _refusal(self, src: str, dst: str, dst_port: str | None) -> str | None:
        """Why src -> dst.port is refused, cycles aside; None if only a cycle could refuse it."""
        if src not in self._nodes or dst not in self._nodes:
            return _("both ends must be nodes of this graph")
        target = self._nodes[dst]
        ports = target.input_ports()
        if not ports:
            return _("{layer} takes no input").format(layer=target.label())
        port = dst_port or self.free_port(dst)
        if port is None:
            return _("every input of {layer} is already connected").format(layer=target.label())
        if port not in ports:
            return _("{layer} has no input {port} (it has: {ports})").format(
                layer=target.label(), port=show_value(port), ports=", ".join(ports))
        if src == dst:
            return _("a layer cannot feed itself")
        if self.edge_into(dst, port) is not None:
            return _("input {port} of {layer} is already connected — remove that edge first").format(
                port=show_value(port), layer=target.label())
        return None

    def _has_cycle(self) -> bool:
        """Do the edges hold a cycle? One topological sort, O(nodes + edges)."""
        indegree = dict.fromkeys(self._nodes, 0)
        for e in self._edges:
            indegree[e.dst] += 1
        ready = [nid for nid, d in indegree.items() if d == 0]
        done = 0
        while ready:
            nid = ready.pop()
            done += 1
            for e in self._out.get(nid, ()):
                indegree[e.dst] -= 1
                if indegree[e.dst] == 0:
                    ready.append(e.dst)
        return done < len(indegree)

    def _reaches(self, start: str, goal: str) -> bool:
        """Is there a path start -> ... -> goal along edges? Visits only what start reaches."""
        stack, seen = [start], set()
        while stack:
            n = stack.pop()
            if n == goal:
                return True
            if n not in seen:
                seen.add(n)
                stack.extend(e.dst for e in self._out.get(n, ()))
        return False

    # ----- plain records -------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready record of nodes and edges (the project file's `graph`).

        `trainable` and `lr_scale` are written only when they differ from their defaults, so a
        project that uses neither reads exactly as before and older files mean "trainable, 1.0".
        """
        return {
            "nodes": [_node_record(n) for n in self._nodes.values()],
            "edges": [{"src": e.src, "dst": e.dst, "port": e.dst_port} for e in self._edges],
        }

    def copy(self) -> Graph:
        """An independent copy without listeners."""
        other = Graph()
        for node in copy.deepcopy(list(self._nodes.values())):
            other._insert(node)
        for edge in self._edges:
            other._link(edge)
        other._next_id = self._next_id
        other._name_hints = dict(self._name_hints)
        return other

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Graph) and self.to_dict() == other.to_dict()

    __hash__ = None  # type: ignore[assignment]


def _node_record(n: Node) -> dict[str, Any]:
    record: dict[str, Any] = {
        "id": n.id,
        "type": n.type,
        "name": n.name,
        "params": {k: list(v) if isinstance(v, tuple) else v for k, v in n.params.items()},
        "position": [n.position[0], n.position[1]],
    }
    if not n.trainable:
        record["trainable"] = False
    if n.lr_scale != 1.0:
        record["lr_scale"] = n.lr_scale
    if n.search:  # written only when used: a file without searches reads as before
        record["search"] = copy.deepcopy(n.search)
    return record


def _trainable(value: Any) -> bool:
    if not isinstance(value, bool):
        raise GraphError(f"trainable must be true or false, got {show_value(value)}")
    return value


def _lr_scale(value: Any) -> float:
    """A learning-rate factor: a finite number > 0 (freeze a node to stop it learning)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise GraphError(f"lr_scale must be a number, got {show_value(value)}")
    if not (math.isfinite(value) and value > 0):
        raise GraphError(f"lr_scale must be a finite number > 0, got {show_value(value)} — freeze the node instead of 0")
    return float(value)


def free_name(base: str, taken: Container[str], start: int = 2) -> str:
    """`base`, or `base_2`, `base_3`... (an old number suffix replaced): the first not in `taken`.

    `start` skips suffixes the caller knows are taken (every one below it).
    """
    if base not in taken:
        return base
    stem = _stem(base)
    i = max(2, start)
    while f"{stem}_{i}" in taken:
        i += 1
    return f"{stem}_{i}"


def _stem(name: str) -> str:
    return re.sub(r"_\d+$", "", name)


def _position(position: tuple[float, float]) -> tuple[float, float]:
    """A canvas position as two finite floats; GraphError for anything else."""
    try:
        x, y = (float(v) for v in position)
    except (TypeError, ValueError, OverflowError):  # not two numbers, or beyond the float range
        raise GraphError(f"a position must be two numbers, got {show_value(position)}") from None
    if not (math.isfinite(x) and math.isfinite(y)):
        raise GraphError(f"a position must be two finite numbers, got {show_value(position)}")
    return x, y


def _validated(spec: LayerSpec, key: str, value: Any) -> Any:
    param = spec.param(key)
    try:
        return param.validate(value)
    except GraphError as exc:
        raise GraphError(f"{spec.type_id}: {exc}") from None
