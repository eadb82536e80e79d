"""Auto-layout: left to right by topological depth, with long edges given their own lane.

A small Sugiyama-style layout: columns are the longest-path depth; an edge that skips columns
gets placeholder slots in the columns it crosses and keeps its source's lane, so a residual
shortcut runs straight along the trunk while the branch it bypasses steps into the next free lane
(above first) and merges back. Each node wants the lane of the feeder closest to the trunk.
Pure Python, no Qt: it returns positions, and the caller turns them into one undoable move.
`make_room` does the same for a card dropped onto an edge: where it goes, and who moves aside.
"""

from __future__ import annotations

import math

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


Rect = tuple[float, float, float, float]  # x, y, width, height
GAP = 40.0  # free space kept between a card inserted on an edge and its neighbours


def make_room(graph: Graph, rects: dict[str, Rect], src: str, dst: str, new: Rect,
              gap: float = GAP, grid: float = 0.0) -> tuple[tuple[float, float], dict[str, tuple[float, float]]]:
    """Where a card `new` dropped on the edge src → dst goes, and which cards move to make room.

    The flow runs along the edge's main axis (left to right, or top to bottom for a chain
    drawn downwards). The new card sits `gap` after the source if it would touch it; then the
    destination, everything downstream of it and every card that starts at or after it on that
    axis (a parallel branch, the next row of a wrapped chain) shift by the same amount, so the
    picture keeps its shape; on an edge that returns to the start of the next row, the new card
    starts that row and the row's other cards move right. Cards upstream of the source never
    move. Returns the new card's
    top-left and the new top-left of each moved card. With a `grid`, the new card lands on it
    and the shift is a whole number of grid steps (rounded up: gaps never shrink).
    """
    sx, sy, sw, sh = rects[src]
    dx, dy, dw, dh = rects[dst]
    upstream = _ancestors(graph, src) | {src}
    if dx + dw / 2 < sx + sw / 2 and dy >= sy + sh:
        # The edge returns to the start of a lower row (a wrapped chain): the new card takes the
        # destination's place and the rest of that row moves right; other rows stay.
        shift = new[2] + gap
        if grid:
            shift = _up(shift, grid)
        row = {nid: (r[0] + shift, r[1]) for nid, r in rects.items()
               if nid not in upstream and r[0] >= dx - 1e-6 and r[1] < dy + dh and r[1] + r[3] > dy}
        return (dx, dy), row
    horizontal = abs((dx + dw / 2) - (sx + sw / 2)) >= abs((dy + dh / 2) - (sy + sh / 2))
    axis = 0 if horizontal else 1
    x, y, w, h = new
    pos = [x, y]
    size = (w, h)
    cross = 1 - axis
    if (sx, sy)[cross] == (dx, dy)[cross]:
        pos[cross] = (sx, sy)[cross]  # a straight chain stays straight
    src_end = (sx + sw, sy + sh)[axis]
    if pos[axis] < src_end + gap:
        pos[axis] = src_end + gap
    if grid:
        pos = [_up(pos[axis], grid) if i == axis else round(pos[i] / grid) * grid for i in (0, 1)]
    dst_start = (dx, dy)[axis]
    shift = pos[axis] + size[axis] + gap - dst_start
    if grid and shift > 0:
        shift = _up(shift, grid)
    if shift <= 0:
        return (pos[0], pos[1]), {}
    downstream = _descendants(graph, dst) | {dst}
    moving = {nid for nid, r in rects.items()
              if nid not in upstream and (nid in downstream or (r[0], r[1])[axis] >= dst_start - 1e-6)}
    moved: dict[str, tuple[float, float]] = {}
    for nid in moving:
        rx, ry = rects[nid][0], rects[nid][1]
        moved[nid] = (rx + shift, ry) if horizontal else (rx, ry + shift)
    return (pos[0], pos[1]), moved


def _up(v: float, grid: float) -> float:
    return math.ceil(v / grid - 1e-9) * grid


def _reachable(graph: Graph, node_id: str, forward: bool) -> set[str]:
    """The nodes reachable from `node_id` along the edges (forward) or against them."""
    seen: set[str] = set()
    todo = [node_id]
    while todo:
        nid = todo.pop()
        for e in graph.edges_from(nid) if forward else graph.edges_into(nid):
            other = e.dst if forward else e.src
            if other not in seen:
                seen.add(other)
                todo.append(other)
    return seen


def _descendants(graph: Graph, node_id: str) -> set[str]:
    return _reachable(graph, node_id, forward=True)


def _ancestors(graph: Graph, node_id: str) -> set[str]:
    return _reachable(graph, node_id, forward=False)


RETURN_LANE = 50.0  # room between two rows of a wrapped layout, for the edge that returns to the left
WRAP_COLUMN_WIDTH = 220.0  # a little wider than auto-layout's: room for a 9 pt shape tag between two cards


def wrap_layout(graph: Graph, width: float, height: float, card: tuple[float, float],
                column_width: float = WRAP_COLUMN_WIDTH, lane_height: float = LANE_HEIGHT,
                row_gap: float = RETURN_LANE, max_zoom: float = 1.0) -> tuple[dict[str, tuple[float, float]], float]:
    """The auto-layout's columns wrapped into rows, like lines of text, so that the drawing fits
    a `width` × `height` view at the largest zoom (at most `max_zoom`); returns the positions
    (top-left kept where the graph's was) and that zoom.

    `card` is the largest card's width and height. Every row holds the same number of columns and
    every lane of the auto-layout, so a branch stays beside its trunk; the edge from the end of a
    row to the start of the next runs back through the gap between the rows (canvas.edge_item).
    """
    base = auto_layout(graph, column_width, lane_height)
    if not base:
        return {}, max_zoom
    left = min(x for x, _ in base.values())
    top = min(y for _, y in base.values())
    column = {nid: round((x - left) / column_width) for nid, (x, _) in base.items()}
    lane = {nid: round((y - top) / lane_height) for nid, (_, y) in base.items()}
    columns, lanes = max(column.values()) + 1, max(lane.values()) + 1
    row_height = lanes * lane_height + row_gap
    best_zoom, best_per_row = -1.0, columns
    for per_row in range(columns, 0, -1):  # fewest rows first: ties keep the longer rows
        rows = math.ceil(columns / per_row)
        w = (per_row - 1) * column_width + card[0]
        h = (rows - 1) * row_height + (lanes - 1) * lane_height + card[1]
        zoom = min(width / w, height / h, max_zoom)
        if zoom > best_zoom + 1e-9:
            best_zoom, best_per_row = zoom, per_row
    positions = {
        nid: (left + (column[nid] % best_per_row) * column_width,
              top + (column[nid] // best_per_row) * row_height + lane[nid] * lane_height)
        for nid in base
    }
    return positions, best_zoom
