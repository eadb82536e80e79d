"""Opening a project that reads images but names no folder (an imported pretrained model) says
"choose your image folder" in the Training panel, Train refuses with the same words, and the line
goes once a folder is set."""

from __future__ import annotations

from pathlib import Path

import pytest

from workbench.data.bundle import DatasetSpec
from workbench.presets import load_preset
from workbench.project import save_project

pytestmark = pytest.mark.usefixtures("no_dangling_threads")

CHOOSE = ("Choose your image folder: Data › File or folder in the run settings (one sub-folder of images per "
          "class). This project names no data yet.")


def test_an_imported_project_asks_for_its_image_folder(window, user_edit, tmp_path: Path) -> None:  # noqa: ANN001
    project = load_preset("digits-cnn")
    project.dataset = DatasetSpec(source="images")
    path = save_project(project, tmp_path / "imported.json")
    window.training.interactive = False
    assert window.open_file(str(path))
    assert window.training.progress.status.text() == CHOOSE

    messages: list[str] = []
    window.training.status_message.connect(lambda text, _ms: messages.append(text))
    assert not window.train()
    assert messages == [CHOOSE] and not window.training.running

    (tmp_path / "photos").mkdir()
    user_edit(window.training.form.editor("dataset.path"), str(tmp_path / "photos"))
    assert window.session.project.dataset.path == str(tmp_path / "photos")
    assert window.training.progress.status.text() == ""


def test_a_project_with_its_data_says_nothing_of_the_kind(window) -> None:  # noqa: ANN001
    assert window.open_preset("digits-cnn")
    assert window.training.progress.status.text() == ""
