"""Text generation from a trained character-level language model."""

from __future__ import annotations

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
    if temperature <= 0:
        raise DataError(f"temperature must be > 0, got {temperature}")
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
            probs = torch.softmax(logits.float(), dim=-1)
            nxt = torch.multinomial(probs, 1, generator=generator)  # (1, 1)
            ids = torch.cat([ids, nxt], dim=1)
    finally:
        model.train(was_training)
    start = len(prompt) if prompt else 1
    return prompt + "".join(vocab[i] for i in ids[0, start:].tolist())
