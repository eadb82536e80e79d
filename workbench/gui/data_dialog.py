"""The Data preview dialog (Run settings > Preview data…): the data as a run will see it, before training.

It shows the sizes of the train and validation parts, the classes with their counts in both, the
problems worth fixing first (imbalance, tiny classes, constant columns, a small split) and a
sample: the first rows of a table, a grid of images per class, or an excerpt of a text. All of
it comes from `workbench.data.preview.preview_dataset`, run by a worker in a QThread so that a
large image folder does not freeze the window; a `DataError` is shown in the dialog, in the
theme's error colour, with the file and entry it names. The project is never changed here.

`workbench.data.preview` (and with it torch and every reader) is imported when this module is,
on the GUI thread: importing torch for the first time inside a QThread deadlocks against
PySide6's import hook.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PySide6.QtCore import QCoreApplication, QModelIndex, QObject, QPersistentModelIndex, QRect, Qt, QThread, Signal, Slot
from PySide6.QtGui import QBrush, QColor, QFont, QFontDatabase, QImage, QPainter, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QGridLayout,
    QGroupBox,
    QHeaderView,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QScrollArea,
    QSplitter,
    QStackedWidget,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

# The readers `load_dataset` imports lazily, imported here on the GUI thread (see the module doc).
import workbench.data.arrays  # noqa: F401
import workbench.data.idx  # noqa: F401
import workbench.data.images  # noqa: F401
from workbench.data.bundle import DatasetSpec
from workbench.data.preview import TINY_CLASS, DataPreview, SampleImage, preview_dataset
from workbench.data.progress import listening
from workbench.errors import WorkbenchError
from workbench.gui import theme
from workbench.gui.preload import live_threads, worker_thread

log = logging.getLogger(__name__)

DONE, FAILED = "done", "failed"  # outcomes, as `DataPreviewDialog.preview_finished` reports them
IMAGE_CELL = 48  # pixels of one sample image on screen (8x8 digits x6, 28x28 MNIST x2)
BAR_ROLE = Qt.ItemDataRole.UserRole + 1  # a class's share of the largest class, 0..1

# Threads of previews still loading, kept here until their own `finished`: a dialog closed (and
# destroyed) mid-load must not destroy a running QThread, which aborts the process.
_RUNNING: set[tuple[QThread, QObject]] = set()
_quit_connected = False  # wait_for_previews is connected to the app's aboutToQuit


PREVIEW_THREAD = "data_preview"


def live_preview_threads() -> list[QThread]:
    """Preview threads that have not ended yet (tests check that none is left behind)."""
    return live_threads(PREVIEW_THREAD)


def wait_for_previews() -> None:
    """Let running loads end (connected to the app's aboutToQuit): a load cannot be interrupted,
    and a QThread destroyed while it runs aborts the process."""
    for thread in live_preview_threads():
        thread.wait()


def _connect_quit_once() -> None:
    global _quit_connected
    app = QCoreApplication.instance()
    if app is not None and not _quit_connected:
        app.aboutToQuit.connect(wait_for_previews)
        _quit_connected = True


class PreviewWorker(QObject):
    """Runs `preview_dataset` in the thread it is moved to; emits `succeeded` or `failed`, then `ended`."""

    succeeded = Signal(object)  # DataPreview
    failed = Signal(str)  # a message for the user
    progressed = Signal(str)  # a reader's progress: "checking images: 1,200 / 50,000 (2 %), about 40 s left"
    ended = Signal()

    def __init__(self, spec: DatasetSpec, base_dir: Path | None) -> None:
        super().__init__()
        self.spec, self.base_dir = spec, base_dir

    @Slot()
    def run(self) -> None:
        try:
            # Readers report at most four times a second (data.progress.Tracker): a queued signal each.
            with listening(lambda report: self.progressed.emit(report.text())):
                preview = preview_dataset(self.spec, self.base_dir)
        except WorkbenchError as exc:
            self.failed.emit(str(exc))
        except Exception as exc:  # a bug: keep the traceback in the log, keep the app running
            log.exception("preview of %s failed", self.spec)
            self.failed.emit(f"the preview failed unexpectedly ({type(exc).__name__}: {exc}) — this is a bug in "
                             "Workbench; the log has the details")
        else:
            self.succeeded.emit(preview)
        finally:
            self.ended.emit()


class BarDelegate(QStyledItemDelegate):
    """A horizontal bar for a class's size relative to the largest class."""

    def paint(self, painter: QPainter, option: QStyleOptionViewItem,
              index: QModelIndex | QPersistentModelIndex) -> None:
        super().paint(painter, option, index)
        share = index.data(BAR_ROLE)
        if share is None:
            return
        rect: QRect = option.rect.adjusted(4, 5, -4, -5)  # type: ignore[attr-defined]
        rect.setWidth(max(1, round(rect.width() * float(share))))
        painter.save()
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(theme.colors().accent)
        painter.drawRoundedRect(rect, 2, 2)
        painter.restore()


def pixmap_from_pixels(pixels: np.ndarray, size: int = IMAGE_CELL) -> QPixmap:
    """A (H, W) gray or (H, W, 3) RGB uint8 image, enlarged by whole steps without smoothing (an 8x8
    digit stays crisp) to about `size`, or shrunk smoothly to fit it."""
    data = np.ascontiguousarray(pixels, dtype=np.uint8)
    h, w = data.shape[:2]
    fmt = QImage.Format.Format_Grayscale8 if data.ndim == 2 else QImage.Format.Format_RGB888
    image = QImage(data.tobytes(), w, h, data.strides[0], fmt).copy()  # copy: own the bytes
    longest = max(h, w)
    if longest <= size * 1.25:
        factor = max(1, round(size / longest))
        image = image.scaled(w * factor, h * factor, Qt.AspectRatioMode.IgnoreAspectRatio,
                             Qt.TransformationMode.FastTransformation)
    else:
        image = image.scaled(size, size, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation)
    return QPixmap.fromImage(image)


class DataPreviewDialog(QDialog):
    """Sizes, classes, warnings and a sample of one dataset; `show_spec` (re)loads it."""

    preview_finished = Signal(str)  # DONE or FAILED; the loading thread has ended by then

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Data preview"))
        self.setObjectName("data_preview_dialog")
        self.spec: DatasetSpec | None = None
        self.base_dir: Path | None = None
        # Where Reload reads the spec again (the project's dataset now); None: reload the same spec.
        self.spec_provider: Callable[[], tuple[DatasetSpec, Path | None] | None] | None = None
        self.preview: DataPreview | None = None
        self.error: str | None = None
        self.image_labels: list[QLabel] = []
        self._worker: PreviewWorker | None = None
        self._thread: QThread | None = None
        self._outcome: tuple[str, object] = (FAILED, "")
        self._pending = False  # another spec arrived while loading: load again when done
        self._build()
        self.resize(1100, 720)
        _connect_quit_once()

    # ----- construction --------------------------------------------------------------------

    def _build(self) -> None:
        self.summary = QLabel()
        bold = QFont(self.summary.font())
        bold.setBold(True)
        self.summary.setFont(bold)
        self.details = QLabel()
        self.message = QLabel()
        for label in (self.summary, self.details, self.message):
            label.setWordWrap(True)
            label.setTextFormat(Qt.TextFormat.PlainText)
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.details.setStyleSheet(f"color: {theme.colors().text_dim.name()};")

        self.class_box = QGroupBox(self.tr("Classes"))
        self.class_table = QTableWidget(0, 5)
        self.class_table.setHorizontalHeaderLabels(
            [self.tr("Class"), self.tr("Train"), self.tr("Validation"), self.tr("Share"), ""])
        self.class_table.setItemDelegateForColumn(4, BarDelegate(self.class_table))
        self._read_only(self.class_table)
        header = self.class_table.horizontalHeader()
        for column in range(4):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(4, QHeaderView.ResizeMode.Stretch)
        QVBoxLayout(self.class_box).addWidget(self.class_table)

        self.warning_box = QGroupBox(self.tr("Warnings"))
        self.warning_list = QListWidget()
        self.warning_list.setWordWrap(True)
        self.warning_list.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.warning_list.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.warning_list.setSpacing(4)  # wrapped sentences would run into each other
        QVBoxLayout(self.warning_box).addWidget(self.warning_list)

        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(self.class_box, 3)
        left_layout.addWidget(self.warning_box, 2)

        self.sample_box = QGroupBox()
        self.sample_stack = QStackedWidget()
        self.row_table = QTableWidget()
        self._read_only(self.row_table)
        self.image_area = QScrollArea()
        self.image_area.setWidgetResizable(True)
        self.text_view = QPlainTextEdit()
        self.text_view.setReadOnly(True)
        self.text_view.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        for page in (self.row_table, self.image_area, self.text_view):
            self.sample_stack.addWidget(page)
        QVBoxLayout(self.sample_box).addWidget(self.sample_stack)

        self.content = QSplitter(Qt.Orientation.Horizontal)
        self.content.setChildrenCollapsible(False)
        self.content.addWidget(left)
        self.content.addWidget(self.sample_box)
        self.content.setStretchFactor(0, 2)
        self.content.setStretchFactor(1, 3)

        # The error page replaces the content: the reader's message (file, entry, fix) and what to do next.
        self.error_page = QWidget()
        self.error_label = QLabel()
        self.error_label.setWordWrap(True)
        self.error_label.setTextFormat(Qt.TextFormat.PlainText)
        self.error_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.error_hint = QLabel(self.tr("Fix the data, then press Reload. The project's settings are unchanged."))
        self.error_hint.setWordWrap(True)
        self.error_hint.setStyleSheet(f"color: {theme.colors().text_dim.name()};")
        error_layout = QVBoxLayout(self.error_page)
        error_layout.setContentsMargins(0, 12, 0, 0)
        error_layout.addWidget(self.error_label)
        error_layout.addWidget(self.error_hint)
        error_layout.addStretch(1)
        self.body = QStackedWidget()
        self.body.addWidget(self.content)
        self.body.addWidget(self.error_page)

        self.buttons = QDialogButtonBox()
        self.reload_button = self.buttons.addButton(self.tr("Reload"), QDialogButtonBox.ButtonRole.ActionRole)
        self.reload_button.setToolTip(self.tr("Read the data again (after fixing the file)"))
        self.close_button = self.buttons.addButton(self.tr("Close"), QDialogButtonBox.ButtonRole.RejectRole)
        self.reload_button.clicked.connect(self.reload)
        self.close_button.clicked.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(self.details)
        layout.addWidget(self.message)
        layout.addWidget(self.body, 1)
        layout.addWidget(self.buttons)

    @staticmethod
    def _read_only(table: QTableWidget) -> None:
        table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        table.setAlternatingRowColors(True)
        table.verticalHeader().setDefaultSectionSize(22)

    # ----- loading ---------------------------------------------------------------------------

    @property
    def busy(self) -> bool:
        return self._thread is not None

    @property
    def loader_thread(self) -> QThread | None:
        """The thread of the load under way (None when none is)."""
        return self._thread

    def show_spec(self, spec: DatasetSpec, base_dir: Path | None) -> None:
        """Preview `spec` (relative paths from `base_dir`, the project file's folder)."""
        self.spec, self.base_dir = spec, base_dir
        if self.busy:
            self._pending = True  # the load under way is for an older spec: redo it when it ends
            return
        self._start()

    def reload(self) -> None:
        """Read the data again: the user may have fixed the file, or changed the settings, meanwhile."""
        current = self.spec_provider() if self.spec_provider is not None else None
        if current is not None:
            self.show_spec(*current)
        elif self.spec is not None:
            self.show_spec(self.spec, self.base_dir)

    def _start(self) -> None:
        assert self.spec is not None
        self._pending = False
        self.reload_button.setEnabled(False)
        self._show_message(self.tr("Loading %1…").replace("%1", self._source_text(self.spec)), "info")
        worker = PreviewWorker(self.spec, self.base_dir)
        # No parent: _RUNNING keeps the thread until its own `finished`.
        thread = worker_thread(worker, worker.run, PREVIEW_THREAD, quit_on=worker.ended)
        worker.succeeded.connect(self._on_succeeded)
        worker.failed.connect(self._on_failed)
        worker.progressed.connect(self._on_progressed)
        thread.finished.connect(self._on_thread_finished)
        self._worker, self._thread = worker, thread
        self._outcome = (FAILED, self.tr("The preview stopped without a result."))
        _RUNNING.add((thread, worker))
        thread.start()

    @Slot(object)
    def _on_succeeded(self, preview: DataPreview) -> None:
        self._outcome = (DONE, preview)

    @Slot(str)
    def _on_progressed(self, text: str) -> None:
        self._show_message(self.tr("Loading %1…").replace("%1", self._source_text(self.spec)) + "  " + text, "info")

    @Slot(str)
    def _on_failed(self, message: str) -> None:
        self._outcome = (FAILED, message)

    @Slot()
    def _on_thread_finished(self) -> None:
        thread, worker = self._thread, self._worker
        if thread is None or worker is None:
            return
        thread.wait()
        _RUNNING.discard((thread, worker))
        worker.deleteLater()
        thread.deleteLater()
        self._worker = self._thread = None
        self.reload_button.setEnabled(True)
        if self._pending:
            self._start()  # the spec changed meanwhile: this result is already out of date
            return
        outcome, value = self._outcome
        if outcome == DONE and isinstance(value, DataPreview):
            self.show_preview(value)
        else:
            self.show_error(str(value))
        self.preview_finished.emit(outcome)

    # ----- showing ---------------------------------------------------------------------------

    def _show_message(self, text: str, kind: str) -> None:
        """One message line: "error" (the theme's error colour), "info" (dim) or "" (hidden)."""
        self.message.setText(text)
        self.message.setVisible(bool(text))
        color = theme.colors().error if kind == "error" else theme.colors().text_dim
        self.message.setStyleSheet(f"color: {color.name()};")

    def _source_text(self, spec: DatasetSpec) -> str:
        if spec.path:
            return f"{spec.source} — {spec.path}"
        return spec.source

    def show_error(self, message: str) -> None:
        """The data cannot be used: say why (the reader names the file, entry and fix); nothing else."""
        self.preview, self.error = None, message
        self.summary.setText(self.tr("Cannot read the data of %1").replace(
            "%1", self._source_text(self.spec) if self.spec is not None else "?"))
        self.details.setText("")
        self.details.hide()
        self._show_message("", "")
        self.error_label.setText(message)
        error = theme.colors().error
        self.error_label.setStyleSheet(f"color: {(error if theme.is_dark() else error.darker(125)).name()};")
        self.body.setCurrentWidget(self.error_page)

    def show_preview(self, preview: DataPreview) -> None:
        """Fill every part of the dialog from `preview`."""
        self.preview, self.error = preview, None
        self.summary.setText(self.summary_text(preview))
        details = [preview.description]
        if preview.path is not None:
            details.append(str(preview.path))
        self.details.setText(" · ".join(d for d in details if d))
        self.details.setVisible(bool(self.details.text()))
        self._show_message("", "")
        self._fill_classes(preview)
        self._fill_warnings(preview.warnings)
        self._fill_sample(preview)
        self.body.setCurrentWidget(self.content)

    def summary_text(self, p: DataPreview) -> str:
        """Source · sizes · task, in one line."""
        unit = self.tr("windows") if p.kind == "text" else self.tr("samples")
        sizes = self.tr("%1 training / %2 validation %3").replace("%1", f"{p.train_size:,}").replace(
            "%2", f"{p.val_size:,}").replace("%3", unit)
        if p.task == "classification":
            task = self.tr("classification, %1 classes").replace("%1", str(p.num_classes))
        elif p.task == "regression":
            task = self.tr("regression")
            if p.target_range is not None:
                task += ", " + self.tr("target from %1 to %2").replace("%1", f"{p.target_range[0]:.4g}").replace(
                    "%2", f"{p.target_range[1]:.4g}")
        else:
            task = self.tr("language model, %1 distinct characters").replace("%1", str(p.vocab_size))
        shape = self.tr("input %1").replace("%1", "×".join(str(d) for d in p.input_shape))
        return " · ".join([p.source, sizes, task, shape])

    def _fill_classes(self, p: DataPreview) -> None:
        self.class_box.setVisible(bool(p.class_names))
        table = self.class_table
        table.setRowCount(len(p.class_names))
        total = max(1, p.train_size + p.val_size)
        largest = max((tr + va for tr, va in zip(p.train_counts, p.val_counts)), default=1) or 1
        tiny = {name for name, tr in zip(p.class_names, p.train_counts) if tr <= TINY_CLASS}
        for row, (name, tr, va) in enumerate(zip(p.class_names, p.train_counts, p.val_counts)):
            cells = [name, f"{tr:,}", f"{va:,}", f"{(tr + va) / total:.1%}", ""]
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if column in (1, 2, 3):
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                if column == 4:
                    item.setData(BAR_ROLE, (tr + va) / largest)
                if name in tiny or va == 0:
                    item.setForeground(QBrush(self._warning_color()))
                table.setItem(row, column, item)
        table.verticalHeader().hide()

    def _warning_color(self) -> QColor:
        # The theme's warning yellow is a fill colour; darkened it reads as text on a light base.
        warning = theme.colors().warning
        return warning if theme.is_dark() else warning.darker(150)

    def _fill_warnings(self, warnings: list[str]) -> None:
        self.warning_list.clear()
        if not warnings:
            item = QListWidgetItem(self.tr("No problems found"))
            item.setForeground(QBrush(theme.colors().text_dim))
            self.warning_list.addItem(item)
            return
        for text in warnings:
            item = QListWidgetItem("⚠ " + text)
            item.setForeground(QBrush(self._warning_color()))
            item.setToolTip(text)
            self.warning_list.addItem(item)

    def _fill_sample(self, p: DataPreview) -> None:
        if p.kind in ("table", "arrays") and p.header:
            self.sample_box.setTitle(self.tr("First rows of the file") if p.kind == "table"
                                     else self.tr("First training rows"))
            self._fill_rows(p)
            self.sample_stack.setCurrentWidget(self.row_table)
        elif p.kind == "images" and p.images:
            shown = len({sample.label for sample in p.images})
            self.sample_box.setTitle(self.tr("Training images by class") if shown == p.num_classes else
                                     self.tr("Training images of the first %1 of %2 classes").replace(
                                         "%1", str(shown)).replace("%2", str(p.num_classes)))
            self._fill_images(p.images, p.augmented)
            self.sample_stack.setCurrentWidget(self.image_area)
        elif p.kind == "text":
            self.sample_box.setTitle(self.tr("Beginning of the text (%1 characters)").replace(
                "%1", f"{len(p.text_excerpt):,}"))
            self.text_view.setPlainText(p.text_excerpt)
            self.sample_stack.setCurrentWidget(self.text_view)
        else:
            self.sample_box.setTitle(self.tr("Sample"))
            self.text_view.setPlainText(self.tr("No sample view for inputs of shape %1.").replace(
                "%1", "×".join(str(d) for d in p.input_shape)))
            self.sample_stack.setCurrentWidget(self.text_view)

    def _fill_rows(self, p: DataPreview) -> None:
        table = self.row_table
        table.clear()
        table.setColumnCount(len(p.header))
        table.setRowCount(len(p.rows))
        constant = set(p.constant_columns)
        tint = QColor(theme.colors().warning)
        tint.setAlpha(60)
        for column, name in enumerate(p.header):
            note = self.tr("target") if name == p.target_column else \
                self.tr("constant") if name in constant else ""
            item = QTableWidgetItem(f"{name}\n({note})" if note else name)
            if name in constant:
                item.setToolTip(self.tr("The same value in every row: it carries no information"))
            if name == p.target_column:
                font = QFont(item.font())
                font.setBold(True)
                item.setFont(font)
            table.setHorizontalHeaderItem(column, item)
        for row, cells in enumerate(p.rows):
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if p.header[column] in constant:
                    item.setBackground(QBrush(tint))
                table.setItem(row, column, item)
        table.setVerticalHeaderLabels(p.row_labels)
        table.verticalHeader().setToolTip(self.tr("Line in the file") if p.kind == "table" else self.tr("Sample"))
        table.resizeColumnsToContents()

    def _fill_images(self, images: list[SampleImage], augmented: list[SampleImage]) -> None:
        grid_widget = QWidget()
        grid = QGridLayout(grid_widget)
        grid.setHorizontalSpacing(4)
        grid.setVerticalSpacing(4)
        self.image_labels = []
        self.augmented_labels: list[QLabel] = []
        next_row = self._image_rows(grid, images, 0, self.image_labels, lambda _i, sample: sample.label)
        if augmented:
            heading = QLabel(self.tr("As training draws them: four draws of each image through the "
                                     "augmentations of the Data settings"))
            heading.setWordWrap(True)
            heading.setStyleSheet(f"color: {theme.colors().text_dim.name()}; margin-top: 8px;")
            grid.addWidget(heading, next_row, 0, 1, -1)
            draws = len(augmented) // max(1, len({s.label for s in augmented}))  # per source image
            next_row = self._image_rows(grid, augmented, next_row + 1, self.augmented_labels,
                                        lambda i, _sample: i // max(1, draws))
        grid.setColumnStretch(grid.columnCount(), 1)
        grid.setRowStretch(next_row, 1)
        self.image_area.setWidget(grid_widget)

    def _image_rows(self, grid: QGridLayout, images: list[SampleImage], first_row: int, labels: list[QLabel],
                    key: Callable[[int, SampleImage], object]) -> int:
        """One grid row per `key(index, sample)` (a class, or one augmented image), its class name
        in column 0; returns the next free row."""
        rows: dict[object, int] = {}
        filled: dict[int, int] = {}  # grid row -> images placed
        for i, sample in enumerate(images):
            group = key(i, sample)
            if group not in rows:
                rows[group] = first_row + len(rows)
                caption = QLabel(sample.label)
                caption.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                font = QFont(caption.font())
                font.setBold(True)
                caption.setFont(font)
                caption.setMaximumWidth(160)
                grid.addWidget(caption, rows[group], 0)
            row = rows[group]
            label = QLabel()
            label.setPixmap(pixmap_from_pixels(sample.pixels))
            label.setToolTip(self.tr("class %1 · %2×%3 pixels").replace("%1", sample.label).replace(
                "%2", str(sample.pixels.shape[1])).replace("%3", str(sample.pixels.shape[0])))
            filled[row] = filled.get(row, 0) + 1
            grid.addWidget(label, row, filled[row])  # column 0 holds the class name
            labels.append(label)
        return first_row + len(rows)
