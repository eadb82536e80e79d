"""Display names for words the core stores in English (palette categories, tasks).

The core keeps stable English ids; the GUI translates them for display only. The tables are
marked with QT_TRANSLATE_NOOP so that `pyside6-lupdate` extracts them.
"""

from __future__ import annotations

from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication

_CATEGORIES = (
    QT_TRANSLATE_NOOP("Category", "Input / Output"),
    QT_TRANSLATE_NOOP("Category", "Dense"),
    QT_TRANSLATE_NOOP("Category", "Convolution"),
    QT_TRANSLATE_NOOP("Category", "Pooling"),
    QT_TRANSLATE_NOOP("Category", "Normalization"),
    QT_TRANSLATE_NOOP("Category", "Activation"),
    QT_TRANSLATE_NOOP("Category", "Regularization"),
    QT_TRANSLATE_NOOP("Category", "Reshape"),
    QT_TRANSLATE_NOOP("Category", "Embedding"),
    QT_TRANSLATE_NOOP("Category", "Attention"),
    QT_TRANSLATE_NOOP("Category", "Recurrent"),
    QT_TRANSLATE_NOOP("Category", "Merge"),
    QT_TRANSLATE_NOOP("Category", "Blocks"),
)

_TASKS = (
    QT_TRANSLATE_NOOP("Task", "classification"),
    QT_TRANSLATE_NOOP("Task", "regression"),
    QT_TRANSLATE_NOOP("Task", "language model"),
    QT_TRANSLATE_NOOP("Task", "unknown"),
)


def category_label(category: str) -> str:
    """A palette category in the user's language."""
    return QCoreApplication.translate("Category", category)


def task_label(task: str) -> str:
    """A preset's task in the user's language."""
    return QCoreApplication.translate("Task", task)


def count_label(n: int) -> str:
    """1234567 -> '1.23M' (same rule as the core's summary)."""
    for unit, size in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(n) >= size:
            return f"{n / size:.3g}{unit}"
    return str(int(n))
