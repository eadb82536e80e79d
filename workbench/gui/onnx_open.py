"""File › Open… on an ONNX file: import it as a new, unsaved project and report the parity check.

The import (`read_onnx_project`: parse, check, map onto layers, compare with onnxruntime) runs in
a worker thread — a ResNet-50 takes seconds — with the modules it needs imported on the GUI
thread first (see workbench.gui.preload). The weights then go to the config folder's
`imported/`, named by the source file and its modification time, and the project points at them
with an absolute `training.init_from`: training starts from them whether the project is saved or
not, and wherever it is saved. A file that cannot be imported is reported in a message box; the
open project stays as it was.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import re
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QCoreApplication, QObject, QThread, Signal, Slot

from workbench.errors import WorkbenchError
from workbench.gui.preload import worker_thread

if TYPE_CHECKING:
    from workbench.gui.main_window import MainWindow

log = logging.getLogger(__name__)

IMPORT_THREAD = "onnx-import"
STATUS_MS = 20_000  # how long the parity figure stays in the status bar
# what the worker imports, loaded on the GUI thread before it starts
IMPORT_MODULES = ("torch", "numpy", "onnx", "onnx.reference", "onnx.inliner", "onnx.shape_inference", "onnxruntime",
                  "safetensors.torch", "workbench.model_import.onnx_import", "workbench.graph.builder",
                  "workbench.project", "workbench.data.bundle", "workbench.training.settings")


def _tr(text: str) -> str:
    return QCoreApplication.translate("OnnxOpen", text)


def imported_weights_path(source: Path) -> Path:
    """Where the weights of an ONNX file imported in the app are kept (one file per source version)."""
    from workbench.gui.settings import config_dir

    stamp = f"{source.resolve()}|{source.stat().st_mtime_ns}".encode()
    stem = re.sub(r"[^\w.-]", "_", source.stem)[:60] or "model"
    return config_dir() / "imported" / f"{stem}-{hashlib.sha256(stamp).hexdigest()[:10]}.safetensors"


class _Worker(QObject):
    """Imports in the thread it is moved to: `succeeded` (the OnnxModel) or `failed`, then `ended`."""

    succeeded = Signal(object)
    failed = Signal(str)
    ended = Signal()

    def __init__(self, source: Path, weights: Path) -> None:
        super().__init__()
        self.source, self.weights = source, weights

    @Slot()
    def run(self) -> None:
        from workbench.model_import.onnx_import import read_onnx_project, write_weights

        try:
            model = read_onnx_project(self.source)
            write_weights(model.state, self.weights)
        except WorkbenchError as exc:
            self.failed.emit(str(exc))
        except OSError as exc:
            self.failed.emit(f"{self.source}: {exc.strerror or exc}")
        except Exception as exc:  # a bug: keep the traceback in the log, keep the app running
            log.exception("import of %s failed", self.source)
            self.failed.emit(f"the import failed unexpectedly ({type(exc).__name__}: {exc}) — this is a bug in Workbench")
        else:
            self.succeeded.emit(model)
        finally:
            self.ended.emit()


class OnnxImport(QObject):
    """One import into `window` (its child while it runs); `finished(True)` once the project is open."""

    finished = Signal(bool)

    def __init__(self, window: MainWindow, source: Path) -> None:
        super().__init__(window)
        self.window, self.source = window, source
        self.weights = imported_weights_path(source)
        self._model: object | None = None
        self._message = ""
        self._worker = _Worker(source, self.weights)
        self._thread: QThread = worker_thread(self._worker, self._worker.run, IMPORT_THREAD, preload=IMPORT_MODULES,
                                              quit_on=self._worker.ended)
        self._worker.succeeded.connect(self._on_succeeded)
        self._worker.failed.connect(self._on_failed)
        self._thread.finished.connect(self._on_thread_finished)

    def start(self) -> None:
        self.window.statusBar().showMessage(_tr("Importing %1 and checking it against onnxruntime…")
                                            .replace("%1", self.source.name))
        self._thread.start()

    @Slot(object)
    def _on_succeeded(self, model: object) -> None:
        self._model = model

    @Slot(str)
    def _on_failed(self, message: str) -> None:
        self._message = message

    @Slot()
    def _on_thread_finished(self) -> None:
        self._thread.wait()
        self._worker.deleteLater()
        self._thread.deleteLater()
        window, model = self.window, self._model
        self.setParent(None)  # no longer running: another import may start
        self.deleteLater()
        if model is None:
            window.statusBar().clearMessage()
            window._error(_tr("Cannot import the ONNX model"), self._message)
            self.finished.emit(False)
            return
        project = model.project  # type: ignore[attr-defined]
        project.training = dataclasses.replace(project.training, init_from=str(self.weights))
        window.open_project(project, dirty=True)
        window.statusBar().showMessage(
            _tr("Imported %1 (%2 parameters); parity with onnxruntime: max abs difference %3")
            .replace("%1", self.source.name).replace("%2", f"{model.parameters:,}")  # type: ignore[attr-defined]
            .replace("%3", f"{model.max_abs_diff:.1e}"), STATUS_MS)  # type: ignore[attr-defined]
        self.finished.emit(True)


def open_onnx(window: MainWindow, path: str) -> bool:
    """Start importing `path` into a new unsaved project of `window`; False when it cannot start."""
    if window.findChild(OnnxImport) is not None:
        window.statusBar().showMessage(_tr("An ONNX import is running; wait for it to finish."), 6000)
        return False
    if not window.maybe_save():
        return False
    source = Path(path)
    if not source.is_file():  # told at once; the worker checks everything else
        window._error(_tr("Cannot import the ONNX model"), f"{source}: no such file — give the path of a .onnx file")
        return False
    OnnxImport(window, source).start()
    return True
