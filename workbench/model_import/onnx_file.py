"""Reading an ONNX file for import: parse, check, infer shapes, and describe its one input and output.

Nothing in the file is executed: it is parsed as protobuf, checked with `onnx.checker`, and its
shapes are inferred with `onnx.shape_inference`. Weights kept in a side file (external data) are
read only from files beside the model: a location with a folder in it, or one that leaves the
model's folder, is refused. Every failure is a ModelImportError naming the file and the fix.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from workbench.errors import ModelImportError

log = logging.getLogger(__name__)

# ONNX element types a graph input may have, and what Workbench makes of them
FLOAT_TYPES = {1: "float32", 10: "float16", 11: "float64"}


@dataclass
class OnnxFile:
    """A parsed, checked ONNX model: its graph, constants and inferred shapes."""

    path: Path
    model: Any  # onnx.ModelProto (shape-inferred, external data loaded, local functions inlined)
    input_name: str
    input_shape: tuple[int | str, ...]  # with the batch axis first (an int, or a name when dynamic)
    output_name: str
    constants: dict[str, np.ndarray] = field(default_factory=dict)  # initializers by name
    shapes: dict[str, tuple[int | str | None, ...]] = field(default_factory=dict)  # inferred, per value
    opset: int = 0

    @property
    def producer(self) -> str:
        """Who wrote the file ("pytorch 2.14.1"), or "" when it does not say."""
        m = self.model
        return f"{m.producer_name} {m.producer_version}".strip()

    def metadata(self) -> dict[str, str]:
        """The file's `metadata_props` (Workbench's exporter stores the project name and the loss there)."""
        return {p.key: p.value for p in self.model.metadata_props}


def read_onnx(path: str | Path) -> OnnxFile:
    """Parse and check `path`; ModelImportError for a missing, foreign, truncated or invalid file."""
    import onnx

    source = Path(path)
    if not source.is_file():
        hint = " (it is a folder)" if source.is_dir() else ""
        raise ModelImportError(f"{source}: no such file{hint} — give the path of a .onnx file")
    raw = source.read_bytes()
    model = _parse(source, raw)
    if not model.HasField("graph") or not model.graph.node:
        raise ModelImportError(f"{source}: not an ONNX model (it holds no graph) — export the network with torch.onnx.export")
    _load_external_data(source, model)
    try:
        onnx.checker.check_model(model)
    except (onnx.checker.ValidationError, ValueError) as exc:
        raise ModelImportError(f"{source}: not a valid ONNX model ({_first_line(exc)}) — re-export it") from None
    if model.functions:  # an exporter's local functions (e.g. a HardSwish it wrote as one) become their nodes
        model = onnx.inliner.inline_local_functions(model)
    try:
        model = onnx.shape_inference.infer_shapes(model, check_type=False, strict_mode=False, data_prop=True)
    except Exception as exc:  # onnx raises InferenceError or a plain RuntimeError from C++
        raise ModelImportError(f"{source}: ONNX shape inference fails ({_first_line(exc)}) — re-export the model") from None
    return _describe(source, model)


def _parse(source: Path, raw: bytes) -> Any:
    import onnx
    from google.protobuf.message import DecodeError

    try:
        model = onnx.load_model_from_string(raw)
    except (DecodeError, RuntimeWarning, ValueError) as exc:
        # A model's first field is ir_version (field 1, a varint: byte 0x08); files that start so
        # but do not parse were cut short (an interrupted copy or download).
        if raw[:1] == b"\x08":
            raise ModelImportError(f"{source}: the ONNX file is truncated or damaged ({_first_line(exc)}) — "
                                   "copy or export it again") from None
        raise ModelImportError(f"{source}: not an ONNX model (the file does not parse as one) — "
                               "give a .onnx file written by torch.onnx.export or another ONNX exporter") from None
    if model.ir_version == 0 and not model.HasField("graph"):
        raise ModelImportError(f"{source}: not an ONNX model (no version, no graph) — give a .onnx file")
    return model


def _load_external_data(source: Path, model: Any) -> None:
    """Read side-file weights, only from plain files in the model's own folder."""
    from onnx.external_data_helper import ExternalDataInfo, load_external_data_for_tensor, uses_external_data

    folder = source.parent.resolve()
    for tensor in model.graph.initializer:
        if not uses_external_data(tensor):
            continue
        location = ExternalDataInfo(tensor).location
        target = (folder / location).resolve()
        if Path(location).name != location or target.parent != folder:
            raise ModelImportError(f"{source}: tensor {tensor.name} keeps its data at '{location}', outside the model's "
                                   "folder — Workbench reads side files only from beside the .onnx file")
        if not target.is_file():
            raise ModelImportError(f"{source}: the weights file '{location}' it names is missing — put it beside "
                                   f"{source.name} (it is written with the model)")
        try:
            load_external_data_for_tensor(tensor, str(folder))
        except (OSError, ValueError) as exc:
            raise ModelImportError(f"{source}: cannot read the weights in '{location}' ({_first_line(exc)})") from None
        # the data is now inside the tensor: the side file is not read again
        del tensor.external_data[:]
        tensor.data_location = 0


def _describe(source: Path, model: Any) -> OnnxFile:
    from onnx import numpy_helper

    constants = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
    inputs = [v for v in model.graph.input if v.name not in constants]
    if len(inputs) != 1:
        names = ", ".join(v.name for v in inputs) or "none"
        raise ModelImportError(f"{source}: the network takes {len(inputs)} inputs ({names}); Workbench imports "
                               "networks with one input tensor")
    if len(model.graph.output) != 1:
        names = ", ".join(v.name for v in model.graph.output)
        raise ModelImportError(f"{source}: the network returns {len(model.graph.output)} outputs ({names}); Workbench "
                               "imports networks with one output — export the model with a single output")
    shapes = {}
    for value in (*model.graph.input, *model.graph.value_info, *model.graph.output):
        shape = _shape_of(value)
        if shape is not None:
            shapes[value.name] = shape
    first = inputs[0]
    elem = first.type.tensor_type.elem_type
    if elem not in FLOAT_TYPES:
        raise ModelImportError(f"{source}: input '{first.name}' holds {_type_name(elem)} values; Workbench imports "
                               "networks whose input is floating point (images or feature vectors)")
    shape = shapes.get(first.name)
    if shape is None or len(shape) not in (2, 4):
        rank = "no known rank" if shape is None else f"{len(shape)} axes"
        raise ModelImportError(f"{source}: input '{first.name}' has {rank}; Workbench imports images (batch, channels, "
                               "height, width) and feature vectors (batch, features)")
    unfixed = [i for i, d in enumerate(shape[1:], 1) if not isinstance(d, int)]
    if unfixed:
        raise ModelImportError(f"{source}: input '{first.name}' has no fixed size on axis {unfixed[0]} "
                               f"({_dims(shape)}) — export the model with a fixed input size (only the batch may vary)")
    opset = max((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), default=0)
    return OnnxFile(source, model, first.name, shape, model.graph.output[0].name, constants, shapes, opset)


def _shape_of(value: Any) -> tuple[int | str | None, ...] | None:
    t = value.type.tensor_type
    if not t.HasField("shape"):
        return None
    dims: list[int | str | None] = []
    for d in t.shape.dim:
        if d.HasField("dim_value"):
            dims.append(int(d.dim_value))
        elif d.HasField("dim_param"):
            dims.append(d.dim_param)
        else:
            dims.append(None)
    return tuple(dims)


def _dims(shape: tuple[Any, ...]) -> str:
    return "×".join("?" if d is None else str(d) for d in shape)


def _type_name(elem: int) -> str:
    import onnx

    try:
        return onnx.helper.tensor_dtype_to_np_dtype(elem).name
    except (KeyError, ValueError, TypeError):
        return f"type {elem}"


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return (text.splitlines()[0] if text else type(exc).__name__)[:200]
