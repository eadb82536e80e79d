"""Starting the app: `run_app` is what `workbench` and `workbench open FILE_OR_PRESET` call.

The window module pulls in the layer library (and with it torch, ~2 s); a splash screen is up
before that import so that something appears at once. `--screenshot PATH` renders the window at
1440×900 with the project loaded, writes a PNG and returns; it works with QT_QPA_PLATFORM=offscreen.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Mapping
from typing import Any

from PySide6.QtCore import QCoreApplication, QMessageLogContext, QRectF, QSize, Qt, QtMsgType, qInstallMessageHandler
from PySide6.QtGui import QColor, QFont, QGuiApplication, QPainter, QPixmap
from PySide6.QtWidgets import QApplication, QSplashScreen

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


def ensure_app() -> QApplication:
    """The QApplication, created with Workbench's names on first use."""
    app = QApplication.instance()
    if app is None:
        if os.environ.get("QT_QPA_PLATFORM") == "offscreen":
            qInstallMessageHandler(_quiet_offscreen)
        QGuiApplication.setHighDpiScaleFactorRoundingPolicy(Qt.HighDpiScaleFactorRoundingPolicy.PassThrough)
        app = QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
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
    app = ensure_app()
    settings = Settings()
    install_language(settings.language)
    theme.apply_theme(app, "light" if screenshot else settings.theme)

    splash = None
    if screenshot is None and QGuiApplication.platformName() not in ("offscreen", "minimal"):
        splash = _splash()
        splash.show()
        app.processEvents()

    from workbench.gui.main_window import MainWindow  # imports the core (and torch)

    window = MainWindow(settings, restore_layout=screenshot is None)
    window.training_overrides = dict(overrides or {})
    if screenshot is not None:
        return render_screenshot(window, argv_project, screenshot, train=train)

    hints = QGuiApplication.styleHints()
    if hasattr(hints, "colorSchemeChanged"):  # follow the system's light/dark switch live
        hints.colorSchemeChanged.connect(lambda _scheme: window.apply_theme("system") if settings.theme == "system" else None)
    if argv_project:
        window.open_path_or_preset(argv_project)
    window.show()
    if train and window.session is not None:
        window.train()
    if splash is not None:
        splash.finish(window)
    if not argv_project:
        window.offer_recovery()
    return app.exec()


def render_screenshot(window, project: str | None, path: str, size: QSize = SCREENSHOT_SIZE,  # noqa: ANN001
                      train: bool = False) -> int:
    """Render `window` at `size` (with `project` open, else the start page) to a PNG file."""
    from workbench.errors import WorkbenchError

    window.autosave_timer.stop()
    window.setAttribute(Qt.WidgetAttribute.WA_DontShowOnScreen, True)
    window.resize(size)
    window.show()
    if project:
        from workbench.presets import resolve_project

        try:
            loaded = resolve_project(project)
        except WorkbenchError as exc:
            print(f"workbench: {exc}", file=sys.stderr)
            return 1
        window.open_project(loaded)
        if train:
            window.train()
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
        print(f"workbench: cannot write the screenshot to {path}", file=sys.stderr)
        return 1
    return 0
