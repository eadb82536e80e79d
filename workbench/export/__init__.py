"""Export and compression: verified ONNX, PyTorch formats, code, int8/fp16, pruning, distillation.

The entry points the CLI and the app use:

    report = run_export(model, graph, data, out_dir, ExportOptions(formats="onnx,code",
                        quantize="int8-dynamic", prune_channels=0.5, finetune_epochs=2),
                        progress=callback)          # or export_run(run_dir, out_dir, options)
    result = distill(teacher, scale_widths(graph, 0.5).graph, data, DistillSettings(epochs=10))

Every file is proven as it is written (checker + onnxruntime parity, reload of .pt2, import of
the generated code) and every variant is measured for `report.json` / `report.md`. No Qt here:
the app's dialog runs `run_export` in a worker and listens to its progress callback.
"""

from __future__ import annotations

from workbench.export.codegen import generate_code, write_code
from workbench.export.distill import (
    DistillationLoss,
    DistillResult,
    DistillSettings,
    ScaledGraph,
    distill,
    resolve_student,
    scale_widths,
)
from workbench.export.distill_runs import distill_run, distillation_settings
from workbench.export.onnx_export import (
    FP32_TOLERANCE,
    OnnxRunner,
    build_metadata,
    check_onnx,
    export_onnx,
    read_metadata,
    verify_onnx,
)
from workbench.export.options import FORMATS, QUANTIZE_MODES, ExportCancelled, ExportOptions, ExportProgress
from workbench.export.pipeline import export_run, run_export
from workbench.export.prune import (
    ChannelPruneResult,
    channel_prune,
    count_parameters,
    finalize_pruning,
    magnitude_prune,
)
from workbench.export.quantize import convert_fp16, quantize_int8_dynamic, quantize_int8_static
from workbench.export.report import ExportReport, VariantReport
from workbench.export.torch_formats import export_program, load_safetensors, save_safetensors

__all__ = [
    "FORMATS",
    "FP32_TOLERANCE",
    "QUANTIZE_MODES",
    "ChannelPruneResult",
    "DistillResult",
    "DistillSettings",
    "DistillationLoss",
    "ExportCancelled",
    "ExportOptions",
    "ExportProgress",
    "ExportReport",
    "OnnxRunner",
    "ScaledGraph",
    "VariantReport",
    "build_metadata",
    "channel_prune",
    "check_onnx",
    "convert_fp16",
    "count_parameters",
    "distill",
    "distill_run",
    "distillation_settings",
    "export_onnx",
    "export_program",
    "export_run",
    "finalize_pruning",
    "generate_code",
    "load_safetensors",
    "magnitude_prune",
    "quantize_int8_dynamic",
    "quantize_int8_static",
    "read_metadata",
    "resolve_student",
    "run_export",
    "save_safetensors",
    "scale_widths",
    "verify_onnx",
    "write_code",
]
