"""Graph fragments: a selection of nodes with the edges between them, as a plain record.

Copy/paste, duplicate and saved blocks all use this one format (the `graph` record of a project
file, restricted to some nodes). Instantiating a fragment into a graph gives every node a new id
and a free name, and maps the inner edges onto the new ids.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from workbench.errors import GraphError
from workbench.graph.document import Graph, free_name
from workbench.layers import layer_spec

MIME_FRAGMENT = "application/x-workbench-fragment"


@dataclass(frozen=True)
class NodeRecord:
    """A node to be added: everything `Graph.add_node` takes."""

    id: str
    type: str
    name: str
    params: dict[str, Any]
    position: tuple[float, float]


@dataclass(frozen=True)
class EdgeRecord:
    src: str
    dst: str
    port: str


def fragment_of(graph: Graph, node_ids: Iterable[str]) -> dict[str, Any]:
    """The record of these nodes and the edges that run between two of them."""
    wanted = set(node_ids)
    full = graph.to_dict()
    return {
        "nodes": [n for n in full["nodes"] if n["id"] in wanted],
        "edges": [e for e in full["edges"] if e["src"] in wanted and e["dst"] in wanted],
    }


def fragment_to_text(fragment: dict[str, Any]) -> str:
    return json.dumps({"kind": "workbench-fragment", "graph": fragment}, ensure_ascii=False)


def fragment_from_text(text: str) -> dict[str, Any] | None:
    """A fragment from clipboard text, or None when the text is not one."""
    try:
        record = json.loads(text)
    except (json.JSONDecodeError, TypeError):
        return None
    if not isinstance(record, dict) or record.get("kind") != "workbench-fragment":
        return None
    graph = record.get("graph")
    if not isinstance(graph, dict) or not isinstance(graph.get("nodes"), list):
        return None
    return graph


def fragment_bounds(fragment: dict[str, Any]) -> tuple[float, float]:
    """Top-left corner of the fragment's node positions."""
    xs = [float(n.get("position", (0, 0))[0]) for n in fragment["nodes"]] or [0.0]
    ys = [float(n.get("position", (0, 0))[1]) for n in fragment["nodes"]] or [0.0]
    return min(xs), min(ys)


def instantiate(
    graph: Graph, fragment: dict[str, Any], offset: tuple[float, float] = (0.0, 0.0)
) -> tuple[list[NodeRecord], list[EdgeRecord]]:
    """New node and edge records for adding `fragment` to `graph`, moved by `offset`.

    Ids are fresh, names are free in the graph (a taken name gets `_2`, `_3`...), params are
    validated against the registry; GraphError when the fragment cannot be used.
    """
    nodes_in = fragment.get("nodes", [])
    ids = fresh_ids(graph, len(nodes_in))
    taken = {n.name for n in graph.nodes}
    mapping: dict[str, str] = {}
    nodes: list[NodeRecord] = []
    for new_id, item in zip(ids, nodes_in):
        spec = layer_spec(str(item["type"]))
        params = spec.defaults()
        for key, value in dict(item.get("params", {})).items():
            params[key] = spec.param(key).validate(value)
        name = free_name(str(item.get("name") or spec.type_id.lower()), taken)
        taken.add(name)
        x, y = item.get("position", (0.0, 0.0))
        mapping[str(item["id"])] = new_id
        nodes.append(NodeRecord(new_id, spec.type_id, name, copy.deepcopy(params), (float(x) + offset[0], float(y) + offset[1])))
    edges = []
    for item in fragment.get("edges", []):
        src, dst = mapping.get(str(item.get("src"))), mapping.get(str(item.get("dst")))
        if src is None or dst is None:
            raise GraphError("the copied layers refer to a layer that is not among them")
        edges.append(EdgeRecord(src, dst, str(item.get("port") or "in")))
    return nodes, edges


def fresh_ids(graph: Graph, count: int) -> list[str]:
    """`count` node ids unused in the graph, in the graph's own `nN` style."""
    used = {n.id for n in graph.nodes}
    first = graph.new_id()
    match = re.fullmatch(r"n(\d+)", first)
    k = int(match.group(1)) if match else len(used) + 1
    out: list[str] = []
    while len(out) < count:
        candidate = f"n{k}"
        if candidate not in used:
            out.append(candidate)
        k += 1
    return out
