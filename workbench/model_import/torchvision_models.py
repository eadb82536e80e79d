"""Import a torchvision classification model as a Workbench project, with its weights, checked for parity.

`import_torchvision(name, out)` builds the model, traces it, maps every operation onto a registry
node, lays the nodes out top to bottom, copies the weights onto the node names, checks that the
built graph computes what torchvision's model computes (eval mode, random inputs), and only then
writes PROJECT.json and, with weights, PROJECT.safetensors beside it.
"""

from __future__ import annotations

import dataclasses
import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from workbench.errors import ModelImportError
from workbench.graph.document import RESERVED_NAMES, Graph
from workbench.model_import.fx_mapping import LayerRecord, map_nodes, trace
from workbench.model_import.weights import download_state_dict, load_into, published_weights, read_state_dict

log = logging.getLogger(__name__)

# Models the importer is tested on (tests/model_import); others may import too, or name what they lack.
SUPPORTED_MODELS = ("resnet18", "resnet34", "resnet50", "mobilenet_v3_small", "mobilenet_v3_large", "efficientnet_b0",
                    "convnext_tiny")
PARITY_TOLERANCE = 1e-4  # max abs difference of the logits, eval mode
ROW_HEIGHT, COLUMN_WIDTH = 100.0, 200.0  # layout: one row per depth, branches side by side


@dataclass(frozen=True)
class ImportResult:
    """What an import produced: the files, the network's size and the parity check."""

    project_path: Path
    weights_path: Path | None
    nodes: int
    parameters: int
    max_abs_diff: float
    input_shape: tuple[int, int, int]
    classes: int

    def lines(self) -> list[str]:
        """Human-readable report, one fact per line."""
        out = [f"wrote {self.project_path} ({self.nodes} nodes, {self.parameters:,} parameters, {self.classes} classes, "
               f"input {'×'.join(map(str, self.input_shape))})"]
        if self.weights_path is not None:
            out.append(f"wrote {self.weights_path}")
        out.append(f"parity with torchvision (eval mode): max abs difference {self.max_abs_diff:.2e} "
                   f"(limit {PARITY_TOLERANCE:g})")
        return out


def import_torchvision(
    name: str,
    out: str | Path,
    weights: str | None = None,
    classes: int | None = None,
    progress: bool = True,
    input_size: int | None = None,
) -> ImportResult:
    """Import torchvision's `name` into the project file `out`; nothing is written unless parity holds.

    weights: None (the graph starts from Workbench's own initialisation), a torchvision weights
    name ("DEFAULT", "IMAGENET1K_V1", ...) or a .safetensors / state-dict file of that model.
    classes: replace the last Linear's outputs with this many (fresh weights).
    input_size: height and width of the Input (default: the weights' crop size, or 224).
    """
    import torchvision

    if name not in torchvision.models.list_models(module=torchvision.models):
        close = [m for m in SUPPORTED_MODELS if m.split("_")[0] in name] or list(SUPPORTED_MODELS)
        raise ModelImportError(f"torchvision:{name}: not a torchvision classification model — try {', '.join(close)}")
    if classes is not None and classes < 1:
        raise ModelImportError(f"--classes must be at least 1, got {classes}")
    target = Path(out)
    if target.suffix != ".json":
        raise ModelImportError(f"--out {target}: a project file ends in .json — e.g. {target.with_suffix('.json').name}")

    torch.manual_seed(0)
    model = torchvision.models.get_model(name, weights=None).eval()
    records, output_source, unmapped = map_nodes(model, trace(model))
    if unmapped:
        raise ModelImportError(f"torchvision:{name}: not supported yet: no Workbench layer for {unmapped.describe()}")
    if output_source is None:
        raise ModelImportError(f"torchvision:{name}: the model returns no single tensor")
    # weights only once the network is known to import: no download for a model that cannot
    published = _published_or_none(name)
    state = _weights_state(name, weights, published, progress)
    if state is not None:
        load_into(model, state, weights or "", name)

    head = _last_linear(records)
    if classes is not None:
        if head is None:
            raise ModelImportError(f"--classes: torchvision:{name} has no Linear layer to replace")
        head.params["out_features"] = classes
        _replace_head(model, head, classes)

    size = input_size or (_crop_size(published) if published is not None else 224)
    graph, names = _graph(records, output_source, (3, size, size))
    from workbench.graph.builder import build_model

    built = build_model(graph).eval()
    fresh = {f"{names[head.fx_name]}.{k}" for k in ("weight", "bias")} if classes is not None and head else set()
    _copy_weights(model, built, records, names, fresh)
    if classes is not None and head is not None:  # torchvision's model gets the same fresh head
        model.get_submodule(head.module_path or "").load_state_dict(built.get_submodule(names[head.fx_name]).state_dict())
    diff = _parity(model, built, (3, size, size))
    if diff > PARITY_TOLERANCE:
        raise ModelImportError(
            f"torchvision:{name}: the imported network differs from torchvision's by up to {diff:.2e} "
            f"(limit {PARITY_TOLERANCE:g}) — nothing was written; please report this model"
        )

    weights_path = target.with_suffix(".safetensors") if state is not None else None
    project = _project(name, graph, published, weights_path, classes, size)
    _write(project, target, built, weights_path)
    n_classes = classes or (head.params["out_features"] if head else 0)
    return ImportResult(target, weights_path, len(graph), sum(p.numel() for p in built.parameters()), diff,
                        (3, size, size), n_classes)


# ----- steps ----------------------------------------------------------------------------------


def _published_or_none(name: str) -> Any:
    try:
        return published_weights(name)
    except (ValueError, KeyError, ModelImportError):  # a model without published weights
        return None


def _weights_state(name: str, weights: str | None, published: Any, progress: bool) -> dict[str, torch.Tensor] | None:
    if weights is None:
        return None
    path = Path(weights)
    if weights.isupper() or (not path.suffix and not path.exists()):  # a weights name: DEFAULT, IMAGENET1K_V2
        entry = published_weights(name, weights)
        return download_state_dict(entry, weights, progress)
    return read_state_dict(path)


def _crop_size(published: Any) -> int:
    crop = getattr(published.transforms(), "crop_size", [224])
    return int(crop[0])


def _last_linear(records: list[LayerRecord]) -> LayerRecord | None:
    linears = [r for r in records if r.type_id == "Linear"]
    return linears[-1] if linears else None


def _replace_head(model: nn.Module, head: LayerRecord, classes: int) -> None:
    old = model.get_submodule(head.module_path or "")
    parent_path, _, attr = (head.module_path or "").rpartition(".")
    parent = model.get_submodule(parent_path) if parent_path else model
    setattr(parent, attr, nn.Linear(old.in_features, classes, bias=old.bias is not None))


def _node_name(fx_name: str, taken: set[str]) -> str:
    """A valid, unique layer name from an fx name (letters, digits and _, not a torch attribute)."""
    name = re.sub(r"\W", "_", fx_name) or "layer"
    if not re.match(r"[A-Za-z]", name):
        name = "n" + name
    if name in RESERVED_NAMES or (name.startswith("__") and name.endswith("__")):
        name += "_layer"
    base, i = name, 2
    while name in taken:
        name, i = f"{base}_{i}", i + 1
    taken.add(name)
    return name


def _graph(records: list[LayerRecord], output_source: str, input_shape: tuple[int, int, int]) -> tuple[Graph, dict[str, str]]:
    """The Workbench graph for the records, laid out top to bottom; fx name -> node name."""
    taken: set[str] = set()
    names = {"__input__": _node_name("input", taken)}
    for r in records:
        names[r.fx_name] = _node_name(r.fx_name, taken)
    names["__output__"] = _node_name("output", taken)
    placeholder = {s for r in records for s in r.sources} - {r.fx_name for r in records}
    feeds = {r.fx_name: [("__input__" if s in placeholder else s) for s in r.sources] for r in records}
    feeds["__output__"] = ["__input__" if output_source in placeholder else output_source]
    order = ["__input__", *(r.fx_name for r in records), "__output__"]
    positions = _layout(order, feeds)

    graph = Graph()
    ids: dict[str, str] = {}
    ids["__input__"] = graph.add_node("Input", name=names["__input__"], params={"kind": "image", "shape": input_shape},
                                      position=positions["__input__"]).id
    for r in records:
        ids[r.fx_name] = graph.add_node(r.type_id, name=names[r.fx_name], params=r.params, position=positions[r.fx_name]).id
    ids["__output__"] = graph.add_node("Output", name=names["__output__"], params={"loss": "cross_entropy"},
                                       position=positions["__output__"]).id
    for dst, sources in feeds.items():
        ports = graph.node(ids[dst]).input_ports()
        for port, src in zip(ports, sources):
            graph.connect(ids[src], ids[dst], port)
    return graph, names


def _layout(order: list[str], feeds: dict[str, list[str]]) -> dict[str, tuple[float, float]]:
    """Rows by longest path from the Input; nodes of one row side by side, the main path first."""
    depth: dict[str, int] = {}
    for key in order:  # fx order is topological
        depth[key] = max((depth[s] + 1 for s in feeds.get(key, [])), default=0)
    rows: dict[int, list[str]] = {}
    for key in order:
        rows.setdefault(depth[key], []).append(key)
    positions = {}
    for d, keys in rows.items():
        for lane, key in enumerate(keys):
            positions[key] = (lane * COLUMN_WIDTH, d * ROW_HEIGHT)
    return positions


def _copy_weights(model: nn.Module, built: nn.Module, records: list[LayerRecord], names: dict[str, str], fresh: set[str]) -> None:
    """Every tensor of torchvision's model onto the node that took its module; all must be used."""
    source = model.state_dict()
    state = built.state_dict()
    used: set[str] = set()
    for r in records:
        if r.module_path is None:
            continue
        for key, tensor in model.get_submodule(r.module_path).state_dict().items():
            ours = f"{names[r.fx_name]}.{key}"
            used.add(f"{r.module_path}.{key}")
            if ours in fresh:
                continue
            if ours not in state or state[ours].shape != tensor.shape:
                raise ModelImportError(f"the imported node '{names[r.fx_name]}' has no tensor {key} shaped "
                                       f"{tuple(tensor.shape)} — please report this model")
            state[ours] = tensor
    left = sorted(set(source) - used)
    if left:
        raise ModelImportError(f"{len(left)} of the model's tensors belong to no imported layer (e.g. {left[0]}) — please report this model")
    built.load_state_dict(state)


def _parity(model: nn.Module, built: nn.Module, shape: tuple[int, int, int], batch: int = 2) -> float:
    """Max abs difference of the two models' outputs on seeded random images, both in eval mode."""
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(batch, *shape, generator=generator)
    model.eval()
    built.eval()
    with torch.no_grad():
        return float((model(x) - built(x)).abs().max())


def _transforms(published: Any) -> list[dict[str, Any]]:
    """The weights' evaluation preprocessing as the dataset's transform entries."""
    t = published.transforms()
    resize, crop = int(t.resize_size[0]), int(t.crop_size[0])
    # torchvision scales the shorter side to `resize` and keeps the aspect ratio, then crops
    interpolation = "bicubic" if t.interpolation.value == "bicubic" else "bilinear"  # efficientnet: bicubic
    return [
        {"type": "resize_shorter", "size": resize, "interpolation": interpolation},
        {"type": "center_crop", "size": [crop, crop]},
        {"type": "normalize", "mean": [float(v) for v in t.mean], "std": [float(v) for v in t.std]},
    ]


def _project(name: str, graph: Graph, published: Any, weights_path: Path | None, classes: int | None, size: int) -> Any:
    from workbench.data.bundle import DatasetSpec
    from workbench.project import Project
    from workbench.training.settings import TrainSettings

    options: dict[str, Any] = {"transforms": _transforms(published)} if published is not None else {}
    dataset = DatasetSpec(source="images", options=options)
    training = TrainSettings()
    if weights_path is not None:
        # relative: it resolves against the project's folder, so the pair can move together
        training = dataclasses.replace(training, init_from=weights_path.name)
    head = f", new {classes}-class head" if classes is not None else ""
    description = f"torchvision {name}{head}, imported with its weights" if weights_path else f"torchvision {name}{head}"
    return Project(name=name, graph=graph, dataset=dataset, training=training, description=description)


def _write(project: Any, target: Path, built: nn.Module, weights_path: Path | None) -> None:
    from workbench.project import save_project

    if weights_path is not None:
        from safetensors.torch import save_file

        tmp = weights_path.with_name(weights_path.name + ".tmp")
        save_file({k: v.detach().contiguous() for k, v in built.state_dict().items()}, str(tmp))
        tmp.replace(weights_path)
    save_project(project, target)


def model_parameter_count(name: str) -> int:
    """Parameters of torchvision's `name` (built without weights; for listings)."""
    import torchvision

    return sum(p.numel() for p in torchvision.models.get_model(name, weights=None).parameters())
