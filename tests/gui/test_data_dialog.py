"""The Data preview dialog: a table, an image grid and a text excerpt from real files, the warnings,
a bad file shown as a message (then fixed and reloaded), and the Run settings button that opens it.

Every test waits for `preview_finished`, which the dialog emits after the loading QThread's own
`finished`; the `no_dangling_threads` fixture fails a test that leaves one running. No sleeps.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from workbench.data import DatasetSpec
from workbench.gui.app import ensure_app
from workbench.gui.data_dialog import DONE, FAILED, DataPreviewDialog
from workbench.gui.i18n import install_language

TIMEOUT_MS = 30_000


pytestmark = pytest.mark.usefixtures("no_dangling_threads")


@pytest.fixture
def preview(qtbot) -> Callable[..., DataPreviewDialog]:  # noqa: ANN001
    """Open a dialog on a spec and wait until it has loaded (or failed)."""
    ensure_app()
    install_language("en")

    def show(spec: DatasetSpec, base_dir: Path | None = None, outcome: str = DONE) -> DataPreviewDialog:
        dialog = DataPreviewDialog()
        qtbot.addWidget(dialog)
        with qtbot.waitSignal(dialog.preview_finished, timeout=TIMEOUT_MS) as blocker:
            dialog.show_spec(spec, base_dir)
            dialog.show()
        assert blocker.args == [outcome]
        return dialog

    return show


def _csv(path: Path, rows: int = 60) -> Path:
    lines = ["height,unit,label"] + [f"{1.5 + i / 100:.2f},cm,{'ab'[i % 2]}" for i in range(rows)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_table_rows_classes_and_constant_column(preview, tmp_path: Path) -> None:  # noqa: ANN001
    _csv(tmp_path / "t.csv")
    dialog = preview(DatasetSpec("csv", "t.csv"), tmp_path)
    assert dialog.sample_stack.currentWidget() is dialog.row_table
    table = dialog.row_table
    assert (table.rowCount(), table.columnCount()) == (20, 3)
    assert table.item(0, 0).text() == "1.50" and table.verticalHeaderItem(0).text() == "2"
    assert "(constant)" in table.horizontalHeaderItem(1).text()
    assert "(target)" in table.horizontalHeaderItem(2).text()
    assert dialog.class_table.rowCount() == 2
    assert [dialog.class_table.item(r, 1).text() for r in range(2)] == ["24", "24"]
    warnings = [dialog.warning_list.item(i).text() for i in range(dialog.warning_list.count())]
    assert len(warnings) == 2 and "'unit'" in warnings[0] and "only 12 validation samples" in warnings[1]
    assert "48 training / 12 validation samples" in dialog.summary.text()


def test_image_grid_for_digits_and_no_problems(preview) -> None:  # noqa: ANN001
    dialog = preview(DatasetSpec("digits"))
    assert dialog.sample_stack.currentWidget() is dialog.image_area
    assert len(dialog.image_labels) == 80
    pixmap = dialog.image_labels[0].pixmap()
    assert (pixmap.width(), pixmap.height()) == (48, 48)  # 8x8, enlarged 6x without smoothing
    assert dialog.class_table.rowCount() == 10
    assert dialog.warning_list.count() == 1 and dialog.warning_list.item(0).text() == "No problems found"


def test_text_excerpt(preview, tmp_path: Path) -> None:  # noqa: ANN001
    text = "".join(f"{i} bottles of milk on the wall\n" for i in range(300))
    (tmp_path / "song.txt").write_text(text, encoding="utf-8")
    dialog = preview(DatasetSpec("textfile", str(tmp_path / "song.txt")))
    assert dialog.sample_stack.currentWidget() is dialog.text_view
    assert dialog.text_view.toPlainText() == text[:2000]
    assert not dialog.class_box.isVisible()
    assert "language model" in dialog.summary.text()


def test_bad_file_shows_the_message_then_reload_after_the_fix(preview, qtbot, tmp_path: Path) -> None:  # noqa: ANN001
    bad = tmp_path / "t.csv"
    bad.write_text("a,b,label\n1,2,x\n3,4\n", encoding="utf-8")
    dialog = preview(DatasetSpec("csv", "t.csv"), tmp_path, outcome=FAILED)
    assert dialog.body.currentWidget() is dialog.error_page
    assert str(bad) in dialog.error_label.text() and "row 3 has 2 fields" in dialog.error_label.text()
    assert "Traceback" not in dialog.error_label.text()
    _csv(bad)
    with qtbot.waitSignal(dialog.preview_finished, timeout=TIMEOUT_MS) as blocker:
        dialog.reload_button.click()
    assert blocker.args == [DONE]
    assert dialog.body.currentWidget() is dialog.content and dialog.row_table.rowCount() == 20


def test_preview_button_in_the_run_settings_opens_the_project_data(editor, qtbot, tmp_path: Path,
                                                                   user_edit) -> None:  # noqa: ANN001
    form = editor.training.form
    assert form.preview_button.text() == "Preview data…" and form.preview_button.toolTip()
    user_edit(form.editor("dataset.source"), "csv")
    path = _csv(tmp_path / "mine.csv")
    form.editor("dataset.path").setText(str(path))  # typed, not yet confirmed with Enter
    form.preview_button.click()
    dialog = form.data_dialog
    assert isinstance(dialog, DataPreviewDialog) and dialog.isVisible()
    qtbot.waitUntil(lambda: not dialog.busy and dialog.preview is not None, timeout=TIMEOUT_MS)
    assert editor.session.project.dataset.path == str(path)
    assert dialog.row_table.rowCount() == 20
    # Again, with another dataset: the same dialog shows the new one.
    user_edit(form.editor("dataset.source"), "moons")
    with qtbot.waitSignal(dialog.preview_finished, timeout=TIMEOUT_MS):
        form.preview_button.click()
    assert form.data_dialog is dialog and dialog.summary.text().startswith("moons")
    assert dialog.class_table.rowCount() == 2
    assert [dialog.row_table.horizontalHeaderItem(c).text() for c in range(3)] == ["x0", "x1", "y\n(target)"]
    # Reload reads the project's dataset as it is now.
    user_edit(form.editor("dataset.source"), "spirals")
    with qtbot.waitSignal(dialog.preview_finished, timeout=TIMEOUT_MS):
        dialog.reload_button.click()
    assert dialog.summary.text().startswith("spirals") and dialog.class_table.rowCount() == 3


def test_augmented_draws_are_shown_under_the_classes(preview, tmp_path: Path) -> None:  # noqa: ANN001
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(0)
    for name in ("cat", "dog"):
        (tmp_path / "pets" / name).mkdir(parents=True)
        for i in range(6):
            Image.fromarray(rng.integers(0, 256, (12, 12, 3), dtype=np.uint8)).save(tmp_path / "pets" / name / f"{i}.jpg")
    plain = preview(DatasetSpec("images", "pets"), tmp_path)
    assert len(plain.image_labels) == 9 and plain.augmented_labels == []  # 12 images, 3 held out
    spec = DatasetSpec("images", "pets", {"transforms": [{"type": "random_resized_crop", "size": [10, 10]},
                                                         {"type": "horizontal_flip"}]})
    dialog = preview(spec, tmp_path)
    assert len(dialog.augmented_labels) == 8  # the first image of each class, four draws each
    assert all(label.pixmap().width() == label.pixmap().height() for label in dialog.augmented_labels)


def test_loading_a_folder_shows_its_progress(preview, tmp_path: Path, monkeypatch) -> None:  # noqa: ANN001
    import numpy as np
    from PIL import Image

    from workbench.data.progress import Tracker

    tracker_init = Tracker.__init__
    monkeypatch.setattr(Tracker, "__init__", lambda self, stage, total, every_s=0.25: tracker_init(self, stage, total, 0.0))
    shown: list[str] = []
    show_message = DataPreviewDialog._show_message
    monkeypatch.setattr(DataPreviewDialog, "_show_message",
                        lambda self, text, kind: (shown.append(text), show_message(self, text, kind)))
    for name in ("cat", "dog"):
        (tmp_path / "pets" / name).mkdir(parents=True)
        for i in range(3):
            Image.fromarray(np.zeros((4, 4), np.uint8)).save(tmp_path / "pets" / name / f"{i}.png")
    preview(DatasetSpec("images", "pets"), tmp_path)
    assert any(text.startswith("Loading images — pets…") and "checking images: 6 / 6 (100 %)" in text for text in shown)
