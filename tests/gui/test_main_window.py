"""The window and the life of a project: start page, presets, save/open, unsaved-changes prompt,
autosave recovery, translations, the screenshot mode."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QMessageBox

from workbench.gui.i18n import install_language
from workbench.presets import load_preset, preset_paths


def test_start_page_lists_presets_and_opens_each_in_one_click(window, qtbot) -> None:  # noqa: ANN001
    assert window.stack.currentWidget() is window.start_page
    window.load_presets()
    names = [p.stem for p in preset_paths()]
    assert names and [c.entry.name for c in window.start_page.cards] == names
    for name in names:
        window.show_start_page()
        card = window.start_page.card(name)
        qtbot.mouseClick(card, Qt.MouseButton.LeftButton)
        assert window.stack.currentWidget() is window.view
        expected = load_preset(name).graph
        assert window.session.graph.to_dict() == expected.to_dict()
        assert len(window.scene.nodes) == len(expected)
        assert len(window.scene.edges) == len(expected.edges)
        assert window.windowTitle().startswith(name)
        assert not window.isWindowModified()


def test_title_shows_dirty_mark(editor) -> None:  # noqa: ANN001
    assert not editor.isWindowModified()
    editor.add_layer_at("ReLU", QPointF(0, 300))
    assert editor.isWindowModified() and "[*]" in editor.windowTitle()
    editor.act_undo.trigger()
    assert not editor.isWindowModified()


def test_save_then_open_gives_an_equal_document(editor, tmp_path: Path) -> None:  # noqa: ANN001
    editor.add_layer_at("GELU", QPointF(0, 300))
    path = tmp_path / "mine.json"
    assert editor.save_to(path)
    saved = editor.session.graph.to_dict()
    project = editor.project
    assert not editor.isWindowModified()
    assert editor.windowTitle().startswith("mine.json")
    assert str(path.resolve()) == editor.settings.recent_files()[0]

    editor.new_project()
    assert editor.session.graph.to_dict() != saved
    assert editor.open_file(str(path))
    assert editor.session.graph.to_dict() == saved
    assert editor.project.dataset == project.dataset and editor.project.training == project.training
    assert json.loads(path.read_text())["graph"] == saved


def test_closing_with_unsaved_changes_asks_first(editor, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: ANN001
    asked: list[str] = []
    answer = QMessageBox.StandardButton.Cancel

    def question(parent, title, text, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
        asked.append(text)
        return answer

    monkeypatch.setattr(QMessageBox, "question", staticmethod(question))
    editor.add_layer_at("ReLU", QPointF(0, 300))
    assert not editor.close()  # cancelled: still open
    assert editor.isVisible() and len(asked) == 1 and "digits-mlp" in asked[0]
    assert not editor.open_preset("digits-cnn")  # opening another project asks too
    assert len(asked) == 2 and editor.session.project.name == "digits-mlp"
    answer = QMessageBox.StandardButton.Discard
    assert editor.close()
    assert len(asked) == 3


def test_clean_close_does_not_ask(editor, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: ANN001
    monkeypatch.setattr(QMessageBox, "question", staticmethod(lambda *a, **k: pytest.fail("asked")))
    assert editor.close()


def test_autosave_recovery_restores_the_graph(editor, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: ANN001
    from workbench.gui.main_window import MainWindow
    from workbench.gui.settings import Settings, recovery_path

    editor.add_layer_at("Tanh", QPointF(0, 300))
    edited = editor.session.graph.to_dict()
    assert editor.autosave()
    assert recovery_path().is_file()

    # The next start (after a crash: the first window never closed) offers the recovery.
    monkeypatch.setattr(QMessageBox, "question", staticmethod(lambda *a, **k: QMessageBox.StandardButton.Yes))
    second = MainWindow(Settings(), restore_layout=False)
    try:
        assert second.offer_recovery()
        assert second.session.graph.to_dict() == edited
        assert second.isWindowModified()
    finally:
        second.session.undo_stack.setClean()
        second._force_dirty = False
        second.close()
        second.deleteLater()
    assert not recovery_path().exists()  # a clean close removes it


def test_recovery_declined_is_removed(window, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: ANN001
    from workbench.gui.settings import recovery_path

    window.open_preset("digits-mlp")
    window.add_layer_at("Tanh", QPointF(0, 300))
    window.autosave()
    window.session.undo_stack.setClean()
    window._close_session()
    monkeypatch.setattr(QMessageBox, "question", staticmethod(lambda *a, **k: QMessageBox.StandardButton.No))
    assert not window.offer_recovery()
    assert not recovery_path().exists()


def test_translation_loads_and_menus_show_chinese(window) -> None:  # noqa: ANN001
    assert window.file_menu.title() == "&File"
    assert install_language("zh_CN") == "zh_CN"
    window.retranslate()  # LanguageChange is delivered through the event loop; apply now
    assert "文件" in window.file_menu.title()
    assert "编辑" in window.edit_menu.title()
    assert "撤销" in window.act_undo.text()
    assert "层" in window.palette_dock.windowTitle()
    install_language("en")
    window.retranslate()
    assert window.file_menu.title() == "&File"


def test_every_user_string_in_the_ts_file_is_translated() -> None:
    ts = Path(__file__).resolve().parents[2] / "assets" / "i18n" / "workbench_zh_CN.ts"
    text = ts.read_text(encoding="utf-8")
    assert 'type="unfinished"' not in text
    assert (ts.with_suffix(".qm")).is_file()


def test_every_palette_category_has_a_colour_and_a_chinese_name(window) -> None:  # noqa: ANN001
    from workbench.gui.labels import category_label
    from workbench.gui.theme import CATEGORY_COLORS
    from workbench.layers import CATEGORIES

    assert set(CATEGORIES) <= set(CATEGORY_COLORS)
    assert install_language("zh_CN") == "zh_CN"
    try:
        untranslated = [c for c in CATEGORIES if category_label(c) == c]
    finally:
        install_language("en")
    assert untranslated == []
    assert category_label("Recurrent") == "Recurrent"


def test_screenshot_writes_a_png_of_the_right_size(qapp, tmp_path: Path) -> None:  # noqa: ANN001
    from workbench.gui.app import run_app

    out = tmp_path / "shot.png"
    assert run_app("digits-mlp", str(out)) == 0
    image = QImage(str(out))
    assert not image.isNull()
    assert (image.width(), image.height()) == (1440, 900)
    # Not blank: the canvas drew cards of several colours.
    colours = {image.pixel(x, y) for x in range(0, 1440, 37) for y in range(0, 900, 29)}
    assert len(colours) > 10


def test_screenshot_of_a_missing_project_fails_cleanly(qapp, tmp_path: Path, capsys) -> None:  # noqa: ANN001
    from workbench.gui.app import run_app

    assert run_app(str(tmp_path / "nope.json"), str(tmp_path / "x.png")) == 1
    assert "no such file" in capsys.readouterr().err
    assert not (tmp_path / "x.png").exists()


def test_window_layout_and_recent_files_persist(qtbot, tmp_path: Path) -> None:  # noqa: ANN001
    from workbench.gui.main_window import MainWindow
    from workbench.gui.settings import Settings

    first = MainWindow(Settings())
    first.show()
    first.open_preset("digits-mlp")
    first.save_to(tmp_path / "a.json")
    first.problems_dock.hide()
    first.resize(720, 520)  # within the offscreen screen, so that nothing clamps it
    assert first.close()

    second = MainWindow(Settings())
    second.show()
    try:
        assert (second.width(), second.height()) == (720, 520)
        assert second.settings.recent_files() == [str((tmp_path / "a.json").resolve())]
        second._fill_recent_menu()
        assert second.recent_menu.actions()[0].text() == "a.json"
        second.recent_menu.actions()[0].trigger()
        assert second.project.path == tmp_path / "a.json" or Path(second.project.path).resolve() == (tmp_path / "a.json").resolve()
        assert second.palette_dock.isVisible() and not second.problems_dock.isVisible()
    finally:
        second.close()
        second.deleteLater()
        first.deleteLater()


def test_delete_key_on_the_canvas_removes_the_selection(editor) -> None:  # noqa: ANN001
    from PySide6.QtTest import QTest

    graph = editor.session.graph
    relu1 = graph.node_by_name("relu1").id
    editor.scene.select_nodes([relu1])
    editor.view.setFocus()
    editor.activateWindow()
    QTest.keyClick(editor.view, Qt.Key.Key_Delete)
    assert not graph.has_node(relu1)
    QTest.keyClick(editor.view, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert graph.has_node(relu1)
