"""Networks with two Input nodes: validation, the built module, the summary, the data check and
a training step, on a toy graph (two vectors → Concat → Linear → Output)."""

from __future__ import annotations

import math

import pytest
import torch
from torch.utils.data import Dataset

from workbench.data.bundle import DataBundle
from workbench.graph.analysis import analyze
from workbench.graph.builder import build_model
from workbench.graph.document import Graph
from workbench.graph.summary import summarize
from workbench.runs import fit_input_to_data, fit_problems
from workbench.training.engine import Trainer
from workbench.training.settings import TrainSettings


def two_input_graph(first: str = "left", second: str = "right") -> Graph:
    """left (3 features) and right (4 features) joined, then a Linear of 2 outputs."""
    g = Graph()
    a = g.add_node("Input", name=first, params={"kind": "vector", "shape": [3]}).id
    b = g.add_node("Input", name=second, params={"kind": "vector", "shape": [4]}).id
    cat = g.add_node("Concat", name="join", params={"inputs": 2, "axis": 0}).id
    fc = g.add_node("Linear", name="fc", params={"out_features": 2}).id
    out = g.add_node("Output", name="output", params={"loss": "cross_entropy"}).id
    g.connect(a, cat, "in1")
    g.connect(b, cat, "in2")
    g.connect(cat, fc)
    g.connect(fc, out)
    return g


class PairDataset(Dataset):
    """Samples ({"left": (3,), "right": (4,)}, class): the class is whether left sums higher."""

    def __init__(self, n: int, seed: int, as_tuple: bool = False) -> None:
        gen = torch.Generator().manual_seed(seed)
        self.left = torch.randn(n, 3, generator=gen)
        self.right = torch.randn(n, 4, generator=gen)
        self.y = (self.left.sum(1) > self.right.sum(1)).long()
        self.as_tuple = as_tuple

    def __len__(self) -> int:
        return len(self.y)

    def __getitem__(self, i: int):
        if self.as_tuple:
            return (self.left[i], self.right[i]), self.y[i]
        return {"right": self.right[i], "left": self.left[i]}, self.y[i]  # dict order is not the graph's


def pair_bundle(as_tuple: bool = False) -> DataBundle:
    return DataBundle(PairDataset(256, 0, as_tuple), PairDataset(64, 1, as_tuple), "classification", (3,), "float32", 2,
                      class_names=["no", "yes"], named_inputs={"left": ((3,), "float32"), "right": ((4,), "float32")})


def test_two_inputs_validate_and_infer_shapes() -> None:
    g = two_input_graph()
    result = analyze(g)
    assert result.ok, result.errors_text()
    join = next(n for n in g.nodes if n.name == "join")
    assert result.shapes[join.id].shape == (7,)


def test_the_module_takes_its_inputs_in_graph_order() -> None:
    model = build_model(two_input_graph())
    assert model.input_names == ["left", "right"]
    assert model.multi_input
    a, b = model.example_input(5)
    assert a.shape == (5, 3) and b.shape == (5, 4)
    out = model(a, b)
    expected = model.fc(torch.cat([a, b], dim=1))
    assert torch.allclose(out, expected)
    with pytest.raises(TypeError, match=r"takes 2 input\(s\) \(left, right\) but got 1"):
        model(a)


def test_summary_counts_both_inputs() -> None:
    summary = summarize(two_input_graph(), batch_size=8)
    assert summary.total_params == 7 * 2 + 2
    rows = {r.name: r for r in summary.rows}
    assert rows["left"].output_shape != rows["right"].output_shape
    # Activations: every node's output (3 + 4 + 7 + 2 + 2 values) per sample, fp32, batch 8.
    assert summary.activation_bytes == (3 + 4 + 7 + 2 + 2) * 8 * 4


def test_data_with_named_inputs_matches_inputs_by_name() -> None:
    bundle = pair_bundle()
    assert fit_problems(two_input_graph(), bundle, "pairs") == []
    wrong = two_input_graph(second="other")
    problems = fit_problems(wrong, bundle, "pairs")
    assert any("Input 'other'" in p and "gives inputs 'left', 'right' — rename the Input" in p for p in problems)
    assert any("gives input 'right' but no Input is named so" in p for p in problems)


def test_named_inputs_set_each_input_shape() -> None:
    g = two_input_graph()
    left = next(n for n in g.nodes if n.name == "left")
    g.set_param(left.id, "shape", [9])
    changes = fit_input_to_data(g, pair_bundle())
    assert changes == [f"{left.label()} now takes vector 3"]
    assert list(g.node(left.id).params["shape"]) == [3]


def test_a_single_input_dataset_refuses_two_inputs() -> None:
    from torch.utils.data import TensorDataset

    single = DataBundle(TensorDataset(torch.zeros(4, 3), torch.zeros(4, dtype=torch.long)),
                        TensorDataset(torch.zeros(2, 3), torch.zeros(2, dtype=torch.long)),
                        "classification", (3,), "float32", 2)
    problems = fit_problems(two_input_graph(), single, "digits")
    assert problems == ["the network has 2 Inputs (left, right) but dataset 'digits' gives one input per "
                        "sample — remove all Inputs but one"]


@pytest.mark.parametrize("as_tuple", [False, True])
def test_the_engine_trains_a_two_input_network(as_tuple: bool) -> None:
    model = build_model(two_input_graph())
    before = {k: v.clone() for k, v in model.state_dict().items()}
    settings = TrainSettings(epochs=3, batch_size=32, lr=0.05, device="cpu", num_workers=0)
    result = Trainer(model, pair_bundle(as_tuple), settings, loss="cross_entropy").run()
    assert result.status == "finished", result.message
    assert not torch.equal(before["fc.weight"], model.state_dict()["fc.weight"])
    assert math.isfinite(result.summary["val_loss"])
    # The rule is linear in the inputs: three epochs learn it well.
    assert result.summary["val_accuracy"] >= 0.85
