"""Files go where people look: a projects folder (~/Workbench by default, a preference), shown on
the start page, where Save As starts (then the last-used folder), and whose runs/ holds the runs
of a project that has no file yet. The command line keeps the working folder."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtWidgets import QFileDialog

from workbench.gui.export_runs import runs_folder
from workbench.gui.settings import Settings
from workbench.project import set_unsaved_home, unsaved_home
from workbench.runs import default_run_dir


def _save_dialog(monkeypatch: pytest.MonkeyPatch, answer: Path) -> list[str]:
    """Answer Save As with `answer`; the list receives the path the dialog proposed."""
    proposed: list[str] = []

    def fake(parent, caption, suggested, filters):  # noqa: ANN001, ANN202
        proposed.append(suggested)
        return str(answer), filters

    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(fake))
    return proposed


@pytest.fixture(autouse=True)
def default_projects_folder(config_dir: Path) -> None:
    """The conftest makes the working folder the projects folder; these tests need the default."""
    Settings().set_projects_folder(None)


def test_the_start_page_shows_the_projects_folder(window) -> None:  # noqa: ANN001
    home = Path.home()
    assert window.settings.projects_folder == home / "Workbench"
    label = window.start_page.folder_label
    assert label.isVisibleTo(window) and "Projects folder:" in label.text() and ">~/Workbench<" in label.text()


def test_save_as_starts_in_the_projects_folder_then_in_the_last_used_one(window, monkeypatch, tmp_path) -> None:  # noqa: ANN001
    assert window.open_preset("digits-mlp")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    proposed = _save_dialog(monkeypatch, elsewhere / "mine")
    assert window.save_as()
    folder = Path.home() / "Workbench"
    assert proposed == [str(folder / "digits-mlp.json")] and folder.is_dir()  # created for the dialog
    assert (elsewhere / "mine.json").is_file()

    assert window.open_preset("digits-cnn")
    proposed = _save_dialog(monkeypatch, elsewhere / "cnn.json")
    assert window.save_as()
    assert proposed == [str(elsewhere.resolve() / "digits-cnn.json")]
    assert Settings().last_folder == elsewhere.resolve()  # remembered in the settings file


def test_an_unsaved_projects_runs_go_to_the_projects_folder(window, tmp_path, monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.chdir(tmp_path)
    assert window.open_preset("digits-mlp")
    project = window.project
    assert project.path is None
    runs = Path.home() / "Workbench" / "runs"
    assert default_run_dir(project).parent == runs and runs_folder(project) == runs
    saved = tmp_path / "saved" / "p.json"
    saved.parent.mkdir()
    assert window.save_to(saved)
    assert default_run_dir(window.project).parent == saved.parent / "runs"  # beside the file, as before


def test_the_command_line_keeps_the_working_folder(tmp_path, monkeypatch) -> None:  # noqa: ANN001
    from workbench.presets import load_preset

    monkeypatch.chdir(tmp_path)
    set_unsaved_home(None)
    assert unsaved_home() == tmp_path
    assert default_run_dir(load_preset("digits-mlp")).parent == tmp_path / "runs"


def test_preferences_change_the_projects_folder(window, tmp_path, monkeypatch) -> None:  # noqa: ANN001
    from workbench.gui.preferences import PreferencesDialog

    chosen = tmp_path / "my projects"
    dialog = PreferencesDialog(window.settings, window)
    assert dialog.projects_folder.text() == str(Path.home() / "Workbench")
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", staticmethod(lambda *a: str(chosen)))
    dialog._choose_folder()
    dialog.store()
    window.apply_preferences()
    assert Settings().projects_folder == chosen
    assert unsaved_home() == chosen
    assert "my projects" in window.start_page.folder_label.text()
    assert window.open_preset("digits-mlp")
    proposed = _save_dialog(monkeypatch, chosen / "x.json")
    assert window.save_as()
    assert proposed == [str(chosen / "digits-mlp.json")]

    dialog = PreferencesDialog(window.settings, window)
    dialog.projects_folder.setText(str(Path.home() / "Workbench"))
    dialog.store()
    assert window.settings.value("preferences/projects_folder") == ""  # the default is not pinned
    dialog.deleteLater()
