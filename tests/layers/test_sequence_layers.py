"""Cross-attention and the Transformer decoder block: named ports, the memory check worded at the
edge, padding masks, causality, ONNX parity with onnxruntime and generated code that matches."""

from __future__ import annotations

import importlib.util
import sys
import uuid
import warnings

import numpy as np
import pytest
import torch

from workbench.graph.analysis import analyze
from workbench.graph.builder import build_model
from workbench.graph.document import Graph
from workbench.layers import ShapeError, layer_spec
from workbench.layers.tensor_spec import TensorSpec

ATTENDING = ["CrossAttention", "TransformerDecoderBlock"]


def _params(type_id: str, **overrides) -> dict:
    spec = layer_spec(type_id)
    return {**spec.defaults(), **{k: spec.param(k).validate(v) for k, v in overrides.items()}}


@pytest.mark.parametrize("type_id, first", [("CrossAttention", "queries"), ("TransformerDecoderBlock", "target")])
def test_ports_are_named_and_the_mask_adds_one(type_id: str, first: str) -> None:
    spec = layer_spec(type_id)
    assert spec.named_ports
    assert spec.input_ports(spec.defaults()) == (first, "memory")
    assert spec.input_ports(_params(type_id, mask_padding=True)) == (first, "memory", "memory_ids")
    assert not layer_spec("Add").named_ports and not layer_spec("Linear").named_ports


def test_switching_the_mask_off_removes_the_ids_edge() -> None:
    graph = Graph()
    src = graph.add_node("Input", params={"kind": "tokens", "shape": (6,)})
    embed = graph.add_node("Embedding", params={"num_embeddings": 10, "embedding_dim": 16})
    xattn = graph.add_node("CrossAttention", params={"mask_padding": True})
    graph.connect(src.id, embed.id)
    graph.connect(embed.id, xattn.id, "queries")
    graph.connect(embed.id, xattn.id, "memory")
    graph.connect(src.id, xattn.id, "memory_ids")
    graph.set_param(xattn.id, "mask_padding", False)
    assert sorted(e.dst_port for e in graph.edges_into(xattn.id)) == ["memory", "queries"]


def _two_embeddings(queries_dim: int, memory_dim: int) -> tuple[Graph, str]:
    graph = Graph()
    src = graph.add_node("Input", params={"kind": "tokens", "shape": (6,)})
    q = graph.add_node("Embedding", name="tgt_embed", params={"num_embeddings": 10, "embedding_dim": queries_dim})
    m = graph.add_node("Embedding", name="src_embed", params={"num_embeddings": 10, "embedding_dim": memory_dim})
    xattn = graph.add_node("CrossAttention", name="xattn", params={"heads": 2})
    pool = graph.add_node("SequencePool")
    head = graph.add_node("Linear", params={"out_features": 3})
    out = graph.add_node("Output", params={"loss": "cross_entropy"})
    graph.connect(src.id, q.id)
    graph.connect(src.id, m.id)
    graph.connect(q.id, xattn.id, "queries")
    graph.connect(m.id, xattn.id, "memory")
    graph.connect(xattn.id, pool.id)
    graph.connect(pool.id, head.id)
    graph.connect(head.id, out.id)
    return graph, xattn.id


def test_a_memory_of_another_width_is_explained_at_the_node() -> None:
    graph, xattn = _two_embeddings(32, 64)
    problems = analyze(graph).problems_for(xattn)
    assert [p.message.split(" — ")[0] for p in problems] == ["CrossAttention 'xattn' has memory width 64 ≠ queries width 32"]
    assert analyze(_two_embeddings(32, 32)[0]).ok


@pytest.mark.parametrize("type_id", ATTENDING)
def test_shape_rule_refusals_name_the_port(type_id: str) -> None:
    spec = layer_spec(type_id)
    seq, ids = TensorSpec((5, 16)), TensorSpec((7,), "int64")
    with pytest.raises(ShapeError, match="token ids at 'memory'"):
        spec.shape_rule(spec.defaults(), [seq, ids])
    with pytest.raises(ShapeError, match="at 'memory' but gets 16"):
        spec.shape_rule(spec.defaults(), [seq, TensorSpec((16,))])
    masked = _params(type_id, mask_padding=True)
    with pytest.raises(ShapeError, match="3 token ids at 'memory_ids' but the memory is 7 long"):
        spec.shape_rule(masked, [seq, TensorSpec((7, 16)), TensorSpec((3,), "int64")])
    with pytest.raises(ShapeError, match="integer token ids at 'memory_ids'"):
        spec.shape_rule(masked, [seq, TensorSpec((7, 16)), TensorSpec((7,))])
    assert spec.shape_rule(masked, [seq, TensorSpec((7, 16)), ids]) == seq


@pytest.mark.parametrize("type_id", ATTENDING)
def test_padded_memory_positions_change_nothing(type_id: str) -> None:
    spec = layer_spec(type_id)
    params = _params(type_id, heads=2, mask_padding=True, pad_id=0)
    torch.manual_seed(0)
    module = spec.build_module(params, [TensorSpec((4, 8)), TensorSpec((5, 8)), TensorSpec((5,), "int64")]).eval()
    x, memory = torch.randn(2, 4, 8), torch.randn(2, 5, 8)
    ids = torch.tensor([[3, 4, 5, 0, 0], [0, 0, 0, 0, 0]])  # the second source is all padding
    changed = memory.clone()
    changed[0, 3:] += 10.0  # only padding positions of the first sample
    with torch.no_grad():
        before, after = module(x, memory, ids), module(x, changed, ids)
        torch.testing.assert_close(after[0], before[0])
        assert torch.isfinite(before).all()  # nothing to attend to: it attends to everything
        changed[0, 1] += 10.0  # a real token does matter
        assert not torch.allclose(module(x, changed, ids)[0], before[0])
        # without the ids the padding is read like any token
        assert not torch.allclose(module(x, memory)[0], before[0])


def test_the_decoder_block_is_causal_in_its_target() -> None:
    spec = layer_spec("TransformerDecoderBlock")
    torch.manual_seed(0)
    module = spec.build_module(_params("TransformerDecoderBlock", heads=2), [TensorSpec((6, 8)), TensorSpec((4, 8))]).eval()
    target, memory = torch.randn(1, 6, 8), torch.randn(1, 4, 8)
    later = target.clone()
    later[0, 4:] = torch.randn(2, 8)
    with torch.no_grad():
        a, b = module(target, memory), module(later, memory)
    torch.testing.assert_close(a[0, :4], b[0, :4])
    assert not torch.allclose(a[0, 4:], b[0, 4:])


# ----- ONNX and generated code ----------------------------------------------------------------------


def _onnx_parity(module: torch.nn.Module, xs: list[torch.Tensor], path) -> float:
    """Export with a dynamic batch axis on every input; the largest difference from PyTorch."""
    import onnxruntime

    module.eval()
    batch = torch.export.Dim("batch")
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=FutureWarning)
        warnings.filterwarnings("ignore", category=UserWarning, module=r"torch.*")
        # torch's RNNs re-read their weight list in forward; the exporter notes it (see onnx_export)
        warnings.filterwarnings("ignore", message=r".*were assigned during export.*", category=UserWarning)
        program = torch.onnx.export(module, tuple(xs), dynamo=True, dynamic_shapes=tuple({0: batch} for _ in xs),
                                    opset_version=18, optimize=True, verbose=False)
    program.save(str(path))
    import onnx

    onnx.checker.check_model(str(path))
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    names = [i.name for i in session.get_inputs()]
    worst = 0.0
    for n in (1, 5):  # batch sizes the export never saw
        g = torch.Generator().manual_seed(n)
        batch_xs = [torch.randint(0, 3, (n, *x.shape[1:]), generator=g) if x.dtype == torch.long
                    else torch.randn((n, *x.shape[1:]), generator=g) for x in xs]
        with torch.no_grad():
            expected = module(*batch_xs).numpy()
        got = session.run(None, {name: x.numpy() for name, x in zip(names, batch_xs)})[0]
        worst = max(worst, float(np.abs(got - expected).max()))
    return worst


@pytest.mark.parametrize("type_id", ATTENDING)
@pytest.mark.parametrize("mask", [False, True])
def test_onnx_export_matches_onnxruntime(type_id: str, mask: bool, tmp_path) -> None:
    spec = layer_spec(type_id)
    inputs = [TensorSpec((4, 8)), TensorSpec((5, 8))] + ([TensorSpec((5,), "int64")] if mask else [])
    torch.manual_seed(0)
    module = spec.build_module(_params(type_id, heads=2, mask_padding=mask), inputs)
    xs = [torch.randn(2, 4, 8), torch.randn(2, 5, 8)] + ([torch.tensor([[1, 2, 0, 0, 0], [1, 1, 1, 2, 0]])] if mask else [])
    assert _onnx_parity(module, xs, tmp_path / "layer.onnx") <= 1e-4


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


def _decoder_graph() -> Graph:
    """One token Input feeding an encoder and a masked decoder (a single-input stand-in for seq2seq)."""
    graph = Graph()
    src = graph.add_node("Input", params={"kind": "tokens", "shape": (6,)})
    embed = graph.add_node("Embedding", params={"num_embeddings": 10, "embedding_dim": 16})
    encoder = graph.add_node("TransformerBlock", params={"heads": 2})
    decoder = graph.add_node("TransformerDecoderBlock", params={"heads": 2, "mask_padding": True})
    xattn = graph.add_node("CrossAttention", params={"heads": 4})
    head = graph.add_node("Linear", params={"out_features": 10})
    out = graph.add_node("Output", params={"loss": "cross_entropy"})
    graph.connect(src.id, embed.id)
    graph.connect(embed.id, encoder.id)
    graph.connect(embed.id, decoder.id, "target")
    graph.connect(encoder.id, decoder.id, "memory")
    graph.connect(src.id, decoder.id, "memory_ids")
    graph.connect(decoder.id, xattn.id, "queries")
    graph.connect(encoder.id, xattn.id, "memory")
    graph.connect(xattn.id, head.id)
    graph.connect(head.id, out.id)
    return graph


def test_generated_code_matches_the_model(tmp_path) -> None:
    from workbench.export import save_safetensors, write_code

    graph = _decoder_graph()
    model = build_model(graph, seed=3).eval()
    save_safetensors(model, tmp_path / "model.safetensors")
    path = write_code(graph, tmp_path / "model.py", title="decoder")
    source = path.read_text()
    assert "decoder = self.decoder(embed, block, input)  # (B, 6, 16)" in source
    assert "class CrossAttention(nn.Module)" in source and "class SelfAttention(nn.Module)" in source
    generated = _load(path).load_model()
    x = torch.tensor([[1, 2, 3, 0, 0, 0], [4, 5, 6, 7, 8, 9]])
    with torch.no_grad():
        assert torch.equal(generated(x), model(x))


# ----- recurrent layers -------------------------------------------------------------------------------

RECURRENT = ["LSTM", "GRU", "RNN"]


@pytest.mark.parametrize("type_id", RECURRENT)
@pytest.mark.parametrize("bidirectional", [False, True])
def test_the_last_state_is_the_end_of_each_direction(type_id: str, bidirectional: bool) -> None:
    spec = layer_spec(type_id)
    seq = TensorSpec((7, 4))
    params = _params(type_id, hidden_size=3, num_layers=2, bidirectional=bidirectional)
    torch.manual_seed(0)
    module = spec.build_module(params, [seq]).eval()
    x = torch.randn(2, 7, 4)
    with torch.no_grad():
        steps = module(x)
        module.output = "last"  # same weights, the other output
        last = module(x)
    width = 6 if bidirectional else 3
    assert spec.shape_rule(params, [seq]) == TensorSpec((7, width))
    assert spec.shape_rule({**params, "output": "last"}, [seq]) == TensorSpec((width,))
    assert steps.shape == (2, 7, width) and last.shape == (2, width)
    # forwards: the state after the last step; backwards: after reading back to the first step
    torch.testing.assert_close(last[:, :3], steps[:, -1, :3])
    if bidirectional:
        torch.testing.assert_close(last[:, 3:], steps[:, 0, 3:])


def test_recurrent_layers_need_a_sequence_of_features() -> None:
    spec = layer_spec("LSTM")
    with pytest.raises(ShapeError, match="Embedding"):
        spec.shape_rule(spec.defaults(), [TensorSpec((7,), "int64")])
    with pytest.raises(ShapeError, match="sequence"):
        spec.shape_rule(spec.defaults(), [TensorSpec((3, 8, 8))])


def test_dropout_applies_between_stacked_layers_only() -> None:
    spec = layer_spec("GRU")
    seq = TensorSpec((5, 4))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # torch warns about dropout on a single layer: we never pass it
        one = spec.build_module(_params("GRU", dropout=0.5), [seq])
    two = spec.build_module(_params("GRU", dropout=0.5, num_layers=2), [seq])
    assert one.rnn.dropout == 0.0 and two.rnn.dropout == 0.5


@pytest.mark.parametrize("type_id, output, bidirectional", [
    ("LSTM", "last", True), ("LSTM", "sequence", False), ("GRU", "last", False), ("GRU", "sequence", True),
    ("RNN", "last", True),
])
def test_recurrent_onnx_export_matches_onnxruntime(type_id: str, output: str, bidirectional: bool, tmp_path) -> None:
    spec = layer_spec(type_id)
    seq = TensorSpec((6, 4))
    torch.manual_seed(0)
    module = spec.build_module(_params(type_id, hidden_size=5, num_layers=2, output=output, bidirectional=bidirectional), [seq])
    assert _onnx_parity(module, [torch.randn(2, 6, 4)], tmp_path / "rnn.onnx") <= 1e-4


# ----- RMSNorm and GroupNorm ---------------------------------------------------------------------------


def test_rmsnorm_scales_by_the_root_mean_square() -> None:
    module = layer_spec("RMSNorm").build_module({"eps": 1e-6}, [TensorSpec((3, 4))])
    x = torch.tensor([[[3.0, -4.0, 0.0, 0.0]]])
    expected = x / torch.sqrt(torch.tensor(25.0 / 4 + 1e-6))
    torch.testing.assert_close(module(x), expected)


def test_groupnorm_groups_must_divide_the_channels() -> None:
    spec = layer_spec("GroupNorm")
    with pytest.raises(ShapeError, match="4 groups, which do not divide its 6 channels — use 1, 2, 3, 6 groups"):
        spec.shape_rule({"num_groups": 4, "eps": 1e-5}, [TensorSpec((6, 8, 8))])
    assert spec.shape_rule({"num_groups": 3, "eps": 1e-5}, [TensorSpec((6, 10))]) == TensorSpec((6, 10))
    with pytest.raises(ShapeError, match="one value per group"):
        spec.shape_rule({"num_groups": 4, "eps": 1e-5}, [TensorSpec((4, 1, 1))])
    assert spec.shape_rule({"num_groups": 2, "eps": 1e-5}, [TensorSpec((4, 1, 1))]) == TensorSpec((4, 1, 1))


@pytest.mark.parametrize("type_id, shape, params", [
    ("RMSNorm", (5, 8), {"eps": 1e-6}), ("GroupNorm", (6, 4, 4), {"num_groups": 2, "eps": 1e-5}),
])
def test_norms_export_to_onnx(type_id: str, shape: tuple[int, ...], params: dict, tmp_path) -> None:
    torch.manual_seed(0)
    module = layer_spec(type_id).build_module(params, [TensorSpec(shape)])
    with torch.no_grad():  # weights other than ones and zeros, so that the file must carry them
        for p in module.parameters():
            p.normal_()
    assert _onnx_parity(module, [torch.randn(2, *shape)], tmp_path / "norm.onnx") <= 1e-4


def test_the_lstm_starts_with_open_forget_gates() -> None:
    spec = layer_spec("LSTM")
    seq = TensorSpec((5, 4))
    module = spec.build_module(_params("LSTM", hidden_size=3, num_layers=2, bidirectional=True), [seq])
    biases = dict(module.rnn.named_parameters())
    for layer in ("l0", "l1", "l0_reverse", "l1_reverse"):
        total = biases[f"bias_ih_{layer}"] + biases[f"bias_hh_{layer}"]  # gates i, f, g, o
        torch.testing.assert_close(total[3:6], torch.ones(3))
        assert not torch.allclose(total[:3], torch.ones(3))  # the other gates keep torch's start
    plain = spec.build_module(_params("LSTM", hidden_size=3, forget_bias=0.0), [seq])
    assert not torch.allclose(plain.rnn.bias_ih_l0[3:6] + plain.rnn.bias_hh_l0[3:6], torch.ones(3))


def test_the_memory_width_message_follows_the_language() -> None:
    from workbench import i18n

    graph, xattn = _two_embeddings(32, 64)
    i18n.set_language("zh_CN")
    try:
        message = analyze(graph).problems_for(xattn)[0].message
    finally:
        i18n.set_language(None)
    assert message.startswith("CrossAttention 'xattn' 的 memory 宽度 64 ≠ queries 宽度 32 — ")
