"""Recurrent layers: RNN, LSTM and GRU over a sequence, returning every step or the last state."""

from __future__ import annotations

from workbench.layers.tensor_spec import TensorSpec
from workbench.layers.lazy_torch import modules
from workbench.layers.params import bool_param, choice_param, float_param, int_param
from workbench.layers.registry import Channels, LayerSpec, Params, Width, register
from workbench.layers.rules import need_float, need_rank, one


def _recurrent_shape(params: Params, inputs: list[TensorSpec]) -> TensorSpec:
    x = one(inputs)
    need_float(x)
    need_rank(x, (2,))
    width = params["hidden_size"] * (2 if params["bidirectional"] else 1)
    return TensorSpec((x.shape[0], width) if params["output"] == "sequence" else (width,))


_COMMON = (
    int_param("hidden_size", 64, "Width of the hidden state (each direction's share of the output).", 1, 16384),
    int_param("num_layers", 1, "Recurrent layers stacked, each reading the sequence of the one before.", 1, 16),
    bool_param("bidirectional", False, "Also read the sequence backwards; the output is twice as wide."),
    float_param("dropout", 0.0, "Dropout between stacked layers while training (needs two or more layers).", 0.0, 0.9),
    choice_param("output", "sequence", "sequence: every step's output (for further sequence layers); "
                 "last: the final hidden state only (for a Linear head).", ("sequence", "last")),
)


def _summary(p: Params) -> str:
    layers = f"{p['num_layers']}× " if p["num_layers"] > 1 else ""
    return f"{layers}{p['hidden_size']}" + (" bi" if p["bidirectional"] else "") + f" → {p['output']}"


def _constructor(cell: str):
    def construct(p: Params, i: list[TensorSpec]) -> tuple[type, dict]:
        kwargs = {
            "cell": cell, "input_size": i[0].shape[1], "hidden_size": p["hidden_size"], "num_layers": p["num_layers"],
            "bidirectional": p["bidirectional"], "dropout": p["dropout"], "output": p["output"],
        }
        if cell == "rnn":
            kwargs["nonlinearity"] = p["nonlinearity"]
        if cell == "lstm":
            kwargs["forget_bias"] = p["forget_bias"]
        return modules.Recurrent, kwargs

    return construct


# The input's features enter the first layer's weights of both directions; pruning stops there.
_STOPS = Channels(reason="it feeds {label}, a recurrent layer whose input weights are not pruned")

for _type, _cell, _doc, _extra in (
    ("LSTM", "lstm", "Long short-term memory: reads a sequence step by step, with gates that decide what to keep.",
     (float_param("forget_bias", 1.0, "Starting bias of the forget gates: 1 keeps early steps in memory from the start "
                  "(Keras's default); 0 is torch's plain start.", 0.0, 10.0),)),
    ("GRU", "gru", "Gated recurrent unit: a lighter LSTM with two gates and no separate cell state.", ()),
    ("RNN", "rnn", "Plain recurrent network: each step mixes the input with the previous hidden state.",
     (choice_param("nonlinearity", "tanh", "The activation of each step.", ("tanh", "relu")),)),
):
    register(LayerSpec(
        type_id=_type,
        category="Recurrent",
        doc=_doc,
        params=(*_COMMON, *_extra),
        shape_rule=_recurrent_shape,
        construct=_constructor(_cell),
        summary=_summary,
        name_prefix=_cell,
        width=Width("hidden_size", "last"),
        channels=_STOPS,
    ))
