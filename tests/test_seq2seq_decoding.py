"""Decoding a trained seq2seq run: greedy and beam search, `workbench sample RUN --source`, and
greedy decoding's exact match equal to the teacher-forced val_exact_match the engine records."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from workbench.cli import main
from workbench.data.bundle import DatasetSpec
from workbench.data.seq2seq import EOS_ID
from workbench.graph.document import Graph
from workbench.project import Project, save_project
from workbench.runs import load_run
from workbench.sampling import beam_decode, greedy_decode
from workbench.training.settings import TrainSettings


def tiny_seq2seq_graph(vocab: int, source_len: int, target_len: int, width: int = 32) -> Graph:
    """source → Embedding → pos → encoder; target → Embedding → pos → decoder(memory) → head."""
    g = Graph()
    src = g.add_node("Input", name="source", params={"kind": "tokens", "shape": [source_len]}).id
    tgt = g.add_node("Input", name="target", params={"kind": "tokens", "shape": [target_len]}).id
    se = g.add_node("Embedding", name="src_embed", params={"num_embeddings": vocab, "embedding_dim": width}).id
    sp = g.add_node("PositionalEncoding", name="src_pos", params={"encoding": "learned", "max_len": source_len}).id
    enc = g.add_node("TransformerBlock", name="encoder", params={"heads": 2, "mlp_ratio": 2.0}).id
    te = g.add_node("Embedding", name="tgt_embed", params={"num_embeddings": vocab, "embedding_dim": width}).id
    tp = g.add_node("PositionalEncoding", name="tgt_pos", params={"encoding": "learned", "max_len": target_len}).id
    dec = g.add_node("TransformerDecoderBlock", name="decoder",
                     params={"heads": 2, "mlp_ratio": 2.0, "mask_padding": True}).id
    head = g.add_node("Linear", name="head", params={"out_features": vocab}).id
    out = g.add_node("Output", name="output", params={"loss": "cross_entropy"}).id
    g.connect(src, se), g.connect(se, sp), g.connect(sp, enc)
    g.connect(tgt, te), g.connect(te, tp)
    g.connect(tp, dec, "target"), g.connect(enc, dec, "memory"), g.connect(src, dec, "memory_ids")
    g.connect(dec, head), g.connect(head, out)
    return g


@pytest.fixture(scope="module")
def reversal_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A run that learnt (most of) reversing strings of 1–4 digits, trained from the CLI."""
    folder = tmp_path_factory.mktemp("seq2seq")
    rng = torch.Generator().manual_seed(0)
    lines = ["source\ttarget"]
    for _ in range(300):
        n = int(torch.randint(1, 5, (1,), generator=rng))
        digits = "".join(str(int(d)) for d in torch.randint(0, 10, (n,), generator=rng))
        lines.append(f"{digits}\t{digits[::-1]}")
    (folder / "pairs.tsv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    # 10 digits + 4 special tokens; sources ≤ 4 characters, targets ≤ 4 plus </s>.
    project = Project("reverse", tiny_seq2seq_graph(14, 4, 5),
                      DatasetSpec(source="seq2seq", path="pairs.tsv", val_fraction=0.2),
                      TrainSettings(epochs=25, batch_size=32, lr=0.005, device="cpu", seed=0, num_workers=0))
    save_project(project, folder / "reverse.json")
    run_dir = folder / "run"
    # One thread: a model this small spends more time in thread hand-offs than in arithmetic.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        assert main(["train", str(folder / "reverse.json"), "--out", str(run_dir), "--quiet", "--no-estimate"]) == 0
    finally:
        torch.set_num_threads(threads)
    return run_dir


def test_greedy_exact_match_equals_the_recorded_teacher_forced_one(reversal_run: Path) -> None:
    summary = json.loads((reversal_run / "summary.json").read_text())
    run = load_run(reversal_run, checkpoint="last")  # the weights the last validation measured
    data = run.data()
    vocab = run.data_info["vocab"]
    sources = [s for s, _ in data.val.pairs]
    decoded = greedy_decode(run.model, vocab, sources)
    right = 0
    for (source, target), hyp, index in zip(data.val.pairs, decoded, range(len(sources))):
        _, y = data.val[index]
        wanted = tuple(y[: len(target) + 1].tolist())  # the target's ids and </s>
        assert wanted[-1] == EOS_ID
        right += hyp.ids == wanted
        assert (hyp.ids == wanted) == (hyp.text == target and hyp.ids[-1] == EOS_ID)
    assert 0 < summary["val_exact_match"]  # it learnt something, so the comparison means something
    assert right / len(sources) == pytest.approx(summary["val_exact_match"])


def test_beam_search_ranks_distinct_hypotheses_and_beam_one_is_greedy(reversal_run: Path) -> None:
    run = load_run(reversal_run)
    vocab = run.data_info["vocab"]
    for source in ("123", "9", "4407"):
        greedy = greedy_decode(run.model, vocab, [source])[0]
        one = beam_decode(run.model, vocab, source, beam=1)
        assert [h.ids for h in one] == [greedy.ids]
        assert one[0].log_prob == pytest.approx(greedy.log_prob, abs=1e-5)
        three = beam_decode(run.model, vocab, source, beam=3)
        assert len(three) == 3 and len({h.ids for h in three}) == 3
        assert [h.score for h in three] == sorted((h.score for h in three), reverse=True)
        assert all(h.log_prob <= 0 for h in three)
        # The best of three is at least as likely (per token) as what greedy found.
        assert three[0].score >= greedy.score - 1e-6


def test_workbench_sample_decodes_sources(reversal_run: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = load_run(reversal_run)
    expected = greedy_decode(run.model, run.data_info["vocab"], ["123", "50"])
    assert main(["sample", str(reversal_run), "--source", "123", "--source", "50"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out == [f"123  →  {expected[0].text}", f"50  →  {expected[1].text}"]
    assert main(["sample", str(reversal_run), "--source", "123", "--beam", "2"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "123" and lines[1].startswith("  1. ") and lines[2].startswith("  2. ")
    assert "(log-prob -" in lines[1]


@pytest.mark.parametrize("args, message", [
    ([], "give the text with --source TEXT"),
    (["--source", "12345"], "has 5 characters; this model reads at most 4"),
    (["--source", "1", "--beam", "0"], "--beam must be at least 1"),
])
def test_sample_refusals_say_what_to_do(reversal_run: Path, capsys: pytest.CaptureFixture[str], args: list[str],
                                        message: str) -> None:
    assert main(["sample", str(reversal_run), *args]) == 1
    assert message in capsys.readouterr().err
