"""Run › Search…: the app's view of a hyperparameter search (workbench.tuning) on the open project."""

from __future__ import annotations

from workbench.gui.search.view import SearchWindow, open_search_window

__all__ = ["SearchWindow", "open_search_window"]
