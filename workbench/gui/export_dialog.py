"""The Export dialog (File > Export…): a trained run in, verified files and the comparison report out.

The user picks a run of the open project (or any run folder), the formats and the compression
steps, and an output folder. The export itself is the core's `export_run`, run by an
`ExportWorker` moved to a QThread: its progress arrives by queued signal, Cancel sets a flag that
the core reads between steps (it then removes its partial files), and the dialog lets go of the
thread only after the thread's own `finished`. When it is done the report's table is shown with
the recommended (★) and best trade-off (◆) rows highlighted.

Distillation (a smaller student trained on the chosen run's outputs) is a training run, not a
file export: "Train the student" hands it to the training panel (`start_distillation`, given by
the main window), which runs it like any run, with live curves, Stop and Pause, and the dialog
closes so that the curves are in view. The student's run folder then appears in the run list.

`workbench.export` (and with it torch, onnx, onnxruntime, onnxscript) is imported when an export
starts, not when the dialog opens, so that opening it stays instant; it is imported on the GUI
thread (`workbench.gui.preload.ensure_imported`, with a busy cursor) just before the worker's
thread starts, because a first import of those packages in a worker thread can stall in PySide6's
import hook.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QCoreApplication, QObject, Qt, QThread, QUrl, Signal, Slot
from PySide6.QtGui import QBrush, QColor, QDesktopServices, QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from workbench.errors import WorkbenchError
from workbench.gui import theme
from workbench.gui.export_runs import RunEntry, default_output_folder, find_runs, read_run, run_problem, runs_folder
from workbench.gui.preload import EXPORT_MODULES, worker_thread

if TYPE_CHECKING:
    from workbench.export.report import ExportReport
    from workbench.project import Project

log = logging.getLogger(__name__)

# The core's choices (workbench.export.options FORMATS / QUANTIZE_MODES, checked equal by a test):
# named here so that the dialog opens without importing the export package.
FORMATS = ("onnx", "safetensors", "pt2", "code")
QUANTIZE_MODES = ("int8-dynamic", "int8-static", "fp16")
MAX_PRUNE_PERCENT = 95  # the core takes any fraction below 1; beyond this nothing useful is left

# Outcomes of one export, as `ExportDialog.export_finished` reports them.
DONE, FAILED, CANCELLED = "done", "failed", "cancelled"


class ExportWorker(QObject):
    """Runs `export_run` in the thread it is moved to; talks to the dialog by signals only.

    Exactly one of `succeeded`, `failed`, `cancelled` is emitted, then `ended` (connect it to the
    thread's `quit`). `request_cancel` may be called from any thread.
    """

    progressed = Signal(int, int, str)  # step, total, what runs now
    succeeded = Signal(object)  # ExportReport
    failed = Signal(str)  # a message for the user
    cancelled = Signal(str)
    ended = Signal()

    def __init__(self, run_dir: Path, out_dir: Path, options: dict[str, Any]) -> None:
        super().__init__()
        self.run_dir, self.out_dir, self.options = run_dir, out_dir, dict(options)
        self._cancel = threading.Event()

    def request_cancel(self) -> None:
        self._cancel.set()

    @property
    def cancel_requested(self) -> bool:
        return self._cancel.is_set()

    @Slot()
    def run(self) -> None:
        try:
            self._run()
        finally:
            self.ended.emit()

    def _run(self) -> None:
        try:
            from workbench.export import ExportCancelled, ExportOptions, export_run
        except Exception as exc:  # a broken installation (onnx missing...): say so, don't crash the app
            log.exception("the export tools cannot be loaded")
            self.failed.emit(f"the export tools cannot be loaded ({type(exc).__name__}: {exc}) — check the installation")
            return
        try:
            options = ExportOptions(**self.options)
            report = export_run(self.run_dir, self.out_dir, options, progress=self._progress, cancel=self._cancel.is_set)
        except ExportCancelled as exc:
            self.cancelled.emit(str(exc))
        except WorkbenchError as exc:
            self.failed.emit(str(exc))
        except Exception as exc:  # a bug: keep the traceback in the log, keep the app running
            log.exception("export of %s failed", self.run_dir)
            self.failed.emit(f"the export failed unexpectedly ({type(exc).__name__}: {exc}) — "
                             "this is a bug in Workbench; the log has the details")
        else:
            self.succeeded.emit(report)

    def _progress(self, progress: Any) -> None:
        self.progressed.emit(progress.step, progress.total, progress.message)


class ExportDialog(QDialog):
    """Options, progress and the report of exports of one project's runs."""

    export_progressed = Signal(int, int, str)  # step, total, message (relayed from the worker)
    export_finished = Signal(str)  # DONE, FAILED or CANCELLED; the worker's thread has ended by then

    def __init__(self, project: Project | None = None, parent: QWidget | None = None,
                 start_distillation: Callable[..., bool] | None = None) -> None:
        super().__init__(parent)
        self.project = project
        # TrainingPanel.start_distillation(teacher_run, student, settings, baseline) -> started?
        self.start_distillation = start_distillation
        self.report: ExportReport | None = None
        self._worker: ExportWorker | None = None
        self._thread: QThread | None = None
        self._outcome: tuple[str, str] = (FAILED, "")
        self._out_edited = False  # the user typed an output folder: stop following the run
        self._close_when_done = False
        self._outcome_shown = False  # the last export's message is on screen: validation leaves it there
        self.setWindowTitle(self.tr("Export"))
        self.setObjectName("export_dialog")
        self._build()
        self._connect()
        self.reload_runs()
        self._update_dependencies()
        self.validate()
        app = QCoreApplication.instance()
        if app is not None:  # quitting mid-export: stop it rather than destroy a running thread
            app.aboutToQuit.connect(self.stop_and_wait)

    # ----- construction --------------------------------------------------------------------

    def _build(self) -> None:
        self.options_box = QWidget()
        options = QVBoxLayout(self.options_box)
        options.setContentsMargins(0, 0, 0, 0)

        run_group = QGroupBox(self.tr("Trained run"))
        self.run_combo = QComboBox()
        self.run_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.run_combo.setMinimumContentsLength(40)
        self.choose_run_button = QPushButton(self.tr("Choose folder…"))
        self.run_info = QLabel()
        self.run_info.setTextFormat(Qt.TextFormat.PlainText)
        self.run_info.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.run_info.setWordWrap(True)
        self.run_info.setStyleSheet(f"color: {theme.colors().text_dim.name()};")
        run_row = QHBoxLayout()
        run_row.addWidget(self.run_combo, 1)
        run_row.addWidget(self.choose_run_button)
        run_layout = QVBoxLayout(run_group)
        run_layout.addLayout(run_row)
        run_layout.addWidget(self.run_info)
        options.addWidget(run_group)

        format_group = QGroupBox(self.tr("Formats"))
        format_texts = {
            "onnx": self.tr("ONNX (.onnx), checked with onnxruntime"),
            "safetensors": self.tr("PyTorch weights (.safetensors)"),
            "pt2": self.tr("PyTorch program (.pt2, torch.export)"),
            "code": self.tr("Python code (.py) that rebuilds the network"),
        }
        self.format_boxes: dict[str, QCheckBox] = {}
        format_layout = QVBoxLayout(format_group)
        for name in FORMATS:
            box = QCheckBox(format_texts[name])
            box.setChecked(name == "onnx")
            self.format_boxes[name] = box
            format_layout.addWidget(box)
        format_layout.addStretch(1)

        compress_group = QGroupBox(self.tr("Compression"))
        quantize_texts = {
            "int8-dynamic": self.tr("int8, dynamic"),
            "int8-static": self.tr("int8, static (calibrated)"),
            "fp16": self.tr("fp16"),
        }
        quantize_tips = {
            "int8-dynamic": self.tr("int8 weights; activations are quantized at run time. About a quarter of the size."),
            "int8-static": self.tr("int8 weights and activations, calibrated on training batches."),
            "fp16": self.tr("Half-precision weights and compute: half the size."),
        }
        self.quantize_boxes: dict[str, QCheckBox] = {}
        quantize_row = QHBoxLayout()
        for name in QUANTIZE_MODES:
            box = QCheckBox(quantize_texts[name])
            box.setToolTip(quantize_tips[name])
            self.quantize_boxes[name] = box
            quantize_row.addWidget(box)
        quantize_row.addStretch(1)
        self.prune_spin = self._percent_spin(
            self.tr("Global magnitude pruning: this share of the Linear/Conv weights is set to zero."))
        self.channels_spin = self._percent_spin(
            self.tr("Channel pruning: this share of each layer's channels is removed; the file gets smaller."))
        self.finetune_spin = QSpinBox()
        self.finetune_spin.setRange(0, 1000)
        self.finetune_spin.setSpecialValueText(self.tr("none"))
        self.finetune_spin.setSuffix(self.tr(" epochs"))
        self.finetune_spin.setToolTip(self.tr("Training after pruning, to win back accuracy."))
        compress = QFormLayout(compress_group)
        compress.addRow(self.tr("Quantization"), quantize_row)
        compress.addRow(self.tr("Magnitude pruning"), self.prune_spin)
        compress.addRow(self.tr("Channel pruning"), self.channels_spin)
        compress.addRow(self.tr("Fine-tune after pruning"), self.finetune_spin)

        middle = QHBoxLayout()
        middle.addWidget(format_group)
        middle.addWidget(compress_group, 1)
        options.addLayout(middle)

        self.distill_group = QGroupBox(self.tr("Distillation: a smaller network that learns from this run"))
        self.student_width = QDoubleSpinBox()
        self.student_width.setRange(0.05, 1.0)
        self.student_width.setSingleStep(0.05)
        self.student_width.setValue(0.5)
        self.student_width.setPrefix("× ")
        self.student_width.setToolTip(self.tr("The student is this network with every layer's width scaled by "
                                              "this factor (the output stays)."))
        self.student_epochs = QSpinBox()
        self.student_epochs.setRange(1, 1000)
        self.student_epochs.setValue(20)  # DistillSettings' default: a student needs to train long enough
        self.student_epochs.setSuffix(self.tr(" epochs"))
        self.compare_box = QCheckBox(self.tr("Compare with the student trained on labels alone"))
        self.distill_button = QPushButton(self.tr("Train the student"))
        self.distill_button.setToolTip(self.tr("Runs in the training panel, with live curves; the student's run "
                                               "then appears in the list above, ready to export."))
        distill_row = QHBoxLayout()
        distill_row.addWidget(QLabel(self.tr("Width")))
        distill_row.addWidget(self.student_width)
        distill_row.addWidget(self.student_epochs)
        distill_row.addWidget(self.compare_box, 1)
        distill_row.addWidget(self.distill_button)
        QVBoxLayout(self.distill_group).addLayout(distill_row)
        self.distill_group.setVisible(self.start_distillation is not None)
        options.addWidget(self.distill_group)

        out_group = QGroupBox(self.tr("Output folder"))
        self.out_edit = QLineEdit()
        self.out_edit.setPlaceholderText(self.tr("Folder for the files and report.md"))
        self.browse_button = QPushButton(self.tr("Browse…"))
        out_row = QHBoxLayout(out_group)
        out_row.addWidget(self.out_edit, 1)
        out_row.addWidget(self.browse_button)
        options.addWidget(out_group)

        self.message = QLabel()
        self.message.setTextFormat(Qt.TextFormat.PlainText)
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.message.setObjectName("export_message")
        self.message_kind = ""  # "error", "info" or "" (nothing shown)

        self.progress_bar = QProgressBar()
        self.progress_bar.setTextVisible(True)
        self.step_label = QLabel()
        self.step_label.setTextFormat(Qt.TextFormat.PlainText)
        progress_row = QHBoxLayout()
        progress_row.addWidget(self.progress_bar, 1)
        progress_row.addWidget(self.step_label, 2)
        self.progress_widget = QWidget()
        self.progress_widget.setLayout(progress_row)
        progress_row.setContentsMargins(0, 0, 0, 0)
        self.progress_widget.hide()

        self.report_box = QGroupBox(self.tr("Report"))
        self.table = QTableWidget()
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.verticalHeader().hide()
        self.table.setWordWrap(False)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.legend = QLabel(self.tr("★ recommended: the smallest file within one point of the original's accuracy "
                                     "(or 2% of its validation loss). ◆ best trade-off: no other variant is at least "
                                     "as small, as fast and as accurate while better in one of them."))
        self.legend.setWordWrap(True)
        self.legend.setStyleSheet(f"color: {theme.colors().text_dim.name()};")
        self.notes_label = QLabel()
        self.notes_label.setTextFormat(Qt.TextFormat.PlainText)
        self.notes_label.setWordWrap(True)
        self.notes_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        report_layout = QVBoxLayout(self.report_box)
        report_layout.addWidget(self.table)
        report_layout.addWidget(self.legend)
        report_layout.addWidget(self.notes_label)
        self.report_box.hide()

        self.buttons = QDialogButtonBox()
        self.open_button = self.buttons.addButton(self.tr("Open output folder"), QDialogButtonBox.ButtonRole.ActionRole)
        self.export_button = self.buttons.addButton(self.tr("Export"), QDialogButtonBox.ButtonRole.ActionRole)
        self.cancel_button = self.buttons.addButton(self.tr("Cancel export"), QDialogButtonBox.ButtonRole.ActionRole)
        self.close_button = self.buttons.addButton(self.tr("Close"), QDialogButtonBox.ButtonRole.RejectRole)
        self.open_button.setEnabled(False)
        self.cancel_button.hide()
        self.export_button.setDefault(True)

        layout = QVBoxLayout(self)
        layout.addWidget(self.options_box)
        layout.addWidget(self.message)
        layout.addWidget(self.progress_widget)
        layout.addWidget(self.report_box)
        layout.addStretch(1)
        layout.addWidget(self.buttons)

    def _percent_spin(self, tip: str) -> QSpinBox:
        spin = QSpinBox()
        spin.setRange(0, MAX_PRUNE_PERCENT)
        spin.setSingleStep(5)
        spin.setSuffix(" %")
        spin.setSpecialValueText(self.tr("off"))
        spin.setToolTip(tip)
        return spin

    def _connect(self) -> None:
        self.run_combo.currentIndexChanged.connect(self._run_changed)
        self.choose_run_button.clicked.connect(self.choose_run_folder)
        for box in (*self.format_boxes.values(), *self.quantize_boxes.values()):
            box.toggled.connect(self._options_changed)
        for spin in (self.prune_spin, self.channels_spin, self.finetune_spin):
            spin.valueChanged.connect(self._options_changed)
        self.out_edit.textEdited.connect(self._out_typed)
        self.browse_button.clicked.connect(self.choose_output_folder)
        self.export_button.clicked.connect(self.start_export)
        self.distill_button.clicked.connect(self.distill)
        self.cancel_button.clicked.connect(self.cancel_export)
        self.open_button.clicked.connect(self.open_output_folder)
        self.buttons.rejected.connect(self.reject)

    # ----- runs ----------------------------------------------------------------------------

    def reload_runs(self) -> None:
        """List the runs in the project's runs/ folder (this project's newest first)."""
        folder = runs_folder(self.project)
        name = self.project.name if self.project is not None else None
        self.run_combo.blockSignals(True)
        self.run_combo.clear()
        for entry in find_runs(folder, name):
            self._add_run_item(entry)
        self.run_combo.setPlaceholderText(self.tr("No runs in %1").replace("%1", str(folder)))
        mine = [i for i in range(self.run_combo.count()) if self._entry(i).project == name]
        self.run_combo.setCurrentIndex(mine[0] if mine else (0 if self.run_combo.count() else -1))
        self.run_combo.blockSignals(False)
        self._run_changed()

    def _add_run_item(self, entry: RunEntry, index: int | None = None) -> int:
        index = self.run_combo.count() if index is None else index
        self.run_combo.insertItem(index, self.describe_run(entry), entry)
        self.run_combo.setItemData(index, str(entry.path), Qt.ItemDataRole.ToolTipRole)
        return index

    def _entry(self, index: int) -> RunEntry:
        entry = self.run_combo.itemData(index)
        assert isinstance(entry, RunEntry)
        return entry

    def describe_run(self, entry: RunEntry) -> str:
        """"digits-mlp-20261123-131300 — 5 epochs · val acc 96.4%" (other projects and unfinished runs say so)."""
        parts: list[str] = []
        if entry.project and self.project is not None and entry.project != self.project.name:
            parts.append(entry.project)
        if entry.epochs is not None:
            parts.append(self.tr("1 epoch") if entry.epochs == 1 else self.tr("%1 epochs").replace("%1", str(entry.epochs)))
        if entry.val_accuracy is not None:
            parts.append(self.tr("val acc %1").replace("%1", f"{entry.val_accuracy:.1%}"))
        elif entry.val_loss is not None:
            parts.append(self.tr("val loss %1").replace("%1", f"{entry.val_loss:.4f}"))
        statuses = {"stopped": self.tr("stopped"), "failed": self.tr("failed"), "early_stopped": self.tr("stopped early")}
        if entry.status and entry.status != "finished":
            parts.append(statuses.get(entry.status, entry.status))
        return f"{entry.name} — {' · '.join(parts)}" if parts else entry.name

    def selected_run(self) -> Path | None:
        index = self.run_combo.currentIndex()
        return self._entry(index).path if index >= 0 else None

    def choose_run_folder(self) -> None:
        start = str(self.selected_run() or runs_folder(self.project))
        folder = QFileDialog.getExistingDirectory(self, self.tr("Choose a run folder"), start)
        if folder:
            self.add_run_folder(folder)

    def add_run_folder(self, folder: str | Path) -> None:
        """Offer `folder` (any run folder, or something that is not one: the check says why) and select it."""
        path = Path(folder)
        for i in range(self.run_combo.count()):
            if self._entry(i).path.resolve() == path.resolve():
                self.run_combo.setCurrentIndex(i)
                return
        entry = read_run(path) or RunEntry(path, None, None, None, None, None, 0.0)
        self.run_combo.setCurrentIndex(self._add_run_item(entry, 0))

    def _run_changed(self, *args: object) -> None:
        self._outcome_shown = False
        run = self.selected_run()
        self.run_info.setText(str(run) if run is not None else "")
        if run is not None and not self._out_edited:
            self.out_edit.setText(str(default_output_folder(run)))
        self.validate()

    # ----- options -------------------------------------------------------------------------

    def _out_typed(self, text: str) -> None:
        self._out_edited = True
        self._outcome_shown = False
        self.validate()

    def choose_output_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, self.tr("Choose the output folder"), self.out_edit.text())
        if folder:
            self.set_output_folder(folder)

    def set_output_folder(self, folder: str | Path) -> None:
        """Use `folder` for the export (from now on it no longer follows the chosen run)."""
        self.out_edit.setText(str(folder))
        self._out_typed(str(folder))

    def _options_changed(self, *args: object) -> None:
        self._outcome_shown = False
        self._update_dependencies()
        self.validate()

    def _update_dependencies(self) -> None:
        """Formats another choice needs are ticked and locked, with the reason as tooltip."""
        needs = {
            "onnx": (any(b.isChecked() for b in self.quantize_boxes.values()),
                     self.tr("Quantization works on the ONNX file.")),
            "safetensors": (self.format_boxes["code"].isChecked(),
                            self.tr("The generated code loads its weights from the safetensors file.")),
        }
        for name, (needed, reason) in needs.items():
            box = self.format_boxes[name]
            if needed:
                box.setChecked(True)
            box.setEnabled(not needed)
            box.setToolTip(reason if needed else "")
        pruning = self.prune_spin.value() > 0 or self.channels_spin.value() > 0
        self.finetune_spin.setEnabled(pruning)

    def options(self) -> dict[str, Any]:
        """Keyword arguments of `ExportOptions` for the current choices."""
        prune, channels = self.prune_spin.value(), self.channels_spin.value()
        return {
            "formats": tuple(n for n, b in self.format_boxes.items() if b.isChecked()),
            "quantize": tuple(n for n, b in self.quantize_boxes.items() if b.isChecked()),
            "prune": prune / 100 if prune else None,
            "prune_channels": channels / 100 if channels else None,
            "finetune_epochs": self.finetune_spin.value() if prune or channels else 0,
        }

    def output_folder(self) -> Path | None:
        text = self.out_edit.text().strip()
        return Path(text).expanduser() if text else None

    def problem(self) -> str | None:
        """What stops an export with the current choices, in words; None when it can start."""
        run = self.selected_run()
        if run is None:
            return self.tr("Choose a trained run: train the project first (Run > Train), or choose a run folder.")
        found = run_problem(run)
        if found:
            return found
        if not any(b.isChecked() for b in self.format_boxes.values()):
            return self.tr("Choose at least one format.")
        out = self.output_folder()
        if out is None:
            return self.tr("Choose an output folder.")
        if out.exists() and not out.is_dir():
            return self.tr("%1 is a file — choose a folder for the export.").replace("%1", str(out))
        return None

    def validate(self) -> bool:
        """Show what stops an export (or a warning worth reading); enable Export when it can start."""
        if self.busy:
            return False
        problem = self.problem()
        if problem is not None:
            self.show_message(problem, "error")
        elif self._outcome_shown:
            pass  # keep the last export's message until the user starts another
        else:
            out = self.output_folder()
            if out is not None and out.is_dir() and any(out.iterdir()):
                self.show_message(self.tr("The output folder is not empty: files with the same names are replaced."), "info")
            else:
                self.show_message("", "")
        self.export_button.setEnabled(problem is None)
        run = self.selected_run()
        self.distill_button.setEnabled(run is not None and run_problem(run) is None)
        return problem is None

    def show_message(self, text: str, kind: str) -> None:
        """One message line: "error" (red), "info" (dim) or "" (none)."""
        self.message_kind = kind if text else ""
        self.message.setText(text)
        self.message.setVisible(bool(text))
        color = theme.colors().error if kind == "error" else theme.colors().text_dim if kind == "info" else None
        self.message.setStyleSheet(f"color: {color.name()};" if color is not None else "")

    # ----- distillation -------------------------------------------------------------------

    def distill(self) -> bool:
        """Hand a distillation of the chosen run to the training panel; close when it started."""
        run = self.selected_run()
        if self.start_distillation is None or self.busy or run is None or run_problem(run) is not None:
            return False
        from workbench.export.distill import DistillSettings

        settings = DistillSettings(epochs=self.student_epochs.value())
        if not self.start_distillation(run, f"{self.student_width.value():g}", settings, self.compare_box.isChecked()):
            self.show_message(self.tr("The training panel did not start the distillation; its status line says why."),
                              "error")
            return False
        self.accept()
        return True

    # ----- the export ----------------------------------------------------------------------

    @property
    def busy(self) -> bool:
        return self._thread is not None

    @property
    def export_thread(self) -> QThread | None:
        """The thread of the export under way (None when none is)."""
        return self._thread

    def start_export(self) -> bool:
        """Start exporting with the current choices; False (and the reason shown) when it cannot."""
        if self.busy:
            return False
        self._outcome_shown = False
        if not self.validate():
            return False
        run, out = self.selected_run(), self.output_folder()
        assert run is not None and out is not None
        self.report = None
        self.report_box.hide()
        self.open_button.setEnabled(False)
        self.show_message("", "")
        self.progress_bar.setRange(0, 0)  # busy until the first step is known
        self.step_label.setText(self.tr("Loading the run…"))
        self.progress_widget.show()

        # The worker's imports, here on the GUI thread (see the module docstring); a package
        # that fails to import is reported by the worker, in the dialog's words.
        worker = ExportWorker(run, out, self.options())
        # No parent: the dialog keeps the thread, and lets go only after its `finished`.
        thread = worker_thread(worker, worker.run, "export", EXPORT_MODULES, quit_on=worker.ended)
        worker.progressed.connect(self._on_progress)
        worker.succeeded.connect(self._on_succeeded)
        worker.failed.connect(self._on_failed)
        worker.cancelled.connect(self._on_cancelled)
        thread.finished.connect(self._on_thread_finished)
        self._worker, self._thread = worker, thread
        self._outcome = (FAILED, self.tr("The export stopped without a result."))
        self._set_busy(True)
        log.info("exporting %s to %s with %s", run, out, worker.options)
        thread.start()
        return True

    def cancel_export(self) -> None:
        """Ask the export to stop at its next step (the core then removes its partial files)."""
        if self._worker is None:
            return
        self._worker.request_cancel()
        self.cancel_button.setEnabled(False)
        self.step_label.setText(self.tr("Cancelling… (at the end of the current step)"))

    def stop_and_wait(self) -> None:
        """Cancel and block until the thread has ended (the application is quitting)."""
        if self._thread is not None:
            self.cancel_export()
            self._thread.wait()

    def _set_busy(self, busy: bool) -> None:
        self.options_box.setEnabled(not busy)
        self.export_button.setVisible(not busy)
        self.cancel_button.setVisible(busy)
        self.cancel_button.setEnabled(busy)
        if busy:
            self.export_button.setEnabled(False)

    @Slot(int, int, str)
    def _on_progress(self, step: int, total: int, message: str) -> None:
        self.progress_bar.setRange(0, max(total, 1))
        self.progress_bar.setValue(min(step, total))
        if self._worker is None or not self._worker.cancel_requested:
            self.step_label.setText(message)
        self.export_progressed.emit(step, total, message)

    @Slot(object)
    def _on_succeeded(self, report: ExportReport) -> None:
        self._outcome = (DONE, "")
        self.report = report

    @Slot(str)
    def _on_failed(self, message: str) -> None:
        self._outcome = (FAILED, message)

    @Slot(str)
    def _on_cancelled(self, message: str) -> None:
        self._outcome = (CANCELLED, message)

    @Slot()
    def _on_thread_finished(self) -> None:
        thread = self._thread
        if thread is not None:
            thread.wait()  # `finished` comes just before the thread's very end
        self._worker, self._thread = None, None
        outcome, message = self._outcome
        self._set_busy(False)
        self._outcome_shown = True
        if outcome == DONE and self.report is not None:
            self.progress_bar.setRange(0, 1)
            self.progress_bar.setValue(1)
            self.step_label.setText(self.tr("Done"))
            self.show_report(self.report)
            out = self.report.out_dir or self.output_folder()
            self.show_message(self.tr("Exported %1 variant(s) to %2 (report.md has the details).")
                              .replace("%1", str(len(self.report.variants))).replace("%2", str(out)), "info")
            self.open_button.setEnabled(True)
        else:
            self.progress_widget.hide()
            self.show_message(message, "info" if outcome == CANCELLED else "error")
        self.export_button.setEnabled(self.problem() is None)
        self.export_finished.emit(outcome)
        if self._close_when_done:
            super().reject()

    # ----- the report ----------------------------------------------------------------------

    def show_report(self, report: ExportReport) -> None:
        """The report's table (as the CLI prints it), ★ and ◆ rows highlighted, notes below."""
        rows = report.table_rows()
        headers = list(rows[0]) if rows else []
        self.table.clear()
        self.table.setColumnCount(len(headers))
        self.table.setRowCount(len(rows))
        self.table.setHorizontalHeaderLabels([self._header_text(h) for h in headers])
        for col, key in enumerate(headers):
            tip = self._header_tip(key)
            if tip:
                self.table.horizontalHeaderItem(col).setToolTip(tip)
        accent = QColor(theme.colors().accent)
        for row, (cells, variant) in enumerate(zip(rows, report.variants)):
            background = None
            if variant.recommended:
                background = QColor(accent.red(), accent.green(), accent.blue(), 70)
            elif variant.pareto_optimal:
                background = QColor(accent.red(), accent.green(), accent.blue(), 28)
            tip = "\n".join([f"{variant.name}: {variant.description}",
                             self.tr("Files: %1").replace("%1", ", ".join(variant.files) or "–"), *variant.notes])
            for col, key in enumerate(headers):
                item = QTableWidgetItem(cells[key])
                item.setToolTip(tip)
                if key not in ("", "variant"):
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                elif key == "":
                    item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
                if background is not None:
                    item.setBackground(QBrush(background))
                if variant.recommended:
                    font = QFont(item.font())
                    font.setBold(True)
                    item.setFont(font)
                self.table.setItem(row, col, item)
        self.table.resizeColumnsToContents()
        header = self.table.horizontalHeader()
        frame = 2 * self.table.frameWidth()
        height = header.sizeHint().height() + sum(self.table.rowHeight(r) for r in range(len(rows))) + frame
        self.table.setFixedHeight(min(height, 320))
        notes = list(report.notes)
        self.notes_label.setText("\n".join(f"• {n}" for n in notes))
        self.notes_label.setVisible(bool(notes))
        self.report_box.show()
        # Wide enough for every column (the last one stretches, so the header's length says nothing).
        columns = sum(max(self.table.sizeHintForColumn(c), header.sectionSizeHint(c)) for c in range(len(headers)))
        margins = self.width() - self.table.viewport().width() if self.table.isVisible() else 60
        hint = self.sizeHint()
        self.resize(max(self.width(), columns + frame + max(margins, 60)), max(self.height(), hint.height()))

    def _header_text(self, key: str) -> str:
        texts = {
            "variant": self.tr("variant"),
            "size": self.tr("size"),
            "params": self.tr("params"),
            "non-zero": self.tr("non-zero"),
            "val acc": self.tr("val acc"),
            "val loss": self.tr("val loss"),
            "ORT ms b1": self.tr("ORT ms b1"),
            "ORT ms b64": self.tr("ORT ms b64"),
            "PyTorch ms b1 / b64": self.tr("PyTorch ms b1 / b64"),
            "max abs diff": self.tr("max abs diff"),
        }
        return texts.get(key, key)

    def _header_tip(self, key: str) -> str:
        tips = {
            "size": self.tr("Size of the deployable file (ONNX if written)"),
            "non-zero": self.tr("Parameters that are not zero (magnitude pruning zeroes weights)"),
            "ORT ms b1": self.tr("onnxruntime latency on this CPU, batch of 1 (median, milliseconds)"),
            "ORT ms b64": self.tr("onnxruntime latency on this CPU, batch of 64 (median, milliseconds)"),
            "PyTorch ms b1 / b64": self.tr("PyTorch latency of the original model, batch 1 / 64 (milliseconds)"),
            "max abs diff": self.tr("Largest difference from the original PyTorch model's outputs"),
        }
        return tips.get(key, "")

    def open_output_folder(self) -> None:
        out = (self.report.out_dir if self.report is not None else None) or self.output_folder()
        if out is None:
            return
        if not QDesktopServices.openUrl(QUrl.fromLocalFile(str(Path(out).resolve()))):
            self.show_message(self.tr("Cannot open %1 here — open it in your file manager.").replace("%1", str(out)), "error")

    # ----- closing -------------------------------------------------------------------------

    def reject(self) -> None:
        """Close (Esc, the title bar, Close): while exporting, cancel first and close once it stopped."""
        if self.busy:
            self._close_when_done = True
            self.cancel_export()
            return
        super().reject()


def open_export_dialog(project: Project, parent: QWidget,
                       start_distillation: Callable[..., bool] | None = None) -> None:
    """The main window's File > Export… handler: a window-modal dialog, deleted when closed.
    `start_distillation` is the training panel's, which runs a distillation the dialog asks for."""
    dialog = ExportDialog(project, parent, start_distillation)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.open()


__all__ = ["CANCELLED", "DONE", "FAILED", "ExportDialog", "ExportWorker", "open_export_dialog"]
