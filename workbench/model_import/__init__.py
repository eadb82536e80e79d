"""Models from other libraries as Workbench projects: torchvision's classifiers and ONNX files, with their weights.

`import_torchvision(name, out, weights=..., classes=...)` writes a project whose graph computes what
torchvision's model computes (checked on import) and, with weights, a `.safetensors` file beside it.
`import_onnx(path, out)` does the same for an ONNX file, checked against onnxruntime
(`read_onnx_project` gives the project and weights without writing them).
No Qt here: the command line and the app both call it.
"""

from __future__ import annotations

from workbench.model_import.gallery import GalleryEntry, gallery
from workbench.model_import.onnx_import import (
    OnnxImportResult,
    OnnxModel,
    UnsupportedOpsError,
    import_onnx,
    read_onnx_project,
)
from workbench.model_import.torchvision_models import (
    PARITY_TOLERANCE,
    SUPPORTED_MODELS,
    ImportResult,
    import_torchvision,
    model_parameter_count,
)

__all__ = ["PARITY_TOLERANCE", "SUPPORTED_MODELS", "GalleryEntry", "ImportResult", "OnnxImportResult", "OnnxModel",
           "UnsupportedOpsError", "gallery", "import_onnx", "import_torchvision", "model_parameter_count",
           "read_onnx_project"]
