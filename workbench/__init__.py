"""Workbench: design neural networks by drawing them, train them live, export them verified."""

__version__ = "0.1.0"
