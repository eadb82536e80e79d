"""Small helpers shared by the shape rules: checks phrased the way a user reads them.

Shape rules raise ShapeError with a predicate ("needs a flat vector but gets 16×4×4 — insert
a Flatten"); shape inference puts the node in front ("Linear 'fc1' needs ...").
"""

from __future__ import annotations

from workbench.i18n import N_, _
from workbench.layers.tensor_spec import TensorSpec
from workbench.layers.registry import ShapeError

RANK_WORDS = {1: N_("a flat vector"), 2: N_("a sequence (length×features)"), 3: N_("an image (channels×height×width)")}


def one(inputs: list[TensorSpec]) -> TensorSpec:
    """The single input of a one-input layer."""
    return inputs[0]


def need_float(x: TensorSpec) -> None:
    """Integer token ids cannot feed layers that compute on features."""
    if x.dtype != "float32":
        raise ShapeError(_("gets integer token ids — insert an Embedding before it"))


def need_rank(x: TensorSpec, ranks: tuple[int, ...]) -> None:
    """Refuse an input of the wrong rank, naming the fix that is usually right."""
    if x.rank in ranks:
        return
    wanted = _(" or ").join(_(RANK_WORDS[r]) if r in RANK_WORDS else _("{n} axes").format(n=r) for r in ranks)
    fix = ""
    if 1 in ranks and x.rank >= 3:
        fix = _(" — insert a Flatten")
    elif 3 in ranks and x.rank == 1:
        fix = _(" — insert a Reshape to channels×height×width")
    elif 2 in ranks and x.rank == 3:
        fix = _(" — insert a PatchEmbedding or a Reshape")
    raise ShapeError(_("needs {wanted} but gets {dims}").format(wanted=wanted, dims=x.dims()) + fix)


def conv_out(size: int, kernel: int, stride: int, padding: int, dilation: int = 1) -> int:
    """Output length of a convolution or pooling window along one axis."""
    return (size + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1


def spatial_out(x: TensorSpec, kernel: int, stride: int, padding: int, dilation: int = 1) -> tuple[int, int]:
    """Height and width after a 2-D window, or a ShapeError if the window does not fit."""
    h, w = x.shape[1], x.shape[2]
    oh, ow = conv_out(h, kernel, stride, padding, dilation), conv_out(w, kernel, stride, padding, dilation)
    if oh < 1 or ow < 1:
        spread = _(", dilation {dilation}").format(dilation=dilation) if dilation > 1 else ""
        raise ShapeError(
            _("has a {k}×{k} window but its input is only {h}×{w} (padding {padding}{spread})"
              " — use a smaller kernel, add padding, or remove an earlier pooling layer")
            .format(k=kernel, h=h, w=w, padding=padding, spread=spread)
        )
    return oh, ow
