"""Attention: self- and cross-attention, the pre-norm Transformer encoder and decoder blocks,
and sequence pooling."""

from __future__ import annotations

from workbench.i18n import _
from workbench.layers.tensor_spec import TensorSpec
from workbench.layers.lazy_torch import modules
from workbench.layers.params import bool_param, choice_param, float_param, int_param
from workbench.layers.registry import Channels, LayerSpec, Params, ShapeError, register
from workbench.layers.rules import need_float, need_rank, one


def _sequence_shape(params: Params, inputs: list[TensorSpec]) -> TensorSpec:
    x = one(inputs)
    need_float(x)
    need_rank(x, (2,))
    width, heads = x.shape[1], params["heads"]
    if width % heads:
        divisors = [h for h in range(1, min(width, 16) + 1) if width % h == 0]
        raise ShapeError(
            f"has {heads} heads, which do not divide the embedding width {width} — use "
            + ", ".join(str(d) for d in divisors) + " heads, or change the width"
        )
    return x


_COMMON = (
    int_param("heads", 4, "Attention heads; must divide the embedding width.", 1, 128),
    bool_param("causal", False, "Each token sees only earlier tokens (language models)."),
    float_param("dropout", 0.0, "Dropout on attention weights and outputs while training.", 0.0, 0.9),
)


# The width of a Transformer's token stream is shared by every layer on it.
IN_STREAM = Channels(reason="it feeds {label}, whose width is fixed inside the Transformer stream")


def _heads(p: Params) -> int:
    return int(p["heads"])  # each head gets an equal share of the width


def _summary(p: Params) -> str:
    return f"{p['heads']} heads" + (", causal" if p["causal"] else "")


register(LayerSpec(
    type_id="MultiHeadSelfAttention",
    category="Attention",
    doc="Every token looks at every other token (or only earlier ones, if causal) and mixes them.",
    params=_COMMON,
    shape_rule=_sequence_shape,
    construct=lambda p, i: (modules.SelfAttention, {
        "dim": i[0].shape[1], "heads": p["heads"], "causal": p["causal"], "dropout": p["dropout"],
    }),
    summary=_summary,
    name_prefix="attn",
    channels=IN_STREAM,
    width_multiple=_heads,
))

register(LayerSpec(
    type_id="TransformerBlock",
    category="Attention",
    doc="Pre-norm Transformer encoder block: self-attention and an MLP, each with a residual.",
    params=(*_COMMON, float_param("mlp_ratio", 4.0, "Hidden width of the MLP relative to the embedding width.", 0.25, 16.0)),
    shape_rule=_sequence_shape,
    construct=lambda p, i: (modules.TransformerBlock, {
        "dim": i[0].shape[1], "heads": p["heads"], "mlp_ratio": p["mlp_ratio"], "dropout": p["dropout"], "causal": p["causal"],
    }),
    summary=_summary,
    name_prefix="block",
    channels=IN_STREAM,
    width_multiple=_heads,
))


def _attend_shape(first: str):
    """The shape rule of a layer whose `first` port reads `memory` (and, when it masks padding,
    the memory's token ids): the output is the first input's shape."""

    def rule(params: Params, inputs: list[TensorSpec]) -> TensorSpec:
        x, memory = inputs[0], inputs[1]
        for port, t in ((first, x), ("memory", memory)):
            if t.dtype != "float32":
                raise ShapeError(f"gets integer token ids at '{port}' — insert an Embedding before it")
            if t.rank != 2:
                raise ShapeError(f"needs a sequence (length×features) at '{port}' but gets {t.dims()}")
        _sequence_shape(params, [x])
        if memory.shape[1] != x.shape[1]:
            raise ShapeError(_(
                "has memory width {memory} ≠ {port} width {width} — give both sequences the same embedding "
                "width (change one embedding_dim, or add a Linear on one of them)"
            ).format(memory=memory.shape[1], port=first, width=x.shape[1]))
        if params.get("mask_padding"):
            ids = inputs[2]
            if ids.dtype != "int64":
                raise ShapeError("needs the memory's integer token ids at 'memory_ids' but gets float features "
                                 "— connect the Input that feeds the encoder")
            if ids.shape != memory.shape[:1]:
                raise ShapeError(f"gets {ids.dims()} token ids at 'memory_ids' but the memory is {memory.shape[0]} "
                                 "long — connect the Input that feeds the encoder")
        return x

    return rule


_MASKING = (
    bool_param("mask_padding", False, "Skip memory positions that are padding: adds a 'memory_ids' port for the source token ids."),
    int_param("pad_id", 0, "The token id that marks padding in 'memory_ids'.", 0, 1_000_000),
)


def _attend_summary(p: Params) -> str:
    return f"{p['heads']} heads" + (", masks padding" if p["mask_padding"] else "")


register(LayerSpec(
    type_id="CrossAttention",
    category="Attention",
    doc="Each token of the queries sequence looks at every token of another sequence (memory) and mixes them.",
    params=(_COMMON[0], _COMMON[2], *_MASKING),
    shape_rule=_attend_shape("queries"),
    construct=lambda p, i: (modules.CrossAttention, {
        "dim": i[0].shape[1], "heads": p["heads"], "dropout": p["dropout"], "pad_id": p["pad_id"],
    }),
    inputs=("queries", "memory"),
    optional_inputs=(("memory_ids", "mask_padding"),),
    accepts_ids=True,  # at 'memory_ids' only: the shape rule refuses ids elsewhere
    summary=_attend_summary,
    name_prefix="xattn",
    channels=IN_STREAM,
    width_multiple=_heads,
))

register(LayerSpec(
    type_id="TransformerDecoderBlock",
    category="Attention",
    doc="Pre-norm Transformer decoder block: causal self-attention, cross-attention to the encoder's output, and an MLP.",
    params=(_COMMON[0], _COMMON[2], float_param("mlp_ratio", 4.0, "Hidden width of the MLP relative to the embedding width.", 0.25, 16.0),
            *_MASKING),
    shape_rule=_attend_shape("target"),
    construct=lambda p, i: (modules.TransformerDecoderBlock, {
        "dim": i[0].shape[1], "heads": p["heads"], "mlp_ratio": p["mlp_ratio"], "dropout": p["dropout"], "pad_id": p["pad_id"],
    }),
    inputs=("target", "memory"),
    optional_inputs=(("memory_ids", "mask_padding"),),
    accepts_ids=True,  # at 'memory_ids' only: the shape rule refuses ids elsewhere
    summary=_attend_summary,
    name_prefix="decoder",
    channels=IN_STREAM,
    width_multiple=_heads,
))


def _pool_shape(params: Params, inputs: list[TensorSpec]) -> TensorSpec:
    x = one(inputs)
    need_float(x)
    need_rank(x, (2,))
    return TensorSpec((x.shape[1],))


register(LayerSpec(
    type_id="SequencePool",
    category="Attention",
    doc="Turns a sequence into one vector: mean of all tokens, the class token, or the last token.",
    params=(choice_param("mode", "mean", "How to pool the tokens.", ("mean", "cls", "last")),),
    shape_rule=_pool_shape,
    construct=lambda p, i: (modules.SequencePool, {"mode": p["mode"]}),
    summary=lambda p: p["mode"],
    name_prefix="seqpool",
    channels=IN_STREAM,
))
