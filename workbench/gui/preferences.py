"""The Preferences dialog: language, theme, snapping, autosave and the projects folder."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import (QCheckBox, QComboBox, QDialog, QDialogButtonBox, QFileDialog, QFormLayout, QHBoxLayout,
                               QLineEdit, QPushButton, QSpinBox, QWidget)

from workbench.gui import settings as keys
from workbench.gui.i18n import LANGUAGES
from workbench.gui.settings import Settings, default_projects_folder


class PreferencesDialog(QDialog):
    """Edits the preference keys of Settings; the caller applies them after `accept`."""

    def __init__(self, settings: Settings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.settings = settings
        self.setWindowTitle(self.tr("Preferences"))
        self.language = QComboBox()
        self.language.addItem(self.tr("System language"), "system")
        for code, name in LANGUAGES.items():
            self.language.addItem(name, code)
        self.language.setCurrentIndex(max(0, self.language.findData(settings.language)))
        self.theme = QComboBox()
        for label, value in ((self.tr("Follow the system"), "system"), (self.tr("Light"), "light"), (self.tr("Dark"), "dark")):
            self.theme.addItem(label, value)
        self.theme.setCurrentIndex(max(0, self.theme.findData(settings.theme)))
        self.snap = QCheckBox(self.tr("Snap cards to the grid"))
        self.snap.setChecked(settings.snap_to_grid)
        self.autosave = QSpinBox()
        self.autosave.setRange(5, 3600)
        self.autosave.setSuffix(self.tr(" s"))
        self.autosave.setValue(settings.autosave_seconds)
        self.projects_folder = QLineEdit(str(settings.projects_folder))
        self.projects_folder.setToolTip(self.tr("Save As starts here, and the runs of a project that has no file yet "
                                                "go to its runs/ folder"))
        choose = QPushButton(self.tr("Choose…"))
        choose.clicked.connect(self._choose_folder)
        folder_row = QHBoxLayout()
        folder_row.addWidget(self.projects_folder, 1)
        folder_row.addWidget(choose)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form = QFormLayout(self)
        form.addRow(self.tr("Language"), self.language)
        form.addRow(self.tr("Theme"), self.theme)
        form.addRow("", self.snap)
        form.addRow(self.tr("Autosave every"), self.autosave)
        form.addRow(self.tr("Projects folder"), folder_row)
        form.addRow(buttons)

    def _choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, self.tr("Projects folder"), self.projects_folder.text())
        if folder:
            self.projects_folder.setText(folder)

    def store(self) -> None:
        """Write the chosen values to the settings."""
        self.settings.set_value(keys.LANGUAGE, self.language.currentData())
        self.settings.set_value(keys.THEME, self.theme.currentData())
        self.settings.set_value(keys.SNAP, self.snap.isChecked())
        self.settings.set_value(keys.AUTOSAVE_SECONDS, self.autosave.value())
        folder = self.projects_folder.text().strip()
        self.settings.set_projects_folder(None if not folder or Path(folder).expanduser() == default_projects_folder()
                                          else folder)
