"""Project files: one versioned JSON document with the graph, the dataset and the training settings.

Loading runs in stages (parse, check the record's shape, resolve layer types against the
registry) and reports every problem with the path to its field; nothing is half-loaded and
nothing in the file is ever executed. Saving is atomic: a crash mid-save leaves the previous
file intact.
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from itertools import accumulate
from pathlib import Path
from typing import Any

from workbench.data.bundle import DatasetSpec
from workbench.errors import GraphError, ProjectFileError
from workbench.files import write_text_atomic
from workbench.graph.document import Graph
from workbench.graph.search_values import check_search
from workbench.layers.params import show_value
from workbench.layers.registry import layer_spec
from workbench.training.settings import TrainSettings

FORMAT_VERSION = 1
FILE_KIND = "workbench-project"
_TOP_KEYS = {"format_version", "kind", "name", "description", "dataset", "training", "graph"}
# Limits on what a project file may hold. A real one nests 6 levels deep and its numbers are
# small; beyond these, Python's JSON reader, int() and float() fail with their own errors, and
# no layer accepts the value anyway.
MAX_NESTING = 64
MAX_INT = 2**63 - 1  # torch's sizes are signed 64-bit
_LONG_NUMBER = 30  # digits: longer integers are kept as text until refused with their path
# The project's settings records, by their key in the file; a setting's path is "<key>.<field>".
SETTINGS_RECORDS: dict[str, type] = {"dataset": DatasetSpec, "training": TrainSettings}


@dataclass(frozen=True)
class SettingsChanged:
    """The project's run settings changed: the paths of the settings that did ("training.lr")."""

    paths: frozenset[str]


# Where a project that has no file yet keeps its runs: None means the working folder (the command
# line's documented behaviour); the app sets its projects folder (`set_unsaved_home`).
_unsaved_home: Path | None = None


def set_unsaved_home(folder: str | os.PathLike[str] | None) -> None:
    """Put the runs of projects without a file into FOLDER/runs (None: the working folder)."""
    global _unsaved_home
    _unsaved_home = Path(folder).expanduser() if folder is not None else None


def unsaved_home() -> Path:
    """The folder whose runs/ holds the runs of a project without a file (absolute: a relative
    setting such as "." is taken from the working folder of the moment)."""
    return Path.cwd() / _unsaved_home if _unsaved_home is not None else Path.cwd()


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
        """Where its runs go: runs/ beside the project file; for a project without a file, runs/
        in `unsaved_home()` (the working folder on the command line, the projects folder in the app)."""
        return (self.base_dir or unsaved_home()) / "runs"

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


class _HugeNumber(str):
    """An integer literal too long to be worth converting (Python refuses past 4,300 digits)."""


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
    """Write atomically (temp file in the same folder, then rename) and remember the path.

    ProjectFileError, and the file untouched, if a field holds what the file could not hold
    (text that is not Unicode, a number out of range).
    """
    target = Path(path)
    problems = unusable_values(project_to_dict(project))
    if problems:
        raise ProjectFileError(f"{target}: cannot be saved: {_first(problems)}")
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
    too_deep = _too_deep(text)
    if too_deep is not None:
        raise ProjectFileError(f"{source}: {too_deep}")
    try:
        record = json.loads(text, parse_int=_parse_int)
    except json.JSONDecodeError as exc:
        hint = " — the file looks truncated" if exc.pos >= len(text.rstrip()) - 1 else ""
        raise ProjectFileError(f"{source}: not valid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}{hint}") from None
    except RecursionError:  # _too_deep counts brackets; this only guards against a miscount
        raise ProjectFileError(f"{source}: nested too deeply to be a Workbench project") from None
    project = project_from_dict(record, origin=str(source))
    project.path = source
    return project


def project_from_dict(record: Any, origin: str = "project") -> Project:
    """Validate a parsed record and build the Project; every problem is collected with its path."""
    problems: list[str] = []
    if not isinstance(record, dict):
        raise ProjectFileError(f"{origin}: expected a JSON object at the top, got {_type_name(record)}")
    unusable = unusable_values(record)
    if unusable:
        # refused before the stages read them: int(), float() and printing would fail on them
        raise ProjectFileError(f"{origin}: {_first(unusable)}")
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
        error = ProjectFileError(f"{origin}: {_first(problems)}")
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
    # Files from before per-node training settings have neither key: trainable, factor 1.
    trainable, lr_scale = item.get("trainable", True), item.get("lr_scale", 1.0)
    if not isinstance(trainable, bool):
        problems.append(f"{path}.trainable: expected true or false, got {_show(trainable)}")
        return
    if isinstance(lr_scale, bool) or not isinstance(lr_scale, (int, float)) or not (math.isfinite(lr_scale) and lr_scale > 0):
        problems.append(f"{path}.lr_scale: expected a number > 0, got {_show(lr_scale)}")
        return
    # Files from before searchable params have no `search`: nothing is searched.
    search = item.get("search", {})
    try:
        search = check_search(spec, search)
    except GraphError as exc:
        problems.append(f"{path}.search: {exc}" if not str(exc).startswith("search:") else f"{path}.{exc}")
        return
    try:
        graph.add_node(type_id, name=name, params=clean, position=(position[0], position[1]), node_id=node_id,
                       trainable=trainable, lr_scale=lr_scale, search=search)
    except GraphError as exc:
        problems.append(f"{path}: {exc}")


def _dataset_from(record: Any, problems: list[str]) -> DatasetSpec:
    try:
        return DatasetSpec.from_dict(record, where="dataset")
    except ProjectFileError as exc:
        problems.append(str(exc))
        return DatasetSpec()


def unusable_values(record: Any) -> list[str]:
    """Every value a project record cannot hold, each with its path (`graph.nodes[2].name: ...`).

    Text must be Unicode (JSON's `\\ud800` escapes can make lone surrogates, which no file or
    terminal can encode), field names printable (messages show them in paths, on one line),
    integers must fit in 64 bits, numbers must be finite, and nesting stays under MAX_NESTING.
    The walk keeps its own stack, so no record is too deep for it.
    """
    problems: list[str] = []
    stack: list[tuple[Any, str, int]] = [(record, "", 0)]
    while stack:
        value, path, depth = stack.pop()
        where = path or "the top level"
        if isinstance(value, (dict, list)) and depth >= MAX_NESTING:
            problems.append(f"{where}: nested more than {MAX_NESTING} levels deep — is this a Workbench project?")
        elif isinstance(value, dict):
            children = []
            for key, item in value.items():
                key_text = str(key)
                if not key_text.isprintable():  # paths in messages must stay printable, on one line
                    problems.append(f"{where}: the field name {_unprintable_words(key_text)}")
                    continue
                children.append((item, _join(path, key_text), depth + 1))
            stack.extend(reversed(children))
        elif isinstance(value, list):
            stack.extend((item, f"{path}[{i}]", depth + 1) for i, item in reversed(list(enumerate(value))))
        elif isinstance(value, _HugeNumber):
            problems.append(f"{where}: a number of {len(value.lstrip('-'))} digits is far too large")
        elif isinstance(value, str):
            if not _is_unicode(value):
                problems.append(f"{where}: {_surrogate_words(value)} — retype the text")
        elif isinstance(value, int) and not isinstance(value, bool):
            if abs(value) > MAX_INT:
                problems.append(f"{where}: {show_value(value)} is too large (at most {MAX_INT:,})")
        elif isinstance(value, float) and not math.isfinite(value):
            problems.append(f"{where}: {value} is not a usable number (JSON has no NaN or infinity)")
    return problems


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _is_unicode(text: str) -> bool:
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _surrogate_words(text: str) -> str:
    bad = next(c for c in text if 0xD800 <= ord(c) <= 0xDFFF)
    return (
        f"{show_value(text)} holds U+{ord(bad):04X}, half of a UTF-16 surrogate pair on its own,"
        " which is not a character"
    )


def _unprintable_words(text: str) -> str:
    if not _is_unicode(text):
        return _surrogate_words(text)
    return f"{show_value(text)} holds a line break or another character that cannot be printed"


def _parse_int(literal: str) -> int | _HugeNumber:
    return _HugeNumber(literal) if len(literal) > _LONG_NUMBER else int(literal)


_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}:,]')
_DEPTH_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}


def _too_deep(text: str) -> str | None:
    """Where the JSON text nests more than MAX_NESTING levels (path and words), or None.

    json.loads recurses once per level and fails near 1,000 with a RecursionError, so the
    depth is counted before parsing: brackets outside strings, a linear scan.
    """
    brackets = _NOT_BRACKET.sub("", _STRING.sub("", text))
    if max(accumulate(_DEPTH_STEP[c] for c in brackets), default=0) <= MAX_NESTING:
        return None
    # Rare, and refused already: walk the tokens again, keeping the path, to say where.
    frames: list[list[Any]] = []  # per open container: its bracket and the current key or index
    last_string = ""
    for match in _TOKEN.finditer(text):
        token = match.group()
        if token in ("[", "{"):
            if len(frames) == MAX_NESTING:
                path = "".join(
                    f"[{k}]" if kind == "[" else ("." if i else "") + str(k) for i, (kind, k) in enumerate(frames)
                )
                return f"{path or 'the top level'}: nested more than {MAX_NESTING} levels deep — is this a Workbench project?"
            frames.append([token, 0 if token == "[" else ""])
        elif token in ("]", "}"):
            if frames:
                frames.pop()
        elif token == ":" and frames:
            frames[-1][1] = last_string
        elif token == "," and frames and frames[-1][0] == "[":
            frames[-1][1] += 1
        elif token.startswith('"'):
            try:
                last_string = show_value(json.loads(token))[1:-1]
            except ValueError:
                last_string = "?"
    return f"nested more than {MAX_NESTING} levels deep — is this a Workbench project?"


def _first(problems: list[str]) -> str:
    """The first problem, and how many more there are."""
    extra = len(problems) - 1
    return problems[0] + (f" (and {extra} more problem{'s' if extra > 1 else ''})" if extra else "")


def _type_name(value: Any) -> str:
    return {dict: "an object", list: "a list", str: "text", bool: "true/false", type(None): "null"}.get(
        type(value), "a number" if isinstance(value, (int, float)) else type(value).__name__
    )


def _show(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False) if _jsonable(value) else show_value(value)
    text = text if len(text) <= 40 else text[:37] + "..."
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _jsonable(value: Any) -> bool:
    try:
        json.dumps(value)
        return True
    except (TypeError, ValueError):
        return False
