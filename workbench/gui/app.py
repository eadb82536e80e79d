"""Starting the app: `run_app` is what `workbench` and `workbench open FILE_OR_PRESET` call.

The window appears without waiting for torch (~1.4 s to import): nothing the window needs to
show a project imports it, and once the window has been painted the training modules (torch
with them) are imported on the GUI thread between events, and the objects start-up made are
frozen out of the garbage collector's full passes (`workbench.gui.preload`); then a training
process is started that waits, warmed up, for the first Train click. A splash screen
is up before the window module is imported so that something appears at once. `--screenshot PATH` renders the window at
1440×900 with the project loaded, writes a PNG and returns; it works with QT_QPA_PLATFORM=offscreen.
With `--train` as well, the project is trained first in a training process followed by the
app's worker thread, exactly as the Train button does, and the screenshot shows the curves once the run has ended; the exit status is
1 (with the run's message on stderr) when the run failed or could not start.
"""

from __future__ import annotations

import atexit
import logging
import os
import sys
from collections.abc import Mapping
from typing import Any

from PySide6.QtCore import QCoreApplication, QEvent, QMessageLogContext, QRectF, QSize, Qt, QtMsgType, qInstallMessageHandler
from PySide6.QtGui import QColor, QFont, QGuiApplication, QPainter, QPixmap
from PySide6.QtWidgets import QApplication, QSplashScreen, QWidget

from workbench.gui import theme
from workbench.gui.i18n import install_language
from workbench.gui.settings import Settings

log = logging.getLogger(__name__)

SCREENSHOT_SIZE = QSize(1440, 900)


def _quiet_offscreen(mode: QtMsgType, context: QMessageLogContext, message: str) -> None:
    # The offscreen platform warns on every dock/tool window ("does not support
    # propagateSizeHints()"): noise for `--screenshot` runs; everything else is passed on.
    if "propagateSizeHints" in message:
        return
    print(message, file=sys.stderr)


def work_around_refcount_bugs() -> list[str]:
    """Keep PySide6's lost references from crashing the app; returns the singletons guarded.

    PySide6-Essentials 6.12.0 on Python 3.11 returns `None` from every void method
    (`label.setText(...)`, `timer.start()`, `widget.update()`...) and `True` from
    `signal.emit(...)` without a new reference, so each such call made from Python lowers the
    singleton's reference count by one. A bare process starts with ~5,000 references to None
    and the app with ~26,000 to True; 100,000 `setText` calls, or a minute of live plotting
    (pyqtgraph emits and repaints from Python on every update), end the process with "Fatal
    Python error: none_dealloc" / "bool_dealloc". Python 3.12+ has immortal singletons and is
    not affected. The guard gives the affected singletons a reference count that cannot run
    out (what Python 3.12 does for them). The dependency excludes 6.12.0 on Python < 3.12, so this
    is a fallback for environments that installed it anyway; it logs a warning when it engages.
    """
    if sys.version_info >= (3, 12) or getattr(work_around_refcount_bugs, "guarded", None) is not None:
        return list(getattr(work_around_refcount_bugs, "guarded", []))
    from PySide6.QtCore import QObject, Signal

    class _Probe(QObject):
        probed = Signal()

    probe = _Probe()
    none_before, true_before = sys.getrefcount(None), sys.getrefcount(True)
    for _ in range(4):
        probe.setObjectName("probe")  # a void method
    none_lost = none_before - sys.getrefcount(None)
    true_before = sys.getrefcount(True)
    for _ in range(4):
        probe.probed.emit()
    true_lost = true_before - sys.getrefcount(True)
    guarded = []
    import ctypes

    for name, obj, lost in (("None", None, none_lost), ("True", True, true_lost)):
        if lost > 0:
            # ob_refcnt is the first field of every CPython object.
            ctypes.c_ssize_t.from_address(id(obj)).value += (1 << 40) + lost
            guarded.append(name)
    work_around_refcount_bugs.guarded = guarded  # type: ignore[attr-defined]
    if guarded:
        import PySide6

        # A fallback: pyproject.toml keeps pip from choosing such a release on Python < 3.12.
        log.warning("PySide6 %s loses references to %s on calls from Python; the guard against it "
                    "engaged (install another PySide6-Essentials release, e.g. 6.11.3, to need none)",
                    PySide6.__version__, " and ".join(guarded))
    return guarded


def _release_clipboard() -> None:
    """At exit, while Python still runs: hand our layers on the clipboard over as plain text.

    The QMimeData that Copy put on the clipboard (and any Python wrapper of it, such as Paste's)
    would otherwise be deleted by Qt's static clean-up after the interpreter has finalised, and
    shiboken's destroy callback then crashes the process (exit status 139 after a clean run).
    """
    from workbench.gui.fragments import MIME_FRAGMENT

    if QGuiApplication.instance() is None:
        return
    clipboard = QGuiApplication.clipboard()
    data = clipboard.mimeData()
    if data is None or not data.hasFormat(MIME_FRAGMENT):
        return
    text = data.text() if data.hasText() else ""
    clipboard.clear()
    if text:
        clipboard.setText(text)  # a QMimeData made by Qt itself: nothing of Python's is left


def ensure_app() -> QApplication:
    """The QApplication, created with Workbench's names on first use."""
    work_around_refcount_bugs()
    if not getattr(ensure_app, "exit_hook", False):
        atexit.register(_release_clipboard)
        ensure_app.exit_hook = True  # type: ignore[attr-defined]
    app = QApplication.instance()
    if app is None:
        if os.environ.get("QT_QPA_PLATFORM") == "offscreen":
            qInstallMessageHandler(_quiet_offscreen)
        QGuiApplication.setHighDpiScaleFactorRoundingPolicy(Qt.HighDpiScaleFactorRoundingPolicy.PassThrough)
        app = QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    from workbench.gui.collector import install_main_thread_collector

    install_main_thread_collector()  # before any worker thread: see workbench.gui.collector
    app.setApplicationName("Workbench")
    app.setOrganizationName("Workbench")
    app.setApplicationDisplayName("Workbench")
    return app


def _splash() -> QSplashScreen:
    pix = QPixmap(420, 160)
    pix.fill(theme.colors().card)
    p = QPainter(pix)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    p.setPen(theme.colors().accent)
    font = QFont()
    font.setPointSizeF(22)
    font.setBold(True)
    p.setFont(font)
    p.drawText(QRectF(0, 30, 420, 50), Qt.AlignmentFlag.AlignCenter, "Workbench")
    p.setPen(QColor(theme.colors().text_dim))
    font.setPointSizeF(10)
    font.setBold(False)
    p.setFont(font)
    p.drawText(QRectF(0, 90, 420, 30), Qt.AlignmentFlag.AlignCenter,
               QCoreApplication.translate("App", "Loading the layer library…"))
    p.end()
    return QSplashScreen(pix)


def run_app(argv_project: str | None = None, screenshot: str | None = None, train: bool = False,
            overrides: Mapping[str, Any] | None = None) -> int:
    """Run the desktop app; with `screenshot`, write the window as PNG and return 0 (1 on failure).

    `overrides` replace training settings of the opened project (the CLI's --epochs, --lr...);
    `train` starts training once the project is open (when a training panel is plugged in).
    """
    from workbench.gui.display_check import check_display, has_display

    if screenshot is not None and not os.environ.get("QT_QPA_PLATFORM") and not has_display():
        os.environ["QT_QPA_PLATFORM"] = "offscreen"  # a screenshot needs no screen
    check_display()  # missing X libraries are named in one line here; Qt would abort the process
    app = ensure_app()
    settings = Settings()
    install_language(settings.language)
    theme.apply_theme(app, "light" if screenshot else settings.theme)

    splash = None
    if screenshot is None and QGuiApplication.platformName() not in ("offscreen", "minimal"):
        splash = _splash()
        splash.show()
        app.processEvents()

    from workbench.gui.main_window import MainWindow  # the core, Qt widgets and pyqtgraph; not torch

    window = MainWindow(settings, restore_layout=screenshot is None)
    window.training_overrides = dict(overrides or {})
    if screenshot is not None:
        code = render_screenshot(window, argv_project, screenshot, train=train)
        dispose(window)
        return code

    hints = QGuiApplication.styleHints()
    if hasattr(hints, "colorSchemeChanged"):  # follow the system's light/dark switch live
        hints.colorSchemeChanged.connect(lambda _scheme: window.apply_theme("system") if settings.theme == "system" else None)
    if argv_project:
        window.open_path_or_preset(argv_project)
    else:
        # The start page's cards (~15 ms, no torch) before the first paint, so that it does not
        # show an empty gallery first; their parameter counts come after it.
        window.load_presets(parameters=False)
    window.show()
    from workbench.gui.preload import warm_up_after_first_paint

    # torch & co. after the first paint, not before it; then a training process is started that
    # waits, warmed up, for the first Train click.
    warm_up_after_first_paint(window, done=window.training.start_spare)
    if train and window.session is not None:
        window.train()
    if splash is not None:
        splash.finish(window)
    if not argv_project:
        window.offer_recovery()
    code = app.exec()
    dispose(window)  # closing the window ended its training processes; this ends any left
    from workbench.training.child_process import end_all

    end_all()
    return code


def dispose(window: QWidget) -> None:
    """Delete the window (and its pyqtgraph plots) now, before the interpreter shuts down:
    pyqtgraph widgets still alive at exit can crash PySide6's finalisation (a segfault after
    a successful run would turn exit status 0 into 139)."""
    QCoreApplication.processEvents()  # calls queued for the window (single-shot timers) run while it exists
    window.deleteLater()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)


def render_screenshot(window, project: str | None, path: str, size: QSize = SCREENSHOT_SIZE,  # noqa: ANN001
                      train: bool = False) -> int:
    """Render `window` at `size` (with `project` open, else the start page) to a PNG file."""
    from workbench.errors import WorkbenchError

    failure: str | None = None
    window.autosave_timer.stop()
    window.setAttribute(Qt.WidgetAttribute.WA_DontShowOnScreen, True)
    window.resize(size)
    window.show()
    if project:
        from workbench.presets import resolve_project

        try:
            loaded = resolve_project(project)
        except WorkbenchError as exc:
            print(f"workbench: error: {exc}", file=sys.stderr)
            return 1
        window.open_project(loaded)
        if train:
            failure = _train_in_window(window)
            if failure is not None:
                print(f"workbench: error: {failure}", file=sys.stderr)
    else:
        window.load_presets()
    window.resize(size)
    app = QApplication.instance()
    for _ in range(5):
        app.processEvents()
    if window.session is not None:
        window.session.flush()
        window.session.refresh_summary()
        window.view.fit(min_zoom=0.75)
        app.processEvents()
    if train and project:
        window.curves_dock.show()
        window.curves_dock.raise_()
        window.training_dock.raise_()
        app.processEvents()
    image = window.grab().toImage()
    if image.size() != size:
        image = image.scaled(size, Qt.AspectRatioMode.IgnoreAspectRatio, Qt.TransformationMode.SmoothTransformation)
    ok = image.save(path, "PNG")
    window.setAttribute(Qt.WidgetAttribute.WA_DontShowOnScreen, False)
    window.hide()
    if window.session is not None:
        window.session.undo_stack.setClean()
    window.close()
    if not ok:
        print(f"workbench: error: cannot write the screenshot to {path}", file=sys.stderr)
        return 1
    return 1 if failure is not None else 0


def _train_in_window(window) -> str | None:  # noqa: ANN001
    """Press Train, wait until the run's thread has finished; None when the run did not fail."""
    panel = window.training
    panel.interactive = False  # no dialogs: a memory warning is shown, not asked
    window.statusBar().clearMessage()
    if not window.train():
        reason = window.statusBar().currentMessage() or panel.progress.status.text() or "training did not start"
        return f"cannot train: {reason}"
    outcome = panel.wait_for_run()
    if outcome is None:
        return "training did not end"
    if not outcome.ok:
        return f"training failed: {outcome.message} (run folder: {outcome.run_dir})"
    print(f"{outcome.status}: {outcome.message} -> {outcome.run_dir}", file=sys.stderr)
    return None
