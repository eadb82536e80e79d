"""Light and dark themes: the application palette and the canvas colours, in one place.

The widgets use Qt's Fusion style with a palette of ours, so both themes look the same on every
platform; "system" follows the colour scheme the platform reports (Qt 6.5+).
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication


@dataclass(frozen=True)
class CanvasColors:
    """Everything the canvas paints with."""

    background: QColor
    grid_minor: QColor
    grid_major: QColor
    card: QColor
    card_border: QColor
    text: QColor
    text_dim: QColor
    edge: QColor
    edge_label_bg: QColor
    edge_label_text: QColor
    selection: QColor
    error: QColor
    warning: QColor
    port: QColor
    port_hover: QColor
    accent: QColor


# Category -> header colour; chosen to be told apart at a glance and to read white text on.
CATEGORY_COLORS: dict[str, str] = {
    "Input / Output": "#4a5568",
    "Dense": "#2b6cb0",
    "Convolution": "#2f855a",
    "Pooling": "#38a169",
    "Normalization": "#805ad5",
    "Activation": "#dd6b20",
    "Regularization": "#b7791f",
    "Reshape": "#718096",
    "Embedding": "#0987a0",
    "Attention": "#c53030",
    "Recurrent": "#9c4221",
    "Merge": "#d53f8c",
}
BLOCK_COLOR = "#553c9a"

LIGHT = CanvasColors(
    background=QColor("#f4f5f7"),
    grid_minor=QColor("#e6e8ec"),
    grid_major=QColor("#d5d9df"),
    card=QColor("#ffffff"),
    card_border=QColor("#c3c8d0"),
    text=QColor("#1a202c"),
    text_dim=QColor("#5a6474"),
    edge=QColor("#7b8494"),
    edge_label_bg=QColor("#ffffff"),
    edge_label_text=QColor("#2d3748"),
    selection=QColor("#3182ce"),
    error=QColor("#e53e3e"),
    warning=QColor("#d69e2e"),
    port=QColor("#a0aec0"),
    port_hover=QColor("#3182ce"),
    accent=QColor("#3182ce"),
)

DARK = CanvasColors(
    background=QColor("#1c1f24"),
    grid_minor=QColor("#24282e"),
    grid_major=QColor("#2e333a"),
    card=QColor("#2a2f37"),
    card_border=QColor("#434a55"),
    text=QColor("#e8ebef"),
    text_dim=QColor("#a3adba"),
    edge=QColor("#8892a0"),
    edge_label_bg=QColor("#2a2f37"),
    edge_label_text=QColor("#e2e8f0"),
    selection=QColor("#63b3ed"),
    error=QColor("#fc6b6b"),
    warning=QColor("#f6c343"),
    port=QColor("#718096"),
    port_hover=QColor("#63b3ed"),
    accent=QColor("#63b3ed"),
)

_current: CanvasColors = LIGHT


def colors() -> CanvasColors:
    """The canvas colours of the theme in use."""
    return _current


def is_dark() -> bool:
    return _current is DARK


def category_color(category: str) -> QColor:
    return QColor(CATEGORY_COLORS.get(category, BLOCK_COLOR))


def system_prefers_dark() -> bool:
    hints = QGuiApplication.styleHints()
    scheme = getattr(hints, "colorScheme", None)
    return bool(scheme) and scheme() == Qt.ColorScheme.Dark


def apply_theme(app: QApplication, name: str = "system") -> CanvasColors:
    """Set the style and palette for "light", "dark" or "system"; returns the canvas colours."""
    global _current
    dark = system_prefers_dark() if name == "system" else name == "dark"
    _current = DARK if dark else LIGHT
    app.setStyle("Fusion")
    app.setPalette(_dark_palette() if dark else _light_palette())
    return _current


def _light_palette() -> QPalette:
    p = QPalette()
    role = QPalette.ColorRole
    p.setColor(role.Window, QColor("#eef0f3"))
    p.setColor(role.WindowText, QColor("#1a202c"))
    p.setColor(role.Base, QColor("#ffffff"))
    p.setColor(role.AlternateBase, QColor("#f5f6f8"))
    p.setColor(role.Text, QColor("#1a202c"))
    p.setColor(role.Button, QColor("#f7f8fa"))
    p.setColor(role.ButtonText, QColor("#1a202c"))
    p.setColor(role.Highlight, QColor("#3182ce"))
    p.setColor(role.HighlightedText, QColor("#ffffff"))
    p.setColor(role.ToolTipBase, QColor("#ffffff"))
    p.setColor(role.ToolTipText, QColor("#1a202c"))
    p.setColor(role.PlaceholderText, QColor("#8a94a3"))
    p.setColor(role.Link, QColor("#2b6cb0"))
    p.setColor(QPalette.ColorGroup.Disabled, role.Text, QColor("#a0a8b4"))
    p.setColor(QPalette.ColorGroup.Disabled, role.ButtonText, QColor("#a0a8b4"))
    p.setColor(QPalette.ColorGroup.Disabled, role.WindowText, QColor("#a0a8b4"))
    return p


def _dark_palette() -> QPalette:
    p = QPalette()
    role = QPalette.ColorRole
    p.setColor(role.Window, QColor("#23272e"))
    p.setColor(role.WindowText, QColor("#e8ebef"))
    p.setColor(role.Base, QColor("#1b1e23"))
    p.setColor(role.AlternateBase, QColor("#262a31"))
    p.setColor(role.Text, QColor("#e8ebef"))
    p.setColor(role.Button, QColor("#2d323a"))
    p.setColor(role.ButtonText, QColor("#e8ebef"))
    p.setColor(role.Highlight, QColor("#3d7fc4"))
    p.setColor(role.HighlightedText, QColor("#ffffff"))
    p.setColor(role.ToolTipBase, QColor("#2d323a"))
    p.setColor(role.ToolTipText, QColor("#e8ebef"))
    p.setColor(role.PlaceholderText, QColor("#7d8794"))
    p.setColor(role.Link, QColor("#63b3ed"))
    p.setColor(role.BrightText, QColor("#ff6b6b"))
    p.setColor(QPalette.ColorGroup.Disabled, role.Text, QColor("#6b7380"))
    p.setColor(QPalette.ColorGroup.Disabled, role.ButtonText, QColor("#6b7380"))
    p.setColor(QPalette.ColorGroup.Disabled, role.WindowText, QColor("#6b7380"))
    return p
