"""Searchable node parameters: checked by the layer's declaration, kept in the project file,
absent from files that do not use them."""

from __future__ import annotations

import json

import pytest

from workbench.errors import GraphError, ProjectFileError
from workbench.graph.document import EventKind
from workbench.graph.search_values import format_search_entry, parse_search_text
from workbench.layers import layer_spec
from workbench.presets import resolve_project
from workbench.project import Project, dumps_project, load_project, project_from_dict, project_to_dict, save_project


def plain_mlp() -> Project:
    """digits-mlp without the search values its preset marks."""
    project = resolve_project("digits-mlp")
    for node in project.graph.nodes:
        for key in list(node.search):
            project.graph.set_search(node.id, key, None)
    return project


def test_search_values_round_trip_through_the_project_file(tmp_path) -> None:
    project = plain_mlp()
    fc1, dropout = project.graph.node_by_name("fc1"), project.graph.node_by_name("dropout")
    project.graph.set_search(fc1.id, "out_features", [32, 64, 128])
    project.graph.set_search(dropout.id, "p", {"low": 0, "high": 0.5})
    path = save_project(project, tmp_path / "p.json")
    nodes = json.loads(path.read_text())["graph"]["nodes"]
    assert nodes[2]["search"] == {"out_features": [32, 64, 128]}
    assert nodes[4]["search"] == {"p": {"low": 0.0, "high": 0.5}}
    loaded = load_project(path)
    assert loaded.graph == project.graph
    assert loaded.graph.node_by_name("fc1").search == {"out_features": [32, 64, 128]}


def test_a_file_without_searches_has_no_search_key() -> None:
    assert '"search"' not in dumps_project(plain_mlp())
    assert '"search"' in dumps_project(resolve_project("digits-mlp"))  # the preset marks fc1 and fc2


def test_set_search_emits_an_event_and_none_removes_the_entry() -> None:
    graph = plain_mlp().graph
    fc1 = graph.node_by_name("fc1")
    events = []
    graph.subscribe(events.append)
    assert graph.set_search(fc1.id, "out_features", {"low": 16, "high": 256, "log": True}) is None
    assert graph.set_search(fc1.id, "out_features", None) == {"low": 16, "high": 256, "log": True}
    assert fc1.search == {}
    assert [e.kind for e in events] == [EventKind.SEARCH_CHANGED] * 2
    assert events[0].detail["new"] == {"low": 16, "high": 256, "log": True}


@pytest.mark.parametrize("entry, words", [
    ([0, 64], "must be an integer from 1"),
    ([64], "at least two values"),
    ([32, 32], "listed twice"),
    ({"low": 64, "high": 32}, "must be below"),
    ({"low": 16}, "needs 'low' and 'high'"),
    ({"low": 16, "high": 64, "scale": 2}, "unknown key 'scale'"),
    ({"low": 16, "high": 64, "step": 1.5}, "must be whole"),
    ("32, 64", "expected a list of values or a range"),
])
def test_bad_search_values_are_refused_with_the_reason(entry, words) -> None:
    graph = plain_mlp().graph
    with pytest.raises(GraphError, match=words):
        graph.set_search(graph.node_by_name("fc1").id, "out_features", entry)
    assert graph.node_by_name("fc1").search == {}


def test_only_numeric_params_are_searchable() -> None:
    graph = plain_mlp().graph
    with pytest.raises(GraphError, match="not a number"):
        graph.set_search(graph.node_by_name("fc1").id, "bias", [True, False])


def test_a_bad_search_entry_in_a_file_names_its_path() -> None:
    record = project_to_dict(plain_mlp())
    record["graph"]["nodes"][2]["search"] = {"out_features": [8, 0]}
    with pytest.raises(ProjectFileError, match=r"graph\.nodes\[2\]\.search: .*out_features"):
        project_from_dict(record)


@pytest.mark.parametrize("text, entry", [
    ("32, 64, 128", [32, 64, 128]),
    ("16..256", {"low": 16, "high": 256}),
    ("16..256 log", {"low": 16, "high": 256, "log": True}),
    ("", None),
])
def test_inspector_text_is_parsed_and_formatted_back(text, entry) -> None:
    spec = layer_spec("Linear")
    assert parse_search_text(spec, "out_features", text) == entry
    assert parse_search_text(spec, "out_features", format_search_entry(entry)) == entry


def test_unreadable_inspector_text_says_the_accepted_forms() -> None:
    with pytest.raises(GraphError, match="separated by commas"):
        parse_search_text(layer_spec("Linear"), "out_features", "many")
