"""The dock layout: every tab bar the window shows belongs to a tab group, and none lies over a
panel (Qt can leave an orphan tab bar behind when tab groups are made, see MainWindow._tabify)."""

from __future__ import annotations

from PySide6.QtCore import QRect
from PySide6.QtWidgets import QApplication, QDockWidget, QTabBar


def _visible_tab_bars(window) -> list[QTabBar]:  # noqa: ANN001
    return [bar for bar in window.findChildren(QTabBar) if bar.isVisible() and bar.count()]


def _in_window(widget, window) -> QRect:  # noqa: ANN001
    return QRect(widget.mapTo(window, widget.rect().topLeft()), widget.size())


def test_no_tab_bar_lies_over_the_layers_palette(editor) -> None:  # noqa: ANN001
    for _ in range(3):
        QApplication.processEvents()
    palette = _in_window(editor.palette_dock, editor)
    bars = _visible_tab_bars(editor)
    assert bars, "the bottom and right panels are tab groups"
    for bar in bars:
        assert not _in_window(bar, editor).intersects(palette), [bar.tabText(i) for i in range(bar.count())]


def test_each_tab_group_has_exactly_one_tab_bar(editor) -> None:  # noqa: ANN001
    for _ in range(3):
        QApplication.processEvents()
    titles = [tuple(bar.tabText(i) for i in range(bar.count())) for bar in _visible_tab_bars(editor)]
    groups = {tuple(d.windowTitle() for d in [dock, *editor.tabifiedDockWidgets(dock)])
              for dock in editor.findChildren(QDockWidget) if editor.tabifiedDockWidgets(dock)}
    assert sorted(titles) == sorted({t for t in titles}), f"two bars show the same tabs: {titles}"
    assert len(titles) == 2 and all(any(set(t) == set(g) for g in groups) for t in titles), (titles, groups)


def test_no_stray_tab_bar_after_the_start_page_and_back(window) -> None:  # noqa: ANN001
    window.open_preset("digits-mlp")
    window.show_start_page()
    window.open_preset("digits-cnn")
    for _ in range(3):
        QApplication.processEvents()
    palette = _in_window(window.palette_dock, window)
    assert not [b for b in _visible_tab_bars(window) if _in_window(b, window).intersects(palette)]
