"""Results of a trained run: what the model gets right and wrong on the validation set.

- Classification: the confusion matrix as a picture (rows: true class, columns: predicted;
  the diagonal is right, everything else a mistake), accuracy per class, and a grid of
  validation samples with predicted and true labels, mistakes first (images for image data).
- Regression: predicted against true values, with the ideal diagonal.
- Language model: a box to sample text from the model with a prompt, a temperature and a length.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QImage, QPainter, QPen
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QSpinBox,
    QSplitter,
    QStackedWidget,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from workbench.gui import theme
from workbench.gui.training.estimate_view import cost_fact
from workbench.gui.training.results_data import RunResults, SampleView


def _mix(a: QColor, b: QColor, t: float) -> QColor:
    t = min(max(t, 0.0), 1.0)
    return QColor(int(a.red() + (b.red() - a.red()) * t), int(a.green() + (b.green() - a.green()) * t),
                  int(a.blue() + (b.blue() - a.blue()) * t))


class ConfusionMatrixView(QWidget):
    """The confusion matrix, coloured by each true class's share (row-normalised)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.matrix: np.ndarray | None = None
        self.names: list[str] = []
        self.setMinimumSize(160, 160)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    def set_matrix(self, matrix: np.ndarray | None, names: list[str]) -> None:
        self.matrix, self.names = matrix, names
        self.update()

    def sizeHint(self) -> QSize:  # noqa: N802
        return QSize(380, 380)

    def paintEvent(self, event) -> None:  # noqa: N802, ANN001
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        c = theme.colors()
        p.fillRect(self.rect(), c.card)
        if self.matrix is None or not len(self.matrix):
            return
        m = self.matrix
        n = len(m)
        font = QFont(self.font())
        font.setPointSizeF(max(6.5, font.pointSizeF() - 1))
        p.setFont(font)
        metrics = p.fontMetrics()
        label_w = min(90, max(metrics.horizontalAdvance(name) for name in self.names) + 10) if self.names else 20
        top, left = metrics.height() * 2 + 6, label_w + metrics.height() + 6
        side = max(4.0, min((self.width() - left - 8) / n, (self.height() - top - 8) / n))
        rows = m.sum(axis=1, keepdims=True).astype(np.float64)
        share = np.divide(m, rows, out=np.zeros_like(m, dtype=np.float64), where=rows > 0)
        right, wrong = QColor(c.accent), QColor(c.error)
        for i in range(n):
            for j in range(n):
                rect = QRectF(left + j * side, top + i * side, side, side)
                base = right if i == j else wrong
                fill = _mix(c.card, base, share[i, j] ** 0.6 if m[i, j] else 0.0)
                p.fillRect(rect, fill)
                if side >= 16 and m[i, j]:
                    light = share[i, j] ** 0.6 > 0.55
                    p.setPen(QColor("#ffffff") if light else c.text)
                    p.drawText(rect, Qt.AlignmentFlag.AlignCenter, str(int(m[i, j])))
        p.setPen(QPen(c.card_border, 1))
        p.drawRect(QRectF(left, top, side * n, side * n))
        p.setPen(c.text_dim)
        step = max(1, math.ceil(metrics.height() / side))  # thin out labels of many classes
        for k, name in enumerate(self.names[:n]):
            if k % step:
                continue
            p.drawText(QRectF(left - label_w - 4, top + k * side, label_w, side),
                       Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, name)
            p.drawText(QRectF(left + k * side - 20, top - metrics.height() - 2, side + 40, metrics.height()),
                       Qt.AlignmentFlag.AlignCenter, name)
        p.setPen(c.text)
        bold = QFont(font)
        bold.setBold(True)
        p.setFont(bold)
        p.drawText(QRectF(left, 0, side * n, metrics.height() + 2), Qt.AlignmentFlag.AlignCenter,
                   self.tr("predicted class →"))
        p.save()
        p.translate(metrics.height(), top + side * n / 2)
        p.rotate(-90)
        p.drawText(QRectF(-side * n / 2, -metrics.height(), side * n, metrics.height() + 2), Qt.AlignmentFlag.AlignCenter,
                   self.tr("← true class"))
        p.restore()
        p.end()


def to_qimage(image: np.ndarray) -> QImage:
    """An (H, W) or (H, W, 3) float picture in [0, 1] as a QImage (a copy that owns its pixels)."""
    data = np.ascontiguousarray((np.clip(image, 0.0, 1.0) * 255).astype(np.uint8))
    if data.ndim == 2:
        h, w = data.shape
        return QImage(data.data, w, h, w, QImage.Format.Format_Grayscale8).copy()
    h, w, _ = data.shape
    return QImage(data.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()


class SampleGrid(QWidget):
    """Validation samples with predicted and true labels; mistakes are marked red."""

    CELL = 76

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.samples: list[SampleView] = []
        self._images: list[QImage | None] = []
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)

    def set_samples(self, samples: list[SampleView]) -> None:
        self.samples = samples
        self._images = [to_qimage(s.image) if s.image is not None else None for s in samples]
        self.updateGeometry()
        self.update()

    def _columns(self) -> int:
        return max(1, self.width() // self.CELL)

    def hasHeightForWidth(self) -> bool:  # noqa: N802
        return True

    def heightForWidth(self, width: int) -> int:  # noqa: N802
        cols = max(1, width // self.CELL)
        return math.ceil(len(self.samples) / cols) * (self.CELL + 4) + 4

    def sizeHint(self) -> QSize:  # noqa: N802
        return QSize(self.CELL * 8, self.heightForWidth(self.CELL * 8))

    def paintEvent(self, event) -> None:  # noqa: N802, ANN001
        p = QPainter(self)
        c = theme.colors()
        p.fillRect(self.rect(), c.card)
        font = QFont(self.font())
        font.setPointSizeF(max(6.5, font.pointSizeF() - 1.5))
        p.setFont(font)
        line = p.fontMetrics().height()
        cols = self._columns()
        good = QColor("#2f855a") if not theme.is_dark() else QColor("#68d391")
        for k, sample in enumerate(self.samples):
            x, y = (k % cols) * self.CELL, (k // cols) * (self.CELL + 4)
            cell = QRectF(x + 2, y + 2, self.CELL - 4, self.CELL)
            image = self._images[k]
            pic = QRectF(cell.x() + 6, cell.y() + 2, cell.width() - 12, cell.height() - 2 * line - 6)
            if image is not None:
                side = min(pic.width(), pic.height())
                target = QRectF(pic.center().x() - side / 2, pic.y(), side, side)
                p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)  # crisp pixels of tiny images
                p.drawImage(target, image)
            elif sample.features is not None:
                p.setPen(c.text_dim)
                text = "\n".join(f"{v:.3g}" for v in sample.features[:3])
                p.drawText(pic, Qt.AlignmentFlag.AlignCenter, text)
            p.setPen(QPen(good if sample.correct else c.error, 2 if not sample.correct else 1))
            p.drawRect(cell.adjusted(1, 1, -1, -1))
            p.setPen(good if sample.correct else c.error)
            p.drawText(QRectF(cell.x(), cell.bottom() - 2 * line - 3, cell.width(), line), Qt.AlignmentFlag.AlignCenter,
                       self.tr("pred %1").replace("%1", sample.predicted))
            p.setPen(c.text_dim)
            p.drawText(QRectF(cell.x(), cell.bottom() - line - 3, cell.width(), line), Qt.AlignmentFlag.AlignCenter,
                       self.tr("true %1").replace("%1", sample.true))
        p.end()


class ResultsView(QWidget):
    """The Results panel: one page per task, and a message when there is nothing to show."""

    sample_requested = Signal(str, float, int)  # prompt, temperature, length
    checkpoint_changed = Signal(str)  # "last" or "best": which model of the run to evaluate

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.results: RunResults | None = None
        self.header = QLabel()  # one line (a wrapping label would size the page by height-for-width)
        self.model_label = QLabel()
        self.model_choice = QComboBox()
        self.model_choice.addItem("last", "last")
        self.model_choice.addItem("best", "best")
        self.header.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.stack = QStackedWidget()

        # Empty / message page.
        self.message = QLabel()
        self.message.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.message.setWordWrap(True)
        self.stack.addWidget(self.message)

        # Classification page.
        self.confusion = ConfusionMatrixView()
        self.per_class = QTableWidget(0, 3)
        self.per_class.verticalHeader().hide()
        self.per_class.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.per_class.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.per_class.horizontalHeader().setStretchLastSection(False)
        self.per_class.verticalHeader().setDefaultSectionSize(22)
        self.per_class.setMinimumWidth(170)
        self.samples_title = QLabel()
        self.samples = SampleGrid()
        samples_box = QWidget()
        samples_layout = QVBoxLayout(samples_box)
        samples_layout.setContentsMargins(0, 0, 0, 0)
        samples_layout.addWidget(self.samples_title)
        samples_layout.addWidget(self.samples)
        samples_layout.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(samples_box)
        self.class_page = QSplitter(Qt.Orientation.Horizontal)
        self.class_page.addWidget(self.confusion)
        self.class_page.addWidget(self.per_class)
        self.class_page.addWidget(scroll)
        self.class_page.setStretchFactor(0, 3)
        self.class_page.setStretchFactor(1, 1)
        self.class_page.setStretchFactor(2, 4)
        self.class_page.setSizes([380, 200, 560])
        self.stack.addWidget(self.class_page)

        # Regression page.
        self.scatter_plot = pg.PlotWidget()
        self.scatter = pg.ScatterPlotItem(size=5, pen=None)
        self.scatter_plot.addItem(self.scatter)
        self.diagonal = pg.InfiniteLine(pos=(0, 0), angle=45, pen=pg.mkPen("#888888", width=1, style=Qt.PenStyle.DashLine))
        self.scatter_plot.addItem(self.diagonal)
        self.scatter_plot.showGrid(x=True, y=True, alpha=0.25)
        self.scatter_plot.getPlotItem().setAspectLocked(False)
        self.stack.addWidget(self.scatter_plot)

        # Language-model page.
        self.prompt = QLineEdit()
        self.temperature = QDoubleSpinBox()
        self.temperature.setRange(0.05, 5.0)
        self.temperature.setSingleStep(0.1)
        self.temperature.setValue(0.8)
        self.length = QSpinBox()
        self.length.setRange(1, 5000)
        self.length.setValue(300)
        self.generate_button = QPushButton()
        self.generated = QPlainTextEdit()
        self.generated.setReadOnly(True)
        mono = QFont("DejaVu Sans Mono")
        mono.setStyleHint(QFont.StyleHint.Monospace)
        self.generated.setFont(mono)
        lm = QWidget()
        lm_layout = QVBoxLayout(lm)
        lm_layout.setContentsMargins(0, 0, 0, 0)
        form = QFormLayout()
        self.prompt_label, self.temperature_label, self.length_label = QLabel(), QLabel(), QLabel()
        form.addRow(self.prompt_label, self.prompt)
        row = QHBoxLayout()
        row.addWidget(self.temperature_label)
        row.addWidget(self.temperature)
        row.addSpacing(12)
        row.addWidget(self.length_label)
        row.addWidget(self.length)
        row.addStretch(1)
        row.addWidget(self.generate_button)
        lm_layout.addLayout(form)
        lm_layout.addLayout(row)
        lm_layout.addWidget(self.generated, 1)
        self.stack.addWidget(lm)
        self.lm_page = lm

        # Sequence-to-sequence page: validation pairs and the model's greedy decodings.
        self.examples = QTableWidget(0, 4)
        self.examples.verticalHeader().hide()
        self.examples.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.examples.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.examples.horizontalHeader().setStretchLastSection(True)
        self.examples.verticalHeader().setDefaultSectionSize(22)
        self.examples.setFont(mono)
        self.stack.addWidget(self.examples)

        top = QHBoxLayout()
        top.setContentsMargins(0, 0, 0, 0)
        top.addWidget(self.header, 1)
        top.addWidget(self.model_label)
        top.addWidget(self.model_choice)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(top)
        layout.addWidget(self.stack, 1)
        self.model_choice.currentIndexChanged.connect(lambda _i: self.checkpoint_changed.emit(self.checkpoint()))
        self.generate_button.clicked.connect(self._generate)
        self.prompt.returnPressed.connect(self._generate)
        self.apply_theme()
        self.retranslate()
        self.show_message(None)

    # ----- texts -----------------------------------------------------------------------------

    def retranslate(self) -> None:
        self.per_class.setHorizontalHeaderLabels([self.tr("Class"), self.tr("Accuracy"), self.tr("Correct")])
        self.examples.setHorizontalHeaderLabels([self.tr("Source"), self.tr("Target"), self.tr("Prediction"), ""])
        self.samples_title.setText(self.tr("Validation samples, mistakes first"))
        self.prompt_label.setText(self.tr("Prompt"))
        self.prompt.setPlaceholderText(self.tr("Text for the model to continue (may be empty)"))
        self.temperature_label.setText(self.tr("Temperature"))
        self.temperature.setToolTip(self.tr("Lower: safer, more repetitive; higher: more surprising"))
        self.length_label.setText(self.tr("Length"))
        self.length.setToolTip(self.tr("Characters to generate"))
        self.generate_button.setText(self.tr("Generate"))
        self.model_label.setText(self.tr("Model"))
        self.model_choice.setItemText(0, self.tr("at the end of the run"))
        self.model_choice.setItemText(1, self.tr("best (lowest validation loss)"))
        self.model_choice.setToolTip(self.tr("Which of the run's checkpoints to evaluate: last.pt, where the curves "
                                             "end, or best.pt, the one Export takes"))
        plot = self.scatter_plot.getPlotItem()
        plot.setLabel("bottom", self.tr("true value"))
        plot.setLabel("left", self.tr("predicted value"))
        if self.results is not None:
            self.show_results(self.results)
        elif self._message_text is None:
            self.show_message(None)

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        elif event.type() == QEvent.Type.PaletteChange:
            self.apply_theme()
        super().changeEvent(event)

    def apply_theme(self) -> None:
        c = theme.colors()
        self.scatter_plot.setBackground(c.card)
        self.scatter.setBrush(pg.mkBrush(c.accent.red(), c.accent.green(), c.accent.blue(), 150))
        for name in ("left", "bottom"):
            axis = self.scatter_plot.getPlotItem().getAxis(name)
            axis.setPen(pg.mkPen(c.text_dim))
            axis.setTextPen(pg.mkPen(c.text_dim))

    # ----- content ---------------------------------------------------------------------------

    _message_text: str | None = None

    def show_message(self, text: str | None) -> None:
        """A line instead of results (None: the hint about where results come from)."""
        self._message_text = text
        self.results = None
        self.header.setText("")
        self.message.setText(text or self.tr("Train the network, or pick a run in the runs list and press Results, "
                                             "to see what the model gets right and wrong."))
        self.stack.setCurrentIndex(0)

    def show_results(self, results: RunResults) -> None:
        self.results = results
        self._message_text = None
        run = results.run_dir.name
        model = (self.tr("%1, epoch %2").replace("%1", results.checkpoint).replace("%2", str(results.epoch))
                 if results.epoch is not None else results.checkpoint)
        facts = [self.tr("Run %1").replace("%1", f"<b>{run}</b>"), model]
        if results.val_samples:
            facts.append(self.tr("%1 validation samples").replace("%1", f"{results.val_samples:,}"))
        if results.task == "classification":
            if results.accuracy is not None:
                facts.append(self.tr("accuracy %1").replace("%1", f"<b>{results.accuracy:.1%}</b>"))
            self._show_classification(results)
        elif results.task == "regression":
            if results.mae is not None:
                facts.append(self.tr("mean absolute error %1").replace("%1", f"<b>{results.mae:.4g}</b>"))
            if results.r2 is not None:
                facts.append(f"R² {results.r2:.3f}")
            self._show_regression(results)
        elif results.task == "language_model":
            value = results.summary.get("val_token_accuracy")
            if isinstance(value, (int, float)):
                facts.append(self.tr("token accuracy %1").replace("%1", f"<b>{value:.1%}</b>"))
            self.stack.setCurrentWidget(self.lm_page)
        elif results.task == "seq2seq":
            if results.exact_match is not None:
                facts.append(self.tr("exact match %1 (greedy)").replace("%1", f"<b>{results.exact_match:.1%}</b>"))
            self._show_examples(results)
        else:
            self.show_message(self.tr("No results for this kind of task."))
            return
        cost = cost_fact(results.summary)  # measured time (and energy) beside the estimate
        if cost is not None:
            facts.append(cost)
        self.header.setText(" · ".join(facts))

    def _show_classification(self, results: RunResults) -> None:
        self.confusion.set_matrix(results.confusion, results.class_names)
        rows = results.per_class()
        self.per_class.setRowCount(len(rows))
        for i, (name, right, total) in enumerate(rows):
            share = right / total if total else math.nan
            cells = [name, f"{share:.1%}" if total else "–", f"{right}/{total}"]
            for j, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if j:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                if total and share < 0.8:
                    item.setForeground(theme.colors().error)
                self.per_class.setItem(i, j, item)
        self.samples.set_samples(results.samples)
        self.stack.setCurrentWidget(self.class_page)

    def _show_regression(self, results: RunResults) -> None:
        true = results.true_values if results.true_values is not None else np.empty(0)
        pred = results.predicted_values if results.predicted_values is not None else np.empty(0)
        self.scatter.setData(true, pred)
        self.scatter_plot.getPlotItem().setTitle(self.tr("Predicted against true (the dashed line is perfect)"),
                                                 color=theme.colors().text.name(), size="9pt")
        self.scatter_plot.getPlotItem().enableAutoRange()
        self.stack.setCurrentWidget(self.scatter_plot)

    def _show_examples(self, results: RunResults) -> None:
        """Source, target and prediction side by side, ✓ or ✗ (mistakes first, in red)."""
        self.examples.setRowCount(len(results.examples))
        for i, example in enumerate(results.examples):
            cells = [example.source, example.target, example.predicted, "✓" if example.correct else "✗"]
            for j, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if not example.correct and j >= 2:
                    item.setForeground(theme.colors().error)
                self.examples.setItem(i, j, item)
        self.stack.setCurrentWidget(self.examples)

    def checkpoint(self) -> str:
        return str(self.model_choice.currentData() or "last")

    def _generate(self) -> None:
        if self.results is None or self.results.task != "language_model":
            return
        self.generate_button.setEnabled(False)
        self.generated.setPlainText(self.tr("Generating…"))
        self.sample_requested.emit(self.prompt.text(), self.temperature.value(), self.length.value())

    def show_generated(self, text: str, error: bool = False) -> None:
        self.generate_button.setEnabled(True)
        self.generated.setPlainText(text)
        color = theme.colors().error.name() if error else ""
        self.generated.setStyleSheet(f"color: {color};" if error else "")
