"""File › New from pretrained model…: the gallery (offline-aware), an import that opens the project,
and a refused weights file shown in the dialog with nothing written.

Weights are written by the tests from torchvision's randomly initialised models; the hub cache
points at an empty folder, so nothing is downloaded. Every import waits for `import_finished`,
emitted after the worker QThread has ended.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

pytestmark = pytest.mark.usefixtures("no_dangling_threads")

TIMEOUT_MS = 120_000


@pytest.fixture(autouse=True)
def empty_hub_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    hub = tmp_path / "hub"
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(hub))
    return hub


def _weights(name: str, path: Path) -> Path:
    import torchvision
    from safetensors.torch import save_file

    torch.manual_seed(1)
    model = torchvision.models.get_model(name, weights=None)
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(path))
    return path


def _dialog(window):  # noqa: ANN001, ANN202
    from workbench.gui.pretrained_dialog import PretrainedDialog

    window.act_new_pretrained.trigger()
    dialog = window.findChild(PretrainedDialog)
    assert dialog is not None and dialog.isVisible()
    return dialog


def test_the_gallery_lists_sizes_and_says_what_needs_a_download(window, empty_hub_cache: Path) -> None:  # noqa: ANN001
    dialog = _dialog(window)
    rows = [dialog.models.item(i).text() for i in range(dialog.models.count())]
    assert rows[0].startswith("resnet18 — 11.7 M parameters, 69.8 % top-1, weights: 45 MB download")
    assert any(r.startswith("mobilenet_v3_small — 2.5 M parameters") for r in rows)
    assert "not in the cache: importing downloads 45 MB" in dialog.status.text()
    dialog.weights.setCurrentIndex(dialog.weights.findData("none"))
    assert dialog.status.text() == ""
    dialog.reject()


def test_an_import_with_a_weights_file_opens_the_new_project(window, qtbot, tmp_path: Path) -> None:  # noqa: ANN001
    dialog = _dialog(window)
    dialog.models.setCurrentRow(0)  # resnet18
    dialog.weights_file.setText(str(_weights("resnet18", tmp_path / "r18.safetensors")))
    dialog.weights.setCurrentIndex(dialog.weights.findData("file"))
    dialog.classes.setValue(10)
    out = tmp_path / "mine.json"
    dialog.out.setText(str(out))
    with qtbot.waitSignal(dialog.import_finished, timeout=TIMEOUT_MS) as blocker:
        dialog.import_button.click()
    assert blocker.args == [True]
    assert out.is_file() and out.with_suffix(".safetensors").is_file()
    assert window.project is not None and window.project.path == out
    assert window.project.graph.node_by_name("fc").params["out_features"] == 10


def test_a_refused_weights_file_is_shown_and_nothing_is_written(window, qtbot, tmp_path: Path) -> None:  # noqa: ANN001
    dialog = _dialog(window)
    dialog.models.setCurrentRow([dialog.models.item(i).text().split(" ")[0] for i in range(dialog.models.count())]
                                .index("resnet34"))
    dialog.weights_file.setText(str(_weights("resnet18", tmp_path / "r18.safetensors")))
    dialog.weights.setCurrentIndex(dialog.weights.findData("file"))
    out = tmp_path / "r34.json"
    dialog.out.setText(str(out))
    with qtbot.waitSignal(dialog.import_finished, timeout=TIMEOUT_MS) as blocker:
        dialog.import_button.click()
    assert blocker.args == [False]
    assert "not weights of torchvision's resnet34" in dialog.status.text()
    assert dialog.isVisible() and not out.exists()
    dialog.reject()
