"""The panels: palette search, problems, model summary, code view, blocks, preferences."""

from __future__ import annotations

import json

import pytest
from PySide6.QtCore import QEvent, QPointF, Qt
from PySide6.QtWidgets import QApplication, QInputDialog

from workbench.gui.main_window import blank_project
from workbench.layers import all_layer_specs


def test_palette_lists_every_layer_and_searches_names_and_docs(window) -> None:  # noqa: ANN001
    palette = window.palette_panel
    assert set(palette.visible_types()) == {s.type_id for s in all_layer_specs()}
    palette.search.setText("conv")
    assert {"Conv1d", "Conv2d", "ConvTranspose2d"} <= set(palette.visible_types())
    assert "Linear" not in palette.visible_types()
    palette.search.setText("skip connections")  # only in a doc: Add's "residual / skip connections"
    assert palette.visible_types() == ["Add"]
    palette.search.setText("")
    item = palette.tree.findItems("Dropout", Qt.MatchFlag.MatchExactly | Qt.MatchFlag.MatchRecursive)[0]
    assert item.toolTip(0).endswith(next(s.doc for s in all_layer_specs() if s.type_id == "Dropout"))


def test_palette_enter_adds_after_the_selected_layer_connected(window) -> None:  # noqa: ANN001
    window.open_project(blank_project())
    graph = window.session.graph
    source = graph.node_by_name("input").id
    window.scene.select_nodes([source])
    palette = window.palette_panel
    palette.search.setText("flatten")
    palette.eventFilter(palette.search, _key(Qt.Key.Key_Return))
    flatten = next(n for n in graph.nodes if n.type == "Flatten")
    assert graph.edge_into(flatten.id, "in").src == source
    assert window.scene.selected_node_ids() == [flatten.id]
    window.act_undo.trigger()
    assert len(graph) == 2 and not graph.edges


def _key(key: Qt.Key):  # noqa: ANN202
    from PySide6.QtGui import QKeyEvent

    return QKeyEvent(QEvent.Type.KeyPress, key, Qt.KeyboardModifier.NoModifier)


def test_problems_panel_lists_problems_and_click_selects_the_node(window) -> None:  # noqa: ANN001
    window.open_project(blank_project())
    window.session.flush()
    tree = window.problems.tree
    messages = [tree.topLevelItem(i).text(0) for i in range(tree.topLevelItemCount())]
    assert any("has no input" in m for m in messages)
    row = next(tree.topLevelItem(i) for i in range(tree.topLevelItemCount()) if "has no input" in tree.topLevelItem(i).text(0))
    window.problems._clicked(row)
    output = window.session.graph.node_by_name("output").id
    assert window.scene.selected_node_ids() == [output]
    card = window.scene.nodes[output]
    assert card.severity == "error" and any("has no input" in p for p in card.problems)
    assert "has no input" in card.toolTip()


def test_summary_panel_shows_rows_totals_and_memory_at_batch_size(editor, qtbot) -> None:  # noqa: ANN001
    editor.session.refresh_summary()
    panel = editor.summary
    summary = editor.session.summary
    assert panel.table.rowCount() == len(summary.rows)
    assert f"{summary.total_params:,}" in panel.totals.text()
    with qtbot.waitSignal(editor.session.summary_changed, timeout=3000):
        panel.batch.setValue(256)
    assert editor.session.summary.batch_size == 256
    assert "256" in panel.totals.text()
    assert editor.session.summary.train_memory_bytes > summary.train_memory_bytes
    # Param counts on the cards come from the same summary.
    fc1 = editor.session.graph.node_by_name("fc1").id
    assert editor.scene.nodes[fc1].params_text.startswith("8.32k")


def test_code_view_shows_generated_code(editor, qtbot) -> None:  # noqa: ANN001
    editor.code_dock.show()
    editor.code_dock.raise_()
    QApplication.processEvents()
    editor.code_view.refresh()
    text = editor.code_view.text.toPlainText()
    assert "class Model" in text and "fc1" in text
    assert editor.code_view.text.isReadOnly()


def test_blocks_are_saved_listed_and_inserted(editor, monkeypatch: pytest.MonkeyPatch, config_dir) -> None:  # noqa: ANN001
    graph = editor.session.graph
    chosen = [graph.node_by_name(n).id for n in ("fc1", "relu1")]
    editor.scene.select_nodes(chosen)
    monkeypatch.setattr(QInputDialog, "getText", staticmethod(lambda *a, **k: ("Dense block", True)))
    editor.save_selection_as_block()
    record = json.loads((config_dir / "blocks.json").read_text())
    assert [b["name"] for b in record["blocks"]] == ["Dense block"]
    assert "Dense block" in editor.palette_panel.visible_types()
    ids = editor.insert_block("Dense block", QPointF(100, 400))
    assert [graph.node(i).type for i in ids] == ["Linear", "ReLU"]
    assert graph.edge_into(ids[1], "in").src == ids[0]


def test_switching_language_in_preferences_retranslates_live(window) -> None:  # noqa: ANN001
    from workbench.gui import settings as keys

    window.settings.set_value(keys.LANGUAGE, "zh_CN")
    window.apply_preferences()
    QApplication.processEvents()  # LanguageChange reaches every widget
    assert "文件" in window.file_menu.title()
    assert "新建项目" == window.start_page.new_button.text()
    window.settings.set_value(keys.LANGUAGE, "en")
    window.apply_preferences()
    QApplication.processEvents()
    assert window.file_menu.title() == "&File"


def test_dark_theme_applies(window) -> None:  # noqa: ANN001
    from workbench.gui import settings as keys
    from workbench.gui import theme

    window.settings.set_value(keys.THEME, "dark")
    window.apply_preferences()
    assert theme.is_dark()
    assert QApplication.palette().window().color().lightness() < 80
    window.settings.set_value(keys.THEME, "light")
    window.apply_preferences()
    assert not theme.is_dark()
