"""Property-based tests: randomly mutated presets load, or fail with one clear ProjectFileError.

Each example takes a bundled preset, changes its record (a value replaced by anything JSON can
hold — or that Python's reader chokes on: 5,000-digit integers, 1e400, 1,000 levels of nesting,
lone surrogates —, a field dropped or added) and sometimes damages the text itself. Whatever
comes out, loading gives a Project or a one-line ProjectFileError starting with the file's path;
a loaded project analyses, summarizes when valid, and saves and loads back unchanged.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, note
from hypothesis import strategies as st

from workbench.errors import ProjectFileError
from workbench.graph.analysis import analyze
from workbench.graph.summary import summarize
from workbench.presets import preset_paths
from workbench.project import load_project, save_project

PRESETS = {path.stem: json.loads(path.read_text(encoding="utf-8")) for path in preset_paths()}

# Values json.dumps cannot write as they should appear in the file: placeholders, swapped for
# their text after dumping.
RAW = {
    "@deep-list@": "[" * 1000 + "]" * 1000,
    "@deep-object@": '{"a":' * 1000 + "1" + "}" * 1000,
    "@5000-digits@": "9" * 5000,
    "@400-digits@": "1" + "0" * 400,
    "@1e400@": "1e400",
    "@-1e400@": "-1e400",
    "@2^63@": str(2**63),
    "@NaN@": "NaN",
    "@surrogate@": '"bad\\udc80name"',
    "@surrogate-key@": '{"\\ud800": 1}',
}

SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=12),
    st.sampled_from(sorted(RAW)),
    st.sampled_from(["Linear", "Input", "Output", "n1", "n2", "in", "in1", "image", "tokens", "mse", ""]),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=10,
)


def _paths(value: Any, prefix: tuple = ()) -> list[tuple]:
    """Every path (keys and indexes) to a value inside the record, the root included."""
    found = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            found += _paths(item, (*prefix, i))
    return found


def _parent(record: Any, path: tuple) -> Any:
    for step in path[:-1]:
        record = record[step]
    return record


@st.composite
def mutated_project_texts(draw: st.DrawFn) -> str:
    """A preset's JSON text after a few random edits of its record and maybe of its bytes."""
    record = json.loads(json.dumps(PRESETS[draw(st.sampled_from(sorted(PRESETS)))]))
    for _ in range(draw(st.integers(1, 4))):
        path = draw(st.sampled_from(_paths(record)[1:]))
        parent, last = _parent(record, path), path[-1]
        action = draw(st.sampled_from(("replace", "replace", "replace", "drop", "add")))
        if action == "replace":
            parent[last] = draw(VALUES)
        elif action == "drop":
            del parent[last]
        elif isinstance(parent, dict):
            parent[draw(st.text(max_size=8))] = draw(VALUES)
        else:
            parent.insert(draw(st.integers(0, len(parent))), draw(VALUES))
    text = json.dumps(record, indent=draw(st.sampled_from((None, 2))), ensure_ascii=draw(st.booleans()))
    for placeholder, raw in RAW.items():
        text = text.replace(json.dumps(placeholder), raw)
    if draw(st.integers(0, 4)) == 0:  # damage the text itself
        cut = draw(st.integers(0, len(text)))
        text = text[:cut] + draw(st.text(max_size=4)) + text[cut + draw(st.integers(0, 3)):]
    return text


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


@given(text=mutated_project_texts())
def test_mutated_presets_load_or_fail_with_one_clear_line(folder: Path, text: str) -> None:
    note(text[:2000])
    path = folder / "mutated.json"
    path.write_bytes(text.encode("utf-8", "surrogatepass"))
    try:
        project = load_project(path)
    except ProjectFileError as exc:
        message = str(exc)
        assert message.startswith(f"{path}: ")
        assert "\n" not in message and len(message) < 1000
        message.encode("utf-8")  # printable: no lone surrogate reaches the terminal
        return
    analysis = analyze(project.graph)
    for problem in analysis.problems:
        problem.message.encode("utf-8")
    if analysis.ok:
        summarize(project.graph, batch_size=project.training.batch_size, optimizer=project.training.optimizer)
    saved = save_project(project, folder / "saved.json")
    assert load_project(saved) == project
