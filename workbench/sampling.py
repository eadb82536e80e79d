"""Text from trained models: generation by a character-level language model, and decoding
(greedy or beam search) by a sequence-to-sequence network with Inputs `source` and `target`."""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from workbench.errors import DataError
from workbench.graph.builder import GraphModule


@torch.no_grad()
def generate(
    model: GraphModule,
    vocab: list[str],
    prompt: str,
    tokens: int = 200,
    temperature: float = 0.8,
    seed: int | None = 0,
) -> str:
    """Continue `prompt` by `tokens` characters, sampling each from the model's softened scores."""
    if not math.isfinite(temperature) or temperature <= 0:
        raise DataError(f"temperature must be a number > 0 (0.8 is usual), got {temperature}")
    if tokens < 1:
        raise DataError(f"tokens must be at least 1, got {tokens}")
    if seed is not None and not 0 <= seed < 2**63:
        raise DataError(f"seed must be a whole number from 0 to 2**63-1, got {seed}")
    index = {ch: i for i, ch in enumerate(vocab)}
    unknown = sorted({ch for ch in prompt if ch not in index})
    if unknown:
        shown = ", ".join(repr(ch) for ch in unknown[:5])
        raise DataError(f"the prompt has characters the model never saw: {shown} — leave them out")
    context = model.input_spec.shape[0]
    ids = torch.tensor([[index[ch] for ch in prompt] or [0]], dtype=torch.long)  # (1, T)
    generator = torch.Generator().manual_seed(seed) if seed is not None else None
    was_training = model.training
    model.eval()
    try:
        for _ in range(tokens):
            logits = model(ids[:, -context:])[:, -1, :] / temperature  # (1, V)
            if logits.shape[-1] != len(vocab):
                raise DataError(f"the model predicts {logits.shape[-1]} tokens but the vocabulary has "
                                f"{len(vocab)}: they come from different runs")
            probs = torch.softmax(logits.float(), dim=-1)
            nxt = torch.multinomial(probs, 1, generator=generator)  # (1, 1)
            ids = torch.cat([ids, nxt], dim=1)
    finally:
        model.train(was_training)
    start = len(prompt) if prompt else 1
    return prompt + "".join(vocab[i] for i in ids[0, start:].tolist())


# ----- sequence to sequence: greedy and beam-search decoding ---------------------------------------


@dataclass(frozen=True)
class Hypothesis:
    """One decoded target: its text, the ids the model chose, and their summed log-probability."""

    text: str
    ids: tuple[int, ...]
    log_prob: float

    @property
    def score(self) -> float:
        """Log-probability per predicted token (</s> included): beams of different lengths compare fairly."""
        return self.log_prob / max(1, len(self.ids))


def _seq2seq_parts(model: GraphModule) -> tuple[int, int, int, int]:
    """(source position, target position, source length, target length) of a seq2seq network."""
    from workbench.data.seq2seq import SOURCE, TARGET

    names = list(model.input_names)
    if sorted(names) != sorted([SOURCE, TARGET]):
        raise DataError(f"decoding needs a network with Inputs named '{SOURCE}' and '{TARGET}', "
                        f"this one has {', '.join(names)}")
    s, t = names.index(SOURCE), names.index(TARGET)
    return s, t, model.input_specs[s].shape[0], model.input_specs[t].shape[0]


def encode_sources(model: GraphModule, vocab: list[str], sources: list[str]) -> torch.Tensor:
    """Source texts as padded ids (B, S); DataError for one longer than the network reads."""
    from workbench.data.seq2seq import encode_text

    _, _, source_len, _ = _seq2seq_parts(model)
    for text in sources:
        if len(text) > source_len:
            raise DataError(f"the source {text!r} has {len(text)} characters; this model reads at most "
                            f"{source_len} — shorten it")
    return torch.tensor([encode_text(text, vocab, source_len) for text in sources], dtype=torch.long)


def _run(model: GraphModule, src: torch.Tensor, tgt: torch.Tensor) -> torch.Tensor:
    s, _, _, _ = _seq2seq_parts(model)
    args = (src, tgt) if s == 0 else (tgt, src)
    return model(*args)  # (B, T, V)


@torch.no_grad()
def greedy_decode(model: GraphModule, vocab: list[str], sources: list[str]) -> list[Hypothesis]:
    """The most likely next character at every step, for each source at once, until </s>.

    The decoder's input has the network's fixed target length: positions after the current
    one hold padding, which a causal decoder never looks at.
    """
    from workbench.data.seq2seq import BOS_ID, EOS_ID, PAD_ID, decode_ids

    _, _, _, target_len = _seq2seq_parts(model)
    src = encode_sources(model, vocab, sources)
    batch = len(sources)
    tgt = torch.full((batch, target_len), PAD_ID, dtype=torch.long)
    tgt[:, 0] = BOS_ID
    chosen = torch.full((batch, target_len), PAD_ID, dtype=torch.long)
    log_prob = torch.zeros(batch)
    done = torch.zeros(batch, dtype=torch.bool)
    was_training = model.training
    model.eval()
    try:
        for step in range(target_len):
            scores = torch.log_softmax(_run(model, src, tgt)[:, step].float(), dim=-1)  # (B, V)
            nxt = scores.argmax(-1)
            log_prob += torch.where(done, torch.zeros(batch), scores.gather(1, nxt[:, None])[:, 0])
            chosen[:, step] = torch.where(done, torch.full_like(nxt, PAD_ID), nxt)
            done |= nxt == EOS_ID
            if step + 1 < target_len:
                tgt[:, step + 1] = chosen[:, step]
            if bool(done.all()):
                break
    finally:
        model.train(was_training)
    out = []
    for row in range(batch):
        ids = _until_end(chosen[row].tolist(), EOS_ID, PAD_ID)
        out.append(Hypothesis(decode_ids(ids, vocab), tuple(ids), float(log_prob[row])))
    return out


@torch.no_grad()
def beam_decode(model: GraphModule, vocab: list[str], source: str, beam: int = 4) -> list[Hypothesis]:
    """Beam search for one source: the `beam` best targets, best first (by `Hypothesis.score`).

    Each step extends every live hypothesis by every character and keeps the `beam` most likely
    (summed log-probabilities); a hypothesis that predicts </s> is finished and set aside. The
    search ends when `beam` hypotheses are finished or the target length is reached.
    """
    from workbench.data.seq2seq import BOS_ID, EOS_ID, decode_ids

    if beam < 1:
        raise DataError(f"--beam must be at least 1, got {beam}")
    _, _, _, target_len = _seq2seq_parts(model)
    src = encode_sources(model, vocab, [source])
    live: list[tuple[list[int], float]] = [([], 0.0)]
    finished: list[Hypothesis] = []
    was_training = model.training
    model.eval()
    try:
        for step in range(target_len):
            tgt = torch.zeros((len(live), target_len), dtype=torch.long)
            tgt[:, 0] = BOS_ID
            for row, (ids, _) in enumerate(live):
                tgt[row, 1:step + 1] = torch.tensor(ids, dtype=torch.long)
            scores = torch.log_softmax(_run(model, src.expand(len(live), -1), tgt)[:, step].float(), dim=-1)
            totals = torch.tensor([lp for _, lp in live])[:, None] + scores  # (live, V)
            best = torch.topk(totals.reshape(-1), min(beam, totals.numel()))
            vocab_size = scores.shape[-1]
            nxt: list[tuple[list[int], float]] = []
            for value, flat in zip(best.values.tolist(), best.indices.tolist()):
                row, token = divmod(flat, vocab_size)
                ids = live[row][0] + [token]
                if token == EOS_ID or step + 1 == target_len:
                    finished.append(Hypothesis(decode_ids(ids, vocab), tuple(ids), value))
                else:
                    nxt.append((ids, value))
            live = nxt
            if not live or len(finished) >= beam:
                break
    finally:
        model.train(was_training)
    finished.sort(key=lambda h: h.score, reverse=True)
    return finished[:beam]


def _until_end(ids: list[int], eos: int, pad: int) -> list[int]:
    """The chosen ids up to and including the first </s>."""
    out = []
    for i in ids:
        if i == pad:
            break
        out.append(i)
        if i == eos:
            break
    return out


def decoded_lines(model: GraphModule, vocab: list[str], sources: list[str] | None, beam: int = 1) -> list[str]:
    """What `workbench sample RUN --source TEXT [--beam K]` prints: one line per source
    (greedy), or the K best hypotheses with their log-probabilities under each source."""
    if not sources:
        raise DataError("this run decodes sequences: give the text with --source TEXT (repeat for several)")
    if beam < 1:
        raise DataError(f"--beam must be at least 1, got {beam}")
    if beam == 1:
        return [f"{source}  →  {hyp.text}" for source, hyp in zip(sources, greedy_decode(model, vocab, sources))]
    lines = []
    for source in sources:
        lines.append(source)
        for rank, hyp in enumerate(beam_decode(model, vocab, source, beam), start=1):
            lines.append(f"  {rank}. {hyp.text}  (log-prob {hyp.log_prob:.3f})")
    return lines
