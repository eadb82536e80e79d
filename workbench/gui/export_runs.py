"""The runs the Export dialog offers: found in `runs/` beside the project file, read from their
summary.json, and checked in a glance (files present) before an export is started.

No torch and no Qt: listing a folder of runs must be instant. The full check (the checkpoint
loads and fits the network) is `workbench.runs.load_run`, which the export itself calls; the
quick check here words the same problems the same way, so a user meets one message either way.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from workbench.project import Project

RUNS = "runs"  # the folder `default_run_dir` trains into, beside the project file
CHECKPOINTS = "checkpoints"  # as workbench.runs.CHECKPOINTS (not imported: that module pulls in the graph builder)
EXPORT = "export"  # default output folder, inside the run folder


@dataclass(frozen=True)
class RunEntry:
    """One run folder as summary.json describes it (fields are None where it does not say)."""

    path: Path
    project: str | None  # the project's name when it was trained
    status: str | None  # "finished", "stopped", "failed"...
    epochs: int | None
    val_accuracy: float | None
    val_loss: float | None
    modified: float  # summary.json's modification time: the newest run first

    @property
    def name(self) -> str:
        return self.path.name


def runs_folder(project: Project | None) -> Path:
    """Where `workbench train` and the app put the runs of `project`."""
    from workbench.project import unsaved_home

    base = project.base_dir if project is not None and project.base_dir is not None else unsaved_home()
    return base / RUNS


def read_run(path: str | Path) -> RunEntry | None:
    """The run in `path`, or None when it has no readable summary.json (not a run, or still training)."""
    root = Path(path)
    summary_path = root / "summary.json"
    try:
        summary = json.loads(summary_path.read_text(encoding="utf-8"))
        modified = summary_path.stat().st_mtime
    except (OSError, ValueError):
        return None
    if not isinstance(summary, dict):
        return None
    accuracy = summary.get("val_accuracy", summary.get("val_token_accuracy"))
    return RunEntry(
        path=root,
        project=_text(summary.get("project")),
        status=_text(summary.get("status")),
        epochs=summary["epochs"] if isinstance(summary.get("epochs"), int) else None,
        val_accuracy=_number(accuracy),
        val_loss=_number(summary.get("val_loss")),
        modified=modified,
    )


def find_runs(folder: str | Path, project_name: str | None = None) -> list[RunEntry]:
    """Every run in `folder`: those of `project_name` first, then the others; newest first within each."""
    root = Path(folder)
    try:
        children = [p for p in root.iterdir() if p.is_dir()]
    except OSError:
        return []
    runs = [entry for entry in map(read_run, children) if entry is not None]
    return sorted(runs, key=lambda r: (r.project != project_name, -r.modified, r.name))


def run_problem(path: str | Path) -> str | None:
    """Why `path` cannot be exported, found without loading anything; None when it looks complete."""
    root = Path(path)
    if not root.is_dir():
        return f"{root}: no such run folder"
    for needed in ("project.json", "data.json"):
        if not (root / needed).is_file():
            return f"{root}: not a complete run folder ({needed} is missing) — train it with 'workbench train'"
    checkpoints = root / CHECKPOINTS
    if not (checkpoints / "best.pt").is_file() and not (checkpoints / "last.pt").is_file():
        return f"{root}: no checkpoint (best.pt is missing) — the run has not finished an epoch"
    return None


def default_output_folder(run_dir: str | Path) -> Path:
    """`RUN/export`, or `RUN/export-2`... when an earlier export already fills it."""
    root = Path(run_dir)
    candidate, n = root / EXPORT, 2
    while _has_files(candidate):
        candidate, n = root / f"{EXPORT}-{n}", n + 1
    return candidate


def _has_files(folder: Path) -> bool:
    try:
        return folder.exists() and (not folder.is_dir() or any(folder.iterdir()))
    except OSError:
        return True


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


__all__ = ["RunEntry", "default_output_folder", "find_runs", "read_run", "run_problem", "runs_folder"]
