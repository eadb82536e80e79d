"""ONNX export that proves itself: write, check, run, compare.

`export_onnx` writes an fp32 model (opset ≥ 17, a symbolic batch axis, one self-contained file
unless the weights pass 1.8 GB), strips the exporter's per-node debugging records (they hold the
stack traces, with local file paths, of the machine that exported), and stores Workbench's
metadata in `metadata_props`. `verify_onnx` then runs `onnx.checker` and compares onnxruntime's
output with PyTorch's on validation samples; a figure above the tolerance raises ExportError.

The model is put in eval mode for the export and every submodule gets its own mode back after.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import re
import warnings
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from torch import nn

from workbench import __version__
from workbench.errors import ExportError
from workbench.graph.inputs import ModelInputs, as_args, batch_len, call, concat, dynamic_batch

if TYPE_CHECKING:
    from workbench.data.bundle import DataBundle
    from workbench.graph.builder import GraphModule

log = logging.getLogger(__name__)

INPUT_NAME = "input"
OUTPUT_NAME = "output"
FP32_TOLERANCE = 1e-4  # max abs diff between onnxruntime and PyTorch for an fp32 file
# fp16 keeps ~3 significant digits, so its tolerance scales with the size of the outputs.
FP16_RELATIVE_TOLERANCE = 5e-3
# protobuf refuses messages over 2 GB; above this the weights go to a side file.
EXTERNAL_DATA_LIMIT = 1_800_000_000


# ----- modes and reference outputs ----------------------------------------------------------------


@contextlib.contextmanager
def eval_mode(model: nn.Module) -> Iterator[nn.Module]:
    """Eval mode inside, and afterwards each submodule's own previous mode (not just the root's)."""
    modes = {name: m.training for name, m in model.named_modules()}
    model.eval()
    try:
        yield model
    finally:
        for name, m in model.named_modules():
            m.training = modes.get(name, m.training)


def reference_outputs(model: nn.Module, inputs: ModelInputs) -> np.ndarray:
    """PyTorch's eval-mode output for `inputs` (a tensor, or a tuple for several Inputs), as float32 numpy."""
    with eval_mode(model), torch.inference_mode():
        return call(model, inputs).float().cpu().numpy()


def onnx_input_names(model: nn.Module) -> list[str]:
    """The ONNX file's input names: "input" for a single-input network (as it always was), the
    Input nodes' names when there are several."""
    names = list(getattr(model, "input_names", ()) or ())
    return names if len(names) > 1 else [INPUT_NAME]


def as_numpy_input(x: torch.Tensor | np.ndarray, dtype: str) -> np.ndarray:
    """The array onnxruntime expects: int64 token ids or float32 features."""
    array = x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else np.asarray(x)
    return array.astype(np.int64 if dtype == "int64" else np.float32, copy=False)


# ----- metadata -------------------------------------------------------------------------------------


def build_metadata(
    model: GraphModule,
    data: DataBundle | None = None,
    project_name: str | None = None,
    training_summary: Mapping[str, Any] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, str]:
    """What a user of the file needs to feed it and read its output, as string → string.

    Values that are not text are JSON. Checkpoint paths are left out of the training summary:
    they name folders on the exporting machine and mean nothing elsewhere.
    """
    spec = model.input_spec
    names = onnx_input_names(model)
    meta: dict[str, Any] = {
        "producer": f"workbench {__version__}",
        "project_name": project_name or "",
        "input_name": names[0],
        "input_shape": ["batch", *spec.shape],
        "input_dtype": spec.dtype,
        "output_name": OUTPUT_NAME,
        "output_shape": ["batch", *model.output_spec.shape],
        "loss": model.loss_name,
    }
    if len(names) > 1:  # every input, in the order the file takes them
        meta["input_names"] = names
        meta["input_shapes"] = {n: ["batch", *s.shape] for n, s in zip(names, model.input_specs)}
        meta["input_dtypes"] = {n: s.dtype for n, s in zip(names, model.input_specs)}
    if data is not None:
        meta["task"] = data.task
        if data.normalization:
            meta["normalization"] = data.normalization
        preprocessing = (data.encoding or {}).get("preprocessing")
        if preprocessing:  # images: colour, resize/crop steps, scale, mean and std, as JSON
            meta["preprocessing"] = preprocessing
        if data.class_names:
            meta["class_names"] = list(data.class_names)
        if data.vocab:
            meta["vocab"] = list(data.vocab)
    if training_summary:
        meta["training_summary"] = {k: v for k, v in training_summary.items() if not str(k).endswith("checkpoint")}
    if extra:
        meta.update(extra)
    # Plain snake_case keys: viewers such as Netron show them as they are.
    return {k: v if isinstance(v, str) else json.dumps(_finite(v), ensure_ascii=False) for k, v in meta.items()}


def read_metadata(path: str | Path) -> dict[str, Any]:
    """The metadata of an ONNX file, JSON values decoded (plain text stays text)."""
    import onnx

    model = onnx.load(str(path), load_external_data=False)
    out: dict[str, Any] = {}
    for prop in model.metadata_props:
        try:
            out[prop.key] = json.loads(prop.value)
        except json.JSONDecodeError:
            out[prop.key] = prop.value
    return out


def _finite(value: Any) -> Any:
    # JSON has no NaN or infinity: a diverged metric becomes null rather than an unreadable file.
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


# ----- export -----------------------------------------------------------------------------------------


def parameter_bytes(model: nn.Module) -> int:
    return sum(t.numel() * t.element_size() for t in (*model.parameters(), *model.buffers()))


def export_onnx(
    model: GraphModule,
    path: str | Path,
    example: ModelInputs,
    *,
    opset: int = 18,
    metadata: Mapping[str, str] | None = None,
) -> list[Path]:
    """Write `model` as an fp32 ONNX file with a dynamic batch axis; returns the files written.

    `example` is a batch of real inputs (two or more samples, so the batch axis is not
    specialised to 1): a tensor, or a tuple in the model's `input_names` order. ExportError names the layer ONNX cannot hold, when it can find it.
    """
    if opset < 17:
        raise ExportError(f"ONNX opset {opset} is too old — Workbench exports opset 17 or newer")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if batch_len(example) < 2:
        example = concat([example, example])
    external = parameter_bytes(model) > EXTERNAL_DATA_LIMIT
    with eval_mode(model):
        try:
            program = _torch_onnx_export(model, example, opset)
        except Exception as exc:
            raise ExportError(_export_failure(model, example, opset, exc)) from exc
        program.save(str(path), external_data=external)
    _strip_and_annotate(path, metadata or {})
    files = [path]
    data_file = path.with_name(path.name + ".data")
    if external and data_file.exists():
        files.append(data_file)
    log.info("wrote %s (%d bytes)", path, sum(f.stat().st_size for f in files))
    return files


def _torch_onnx_export(model: nn.Module, example: ModelInputs, opset: int, dynamic: bool = True,
                       names: list[str] | None = None):
    """torch.onnx.export (the dynamo exporter; verbose=False keeps its progress lines off stdout)."""
    with _quiet_exporter():
        return torch.onnx.export(
            model,
            as_args(example),
            dynamo=True,
            dynamic_shapes=dynamic_batch(model, example) if dynamic else None,
            input_names=names or onnx_input_names(model),
            output_names=[OUTPUT_NAME],
            opset_version=opset,
            optimize=True,
            verbose=False,
        )


@contextlib.contextmanager
def _quiet_exporter() -> Iterator[None]:
    # The exporter logs a warning per torchvision op it cannot register (torchvision is not a
    # dependency) and torch's pytree emits a FutureWarning about its own internals: neither is
    # anything a Workbench user can act on.
    registration = logging.getLogger("torch.onnx._internal.exporter._registration")
    level = registration.level
    registration.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", category=FutureWarning, module=r"(torch|copyreg).*")
            warnings.filterwarnings("ignore", message=r".*LeafSpec.*")
            # torch's RNN, LSTM and GRU re-read their weight list in forward, which the exporter
            # reports as attributes assigned during export: the file is right (parity-checked)
            warnings.filterwarnings("ignore", message=r".*were assigned during export.*", category=UserWarning)
            # Several inputs share the one symbolic batch axis; the exporter notes it renamed nothing.
            warnings.filterwarnings("ignore", message=r".*will not be used, since it shares the same shape constraints.*")
            yield
    finally:
        registration.setLevel(level)


def _strip_and_annotate(path: Path, metadata: Mapping[str, str]) -> None:
    """Drop the exporter's per-node records (stack traces, fx node text) and set our metadata."""
    import onnx

    model = onnx.load(str(path), load_external_data=False)
    strip_debug_records(model)
    set_metadata(model, metadata)
    onnx.save(model, str(path))


def strip_debug_records(model: Any) -> None:
    """Remove node- and value-level metadata_props and doc strings (graph and functions)."""
    for container in (model.graph, *model.functions):
        for node in container.node:
            del node.metadata_props[:]
            node.doc_string = ""
    for value in (*model.graph.value_info, *model.graph.input, *model.graph.output, *model.graph.initializer):
        if hasattr(value, "metadata_props"):
            del value.metadata_props[:]


def set_metadata(model: Any, metadata: Mapping[str, str]) -> None:
    """Replace the model-level metadata_props with `metadata`."""
    del model.metadata_props[:]
    for key, value in metadata.items():
        prop = model.metadata_props.add()
        prop.key, prop.value = key, value


def _export_failure(model: nn.Module, example: ModelInputs, opset: int, exc: Exception) -> str:
    """A message naming the layer ONNX cannot hold: each node is tried on its own input."""
    first = _root_cause(exc)
    culprit = _find_failing_node(model, example, opset)
    if culprit:
        return f"ONNX cannot hold layer '{culprit}' ({first}) — replace that layer or export to safetensors/code instead"
    return f"ONNX export failed: {first}"


def _root_cause(exc: BaseException) -> str:
    """The first line of the innermost cause, without terminal colour codes.

    The exporter wraps the real reason ("Could not guard on data-dependent expression...")
    in a generic "Failed to export the model with torch.export" with ANSI colours.
    """
    while exc.__cause__ is not None:
        exc = exc.__cause__
    text = re.sub(r"\x1b\[[0-9;]*m", "", str(exc)).strip()
    first = text.splitlines()[0] if text else type(exc).__name__
    if "data-dependent" in first:
        return "its computation branches on the values of its input, which a traced graph cannot hold"
    return first[:300]


def _find_failing_node(model: nn.Module, example: ModelInputs, opset: int) -> str | None:
    """Try each node on its own input: torch.export first (cheap, finds most problems), then the
    ONNX translation (about a second per node, so only when torch.export found nothing)."""
    plan = getattr(model, "plan", None)
    if not plan:
        return None
    calls: list[tuple[str, nn.Module, tuple[torch.Tensor, ...]]] = []
    names = getattr(model, "input_names", None) or [model.input_name]  # type: ignore[attr-defined]
    values = dict(zip(names, as_args(example)))
    with torch.no_grad():
        for name, sources in plan:
            sub = model.get_submodule(name)
            args = tuple(values[s] for s in sources)
            wrapper = _Positional(sub)
            wrapper.training = False  # the node itself is already in eval mode (export_onnx set it)
            calls.append((name, wrapper, args))
            values[name] = sub(*args)
    for name, wrapper, args in calls:
        try:
            with _quiet_exporter():
                torch.export.export(wrapper, (args,))
        except Exception:
            return name
    for name, wrapper, args in calls:
        try:
            _torch_onnx_export(wrapper, (args,), opset, dynamic=False, names=[INPUT_NAME])
        except Exception:
            return name
    return None


class _Positional(nn.Module):
    """Wraps a node's module so that its inputs arrive as one tuple argument (export takes one)."""

    def __init__(self, module: nn.Module) -> None:
        super().__init__()
        self.module = module

    def forward(self, args: tuple[torch.Tensor, ...]) -> torch.Tensor:
        return self.module(*args)


# ----- checking and running ---------------------------------------------------------------------------


def check_onnx(path: str | Path) -> None:
    """onnx.checker with full shape inference; ExportError if the file is not valid ONNX."""
    import onnx

    try:
        onnx.checker.check_model(str(path), full_check=True)
    except Exception as exc:  # checker raises ValidationError, shape inference InferenceError
        raise ExportError(f"{Path(path).name} is not a valid ONNX model: {str(exc).strip().splitlines()[0]}") from exc


class OnnxRunner:
    """An onnxruntime CPU session for one file, fed with tensors or arrays."""

    def __init__(self, path: str | Path, threads: int | None = None) -> None:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.log_severity_level = 3  # errors only: ORT's notes about initializers are noise here
        if threads:
            options.intra_op_num_threads = threads
        # ORT's idle worker threads spin for a while after each run by default; next to PyTorch
        # (training, or the eager latency measured beside it) they steal its cores and made
        # PyTorch look 20-100x slower in the report.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        try:
            self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        except Exception as exc:
            raise ExportError(f"onnxruntime cannot load {Path(path).name}: {str(exc).strip().splitlines()[0]}") from exc
        inputs = self.session.get_inputs()
        self.input_names = [i.name for i in inputs]
        self.input_dtypes = ["int64" if "int64" in i.type else "float32" for i in inputs]
        self.input_name = self.input_names[0]
        self.input_dtype = self.input_dtypes[0]

    def __call__(self, x: ModelInputs | np.ndarray) -> np.ndarray:
        """The file's output for one input (a tensor or array) or a tuple of them in the file's input order."""
        values = (x,) if isinstance(x, (torch.Tensor, np.ndarray)) else tuple(x)
        if len(values) != len(self.input_names):
            raise ExportError(f"the ONNX file takes {len(self.input_names)} input(s) "
                              f"({', '.join(self.input_names)}) but was given {len(values)}")
        feed = {name: as_numpy_input(v, dtype) for name, dtype, v in zip(self.input_names, self.input_dtypes, values)}
        return np.asarray(self.session.run(None, feed)[0], dtype=np.float32)

    def predict(self, x: ModelInputs) -> torch.Tensor:
        """Same as calling, as a torch tensor (for the shared evaluation code)."""
        return torch.from_numpy(self(x))


def max_abs_diff(a: np.ndarray, b: np.ndarray) -> float:
    if a.shape != b.shape:
        raise ExportError(f"the exported model's output has shape {a.shape} but PyTorch's has {b.shape}")
    if a.size == 0:
        return 0.0
    return float(np.max(np.abs(a.astype(np.float64) - b.astype(np.float64))))


def verify_onnx(
    path: str | Path,
    reference: np.ndarray,
    inputs: ModelInputs,
    tolerance: float | None = FP32_TOLERANCE,
    what: str = "fp32",
) -> float:
    """Checker, then onnxruntime on `inputs` against `reference`; returns the max abs diff.

    With a tolerance, a larger difference raises ExportError quoting both figures.
    """
    check_onnx(path)
    runner = OnnxRunner(path)
    diff = max_abs_diff(runner(inputs), reference)
    if not math.isfinite(diff) or (tolerance is not None and diff > tolerance):
        raise ExportError(
            f"{Path(path).name}: onnxruntime's output differs from PyTorch's by {diff:.3g} (max abs diff over "
            f"{batch_len(inputs)} validation samples); the {what} tolerance is {tolerance:.1g} — the file is not "
            "trustworthy, so it was not kept"
        )
    log.info("%s: max abs diff %.3g on %d samples", Path(path).name, diff, batch_len(inputs))
    return diff


def fp16_tolerance(reference: np.ndarray) -> float:
    """fp16 parity tolerance for outputs of this size."""
    scale = float(np.max(np.abs(reference))) if reference.size else 1.0
    return FP16_RELATIVE_TOLERANCE * max(1.0, scale)
