"""Run › Serve…: serve a trained run over HTTP from the app, and watch it.

`ServeProcess` runs `workbench serve RUN` in a child process (`python -m workbench.serve.child`,
which also ends when the app's end of its stdin closes: no orphan even if the app dies), reads
the URL it prints, and polls its `/metrics` with QNetworkAccessManager (asynchronous, with a
short transfer timeout: the window never waits on the server). `ServePanel` is the dialog: the
run, the port, Start and Stop, the URL (a link, selectable, with Copy), the live counts and
latency, and the server's last lines of output when something goes wrong.

Closing the dialog keeps the server running (the dialog says so); Run › Serve… shows it again.
Closing the main window stops it (`MainWindow.closeEvent` calls `shutdown`), as does quitting.
"""

from __future__ import annotations

import collections
import errno
import re
import socket
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QCoreApplication, QObject, QProcess, QProcessEnvironment, Qt, QTimer, QUrl, Signal
from PySide6.QtGui import QDesktopServices, QGuiApplication
from PySide6.QtNetwork import QNetworkAccessManager, QNetworkReply, QNetworkRequest
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from workbench.gui import theme
from workbench.gui.export_runs import RunEntry, find_runs, read_run, run_problem, runs_folder
from workbench.serve.metrics import Totals, read_totals

if TYPE_CHECKING:
    from workbench.project import Project

HOST = "127.0.0.1"  # the app serves this machine only; `workbench serve --host` is for more
POLL_MS = 1000  # how often the counts are refreshed
POLL_TIMEOUT_MS = 1500  # a poll the server has not answered by then is dropped
STOP_WAIT_MS = 10_000  # Stop: time to drain before the server is killed
LOG_LINES = 200  # the server's output kept for the panel
_URL_LINE = re.compile(r"^Serving .* at (http://\S+?)/? ")

# States of a ServeProcess
IDLE, STARTING, SERVING, STOPPING, STOPPED, FAILED = "idle", "starting", "serving", "stopping", "stopped", "failed"


def port_problem(port: int, host: str = HOST) -> str | None:
    """Why `port` cannot be bound on `host` now, or None when it can."""
    with socket.socket() as probe:
        try:
            probe.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EACCES:
                return f"port {port} needs administrator rights here: choose one above 1023, or 0 for any free one"
            return f"port {port} is in use by another program: choose another port, or 0 for any free one"
    return None


class ServeProcess(QObject):
    """One `workbench serve` child process: start, URL, polled totals, stop."""

    state_changed = Signal(str)  # one of the states above
    url_found = Signal(str)  # the base URL, once the server has printed it
    totals_changed = Signal(object)  # Totals, after each answered poll
    output_added = Signal(str)  # a line the server wrote

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.state = IDLE
        self.run: Path | None = None
        self.url: str | None = None
        self.totals: Totals | None = None
        self.recent_latency_ms: float | None = None  # mean over the predictions since the previous poll
        self.message = ""  # why it failed, in words
        self.lines: collections.deque[str] = collections.deque(maxlen=LOG_LINES)
        self._partial = ""
        self._stop_requested = False
        self._process: QProcess | None = None
        self._network = QNetworkAccessManager(self)
        self._reply: QNetworkReply | None = None
        self._poll = QTimer(self)
        self._poll.setInterval(POLL_MS)
        self._poll.timeout.connect(self.poll)
        self._kill_timer = QTimer(self)
        self._kill_timer.setSingleShot(True)
        self._kill_timer.timeout.connect(self._kill)
        app = QCoreApplication.instance()
        if app is not None:  # quitting without closing the window first still stops the server
            app.aboutToQuit.connect(self.shutdown)

    @property
    def pid(self) -> int | None:
        """The child's process id while it runs."""
        if self._process is None or self._process.state() == QProcess.ProcessState.NotRunning:
            return None
        return int(self._process.processId())

    @property
    def running(self) -> bool:
        return self.state in (STARTING, SERVING, STOPPING)

    def start(self, run: str | Path, port: int = 0) -> bool:
        """Serve `run` on `port` (0: any free one); False with `message` set when it cannot start."""
        if self.running:
            return False
        self.run, self.url, self.totals, self.recent_latency_ms = Path(run), None, None, None
        self.lines.clear()
        self._partial, self._stop_requested = "", False
        problem = run_problem(run)
        if problem is None and port:
            problem = port_problem(port)
        if problem is not None:
            return self._fail(problem)
        process = QProcess(self)
        environment = QProcessEnvironment.systemEnvironment()
        environment.insert("PYTHONUNBUFFERED", "1")
        process.setProcessEnvironment(environment)
        process.setProgram(sys.executable)
        process.setArguments(["-m", "workbench.serve.child", str(run), "--host", HOST, "--port", str(port)])
        process.setProcessChannelMode(QProcess.ProcessChannelMode.MergedChannels)
        process.readyReadStandardOutput.connect(self._read)
        process.finished.connect(self._finished)
        process.errorOccurred.connect(self._error)
        self._process = process
        self._set_state(STARTING)
        process.start()  # stdin stays open: the child ends when it closes
        return True

    def stop(self) -> None:
        """Ask the server to drain and exit (SIGTERM); it is killed if it has not after STOP_WAIT_MS."""
        if self._process is None or not self.running:
            return
        self._stop_requested = True
        self._poll.stop()
        self._set_state(STOPPING)
        self._process.terminate()
        self._kill_timer.start(STOP_WAIT_MS)

    def shutdown(self, timeout_ms: int = STOP_WAIT_MS) -> None:
        """Stop the server and wait for it to be gone (the app is closing)."""
        process = self._process
        if process is None or process.state() == QProcess.ProcessState.NotRunning:
            return
        self.stop()
        if not process.waitForFinished(timeout_ms):
            process.kill()
            process.waitForFinished(timeout_ms)

    # ----- the child's output and end ----------------------------------------------------

    def _read(self) -> None:
        assert self._process is not None
        text = self._partial + bytes(self._process.readAllStandardOutput().data()).decode("utf-8", "replace")
        *complete, self._partial = text.split("\n")
        for line in complete:
            line = line.rstrip("\r")
            self.lines.append(line)
            self.output_added.emit(line)
            match = _URL_LINE.match(line)
            if match and self.url is None:
                self.url = match[1]
                self.url_found.emit(self.url)
                self._poll.start()
                self.poll()

    def _finished(self, code: int, status: QProcess.ExitStatus) -> None:
        self._read()
        if self._partial:
            self.lines.append(self._partial)
            self._partial = ""
        self._poll.stop()
        self._kill_timer.stop()
        self._abort_poll()
        if self._stop_requested:
            self._set_state(STOPPED)
            return
        how = (f"exited with code {code}" if status == QProcess.ExitStatus.NormalExit
               else "crashed")
        self._fail(f"the server {how}" + (f": {self._last_error()}" if self._last_error() else ""))

    def _error(self, error: QProcess.ProcessError) -> None:
        if error == QProcess.ProcessError.FailedToStart:
            self._fail(f"could not start {sys.executable}: {self._process.errorString() if self._process else ''}")

    def _kill(self) -> None:
        if self._process is not None and self._process.state() != QProcess.ProcessState.NotRunning:
            self._process.kill()

    def _last_error(self) -> str:
        """The server's own one-line error ("workbench: error: ..."), or its last line of output."""
        for line in reversed(self.lines):
            if "error" in line.lower() and line.strip():
                return line.strip()
        return next((line.strip() for line in reversed(self.lines) if line.strip()), "")

    def _fail(self, message: str) -> bool:
        self.message = message
        self._set_state(FAILED)
        return False

    def _set_state(self, state: str) -> None:
        self.state = state
        self.state_changed.emit(state)

    # ----- polling /metrics ----------------------------------------------------------------

    def poll(self) -> None:
        """Ask for /metrics, unless the previous poll is still out."""
        if self.url is None or self._reply is not None or self.state not in (STARTING, SERVING):
            return
        request = QNetworkRequest(QUrl(f"{self.url}/metrics"))
        request.setTransferTimeout(POLL_TIMEOUT_MS)
        self._reply = self._network.get(request)
        self._reply.finished.connect(self._answered)

    def _answered(self) -> None:
        reply, self._reply = self._reply, None
        if reply is None:
            return
        reply.deleteLater()
        ok = reply.error() == QNetworkReply.NetworkError.NoError
        if not ok or self.state not in (STARTING, SERVING):
            return  # not listening yet (still loading), or stopping: the next poll tries again
        totals = read_totals(bytes(reply.readAll().data()).decode("utf-8", "replace"))
        previous = self.totals
        # mean of the predictions answered since the previous poll (about a second); None if none
        before = previous or Totals(0, 0, 0, 0.0)
        new = totals.predictions - before.predictions
        self.recent_latency_ms = 1000.0 * (totals.latency_sum_s - before.latency_sum_s) / new if new > 0 else None
        self.totals = totals
        if self.state == STARTING:
            self._set_state(SERVING)
        self.totals_changed.emit(totals)

    def _abort_poll(self) -> None:
        if self._reply is not None:
            reply, self._reply = self._reply, None
            reply.finished.disconnect(self._answered)
            reply.abort()
            reply.deleteLater()


class ServePanel(QDialog):
    """The Serve window: choose a run, start and stop its server, see its URL and traffic."""

    def __init__(self, project: Project | None = None, parent: QWidget | None = None,
                 server: ServeProcess | None = None) -> None:
        super().__init__(parent)
        self.project = project
        self.server = server or ServeProcess(self)
        self.setWindowTitle(self.tr("Serve"))
        self.setObjectName("serve_panel")
        self._build()
        self.server.state_changed.connect(self._show_state)
        self.server.url_found.connect(lambda _url: self._show_state(self.server.state))
        self.server.totals_changed.connect(self._show_totals)
        self.server.output_added.connect(self.output.appendPlainText)
        self.reload_runs()
        self._show_state(self.server.state)

    def _build(self) -> None:
        dim = f"color: {theme.colors().text_dim.name()};"
        self.run_combo = QComboBox()
        self.run_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.run_combo.setMinimumContentsLength(36)
        self.choose_button = QPushButton(self.tr("Choose folder…"))
        self.choose_button.clicked.connect(self.choose_run_folder)
        run_row = QHBoxLayout()
        run_row.addWidget(self.run_combo, 1)
        run_row.addWidget(self.choose_button)
        self.port_spin = QSpinBox()
        self.port_spin.setRange(0, 65535)
        self.port_spin.setSpecialValueText(self.tr("any free port"))
        self.port_spin.setValue(0)
        self.start_button = QPushButton(self.tr("Start"))
        self.start_button.setDefault(True)
        self.start_button.clicked.connect(self.start)
        self.stop_button = QPushButton(self.tr("Stop"))
        self.stop_button.clicked.connect(self.server.stop)
        port_row = QHBoxLayout()
        port_row.addWidget(self.port_spin)
        port_row.addStretch(1)
        port_row.addWidget(self.start_button)
        port_row.addWidget(self.stop_button)

        self.status_label = QLabel()
        self.status_label.setWordWrap(True)
        self.url_label = QLabel()
        self.url_label.setTextFormat(Qt.TextFormat.RichText)
        self.url_label.setOpenExternalLinks(True)
        self.url_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextBrowserInteraction)
        self.copy_button = QPushButton(self.tr("Copy"))
        self.copy_button.clicked.connect(self.copy_url)
        self.open_button = QPushButton(self.tr("Open page"))
        self.open_button.clicked.connect(self.open_page)
        url_row = QHBoxLayout()
        url_row.addWidget(self.url_label, 1)
        url_row.addWidget(self.copy_button)
        url_row.addWidget(self.open_button)
        self.requests_label = QLabel()
        self.latency_label = QLabel()
        for label in (self.requests_label, self.latency_label):
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        form = QFormLayout()
        form.addRow(self.tr("Trained run"), run_row)
        form.addRow(self.tr("Port"), port_row)
        form.addRow(self.tr("Status"), self.status_label)
        form.addRow(self.tr("Address"), url_row)
        form.addRow(self.tr("Predictions"), self.requests_label)
        form.addRow(self.tr("Latency"), self.latency_label)

        self.output = QPlainTextEdit()
        self.output.setReadOnly(True)
        self.output.setMaximumBlockCount(LOG_LINES)
        self.output.setPlaceholderText(self.tr("The server's messages appear here."))
        self.output.setMinimumHeight(90)
        self.note = QLabel(self.tr("Closing this window keeps the server running (Run › Serve… shows it "
                                   "again); closing Workbench stops it."))
        self.note.setWordWrap(True)
        self.note.setStyleSheet(dim)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.close)

        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.output, 1)  # the log takes the room the window is given
        layout.addWidget(self.note)
        layout.addWidget(buttons)
        self.resize(620, 420)

    # ----- runs ------------------------------------------------------------------------------

    def reload_runs(self, prefer: str | Path | None = None) -> None:
        """List the project's runs (newest first) and select `prefer`, else this project's newest."""
        current = self.selected_run()
        self.run_combo.clear()
        name = self.project.name if self.project is not None else None
        folder = runs_folder(self.project)
        for entry in find_runs(folder, name):
            self._add(entry)
        self.run_combo.setPlaceholderText(self.tr("No runs in %1").replace("%1", str(folder)))
        if prefer is not None or current is not None:
            self.add_run_folder(prefer if prefer is not None else current)  # type: ignore[arg-type]
        elif self.run_combo.count():
            self.run_combo.setCurrentIndex(0)

    def _add(self, entry: RunEntry, index: int | None = None) -> int:
        index = self.run_combo.count() if index is None else index
        parts = [entry.name]
        if entry.val_accuracy is not None:
            parts.append(self.tr("val acc %1").replace("%1", f"{entry.val_accuracy:.1%}"))
        self.run_combo.insertItem(index, " — ".join(parts), str(entry.path))
        self.run_combo.setItemData(index, str(entry.path), Qt.ItemDataRole.ToolTipRole)
        return index

    def selected_run(self) -> Path | None:
        data = self.run_combo.currentData()
        return Path(data) if data else None

    def add_run_folder(self, folder: str | Path) -> None:
        """Offer `folder` and select it (a folder that is not a run says why when started)."""
        path = Path(folder)
        for i in range(self.run_combo.count()):
            if Path(self.run_combo.itemData(i)).resolve() == path.resolve():
                self.run_combo.setCurrentIndex(i)
                return
        entry = read_run(path) or RunEntry(path, None, None, None, None, None, 0.0)
        self.run_combo.setCurrentIndex(self._add(entry, 0))

    def choose_run_folder(self) -> None:
        start = str(self.selected_run() or runs_folder(self.project))
        folder = QFileDialog.getExistingDirectory(self, self.tr("Choose a run folder"), start)
        if folder:
            self.add_run_folder(folder)

    # ----- serving ---------------------------------------------------------------------------

    def start(self) -> bool:
        """Serve the selected run; a problem is shown in the panel."""
        run = self.selected_run()
        if run is None:
            self.server.message = self.tr("No run selected: train the project first, or choose a run folder.")
            self._show_state("failed")
            return False
        self.output.clear()
        return self.server.start(run, self.port_spin.value())

    def copy_url(self) -> None:
        if self.server.url:
            QGuiApplication.clipboard().setText(self.server.url + "/")

    def open_page(self) -> None:
        if self.server.url:
            QDesktopServices.openUrl(QUrl(self.server.url + "/"))

    def _show_state(self, state: str) -> None:
        server = self.server
        running = server.running
        self.start_button.setEnabled(not running)
        self.stop_button.setEnabled(state in (STARTING, SERVING))
        self.run_combo.setEnabled(not running)
        self.choose_button.setEnabled(not running)
        self.port_spin.setEnabled(not running)
        has_url = server.url is not None and state in (STARTING, SERVING)
        self.copy_button.setEnabled(has_url and state == SERVING)
        self.open_button.setEnabled(has_url and state == SERVING)
        run = server.run.name if server.run is not None else ""
        texts = {
            IDLE: self.tr("Not serving."),
            STARTING: self.tr("Starting %1 (the first time, the run is exported to ONNX and checked)…").replace("%1", run),
            SERVING: self.tr("Serving %1.").replace("%1", run),
            STOPPING: self.tr("Stopping: answering the requests in flight…"),
            STOPPED: self.tr("Stopped."),
            FAILED: server.message,
        }
        self.status_label.setText(texts.get(state, state))
        colors = theme.colors()
        self.status_label.setStyleSheet(f"color: {colors.error.name()};" if state == FAILED else "")
        if has_url:
            url = f"{server.url}/"
            self.url_label.setText(f'<a href="{url}">{url}</a>')
        else:
            self.url_label.setText("—")
        if state == FAILED and server.lines and self.output.toPlainText() == "":
            self.output.setPlainText("\n".join(server.lines))
        if state in (STARTING, IDLE):
            self.requests_label.setText("—")
            self.latency_label.setText("—")

    def _show_totals(self, totals: Totals) -> None:
        errors = self.tr("1 error") if totals.errors == 1 else self.tr("%1 errors").replace("%1", f"{totals.errors:,}")
        self.requests_label.setText(self.tr("%1 answered · %2").replace("%1", f"{totals.predictions:,}").replace("%2", errors))
        mean, recent = totals.mean_latency_ms, self.server.recent_latency_ms
        if mean is None:
            self.latency_label.setText("—")
        else:
            self.latency_label.setText(self.tr("%1 ms mean; %2 ms in the last second")
                                       .replace("%1", f"{mean:.1f}").replace("%2", f"{recent:.1f}")
                                       if recent is not None else self.tr("%1 ms mean").replace("%1", f"{mean:.1f}"))


class ServeController(QObject):
    """What the main window holds: one server and its panel, shown by Run › Serve…."""

    def __init__(self, window: QWidget) -> None:
        super().__init__(window)
        self.window = window
        self.server = ServeProcess(self)
        self.panel: ServePanel | None = None

    def show_panel(self, project: Project | None = None, run: str | Path | None = None) -> ServePanel:
        """Show the panel for `project`, with `run` (the one selected in the app) selected."""
        if self.panel is None:
            self.panel = ServePanel(project, self.window, self.server)
        elif not self.server.running:
            self.panel.project = project
        if not self.server.running:
            self.panel.reload_runs(run)
        self.panel.show()
        self.panel.raise_()
        self.panel.activateWindow()
        return self.panel

    def shutdown(self) -> None:
        """Stop the server, waiting until its process is gone."""
        self.server.shutdown()


__all__ = ["ServeController", "ServePanel", "ServeProcess", "port_problem"]
