"""Project files: round trip, atomic save, and a clear one-line error for every malformed file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from workbench.errors import ProjectFileError
from workbench.presets import list_presets, load_preset, preset_paths, resolve_project
from workbench.project import dumps_project, load_project, project_from_dict, save_project


@pytest.mark.parametrize("path", preset_paths(), ids=lambda p: p.stem)
def test_every_preset_round_trips(path: Path, tmp_path: Path) -> None:
    project = load_project(path)
    saved = save_project(project, tmp_path / "copy.json")
    again = load_project(saved)
    assert again == project
    assert dumps_project(again) == dumps_project(project)
    assert json.loads(path.read_text()) == json.loads(saved.read_text())


def test_presets_listed_with_tasks() -> None:
    infos = {p.name: p for p in list_presets()}
    assert {"digits-mlp", "digits-cnn", "digits-resnet", "digits-vit", "tiny-gpt", "regression-mlp"} <= set(infos)
    assert infos["tiny-gpt"].task == "language model"
    # token ids in, one score vector per sequence out: a classifier, not a language model
    assert infos["lstm-classifier"].task == "classification"
    assert infos["seq2seq-transformer"].task == "sequence to sequence"
    assert infos["regression-mlp"].task == "regression"
    assert infos["digits-cnn"].task == "classification" and infos["digits-cnn"].parameters == 13706


def test_resolve_by_name_or_path(tmp_path: Path) -> None:
    assert resolve_project("digits-mlp").name == "digits-mlp"
    target = save_project(load_preset("digits-mlp"), tmp_path / "mine.json")
    assert resolve_project(str(target)).path == target
    with pytest.raises(ProjectFileError, match="no preset named 'digits-mpl' \\(presets: digits-cnn"):
        resolve_project("digits-mpl")


def test_save_is_atomic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project = load_preset("digits-mlp")
    target = save_project(project, tmp_path / "p.json")
    before = target.read_text()
    project.name = "changed"

    def crash(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr("os.replace", crash)
    with pytest.raises(OSError):
        save_project(project, target)
    assert target.read_text() == before
    assert [p.name for p in tmp_path.iterdir()] == ["p.json"]


def _record() -> dict:
    return json.loads(preset_paths()[0].read_text())


def _write(tmp_path: Path, content: str | bytes) -> Path:
    path = tmp_path / "bad.json"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    return path


def _mutated(tmp_path: Path, change) -> Path:
    record = _record()
    change(record)
    return _write(tmp_path, json.dumps(record))


def _loop_back(record: dict) -> None:
    """Feed conv1 from relu2 instead of the input: a cycle conv1 -> ... -> relu2 -> conv1."""
    edges = record["graph"]["edges"]
    edges.remove({"src": "n1", "dst": "n2", "port": "in"})
    edges.append({"src": "n6", "dst": "n2", "port": "in"})


MALFORMED = {
    "empty": (lambda t: _write(t, ""), "the file is empty"),
    "truncated": (lambda t: _write(t, json.dumps(_record())[:200]), "not valid JSON at line 1, column 201"),
    "binary": (lambda t: _write(t, b"\x89PNG\r\n\x1a\n\x00\xff"), "not a text file"),
    "top level list": (lambda t: _write(t, "[1, 2]"), "expected a JSON object at the top, got a list"),
    "no version": (lambda t: _mutated(t, lambda r: r.pop("format_version")), "format_version: expected an integer, got null"),
    "future version": (
        lambda t: _mutated(t, lambda r: r.update(format_version=7)),
        "written by a newer Workbench (format 7; this version reads up to 1) — update Workbench",
    ),
    "unknown layer": (
        lambda t: _mutated(t, lambda r: r["graph"]["nodes"][2].update(type="Dense")),
        "graph.nodes[2].type: unknown layer type 'Dense'",
    ),
    "bad param type": (
        lambda t: _mutated(t, lambda r: r["graph"]["nodes"][8]["params"].update(out_features="many")),
        "graph.nodes[8].params.out_features: 'out_features' must be an integer from 1 to 65536, got 'many'",
    ),
    "unknown param": (
        lambda t: _mutated(t, lambda r: r["graph"]["nodes"][8]["params"].update(units=3)),
        "graph.nodes[8].params.units: Linear has no parameter 'units'",
    ),
    "bad edge reference": (
        lambda t: _mutated(t, lambda r: r["graph"]["edges"][0].update(dst="n99")),
        "graph.edges[0].dst: no node with id \"n99\"",
    ),
    "cycle": (
        lambda t: _mutated(t, _loop_back),
        "graph.edges[10]: cannot connect: connecting ReLU 'relu2' to Conv2d 'conv1' would make a cycle",
    ),
    "wrong training type": (
        lambda t: _mutated(t, lambda r: r["training"].update(lr="fast")),
        "training.lr: expected a number > 0, got \"fast\"",
    ),
    "bad val fraction": (
        lambda t: _mutated(t, lambda r: r["dataset"].update(val_fraction=1.5)),
        "dataset.val_fraction: expected a number between 0 and 1, got 1.5",
    ),
    "unknown top field": (lambda t: _mutated(t, lambda r: r.update(layers=[])), "layers: unknown field"),
    "position not numbers": (
        lambda t: _mutated(t, lambda r: r["graph"]["nodes"][0].update(position="left")),
        "graph.nodes[0].position: expected [x, y] numbers, got \"left\"",
    ),
}


@pytest.mark.parametrize("case", MALFORMED, ids=list(MALFORMED))
def test_malformed_file_gives_one_clear_line(case: str, tmp_path: Path) -> None:
    make, expected = MALFORMED[case]
    path = make(tmp_path)
    with pytest.raises(ProjectFileError) as info:
        load_project(path)
    message = str(info.value)
    assert message.startswith(str(path))
    assert expected in message
    assert "\n" not in message


def test_every_problem_is_collected() -> None:
    record = _record()
    record["graph"]["nodes"][2]["type"] = "Dense"
    record["training"]["epochs"] = -1
    with pytest.raises(ProjectFileError) as info:
        project_from_dict(record, origin="x.json")
    assert "(and 3 more problems)" in str(info.value)  # the unknown layer's two edges fail too
    problems = info.value.problems  # type: ignore[attr-defined]
    assert any("training.epochs" in p for p in problems)
    assert any("graph.nodes[2].type" in p for p in problems)


def test_missing_file_and_folder(tmp_path: Path) -> None:
    with pytest.raises(ProjectFileError, match="no such file"):
        load_project(tmp_path / "nope.json")
    with pytest.raises(ProjectFileError, match="is a folder"):
        load_project(tmp_path)
