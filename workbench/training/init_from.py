"""Start from an existing model: read weights from elsewhere, copy those that fit, freeze, re-head.

`read_weights(source)` takes a run folder (its best checkpoint, else its last), a Workbench
checkpoint (.pt), a `.safetensors` file or a plain PyTorch state dict. Every file is read
weights-only (`torch.load(weights_only=True)`, safetensors): nothing in it is ever unpickled.
`initialise(model, source)` copies each tensor whose name and shape match the built network's
(names follow node names: `conv1.weight`) and returns an `InitReport` of what was loaded and what
was skipped and why; it refuses (TrainingError) when nothing matched.

The graph helpers (`freeze_nodes`, `nodes_until`, `replace_head`) edit a Graph in place; the
command line and the app both use them.
"""

from __future__ import annotations

import logging
import os
import pickle
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from workbench.errors import GraphError, ProjectFileError, TrainingError
from workbench.graph.document import Graph, Node

log = logging.getLogger(__name__)

FIX = "give a run folder, a Workbench checkpoint (.pt) or a weights file (.safetensors or a saved state_dict)"


@dataclass(frozen=True)
class InitReport:
    """What `initialise` did: the file read, the tensors copied and those skipped (with why)."""

    source: str
    loaded: tuple[str, ...]
    skipped: tuple[tuple[str, str], ...]  # (tensor name, reason)
    unused: tuple[str, ...] = field(default=())  # source tensors no layer of the network takes

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready record (summary.json's `init_from`)."""
        return {"source": self.source, "loaded": list(self.loaded),
                "skipped": {name: why for name, why in self.skipped}, "unused": list(self.unused)}

    def lines(self) -> list[str]:
        """Human-readable lines: one headline, then one per skipped tensor."""
        total = len(self.loaded) + len(self.skipped)
        out = [f"initialised {len(self.loaded)} of {total} tensors from {self.source}"]
        out += [f"  skipped {name}: {why}" for name, why in self.skipped]
        if self.unused:
            shown = ", ".join(self.unused[:5]) + (", ..." if len(self.unused) > 5 else "")
            out.append(f"  not used from the source: {shown}")
        return out


def _bad(source: Path | str, what: str) -> ProjectFileError:
    return ProjectFileError(f"init_from {source}: {what} — {FIX}")


def read_weights(source: str | os.PathLike[str], base_dir: Path | None = None) -> tuple[Path, dict[str, torch.Tensor]]:
    """(the file read, its tensors by name); ProjectFileError, one line, for a source that is
    missing, unreadable or of another format."""
    path = Path(source).expanduser()
    if not path.is_absolute() and base_dir is not None:
        path = base_dir / path
    if not path.exists():
        raise _bad(path, "no such file or folder")
    if path.is_dir():
        for name in ("best.pt", "last.pt"):
            candidate = path / "checkpoints" / name
            if candidate.is_file():
                return candidate, _from_checkpoint(candidate)
        raise _bad(path, "is a folder but not a run folder with a checkpoint (checkpoints/best.pt is missing)")
    if path.suffix.lower() == ".safetensors":
        return path, _from_safetensors(path)
    if not zipfile.is_zipfile(path):  # torch.save has written zip archives since torch 1.6
        raise _bad(path, "not a readable PyTorch file (not an archive written by torch.save)")
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError:
        raise _bad(path, "holds pickled Python objects, which Workbench never unpickles; save "
                         "model.state_dict() or use safetensors") from None
    except Exception as exc:  # torch raises several types for a file that is not a torch archive
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise _bad(path, f"not a readable PyTorch file ({first[:120]})") from None
    if isinstance(obj, dict) and "format_version" in obj and "model" in obj:
        return path, _from_checkpoint(path)  # a Workbench checkpoint: checked field by field
    return path, _state_dict(obj, path)


def _from_checkpoint(path: Path) -> dict[str, torch.Tensor]:
    from workbench.training.checkpoint import load_checkpoint

    return dict(load_checkpoint(path)["model"])


def _from_safetensors(path: Path) -> dict[str, torch.Tensor]:
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    try:
        return load_file(str(path), device="cpu")
    except (SafetensorError, OSError, ValueError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise _bad(path, f"not a readable safetensors file ({first[:120]})") from None


def _state_dict(obj: Any, path: Path) -> dict[str, torch.Tensor]:
    """A state dict, possibly wrapped as {"state_dict": ...} or {"model": ...} (common habits)."""
    if isinstance(obj, dict):
        for key in ("state_dict", "model"):
            if isinstance(obj.get(key), dict):
                obj = obj[key]
                break
    if not isinstance(obj, dict) or not obj or not all(isinstance(k, str) and isinstance(v, torch.Tensor)
                                                      for k, v in obj.items()):
        raise _bad(path, "holds no state dict (a mapping of names to tensors)")
    return dict(obj)


def _dims(shape: torch.Size | tuple[int, ...]) -> str:
    return "×".join(str(d) for d in shape) or "scalar"


def match_weights(model: nn.Module, weights: dict[str, torch.Tensor], source: str) -> InitReport:
    """Copy every tensor of `weights` whose name and shape are the model's; report the rest."""
    own = model.state_dict()
    loaded: list[str] = []
    skipped: list[tuple[str, str]] = []
    with torch.no_grad():
        for name, target in own.items():
            value = weights.get(name)
            if value is None:
                skipped.append((name, "missing in the source"))
            elif tuple(value.shape) != tuple(target.shape):
                skipped.append((name, f"shape differs (source {_dims(value.shape)}, network {_dims(target.shape)})"))
            elif value.is_floating_point() != target.is_floating_point():
                skipped.append((name, f"type differs (source {value.dtype}, network {target.dtype})"))
            else:
                target.copy_(value)
                loaded.append(name)
    unused = tuple(k for k in weights if k not in own)
    return InitReport(source, tuple(loaded), tuple(skipped), unused)


def initialise(model: nn.Module, source: str | os.PathLike[str], base_dir: Path | None = None) -> InitReport:
    """Load `source` into `model` by name and shape; TrainingError when nothing matched."""
    path, weights = read_weights(source, base_dir)
    report = match_weights(model, weights, str(path))
    if not report.loaded:
        example = next(iter(weights), "?")
        raise TrainingError(
            f"init_from {path}: no tensor matches the network by name and shape (the source has e.g. "
            f"'{example}', the network e.g. '{next(iter(model.state_dict()), '?')}') — start from the "
            f"weights of a network with the same layer names, or clear init_from")
    for line in report.lines():
        log.info("%s", line)
    return report


# ----- graph edits ----------------------------------------------------------------------------


def layer_order(graph: Graph) -> list[Node]:
    """The nodes in execution order (a topological order; the file's order breaks ties)."""
    from workbench.graph.analysis import analyze

    order = analyze(graph).order
    return [graph.node(nid) for nid in order] if order else graph.nodes


def check_names(graph: Graph, names: list[str], flag: str = "--freeze") -> list[Node]:
    """The nodes with these names; GraphError listing every unknown one and the known ones."""
    unknown = [n for n in names if graph.node_by_name(n) is None]
    if unknown:
        known = ", ".join(n.name for n in layer_order(graph) if n.type not in ("Input", "Output"))
        raise GraphError(f"{flag}: no layer named {', '.join(repr(n) for n in unknown)} (layers: {known})")
    return [graph.node_by_name(n) for n in names]  # type: ignore[misc]


def nodes_until(graph: Graph, name: str, flag: str = "--freeze-until") -> list[Node]:
    """The layers up to and including `name`, in execution order (what `--freeze-until` freezes)."""
    last = check_names(graph, [name], flag)[0]
    out: list[Node] = []
    for node in layer_order(graph):
        out.append(node)
        if node.id == last.id:
            break
    return out


def freeze_nodes(graph: Graph, nodes: list[Node], trainable: bool = False) -> list[str]:
    """Set `trainable` on each node; returns the names of the nodes that changed."""
    changed = []
    for node in nodes:
        if node.trainable != trainable:
            graph.set_training(node.id, trainable=trainable)
            changed.append(node.name)
    return changed


def backbone(graph: Graph) -> list[Node]:
    """Every layer before the head (see `head_node`): what fine-tuning usually freezes."""
    head = head_node(graph)
    nodes = layer_order(graph)
    cut = next(i for i, n in enumerate(nodes) if n.id == head.id)
    return nodes[:cut]


def head_node(graph: Graph) -> Node:
    """The last layer whose width follows the data's outputs (LayerSpec.follows_data: a Linear's
    out_features), in execution order; GraphError when the network has none."""
    heads = [n for n in layer_order(graph) if _outputs_param(n) is not None]
    if not heads:
        raise GraphError("replace head: the network has no Linear layer to replace")
    return heads[-1]


def _outputs_param(node: Node) -> str | None:
    return next((param for param, what in node.spec.follows_data if what == "outputs"), None)


def replace_head(graph: Graph, outputs: int) -> str:
    """Swap the last Linear for a fresh one with `outputs` outputs: a new name (so weights read
    with init_from never fill it), trainable and at factor 1. Returns what changed, in words."""
    head = head_node(graph)
    param = _outputs_param(head)
    assert param is not None  # head_node only returns such layers
    old_name, old_width = head.name, head.params[param]
    new_name = graph.unique_name(f"{old_name}_new")
    graph.set_param(head.id, param, outputs)
    graph.rename(head.id, new_name)
    graph.set_training(head.id, trainable=True, lr_scale=1.0)
    return (f"{head.type} '{old_name}' ({old_width} outputs) replaced by a fresh {head.type} '{new_name}' "
            f"with {outputs} output{'s' if outputs != 1 else ''}")


def head_width(graph: Graph, bundle: Any) -> int:
    """How many outputs the head needs for this data (classes, or the regression targets)."""
    from workbench.training.losses import output_width

    output = next((n for n in graph.nodes if n.type == "Output"), None)
    if output is None:
        return int(bundle.num_outputs)
    return output_width(output.params["loss"], bundle.task, bundle.num_outputs)
