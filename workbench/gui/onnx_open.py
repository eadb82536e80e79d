"""File › Open… on an ONNX file: import it as a new, unsaved project and report the parity check.

The import (`read_onnx_project`: parse, check, map onto layers, compare with onnxruntime) writes
nothing itself. The weights then go to the config folder's `imported/`, named by the source file
and its modification time, and the project points at them with an absolute `training.init_from`:
training starts from them whether the project is saved or not, and wherever it is saved. A file
that cannot be imported is reported in a message box; the open project stays as it was.

The import runs on the GUI thread behind a wait cursor: a ResNet-18 takes a few seconds, and
importing onnxruntime or torch inside a QThread risks PySide6's import-hook deadlock.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QCoreApplication, Qt
from PySide6.QtWidgets import QApplication

from workbench.errors import WorkbenchError

if TYPE_CHECKING:
    from workbench.gui.main_window import MainWindow

STATUS_MS = 20_000  # how long the parity figure stays in the status bar


def _tr(text: str) -> str:
    return QCoreApplication.translate("OnnxOpen", text)


def imported_weights_path(source: Path) -> Path:
    """Where the weights of an ONNX file imported in the app are kept (one file per source version)."""
    from workbench.gui.settings import config_dir

    stamp = f"{source.resolve()}|{source.stat().st_mtime_ns}".encode()
    stem = re.sub(r"[^\w.-]", "_", source.stem)[:60] or "model"
    return config_dir() / "imported" / f"{stem}-{hashlib.sha256(stamp).hexdigest()[:10]}.safetensors"


def open_onnx(window: MainWindow, path: str) -> bool:
    """Import `path` into a new unsaved project in `window`; False (and a message) when it cannot."""
    from workbench.model_import.onnx_import import read_onnx_project, write_weights

    if not window.maybe_save():
        return False
    source = Path(path)
    window.statusBar().showMessage(_tr("Importing %1 and checking it against onnxruntime…").replace("%1", source.name))
    QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
    try:
        model = read_onnx_project(source)
        weights = imported_weights_path(source)
        write_weights(model.state, weights)
    except (WorkbenchError, OSError) as exc:
        window.statusBar().clearMessage()
        QApplication.restoreOverrideCursor()
        text = str(exc) if isinstance(exc, WorkbenchError) else f"{source}: {exc.strerror or exc}"
        window._error(_tr("Cannot import the ONNX model"), text)
        return False
    QApplication.restoreOverrideCursor()
    project = model.project
    project.training = dataclasses.replace(project.training, init_from=str(weights))
    window.open_project(project, dirty=True)
    window.statusBar().showMessage(
        _tr("Imported %1 (%2 parameters); parity with onnxruntime: max abs difference %3")
        .replace("%1", source.name).replace("%2", f"{model.parameters:,}").replace("%3", f"{model.max_abs_diff:.1e}"),
        STATUS_MS)
    return True
