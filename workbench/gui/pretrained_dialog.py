"""File › New from pretrained model…: pick a torchvision classifier, its weights and classes, import it.

The list comes from `workbench.model_import.gallery` (sizes, accuracy, whether the weights are in
the cache: no download, so it works offline). The import itself (`import_torchvision`: trace,
map, copy the weights, check parity, write PROJECT.json and PROJECT.safetensors) runs in a worker
thread; the dialog reports its error in one line, or emits `imported` with the project file,
which the window then opens.

torch and torchvision are imported on the GUI thread when this module is (importing torch first
inside a QThread deadlocks against PySide6's import hook).
"""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QObject, Qt, QThread, Signal, Slot
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

import torchvision  # noqa: F401  (imported on the GUI thread: see the module doc)

from workbench.errors import WorkbenchError
from workbench.gui import theme
from workbench.gui.preload import worker_thread
from workbench.model_import import GalleryEntry, gallery, import_torchvision

log = logging.getLogger(__name__)

IMPORT_THREAD = "pretrained-import"
PUBLISHED, FILE, NONE = "published", "file", "none"  # where the weights come from


class ImportWorker(QObject):
    """Runs `import_torchvision` in the thread it is moved to; `succeeded` or `failed`, then `ended`."""

    succeeded = Signal(object)  # ImportResult
    failed = Signal(str)
    ended = Signal()

    def __init__(self, name: str, out: Path, weights: str | None, classes: int | None) -> None:
        super().__init__()
        self.name, self.out, self.weights, self.classes = name, out, weights, classes

    @Slot()
    def run(self) -> None:
        try:
            result = import_torchvision(self.name, self.out, weights=self.weights, classes=self.classes, progress=False)
        except WorkbenchError as exc:
            self.failed.emit(str(exc))
        except Exception as exc:  # a bug: keep the traceback in the log, keep the app running
            log.exception("import of %s failed", self.name)
            self.failed.emit(f"the import failed unexpectedly ({type(exc).__name__}: {exc}) — this is a bug in Workbench")
        else:
            self.succeeded.emit(result)
        finally:
            self.ended.emit()


class PretrainedDialog(QDialog):
    """The gallery of importable models and the choices an import takes."""

    imported = Signal(object)  # Path of the written project file
    import_finished = Signal(bool)  # the worker thread has ended: True when the project was written

    def __init__(self, parent: QWidget | None = None, folder: Path | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("New from Pretrained Model"))
        self.folder = folder or Path.home()
        self.entries: list[GalleryEntry] = gallery()
        self._thread: QThread | None = None
        self._worker: ImportWorker | None = None

        self.models = QListWidget()
        for entry in self.entries:
            item = QListWidgetItem(entry.describe())
            item.setData(Qt.ItemDataRole.UserRole, entry.name)
            self.models.addItem(item)
        self.models.setCurrentRow(0)

        self.weights = QComboBox()
        self.weights.addItem(self.tr("Published ImageNet weights"), PUBLISHED)
        self.weights.addItem(self.tr("Weights file…"), FILE)
        self.weights.addItem(self.tr("None (train from scratch)"), NONE)
        self.weights_file = QLineEdit()
        self.weights_file.setPlaceholderText(self.tr(".safetensors or a saved state dict of that model"))
        browse_weights = QPushButton(self.tr("Browse…"))
        browse_weights.clicked.connect(self._browse_weights)
        file_row = QHBoxLayout()
        file_row.addWidget(self.weights_file)
        file_row.addWidget(browse_weights)

        self.classes = QSpinBox()
        self.classes.setRange(0, 100_000)
        self.classes.setSpecialValueText(self.tr("keep the 1,000 ImageNet classes"))

        self.out = QLineEdit()
        browse_out = QPushButton(self.tr("Browse…"))
        browse_out.clicked.connect(self._browse_out)
        out_row = QHBoxLayout()
        out_row.addWidget(self.out)
        out_row.addWidget(browse_out)

        form = QFormLayout()
        form.addRow(self.tr("Weights"), self.weights)
        form.addRow(self.tr("Weights file"), file_row)
        form.addRow(self.tr("Classes"), self.classes)
        form.addRow(self.tr("Project file"), out_row)

        self.status = QLabel()
        self.status.setWordWrap(True)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.import_button = self.buttons.addButton(self.tr("Import"), QDialogButtonBox.ButtonRole.AcceptRole)
        self.buttons.accepted.connect(self.start_import)
        self.buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addWidget(self.models)
        layout.addLayout(form)
        layout.addWidget(self.status)
        layout.addWidget(self.buttons)

        self.models.currentRowChanged.connect(self._update)
        self.weights.currentIndexChanged.connect(self._update)
        self._update()

    # ----- state ----------------------------------------------------------------------------

    def entry(self) -> GalleryEntry:
        """The selected model."""
        return self.entries[max(self.models.currentRow(), 0)]

    def _update(self) -> None:
        entry, source = self.entry(), self.weights.currentData()
        self.weights_file.setEnabled(source == FILE)
        self.out.setText(str(self.folder / f"{entry.name}.json"))
        if source == PUBLISHED and not entry.cached:
            self._show(self.tr("The weights are not in the cache: importing downloads %1 MB. Offline? Choose a "
                               "weights file instead.").replace("%1", f"{entry.download_mb:.0f}"), "warning")
        else:
            self._show("", "info")

    def _show(self, text: str, kind: str) -> None:
        # On a light background the warning hue is darkened for text (plain: 2.4:1 on white; so 5:1).
        warning = theme.colors().warning if theme.is_dark() else theme.colors().warning.darker(150)
        colour = {"error": theme.colors().error, "warning": warning}.get(kind)
        self.status.setStyleSheet(f"color: {colour.name()};" if colour is not None else "")
        self.status.setText(text)

    def _browse_weights(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, self.tr("Weights File"), str(self.folder),
                                              self.tr("Weights (*.safetensors *.pth *.pt);;All files (*)"))
        if path:
            self.weights_file.setText(path)
            self.weights.setCurrentIndex(self.weights.findData(FILE))

    def _browse_out(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, self.tr("Project File"), self.out.text(), self.tr("Projects (*.json)"))
        if path:
            self.out.setText(path)

    # ----- the import -----------------------------------------------------------------------

    def start_import(self) -> None:
        """Import the selected model in a worker thread (the dialog stays responsive)."""
        if self._thread is not None:
            return
        source = self.weights.currentData()
        weights = {PUBLISHED: "DEFAULT", FILE: self.weights_file.text().strip(), NONE: None}[source]
        if source == FILE and not weights:
            self._show(self.tr("Choose a weights file, or another weights option."), "error")
            return
        out = Path(self.out.text().strip())
        classes = self.classes.value() or None
        self.import_button.setEnabled(False)
        self._show(self.tr("Importing %1 and checking it against torchvision…").replace("%1", self.entry().name), "info")
        worker = ImportWorker(self.entry().name, out, weights, classes)
        thread = worker_thread(worker, worker.run, IMPORT_THREAD, quit_on=worker.ended)
        worker.succeeded.connect(self._on_succeeded)
        worker.failed.connect(self._on_failed)
        thread.finished.connect(self._on_thread_finished)
        self._worker, self._thread, self._written = worker, thread, None
        thread.start()

    @Slot(object)
    def _on_succeeded(self, result: object) -> None:
        self._written = result

    @Slot(str)
    def _on_failed(self, message: str) -> None:
        self._show(message, "error")

    @Slot()
    def _on_thread_finished(self) -> None:
        thread, worker = self._thread, self._worker
        if thread is None or worker is None:
            return
        thread.wait()
        worker.deleteLater()
        thread.deleteLater()
        self._thread = self._worker = None
        self.import_button.setEnabled(True)
        result = self._written
        self.import_finished.emit(result is not None)
        if result is not None:
            self.imported.emit(result.project_path)
            self.accept()

    def reject(self) -> None:
        if self._thread is not None:  # the import cannot be interrupted midway: let it finish
            self._show(self.tr("Wait for the import to finish."), "warning")
            return
        super().reject()
