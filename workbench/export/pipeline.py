"""`run_export`: a trained model in, verified files and the comparison report out.

The chain is: the original model in every chosen format → (optional) channel pruning, magnitude
pruning and a fine-tune → (optional) int8 / fp16 of the chain's end. Each file is proven as it is
written (ONNX: checker + onnxruntime parity; .pt2: loaded back and compared; code: imported and
compared), then every variant is evaluated and timed the same way for the report.

Files are written into a hidden staging folder inside the output folder and moved into place
only when everything succeeded: a failed or cancelled export leaves nothing behind (and removes
the output folder too if it created it). Errors a user can meet are ExportError with a message
naming the option, layer or figure at fault.
"""

from __future__ import annotations

import copy
import importlib.util
import logging
import os
import shutil
import sys
import tempfile
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from workbench.data.bundle import DataBundle
from workbench.errors import ExportError, GraphError, WorkbenchError
from workbench.export.codegen import write_code
from workbench.export.evaluate import calibration_batches, evaluate, torch_predict, validation_inputs
from workbench.export.onnx_export import (
    FP32_TOLERANCE,
    OnnxRunner,
    build_metadata,
    export_onnx,
    fp16_tolerance,
    max_abs_diff,
    reference_outputs,
    verify_onnx,
)
from workbench.export.options import CancelCheck, ExportCancelled, ExportOptions, ExportProgress, ProgressCallback
from workbench.export.prune import channel_prune, count_parameters, finalize_pruning, magnitude_prune
from workbench.export.report import ExportReport, VariantReport, environment, mark_tradeoffs, onnx_latency, torch_latency
from workbench.export.torch_formats import export_program, program_parity, save_safetensors
from workbench.graph.analysis import check
from workbench.graph.builder import GraphModule
from workbench.graph.document import Graph
from workbench.graph.inputs import arrange, batch_len, call, take

log = logging.getLogger(__name__)

CODE_TOLERANCE = 1e-6  # the generated module runs the same ops in the same order: it should be exact
CALIBRATION_BATCH_SIZE = 32


@dataclass
class _Model:
    """A PyTorch model in the chain, with the files written for it."""

    name: str  # variant name in the report
    stem: str  # file name stem
    model: GraphModule
    graph: Graph
    description: str
    files: dict[str, Path] = field(default_factory=dict)  # format -> path in the staging folder
    diffs: dict[str, float] = field(default_factory=dict)  # format -> parity figure
    notes: list[str] = field(default_factory=list)


class _Steps:
    """Progress reporting and cooperative cancellation between steps."""

    def __init__(self, total: int, progress: ProgressCallback | None, cancel: CancelCheck | None) -> None:
        self.total, self.done = total, 0
        self.progress, self.cancel = progress, cancel

    def start(self, message: str) -> None:
        self.check()
        log.info("export: %s", message)
        if self.progress is not None:
            self.progress(ExportProgress(self.done, self.total, message))
        self.done += 1

    def note(self, message: str) -> None:
        """A message within the current step (the bar does not move)."""
        if self.progress is not None:
            self.progress(ExportProgress(max(self.done - 1, 0), self.total, message))

    def check(self) -> None:
        if self.cancel is not None and self.cancel():
            raise ExportCancelled("export cancelled — no files were kept")

    def finish(self) -> None:
        self.done = self.total
        if self.progress is not None:
            self.progress(ExportProgress(self.total, self.total, "done"))


def run_export(
    model: GraphModule,
    graph: Graph,
    data: DataBundle,
    out_dir: str | Path,
    options: ExportOptions | None = None,
    *,
    project_name: str = "model",
    training_summary: Mapping[str, Any] | None = None,
    train_settings: Any | None = None,
    progress: ProgressCallback | None = None,
    cancel: CancelCheck | None = None,
) -> ExportReport:
    """Export, compress, verify and compare; returns the report (also written as report.json/.md).

    `model` is the trained GraphModule built from `graph`; `data` gives the validation samples
    (parity, accuracy) and training batches (calibration, fine-tune); `train_settings` (the
    project's TrainSettings) drives the fine-tune. `progress` receives ExportProgress records;
    `cancel()` returning True stops the export at the next step. The model is not modified.
    """
    options = options or ExportOptions()
    if any(t.device.type != "cpu" for t in (*model.parameters(), *model.buffers())):
        # Export, onnxruntime and the latency figures all run on the CPU; the caller's model stays put.
        model = copy.deepcopy(model).cpu()
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise ExportError(f"{out} is a file — choose a folder for the export")
    _check_model_matches_graph(model, graph)
    _check_inputs_match(model, data)
    if not model.multi_input and (data.input_dtype != model.input_spec.dtype
                                  or tuple(data.input_shape) != tuple(model.input_spec.shape)):
        raise ExportError(
            f"the data gives {data.input_dtype} samples of shape {tuple(data.input_shape)} but the network's Input takes "
            f"{model.input_spec.dtype} {tuple(model.input_spec.shape)} — export with the data the run was trained on"
        )
    formats = list(options.formats)
    notes: list[str] = []
    if options.quantize and "onnx" not in formats:
        formats.insert(0, "onnx")
        notes.append("onnx was added to the formats: quantization works on the ONNX file")
    if "code" in formats and "safetensors" not in formats:
        formats.append("safetensors")
        notes.append("safetensors was added to the formats: the generated code loads its weights from it")

    steps = _Steps(_count_steps(formats, options), progress, cancel)
    created = not out.exists()
    out.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".export-partial-{uuid.uuid4().hex[:6]}-", dir=out))
    try:
        report = _run(model, graph, data, staging, options, formats, notes, steps,
                      project_name, training_summary, train_settings)
        steps.start("writing the report")
        report.write(staging)
        moved = _commit(staging, out)
        report.out_dir = out
        steps.finish()
        log.info("export finished: %d files in %s", len(moved), out)
        return report
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        if created and out.is_dir() and not any(out.iterdir()):
            out.rmdir()  # the folder was made by this export and holds nothing else
        raise


def export_run(
    run_dir: str | Path,
    out_dir: str | Path,
    options: ExportOptions | None = None,
    *,
    checkpoint: str = "best",
    progress: ProgressCallback | None = None,
    cancel: CancelCheck | None = None,
) -> ExportReport:
    """`run_export` on a run folder (the CLI's `workbench export RUN_DIR` and the app's dialog)."""
    from workbench.runs import load_run

    try:
        run = load_run(run_dir, checkpoint=checkpoint)
        data = run.data()
    except WorkbenchError as exc:
        raise ExportError(f"cannot export {run_dir}: {exc}") from exc
    report = run_export(
        run.model,
        run.project.graph,
        data,
        out_dir,
        options,
        project_name=run.project.name,
        training_summary=run.summary,
        train_settings=run.project.training,
        progress=progress,
        cancel=cancel,
    )
    # A run logged to MLflow gets its exported ONNX files as artifacts of the same MLflow run.
    from workbench.training.tracking.mlflow_log import log_export

    log_export(run_dir, out_dir)
    return report


# ----- the chain --------------------------------------------------------------------------------


def _run(model: GraphModule, graph: Graph, data: DataBundle, staging: Path, options: ExportOptions,
         formats: list[str], notes: list[str], steps: _Steps, project_name: str,
         training_summary: Mapping[str, Any] | None, train_settings: Any | None) -> ExportReport:
    steps.start("reading validation samples")
    # In the model's Input order: a multi-input dataset may give its inputs by name.
    inputs = arrange(validation_inputs(data, options.parity_samples), model.input_names)
    meta = dict(project_name=project_name, training_summary=training_summary)

    original = _Model("original", "model", model, graph, "the trained model, fp32")
    _write_formats(original, formats, inputs, staging, options, data, meta, steps)
    variants = [_measure_torch(original, data, inputs, options, steps, pytorch_latency=True)]

    chain_end = original
    if options.pruning:
        chain_end = _pruned(model, graph, data, options, train_settings, steps)
        _write_formats(chain_end, formats, inputs, staging, options, data, meta, steps)
        variants.append(_measure_torch(chain_end, data, inputs, options, steps, pytorch_latency=False))

    for mode in options.quantize:
        variants.append(_quantized(chain_end, mode, data, inputs, staging, options, meta, steps))

    mark_tradeoffs(variants)
    if options.prune is not None:
        notes.append("magnitude pruning leaves the file size unchanged (zeros are stored like any weight); "
                     "it pays off when the file is compressed or run by a sparse runtime")
    return ExportReport(
        project_name=project_name,
        task=data.task,
        variants=variants,
        options={**options.to_dict(), "formats": formats},
        notes=notes,
        environment=environment(options.latency_repeats),
    )


def _write_formats(item: _Model, formats: list[str], inputs: torch.Tensor, staging: Path, options: ExportOptions,
                   data: DataBundle, meta: dict[str, Any], steps: _Steps) -> None:
    model = item.model
    reference = reference_outputs(model, inputs)
    metadata = build_metadata(model, data, extra={"variant": item.name, "variant_description": item.description}, **meta)
    example = take(inputs, min(batch_len(inputs), 4))
    for fmt in formats:
        if fmt == "onnx":
            steps.start(f"{item.name}: exporting ONNX")
            path = staging / f"{item.stem}.onnx"
            written = export_onnx(model, path, example, opset=options.opset, metadata=metadata)
            steps.note(f"{item.name}: checking ONNX against PyTorch")
            item.diffs["onnx"] = verify_onnx(path, reference, inputs, FP32_TOLERANCE, "fp32")
            item.files["onnx"] = path
            if len(written) > 1:
                item.files["onnx.data"] = written[1]
        elif fmt == "safetensors":
            steps.start(f"{item.name}: writing safetensors weights")
            item.files["safetensors"] = save_safetensors(model, staging / f"{item.stem}.safetensors", metadata)
        elif fmt == "pt2":
            steps.start(f"{item.name}: torch.export program")
            path = export_program(model, staging / f"{item.stem}.pt2", example)
            diff = program_parity(path, reference, inputs)
            if diff > FP32_TOLERANCE:
                raise ExportError(f"{path.name}: the exported program differs from the model by {diff:.3g} (tolerance {FP32_TOLERANCE:.0e})")
            item.files["pt2"] = path
            item.diffs["pt2"] = diff
    if "code" in formats:
        steps.start(f"{item.name}: generating Python code")
        weights = item.files["safetensors"].name
        path = write_code(item.graph, staging / f"{item.stem}.py", weights_file=weights,
                          title=f"{meta.get('project_name') or 'model'} ({item.name})", class_names=data.class_names)
        item.diffs["code"] = _code_parity(path, model, inputs, reference)
        item.files["code"] = path


def _code_parity(path: Path, model: GraphModule, inputs: torch.Tensor, reference: np.ndarray) -> float:
    """Import the generated file, load its weights file, and compare outputs with the model's."""
    name = f"_workbench_generated_{uuid.uuid4().hex[:8]}"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # registered while it runs, as a real import would be
    try:
        spec.loader.exec_module(module)
        generated = module.load_model()
        with torch.inference_mode():
            out = call(generated, inputs).float().numpy()
    except Exception as exc:
        raise ExportError(f"{path.name}: the generated code does not run ({type(exc).__name__}: {exc}) — please report this") from exc
    finally:
        sys.modules.pop(name, None)
    diff = max_abs_diff(out, reference)
    if diff > CODE_TOLERANCE:
        raise ExportError(f"{path.name}: the generated code's output differs from the model's by {diff:.3g} — please report this")
    return diff


def _pruned(model: GraphModule, graph: Graph, data: DataBundle, options: ExportOptions,
            train_settings: Any | None, steps: _Steps) -> _Model:
    notes: list[str] = []
    parts: list[str] = []
    work_graph, work = graph, model
    if options.prune_channels is not None:
        steps.start(f"pruning {options.prune_channels:.0%} of the channels")
        result = channel_prune(model, graph, options.prune_channels)
        work_graph, work = result.graph, result.model
        notes.append(f"channel pruning {result.describe()}")
        parts.append(f"{options.prune_channels:.0%} of channels removed")
    if options.prune is not None:
        steps.start(f"magnitude pruning to {options.prune:.0%} sparsity")
        work = magnitude_prune(work, options.prune)
        parts.append(f"{options.prune:.0%} of Linear/Conv weights zeroed")
    if options.finetune_epochs:
        steps.start(f"fine-tuning {options.finetune_epochs} epoch(s)")

        def relay(event: Any) -> None:
            if type(event).__name__ == "EpochEvent":
                acc = event.val_metrics.get("val_accuracy")
                loss = f", val loss {event.val_loss:.4f}" if event.val_loss is not None else ""
                extra = f", val accuracy {acc:.2%}" if acc is not None else ""
                steps.note(f"fine-tuning: epoch {event.epoch}/{options.finetune_epochs}{loss}{extra}")

        fine_tune(work, data, options.finetune_epochs, loss=model.loss_name, settings=train_settings,
                  lr=options.finetune_lr, listeners=[relay], cancel=steps.cancel)
        parts.append(f"fine-tuned {options.finetune_epochs} epoch(s)")
    finalize_pruning(work)
    work.eval()
    return _Model("pruned", "model_pruned", work, work_graph, ", ".join(parts), notes=notes)


def _measure_torch(item: _Model, data: DataBundle, inputs: torch.Tensor, options: ExportOptions, steps: _Steps,
                   pytorch_latency: bool) -> VariantReport:
    steps.start(f"{item.name}: measuring accuracy and latency")
    ev = evaluate(torch_predict(item.model), data, item.model.loss_name, max_samples=options.max_eval_samples)
    total, nonzero = count_parameters(item.model)
    b1 = b64 = None
    if "onnx" in item.files:
        b1, b64 = onnx_latency(item.files["onnx"], inputs, options.latency_repeats)
    pt1 = pt64 = None
    if pytorch_latency:
        pt1, pt64 = torch_latency(item.model, inputs, options.latency_repeats)
    primary = next((item.files[f] for f in ("onnx", "safetensors", "pt2", "code") if f in item.files), None)
    size = primary.stat().st_size if primary is not None else None
    if "onnx.data" in item.files and primary == item.files.get("onnx"):
        size = (size or 0) + item.files["onnx.data"].stat().st_size
    diff = item.diffs.get("onnx", max(item.diffs.values()) if item.diffs else None)
    notes = list(item.notes) + [f"{fmt} parity: max abs diff {d:.2g}" for fmt, d in item.diffs.items()]
    return VariantReport(
        name=item.name,
        description=item.description,
        files=[p.name for p in item.files.values()],
        size_bytes=size,
        parameters=total,
        nonzero_parameters=nonzero,
        val_accuracy=ev.val_accuracy,
        val_loss=ev.val_loss,
        latency_ms_batch1=b1,
        latency_ms_batch64=b64,
        max_abs_diff=diff,
        tolerance=FP32_TOLERANCE if diff is not None else None,
        pytorch_latency_ms_batch1=pt1,
        pytorch_latency_ms_batch64=pt64,
        metrics=ev.metrics,
        notes=notes,
    )


def _quantized(source: _Model, mode: str, data: DataBundle, inputs: torch.Tensor, staging: Path,
               options: ExportOptions, meta: dict[str, Any], steps: _Steps) -> VariantReport:
    from workbench.export.quantize import convert_fp16, quantize_int8_dynamic, quantize_int8_static

    name = mode if source.name == "original" else f"{source.name}+{mode}"
    steps.start(f"{name}: converting the ONNX file")
    src = source.files["onnx"]
    dst = staging / f"{source.stem}_{mode.replace('-', '_')}.onnx"
    reference = reference_outputs(source.model, inputs)
    description = {"int8-dynamic": "int8 weights, activations quantized at run time",
                   "int8-static": f"int8 weights and the activations entering them, calibrated on "
                                   f"{options.calibration_batches} training batches",
                   "fp16": "fp16 weights and compute, fp32 inputs and outputs"}[mode]
    description = f"{source.description}; {description}" if source.name != "original" else description
    metadata = build_metadata(source.model, data, extra={"variant": name, "variant_description": description}, **meta)
    per_channel = {"auto": None, "on": True, "off": False}[options.per_channel]
    notes: list[str] = []
    tolerance: float | None = None
    if mode == "int8-dynamic":
        result = quantize_int8_dynamic(src, dst, per_channel=per_channel, parity=(inputs, reference), metadata=metadata)
        notes.append(result.note)
    elif mode == "int8-static":
        calibration = calibration_batches(data, options.calibration_batches, CALIBRATION_BATCH_SIZE)
        result = quantize_int8_static(src, dst, calibration, per_channel=per_channel, parity=(inputs, reference), metadata=metadata)
        notes.append(result.note)
    else:
        convert_fp16(src, dst, metadata=metadata)
        tolerance = fp16_tolerance(reference)
    diff = verify_onnx(dst, reference, inputs, tolerance, mode)
    if tolerance is None:
        notes.append("int8 is lossy: its difference from fp32 is reported, not held to a tolerance; the accuracy shows its effect")
    steps.start(f"{name}: measuring accuracy and latency")
    runner = OnnxRunner(dst)
    ev = evaluate(runner.predict, data, source.model.loss_name, max_samples=options.max_eval_samples)
    b1, b64 = onnx_latency(dst, inputs, options.latency_repeats)
    total, nonzero = count_parameters(source.model)
    return VariantReport(
        name=name,
        description=description,
        files=[dst.name],
        size_bytes=dst.stat().st_size,
        parameters=total,
        nonzero_parameters=nonzero,
        val_accuracy=ev.val_accuracy,
        val_loss=ev.val_loss,
        latency_ms_batch1=b1,
        latency_ms_batch64=b64,
        max_abs_diff=diff,
        tolerance=tolerance,
        metrics=ev.metrics,
        notes=notes,
    )


# ----- helpers ----------------------------------------------------------------------------------


def fine_tune(*args: Any, **kwargs: Any) -> Any:
    # Imported late: the training engine is only needed when a fine-tune is asked for.
    from workbench.export.finetune import fine_tune as run

    return run(*args, **kwargs)


def _count_steps(formats: list[str], options: ExportOptions) -> int:
    per_model = len(formats) + 1  # each format, then measuring
    total = 2 + per_model  # samples, original, report
    if options.pruning:
        total += per_model + (options.prune is not None) + (options.prune_channels is not None) + bool(options.finetune_epochs)
    total += 2 * len(options.quantize)
    return total


def _check_inputs_match(model: GraphModule, data: DataBundle) -> None:
    """A multi-input network needs data that gives each of its Inputs, by name, as declared."""
    if not model.multi_input:
        return
    given = data.named_inputs or {}
    for name, spec in zip(model.input_names, model.input_specs):
        if name not in given:
            raise ExportError(f"the network's Input '{name}' gets nothing from the data (it gives "
                              f"{', '.join(given) or 'one unnamed input'}) — export with the data the run was trained on")
        shape, dtype = given[name]
        if tuple(shape) != tuple(spec.shape) or dtype != spec.dtype:
            raise ExportError(f"the data gives '{name}' as {dtype} {tuple(shape)} but the Input takes "
                              f"{spec.dtype} {tuple(spec.shape)} — export with the data the run was trained on")


def _check_model_matches_graph(model: nn.Module, graph: Graph) -> None:
    """The weights must be those of this graph (same names and shapes), or nothing fits later."""
    try:
        analysis = check(graph)
    except GraphError as exc:
        raise ExportError(f"the network cannot be exported: {exc}") from exc
    with torch.device("meta"):
        expected = GraphModule(graph, analysis).state_dict()
    actual = model.state_dict()
    missing = sorted(set(expected) - set(actual))
    extra = sorted(set(actual) - set(expected))
    wrong = sorted(k for k in set(expected) & set(actual) if tuple(expected[k].shape) != tuple(actual[k].shape))
    if missing or extra or wrong:
        detail = "; ".join(filter(None, [
            f"missing {', '.join(missing[:3])}" if missing else "",
            f"unexpected {', '.join(extra[:3])}" if extra else "",
            f"different shape for {', '.join(wrong[:3])}" if wrong else "",
        ]))
        raise ExportError(f"the model's weights do not belong to this network ({detail})")


def _commit(staging: Path, out: Path) -> list[Path]:
    """Move the staged files into the output folder (same file system: each move is atomic)."""
    moved: list[Path] = []
    try:
        for item in sorted(staging.iterdir()):
            if item.is_dir():
                continue  # temporary folders of the tools; removed with the staging folder
            target = out / item.name
            os.replace(item, target)
            moved.append(target)
    except OSError:
        for target in moved:  # half an export is worse than none
            target.unlink(missing_ok=True)
        raise
    shutil.rmtree(staging, ignore_errors=True)
    return moved


__all__ = ["export_run", "run_export"]
