"""Names a user typed never become paths as they are: run folders stay inside runs/."""

from __future__ import annotations

from pathlib import Path

import pytest

from workbench.errors import WorkbenchError
from workbench.presets import load_preset
from workbench.safe_names import MAX_NAME_BYTES, run_folder_name, safe_folder_name


@pytest.mark.parametrize(("name", "expected"), [
    ("../../x", "_.._x"),
    ("a/b\\c", "a_b_c"),
    ("my model: v2?", "my_model__v2_"),
    ("Ωμέγα-1", "Ωμέγα-1"),
    ("数字 模型", "数字_模型"),
    ("नमस्ते", "नमस्ते"),  # combining vowel signs are kept with their letters
    (".hidden", "hidden"),
    ("run.", "run"),
    ("CON", "CON_"),
    ("con.txt", "con_.txt"),
    ("LPT9", "LPT9_"),
    ("tab\there\x00", "tab_here_"),
])
def test_unsafe_characters_are_replaced(name: str, expected: str) -> None:
    assert safe_folder_name(name) == expected


@pytest.mark.parametrize("name", ["", ".", "..", "...", "   "])
def test_names_with_nothing_usable_are_refused(name: str) -> None:
    with pytest.raises(WorkbenchError, match="cannot name a folder"):
        safe_folder_name(name)
    assert safe_folder_name(name, fallback="run") == "run"


def test_long_names_are_cut_at_a_character_boundary() -> None:
    for name in ("x" * 300, "日本" * 200):
        cut = safe_folder_name(name)
        assert len(cut.encode("utf-8")) <= MAX_NAME_BYTES and name.startswith(cut)
        assert len(cut.encode("utf-8")) > MAX_NAME_BYTES - 4


@pytest.mark.parametrize("name", ["../../x", "..", "/etc/passwd", "a/../../b", "C:\\Windows\\x", "NUL"])
def test_a_hostile_project_name_keeps_its_run_folder_inside_runs(name: str, tmp_path: Path) -> None:
    from workbench.runs import default_run_dir

    project = load_preset("digits-mlp")
    project.name = name
    project.path = tmp_path / "project.json"
    run_dir = default_run_dir(project)
    assert run_dir.parent == tmp_path / "runs"
    assert run_dir.resolve().parent == (tmp_path / "runs").resolve()
    assert run_dir.name.startswith(run_folder_name(name) + "-")


def test_the_runs_list_names_a_hostile_projects_runs_by_their_time(tmp_path: Path) -> None:
    from workbench.gui.training.run_folders import display_name

    folder = tmp_path / f"{run_folder_name('../../x')}-20261123-133304"
    assert display_name(folder, "../../x", today="20261123") == "13:33:04"
