"""Import an ONNX file as a Workbench project, with its weights, checked against onnxruntime.

`read_onnx_project(path)` parses and checks the file, maps every operator onto a registry node
(`onnx_ops`), lays the nodes out top to bottom, copies the weights onto the node names, and runs
the built graph and onnxruntime on the same seeded random inputs: the import stands only when
their outputs agree within PARITY_TOLERANCE. It writes nothing; `import_onnx(path, out)` then
writes PROJECT.json and PROJECT.safetensors beside it (the project's `training.init_from`), the
way the torchvision import does. Operators without a layer fail in one UnsupportedOpsError
listing each with its count and node names, before anything is written.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from workbench.errors import GraphError, ModelImportError
from workbench.graph.document import Graph
from workbench.layers.io import LOSSES
from workbench.model_import.onnx_file import OnnxFile, read_onnx
from workbench.model_import.onnx_ops import INPUT, OnnxLayer, map_onnx
from workbench.model_import.torchvision_models import PARITY_TOLERANCE, _layout, _node_name

log = logging.getLogger(__name__)

PARITY_BATCH = 2  # samples compared when the file's batch axis is dynamic


class UnsupportedOpsError(ModelImportError):
    """An ONNX file uses operators no Workbench layer holds; `found` maps each to the node names using it."""

    def __init__(self, message: str, found: dict[str, list[str]]) -> None:
        super().__init__(message)
        self.found = found


@dataclass
class OnnxModel:
    """An imported network before anything is written: the project, its weights and the parity figure."""

    source: Path
    project: Any  # workbench.project.Project (training.init_from not set yet)
    state: dict[str, torch.Tensor]  # the built network's state dict, weights from the file
    max_abs_diff: float
    parameters: int
    input_shape: tuple[int, ...]
    output_shape: tuple[int, ...]
    producer: str


@dataclass(frozen=True)
class OnnxImportResult:
    """What `import_onnx` wrote, and the checks it passed."""

    project_path: Path
    weights_path: Path
    nodes: int
    parameters: int
    max_abs_diff: float
    input_shape: tuple[int, ...]
    output_shape: tuple[int, ...]

    def lines(self) -> list[str]:
        """Human-readable report, one fact per line."""
        return [
            f"wrote {self.project_path} ({self.nodes} nodes, {self.parameters:,} parameters, input "
            f"{'×'.join(map(str, self.input_shape))}, output {'×'.join(map(str, self.output_shape))})",
            f"wrote {self.weights_path}",
            f"parity with onnxruntime (eval mode): max abs difference {self.max_abs_diff:.2e} (limit {PARITY_TOLERANCE:g})",
        ]


def read_onnx_project(path: str | Path) -> OnnxModel:
    """The ONNX file at `path` as a project and weights, checked against onnxruntime; nothing is written."""
    f = read_onnx(path)
    records, output, unmapped = map_onnx(f)
    if unmapped:
        raise UnsupportedOpsError(f"{f.path}: no Workbench layer for {unmapped.describe()} — nothing was imported; "
                                  "re-export the model without these operators", unmapped.found)
    graph, names = _graph(f, records, output)
    from workbench.graph.builder import build_model

    try:
        built = build_model(graph).eval()
    except GraphError as exc:
        raise ModelImportError(f"{f.path}: the imported network does not fit together ({exc}) — nothing was imported") from None
    _copy_weights(f, built, records, names)
    diff = _parity(f, built)
    if not diff <= PARITY_TOLERANCE:  # also NaN
        raise ModelImportError(f"{f.path}: the imported network differs from onnxruntime's by up to {diff:.2e} "
                               f"(limit {PARITY_TOLERANCE:g}) — nothing was imported; please report this model")
    project = _project(f, graph, diff)
    state = {k: v.detach().clone().contiguous() for k, v in built.state_dict().items()}
    return OnnxModel(f.path, project, state, diff, sum(p.numel() for p in built.parameters()),
                     tuple(built.input_spec.shape), tuple(built.output_spec.shape), f.producer)


def import_onnx(path: str | Path, out: str | Path) -> OnnxImportResult:
    """Import the ONNX file `path` into the project file `out` and its weights beside it (out.safetensors)."""
    target = Path(out)
    if target.suffix != ".json":
        raise ModelImportError(f"--out {target}: a project file ends in .json — e.g. {target.with_suffix('.json').name}")
    model = read_onnx_project(path)
    weights_path = target.with_suffix(".safetensors")
    # relative: it resolves against the project's folder, so the pair can move together
    project = model.project
    project.training = dataclasses.replace(project.training, init_from=weights_path.name)
    write_weights(model.state, weights_path, then=lambda: _save(project, target))
    return OnnxImportResult(target, weights_path, len(project.graph), model.parameters, model.max_abs_diff,
                            model.input_shape, model.output_shape)


def write_weights(state: dict[str, torch.Tensor], path: Path, then: Any = None) -> None:
    """Write the weights as safetensors (atomically); `then()` runs before the file takes its name,
    so that when it fails (the project cannot be saved) no weights file is left behind."""
    from safetensors.torch import save_file

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    try:
        save_file(state, str(tmp))
        if then is not None:
            then()
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)


def _save(project: Any, target: Path) -> None:
    from workbench.project import save_project

    try:
        save_project(project, target)
    except OSError as exc:
        raise ModelImportError(f"--out {target}: cannot write the project ({exc.strerror or exc})") from None


# ----- steps ----------------------------------------------------------------------------------


def _graph(f: OnnxFile, records: list[OnnxLayer], output: str) -> tuple[Graph, dict[str, str]]:
    """The Workbench graph for the records, laid out top to bottom; record key -> node name."""
    taken: set[str] = set()
    names = {INPUT: _node_name(f.input_name, taken)}
    for r in records:
        names[r.key] = _node_name(r.hint or r.type_id.lower(), taken)
    names["__output__"] = _node_name("output", taken)
    feeds = {r.key: list(r.sources) for r in records}
    feeds["__output__"] = [output]
    order = [INPUT, *(r.key for r in records), "__output__"]
    positions = _layout(order, feeds)

    sample = tuple(int(d) for d in f.input_shape[1:])
    kind = "image" if len(sample) == 3 else "vector"
    out_shape = f.shapes.get(f.output_name)
    graph = Graph()
    ids = {INPUT: graph.add_node("Input", name=names[INPUT], params={"kind": kind, "shape": sample},
                                 position=positions[INPUT]).id}
    for r in records:
        ids[r.key] = graph.add_node(r.type_id, name=names[r.key], params=r.params, position=positions[r.key]).id
    ids["__output__"] = graph.add_node("Output", name=names["__output__"], params={"loss": _loss(f, out_shape)},
                                       position=positions["__output__"]).id
    for dst, sources in feeds.items():
        ports = graph.node(ids[dst]).input_ports()
        for port, src in zip(ports, sources):
            graph.connect(ids[src], ids[dst], port)
    return graph, names


def _loss(f: OnnxFile, out_shape: tuple[Any, ...] | None) -> str:
    """The loss the file's metadata names (Workbench's exports store it); else cross-entropy for
    class scores and squared error for anything else."""
    named = f.metadata().get("loss", "")
    if named in LOSSES:
        return named
    return "cross_entropy" if out_shape is None or len(out_shape) in (2, 3) else "mse"


def _copy_weights(f: OnnxFile, built: torch.nn.Module, records: list[OnnxLayer], names: dict[str, str]) -> None:
    """Every record's tensors onto its node's module; every tensor of the built network must get one."""
    state = built.state_dict()
    given: set[str] = set()
    for r in records:
        for key, array in r.tensors.items():
            ours = f"{names[r.key]}.{key}"
            if ours not in state or tuple(state[ours].shape) != tuple(array.shape):
                have = tuple(state[ours].shape) if ours in state else "none"
                raise ModelImportError(f"{f.path}: node '{names[r.key]}' ({r.type_id}) has no tensor {key} shaped "
                                       f"{tuple(array.shape)} (it has {have}) — please report this model")
            state[ours] = torch.from_numpy(np.array(array, copy=True)).to(state[ours].dtype)
            given.add(ours)
    left = sorted(set(state) - given)
    if left:
        raise ModelImportError(f"{f.path}: {len(left)} tensors of the imported network got no weights from the file "
                               f"(e.g. {left[0]}) — please report this model")
    built.load_state_dict(state)


def _parity(f: OnnxFile, built: torch.nn.Module) -> float:
    """Max abs difference between the built network and onnxruntime on seeded random inputs."""
    import onnxruntime as ort

    batch = f.input_shape[0] if isinstance(f.input_shape[0], int) and f.input_shape[0] > 0 else PARITY_BATCH
    x = torch.randn(batch, *(int(d) for d in f.input_shape[1:]), generator=torch.Generator().manual_seed(0))
    options = ort.SessionOptions()
    options.log_severity_level = 3
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    try:
        # the file itself, as any user of it runs it (its side files were checked to lie beside it)
        session = ort.InferenceSession(str(f.path), options, providers=["CPUExecutionProvider"])
        elem = next(i for i in f.model.graph.input if i.name == f.input_name).type.tensor_type.elem_type
        dtype = {10: np.float16, 11: np.float64}.get(elem, np.float32)
        theirs = np.asarray(session.run(None, {f.input_name: x.numpy().astype(dtype)})[0], dtype=np.float64)
    except Exception as exc:  # onnxruntime's own errors (an operator it lacks, a bad attribute)
        text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ModelImportError(f"{f.path}: onnxruntime cannot run the file ({text[:200]}), so the import cannot be "
                               "checked — nothing was imported") from None
    with torch.no_grad():
        ours = built(x).double().numpy()
    if ours.shape != theirs.shape:
        raise ModelImportError(f"{f.path}: the imported network returns {ours.shape}, onnxruntime {theirs.shape} — "
                               "please report this model")
    return float(np.max(np.abs(ours - theirs))) if ours.size else 0.0


def _project(f: OnnxFile, graph: Graph, diff: float) -> Any:
    from workbench.data.bundle import DatasetSpec
    from workbench.project import Project

    meta = f.metadata()
    name = meta.get("project_name") or f.path.stem
    sample = tuple(int(d) for d in f.input_shape[1:])
    # colour images train on an image folder of the user's; anything else starts on the default
    # dataset (Workbench's own digits models import ready to train)
    dataset = DatasetSpec(source="images") if len(sample) == 3 and sample[0] == 3 else DatasetSpec()
    producer = f" (written by {f.producer})" if f.producer else ""
    description = (f"Imported from {f.path.name}{producer}, with its weights; parity with onnxruntime: max abs "
                   f"difference {diff:.1e} on random inputs")
    return Project(name=name, graph=graph, dataset=dataset, description=description)
