"""Fixtures for the GUI tests: an isolated config folder, and a main window that never prompts
when the test ends."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from workbench.gui.app import ensure_app
from workbench.gui.i18n import install_language


@pytest.fixture(autouse=True, scope="package")
def main_thread_collector() -> Iterator[None]:
    """The app collects garbage on the GUI thread only (workbench.gui.collector); so do these
    tests, and the tests after them get Python's own collection back."""
    from workbench.gui.collector import install_main_thread_collector, uninstall_main_thread_collector

    ensure_app()
    install_main_thread_collector()
    yield
    uninstall_main_thread_collector()


@pytest.fixture
def no_dangling_threads() -> Iterator[None]:
    """Fail a test that leaves a worker QThread running (then end it): use it with
    `pytestmark = pytest.mark.usefixtures("no_dangling_threads")`."""
    from workbench.gui.preload import live_threads

    yield
    left = live_threads()
    for thread in left:
        thread.quit()
        thread.wait(30_000)
    assert not left, f"threads still running after the test: {[t.objectName() for t in left]}"


@pytest.fixture
def no_dangling_processes() -> Iterator[None]:
    """Fail a test that leaves a training process (workbench.training.child) running (then end
    it): use it with `pytestmark = pytest.mark.usefixtures("no_dangling_processes")`."""
    from workbench.training.child_process import live_children

    yield
    left = live_children()
    for child in left:
        child.end()
    assert not left, f"training processes still running after the test: {[c.pid for c in left]}"


@pytest.fixture(autouse=True)
def config_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Settings, recovery file and block library go to a fresh folder per test; so does the home
    folder. The projects folder is "." (the working folder): the tests that train an unsaved
    project chdir to a temporary folder and find its runs/ there (test_projects_folder.py puts
    the default, ~/Workbench, back). A window sets where unsaved projects' runs go: the tests
    after it get the working folder back."""
    from workbench.gui.settings import Settings
    from workbench.project import set_unsaved_home

    folder = tmp_path / "config"
    monkeypatch.setenv("WORKBENCH_CONFIG_DIR", str(folder))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    Settings().set_projects_folder(".")
    yield folder
    set_unsaved_home(None)


@pytest.fixture
def window(qtbot, config_dir: Path) -> Iterator:  # noqa: ANN001
    ensure_app()
    install_language("en")
    from workbench.gui import theme
    from workbench.gui.main_window import MainWindow
    from workbench.gui.settings import Settings

    theme.apply_theme(ensure_app(), "light")
    win = MainWindow(Settings(), restore_layout=False)
    win.resize(1280, 800)
    win.show()
    qtbot.waitExposed(win)
    yield win
    # Leave without the unsaved-changes prompt.
    if win.session is not None:
        win.session.undo_stack.setClean()
    win._force_dirty = False
    win.close()
    win.deleteLater()
    install_language("en")


@pytest.fixture
def editor(window):  # noqa: ANN001, ANN201
    """The window with the digits-mlp preset open."""
    assert window.open_preset("digits-mlp")
    window.session.flush()
    return window


@pytest.fixture
def user_edit(qtbot):  # noqa: ANN001, ANN201
    """Edit a run-settings widget as a user does: pick a combo item by its data, or type a value
    into a spin box or line edit and press Enter (the form reports only such edits)."""
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QAbstractSpinBox, QComboBox, QLineEdit

    def edit(widget, value) -> None:  # noqa: ANN001
        if isinstance(widget, QComboBox):
            index = widget.findData(value)
            assert index >= 0, f"{value!r} is not among the items"
            widget.setCurrentIndex(index)
            widget.activated.emit(index)
            return
        line = widget.lineEdit() if isinstance(widget, QAbstractSpinBox) else widget
        assert isinstance(line, QLineEdit)
        line.selectAll()
        line.del_()
        qtbot.keyClicks(line, str(value))
        qtbot.keyClick(line, Qt.Key.Key_Return)

    return edit
