"""Where the app keeps what outlives a session: preferences, recent files, window layout,
the autosave recovery file and the user's block library.

Everything lives in one folder: `$WORKBENCH_CONFIG_DIR` when set (tests point it at a temporary
folder), else the platform's per-user config location. QSettings is an INI file in that folder so
that the app never touches the registry or a plist behind the user's back.
"""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings, QStandardPaths

MAX_RECENT = 10

# Preference keys and their defaults.
LANGUAGE = "preferences/language"  # "system" | "en" | "zh_CN"
THEME = "preferences/theme"  # "system" | "light" | "dark"
SNAP = "preferences/snap_to_grid"
AUTOSAVE_SECONDS = "preferences/autosave_seconds"
PROJECTS_FOLDER = "preferences/projects_folder"  # "" means the default, ~/Workbench
LAST_FOLDER = "paths/last_folder"  # where the last project was saved or opened
DEFAULTS: dict[str, object] = {LANGUAGE: "system", THEME: "system", SNAP: True, AUTOSAVE_SECONDS: 30}


def config_dir() -> Path:
    """The folder for settings, recovery file and block library (created on demand)."""
    override = os.environ.get("WORKBENCH_CONFIG_DIR")
    if override:
        base = Path(override)
    else:
        location = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppConfigLocation)
        base = Path(location) if location else Path.home() / ".config" / "workbench"
    base.mkdir(parents=True, exist_ok=True)
    return base


def default_projects_folder() -> Path:
    """~/Workbench: the projects folder until the user chooses another."""
    return Path.home() / "Workbench"


def recovery_path() -> Path:
    """The autosave file; it exists only while a session has unsaved work (or crashed)."""
    return config_dir() / "recovery.json"


def blocks_path() -> Path:
    """The user's block library (JSON)."""
    return config_dir() / "blocks.json"


class Settings:
    """Typed access to the app's QSettings."""

    def __init__(self) -> None:
        self._qs = QSettings(str(config_dir() / "workbench.ini"), QSettings.Format.IniFormat)

    # ----- preferences ---------------------------------------------------------------------

    def value(self, key: str) -> object:
        default = DEFAULTS.get(key)
        raw = self._qs.value(key, default)
        # INI files give strings back: convert to the default's type.
        if isinstance(default, bool):
            return raw if isinstance(raw, bool) else str(raw).lower() in ("true", "1", "yes")
        if isinstance(default, int):
            try:
                return int(raw)  # type: ignore[arg-type]
            except (TypeError, ValueError):
                return default
        return raw

    def set_value(self, key: str, value: object) -> None:
        self._qs.setValue(key, value)
        self._qs.sync()

    @property
    def language(self) -> str:
        return str(self.value(LANGUAGE))

    @property
    def theme(self) -> str:
        return str(self.value(THEME))

    @property
    def snap_to_grid(self) -> bool:
        return bool(self.value(SNAP))

    @property
    def autosave_seconds(self) -> int:
        return max(5, int(self.value(AUTOSAVE_SECONDS)))  # type: ignore[call-overload]

    @property
    def projects_folder(self) -> Path:
        """Where new projects are saved, and where the runs of a project without a file go."""
        chosen = str(self._qs.value(PROJECTS_FOLDER, "") or "")
        return Path(chosen).expanduser() if chosen else default_projects_folder()

    def set_projects_folder(self, folder: str | os.PathLike[str] | None) -> None:
        """Choose the projects folder (None or "" for the default)."""
        self.set_value(PROJECTS_FOLDER, str(folder) if folder else "")

    @property
    def last_folder(self) -> Path | None:
        """The folder of the project saved or opened last, while it exists."""
        raw = str(self._qs.value(LAST_FOLDER, "") or "")
        return Path(raw) if raw and Path(raw).is_dir() else None

    def remember_folder(self, path: str | os.PathLike[str]) -> None:
        """Remember the folder of a project file just saved or opened."""
        self.set_value(LAST_FOLDER, str(Path(path).resolve().parent))

    def save_folder(self) -> Path:
        """Where Save As starts: the last-used folder, else the projects folder (created)."""
        last = self.last_folder
        if last is not None:
            return last
        folder = self.projects_folder
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError:
            return Path.home()
        return folder

    # ----- recent files --------------------------------------------------------------------

    def recent_files(self) -> list[str]:
        raw = self._qs.value("recent/files", [])
        if isinstance(raw, str):
            raw = [raw] if raw else []
        return [str(p) for p in (raw or [])][:MAX_RECENT]

    def add_recent_file(self, path: str | os.PathLike[str]) -> list[str]:
        text = str(Path(path).resolve())
        files = [text] + [p for p in self.recent_files() if p != text]
        self._qs.setValue("recent/files", files[:MAX_RECENT])
        self._qs.sync()
        return files[:MAX_RECENT]

    def remove_recent_file(self, path: str) -> None:
        self._qs.setValue("recent/files", [p for p in self.recent_files() if p != path])
        self._qs.sync()

    def clear_recent_files(self) -> None:
        self._qs.setValue("recent/files", [])
        self._qs.sync()

    # ----- window layout -------------------------------------------------------------------

    def window_geometry(self) -> QByteArray | None:
        value = self._qs.value("window/geometry")
        return value if isinstance(value, QByteArray) else None

    def window_state(self) -> QByteArray | None:
        value = self._qs.value("window/state")
        return value if isinstance(value, QByteArray) else None

    def save_window(self, geometry: QByteArray, state: QByteArray) -> None:
        self._qs.setValue("window/geometry", geometry)
        self._qs.setValue("window/state", state)
        self._qs.sync()
