"""The desktop app (PySide6 + pyqtgraph). The only package that imports Qt.

Entry point: `workbench.gui.app.run_app`.
"""
