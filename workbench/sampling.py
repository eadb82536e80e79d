"""Text generation from a trained character-level language model."""

from __future__ import annotations

import math

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
