"""Export of a network with two Input nodes: an ONNX file with two named inputs that matches
PyTorch on both, generated code that takes both, and the export pipeline end to end."""

from __future__ import annotations

import importlib.util
import json
import sys

import numpy as np
import pytest
import torch
from torch.utils.data import Dataset

from workbench.data.bundle import DataBundle
from workbench.export.codegen import generate_code, write_code
from workbench.export.onnx_export import (
    FP32_TOLERANCE,
    OnnxRunner,
    build_metadata,
    export_onnx,
    read_metadata,
    reference_outputs,
    verify_onnx,
)
from workbench.export.options import ExportOptions
from workbench.export.pipeline import run_export
from workbench.export.torch_formats import save_safetensors
from workbench.graph.builder import build_model
from workbench.graph.document import Graph


def two_input_graph() -> Graph:
    """ids (tokens ×5) → Embedding → Flatten and feats (vector 3) joined, then a Linear of 4."""
    g = Graph()
    ids = g.add_node("Input", name="ids", params={"kind": "tokens", "shape": [5]}).id
    feats = g.add_node("Input", name="feats", params={"kind": "vector", "shape": [3]}).id
    emb = g.add_node("Embedding", name="embed", params={"num_embeddings": 10, "embedding_dim": 2}).id
    flat = g.add_node("Flatten", name="flat", params={}).id
    cat = g.add_node("Concat", name="join", params={"inputs": 2, "axis": 0}).id
    fc = g.add_node("Linear", name="fc", params={"out_features": 4}).id
    out = g.add_node("Output", name="output", params={"loss": "cross_entropy"}).id
    g.connect(ids, emb)
    g.connect(emb, flat)
    g.connect(flat, cat, "in1")
    g.connect(feats, cat, "in2")
    g.connect(cat, fc)
    g.connect(fc, out)
    return g


def _batch(n: int = 6, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)
    return torch.randint(0, 10, (n, 5), generator=gen), torch.randn(n, 3, generator=gen)


class _Pairs(Dataset):
    def __init__(self, n: int, seed: int) -> None:
        self.ids, self.feats = _batch(n, seed)
        self.y = torch.arange(n) % 4

    def __len__(self) -> int:
        return len(self.y)

    def __getitem__(self, i: int):
        return {"feats": self.feats[i], "ids": self.ids[i]}, self.y[i]


def test_onnx_has_two_named_inputs_and_matches_pytorch_on_both(tmp_path) -> None:
    model = build_model(two_input_graph(), seed=3).eval()
    x = _batch(8)
    path = tmp_path / "two.onnx"
    export_onnx(model, path, x, metadata=build_metadata(model, project_name="two"))
    runner = OnnxRunner(path)
    assert runner.input_names == ["ids", "feats"]
    assert runner.input_dtypes == ["int64", "float32"]
    reference = reference_outputs(model, x)
    assert verify_onnx(path, reference, x) <= FP32_TOLERANCE
    # A batch of another size: the batch axis is symbolic on both inputs.
    other = _batch(3, seed=1)
    assert np.allclose(runner(other), reference_outputs(model, other), atol=FP32_TOLERANCE)
    # Swapping the two inputs' values changes the answer: each input reaches its own branch.
    ids, feats = other
    assert not np.allclose(runner((torch.zeros_like(ids), feats)), runner(other))
    meta = read_metadata(path)
    assert meta["input_names"] == ["ids", "feats"]
    assert meta["input_shapes"] == {"ids": ["batch", 5], "feats": ["batch", 3]}
    assert meta["input_dtypes"] == {"ids": "int64", "feats": "float32"}


def test_a_wrong_number_of_inputs_is_named(tmp_path) -> None:
    from workbench.errors import ExportError

    model = build_model(two_input_graph()).eval()
    path = tmp_path / "two.onnx"
    export_onnx(model, path, _batch(4))
    with pytest.raises(ExportError, match=r"takes 2 input\(s\) \(ids, feats\) but was given 1"):
        OnnxRunner(path)(_batch(4)[1])


def test_generated_code_takes_both_inputs(tmp_path) -> None:
    graph = two_input_graph()
    model = build_model(graph, seed=4).eval()
    source = generate_code(graph)
    assert "def forward(self, ids: torch.Tensor, feats: torch.Tensor) -> torch.Tensor:" in source
    assert "INPUT_SHAPES = {'ids': (5,), 'feats': (3,)}" in source
    save_safetensors(model, tmp_path / "model.safetensors")
    path = write_code(graph, tmp_path / "model.py")
    spec = importlib.util.spec_from_file_location("two_input_generated", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["two_input_generated"] = module
    try:
        spec.loader.exec_module(module)
        generated = module.load_model()
    finally:
        sys.modules.pop("two_input_generated", None)
    x = _batch(4)
    with torch.no_grad():
        assert torch.equal(generated(*x), model(*x))


def test_the_export_pipeline_checks_every_format_with_both_inputs(tmp_path) -> None:
    graph = two_input_graph()
    model = build_model(graph, seed=2).eval()
    data = DataBundle(_Pairs(32, 0), _Pairs(16, 1), "classification", (5,), "int64", 4,
                      named_inputs={"ids": ((5,), "int64"), "feats": ((3,), "float32")})
    options = ExportOptions(formats=("onnx", "safetensors", "code"), parity_samples=16, latency_repeats=1)
    report = run_export(model, graph, data, tmp_path / "out", options, project_name="two")
    original = report.variants[0]
    assert original.max_abs_diff is not None and original.max_abs_diff <= FP32_TOLERANCE
    assert {"model.onnx", "model.py"} <= {name.split("/")[-1] for name in original.files}
    assert original.val_accuracy is not None  # measured on the validation dicts, matched by name
    written = json.loads((tmp_path / "out" / "report.json").read_text())
    assert written["variants"][0]["max_abs_diff"] <= FP32_TOLERANCE
