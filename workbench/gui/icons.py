"""Icons from the bundled `icons/*.svg` (`assets/` in the repository), tinted with the theme's text colour when loaded."""

from __future__ import annotations

from functools import lru_cache

from PySide6.QtCore import QByteArray, QRectF, Qt
from PySide6.QtGui import QIcon, QPainter, QPixmap
from PySide6.QtSvg import QSvgRenderer

from workbench.gui import theme
from workbench.resources import asset_path

PLACEHOLDER = "#000000"


def icon(name: str, color: str | None = None) -> QIcon:
    """The named icon in the current theme (an empty icon if the file is missing)."""
    return _icon(name, color or theme.colors().text.name())


def clear_cache() -> None:
    """Forget tinted icons (the theme changed)."""
    _icon.cache_clear()


@lru_cache(maxsize=128)
def _icon(name: str, color: str) -> QIcon:
    path = asset_path("icons", f"{name}.svg")
    if not path.is_file():
        return QIcon()
    data = path.read_text(encoding="utf-8").replace(PLACEHOLDER, color)
    renderer = QSvgRenderer(QByteArray(data.encode()))
    result = QIcon()
    for size in (16, 24, 32, 48):
        for ratio in (1, 2):
            pix = QPixmap(size * ratio, size * ratio)
            pix.setDevicePixelRatio(ratio)
            pix.fill(Qt.GlobalColor.transparent)
            painter = QPainter(pix)
            renderer.render(painter, QRectF(0, 0, size, size))
            painter.end()
            result.addPixmap(pix)
    return result
