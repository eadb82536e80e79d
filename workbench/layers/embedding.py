"""Embeddings: token ids to vectors, positions, and image patches to tokens."""

from __future__ import annotations

from workbench.layers.tensor_spec import TensorSpec
from workbench.layers.lazy_torch import modules, nn
from workbench.layers.params import bool_param, choice_param, int_param
from workbench.layers.attention import IN_STREAM
from workbench.layers.registry import Channels, LayerSpec, Params, ShapeError, Width, register
from workbench.layers.rules import need_float, need_rank, one


def _embedding_shape(params: Params, inputs: list[TensorSpec]) -> TensorSpec:
    x = one(inputs)
    if x.dtype != "int64":
        raise ShapeError("needs integer token ids but gets float features — feed it from an Input of kind 'tokens'")
    return TensorSpec((*x.shape, params["embedding_dim"]))


def _positional_shape(params: Params, inputs: list[TensorSpec]) -> TensorSpec:
    x = one(inputs)
    need_float(x)
    need_rank(x, (2,))
    if x.shape[0] > params["max_len"]:
        raise ShapeError(f"has max_len {params['max_len']} but the sequence is {x.shape[0]} long — raise max_len")
    if params["encoding"] == "sinusoidal" and x.shape[1] % 2:
        raise ShapeError(f"(sinusoidal) needs an even feature width but gets {x.shape[1]} — use an even width or 'learned'")
    return x


def _positional(params: Params, inputs: list[TensorSpec]) -> tuple[type[nn.Module], dict]:
    cls = modules.SinusoidalPositionalEncoding if params["encoding"] == "sinusoidal" else modules.LearnedPositionalEmbedding
    return cls, {"max_len": params["max_len"], "dim": inputs[0].shape[1]}


def _patch_shape(params: Params, inputs: list[TensorSpec]) -> TensorSpec:
    x = one(inputs)
    need_float(x)
    need_rank(x, (3,))
    _, h, w = x.shape
    p = params["patch_size"]
    if h % p or w % p:
        raise ShapeError(f"has patch size {p}, which does not divide the {h}×{w} image — pick a divisor of {h} and {w}")
    tokens = (h // p) * (w // p) + (1 if params["cls_token"] else 0)
    return TensorSpec((tokens, params["embed_dim"]))


register(LayerSpec(
    type_id="Embedding",
    category="Embedding",
    doc="Looks up a learned vector for each token id.",
    params=(
        int_param("num_embeddings", 128, "Vocabulary size: token ids run from 0 to this minus one.", 1, 1_000_000),
        int_param("embedding_dim", 64, "Length of each token's vector.", 1, 16384),
    ),
    shape_rule=_embedding_shape,
    construct=lambda p, i: (nn.Embedding, {"num_embeddings": p["num_embeddings"], "embedding_dim": p["embedding_dim"]}),
    summary=lambda p: f"{p['num_embeddings']} → {p['embedding_dim']}",
    accepts_ids=True,
    name_prefix="embed",
    width=Width("embedding_dim", "last"),
    follows_data=(("num_embeddings", "vocab"),),
))

register(LayerSpec(
    type_id="PositionalEncoding",
    category="Embedding",
    doc="Adds each token's position to its vector (fixed sine waves or learned), so order matters.",
    params=(
        choice_param("encoding", "sinusoidal", "Fixed sine/cosine waves, or a learned vector per position.", ("sinusoidal", "learned")),
        int_param("max_len", 512, "Longest sequence the layer accepts.", 1, 65536),
    ),
    shape_rule=_positional_shape,
    construct=_positional,
    summary=lambda p: p["encoding"],
    name_prefix="pos",
    channels=IN_STREAM,
    width_multiple=lambda p: 2 if p["encoding"] == "sinusoidal" else 1,  # a sine and a cosine per pair
    follows_data=(("max_len", "length"),),
))

register(LayerSpec(
    type_id="PatchEmbedding",
    category="Embedding",
    doc="Cuts an image into square patches and turns each into a token (Vision Transformer).",
    params=(
        int_param("patch_size", 4, "Side of each square patch in pixels.", 1, 64),
        int_param("embed_dim", 64, "Length of each token's vector.", 1, 16384),
        bool_param("cls_token", True, "Prepend a learned class token (for 'cls' pooling)."),
    ),
    shape_rule=_patch_shape,
    construct=lambda p, i: (modules.PatchEmbedding, {
        "in_channels": i[0].shape[0], "patch_size": p["patch_size"], "dim": p["embed_dim"], "cls_token": p["cls_token"],
    }),
    summary=lambda p: f"{p['patch_size']}×{p['patch_size']} → {p['embed_dim']}",
    name_prefix="patches",
    width=Width("embed_dim", "last"),
    channels=Channels("absorb", axis="first", tensors=("proj.weight",), dim=1),
))
