"""Compression of an exported ONNX file: int8 (dynamic or static) and fp16.

All three work on the **ONNX** file with onnxruntime's own tools, because a model quantized in
PyTorch (torch.ao or torchao) does not export to ONNX. Each returns the new file; the caller
checks it (checker, onnxruntime, accuracy) like any other variant.

- int8 dynamic: weights stored as int8, activations quantized on the fly at run time.
- int8 static: weights and the activations feeding weighted layers int8 (QDQ format),
  activation ranges measured on calibration batches drawn from the training data.
- fp16: every float tensor in half precision, inputs and outputs kept float32 (Cast nodes at the
  edges), so the file takes the same arrays as the fp32 one.

"Per-channel where it helps": with `per_channel=None` both layouts are made and the one closer to
the fp32 reference on the parity samples is kept (per-channel scales help convolutions whose
filters differ in range, and can hurt small Linear layers).
"""

from __future__ import annotations

import contextlib
import logging
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from workbench.errors import ExportError
from workbench.export.onnx_export import OnnxRunner, as_numpy_input, max_abs_diff, set_metadata, strip_debug_records

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class QuantizeResult:
    """The file written and how it was made."""

    path: Path
    per_channel: bool
    note: str  # one line for the report, e.g. "per-channel weights (closer to fp32: 2.1e-3 vs 2.8e-3)"


def quantize_int8_dynamic(
    src: str | Path,
    dst: str | Path,
    *,
    per_channel: bool | None = None,
    parity: tuple[torch.Tensor, np.ndarray] | None = None,
    metadata: dict[str, str] | None = None,
) -> QuantizeResult:
    """int8 weights, dynamic activations. `parity` = (inputs, fp32 reference) decides per-channel."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    def make(out: Path, pc: bool) -> None:
        with _quiet_quantizer():
            quantize_dynamic(str(src), str(out), weight_type=QuantType.QInt8, per_channel=pc)

    return _best_of(dst, make, per_channel, parity, metadata, "int8-dynamic")


def quantize_int8_static(
    src: str | Path,
    dst: str | Path,
    calibration: Iterable[torch.Tensor],
    *,
    per_channel: bool | None = None,
    parity: tuple[torch.Tensor, np.ndarray] | None = None,
    metadata: dict[str, str] | None = None,
) -> QuantizeResult:
    """int8 weights and activations (QDQ); activation ranges from the `calibration` batches."""
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static

    batches = list(calibration)
    if not batches:
        raise ExportError("int8-static needs calibration batches from the training data, but the training set is empty")
    runner_dtype = OnnxRunner(src).input_dtype
    feeds = [as_numpy_input(b, runner_dtype) for b in batches]
    weighted = _weighted_nodes(src)

    class Reader(CalibrationDataReader):
        def __init__(self) -> None:
            self._it = iter({"input": f} for f in feeds)

        def get_next(self) -> dict[str, np.ndarray] | None:
            return next(self._it, None)

    def make(out: Path, pc: bool) -> None:
        with _quiet_quantizer():
            quantize_static(
                str(src),
                str(out),
                Reader(),
                quant_format=QuantFormat.QDQ,
                per_channel=pc,
                weight_type=QuantType.QInt8,
                activation_type=QuantType.QInt8,
                nodes_to_quantize=weighted,
            )

    return _best_of(dst, make, per_channel, parity, metadata, "int8-static")


def _weighted_nodes(src: str | Path) -> list[str] | None:
    """Names of the nodes that carry weights (MatMul/Gemm/Conv/Gather on an initializer).

    Static quantization of every op also puts the attention scores and softmax of a
    Transformer through int8, which wrecked a small GPT (token accuracy 0.40 -> 0.28); keeping
    int8 to the weighted ops left it at 0.39 with the same file size. None (quantize all) when
    the exporter left some of those nodes unnamed.
    """
    import onnx

    model = onnx.load(str(src), load_external_data=False)
    weights = {t.name for t in model.graph.initializer}
    nodes = [n for n in model.graph.node
             if n.op_type in ("MatMul", "Gemm", "Conv", "ConvTranspose", "Gather") and any(i in weights for i in n.input)]
    if not nodes or any(not n.name for n in nodes):
        return None
    return [n.name for n in nodes]


def convert_fp16(src: str | Path, dst: str | Path, *, metadata: dict[str, str] | None = None) -> Path:
    """Half-precision weights and compute, float32 inputs and outputs."""
    import onnx
    from onnxruntime.transformers.float16 import convert_float_to_float16

    model = onnx.load(str(src))
    try:
        with _quiet_quantizer():
            half = convert_float_to_float16(model, keep_io_types=True)
    except Exception as exc:
        raise ExportError(f"cannot convert the ONNX model to fp16: {str(exc).strip().splitlines()[0]}") from exc
    # The converter appends the Cast nodes it adds for keep_io_types at the end of the node
    # list; onnxruntime does not mind, but the ONNX standard (and its checker) wants them sorted.
    sort_nodes(half.graph)
    compact(half)
    if metadata is not None:
        set_metadata(half, metadata)
    onnx.save(half, str(dst))
    return Path(dst)


def _best_of(
    dst: str | Path,
    make: Callable[[Path, bool], None],
    per_channel: bool | None,
    parity: tuple[torch.Tensor, np.ndarray] | None,
    metadata: dict[str, str] | None,
    what: str,
) -> QuantizeResult:
    """Make the file with the requested layout, or both layouts and keep the better one.

    Better means: fewer predictions (argmax over the last axis) that differ from the fp32
    model on the parity samples, then the smaller file; for single-output models, the
    smaller max abs diff. Per-channel scales cost a few bytes per channel, so on a small
    Linear model they are kept only when they change what the model predicts.
    """
    dst = Path(dst)
    choices = [per_channel] if per_channel is not None else [False, True]
    if per_channel is None and parity is None:
        choices = [False]
    with tempfile.TemporaryDirectory(prefix="wb-quant-", dir=dst.parent) as tmp:
        made: list[tuple[tuple[float, float], float, bool, Path]] = []
        for pc in choices:
            out = Path(tmp) / f"{'pc' if pc else 'pt'}.onnx"
            try:
                make(out, pc)
            except Exception as exc:
                if len(choices) > 1 and not made and pc is False:
                    log.info("%s without per-channel failed (%s); trying per-channel", what, exc)
                    continue
                raise ExportError(f"{what} quantization failed: {str(exc).strip().splitlines()[0]}") from exc
            _finish(out, metadata)
            diff, key = float("nan"), (0.0, 0.0)
            if parity is not None:
                outputs = OnnxRunner(out)(parity[0])
                diff = max_abs_diff(outputs, parity[1])
                key = _score(outputs, parity[1], diff, out.stat().st_size)
            made.append((key, diff, pc, out))
        if not made:
            raise ExportError(f"{what} quantization failed for both weight layouts")
        made.sort(key=lambda item: item[0])
        _, diff, pc, best = made[0]
        shutil.move(str(best), dst)
    layout = "per-channel" if pc else "per-tensor"
    if len(made) > 1:
        note = f"{layout} weight scales (max abs diff {diff:.2g}; {made[1][1]:.2g} the other way)"
    else:
        note = f"{layout} weight scales"
    log.info("%s: %s", dst.name, note)
    return QuantizeResult(dst, pc, note)


def _score(outputs: np.ndarray, reference: np.ndarray, diff: float, size: int) -> tuple[float, float]:
    if reference.ndim >= 2 and reference.shape[-1] > 1:
        changed = float(np.sum(outputs.argmax(-1) != reference.argmax(-1)))
        return (changed, float(size))
    return (diff if np.isfinite(diff) else float("inf"), float(size))


def _finish(path: Path, metadata: dict[str, str] | None) -> None:
    import onnx

    model = onnx.load(str(path))
    compact(model)
    if metadata is not None:
        set_metadata(model, metadata)
    onnx.save(model, str(path))


def compact(model: Any) -> None:
    """Drop what a derived file does not need: debug records, node names, the intermediate
    shape annotations (onnxruntime infers them again) and the tools' long intermediate value
    names ("linear_MatMul_output_quantized_cast_output" becomes "t12"). Graph inputs, outputs
    and weights keep their names, so the file still reads as the network the user drew."""
    strip_debug_records(model)
    graph = model.graph
    keep = {v.name for v in graph.input} | {v.name for v in graph.output} | {t.name for t in graph.initializer}
    renamed: dict[str, str] = {}
    for node in graph.node:
        node.name = ""
        for i, name in enumerate(node.output):
            if name and name not in keep:
                renamed.setdefault(name, f"t{len(renamed)}")
                node.output[i] = renamed[name]
    for node in graph.node:
        for i, name in enumerate(node.input):
            if name in renamed:
                node.input[i] = renamed[name]
    del graph.value_info[:]


def sort_nodes(graph: Any) -> None:
    """Order the nodes so that each comes after the producers of its inputs (Kahn's algorithm)."""
    available = {v.name for v in graph.input} | {t.name for t in graph.initializer} | {""}
    pending = list(graph.node)
    ordered = []
    while pending:
        ready = [n for n in pending if all(i in available for i in n.input)]
        if not ready:
            raise ExportError("the converted ONNX graph has a cycle or a missing input — please report this")
        for node in ready:
            ordered.append(node)
            available.update(node.output)
        ready_ids = {id(n) for n in ready}
        pending = [n for n in pending if id(n) not in ready_ids]
    copies = [type(n)() for n in ordered]
    for copy_, node in zip(copies, ordered):
        copy_.CopyFrom(node)
    del graph.node[:]
    graph.node.extend(copies)


@contextlib.contextmanager
def _quiet_quantizer() -> Iterator[None]:
    # onnxruntime's quantizer logs advice ("Please consider to run pre-processing...") on the
    # root logger; a Workbench user cannot act on it, so it is kept out of their terminal.
    root = logging.getLogger()
    advice = _DropAdvice()
    root.addFilter(advice)
    try:
        yield
    finally:
        root.removeFilter(advice)


class _DropAdvice(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if message.startswith(("Please consider", "Axis ", "Inference failed or unsupported type",
                                "Quantization parameters for tensor")):
            log.debug("onnxruntime: %s", message)
            return False
        return True
