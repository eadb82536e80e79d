"""Text from a character-level language model's ONNX file, sampled as `workbench sample` does.

The model reads a fixed window of `context` token ids. A shorter text is padded on the right:
the model is causal, so the scores at the prompt's last position do not see the padding.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .inputs import InputError

MAX_TOKENS = 2000


def check_settings(prompt: Any, tokens: Any, temperature: Any, seed: Any, vocab: Sequence[str]) -> None:
    """InputError naming the setting that is out of range."""
    if not isinstance(prompt, str):
        raise InputError("prompt", "expected text")
    if isinstance(tokens, bool) or not isinstance(tokens, int) or not 1 <= tokens <= MAX_TOKENS:
        raise InputError("max_tokens", f"expected a whole number from 1 to {MAX_TOKENS}")
    if isinstance(temperature, bool) or not isinstance(temperature, (int, float)) or not math.isfinite(temperature) \
            or temperature <= 0:
        raise InputError("temperature", "expected a number > 0 (0.8 is usual)")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**63):
        raise InputError("seed", "expected a whole number from 0 to 2**63-1, or null")
    unknown = sorted({ch for ch in prompt if ch not in set(vocab)})
    if unknown:
        raise InputError("prompt", f"characters the model never saw: {', '.join(repr(c) for c in unknown[:5])}; leave them out")


def generate(run: Callable[[np.ndarray], np.ndarray], vocab: Sequence[str], context: int, prompt: str,
             tokens: int, temperature: float, seed: int | None) -> str:
    """Continue `prompt` by `tokens` characters; `run` maps (1, context) int64 ids to (1, context, V) scores."""
    index = {ch: i for i, ch in enumerate(vocab)}
    ids = [index[ch] for ch in prompt] or [0]
    rng = np.random.default_rng(seed)
    for _ in range(tokens):
        window = ids[-context:]
        feed = np.zeros((1, context), dtype=np.int64)
        feed[0, :len(window)] = window
        logits = np.asarray(run(feed), dtype=np.float64)[0, len(window) - 1] / temperature  # (V,)
        probs = np.exp(logits - logits.max())
        probs /= probs.sum()
        ids.append(int(rng.choice(len(probs), p=probs)))
    start = len(prompt) if prompt else 1
    return prompt + "".join(vocab[i] for i in ids[start:])
