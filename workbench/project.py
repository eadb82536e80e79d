"""Project files: one versioned JSON document with the graph, the dataset and the training settings.

Loading runs in stages (parse, check the record's shape, resolve layer types against the
registry) and reports every problem with the path to its field; nothing is half-loaded and
nothing in the file is ever executed. Saving is atomic: a crash mid-save leaves the previous
file intact.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from workbench.data.bundle import DatasetSpec
from workbench.errors import GraphError, ProjectFileError
from workbench.files import write_text_atomic
from workbench.graph.document import Graph
from workbench.layers.registry import layer_spec
from workbench.training.settings import TrainSettings

FORMAT_VERSION = 1
FILE_KIND = "workbench-project"
_TOP_KEYS = {"format_version", "kind", "name", "description", "dataset", "training", "graph"}
# The project's settings records, by their key in the file; a setting's path is "<key>.<field>".
SETTINGS_RECORDS: dict[str, type] = {"dataset": DatasetSpec, "training": TrainSettings}


@dataclass(frozen=True)
class SettingsChanged:
    """The project's run settings changed: the paths of the settings that did ("training.lr")."""

    paths: frozenset[str]


@dataclass
class Project:
    """What a user designs and trains: the network, its data and how to train it."""

    name: str
    graph: Graph
    dataset: DatasetSpec = field(default_factory=DatasetSpec)
    training: TrainSettings = field(default_factory=TrainSettings)
    description: str = ""
    # Where the project was read from; relative dataset paths resolve against its folder.
    path: Path | None = field(default=None, compare=False)
    _listeners: list[Callable[[SettingsChanged], None]] = field(default_factory=list, init=False, repr=False,
                                                                 compare=False)

    @property
    def base_dir(self) -> Path | None:
        return self.path.parent if self.path else None

    @property
    def runs_dir(self) -> Path:
        """Where its runs go: runs/ beside the project file (or in the working folder)."""
        return (self.base_dir or Path.cwd()) / "runs"

    def to_dict(self) -> dict[str, Any]:
        return project_to_dict(self)

    # ----- settings as document edits: the editor's commands call this, its views follow the event

    def subscribe(self, listener: Callable[[SettingsChanged], None]) -> None:
        """Call `listener` with a SettingsChanged after each `set_settings` that changes something."""
        self._listeners.append(listener)

    def unsubscribe(self, listener: Callable[[SettingsChanged], None]) -> None:
        self._listeners.remove(listener)

    def set_settings(self, training: TrainSettings | None = None, dataset: DatasetSpec | None = None) -> None:
        """Replace the training settings and/or the dataset, then tell the listeners what changed."""
        changed = {f"{key}.{f.name}" for key, old, new in (("training", self.training, training),
                                                            ("dataset", self.dataset, dataset))
                   if new is not None for f in fields(old) if getattr(old, f.name) != getattr(new, f.name)}
        self.training = training if training is not None else self.training
        self.dataset = dataset if dataset is not None else self.dataset
        if changed:
            event = SettingsChanged(frozenset(changed))
            for listener in list(self._listeners):
                listener(event)


def project_to_dict(project: Project) -> dict[str, Any]:
    """The JSON record written to disk."""
    return {
        "kind": FILE_KIND,
        "format_version": FORMAT_VERSION,
        "name": project.name,
        "description": project.description,
        "dataset": project.dataset.to_dict(),
        "training": project.training.to_dict(),
        "graph": project.graph.to_dict(),
    }


def dumps_project(project: Project) -> str:
    return json.dumps(project_to_dict(project), indent=2, ensure_ascii=False) + "\n"


def save_project(project: Project, path: str | os.PathLike[str]) -> Path:
    """Write atomically (temp file in the same folder, then rename) and remember the path."""
    target = Path(path)
    write_text_atomic(target, dumps_project(project))
    project.path = target
    return target


def load_project(path: str | os.PathLike[str]) -> Project:
    """Read and validate a project file; ProjectFileError names the file and the first problem."""
    source = Path(path)
    try:
        raw = source.read_bytes()
    except FileNotFoundError:
        raise ProjectFileError(f"{source}: no such file") from None
    except IsADirectoryError:
        raise ProjectFileError(f"{source}: is a folder, not a project file") from None
    except OSError as exc:
        raise ProjectFileError(f"{source}: cannot be read ({exc.strerror})") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ProjectFileError(f"{source}: not a text file (byte {exc.start} is not UTF-8) — is this a Workbench project?") from None
    if not text.strip():
        raise ProjectFileError(f"{source}: the file is empty")
    try:
        record = json.loads(text)
    except json.JSONDecodeError as exc:
        hint = " — the file looks truncated" if exc.pos >= len(text.rstrip()) - 1 else ""
        raise ProjectFileError(f"{source}: not valid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}{hint}") from None
    project = project_from_dict(record, origin=str(source))
    project.path = source
    return project


def project_from_dict(record: Any, origin: str = "project") -> Project:
    """Validate a parsed record and build the Project; every problem is collected with its path."""
    problems: list[str] = []
    if not isinstance(record, dict):
        raise ProjectFileError(f"{origin}: expected a JSON object at the top, got {_type_name(record)}")
    version = record.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise ProjectFileError(f"{origin}: format_version: expected an integer, got {_show(version)} — is this a Workbench project?")
    if version > FORMAT_VERSION:
        raise ProjectFileError(
            f"{origin}: written by a newer Workbench (format {version}; this version reads up to {FORMAT_VERSION}) — update Workbench"
        )
    if version < 1:
        raise ProjectFileError(f"{origin}: format_version {version} is not a known format")
    if record.get("kind", FILE_KIND) != FILE_KIND:
        problems.append(f"kind: expected '{FILE_KIND}', got {_show(record.get('kind'))}")
    for key in sorted(set(record) - _TOP_KEYS):
        problems.append(f"{key}: unknown field (known: {', '.join(sorted(_TOP_KEYS))})")

    name = record.get("name", "untitled")
    if not isinstance(name, str) or not name.strip():
        problems.append(f"name: expected a non-empty text, got {_show(name)}")
        name = "untitled"
    description = record.get("description", "")
    if not isinstance(description, str):
        problems.append(f"description: expected text, got {_show(description)}")
        description = ""

    dataset = _dataset_from(record.get("dataset", {}), problems)
    training = TrainSettings()
    try:
        training = TrainSettings.from_dict(record.get("training", {}), where="training")
    except ProjectFileError as exc:
        problems.append(str(exc))
    graph = graph_from_dict(record.get("graph"), problems)

    if problems:
        extra = f" (and {len(problems) - 1} more problem{'s' if len(problems) > 2 else ''})" if len(problems) > 1 else ""
        error = ProjectFileError(f"{origin}: {problems[0]}{extra}")
        error.problems = [f"{origin}: {p}" for p in problems]  # type: ignore[attr-defined]
        raise error
    return Project(name=name, graph=graph, dataset=dataset, training=training, description=description)


def graph_from_dict(record: Any, problems: list[str], where: str = "graph") -> Graph:
    """Rebuild a Graph from its record, appending each problem (with its path) to `problems`."""
    graph = Graph()
    if not isinstance(record, dict):
        problems.append(f"{where}: expected an object with 'nodes' and 'edges', got {_show(record)}")
        return graph
    nodes = record.get("nodes")
    edges = record.get("edges", [])
    if not isinstance(nodes, list):
        problems.append(f"{where}.nodes: expected a list, got {_show(nodes)}")
        return graph
    if not isinstance(edges, list):
        problems.append(f"{where}.edges: expected a list, got {_show(edges)}")
        edges = []
    for i, item in enumerate(nodes):
        _add_node(graph, item, f"{where}.nodes[{i}]", problems)
    # Edges are checked here one by one, then connected together: Graph.connect_all checks for
    # cycles once for all of them, so that a long chain loads in linear time.
    paths: list[str] = []
    requests: list[tuple[str, str, str | None]] = []
    for i, item in enumerate(edges):
        path = f"{where}.edges[{i}]"
        if not isinstance(item, dict):
            problems.append(f"{path}: expected an object with src, dst and port, got {_show(item)}")
            continue
        src, dst, port = item.get("src"), item.get("dst"), item.get("port")
        bad = [k for k, v in (("src", src), ("dst", dst)) if not isinstance(v, str) or not graph.has_node(v)]
        if bad:
            for k in bad:
                problems.append(f"{path}.{k}: no node with id {_show(item.get(k))}")
            continue
        if port is not None and not isinstance(port, str):
            problems.append(f"{path}.port: expected text, got {_show(port)}")
            continue
        paths.append(path)
        requests.append((src, dst, port))
    for path, result in zip(paths, graph.connect_all(requests)):
        if isinstance(result, GraphError):
            problems.append(f"{path}: {result}")
    return graph


def _add_node(graph: Graph, item: Any, path: str, problems: list[str]) -> None:
    if not isinstance(item, dict):
        problems.append(f"{path}: expected an object, got {_show(item)}")
        return
    node_id, type_id, name = item.get("id"), item.get("type"), item.get("name")
    params, position = item.get("params", {}), item.get("position", [0, 0])
    if not isinstance(node_id, str) or not node_id:
        problems.append(f"{path}.id: expected a non-empty text, got {_show(node_id)}")
        return
    if not isinstance(type_id, str):
        problems.append(f"{path}.type: expected a layer type name, got {_show(type_id)}")
        return
    try:
        spec = layer_spec(type_id)
    except GraphError as exc:
        problems.append(f"{path}.type: {exc}")
        return
    if name is not None and not isinstance(name, str):
        problems.append(f"{path}.name: expected text, got {_show(name)}")
        return
    if not isinstance(params, dict):
        problems.append(f"{path}.params: expected an object, got {_show(params)}")
        return
    clean: dict[str, Any] = {}
    for key, value in params.items():
        try:
            clean[key] = spec.param(key).validate(value)
        except GraphError as exc:
            problems.append(f"{path}.params.{key}: {exc}")
    if (
        not isinstance(position, list)
        or len(position) != 2
        or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in position)
    ):
        problems.append(f"{path}.position: expected [x, y] numbers, got {_show(position)}")
        return
    try:
        graph.add_node(type_id, name=name, params=clean, position=(position[0], position[1]), node_id=node_id)
    except GraphError as exc:
        problems.append(f"{path}: {exc}")


def _dataset_from(record: Any, problems: list[str]) -> DatasetSpec:
    try:
        return DatasetSpec.from_dict(record, where="dataset")
    except ProjectFileError as exc:
        problems.append(str(exc))
        return DatasetSpec()


def _type_name(value: Any) -> str:
    return {dict: "an object", list: "a list", str: "text", bool: "true/false", type(None): "null"}.get(
        type(value), "a number" if isinstance(value, (int, float)) else type(value).__name__
    )


def _show(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False) if _jsonable(value) else repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _jsonable(value: Any) -> bool:
    try:
        json.dumps(value)
        return True
    except (TypeError, ValueError):
        return False
