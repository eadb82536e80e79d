"""The run settings: the dataset, every setting of the training engine, and the device.

Values come from the open project and go back into it as undoable edits (`SetRunSettingsCommand`):
the settings are the project's, saved with it and used by `workbench train` alike. Two choices
are run settings only, not saved: "fit the network to the data" and "all N GPUs" (a distributed
job needs a CUDA machine; the project keeps its single-device setting for everywhere else).

The device list shows every device with its name and free / total memory, refreshed on demand;
the estimated training memory is checked against the chosen device's free memory and a likely
overflow is shown with the largest batch size that fits.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QEvent, QSignalBlocker, Qt, QTimer, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from workbench.data.bundle import DatasetSpec
from workbench.errors import WorkbenchError
from workbench.gui import theme
from workbench.gui.session import EditorSession
from workbench.gui.training.commands import SetRunSettingsCommand
from workbench.gui.training.memory import MemoryCheck, check_memory
from workbench.training.devices import DeviceInfo
from workbench.training.settings import OPTIMIZERS, PRECISIONS, SCHEDULERS, TrainSettings

log = logging.getLogger(__name__)

MEMORY_CHECK_DELAY_MS = 300


def format_bytes(n: float | None) -> str:
    if n is None:
        return "?"
    for unit, size in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= size:
            return f"{n / size:.1f} {unit}"
    return f"{int(n)} B"


class SciSpinBox(QDoubleSpinBox):
    """A number from 1e-8 to 1e6 shown as typed (0.001, 3e-4); the arrows double or halve it."""

    def __init__(self, minimum: float, maximum: float, allow_zero: bool = False, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.allow_zero = allow_zero
        self.setDecimals(12)
        self.setRange(0.0 if allow_zero else minimum, maximum)
        self.setKeyboardTracking(False)
        self._floor = minimum

    def textFromValue(self, value: float) -> str:  # noqa: N802
        return f"{value:g}"

    def valueFromText(self, text: str) -> float:  # noqa: N802
        try:
            return float(text)
        except ValueError:
            return self.value()

    def validate(self, text: str, pos: int):  # noqa: ANN201
        from PySide6.QtGui import QValidator

        stripped = text.strip()
        if not stripped:
            return QValidator.State.Intermediate, text, pos
        try:
            value = float(stripped)
        except ValueError:
            partial = stripped.rstrip("eE+-.")
            return (QValidator.State.Intermediate if partial != stripped or stripped in "-+." else QValidator.State.Invalid), text, pos
        ok = self.minimum() <= value <= self.maximum()
        return (QValidator.State.Acceptable if ok else QValidator.State.Intermediate), text, pos

    def stepBy(self, steps: int) -> None:  # noqa: N802
        value = self.value()
        if value <= 0:
            value = self._floor * 10 if steps > 0 else 0.0
        else:
            value *= 2.0 ** steps
            if value < self._floor:
                value = 0.0 if self.allow_zero else self._floor
        self.setValue(min(max(value, self.minimum()), self.maximum()))


class RunSettingsForm(QWidget):
    """Every setting of a run; edits become undoable project edits."""

    settings_edited = Signal()  # project.training or project.dataset changed (edit, undo or redo)
    device_changed = Signal(str)  # the device id chosen ("auto", "cpu", "cuda:1", "all")

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session: EditorSession | None = None
        self.devices: list[DeviceInfo] = []
        self.nproc = 1  # > 1 when "all N GPUs" is chosen (a run setting, not saved)
        self.fit_data = QCheckBox()
        self._texts: list[tuple[Any, Callable[[], str]]] = []
        self._tips: list[tuple[QWidget, Callable[[], str]]] = []
        self._loading = False
        self.last_memory: MemoryCheck | None = None

        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)

        # ----- data
        self.source = QComboBox()
        self.path = QLineEdit()
        self.browse = QToolButton()
        self.browse.setText("…")
        self.options = QLineEdit()
        self.options.setPlaceholderText('{"seq_len": 64}')
        self.val_fraction = QDoubleSpinBox()
        self.val_fraction.setRange(0.0, 0.9)
        self.val_fraction.setSingleStep(0.05)
        self.val_fraction.setDecimals(2)
        self.split_seed = QSpinBox()
        self.split_seed.setRange(0, 2**31 - 1)
        path_row = QHBoxLayout()
        path_row.setContentsMargins(0, 0, 0, 0)
        path_row.addWidget(self.path, 1)
        path_row.addWidget(self.browse)
        path_box = QWidget()
        path_box.setLayout(path_row)
        self.data_group, data_form = self._group(lambda: self.tr("Data"))
        self._row(data_form, lambda: self.tr("Dataset"), self.source,
                  lambda: self.tr("A built-in dataset, or a reader for your own file or folder"))
        self._row(data_form, lambda: self.tr("File or folder"), path_box,
                  lambda: self.tr("Your data (for a reader); relative paths start at the project file's folder"))
        self._row(data_form, lambda: self.tr("Options"), self.options,
                  lambda: self.tr("Reader options as JSON, e.g. {\"seq_len\": 64} or {\"target\": \"price\"}"))
        self._row(data_form, lambda: self.tr("Validation share"), self.val_fraction,
                  lambda: self.tr("Share of the samples held out to measure the model (not trained on)"))
        self._row(data_form, lambda: self.tr("Split seed"), self.split_seed,
                  lambda: self.tr("Decides which samples are held out; change it to reshuffle the split"))
        self.preview_button = QPushButton()
        self.preview_button.clicked.connect(self.preview_data)
        self.data_dialog: QWidget | None = None  # the Data preview, made on first use and reused
        data_form.addRow(self.preview_button)
        self._texts.append((self.preview_button, lambda: self.tr("Preview data…")))
        self._tips.append((self.preview_button, lambda: self.tr(
            "See the data before training: sizes, classes, a sample, and problems such as class imbalance")))
        data_form.addRow(self.fit_data)
        self._tips.append((self.fit_data, lambda: self.tr(
            "Set the Input's shape, the last Linear's outputs and Embedding sizes from the data for this run "
            "(the drawn network is not changed)")))
        self._texts.append((self.fit_data, lambda: self.tr("Fit the network to the data")))

        # ----- optimizer
        self.optimizer = QComboBox()
        self.optimizer.addItems(list(OPTIMIZERS))
        self.lr = SciSpinBox(1e-8, 1e12)
        self.momentum = QDoubleSpinBox()
        self.momentum.setRange(0.0, 0.999)
        self.momentum.setDecimals(3)
        self.momentum.setSingleStep(0.05)
        self.weight_decay = SciSpinBox(1e-8, 10.0, allow_zero=True)
        self.l1 = SciSpinBox(1e-8, 10.0, allow_zero=True)
        self.opt_group, opt_form = self._group(lambda: self.tr("Optimizer"))
        self._row(opt_form, lambda: self.tr("Optimizer"), self.optimizer,
                  lambda: self.tr("adam: a good default · adamw: Adam with decoupled weight decay · "
                                  "sgd: with momentum · rmsprop"))
        self._row(opt_form, lambda: self.tr("Learning rate"), self.lr,
                  lambda: self.tr("Size of each update; the arrows double or halve it. Too high: the loss jumps "
                                  "or becomes NaN; too low: it falls slowly"))
        self._row(opt_form, lambda: self.tr("Momentum"), self.momentum,
                  lambda: self.tr("sgd and rmsprop only: how much of the previous update is kept"))
        self._row(opt_form, lambda: self.tr("Weight decay"), self.weight_decay,
                  lambda: self.tr("L2 penalty on the weights (decoupled for adamw); 0 = none"))
        self._row(opt_form, lambda: self.tr("L1 penalty"), self.l1,
                  lambda: self.tr("Weight of the sum of |w| added to the loss; pushes weights to zero"))

        # ----- schedule
        self.scheduler = QComboBox()
        self.scheduler.addItems(list(SCHEDULERS))
        self.step_size = QSpinBox()
        self.step_size.setRange(1, 100000)
        self.gamma = QDoubleSpinBox()
        self.gamma.setRange(0.01, 1.0)
        self.gamma.setDecimals(3)
        self.gamma.setSingleStep(0.05)
        self.warmup = QSpinBox()
        self.warmup.setRange(0, 10_000_000)
        self.sched_group, sched_form = self._group(lambda: self.tr("Learning-rate schedule"))
        self._row(sched_form, lambda: self.tr("Schedule"), self.scheduler,
                  lambda: self.tr("none: constant · step: multiply by the decay factor every few epochs · "
                                  "cosine: fall smoothly to zero · onecycle: rise, then fall"))
        self._row(sched_form, lambda: self.tr("Decay every (epochs)"), self.step_size,
                  lambda: self.tr("step schedule: epochs between decays"))
        self._row(sched_form, lambda: self.tr("Decay factor"), self.gamma,
                  lambda: self.tr("step schedule: the learning rate is multiplied by this at each decay"))
        self._row(sched_form, lambda: self.tr("Warmup steps"), self.warmup,
                  lambda: self.tr("Raise the learning rate linearly from 0 over this many steps; "
                                  "helps transformers start"))

        # ----- loop
        self.epochs = QSpinBox()
        self.epochs.setRange(1, 1_000_000)
        self.batch_size = QSpinBox()
        self.batch_size.setRange(1, 1 << 20)
        self.grad_clip = QDoubleSpinBox()
        self.grad_clip.setRange(0.0, 1e6)
        self.grad_clip.setDecimals(3)
        self.grad_clip.setSingleStep(0.5)
        self.grad_accum = QSpinBox()
        self.grad_accum.setRange(1, 4096)
        self.precision = QComboBox()
        self.precision.addItems(list(PRECISIONS))
        self.seed = QSpinBox()
        self.seed.setRange(0, 2**31 - 1)
        self.patience = QSpinBox()
        self.patience.setRange(0, 100000)
        self.workers = QSpinBox()
        self.workers.setRange(0, 64)
        self.loop_group, loop_form = self._group(lambda: self.tr("Training loop"))
        self._row(loop_form, lambda: self.tr("Epochs"), self.epochs,
                  lambda: self.tr("Passes over the training set (counting those before a resume)"))
        self._row(loop_form, lambda: self.tr("Batch size"), self.batch_size,
                  lambda: self.tr("Samples per step; larger is faster per sample but needs more memory"))
        self._row(loop_form, lambda: self.tr("Gradient clipping"), self.grad_clip,
                  lambda: self.tr("Largest allowed gradient norm; calms a loss that jumps. Off = no clipping"))
        self._row(loop_form, lambda: self.tr("Gradient accumulation"), self.grad_accum,
                  lambda: self.tr("Batches summed before each update: a larger effective batch in the same memory"))
        self._row(loop_form, lambda: self.tr("Precision"), self.precision,
                  lambda: self.tr("auto: bf16 or fp16 mixed precision on a GPU, fp32 on the CPU"))
        self._row(loop_form, lambda: self.tr("Seed"), self.seed,
                  lambda: self.tr("Seeds the initial weights and the shuffling: the same seed gives the same run"))
        self._row(loop_form, lambda: self.tr("Early stopping"), self.patience,
                  lambda: self.tr("Stop after this many epochs without a lower validation loss. Off = never"))
        self._row(loop_form, lambda: self.tr("Loader workers"), self.workers,
                  lambda: self.tr("Processes preparing batches; 0 loads them in the training thread"))

        # ----- device
        self.device = QComboBox()
        for combo in (self.device, self.source, self.optimizer, self.scheduler, self.precision):
            combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            combo.setMinimumContentsLength(8)
        self.refresh_devices_button = QToolButton()
        self.memory_label = QLabel()
        self.memory_label.setWordWrap(True)
        self.warning_label = QLabel()
        self.warning_label.setWordWrap(True)
        self.warning_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.warning_label.hide()
        device_row = QHBoxLayout()
        device_row.setContentsMargins(0, 0, 0, 0)
        device_row.addWidget(self.device, 1)
        device_row.addWidget(self.refresh_devices_button)
        device_box = QWidget()
        device_box.setLayout(device_row)
        self.device_group, device_form = self._group(lambda: self.tr("Device"))
        device_tip = lambda: self.tr("Where the run trains; free / total memory as of the last refresh")  # noqa: E731
        self._row(device_form, lambda: self.tr("Train on"), device_box, device_tip)
        self._tips.append((self.device, device_tip))
        device_form.addRow(self.memory_label)
        device_form.addRow(self.warning_label)

        for group in (self.device_group, self.data_group, self.opt_group, self.sched_group, self.loop_group):
            layout.addWidget(group)
        layout.addStretch(1)

        self._memory_timer = QTimer(self)
        self._memory_timer.setSingleShot(True)
        self._memory_timer.setInterval(MEMORY_CHECK_DELAY_MS)
        self._memory_timer.timeout.connect(self.update_memory_check)
        self._connect_edits()
        self.refresh_devices_button.clicked.connect(self.refresh_devices)
        self.browse.clicked.connect(self._browse)
        self.retranslate()
        self._fill_sources()
        # Listing the devices imports torch (~1.4 s): after the window's first paint, not before it.
        self.devices = [DeviceInfo("cpu", "CPU")]
        self._fill_devices()
        from workbench.gui.preload import after_first_paint

        after_first_paint(None, self.refresh_devices)
        self.setEnabled(False)

    # ----- construction helpers --------------------------------------------------------------

    def _group(self, title: Callable[[], str]) -> tuple[QGroupBox, QFormLayout]:
        group = QGroupBox(title())
        form = QFormLayout(group)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
        form.setContentsMargins(6, 6, 6, 6)
        self._texts.append((group, title))
        return group, form

    def _row(self, form: QFormLayout, label: Callable[[], str], widget: QWidget, tip: Callable[[], str]) -> None:
        caption = QLabel(label())
        form.addRow(caption, widget)
        self._texts.append((caption, label))
        self._tips.append((caption, tip))
        self._tips.append((widget, tip))

    def _connect_edits(self) -> None:
        combo = lambda name: (lambda _i: self._set_training(name, self._combo_value(name)))  # noqa: E731
        self.optimizer.currentIndexChanged.connect(combo("optimizer"))
        self.scheduler.currentIndexChanged.connect(combo("scheduler"))
        self.precision.currentIndexChanged.connect(combo("precision"))
        for name, box in (("lr", self.lr), ("momentum", self.momentum), ("weight_decay", self.weight_decay),
                          ("l1", self.l1), ("gamma", self.gamma)):
            box.setKeyboardTracking(False)
            box.valueChanged.connect(lambda v, n=name: self._set_training(n, float(v)))
        for name, box in (("step_size", self.step_size), ("warmup_steps", self.warmup), ("epochs", self.epochs),
                          ("batch_size", self.batch_size), ("grad_accum", self.grad_accum), ("seed", self.seed),
                          ("num_workers", self.workers)):
            box.setKeyboardTracking(False)
            box.valueChanged.connect(lambda v, n=name: self._set_training(n, int(v)))
        self.grad_clip.setKeyboardTracking(False)
        self.grad_clip.valueChanged.connect(lambda v: self._set_training("grad_clip", float(v) if v > 0 else None))
        self.patience.setKeyboardTracking(False)
        self.patience.valueChanged.connect(lambda v: self._set_training("early_stopping_patience", int(v) if v > 0 else None))
        self.device.currentIndexChanged.connect(self._device_chosen)
        self.source.currentIndexChanged.connect(lambda _i: self._set_dataset("source", self.source.currentData()))
        self.path.editingFinished.connect(lambda: self._set_dataset("path", self.path.text().strip() or None))
        self.options.editingFinished.connect(self._options_edited)
        self.val_fraction.setKeyboardTracking(False)
        self.val_fraction.valueChanged.connect(lambda v: self._set_dataset("val_fraction", float(v)))
        self.split_seed.setKeyboardTracking(False)
        self.split_seed.valueChanged.connect(lambda v: self._set_dataset("seed", int(v)))

    def _combo_value(self, name: str) -> str:
        return {"optimizer": self.optimizer, "scheduler": self.scheduler, "precision": self.precision}[name].currentText()

    def _fill_sources(self) -> None:
        from workbench.data import list_builtin_datasets, list_readers

        with QSignalBlocker(self.source):
            self.source.clear()
            for info in list_builtin_datasets():
                self.source.addItem(str(info["name"]), str(info["name"]))
                self.source.setItemData(self.source.count() - 1, str(info.get("description", "")), Qt.ItemDataRole.ToolTipRole)
            self.source.insertSeparator(self.source.count())
            for reader in list_readers():
                self.source.addItem(self.tr("%1 (your %2)").replace("%1", reader["name"]).replace(
                    "%2", self.tr("folder") if reader["path"] == "folder" else self.tr("file")), reader["name"])
                self.source.setItemData(self.source.count() - 1, reader["description"], Qt.ItemDataRole.ToolTipRole)

    # ----- texts -----------------------------------------------------------------------------

    def retranslate(self) -> None:
        for target, text in self._texts:
            if isinstance(target, QGroupBox):
                target.setTitle(text())
            else:
                target.setText(text())
        for widget, tip in self._tips:
            widget.setToolTip(tip())
        self.grad_clip.setSpecialValueText(self.tr("off"))
        self.patience.setSpecialValueText(self.tr("off"))
        self.refresh_devices_button.setText("↻")
        self.refresh_devices_button.setToolTip(self.tr("List the devices again with their free memory now"))
        self.browse.setToolTip(self.tr("Choose the file or folder"))
        if self.devices:
            self._fill_devices()
        self.update_memory_check()

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)

    # ----- the project -----------------------------------------------------------------------

    def set_session(self, session: EditorSession | None) -> None:
        if self.session is not None:
            try:
                self.session.undo_stack.indexChanged.disconnect(self._undo_moved)
                self.session.analysis_changed.disconnect(self._memory_timer.start)
            except (RuntimeError, TypeError):
                pass
        self.session = session
        self.nproc = 1
        self.fit_data.setChecked(False)
        if session is not None:
            session.undo_stack.indexChanged.connect(self._undo_moved)
            session.analysis_changed.connect(self._memory_timer.start)
        self.setEnabled(session is not None)
        self.load()

    def _undo_moved(self, _index: int) -> None:
        self.load()
        self.settings_edited.emit()

    def load(self) -> None:
        """Show the project's settings (after opening, undo and redo)."""
        if self.session is None:
            return
        s = self.session.project.training
        d = self.session.project.dataset
        self._loading = True
        try:
            blockers = [QSignalBlocker(w) for w in (
                self.optimizer, self.lr, self.momentum, self.weight_decay, self.l1, self.scheduler, self.step_size,
                self.gamma, self.warmup, self.epochs, self.batch_size, self.grad_clip, self.grad_accum,
                self.precision, self.seed, self.patience, self.workers, self.source, self.path, self.options,
                self.val_fraction, self.split_seed, self.device)]
            self.optimizer.setCurrentText(s.optimizer)
            self.lr.setValue(s.lr)
            self.momentum.setValue(s.momentum)
            self.weight_decay.setValue(s.weight_decay)
            self.l1.setValue(s.l1)
            self.scheduler.setCurrentText(s.scheduler)
            self.step_size.setValue(s.step_size)
            self.gamma.setValue(s.gamma)
            self.warmup.setValue(s.warmup_steps)
            self.epochs.setValue(s.epochs)
            self.batch_size.setValue(s.batch_size)
            self.grad_clip.setValue(s.grad_clip or 0.0)
            self.grad_accum.setValue(s.grad_accum)
            self.precision.setCurrentText(s.precision)
            self.seed.setValue(min(s.seed, self.seed.maximum()))
            self.patience.setValue(s.early_stopping_patience or 0)
            self.workers.setValue(s.num_workers)
            index = self.source.findData(d.source)
            if index < 0:
                self.source.addItem(d.source, d.source)
                index = self.source.count() - 1
            self.source.setCurrentIndex(index)
            self.path.setText(d.path or "")
            self.options.setText(json.dumps(d.options) if d.options else "")
            self.val_fraction.setValue(d.val_fraction)
            self.split_seed.setValue(min(d.seed, self.split_seed.maximum()))
            self._fill_devices()
            del blockers
        finally:
            self._loading = False
        self._update_enabled()
        self._memory_timer.start()

    def _update_enabled(self) -> None:
        s = self.session.project.training if self.session is not None else TrainSettings()
        self.momentum.setEnabled(s.optimizer in ("sgd", "rmsprop"))
        self.step_size.setEnabled(s.scheduler == "step")
        self.gamma.setEnabled(s.scheduler == "step")
        reader = self.source.currentData() not in {info for info in self._builtin_names()}
        self.path.setEnabled(reader)
        self.browse.setEnabled(reader)

    @staticmethod
    def _builtin_names() -> list[str]:
        from workbench.data import list_builtin_datasets

        return [str(info["name"]) for info in list_builtin_datasets()]

    def _push(self, field: str, label: str, training: TrainSettings | None = None, dataset: DatasetSpec | None = None) -> None:
        assert self.session is not None
        command = SetRunSettingsCommand(self.session.project, field, label, training=training, dataset=dataset)
        self.session.undo_stack.push(command)  # indexChanged -> load() and settings_edited

    def _field_label(self, field: str) -> str:
        """The setting's label, for the undo menu ("Undo Change Learning rate")."""
        labels = {
            "optimizer": self.tr("Optimizer"), "lr": self.tr("Learning rate"), "momentum": self.tr("Momentum"),
            "weight_decay": self.tr("Weight decay"), "l1": self.tr("L1 penalty"), "scheduler": self.tr("Schedule"),
            "step_size": self.tr("Decay every (epochs)"), "gamma": self.tr("Decay factor"),
            "warmup_steps": self.tr("Warmup steps"), "epochs": self.tr("Epochs"), "batch_size": self.tr("Batch size"),
            "grad_clip": self.tr("Gradient clipping"), "grad_accum": self.tr("Gradient accumulation"),
            "precision": self.tr("Precision"), "seed": self.tr("Seed"), "early_stopping_patience": self.tr("Early stopping"),
            "device": self.tr("Device"), "num_workers": self.tr("Loader workers"), "dataset.source": self.tr("Dataset"),
            "dataset.path": self.tr("File or folder"), "dataset.options": self.tr("Options"),
            "dataset.val_fraction": self.tr("Validation share"), "dataset.seed": self.tr("Split seed"),
        }
        return labels.get(field, field)

    def _set_training(self, field: str, value: Any) -> None:
        if self._loading or self.session is None:
            return
        current = self.session.project.training
        if getattr(current, field) == value:
            return
        try:
            new = current.replace(**{field: value})
        except WorkbenchError as exc:
            self.show_warning(str(exc))
            self.load()
            return
        self._push(field, self._field_label(field), training=new)

    def _set_dataset(self, field: str, value: Any) -> None:
        if self._loading or self.session is None or value is None and field == "source":
            return
        current = self.session.project.dataset
        if getattr(current, field) == value:
            return
        new = dataclasses.replace(current, **{field: value})
        if field == "source" and value in self._builtin_names():
            new = dataclasses.replace(new, path=None, options={})
        self._push(f"dataset.{field}", self._field_label(f"dataset.{field}"), dataset=new)

    def _options_edited(self) -> None:
        text = self.options.text().strip()
        try:
            value = json.loads(text) if text else {}
        except json.JSONDecodeError as exc:
            self.show_warning(self.tr("Options must be JSON, like {\"seq_len\": 64}: %1").replace("%1", str(exc)))
            return
        if not isinstance(value, dict):
            self.show_warning(self.tr("Options must be a JSON object of names and values, like {\"seq_len\": 64}"))
            return
        self._set_dataset("options", value)

    def _browse(self) -> None:
        if self.session is None:
            return
        reader = self.source.currentData()
        start = str(self.session.project.base_dir or "")
        if reader == "images":
            path = QFileDialog.getExistingDirectory(self, self.tr("Choose the image folder"), start)
        else:
            path, _ = QFileDialog.getOpenFileName(self, self.tr("Choose the data file"), start)
        if path:
            self.path.setText(path)
            self._set_dataset("path", path)

    def preview_data(self) -> None:
        """Open the Data preview for the project's dataset (relative paths from the project's folder)."""
        if self.session is None:
            return
        # A path typed but not yet confirmed (no Enter, focus still in the box) is what the user means.
        if self.path.isEnabled():
            self._set_dataset("path", self.path.text().strip() or None)
        from workbench.gui.data_dialog import DataPreviewDialog  # imports torch: on first use, on this thread

        if not isinstance(self.data_dialog, DataPreviewDialog):
            self.data_dialog = DataPreviewDialog(self)
            # Reload shows the project's dataset as it is then (the settings may change meanwhile).
            self.data_dialog.spec_provider = lambda: None if self.session is None else (
                self.session.project.dataset, self.session.project.base_dir)
        project = self.session.project
        self.data_dialog.show_spec(project.dataset, project.base_dir)
        self.data_dialog.show()
        self.data_dialog.raise_()
        self.data_dialog.activateWindow()

    # ----- devices ---------------------------------------------------------------------------

    def refresh_devices(self) -> None:
        """Read the device list again (free memory changes as other programs run)."""
        from workbench.training.devices import list_devices

        try:
            self.devices = list_devices()
        except Exception as exc:  # a broken driver must not take the form down
            log.warning("cannot list devices: %s", exc)
            self.devices = [DeviceInfo("cpu", "CPU")]
        self._fill_devices()
        self._memory_timer.start()

    def cuda_devices(self) -> list[DeviceInfo]:
        return [d for d in self.devices if d.id.startswith("cuda")]

    def _describe(self, info: DeviceInfo) -> str:
        if info.total_memory is None:
            return f"{info.id} — {info.name}"
        if info.free_memory is None:
            return self.tr("%1 — %2 · %3 total").replace("%1", info.id).replace("%2", info.name).replace(
                "%3", format_bytes(info.total_memory))
        return self.tr("%1 — %2 · %3 free of %4").replace("%1", info.id).replace("%2", info.name).replace(
            "%3", format_bytes(info.free_memory)).replace("%4", format_bytes(info.total_memory))

    def _fill_devices(self) -> None:
        wanted = self.session.project.training.device if self.session is not None else "auto"
        if self.nproc > 1:
            wanted = "all"
        with QSignalBlocker(self.device):
            self.device.clear()
            auto = self.auto_device()
            self.device.addItem(self.tr("Automatic (%1)").replace("%1", auto.id if auto else "cpu"), "auto")
            self.device.setItemData(0, self.tr("The best device here: a CUDA GPU, then Apple's GPU, then the CPU"),
                                    Qt.ItemDataRole.ToolTipRole)
            for info in self.devices:
                self.device.addItem(self._describe(info), info.id)
                self.device.setItemData(self.device.count() - 1, self._describe(info), Qt.ItemDataRole.ToolTipRole)
            gpus = self.cuda_devices()
            if len(gpus) > 1:
                self.device.addItem(self.tr("All %1 GPUs — one process each (distributed)").replace("%1", str(len(gpus))), "all")
            index = self.device.findData(wanted)
            if index < 0:
                # A project from another machine: show its device, marked, so that Train can refuse it.
                self.device.addItem(self.tr("%1 — not available on this machine").replace("%1", wanted), wanted)
                index = self.device.count() - 1
                self.device.setItemData(index, QColor(theme.colors().error), Qt.ItemDataRole.ForegroundRole)
            self.device.setCurrentIndex(index)

    def auto_device(self) -> DeviceInfo | None:
        """The device "auto" resolves to here."""
        order = [d for d in self.devices if d.id.startswith("cuda")] or [d for d in self.devices if d.id == "mps"] \
            or [d for d in self.devices if d.id == "cpu"]
        return order[0] if order else None

    def chosen_device(self) -> DeviceInfo | None:
        """The DeviceInfo of the chosen device (the first GPU for "all"); None if not present."""
        wanted = self.device.currentData() or "auto"
        if wanted == "auto":
            return self.auto_device()
        if wanted == "all":
            gpus = self.cuda_devices()
            return gpus[0] if gpus else None
        if wanted == "cuda":
            gpus = self.cuda_devices()
            return gpus[0] if gpus else None
        return next((d for d in self.devices if d.id == wanted), None)

    def _device_chosen(self, _index: int) -> None:
        wanted = self.device.currentData() or "auto"
        if wanted == "all":
            self.nproc = len(self.cuda_devices())
            # Each rank trains on cuda:LOCAL_RANK; the project keeps "cuda" (any GPU) for one process.
            self._set_training("device", "cuda")
        else:
            self.nproc = 1
            self._set_training("device", wanted)
        self.device_changed.emit(wanted)
        self._memory_timer.start()

    # ----- memory and warnings ---------------------------------------------------------------

    def update_memory_check(self) -> None:
        """Compare the estimated training memory with the chosen device's free memory now."""
        self._memory_timer.stop()
        if self.session is None or not self.session.analysis.ok:
            self.memory_label.setText("")
            self.last_memory = None
            return
        s = self.session.project.training
        check = check_memory(self.session.graph, s.batch_size, s.optimizer, self.chosen_device())
        self.last_memory = check
        if check is None:
            self.memory_label.setText("")
            return
        device = self.chosen_device()
        text = self.tr("Estimated training memory: %1 at batch size %2").replace("%1", format_bytes(check.estimate)).replace(
            "%2", str(check.batch_size))
        if check.free is not None and device is not None:
            text += " · " + self.tr("%1 free on %2").replace("%1", format_bytes(check.free)).replace("%2", device.id)
        self.memory_label.setText(text)
        if not check.fits:
            self.show_warning(self.memory_warning(check), memory=True)
        elif self.warning_label.property("memory"):
            self.clear_warning()

    def memory_warning(self, check: MemoryCheck) -> str:
        device = self.chosen_device()
        where = device.id if device is not None else "?"
        text = self.tr("This run likely needs more memory (%1) than %2 has free (%3).").replace(
            "%1", format_bytes(check.estimate)).replace("%2", where).replace("%3", format_bytes(check.free))
        if check.batch_that_fits:
            text += " " + self.tr("A batch size of %1 would fit.").replace("%1", str(check.batch_that_fits))
        else:
            text += " " + self.tr("Even a batch size of 1 may not fit: make the model smaller.")
        return text

    def show_warning(self, text: str, memory: bool = False) -> None:
        """A warning under the device (a memory overflow, or an edit that was refused)."""
        self.warning_label.setText(text)
        self.warning_label.setStyleSheet(f"color: {theme.colors().warning.darker(130).name()};")
        self.warning_label.setProperty("memory", memory)
        self.warning_label.show()

    def clear_warning(self) -> None:
        self.warning_label.setProperty("memory", False)
        self.warning_label.hide()
