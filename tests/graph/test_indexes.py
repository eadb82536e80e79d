"""Graph indexes: names, edges by node and one cycle check per load keep big graphs O(n).

Timings belong in benchmarks; these tests count what the code does instead: lookups that
scan every node or edge, cycle searches, and lines run as the graph grows.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from workbench.errors import GraphError
from workbench.graph.analysis import analyze, topological_order
from workbench.graph.document import Graph
from workbench.project import Project, load_project


def test_unique_names_fill_the_gap_a_removed_node_leaves() -> None:
    g = Graph()
    ids = [g.add_node("Linear").id for _ in range(4)]
    assert [g.node(i).name for i in ids] == ["fc", "fc_2", "fc_3", "fc_4"]
    g.remove_node(ids[1])
    assert g.add_node("Linear").name == "fc_2"
    assert g.add_node("Linear").name == "fc_5"
    g.rename(ids[2], "head")
    assert g.add_node("Linear").name == "fc_3"
    assert g.node_by_name("head").id == ids[2] and g.node_by_name("fc_3") is not None


def test_connect_all_refuses_exactly_what_connect_would() -> None:
    def build() -> tuple[Graph, list[str]]:
        g = Graph()
        return g, [g.add_node("ReLU").id for _ in range(4)]

    a_graph, (a, b, c, d) = build()
    requests = [(a, b, None), (b, c, None), (c, a, None), (c, d, "in"), (b, d, "in"), (a, "nx", None), (d, b, "in2")]
    results = a_graph.connect_all(requests)
    one_by_one, _ = build()
    expected = []
    for src, dst, port in requests:
        try:
            expected.append(one_by_one.connect(src, dst, port))
        except GraphError as exc:
            expected.append(str(exc))
    assert [r if not isinstance(r, GraphError) else str(r) for r in results] == expected
    assert a_graph == one_by_one
    assert "would make a cycle" in expected[2]


def test_connect_all_without_a_cycle_adds_every_edge_and_reports_each() -> None:
    g = Graph()
    seen = []
    g.subscribe(seen.append)
    ids = [g.add_node("ReLU").id for _ in range(5)]
    pairs = [(ids[i], ids[i + 1], None) for i in reversed(range(4))]
    results = g.connect_all(pairs)
    assert [(e.src, e.dst) for e in results] == [(s, d) for s, d, _ in pairs]
    assert [e.edge for e in seen[5:]] == results
    assert topological_order(g) == (ids, [])


def _chain_record(n: int) -> dict:
    """An n-node chain Input -> (Linear, ReLU)* -> Output, edges listed last-first."""
    graph = Graph()
    ids = [graph.add_node("Input", params={"kind": "vector", "shape": [8]}).id]
    for i in range(n - 2):
        ids.append(graph.add_node("ReLU" if i % 2 else "Linear", params={} if i % 2 else {"out_features": 8}).id)
    ids.append(graph.add_node("Output", params={"loss": "mse"}).id)
    record = Project(name="chain", graph=Graph()).to_dict()
    record["graph"] = graph.to_dict()
    record["graph"]["edges"] = [{"src": a, "dst": b, "port": "in"} for a, b in reversed(list(zip(ids, ids[1:])))]
    return record


def test_loading_an_8000_node_chain_uses_the_indexes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "chain.json"
    path.write_text(json.dumps(_chain_record(8000)))
    reads = {"edges": 0, "nodes": 0, "cycle searches": 0}

    def counted(name: str, original):
        def read(self):
            reads[name] += 1
            return original.fget(self)

        return property(read)

    def no_search(self, start: str, goal: str) -> bool:
        reads["cycle searches"] += 1
        return False

    monkeypatch.setattr(Graph, "edges", counted("edges", Graph.edges))
    monkeypatch.setattr(Graph, "nodes", counted("nodes", Graph.nodes))
    monkeypatch.setattr(Graph, "_reaches", no_search)
    project = load_project(path)
    analysis = analyze(project.graph)
    assert len(project.graph) == 8000 and analysis.ok
    assert str(analysis.shapes[analysis.order[-1]]) == "B×8"
    # No per-node scan of every node or edge: the lists are read a fixed number of times
    # (by analyze), and the loader's single topological sort replaces a search per edge.
    assert reads["cycle searches"] == 0
    assert reads["edges"] <= 5 and reads["nodes"] <= 5


def _lines_run(function) -> int:
    """How many lines of Workbench's graph and project code `function()` runs (loop turns count)."""
    count = 0
    watched = ("workbench/graph/", "workbench/project.py", "workbench/layers/")

    def tracer(frame, event, arg):
        nonlocal count
        if not frame.f_code.co_filename.replace("\\", "/").endswith(watched) and not any(
            w in frame.f_code.co_filename.replace("\\", "/") for w in watched
        ):
            return None
        count += 1
        return tracer

    sys.settrace(tracer)
    try:
        function()
    finally:
        sys.settrace(None)
    return count


def test_loading_and_analysing_a_chain_runs_lines_in_proportion_to_its_length(tmp_path: Path) -> None:
    counts = []
    for n in (400, 800):
        path = tmp_path / f"chain{n}.json"
        path.write_text(json.dumps(_chain_record(n)))
        counts.append(_lines_run(lambda: analyze(load_project(path).graph)))
    assert 1.8 < counts[1] / counts[0] < 2.2  # quadratic code would run 4 times the lines
