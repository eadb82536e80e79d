"""Pruning: magnitude sparsity, and channel pruning that really shrinks layers and keeps them right."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from workbench.errors import ExportError
from workbench.export import (
    FP32_TOLERANCE,
    channel_prune,
    count_parameters,
    export_onnx,
    finalize_pruning,
    magnitude_prune,
    verify_onnx,
)
from workbench.export.onnx_export import reference_outputs
from workbench.graph.builder import build_model
from workbench.graph.document import Graph


def test_magnitude_pruning_reaches_the_sparsity_and_leaves_the_original(trained_mlp) -> None:
    graph, model = trained_mlp
    before = {k: v.clone() for k, v in model.state_dict().items()}
    pruned = magnitude_prune(model, 0.6)
    weights = [m.weight for m in pruned.modules() if isinstance(m, nn.Linear)]
    zeros = sum(int((w == 0).sum()) for w in weights)
    assert zeros == pytest.approx(0.6 * sum(w.numel() for w in weights), abs=2)
    total, nonzero = count_parameters(pruned)
    assert total == count_parameters(model)[0] and nonzero < 0.45 * total
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())  # a copy was pruned

    finalize_pruning(pruned)
    assert set(pruned.state_dict()) == set(before)  # plain weights again, no *_orig / *_mask
    assert count_parameters(pruned) == (total, nonzero)


def test_channel_pruning_halves_parameters_and_the_model_still_exports(trained_cnn, kit, digits, tmp_path) -> None:
    graph, model = trained_cnn
    result = channel_prune(model, graph, 0.5)
    assert result.shrunk == {"conv1": (16, 8), "conv2": (32, 16), "fc1": (64, 32)}
    assert "head" in result.skipped  # feeds the Output: the number of classes stays
    before, after = count_parameters(model)[0], count_parameters(result.model)[0]
    assert after <= 0.5 * before

    conv2 = result.graph.node_by_name("conv2")
    assert conv2 is not None and conv2.params["out_channels"] == 16  # the graph itself is narrower
    inputs = kit.val_inputs(digits, 32)
    path = tmp_path / "pruned.onnx"
    export_onnx(result.model, path, inputs[:4])
    assert verify_onnx(path, reference_outputs(result.model, inputs), inputs) <= FP32_TOLERANCE


def _dead_channels(model: nn.Module, name: str, dead: list[int]) -> None:
    """Zero the filters (and biases) of some output channels: pruning them must change nothing."""
    layer = model.get_submodule(name)
    with torch.no_grad():
        if isinstance(layer, nn.ConvTranspose2d):
            layer.weight[:, dead] = 0  # (in, out, k, k): output channels are the second axis
        else:
            layer.weight[dead] = 0
        if layer.bias is not None:
            layer.bias[dead] = 0


def _same_outputs(graph: Graph, dead: dict[str, list[int]], fraction: float, x: torch.Tensor) -> None:
    model = build_model(graph, seed=0).eval()
    for name, channels in dead.items():
        _dead_channels(model, name, channels)
    result = channel_prune(model, graph, fraction)
    assert set(result.shrunk) == set(dead)
    with torch.no_grad():
        torch.testing.assert_close(result.model(x), model(x), atol=1e-5, rtol=1e-5)


def test_removing_dead_channels_keeps_outputs_through_flatten_and_batchnorm(kit) -> None:
    graph = kit.chain(
        ("Input", {"kind": "image", "shape": [2, 6, 6]}),
        ("Conv2d", {"out_channels": 8}),
        ("BatchNorm2d", {}),
        ("ReLU", {}),
        ("MaxPool2d", {}),
        ("Flatten", {}),
        ("Linear", {"out_features": 3}),
        ("Output", {}),
        names=["x", "conv", "bn", "relu", "pool", "flat", "head", "out"],
    )
    # With BatchNorm a zero filter still gives bn.bias after normalisation: zero those too.
    model = build_model(graph, seed=0).eval()
    dead = [1, 2, 5, 6]
    _dead_channels(model, "conv", dead)
    with torch.no_grad():
        model.bn.bias[dead] = 0
        model.bn.running_mean[dead] = 0
    result = channel_prune(model, graph, 0.5)
    assert result.shrunk == {"conv": (8, 4)}
    assert result.model.bn.num_features == 4 and result.model.head.in_features == 4 * 3 * 3
    x = torch.randn(5, 2, 6, 6)
    with torch.no_grad():
        torch.testing.assert_close(result.model(x), model(x), atol=1e-5, rtol=1e-5)


def test_removing_dead_channels_keeps_outputs_through_concat() -> None:
    g = Graph()
    x = g.add_node("Input", name="x", params={"kind": "image", "shape": [1, 4, 4]})
    a = g.add_node("Conv2d", name="a", params={"out_channels": 4})
    b = g.add_node("Conv2d", name="b", params={"out_channels": 6})
    cat = g.add_node("Concat", name="cat", params={"axis": 0})
    relu = g.add_node("ReLU", name="relu")
    gap = g.add_node("GlobalAvgPool", name="gap")
    head = g.add_node("Linear", name="head", params={"out_features": 2})
    out = g.add_node("Output", name="out")
    for src, dst in ((x, a), (x, b), (a, cat), (b, cat), (cat, relu), (relu, gap), (gap, head), (head, out)):
        g.connect(src.id, dst.id)
    _same_outputs(g, {"a": [0, 3], "b": [1, 2, 4]}, 0.5, torch.randn(3, 1, 4, 4))


def test_layers_feeding_an_add_or_a_transformer_keep_their_width(kit) -> None:
    resnet = kit.preset_graph("digits-resnet")
    model = build_model(resnet, seed=0)
    result = channel_prune(model, resnet, 0.5)
    assert "res1_conv1" in result.shrunk  # inside a residual branch: only its output is the Add's
    assert "res1_conv2" not in result.shrunk and "Add" in result.skipped["res1_conv2"]
    assert "stem" in result.skipped
    x = torch.randn(2, 1, 8, 8)
    assert result.model(x).shape == (2, 10)

    vit = kit.preset_graph("digits-vit")
    with pytest.raises(ExportError, match="no layer it can narrow.*head"):
        channel_prune(build_model(vit), vit, 0.5)


def test_bad_fraction_is_refused(trained_mlp) -> None:
    graph, model = trained_mlp
    with pytest.raises(ExportError, match="between 0 and 1"):
        channel_prune(model, graph, 1.0)
    with pytest.raises(ExportError, match="between 0 and 1"):
        magnitude_prune(model, 0)


def test_conv1d_and_transposed_convolutions_shrink_correctly(kit) -> None:
    seq = kit.chain(
        ("Input", {"kind": "vector", "shape": [12]}),
        ("Reshape", {"shape": [2, 6]}),
        ("Conv1d", {"out_channels": 6}),
        ("Tanh", {}),
        ("Flatten", {}),
        ("Linear", {"out_features": 2}),
        ("Output", {"loss": "mse"}),
        names=["x", "seq", "conv", "act", "flat", "head", "out"],
    )
    _same_outputs(seq, {"conv": [0, 2, 5]}, 0.5, torch.randn(4, 12))

    up = kit.chain(
        ("Input", {"kind": "image", "shape": [2, 3, 3]}),
        ("ConvTranspose2d", {"out_channels": 4}),
        ("ReLU", {}),
        ("Conv2d", {"out_channels": 4}),
        ("ReLU", {}),
        ("GlobalAvgPool", {}),
        ("Linear", {"out_features": 2}),
        ("Output", {}),
        names=["x", "up", "r1", "conv", "r2", "gap", "head", "out"],
    )
    _same_outputs(up, {"up": [1, 2], "conv": [0, 3]}, 0.5, torch.randn(3, 2, 3, 3))
