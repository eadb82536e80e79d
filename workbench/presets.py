"""Bundled presets: ready projects shipped in the package (`presets/` in the repository), opened by name or path."""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

from workbench.errors import ProjectFileError
from workbench.graph.document import Graph, Node
from workbench.project import Project, load_project
from workbench.resources import presets_dir


@dataclass(frozen=True)
class PresetInfo:
    """What the preset gallery and `workbench presets` show."""

    name: str
    task: str
    dataset: str
    description: str
    parameters: int | None  # None when listed without counting (`list_presets(parameters=False)`)
    path: Path


def task_of(graph: Graph) -> str:
    """classification, regression, language model or sequence to sequence, read from the Input and Output nodes."""
    output = next((n for n in graph.nodes if n.type == "Output"), None)
    sources = [n for n in graph.nodes if n.type == "Input"]
    source = sources[0] if sources else None
    if output is None:
        return "unknown"
    if output.params["loss"] == "mse":
        return "regression"
    if len(sources) > 1 and all(n.params["kind"] == "tokens" for n in sources):
        return "sequence to sequence"
    if source is not None and source.params["kind"] == "tokens" and _scores_every_token(graph, output):
        return "language model"
    return "classification"


def _scores_every_token(graph: Graph, output: Node) -> bool:
    """Whether the network ends in one score vector per position (a language model) rather than
    one per sequence (a sequence classifier such as an LSTM's last state into a Linear)."""
    from workbench.graph.analysis import analyze  # pure shape inference: no torch

    spec = analyze(graph).shapes.get(output.id)
    return spec is None or spec.rank >= 2  # rank counts the dims after the batch


def preset_paths() -> list[Path]:
    return sorted(presets_dir().glob("*.json"))


def network_fingerprint(graph: Graph) -> str:
    """A hash of what sets a network's parameters: node ids, types and params, and the edges.

    Names, positions and training flags are left out, so moving a card or renaming a layer keeps
    the fingerprint (and `parameter_count`'s recorded value) of a bundled preset.
    """
    record = {
        "nodes": sorted([n.id, n.type, n.params] for n in graph.nodes),
        "edges": sorted([e.src, e.dst, e.dst_port] for e in graph.edges),
    }
    text = json.dumps(record, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def parameter_count(graph: Graph) -> int:
    """The number of parameters of `graph`'s network (GraphError if the graph is invalid).

    A bundled preset's count is read from `workbench.preset_counts` (by the network's
    fingerprint), so that `workbench presets` and the start page need no torch (~2 s to import).
    Any other network is built and never run, so that unlike `summarize` only torch itself is
    imported: `summarize` builds on the meta device and runs a forward pass, and both a first
    meta-device convolution and a meta-device `randn(...) * 0.02` (a positional embedding's init)
    import torch._dynamo, ~1.5 s. Built on the CPU instead: for the bundled presets (at most ~0.5M
    parameters) allocating and initialising the weights takes a few milliseconds.
    """
    from workbench.preset_counts import COUNTS

    known = COUNTS.get(network_fingerprint(graph))
    if known is not None:
        return known
    return built_parameter_count(graph)


def built_parameter_count(graph: Graph) -> int:
    """The number of parameters of `graph`'s network, counted on the built torch module."""
    from workbench.graph.analysis import check
    from workbench.graph.builder import GraphModule

    model = GraphModule(graph, check(graph))
    return sum(p.numel() for p in model.parameters())


def write_preset_counts(path: str | os.PathLike[str] | None = None) -> Path:
    """Rewrite `workbench/preset_counts.py` from the bundled presets (counted with torch)."""
    import workbench.preset_counts as module

    target = Path(path) if path is not None else Path(module.__file__)
    lines = []
    for preset in preset_paths():
        graph = load_project(preset).graph
        lines.append(f'    "{network_fingerprint(graph)}": {built_parameter_count(graph)},  # {preset.stem}\n')
    text = target.read_text(encoding="utf-8")
    head, rest = text.split(_COUNTS_START, 1)
    _, tail = rest.split(_COUNTS_END, 1)
    target.write_text(head + _COUNTS_START + "\n" + "".join(lines) + _COUNTS_END + tail, encoding="utf-8")
    return target


_COUNTS_START = "COUNTS: dict[str, int] = {"
_COUNTS_END = "}  # end of COUNTS"


def list_presets(parameters: bool = True) -> list[PresetInfo]:
    """Every bundled preset with its task, dataset and parameter count.

    Counting builds each network, which needs torch; with `parameters=False` the counts are
    None and nothing heavier than the project files is read (the start page's first draw).
    """
    infos = []
    for path in preset_paths():
        project = load_project(path)
        infos.append(PresetInfo(
            name=path.stem,
            task=task_of(project.graph),
            dataset=project.dataset.source,
            description=project.description,
            parameters=parameter_count(project.graph) if parameters else None,
            path=path,
        ))
    return infos


def load_preset(name: str) -> Project:
    """A fresh copy of a bundled preset; it has no file of its own until the user saves it."""
    path = presets_dir() / f"{name}.json"
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
        try:
            return load_project(path)
        except ProjectFileError as exc:
            if _holds_a_project(path):
                raise  # a Workbench project with a mistake: the message names the field
            # Not a project at all (/etc/passwd, a typo): say what the argument should be.
            message = str(exc).removesuffix(" — is this a Workbench project?")
            raise ProjectFileError(f"{message}; {EXPECTED_PROJECT}") from None
    return load_preset(text)


EXPECTED_PROJECT = "expected a Workbench project (.json) or a preset name (see `workbench presets`)"


def _holds_a_project(path: Path) -> bool:
    """True when the file is a JSON object with a format version: a project, perhaps a broken one."""
    try:
        record = json.loads(path.read_bytes())
    except (OSError, ValueError, RecursionError):
        return False
    return isinstance(record, dict) and isinstance(record.get("format_version"), int)
