"""Input and Output: where data enters the network and where the loss is attached."""

from __future__ import annotations

from workbench.layers.tensor_spec import MAX_SAMPLE_VALUES, TensorSpec
from workbench.layers.lazy_torch import nn
from workbench.layers.params import choice_param, ints_param
from workbench.layers.registry import Channels, LayerSpec, Params, ShapeError, register
from workbench.layers.rules import one

INPUT_KINDS = {
    # kind: (axes a sample has, what they mean, element type)
    "image": (3, "channels, height, width", "float32"),
    "vector": (1, "features", "float32"),
    "tokens": (1, "sequence length", "int64"),
}
LOSSES = ("cross_entropy", "mse", "bce_with_logits")


def _input_shape(params: Params, inputs: list[TensorSpec]) -> TensorSpec:
    rank, meaning, dtype = INPUT_KINDS[params["kind"]]
    shape = tuple(params["shape"])
    if len(shape) != rank:
        raise ShapeError(f"of kind '{params['kind']}' needs {rank} number(s) in its shape ({meaning}), got {len(shape)}")
    return TensorSpec(shape, dtype)


def _output_shape(params: Params, inputs: list[TensorSpec]) -> TensorSpec:
    x = one(inputs)
    if x.dtype != "float32":
        raise ShapeError("gets integer token ids, but a loss needs scores — insert Embedding and Linear layers")
    if params["loss"] == "cross_entropy" and x.rank not in (1, 2):
        raise ShapeError(
            f"with cross-entropy needs class scores (classes, or length×vocabulary) but gets {x.dims()}"
            " — insert a Flatten and a Linear with one output per class"
        )
    return x


def _identity(params: Params, inputs: list[TensorSpec]) -> tuple[type[nn.Module], dict]:
    return nn.Identity, {}


register(LayerSpec(
    type_id="Input",
    category="Input / Output",
    doc="Where samples enter: an image, a feature vector or a sequence of token ids.",
    params=(
        choice_param("kind", "image", "What one sample is.", tuple(INPUT_KINDS)),
        ints_param("shape", (1, 28, 28), "One sample's shape without the batch axis.", length=(1, 3), hi=MAX_SAMPLE_VALUES),
    ),
    shape_rule=_input_shape,
    construct=_identity,
    inputs=(),
    summary=lambda p: f"{p['kind']} " + "×".join(str(d) for d in p["shape"]),
    accepts_ids=True,
    name_prefix="input",
))

register(LayerSpec(
    type_id="Output",
    category="Input / Output",
    doc="The network's prediction, and the loss it is trained with.",
    params=(choice_param("loss", "cross_entropy", "Loss against the targets.", LOSSES),),
    shape_rule=_output_shape,
    construct=_identity,
    summary=lambda p: p["loss"].replace("_", "-"),
    name_prefix="output",
    channels=Channels(reason="its width is the model's output"),
))
