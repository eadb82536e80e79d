"""Auto-layout: left to right by topological depth, with long edges given their own lane.

A small Sugiyama-style layout: columns are the longest-path depth; an edge that skips columns
gets placeholder slots in the columns it crosses and keeps its source's lane, so a residual
shortcut runs straight along the trunk while the branch it bypasses steps into the next free lane
(above first) and merges back. Each node wants the lane of the feeder closest to the trunk.
Pure Python, no Qt: it returns positions, and the caller turns them into one undoable move.
"""

from __future__ import annotations

from workbench.graph.analysis import topological_order
from workbench.graph.document import Graph

COLUMN_WIDTH = 210.0  # card width 140 + room for an edge and its shape label
LANE_HEIGHT = 120.0
GRID = 10.0


def auto_layout(graph: Graph, column_width: float = COLUMN_WIDTH, lane_height: float = LANE_HEIGHT) -> dict[str, tuple[float, float]]:
    """New positions for every node, keeping the layout's top-left where the graph's was."""
    if not len(graph):
        return {}
    order, cyclic = topological_order(graph)
    depth: dict[str, int] = {}
    preds: dict[str, list[str]] = {n.id: [] for n in graph.nodes}
    port_rank = {n.id: {p: i for i, p in enumerate(n.input_ports())} for n in graph.nodes}
    for e in sorted(graph.edges, key=lambda e: port_rank[e.dst].get(e.dst_port, 99)):
        preds[e.dst].append(e.src)
    for nid in order:
        depth[nid] = max((depth[p] + 1 for p in preds[nid] if p in depth), default=0)
    last = max(depth.values(), default=-1) + 1
    for nid in cyclic:
        depth[nid] = last

    # Slots per column: real nodes, and placeholders ("src>dst#k") for edges that skip columns.
    columns: dict[int, list[str]] = {}
    slot_preds: dict[str, list[str]] = {}
    for nid in order + cyclic:
        columns.setdefault(depth[nid], []).append(nid)
        slot_preds[nid] = list(preds[nid])
    for e in graph.edges:
        if e.src in cyclic or e.dst in cyclic or depth[e.dst] - depth[e.src] <= 1:
            continue
        previous = e.src
        for col in range(depth[e.src] + 1, depth[e.dst]):
            slot = f"{e.src}>{e.dst}.{e.dst_port}#{col}"
            columns.setdefault(col, []).append(slot)
            slot_preds[slot] = [previous]
            previous = slot
        # The destination sees the long edge arrive from its last placeholder's lane.
        slot_preds[e.dst] = [previous if p == e.src else p for p in slot_preds[e.dst]]

    lane: dict[str, int] = {}
    for col in sorted(columns):
        taken: set[int] = set()
        slots = columns[col]
        # Placeholders first (long edges run straight), then nodes in document order.
        for slot in sorted(slots, key=lambda s: ("#" not in s, slots.index(s))):
            feeders = [lane[p] for p in slot_preds.get(slot, []) if p in lane]
            want = min(feeders, key=abs) if feeders else _first_free(taken, 0)
            lane[slot] = _nearest_free(taken, want)
            taken.add(lane[slot])

    xs = [n.position[0] for n in graph.nodes]
    ys = [n.position[1] for n in graph.nodes]
    top = min(lane[n.id] for n in graph.nodes)
    origin_x, origin_y = _snap(min(xs)), _snap(min(ys))
    return {
        n.id: (origin_x + depth[n.id] * column_width, origin_y + (lane[n.id] - top) * lane_height)
        for n in graph.nodes
    }


def _nearest_free(taken: set[int], want: int) -> int:
    for k in range(0, 10_000):
        for candidate in (want - k, want + k) if k else (want,):
            if candidate not in taken:
                return candidate
    return want


def _first_free(taken: set[int], start: int) -> int:
    k = start
    while k in taken:
        k += 1
    return k


def _snap(v: float) -> float:
    return round(v / GRID) * GRID
