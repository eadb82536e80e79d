"""Regression tests: project files that once crashed loading, saving or `workbench info`.

Each must end as one ProjectFileError line naming the file and the path inside it.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from workbench.cli import main
from workbench.errors import ProjectFileError, WorkbenchError
from workbench.files import write_text_atomic
from workbench.presets import load_preset, preset_paths
from workbench.project import MAX_NESTING, load_project, save_project


def _record() -> dict:
    return json.loads(preset_paths()[0].read_text())


def _refusal(tmp_path: Path, text: str) -> str:
    path = tmp_path / "bad.json"
    path.write_bytes(text.encode("utf-8"))
    with pytest.raises(ProjectFileError) as info:
        load_project(path)
    message = str(info.value)
    assert message.startswith(f"{path}: ") and "\n" not in message
    message.encode("utf-8")  # printable on any terminal
    return message[len(f"{path}: "):]


def _with(field_text: str, placeholder: str = '"@"') -> str:
    """The first preset's text with its description replaced by raw JSON text."""
    record = _record()
    record["description"] = "@"
    return json.dumps(record).replace(placeholder, field_text)


def test_project_with_deep_nesting_is_refused(tmp_path: Path) -> None:
    message = _refusal(tmp_path, _with("[" * 5000 + "]" * 5000))
    assert message == f"description[0][0]{'[0]' * (MAX_NESTING - 3)}: nested more than {MAX_NESTING} levels deep — is this a Workbench project?"


def test_project_with_deep_objects_is_refused_with_their_keys(tmp_path: Path) -> None:
    message = _refusal(tmp_path, _with('{"a":' * 1000 + "1" + "}" * 1000))
    assert message.startswith("description.a.a.a.") and "nested more than 64 levels deep" in message


def test_project_with_deep_nesting_from_a_record_is_refused() -> None:
    from workbench.project import project_from_dict

    record = _record()
    deep: list = []
    record["description"] = deep
    for _ in range(3000):
        deep.append([])
        deep = deep[0]
    with pytest.raises(ProjectFileError, match=r"^x.json: description(\[0\]){63}: nested more than 64 levels deep"):
        project_from_dict(record, origin="x.json")


def test_project_with_a_5000_digit_number_is_refused(tmp_path: Path) -> None:
    record = _record()
    record["graph"]["nodes"][1]["params"]["out_channels"] = "@"
    text = json.dumps(record).replace('"@"', "9" * 5000)
    assert _refusal(tmp_path, text) == "graph.nodes[1].params.out_channels: a number of 5000 digits is far too large"


def test_project_with_a_number_beyond_the_float_range_is_refused(tmp_path: Path) -> None:
    record = _record()
    record["training"]["lr"] = 10**400
    message = _refusal(tmp_path, json.dumps(record))
    assert message == "training.lr: a number of 401 digits is far too large"


def test_project_with_1e400_is_refused(tmp_path: Path) -> None:
    record = _record()
    record["graph"]["nodes"][0]["position"] = ["@", 0]
    message = _refusal(tmp_path, json.dumps(record).replace('"@"', "1e400"))
    assert message == "graph.nodes[0].position[0]: inf is not a usable number (JSON has no NaN or infinity)"


def test_project_with_a_shape_beyond_64_bits_is_refused(tmp_path: Path) -> None:
    record = _record()
    record["graph"]["nodes"][0]["params"]["shape"] = [1, 2**63, 8]
    message = _refusal(tmp_path, json.dumps(record))
    assert message == f"graph.nodes[0].params.shape[1]: {2**63} is too large (at most 9,223,372,036,854,775,807)"


def test_project_with_a_shape_too_large_to_run_is_refused(tmp_path: Path) -> None:
    record = _record()
    record["graph"]["nodes"][0]["params"]["shape"] = [1, 2**40, 8]
    message = _refusal(tmp_path, json.dumps(record))
    assert message.startswith("graph.nodes[0].params.shape: 'shape' must be a list of 1 to 3 integers from 1 to 2147483647")


@pytest.mark.parametrize("field", ["name", "description"])
def test_project_name_with_a_lone_surrogate_is_refused(tmp_path: Path, field: str) -> None:
    record = _record()
    record[field] = "net\udc80"
    message = _refusal(tmp_path, json.dumps(record))  # ensure_ascii writes it as "\udc80"
    assert message == (
        f"{field}: 'net\\udc80' holds U+DC80, half of a UTF-16 surrogate pair on its own,"
        " which is not a character — retype the text"
    )


def test_field_name_with_a_lone_surrogate_is_refused(tmp_path: Path) -> None:
    record = _record()
    record["dataset"]["options"] = {"\ud800": 1}
    message = _refusal(tmp_path, json.dumps(record))
    assert message == (
        "dataset.options: the field name '\\ud800' holds U+D800, half of a UTF-16 surrogate pair on its own,"
        " which is not a character"
    )


def test_layer_name_with_a_lone_surrogate_is_refused(tmp_path: Path) -> None:
    record = _record()
    record["graph"]["nodes"][3]["name"] = "pool\ud83d"
    assert _refusal(tmp_path, json.dumps(record)).startswith("graph.nodes[3].name: 'pool\\ud83d' holds U+D83D")


def test_saving_a_name_with_a_lone_surrogate_is_refused(tmp_path: Path) -> None:
    project = load_preset("digits-mlp")
    target = save_project(project, tmp_path / "p.json")
    before = target.read_text()
    project.name = "mine\udc80"
    with pytest.raises(ProjectFileError, match=r"p.json: cannot be saved: name: 'mine\\udc80' holds U\+DC80"):
        save_project(project, target)
    assert target.read_text() == before


def test_writing_text_with_a_lone_surrogate_is_refused(tmp_path: Path) -> None:
    with pytest.raises(WorkbenchError, match=r"x.txt: cannot be saved: its text holds U\+D800 at character 2,"):
        write_text_atomic(tmp_path / "x.txt", "ab\ud800")
    assert list(tmp_path.iterdir()) == []


def test_info_on_a_project_named_with_a_lone_surrogate_is_one_line(capsys, tmp_path: Path) -> None:
    record = _record()
    record["name"] = "\udc80"
    path = tmp_path / "p.json"
    path.write_text(json.dumps(record))
    assert main(["info", str(path)]) == 1
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1 and err.startswith(f"workbench: error: {path}: name: ")


def test_info_on_a_reshape_with_a_zero_lists_the_problem(capsys, tmp_path: Path) -> None:
    project = load_preset("digits-mlp")
    graph = project.graph
    flatten = graph.node_by_name("flatten")
    graph.set_param(graph.node_by_name("fc1").id, "out_features", 64)
    node = graph.add_node("Reshape", params={"shape": [0, -1]})
    graph.connect(flatten.id, node.id)
    path = save_project(project, tmp_path / "p.json")
    assert main(["info", str(path)]) == 1
    _, err = capsys.readouterr()
    assert "Reshape 'reshape' has a 0 in its shape" in err



def test_info_with_a_negative_batch_size_is_refused(capsys) -> None:
    assert main(["info", "digits-mlp", "--batch-size", "-3"]) == 1
    out, err = capsys.readouterr()
    assert out == "" and err == "workbench: error: --batch-size must be at least 1, got -3\n"


def test_field_name_with_a_line_break_is_refused_on_one_line(tmp_path: Path) -> None:
    record = _record()
    record["kind"] = {"\n": 2**63}
    message = _refusal(tmp_path, json.dumps(record))
    assert message.startswith("kind: the field name '\\n' holds a line break or another character that cannot be printed")
