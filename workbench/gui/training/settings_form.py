"""The run settings: the dataset, every setting of the training engine, and the device.

The form is generated from the settings' declarations (`TrainSettings` and `DatasetSpec` fields,
see workbench/settings_spec.py): one editor per setting, with the declared range, choices,
label, help and group, enabled only where the setting applies (momentum for sgd and rmsprop, the
file for a reader). Settings flow one way: an edit becomes an undoable `SetRunSettingsCommand`
on the project, the project emits `SettingsChanged`, and the form shows what changed; editors
report only the user's own edits, so showing a value never writes it back.

Two choices are run settings only, not saved: "fit the network to the data" and "all N GPUs" (a
distributed job needs a CUDA machine; the project keeps its single-device setting for
everywhere else). The device list shows every device with its name and free / total memory,
refreshed on demand; the estimated training memory is checked against the chosen device's free
memory and a likely overflow is shown with the largest batch size that fits.

For source "images", the Data group also shows the image options as a form (size, channels,
unreadable files, the transform list: `transforms_editor`), under the raw JSON options, which
stay editable; both follow the same `SettingsChanged` event.
"""

from __future__ import annotations

import logging
from typing import Any

from PySide6.QtCore import QEvent, Qt, QTimer, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from workbench.errors import WorkbenchError
from workbench.gui import theme
from workbench.gui.session import EditorSession
from workbench.gui.training.commands import SetRunSettingsCommand
from workbench.gui.training.memory import MemoryCheck, check_memory
from workbench.gui.training.setting_editors import ChoiceEditor, SettingEditor, declared_text, make_editor
from workbench.gui.training.transforms_editor import ImageOptionsEditor
from workbench.project import SETTINGS_RECORDS, SettingsChanged
from workbench.settings_spec import SettingSpec, declarations
from workbench.training.devices import DeviceInfo

log = logging.getLogger(__name__)

MEMORY_CHECK_DELAY_MS = 300
# Settings whose editor the form makes itself (the lists come from the machine and the data
# registry, not from the declaration); their label, help and enabled state are still declared.
DEVICE = "training.device"
SOURCE = "dataset.source"
PATH = "dataset.path"  # a line edit beside a "…" button
OPTIONS = "dataset.options"  # raw JSON; for images, the image options' rows follow it
IMAGES = "images"  # the reader whose options have a form of their own
FORM_ORDER = ("dataset", "training")  # records in the order their groups appear (Device goes first)


def format_bytes(n: float | None) -> str:
    if n is None:
        return "?"
    for unit, size in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= size:
            return f"{n / size:.1f} {unit}"
    return f"{int(n)} B"


def run_settings() -> list[tuple[str, SettingSpec]]:
    """Every declared run setting with its path ("dataset.source", "training.lr"), in form order."""
    return [(f"{key}.{spec.name}", spec) for key in FORM_ORDER for spec in declarations(SETTINGS_RECORDS[key])]


def _row_of(editor: QWidget, button: QToolButton) -> QWidget:
    """An editor with a button at its right (the file with "…", the device with "↻")."""
    box = QWidget()
    row = QHBoxLayout(box)
    row.setContentsMargins(0, 0, 0, 0)
    row.addWidget(editor, 1)
    row.addWidget(button)
    return box


class _DeviceEditor(SettingEditor):
    """The device list: every device with its memory, "all N GPUs", a project's unknown device marked."""

    def __init__(self, form: RunSettingsForm, spec: SettingSpec) -> None:
        super().__init__(spec, form.device)
        self.form = form

    def show(self, value: Any) -> None:
        self.form._fill_devices(value)

    def value(self) -> Any:
        wanted = self.form.device.currentData() or "auto"
        # Each rank trains on cuda:LOCAL_RANK; the project keeps "cuda" (any GPU) for one process.
        return "cuda" if wanted == "all" else wanted

    def on_edited(self, callback: Any) -> None:
        self.form.device.activated.connect(lambda _index: callback())


class RunSettingsForm(QWidget):
    """Every setting of a run, generated from the declarations; edits become undoable project edits."""

    settings_edited = Signal()  # project.training or project.dataset changed (edit, undo or redo)
    device_changed = Signal(str)  # the device id chosen ("auto", "cpu", "cuda:1", "all")

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session: EditorSession | None = None
        self.devices: list[DeviceInfo] = []
        self.nproc = 1  # > 1 when "all N GPUs" is chosen (a run setting, not saved)
        self.last_memory: MemoryCheck | None = None
        self.editors: dict[str, SettingEditor] = {}
        self.captions: dict[str, QLabel] = {}
        self.groups: dict[str, QGroupBox] = {}
        self._forms: dict[str, QFormLayout] = {}
        self._builtin_tasks: dict[str, str] = {}  # built-in dataset -> its task

        # ----- the widgets the declarations do not make
        self.device = QComboBox()
        self.refresh_devices_button = QToolButton()
        self.memory_label = QLabel()
        self.memory_label.setWordWrap(True)
        self.warning_label = QLabel()
        self.warning_label.setWordWrap(True)
        self.warning_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.warning_label.hide()
        self.source = QComboBox()
        self.browse = QToolButton()
        self.browse.setText("…")
        self.preview_button = QPushButton()
        self.preview_button.clicked.connect(self.preview_data)
        self.data_dialog: QWidget | None = None  # the Data preview, made on first use and reused
        self.fit_data = QCheckBox()

        # ----- one row per declared setting, in its group
        for path, spec in run_settings():
            if path == DEVICE:
                editor: SettingEditor = _DeviceEditor(self, spec)
                editor.on_edited(self._device_chosen)
                row = _row_of(self.device, self.refresh_devices_button)
            else:
                editor = ChoiceEditor(spec, self.source) if path == SOURCE else make_editor(spec)
                editor.on_edited(lambda p=path: self._edited(p))
                row = _row_of(editor.widget, self.browse) if path == PATH else editor.widget
            if isinstance(editor.widget, QComboBox):
                editor.widget.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
                editor.widget.setMinimumContentsLength(8)
            caption = QLabel()
            self._form(spec.group).addRow(caption, row)
            self.editors[path], self.captions[path] = editor, caption
        device_form = self._forms[self.editors[DEVICE].spec.group]
        device_form.addRow(self.memory_label)
        device_form.addRow(self.warning_label)
        data_form = self._forms[self.editors[SOURCE].spec.group]
        self.images = ImageOptionsEditor(self)
        self.images.options_edited.connect(self._images_edited)
        at = data_form.getWidgetPosition(self.editors[OPTIONS].widget)[0] + 1
        for offset, (caption, field) in enumerate(self.images.rows()):
            if caption is None:
                data_form.insertRow(at + offset, field)
            else:
                data_form.insertRow(at + offset, caption, field)
        self._show_images(None)
        data_form.addRow(self.preview_button)
        data_form.addRow(self.fit_data)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        device_group = self.groups[self.editors[DEVICE].spec.group]
        layout.addWidget(device_group)  # first: the memory estimate and its warnings
        for group in self.groups.values():
            if group is not device_group:
                layout.addWidget(group)
        layout.addStretch(1)

        self._memory_timer = QTimer(self)
        self._memory_timer.setSingleShot(True)
        self._memory_timer.setInterval(MEMORY_CHECK_DELAY_MS)
        self._memory_timer.timeout.connect(self.update_memory_check)
        self.refresh_devices_button.clicked.connect(self.refresh_devices)
        self.browse.clicked.connect(self._browse)
        self._fill_sources()
        # Listing the devices imports torch (~1.4 s): after the window's first paint, not before it.
        self.devices = [DeviceInfo("cpu", "CPU")]
        self.retranslate()
        from workbench.gui.preload import after_first_paint

        after_first_paint(None, self.refresh_devices)
        self.setEnabled(False)

    # ----- construction helpers --------------------------------------------------------------

    def _form(self, title: str) -> QFormLayout:
        """The form of the group titled `title` (declared, untranslated), made on first use."""
        if title not in self._forms:
            group = QGroupBox()
            form = QFormLayout(group)
            form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
            form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
            form.setContentsMargins(6, 6, 6, 6)
            self.groups[title], self._forms[title] = group, form
        return self._forms[title]

    def _fill_sources(self) -> None:
        from workbench.data import list_builtin_datasets, list_readers

        self.source.clear()
        for info in list_builtin_datasets():
            self._builtin_tasks[str(info["name"])] = str(info.get("task", ""))
            self.source.addItem(str(info["name"]), str(info["name"]))
            self.source.setItemData(self.source.count() - 1, str(info.get("description", "")), Qt.ItemDataRole.ToolTipRole)
        self.source.insertSeparator(self.source.count())
        for reader in list_readers():
            self.source.addItem(self.tr("%1 (your %2)").replace("%1", reader["name"]).replace(
                "%2", self.tr("folder") if reader["path"] == "folder" else self.tr("file")), reader["name"])
            self.source.setItemData(self.source.count() - 1, reader["description"], Qt.ItemDataRole.ToolTipRole)

    def editor(self, path: str) -> QWidget:
        """The widget that edits the setting at `path` ("training.lr"; tests drive it)."""
        return self.editors[path].widget

    def edit(self, path: str, value: Any) -> None:
        """Enter `value` in a setting's editor as the user would (an undoable edit; scripts use it)."""
        self.editors[path].show(value)
        self._edited(path)

    # ----- texts -----------------------------------------------------------------------------

    def retranslate(self) -> None:
        for title, group in self.groups.items():
            group.setTitle(declared_text(title))
        for path, editor in self.editors.items():
            caption, tip = declared_text(editor.spec.label), declared_text(editor.spec.doc)
            self.captions[path].setText(caption)
            self.captions[path].setToolTip(tip)
            editor.widget.setToolTip(tip)
            editor.retranslate()
        self.preview_button.setText(self.tr("Preview data…"))
        self.preview_button.setToolTip(self.tr(
            "See the data before training: sizes, classes, a sample, and problems such as class imbalance"))
        self.fit_data.setText(self.tr("Fit the network to the data"))
        self.fit_data.setToolTip(self.tr(
            "Set the Input's shape, the last Linear's outputs and Embedding sizes from the data for this run "
            "(the drawn network is not changed)"))
        self.refresh_devices_button.setText("↻")
        self.refresh_devices_button.setToolTip(self.tr("List the devices again with their free memory now"))
        self.browse.setToolTip(self.tr("Choose the file or folder"))
        self.images.retranslate()
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
                self.session.settings_changed.disconnect(self._follow)
                self.session.analysis_changed.disconnect(self._memory_timer.start)
            except (RuntimeError, TypeError):
                pass
        self.session = session
        self.nproc = 1
        self.fit_data.setChecked(False)
        if session is not None:
            session.settings_changed.connect(self._follow)
            session.analysis_changed.connect(self._memory_timer.start)
        self.setEnabled(session is not None)
        self._show(self.editors)

    def _follow(self, event: SettingsChanged) -> None:
        """The project's settings changed (an edit here, undo, redo): show the new values."""
        self._show(event.paths)
        self.settings_edited.emit()

    def _value(self, path: str) -> Any:
        assert self.session is not None
        key, _, name = path.partition(".")
        return getattr(getattr(self.session.project, key), name)

    def _show(self, paths: Any) -> None:
        if self.session is None:
            return
        for path in paths:
            self.editors[path].show(self._value(path))
        if SOURCE in paths or OPTIONS in paths:
            dataset = self.session.project.dataset
            self._show_images(dataset.options if dataset.source == IMAGES else None)
        self._update_enabled()
        self._memory_timer.start()

    def _update_enabled(self) -> None:
        if self.session is None:
            return
        project = self.session.project
        task = self._builtin_tasks.get(project.dataset.source) or None  # a reader's task: known once loaded
        for path, editor in self.editors.items():
            key = path.partition(".")[0]
            editor.widget.setEnabled(editor.spec.applies(getattr(project, key), task))
        self.browse.setEnabled(self.editors[PATH].widget.isEnabled())

    def _edited(self, path: str) -> None:
        """The user changed a setting's editor: make it an undoable edit of the project."""
        if self.session is None:
            return
        try:
            value = self.editors[path].value()
        except ValueError as exc:  # text that is no value (options that are not JSON)
            self.show_warning(str(exc))
            return
        if value == self._value(path):
            return
        key, _, name = path.partition(".")
        record = getattr(self.session.project, key)
        try:
            new = record.replace(**{name: value})
            if path == SOURCE and value in self._builtin_tasks:  # a built-in set reads no file, takes no reader options
                new = new.replace(path=None, options={})
        except WorkbenchError as exc:
            self.show_warning(str(exc))
            return
        if not self.warning_label.property("memory"):
            self.clear_warning()
        self.session.undo_stack.push(SetRunSettingsCommand(self.session.project, path, **{key: new}))

    def _show_images(self, options: dict[str, Any] | None) -> None:
        """Show the image options' rows with `options`, or hide them (None: another source)."""
        form = self._forms[self.editors[SOURCE].spec.group]
        for _caption, field in self.images.rows():
            form.setRowVisible(field, options is not None)
        if options is not None:
            self.images.show(options)  # after the rows: it hides the ones with nothing to say

    def _images_edited(self, options: dict[str, Any], text: str, merge_key: str | None) -> None:
        """The image options' form made an edit (already checked by the reader's rules)."""
        if self.session is None:
            return
        try:
            new = self.session.project.dataset.replace(options=options)
        except WorkbenchError as exc:
            self.show_warning(str(exc))
            return
        self.session.undo_stack.push(SetRunSettingsCommand(self.session.project, OPTIONS, dataset=new, text=text,
                                                           merge_key=merge_key))

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
            self.editors[PATH].show(path)
            self._edited(PATH)

    def preview_data(self) -> None:
        """Open the Data preview for the project's dataset (relative paths from the project's folder)."""
        if self.session is None:
            return
        # A path typed but not yet confirmed (no Enter, focus still in the box) is what the user means.
        if self.editors[PATH].widget.isEnabled():
            self._edited(PATH)
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

    def _fill_devices(self, wanted: str | None = None) -> None:
        """List the devices and select `wanted` (default: the project's); the combo reports only
        the user's picks, so refilling it is no edit."""
        if wanted is None:
            wanted = self.session.project.training.device if self.session is not None else "auto"
        gpus = self.cuda_devices()
        if self.nproc > 1 and (wanted != "cuda" or len(gpus) < 2):
            self.nproc = 1  # "all GPUs" holds while the project says "cuda" (undo may change that)
        if self.nproc > 1:
            wanted = "all"
        self.device.clear()
        auto = self.auto_device()
        self.device.addItem(self.tr("Automatic (%1)").replace("%1", auto.id if auto else "cpu"), "auto")
        self.device.setItemData(0, self.tr("The best device here: a CUDA GPU, then Apple's GPU, then the CPU"),
                                Qt.ItemDataRole.ToolTipRole)
        for info in self.devices:
            self.device.addItem(self._describe(info), info.id)
            self.device.setItemData(self.device.count() - 1, self._describe(info), Qt.ItemDataRole.ToolTipRole)
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

    def _device_chosen(self) -> None:
        wanted = self.device.currentData() or "auto"
        self.nproc = len(self.cuda_devices()) if wanted == "all" else 1
        self._edited(DEVICE)
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
