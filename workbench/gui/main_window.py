"""The main window: menus, toolbar, status bar, the canvas and its dockable panels, the start page.

Project files (open, save, autosave, recovery) are in `file_actions`, edits of the selection
(clipboard, blocks, auto-layout) in `edit_actions`; both are mixins of this window.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QByteArray, QEvent, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence, QUndoGroup
from PySide6.QtWidgets import (
    QApplication,
    QDockWidget,
    QLabel,
    QMainWindow,
    QMenu,
    QMessageBox,
    QStackedWidget,
    QToolBar,
    QWidget,
)

from workbench.errors import WorkbenchError
from workbench.gui import icons, theme
from workbench.gui.blocks import BlockLibrary
from workbench.gui.canvas.scene import GraphScene
from workbench.gui.canvas.view import GraphView
from workbench.gui.code_view import CodeView
from workbench.gui.data_fit import DataFollower
from workbench.gui.edit_actions import EditActions
from workbench.gui.file_actions import FileActions, blank_project
from workbench.gui.i18n import install_language
from workbench.gui.inspector import Inspector
from workbench.gui.palette import Palette
from workbench.gui.preload import after_first_paint
from workbench.gui.problems import ProblemsPanel
from workbench.gui.session import EditorSession
from workbench.gui.settings import Settings, blocks_path
from workbench.gui.start_page import PresetEntry, StartPage
from workbench.gui.summary_panel import SummaryPanel
from workbench.gui.training import ReadOnlyBanner, TrainingPanel
from workbench.project import Project

log = logging.getLogger(__name__)

# Preset gallery entries, read once per process (keyed by the files' modification times).
_preset_cache: dict[str, Any] = {}

__all__ = ["MainWindow", "blank_project"]


class MainWindow(FileActions, EditActions, QMainWindow):
    """The Workbench window."""

    project_opened = Signal(object)  # Project
    project_saved = Signal(str)  # path

    def __init__(self, settings: Settings | None = None, restore_layout: bool = True) -> None:
        super().__init__()
        self.settings = settings or Settings()
        self.session: EditorSession | None = None
        self._force_dirty = False
        self.read_only = False  # True while a run trains (set_training_running)
        self._paste_count = 0
        self._texts: list[tuple[Any, Callable[[], str]]] = []
        self._editor_state: QByteArray | None = None
        self._train_handler: Callable[[Project], bool | None] | None = None
        self._stop_handler: Callable[[], None] | None = None
        self._export_handler: Callable[[Project, QWidget], None] | None = None
        self.training_overrides: dict[str, Any] = {}  # from the command line, applied on open
        self.blocks = BlockLibrary(blocks_path())
        self.setWindowIcon(icons.icon("app", "#2b6cb0"))
        self.setDockOptions(QMainWindow.DockOption.AnimatedDocks | QMainWindow.DockOption.AllowTabbedDocks)

        self.scene = GraphScene(self)
        self.scene.snap_grid = 20 if self.settings.snap_to_grid else 0
        self.view = GraphView(self.scene)
        self.start_page = StartPage()
        self.stack = QStackedWidget()
        self.stack.addWidget(self.start_page)
        self.stack.addWidget(self.view)
        self.setCentralWidget(self.stack)

        self.palette_panel = Palette()
        self.palette_panel.set_blocks(self.blocks.names())
        self.inspector = Inspector()
        self.problems = ProblemsPanel()
        self.summary = SummaryPanel()
        self.code_view = CodeView()
        B, R = Qt.DockWidgetArea.BottomDockWidgetArea, Qt.DockWidgetArea.RightDockWidgetArea
        self.palette_dock = self._dock("palette", lambda: self.tr("Layers"), self.palette_panel, Qt.DockWidgetArea.LeftDockWidgetArea)
        self.inspector_dock = self._dock("inspector", lambda: self.tr("Inspector"), self.inspector, R)
        self.problems_dock = self._dock("problems", lambda: self.tr("Problems"), self.problems, B)
        # Docks that join a tab group are tabified without being added first: see _tabify.
        self.summary_dock = self._dock("summary", lambda: self.tr("Model summary"), self.summary, None)
        self.code_dock = self._dock("code", lambda: self.tr("Code"), self.code_view, None)
        # Training: run settings and controls beside the inspector; curves and results below.
        self.training = TrainingPanel(self)
        self.training_dock = self._dock("training", lambda: self.tr("Training"), self.training.controls, None)
        self.curves_dock = self._dock("curves", lambda: self.tr("Curves"), self.training.curves_area, None)
        self.results_dock = self._dock("results", lambda: self.tr("Results"), self.training.results_area, None)
        self._tabify(self.inspector_dock, [self.training_dock])
        self.inspector_dock.raise_()
        self._tabify(self.problems_dock, [self.summary_dock, self.code_dock, self.curves_dock, self.results_dock])
        self.problems_dock.raise_()
        self.resizeDocks([self.palette_dock, self.inspector_dock], [210, 290], Qt.Orientation.Horizontal)
        self.resizeDocks([self.problems_dock], [190], Qt.Orientation.Vertical)
        self.docks = [self.palette_dock, self.inspector_dock, self.problems_dock, self.summary_dock, self.code_dock,
                      self.training_dock, self.curves_dock, self.results_dock]
        self.read_only_banner = ReadOnlyBanner(self.view)
        self.data_follower = DataFollower(self.view, self)  # "Fit the drawing" when the dataset changes

        self.undo_group = QUndoGroup(self)
        self._build_actions()
        self._build_menus()
        self._build_toolbar()
        self._build_status_bar()
        self._connect()
        # --- Export dialog (File > Export…), workbench/gui/export_dialog.py ---
        from workbench.gui.export_dialog import open_export_dialog

        # Its distillation runs in the training panel, with the panel's live curves.
        self.set_export_handler(lambda project, parent: open_export_dialog(
            project, parent, start_distillation=self.training.start_distillation))
        # --- end Export dialog ---
        # --- Serving (Run > Serve…), workbench/gui/serve_panel.py ---
        from workbench.gui.serve_panel import ServeController

        self.serving = ServeController(self)
        self.act_serve = self._action(lambda: self.tr("Ser&ve…"), self.serve)
        self.run_menu.addSeparator()
        self.run_menu.addAction(self.act_serve)
        # --- end Serving ---

        self.autosave_timer = QTimer(self)
        self.autosave_timer.timeout.connect(self.autosave)
        self.autosave_timer.start(self.settings.autosave_seconds * 1000)

        self.resize(1440, 900)
        self.persist_layout = restore_layout
        if restore_layout:
            geometry, state = self.settings.window_geometry(), self.settings.window_state()
            if geometry is not None:
                self.restoreGeometry(geometry)
            if state is not None:
                self._editor_state = state
        self.retranslate()
        self.apply_projects_folder()
        self.show_start_page()

    # ----- construction --------------------------------------------------------------------

    def _dock(self, name: str, title: Callable[[], str], widget: QWidget, area: Qt.DockWidgetArea | None) -> QDockWidget:
        dock = QDockWidget(title(), self)
        dock.setObjectName(f"dock_{name}")
        dock.setWidget(widget)
        dock.setFeatures(
            QDockWidget.DockWidgetFeature.DockWidgetMovable
            | QDockWidget.DockWidgetFeature.DockWidgetClosable
            | QDockWidget.DockWidgetFeature.DockWidgetFloatable
        )
        if area is not None:
            self.addDockWidget(area, dock)
        self._texts.append((dock, title))
        return dock

    def _tabify(self, first: QDockWidget, others: list[QDockWidget]) -> None:
        """Put `others` (docks not added to an area) into tabs behind `first`.

        Qt 6.11 leaves an orphan tab bar, drawn at its first place for good (the stray
        'Problems | Model summary' bar over the Layers palette), when a second tab group is made
        while the layout is invalid: the new group asks for a tab bar, Qt activates the layout
        first, and the layout pass creates another bar for the same group. Re-adding an already
        placed dock invalidates the layout inside tabifyDockWidget, so the tabbed docks are never
        added on their own, and the layout is activated before each group is made.
        """
        self.layout().activate()
        for dock in others:
            self.tabifyDockWidget(first, dock)

    def _action(self, text: Callable[[], str], slot: Callable[..., Any] | None = None,
                shortcut: QKeySequence.StandardKey | str | list[QKeySequence] | None = None,
                icon: str | None = None, checkable: bool = False) -> QAction:
        action = QAction(text(), self)
        if icon:
            action.setIcon(icons.icon(icon))
            action.setData(icon)
        if isinstance(shortcut, QKeySequence.StandardKey):
            action.setShortcuts(shortcut)
        elif isinstance(shortcut, str):
            action.setShortcut(QKeySequence(shortcut))
        elif isinstance(shortcut, list):
            action.setShortcuts(shortcut)
        action.setCheckable(checkable)
        if slot is not None:
            action.triggered.connect(lambda checked=False, s=slot: s() if not checkable else s(checked))
        self._texts.append((action, text))
        return action

    def _build_actions(self) -> None:
        K = QKeySequence.StandardKey
        self.act_new = self._action(lambda: self.tr("&New"), self.new_project, K.New, "new")
        self.act_open = self._action(lambda: self.tr("&Open…"), self.open_dialog, K.Open, "open")
        self.act_new_pretrained = self._action(lambda: self.tr("New from &Pretrained Model…"), self.new_from_pretrained)
        self.act_save = self._action(lambda: self.tr("&Save"), self.save, K.Save, "save")
        self.act_save_as = self._action(lambda: self.tr("Save &As…"), self.save_as, K.SaveAs)
        self.act_export = self._action(lambda: self.tr("&Export…"), self.export, "Ctrl+E", "export")
        self.act_close = self._action(lambda: self.tr("&Close Project"), self.close_project, K.Close)
        self.act_quit = self._action(lambda: self.tr("&Quit"), self.close, K.Quit)
        self.act_quit.setMenuRole(QAction.MenuRole.QuitRole)

        self.act_undo = self._action(lambda: self.tr("&Undo"), self.undo_group.undo, K.Undo, "undo")
        self.act_redo = self._action(lambda: self.tr("&Redo"), self.undo_group.redo, K.Redo, "redo")
        self.act_undo.setEnabled(False)
        self.act_redo.setEnabled(False)
        self.undo_group.canUndoChanged.connect(self.act_undo.setEnabled)
        self.undo_group.canRedoChanged.connect(self.act_redo.setEnabled)
        self.undo_group.undoTextChanged.connect(self._update_undo_texts)
        self.undo_group.redoTextChanged.connect(self._update_undo_texts)
        self.act_cut = self._action(lambda: self.tr("Cu&t"), self.cut, K.Cut)
        self.act_copy = self._action(lambda: self.tr("&Copy"), self.copy, K.Copy)
        self.act_paste = self._action(lambda: self.tr("&Paste"), self.paste, K.Paste)
        self.act_duplicate = self._action(lambda: self.tr("D&uplicate"), self.duplicate, "Ctrl+D")
        self.act_delete = self._action(lambda: self.tr("&Delete"), self.delete_selection,
                                       [QKeySequence(QKeySequence.StandardKey.Delete), QKeySequence("Backspace")], "delete")
        self.act_select_all = self._action(lambda: self.tr("Select &All"), self.select_all, K.SelectAll)
        self.act_block = self._action(lambda: self.tr("Save Selection as &Block…"), self.save_selection_as_block)
        self.act_freeze = self._action(lambda: self.tr("&Freeze Selected Layers"), self.freeze_selection, "Ctrl+Shift+F")
        self.act_unfreeze = self._action(lambda: self.tr("U&nfreeze Selected Layers"), self.unfreeze_selection)
        self.act_replace_head = self._action(lambda: self.tr("Replace &Head…"), self.replace_head)
        self.act_preferences = self._action(lambda: self.tr("Pre&ferences…"), self.show_preferences, K.Preferences)
        self.act_preferences.setMenuRole(QAction.MenuRole.PreferencesRole)

        self.act_zoom_in = self._action(lambda: self.tr("Zoom &In"), self.view.zoom_in, K.ZoomIn, "zoom-in")
        self.act_zoom_out = self._action(lambda: self.tr("Zoom &Out"), self.view.zoom_out, K.ZoomOut, "zoom-out")
        self.act_zoom_reset = self._action(lambda: self.tr("&Actual Size"), self.view.reset_zoom, "Ctrl+1")
        self.act_fit = self._action(lambda: self.tr("&Fit to Window"), self.view.fit, "Ctrl+0", "fit")
        self.act_layout = self._action(lambda: self.tr("Auto-&layout"), self.auto_layout, "Ctrl+L", "layout")
        self.act_snap = self._action(lambda: self.tr("&Snap to Grid"), self.set_snap, None, checkable=True)
        self.act_snap.setChecked(self.settings.snap_to_grid)

        self.act_train = self._action(lambda: self.tr("&Train"), self.train, "F5", "train")
        self.act_stop = self._action(lambda: self.tr("&Stop"), self.stop, "Shift+F5", "stop")
        self.act_stop.setEnabled(False)
        self.act_pause = self._action(lambda: self.tr("&Resume") if self.training.paused else self.tr("&Pause"),
                                      self.training.toggle_pause, "F6", "pause")
        self.act_pause.setEnabled(False)
        self.act_search = self._action(lambda: self.tr("&Search…"), self.open_search)
        self.act_about = self._action(lambda: self.tr("&About Workbench"), self.about)
        self.act_about.setMenuRole(QAction.MenuRole.AboutRole)
        # Delete/Backspace and the clipboard keys belong to text fields when they have focus.
        for action in (self.act_delete, self.act_cut, self.act_copy, self.act_paste, self.act_select_all, self.act_duplicate):
            action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            self.view.addAction(action)
        self.project_actions = [
            self.act_save, self.act_save_as, self.act_export, self.act_close, self.act_cut, self.act_copy, self.act_paste,
            self.act_duplicate, self.act_delete, self.act_select_all, self.act_block, self.act_zoom_in, self.act_zoom_out,
            self.act_zoom_reset, self.act_fit, self.act_layout, self.act_train,
            self.act_freeze, self.act_unfreeze, self.act_replace_head, self.act_search,
        ]

    def _menu(self, title: Callable[[], str], parent: QMenu | None = None) -> QMenu:
        menu = parent.addMenu(title()) if parent is not None else self.menuBar().addMenu(title())
        self._texts.append((menu, title))
        return menu

    def _build_menus(self) -> None:
        self.file_menu = self._menu(lambda: self.tr("&File"))
        self.file_menu.addActions([self.act_new, self.act_new_pretrained, self.act_open])
        self.preset_menu = self._menu(lambda: self.tr("Open &Preset"), self.file_menu)
        self.preset_menu.aboutToShow.connect(self._fill_preset_menu)
        self.recent_menu = self._menu(lambda: self.tr("Open &Recent"), self.file_menu)
        self.recent_menu.aboutToShow.connect(self._fill_recent_menu)
        self.file_menu.addSeparator()
        self.file_menu.addActions([self.act_save, self.act_save_as, self.act_export])
        self.file_menu.addSeparator()
        self.file_menu.addActions([self.act_close, self.act_quit])

        self.edit_menu = self._menu(lambda: self.tr("&Edit"))
        self.edit_menu.addActions([self.act_undo, self.act_redo])
        self.edit_menu.addSeparator()
        self.edit_menu.addActions([self.act_cut, self.act_copy, self.act_paste, self.act_duplicate, self.act_delete])
        self.edit_menu.addSeparator()
        self.edit_menu.addActions([self.act_select_all, self.act_block])
        self.edit_menu.addActions([self.act_freeze, self.act_unfreeze, self.act_replace_head])
        self.edit_menu.addSeparator()
        self.edit_menu.addAction(self.act_preferences)

        self.view_menu = self._menu(lambda: self.tr("&View"))
        self.view_menu.addActions([self.act_zoom_in, self.act_zoom_out, self.act_zoom_reset, self.act_fit])
        self.view_menu.addSeparator()
        self.view_menu.addActions([self.act_layout, self.act_snap])
        self.view_menu.addSeparator()
        self.panels_menu = self._menu(lambda: self.tr("&Panels"), self.view_menu)
        for dock in self.docks:
            self.panels_menu.addAction(dock.toggleViewAction())

        self.run_menu = self._menu(lambda: self.tr("&Run"))
        self.run_menu.addActions([self.act_train, self.act_pause, self.act_stop])
        self.run_menu.addSeparator()
        self.run_menu.addAction(self.act_search)
        self.help_menu = self._menu(lambda: self.tr("&Help"))
        self.help_menu.addAction(self.act_about)

    def _build_toolbar(self) -> None:
        bar = QToolBar(self)
        bar.setObjectName("main_toolbar")
        bar.setMovable(False)
        bar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonIconOnly)
        bar.addActions([self.act_new, self.act_open, self.act_save])
        bar.addSeparator()
        bar.addActions([self.act_undo, self.act_redo, self.act_delete])
        bar.addSeparator()
        bar.addActions([self.act_zoom_out, self.act_zoom_in, self.act_fit, self.act_layout])
        bar.addSeparator()
        bar.addActions([self.act_train, self.act_pause, self.act_stop])
        train_button = bar.widgetForAction(self.act_train)
        if train_button is not None:
            train_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.toolbar = bar
        self.addToolBar(bar)
        self._texts.append((bar, lambda: self.tr("Main toolbar")))

    def _build_status_bar(self) -> None:
        self.counts_label = QLabel()
        self.zoom_label = QLabel()
        self.statusBar().addPermanentWidget(self.counts_label)
        self.statusBar().addPermanentWidget(self.zoom_label)

    def _connect(self) -> None:
        self.start_page.preset_chosen.connect(self.open_preset)
        self.start_page.new_requested.connect(self.new_project)
        self.start_page.open_requested.connect(self.open_dialog)
        self.start_page.recent_chosen.connect(self.open_file)
        self.palette_panel.layer_activated.connect(self.add_layer_from_palette)
        self.palette_panel.block_activated.connect(lambda name: self.insert_block(name, None))
        self.view.layer_dropped.connect(self.add_layer_at)
        self.view.block_dropped.connect(self.insert_block)
        self.view.zoom_changed.connect(self._show_zoom)
        self.scene.selectionChanged.connect(self._selection_changed)
        self.scene.connection_refused.connect(lambda reason: self.statusBar().showMessage(reason, 8000))
        self.scene.node_activated.connect(self._focus_inspector)
        self.problems.node_activated.connect(self.reveal_node)
        self.problems.count_changed.connect(self._update_counts)
        self.summary.node_activated.connect(self.reveal_node)
        self.inspector.value_refused.connect(lambda reason: self.statusBar().showMessage(reason, 8000))
        self.set_run_handlers(self.training.start, self.training.stop)
        self.training.attach_actions(self.act_train, self.act_pause, self.act_stop)
        self.training.running_changed.connect(self.set_training_running)
        self.training.paused_changed.connect(self._training_paused)
        self.training.status_message.connect(lambda text, ms: self.statusBar().showMessage(text, ms))
        self.training.form.settings_edited.connect(self._run_settings_edited)
        self.project_opened.connect(lambda _project: self.training.set_session(self.session))
        self.project_opened.connect(lambda _project: self.data_follower.set_session(self.session))
        self.training.data_fitted.connect(self.data_follower.follow_run)
        self.project_saved.connect(lambda _path: self.training.runs.refresh())  # runs/ is beside the file

    # ----- texts and look ------------------------------------------------------------------

    def retranslate(self) -> None:
        for target, text in self._texts:
            if isinstance(target, QMenu):
                target.setTitle(text())
            elif isinstance(target, (QDockWidget, QToolBar)):
                target.setWindowTitle(text())
            else:
                target.setText(text())
        self.act_train.setToolTip(self.tr("Train the network (F5)"))
        self.act_pause.setToolTip(self.tr("Pause or resume the run (F6)"))
        self.act_stop.setToolTip(self.tr("Stop the run after the current step; it keeps what it has (Shift+F5)"))
        if self.read_only_banner.isVisible():
            self.read_only_banner.show_text(self._read_only_text())
        self.act_layout.setToolTip(self.tr("Arrange layers left to right by depth (Ctrl+L)"))
        self.view.empty_text = self.tr("Drag layers here from the Layers panel,\nthen drag from an output port to an input port to connect them.")
        self.view.viewport().update()
        self.scene.refresh_texts()
        if self.session is not None:
            self.session.refresh_analysis()  # the core words its problems in the new language
        self._update_title()
        self._show_zoom(self.view.zoom())
        self._update_counts()
        self._update_undo_texts()

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)

    def _update_undo_texts(self, *args: object) -> None:
        """"Undo Add fc1" in the menu: what the next undo / redo will do."""
        undo, redo = self.undo_group.undoText(), self.undo_group.redoText()
        self.act_undo.setText(self.tr("&Undo %1").replace("%1", undo) if undo else self.tr("&Undo"))
        self.act_redo.setText(self.tr("&Redo %1").replace("%1", redo) if redo else self.tr("&Redo"))

    def apply_theme(self, name: str) -> None:
        app = QApplication.instance()
        if isinstance(app, QApplication):
            theme.apply_theme(app, name)
        icons.clear_cache()
        for action in self.findChildren(QAction):
            if isinstance(action.data(), str):
                action.setIcon(icons.icon(action.data()))
        self.scene.update()
        self.view.viewport().update()
        self.start_page.set_recent(self.settings.recent_files())
        for card in self.start_page.cards:
            card.retranslate()
            card._style(False)
        if self.session is not None:
            self.scene.apply_analysis()
            self.problems.refresh()

    # ----- pages ---------------------------------------------------------------------------

    def show_start_page(self) -> None:
        if self.stack.currentWidget() is self.view:
            self._editor_state = self.saveState()
        self.stack.setCurrentWidget(self.start_page)
        for dock in self.docks:
            dock.hide()
        self.toolbar.hide()  # the start page has its own New and Open
        self.training.set_session(None)
        self.zoom_label.setText("")
        self.start_page.set_recent(self.settings.recent_files())
        if not self.start_page.cards or any(card.entry.parameters is None for card in self.start_page.cards):
            QTimer.singleShot(0, self._load_presets_when_shown)
        for action in self.project_actions:
            action.setEnabled(False)
        self._update_title()
        self._update_counts()

    def _show_editor(self) -> None:
        if self.stack.currentWidget() is not self.view:
            self.stack.setCurrentWidget(self.view)
            restored = self._editor_state is not None and self.restoreState(self._editor_state)
            if not restored:
                for dock in self.docks:
                    dock.show()
                self.inspector_dock.raise_()
                self.problems_dock.raise_()
            else:
                # A layout saved before the training docks existed: show them where they were added.
                for dock in (self.training_dock, self.curves_dock, self.results_dock):
                    if not self.restoreDockWidget(dock):
                        dock.show()
            self.toolbar.show()
        for action in self.project_actions:
            action.setEnabled(True)

    def load_presets(self, parameters: bool = True) -> None:
        """Fill the start page's gallery; with `parameters` False, without the parameter counts
        (which build every network: torch), to be filled in by `fill_preset_parameters`."""
        from workbench import presets

        key = tuple((str(p), p.stat().st_mtime_ns) for p in presets.preset_paths())
        if _preset_cache.get("key") != key:
            _preset_cache["key"], _preset_cache["entries"] = key, self._read_presets()
        if parameters:
            self._count_preset_parameters()
        self.start_page.set_presets(list(_preset_cache["entries"]))

    def _load_presets_when_shown(self) -> None:
        # The automatic fill, queued by show_start_page. A project opened meanwhile (`workbench
        # open NAME` opens it before the first paint) leaves the gallery for later: reading the
        # presets is then start-up time spent on a page nobody sees.
        if self.stack.currentWidget() is not self.start_page:
            return
        if not self.start_page.cards:
            self.load_presets(parameters=False)
        if any(card.entry.parameters is None for card in self.start_page.cards):
            # The cards are up without their counts; counting needs torch (~1.4 s): after the paint.
            after_first_paint(self, self.fill_preset_parameters)

    def fill_preset_parameters(self) -> None:
        """Put the parameter counts on the gallery's cards (imports torch the first time)."""
        if self.stack.currentWidget() is not self.start_page:
            return  # show_start_page queues this again when the page comes back
        self._count_preset_parameters()
        self.start_page.set_parameters({e.name: e.parameters for e in _preset_cache.get("entries", [])
                                        if e.parameters is not None})

    @staticmethod
    def _count_preset_parameters() -> None:
        from workbench import presets

        entries: list[PresetEntry] = _preset_cache.get("entries", [])
        counted = []
        for entry in entries:
            if entry.parameters is None:
                try:
                    entry = dataclasses.replace(entry, parameters=presets.parameter_count(entry.graph))
                except WorkbenchError as exc:
                    log.warning("preset %s cannot be built: %s", entry.name, exc)
            counted.append(entry)
        _preset_cache["entries"] = counted

    @staticmethod
    def _read_presets() -> list[PresetEntry]:
        """The gallery's entries without parameter counts (no torch)."""
        from workbench import presets

        entries = []
        try:
            infos = presets.list_presets(parameters=False)
        except WorkbenchError as exc:
            log.warning("presets cannot be listed: %s", exc)
            infos = []
        for info in infos:
            try:
                graph = presets.load_preset(info.name).graph
            except WorkbenchError as exc:
                log.warning("preset %s cannot be loaded: %s", info.name, exc)
                continue
            entries.append(PresetEntry(
                name=info.name, title=getattr(info, "title", "") or info.name, task=info.task,
                dataset=info.dataset, description=info.description, parameters=info.parameters, graph=graph,
            ))
        return entries

    # ----- title, status -------------------------------------------------------------------

    def _display_name(self) -> str:
        project = self.project
        if project is None:
            return ""
        if project.path is not None:
            return Path(project.path).name
        return project.name

    def _update_title(self) -> None:
        if self.project is None:
            self.setWindowTitle("Workbench")
            self.setWindowModified(False)
            return
        self.setWindowTitle(f"{self._display_name()}[*] — Workbench")
        self.setWindowModified(self.is_dirty())

    def _update_counts(self, *args: object) -> None:
        if self.session is None:
            self.counts_label.setText("")
            return
        analysis = self.session.analysis
        errors = sum(p.severity == "error" for p in analysis.problems)
        warnings = len(analysis.problems) - errors
        layers = len(self.session.graph)
        text = self.tr("1 layer") if layers == 1 else self.tr("%1 layers").replace("%1", str(layers))
        if errors:
            text += " · " + (self.tr("1 error") if errors == 1 else self.tr("%1 errors").replace("%1", str(errors)))
        if warnings:
            text += " · " + (self.tr("1 warning") if warnings == 1 else self.tr("%1 warnings").replace("%1", str(warnings)))
        if not errors and not warnings:
            text += " · " + self.tr("ready to train")
        self.counts_label.setText(text)
        color = theme.colors().error.name() if errors else ""
        self.counts_label.setStyleSheet(f"color: {color};" if color else "")

    def _show_zoom(self, factor: float) -> None:
        self.zoom_label.setText(f"{round(factor * 100)}%" if self.session is not None else "")

    def _document_edited(self) -> None:
        self._update_title()
        if self.session is not None and self.session.undo_stack.isClean() and not self._force_dirty:
            self.discard_recovery()

    # ----- editing -------------------------------------------------------------------------

    def _selection_changed(self) -> None:
        ids = self.scene.selected_node_ids()
        self.inspector.show_selection(ids)
        has = bool(ids) or bool(self.scene.selected_edges())
        for action in (self.act_cut, self.act_copy, self.act_duplicate, self.act_block):
            action.setEnabled(bool(ids))
        self.act_delete.setEnabled(has)

    def _focus_inspector(self, node_id: str) -> None:
        self.inspector_dock.show()
        self.inspector_dock.raise_()
        self.inspector.name_edit.setFocus()

    def reveal_node(self, node_id: str) -> None:
        """Select a node and bring it into view (Problems and Summary clicks)."""
        self.scene.select_nodes([node_id])
        self.view.center_on_nodes([node_id])

    # ----- run and export hooks ------------------------------------------------------------

    def set_run_handlers(self, train: Callable[[Project], bool | None] | None, stop: Callable[[], None] | None) -> None:
        """The training panel plugs in here (Run > Train / Stop)."""
        self._train_handler, self._stop_handler = train, stop

    def set_export_handler(self, handler: Callable[[Project, QWidget], None] | None) -> None:
        """The export dialog plugs in here (File > Export…)."""
        self._export_handler = handler

    def set_training_running(self, running: bool) -> None:
        """The training panel reports whether a run is going (Stop and Pause are enabled only then).

        While a run goes the editor is read-only: the run trains the network as it was when
        Train was pressed, and a banner over the canvas says so.
        """
        self.act_stop.setEnabled(running)
        self.act_pause.setEnabled(running and self.training.pause_supported())
        self.act_pause.setText(self.tr("&Pause"))
        self.act_train.setEnabled(not running and self.session is not None)
        self.set_read_only(running)
        if running:
            for dock in (self.training_dock, self.curves_dock):
                dock.show()
                dock.raise_()
            if self.curves_dock.height() < self.height() * 0.35:
                self.resizeDocks([self.curves_dock], [int(self.height() * 0.42)], Qt.Orientation.Vertical)
            if self.training_dock.width() < 330:
                self.resizeDocks([self.training_dock], [340], Qt.Orientation.Horizontal)

    def _read_only_text(self) -> str:
        return self.tr("Training — the network is read-only until the run ends (Stop: Shift+F5)")

    def set_read_only(self, read_only: bool) -> None:
        """Lock (or unlock) every way of editing the project."""
        self.read_only = read_only
        editing = not read_only
        for action in (self.act_new, self.act_open, self.act_close, self.act_cut, self.act_paste, self.act_duplicate,
                       self.act_delete, self.act_layout, self.act_block, self.act_select_all):
            action.setEnabled(editing and (self.session is not None or action in (self.act_new, self.act_open)))
        self.preset_menu.setEnabled(editing)
        self.recent_menu.setEnabled(editing)
        self.palette_panel.setEnabled(editing)
        self.inspector.setEnabled(editing)
        self.view.setInteractive(editing)
        self.view.setAcceptDrops(editing)
        self.view.viewport().setAcceptDrops(editing)
        if self.session is not None:
            self.undo_group.setActiveStack(None if read_only else self.session.undo_stack)
        if read_only:
            self.read_only_banner.show_text(self._read_only_text())
        else:
            self.read_only_banner.hide()
            if self.session is not None:
                self._selection_changed()

    def _training_paused(self, paused: bool) -> None:
        self.act_pause.setText(self.tr("&Resume") if paused else self.tr("&Pause"))
        self.act_pause.setData("train" if paused else "pause")  # (apply_theme re-tints by this name)
        self.act_pause.setIcon(icons.icon("train" if paused else "pause"))

    def _run_settings_edited(self) -> None:
        """Run settings changed (edit, undo, redo): the summary estimates memory at the run's batch size."""
        if self.session is not None:
            self.summary.batch.setValue(self.session.project.training.batch_size)

    def train(self) -> bool:
        """Train the open project (Run > Train, F5, the Train buttons); True when a run started."""
        if self.session is None:
            return False
        self.session.flush()
        if not self.session.analysis.ok:
            self.problems_dock.show()
            self.problems_dock.raise_()
            self.statusBar().showMessage(self.tr("Fix the problems before training."), 6000)
            return False
        if self._train_handler is None:
            self.statusBar().showMessage(self.tr("Training is not available in this build yet."), 6000)
            return False
        return bool(self._train_handler(self.session.project))

    def open_search(self) -> None:
        """Run › Search…: a hyperparameter search on the project, shown live (gui/search)."""
        from workbench.gui.search import open_search_window

        open_search_window(self)

    def stop(self) -> None:
        if self._stop_handler is not None:
            self._stop_handler()

    def export(self) -> None:
        if self.session is None:
            return
        if self._export_handler is None:
            self.statusBar().showMessage(self.tr("Export is not available in this build yet."), 6000)
            return
        self._export_handler(self.session.project, self)

    def serve(self) -> None:
        """Run › Serve…: the serving panel, with the run selected in the Training panel (if any)."""
        info = self.training.runs.current_info()
        self.serving.show_panel(self.session.project if self.session else None, info.path if info else None)

    def new_from_pretrained(self) -> None:
        """File › New from pretrained model…: import a torchvision classifier, then open it."""
        from workbench.gui.pretrained_dialog import PretrainedDialog  # imports torchvision: on demand

        folder = self.project.base_dir if self.project is not None and self.project.base_dir else None
        dialog = PretrainedDialog(self, folder)
        dialog.imported.connect(lambda path: self.open_file(str(path)))
        dialog.open()

    # ----- preferences, about --------------------------------------------------------------

    def show_preferences(self) -> None:
        from workbench.gui.preferences import PreferencesDialog

        dialog = PreferencesDialog(self.settings, self)
        if dialog.exec():
            dialog.store()
            self.apply_preferences()

    def apply_preferences(self) -> None:
        install_language(self.settings.language)
        self.apply_theme(self.settings.theme)
        self.act_snap.setChecked(self.settings.snap_to_grid)
        self.scene.snap_grid = 20 if self.settings.snap_to_grid else 0
        self.autosave_timer.start(self.settings.autosave_seconds * 1000)
        self.apply_projects_folder()

    def about(self) -> None:
        QMessageBox.about(self, self.tr("About Workbench"),
                          self.tr("<b>Workbench</b><br>Design neural networks by drawing them, train them live, "
                                  "export them verified."))

    # ----- closing -------------------------------------------------------------------------

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802
        if not self.maybe_save():
            event.ignore()
            return
        if self.persist_layout:
            state = self.saveState() if self.stack.currentWidget() is self.view else (self._editor_state or self.saveState())
            self.settings.save_window(self.saveGeometry(), state)
        self.discard_recovery()
        self.autosave_timer.stop()
        self.training.shutdown()  # a run stops after its current step and keeps what it has
        self.serving.shutdown()  # the model's server ends with the window that started it
        self.data_follower.shutdown()
        self._close_session()
        event.accept()
