"""The Results tab of a seq2seq run: validation pairs and the model's decodings side by side."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from workbench.data.bundle import DatasetSpec
from workbench.graph.document import Graph
from workbench.gui.training.results import ResultsView
from workbench.gui.training.results_data import RunResults, Seq2SeqExample, compute_results
from workbench.project import Project
from workbench.runs import prepare_run, train_project
from workbench.sampling import greedy_decode
from workbench.training.settings import TrainSettings


def _graph(vocab: int, source_len: int, target_len: int) -> Graph:
    g = Graph()
    src = g.add_node("Input", name="source", params={"kind": "tokens", "shape": [source_len]}).id
    tgt = g.add_node("Input", name="target", params={"kind": "tokens", "shape": [target_len]}).id
    se = g.add_node("Embedding", name="src_embed", params={"num_embeddings": vocab, "embedding_dim": 16}).id
    te = g.add_node("Embedding", name="tgt_embed", params={"num_embeddings": vocab, "embedding_dim": 16}).id
    dec = g.add_node("TransformerDecoderBlock", name="decoder", params={"heads": 2, "mlp_ratio": 1.0}).id
    head = g.add_node("Linear", name="head", params={"out_features": vocab}).id
    out = g.add_node("Output", name="output", params={"loss": "cross_entropy"}).id
    g.connect(src, se), g.connect(tgt, te), g.connect(te, dec, "target"), g.connect(se, dec, "memory")
    g.connect(dec, head), g.connect(head, out)
    return g


@pytest.fixture(scope="module")
def seq2seq_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two epochs on 200 generated dates: quick, and far from perfect."""
    spec = DatasetSpec(source="dates", options={"samples": 200})
    project = Project("dates", _graph(62, 29, 11), spec,
                      TrainSettings(epochs=2, batch_size=50, device="cpu", num_workers=0, seed=0))
    prepared = prepare_run(project)
    run_dir = tmp_path_factory.mktemp("s2s") / "dates-run"
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        assert train_project(prepared, run_dir).status == "finished"
    finally:
        torch.set_num_threads(threads)
    return run_dir


def test_results_decode_validation_sources_greedily(seq2seq_run: Path) -> None:
    results = compute_results(seq2seq_run)
    assert results.task == "seq2seq" and results.val_samples == 40
    from workbench.runs import load_run

    run = load_run(seq2seq_run, "last")
    data = run.data()
    decoded = {s: h.text for s, h in zip([s for s, _ in data.val.pairs],
                                         greedy_decode(run.model, run.data_info["vocab"], [s for s, _ in data.val.pairs]))}
    targets = dict(data.val.pairs)
    for example in results.examples:
        assert example.predicted == decoded[example.source]
        assert example.target == targets[example.source]
        assert example.correct == (example.predicted == example.target)
    flags = [e.correct for e in results.examples]
    assert flags == sorted(flags)  # mistakes first
    assert results.exact_match == pytest.approx(sum(flags) / len(flags))


def test_the_table_shows_source_target_prediction_and_a_mark(qtbot) -> None:  # noqa: ANN001
    view = ResultsView()
    qtbot.addWidget(view)
    results = RunResults(Path("/runs/dates-1"), "seq2seq", "last.pt", epoch=3, val_samples=2, exact_match=0.5,
                         examples=[Seq2SeqExample("3 march 1997", "1997-03-03", "1997-03-08", False),
                                   Seq2SeqExample("MAR 4 2001", "2001-03-04", "2001-03-04", True)])
    view.show_results(results)
    table = view.examples
    assert view.stack.currentWidget() is table
    headers = [table.horizontalHeaderItem(j).text() for j in range(4)]
    assert headers[:3] == ["Source", "Target", "Prediction"]
    rows = [[table.item(i, j).text() for j in range(4)] for i in range(table.rowCount())]
    assert rows == [["3 march 1997", "1997-03-03", "1997-03-08", "✗"], ["MAR 4 2001", "2001-03-04", "2001-03-04", "✓"]]
    assert "exact match <b>50.0%</b> (greedy)" in view.header.text()
    assert table.item(0, 2).foreground().color() != table.item(1, 2).foreground().color()
