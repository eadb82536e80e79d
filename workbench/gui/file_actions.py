"""Project files in the window: new, open (file, preset, recent), save, the unsaved-changes
prompt, and autosave to a recovery file with the offer to restore it after a crash.

A mixin of MainWindow: it uses the window's session, scene, view, settings and start page.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QFileDialog, QMessageBox

from workbench.errors import ProjectFileError, WorkbenchError
from workbench.graph.document import Graph
from workbench.gui.session import EditorSession
from workbench.gui.settings import recovery_path
from workbench.project import Project, project_from_dict, project_to_dict, save_project, write_text_atomic

if TYPE_CHECKING:
    from workbench.gui.main_window import MainWindow

    _Base = MainWindow
else:
    _Base = object

log = logging.getLogger(__name__)

RECOVERY_KIND = "workbench-recovery"
OPEN_MIN_ZOOM = 0.75  # a project opens fitted, but never so small that cards cannot be read


def blank_project() -> Project:
    """A new project: an Input for the default dataset (8×8 digits) and an Output, unconnected."""
    graph = Graph()
    graph.add_node("Input", name="input", params={"kind": "image", "shape": [1, 8, 8]}, position=(0.0, 0.0))
    graph.add_node("Output", name="output", position=(420.0, 0.0))
    return Project(name="untitled", graph=graph)


class FileActions(_Base):
    """Opening, saving and recovering projects."""

    # ----- project life --------------------------------------------------------------------

    @property
    def project(self) -> Project | None:
        return self.session.project if self.session is not None else None

    def is_dirty(self) -> bool:
        return self.session is not None and (self._force_dirty or not self.session.undo_stack.isClean())

    def open_project(self, project: Project, dirty: bool = False) -> None:
        """Show `project` in the editor (the caller has already asked about unsaved changes)."""
        if self.training_overrides:
            try:
                project.training = dataclasses.replace(project.training, **self.training_overrides)
            except (TypeError, WorkbenchError) as exc:
                self._error(self.tr("Cannot apply the training settings"), str(exc))
        self._close_session()
        session = EditorSession(project, self)
        self.session = session
        self.undo_group.addStack(session.undo_stack)
        self.undo_group.setActiveStack(session.undo_stack)
        session.undo_stack.cleanChanged.connect(self._update_title)
        session.undo_stack.indexChanged.connect(self._document_edited)
        session.command_refused.connect(lambda reason: self.statusBar().showMessage(reason, 8000))
        session.analysis_changed.connect(self._update_counts)
        self.scene.set_session(session)
        self.inspector.set_session(session)
        self.problems.set_session(session)
        self.summary.set_session(session)
        self.code_view.set_session(session)
        self._force_dirty = dirty
        self._paste_count = 0
        self._show_editor()
        self._update_title()
        self._update_counts()
        # A project from no file of the user's (a preset) may be laid out anew to fit the view.
        arrange = project.path is None and not dirty
        QTimer.singleShot(0, lambda: self.view.open_fitted(arrange, min_zoom=OPEN_MIN_ZOOM))
        self.project_opened.emit(project)

    def _close_session(self) -> None:
        if self.session is None:
            return
        old = self.session
        self.session = None
        for panel in (self.scene, self.inspector, self.problems, self.summary, self.code_view, self.data_follower):
            panel.set_session(None)
        self.undo_group.removeStack(old.undo_stack)
        old.close()
        old.deleteLater()

    def maybe_save(self) -> bool:
        """Ask about unsaved changes; True when it is fine to go on (saved or discarded)."""
        if not self.is_dirty() or self.project is None:
            return True
        answer = QMessageBox.question(
            self,
            self.tr("Unsaved changes"),
            self.tr("Save the changes to “%1” before closing it?").replace("%1", self._display_name()),
            QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Save,
        )
        if answer == QMessageBox.StandardButton.Save:
            return self.save()
        if answer == QMessageBox.StandardButton.Discard:
            self.discard_recovery()
            return True
        return False

    def new_project(self) -> None:
        if self.maybe_save():
            self.open_project(blank_project())

    def close_project(self) -> None:
        if self.maybe_save():
            self._close_session()
            self.discard_recovery()
            self.show_start_page()

    def open_dialog(self) -> None:
        if self.project is not None and self.project.base_dir:
            start = str(self.project.base_dir)
        else:
            start = str(self.settings.last_folder or (self.settings.projects_folder if self.settings.projects_folder.is_dir()
                                                       else Path.home()))
        path, _ = QFileDialog.getOpenFileName(self, self.tr("Open project"), start,
                                              self.tr("Workbench projects (*.json);;ONNX models (*.onnx);;All files (*)"))
        if path:
            self.open_file(path)

    def open_file(self, path: str) -> bool:
        if path.lower().endswith(".onnx"):  # imported as a new, unsaved project
            from workbench.gui.onnx_open import open_onnx

            return open_onnx(self, path)
        from workbench.project import load_project

        if not self.maybe_save():
            return False
        try:
            project = load_project(path)
        except ProjectFileError as exc:
            if not Path(path).exists():
                self.settings.remove_recent_file(path)
                self.start_page.set_recent(self.settings.recent_files())
            self._error(self.tr("Cannot open the project"), str(exc))
            return False
        self.open_project(project)
        self.settings.add_recent_file(path)
        self.settings.remember_folder(path)
        return True

    def open_preset(self, name: str) -> bool:
        from workbench.presets import load_preset

        if not self.maybe_save():
            return False
        try:
            project = load_preset(name)
        except ProjectFileError as exc:
            self._error(self.tr("Cannot open the preset"), str(exc))
            return False
        self.open_project(project)
        return True

    def open_path_or_preset(self, text: str) -> bool:
        """What `workbench open FILE_OR_PRESET` opens; the message is shown on failure."""
        from workbench.presets import resolve_project

        try:
            project = resolve_project(text)
        except ProjectFileError as exc:
            self._error(self.tr("Cannot open the project"), str(exc))
            return False
        self.open_project(project)
        if project.path is not None:
            self.settings.add_recent_file(project.path)
        return True

    def save(self) -> bool:
        if self.project is None:
            return False
        if self.project.path is None:
            return self.save_as()
        return self.save_to(self.project.path)

    def save_as(self) -> bool:
        if self.project is None:
            return False
        # Its own file, else the folder used last, else the projects folder (~/Workbench).
        suggested = str(self.project.path or self.settings.save_folder() / f"{self.project.name}.json")
        path, _ = QFileDialog.getSaveFileName(self, self.tr("Save project"), suggested,
                                              self.tr("Workbench projects (*.json)"))
        if not path:
            return False
        if not path.endswith(".json"):
            path += ".json"
        return self.save_to(path)

    def save_to(self, path: str | Path) -> bool:
        """Write the project to `path` (atomically) and mark it saved."""
        if self.session is None:
            return False
        try:
            save_project(self.session.project, path)
        except OSError as exc:
            self._error(self.tr("Cannot save the project"), f"{path}: {exc.strerror or exc}")
            return False
        self.session.undo_stack.setClean()
        self._force_dirty = False
        self.settings.add_recent_file(path)
        self.settings.remember_folder(path)
        self.discard_recovery()
        self._update_title()
        self.statusBar().showMessage(self.tr("Saved %1").replace("%1", str(path)), 4000)
        self.project_saved.emit(str(path))
        return True

    def apply_projects_folder(self) -> None:
        """The projects folder preference: runs of a project without a file go to its runs/
        (not the working folder), and the start page shows it."""
        from workbench.project import set_unsaved_home

        set_unsaved_home(self.settings.projects_folder)
        self.start_page.set_projects_folder(self.settings.projects_folder)

    def _error(self, title: str, message: str) -> None:
        QMessageBox.warning(self, title, message)

    def _fill_recent_menu(self) -> None:
        self.recent_menu.clear()
        files = self.settings.recent_files()
        for path in files:
            action = self.recent_menu.addAction(Path(path).name)
            action.setToolTip(path)
            action.setStatusTip(path)
            action.triggered.connect(lambda checked=False, p=path: self.open_file(p))
        if files:
            self.recent_menu.addSeparator()
            clear = self.recent_menu.addAction(self.tr("Clear Recent"))
            clear.triggered.connect(self.settings.clear_recent_files)
        else:
            empty = self.recent_menu.addAction(self.tr("No recent projects"))
            empty.setEnabled(False)

    def _fill_preset_menu(self) -> None:
        from workbench.presets import preset_paths

        self.preset_menu.clear()
        for path in preset_paths():
            action = self.preset_menu.addAction(path.stem)
            action.triggered.connect(lambda checked=False, n=path.stem: self.open_preset(n))

    # ----- autosave and recovery -----------------------------------------------------------

    def autosave(self) -> bool:
        """Write unsaved work to the recovery file; True when something was written."""
        if self.session is None or not self.is_dirty():
            return False
        project = self.session.project
        record = {
            "kind": RECOVERY_KIND,
            "saved_at": datetime.now().isoformat(timespec="seconds"),
            "path": str(project.path) if project.path is not None else None,
            "project": project_to_dict(project),
        }
        try:
            write_text_atomic(recovery_path(), json.dumps(record, ensure_ascii=False, indent=1))
        except OSError as exc:
            log.warning("autosave failed: %s", exc)
            return False
        return True

    def discard_recovery(self) -> None:
        recovery_path().unlink(missing_ok=True)

    def offer_recovery(self) -> bool:
        """If the last session left unsaved work behind, offer to restore it; True if restored."""
        path = recovery_path()
        if not path.is_file():
            return False
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
            if not isinstance(record, dict) or record.get("kind") != RECOVERY_KIND:
                raise ProjectFileError("not a recovery file")
            project = project_from_dict(record["project"], origin=str(path))
        except (OSError, ValueError, KeyError, ProjectFileError) as exc:
            log.warning("recovery file %s is unusable: %s", path, exc)
            path.unlink(missing_ok=True)
            return False
        name = Path(record["path"]).name if record.get("path") else project.name
        answer = QMessageBox.question(
            self,
            self.tr("Restore unsaved work?"),
            self.tr("Workbench did not close normally. Restore the unsaved changes to “%1” (autosaved %2)?")
            .replace("%1", name).replace("%2", str(record.get("saved_at", "")).replace("T", " ")),
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.Yes,
        )
        if answer != QMessageBox.StandardButton.Yes:
            path.unlink(missing_ok=True)
            return False
        if record.get("path"):
            project.path = Path(record["path"])
        self.open_project(project, dirty=True)
        return True
