"""Bundled presets: ready projects in the repository's `presets/` folder, opened by name or path."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from workbench.errors import ProjectFileError
from workbench.graph.document import Graph
from workbench.project import Project, load_project

PRESETS_DIR = Path(__file__).resolve().parent.parent / "presets"


@dataclass(frozen=True)
class PresetInfo:
    """What the preset gallery and `workbench presets` show."""

    name: str
    task: str
    dataset: str
    description: str
    parameters: int
    path: Path


def task_of(graph: Graph) -> str:
    """classification, regression or language model, read from the Input and Output nodes."""
    output = next((n for n in graph.nodes if n.type == "Output"), None)
    source = next((n for n in graph.nodes if n.type == "Input"), None)
    if output is None:
        return "unknown"
    if output.params["loss"] == "mse":
        return "regression"
    if source is not None and source.params["kind"] == "tokens":
        return "language model"
    return "classification"


def preset_paths() -> list[Path]:
    return sorted(PRESETS_DIR.glob("*.json"))


def list_presets() -> list[PresetInfo]:
    """Every bundled preset with its task, dataset and parameter count."""
    from workbench.graph.summary import summarize

    infos = []
    for path in preset_paths():
        project = load_project(path)
        infos.append(PresetInfo(
            name=path.stem,
            task=task_of(project.graph),
            dataset=project.dataset.source,
            description=project.description,
            parameters=summarize(project.graph).total_params,
            path=path,
        ))
    return infos


def load_preset(name: str) -> Project:
    """A fresh copy of a bundled preset; it has no file of its own until the user saves it."""
    path = PRESETS_DIR / f"{name}.json"
    if not path.is_file():
        known = ", ".join(p.stem for p in preset_paths()) or "none found"
        raise ProjectFileError(f"no preset named '{name}' (presets: {known})")
    project = load_project(path)
    project.path = None
    return project


def resolve_project(name_or_path: str | os.PathLike[str]) -> Project:
    """A project file's path, or a preset's name."""
    text = os.fspath(name_or_path)
    path = Path(text)
    if path.suffix == ".json" or os.sep in text or path.exists():
        return load_project(path)
    return load_preset(text)
