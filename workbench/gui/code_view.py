"""The Code view: the PyTorch code of the current graph, read-only and copyable.

Code generation belongs to the export package. This panel shows whatever the registered
generator returns; by default it looks for `workbench.export.codegen.generate_code(graph) -> str`
and, until that exists, says so. `set_code_generator` lets the app (or a test) plug one in.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable

from PySide6.QtCore import QEvent, QTimer
from PySide6.QtGui import QFontDatabase, QGuiApplication
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPlainTextEdit, QPushButton, QVBoxLayout, QWidget

from workbench.graph.document import Graph
from workbench.gui.session import EditorSession

log = logging.getLogger(__name__)

CodeGenerator = Callable[[Graph], str]
_generator: CodeGenerator | None = None
DEFAULT_GENERATOR = ("workbench.export.codegen", "generate_code")


def set_code_generator(generator: CodeGenerator | None) -> None:
    """Use `generator(graph) -> source text` for the Code view."""
    global _generator
    _generator = generator


def code_generator() -> CodeGenerator | None:
    """The registered generator, else the export package's, else None."""
    if _generator is not None:
        return _generator
    module_name, attr = DEFAULT_GENERATOR
    try:
        module = importlib.import_module(module_name)
    except ImportError:
        return None
    found = getattr(module, attr, None)
    return found if callable(found) else None


class CodeView(QWidget):
    """Read-only source of the current graph; refreshed a moment after edits, when visible."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session: EditorSession | None = None
        self.text = QPlainTextEdit()
        self.text.setReadOnly(True)
        self.text.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.text.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.note = QLabel()
        self.copy_button = QPushButton()
        self.copy_button.clicked.connect(self.copy)
        row = QHBoxLayout()
        row.addWidget(self.note, 1)
        row.addWidget(self.copy_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(row)
        layout.addWidget(self.text)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(300)
        self._timer.timeout.connect(self.refresh)
        self.retranslate()

    def set_session(self, session: EditorSession | None) -> None:
        if self.session is not None:
            self.session.analysis_changed.disconnect(self._timer.start)
        self.session = session
        if session is not None:
            session.analysis_changed.connect(self._timer.start)
        self._timer.start()

    def showEvent(self, event) -> None:  # noqa: N802, ANN001
        self._timer.start()
        super().showEvent(event)

    def refresh(self) -> None:
        if not self.isVisible() or self.session is None:
            return
        generator = code_generator()
        if generator is None:
            self.note.setText(self.tr("Code generation is not available in this build yet."))
            self.text.setPlainText("")
            return
        if not self.session.analysis.ok:
            self.note.setText(self.tr("Fix the problems to see the code."))
            return
        try:
            source = generator(self.session.graph)
        except Exception as exc:  # show, keep editing
            log.warning("code generation failed: %s", exc)
            self.note.setText(self.tr("Code generation failed: %1").replace("%1", str(exc)))
            return
        self.note.setText(self.tr("PyTorch code of this network (read-only)."))
        scroll = self.text.verticalScrollBar().value()
        self.text.setPlainText(source)
        self.text.verticalScrollBar().setValue(scroll)

    def copy(self) -> None:
        QGuiApplication.clipboard().setText(self.text.toPlainText())

    def retranslate(self) -> None:
        self.copy_button.setText(self.tr("Copy"))
        self._timer.start()

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)
