"""The run folders of a project: found on disk, whoever made them (the app or `workbench train`). No Qt.

Runs live in `runs/` beside the project file (or in the working folder for an unsaved project),
exactly where `workbench.runs.default_run_dir` puts them. A folder belongs to the project when its
project.json carries the project's name; summary.json (written when a run ends) gives its outcome,
and a folder without one is a run still going, or one that was killed.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from workbench.project import Project
from workbench.safe_names import run_folder_name

log = logging.getLogger(__name__)

# The figure shown per task in the runs list, best first.
HEADLINE_METRICS = ("val_accuracy", "val_token_accuracy", "val_mae", "val_perplexity")


@dataclass
class RunInfo:
    """What the runs list shows about one run folder."""

    path: Path
    project: str
    status: str  # "finished" | "stopped" | "early_stopped" | "failed" | "running"
    summary: dict[str, Any] = field(default_factory=dict)
    started: float = 0.0  # when project.json was written: the run's start (for sorting)

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def last_checkpoint(self) -> Path | None:
        path = self.path / "checkpoints" / "last.pt"
        return path if path.is_file() else None

    def headline(self) -> tuple[str, float] | None:
        """(metric name, value) of the run's main validation figure, when it has one."""
        for name in HEADLINE_METRICS:
            value = self.summary.get(name)
            if isinstance(value, (int, float)):
                return name, float(value)
        return None


def display_name(path: Path, project_name: str | None, today: str | None = None) -> str:
    """How the runs list and the legend name a run: `digits-cnn-20261123-133304` of project
    digits-cnn is `13:33:04` today and `2026-11-23 13:33:04` before; other names stay as they are."""
    import time

    name = path.name
    stamp = name[len(prefix) + 1:] if project_name and name.startswith((prefix := run_folder_name(project_name)) + "-") else ""
    day, _, rest = stamp.partition("-")
    clock, _, count = rest.partition("-")
    if not (len(day) == 8 and day.isdigit() and len(clock) == 6 and clock.isdigit() and (not count or count.isdigit())):
        return name
    text = f"{clock[:2]}:{clock[2:4]}:{clock[4:]}"
    if day != (today or time.strftime("%Y%m%d")):
        text = f"{day[:4]}-{day[4:6]}-{day[6:]} {text}"
    return f"{text} ({count})" if count else text


def runs_root(project: Project) -> Path:
    """The folder new runs of `project` go into (the parent of `default_run_dir`)."""
    return project.runs_dir


def read_run_info(folder: Path) -> RunInfo | None:
    """A run folder's facts, or None when `folder` is not a run folder."""
    try:
        header = json.loads((folder / "project.json").read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError, UnicodeDecodeError):
        return None
    if not isinstance(header, dict):
        return None
    summary: dict[str, Any] = {}
    status = "running"
    try:
        loaded = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
        if isinstance(loaded, dict):
            summary = loaded
            status = str(loaded.get("status", "finished"))
    except FileNotFoundError:
        pass
    except (OSError, json.JSONDecodeError, UnicodeDecodeError) as exc:
        log.warning("unreadable summary in %s: %s", folder, exc)
    try:
        started = os.stat(folder / "project.json").st_mtime
    except OSError:
        started = 0.0
    return RunInfo(folder, str(header.get("name", "")), status, summary, started)


def find_runs(root: Path, project_name: str | None = None) -> list[RunInfo]:
    """Run folders directly under `root` (of `project_name` when given), oldest first."""
    if not root.is_dir():
        return []
    found = []
    for folder in root.iterdir():
        if not folder.is_dir():
            continue
        info = read_run_info(folder)
        if info is None or (project_name is not None and info.project != project_name):
            continue
        found.append(info)
    found.sort(key=lambda r: (r.started, r.name))
    return found
