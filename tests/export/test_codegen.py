"""Generated code: standalone, readable, and it reproduces the model's outputs exactly."""

from __future__ import annotations

import importlib.util
import re
import sys
import uuid

import pytest
import torch

from workbench.export import generate_code, save_safetensors, write_code
from workbench.graph.builder import build_model
from workbench.presets import preset_paths


def _load(path):
    name = f"generated_{uuid.uuid4().hex[:8]}"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    finally:
        sys.modules.pop(name)
    return module


def _inputs(model, n=4):
    """Random inputs for every Input: a tensor, or a tuple for a network with several. Token ids
    stay below the smallest vocabulary of the network's Embeddings."""
    vocab = min([8] + [m.num_embeddings for m in model.modules() if isinstance(m, torch.nn.Embedding)])
    xs = tuple(torch.randint(0, vocab, (n, *spec.shape)) if spec.dtype == "int64" else torch.randn(n, *spec.shape)
               for spec in model.input_specs)
    return xs if model.multi_input else xs[0]


@pytest.mark.parametrize("preset", [p.stem for p in preset_paths()])
def test_generated_code_reproduces_every_preset(preset: str, kit, tmp_path) -> None:
    graph = kit.preset_graph(preset)
    model = build_model(graph, seed=5).eval()
    save_safetensors(model, tmp_path / "model.safetensors")
    path = write_code(graph, tmp_path / "model.py", title=preset)
    source = path.read_text()
    assert "workbench" not in re.sub(r'""".*?"""', "", source, flags=re.S).replace("workbench/layers/modules.py", "")

    generated = _load(path).load_model()  # reads model.safetensors beside the file
    x = _inputs(model)
    args = x if isinstance(x, tuple) else (x,)
    with torch.no_grad():
        assert torch.equal(generated(*args), model(*args))


def test_code_is_readable(kit) -> None:
    source = generate_code(kit.cnn_graph(), title="digits-cnn")
    assert "self.conv1 = nn.Conv2d(in_channels=1, out_channels=16, kernel_size=3, stride=1, padding=1, bias=True)" in source
    assert "conv1 = self.conv1(digits)  # (B, 16, 8, 8)" in source
    assert "flatten = self.flatten(pool2)  # (B, 128)" in source
    assert "# digits: (B, 1, 8, 8)" in source
    assert "return head  # Output 'output', trained with cross-entropy" in source
    assert "class " not in source.split("class Model")[0].split('"""', 2)[2]  # no copied layers needed here


def test_custom_layers_are_copied_with_their_dependencies(kit) -> None:
    source = generate_code(kit.gpt_graph())
    assert "class SelfAttention(nn.Module):" in source  # used by TransformerBlock
    assert "class TransformerBlock(nn.Module):" in source
    assert source.index("class SelfAttention") < source.index("class TransformerBlock")
    assert "import torch.nn.functional as F" in source
    assert "# tokens: (B, 16) int64" in source


def test_branches_and_awkward_names(kit, tmp_path) -> None:
    """A residual Add, a Concat, and layers named like Python keywords and our own variables."""
    from workbench.graph.document import Graph

    g = Graph()
    x = g.add_node("Input", name="x", params={"kind": "vector", "shape": [6]})
    a = g.add_node("Linear", name="lambda", params={"out_features": 6})
    b = g.add_node("ReLU", name="torch")
    add = g.add_node("Add", name="self")
    cat = g.add_node("Concat", name="class", params={"axis": 0})
    head = g.add_node("Linear", name="head", params={"out_features": 3})
    out = g.add_node("Output", name="out")
    g.connect(x.id, a.id)
    g.connect(a.id, b.id)
    g.connect(b.id, add.id)
    g.connect(x.id, add.id)
    g.connect(add.id, cat.id)
    g.connect(x.id, cat.id)
    g.connect(cat.id, head.id)
    g.connect(head.id, out.id)
    model = build_model(g, seed=0).eval()
    save_safetensors(model, tmp_path / "model.safetensors")
    generated = _load(write_code(g, tmp_path / "model.py")).load_model()
    inputs = torch.randn(5, 6)
    with torch.no_grad():
        assert torch.equal(generated(inputs), model(inputs))
