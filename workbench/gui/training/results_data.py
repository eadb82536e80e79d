"""What the Results panel shows about a trained run, computed off the GUI thread. No Qt.

`compute_results(run_dir)` reads the run folder (`workbench.runs.load_run`: the best checkpoint,
else last.pt), runs the model over the validation set once and keeps what the pictures need:

- classification: the confusion matrix (rows: true class, columns: predicted), per-class
  accuracy and a few validation samples (mistakes first) with predicted and true labels;
- regression: predicted against true values (for the scatter);
- language model: the trained model and its vocabulary, for the sampling box;
- seq2seq: validation sources greedily decoded, side by side with their targets (mistakes
  first), and the exact match of those decodings.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

MAX_EVAL_SAMPLES = 20_000  # a bigger validation set is scored on its first rows
MAX_SCATTER_POINTS = 5_000
SAMPLE_GRID = 32  # validation samples shown with their predictions
SEQ2SEQ_DECODED = 1_000  # seq2seq: validation sources decoded (greedy) for the exact match
SEQ2SEQ_SHOWN = 50  # ... and shown in the table


@dataclass(frozen=True)
class Seq2SeqExample:
    """One validation pair and the model's greedy decoding of its source."""

    source: str
    target: str
    predicted: str
    correct: bool


@dataclass
class SampleView:
    """One validation sample as the grid shows it."""

    true: str
    predicted: str
    correct: bool
    image: np.ndarray | None = None  # (H, W) or (H, W, 3), scaled to [0, 1]
    features: list[float] | None = None  # non-image inputs: the first few values


@dataclass
class RunResults:
    """The evaluation of one run on its validation set."""

    run_dir: Path
    task: str  # "classification" | "regression" | "language_model"
    checkpoint: str  # the file the model was read from
    epoch: int | None = None  # the epoch that checkpoint holds (None: not known)
    val_samples: int = 0
    class_names: list[str] = field(default_factory=list)
    confusion: np.ndarray | None = None  # (C, C) int64: [true, predicted]
    accuracy: float | None = None
    samples: list[SampleView] = field(default_factory=list)
    true_values: np.ndarray | None = None  # regression, flattened
    predicted_values: np.ndarray | None = None
    mae: float | None = None
    r2: float | None = None
    vocab: list[str] | None = None  # language model
    model: Any = None  # the trained GraphModule, eval mode, on the CPU (language model sampling)
    examples: list[Seq2SeqExample] = field(default_factory=list)  # seq2seq, mistakes first
    exact_match: float | None = None  # seq2seq: share of the decoded sources whose target came out exactly
    summary: dict[str, Any] = field(default_factory=dict)

    def per_class(self) -> list[tuple[str, int, int]]:
        """(class name, correct, total) per class, from the confusion matrix."""
        if self.confusion is None:
            return []
        rows = []
        for i, name in enumerate(self.class_names):
            rows.append((name, int(self.confusion[i, i]), int(self.confusion[i].sum())))
        return rows


def _display_image(x: np.ndarray) -> np.ndarray | None:
    """(C, H, W) network input -> an (H, W) or (H, W, 3) picture in [0, 1]."""
    if x.ndim != 3 or x.shape[0] not in (1, 3, 4):
        return None
    img = x[0] if x.shape[0] == 1 else np.moveaxis(x[:3], 0, -1)
    lo, hi = float(img.min()), float(img.max())
    return ((img - lo) / (hi - lo)).astype(np.float32) if hi > lo else np.zeros_like(img, dtype=np.float32)


def checkpoint_epoch(run_dir: Path, checkpoint: str) -> int | None:
    """The epoch a checkpoint holds, from metrics.jsonl: the last epoch for last.pt, the one with
    the lowest validation loss for best.pt (the engine's rule: the first of equal lows)."""
    import json

    epochs: list[tuple[int, float | None]] = []
    try:
        with open(run_dir / "metrics.jsonl", encoding="utf-8") as fh:
            for line in fh:
                if '"epoch"' in line and '"kind": "epoch"' in line:
                    record = json.loads(line)
                    epochs.append((int(record["epoch"]), record.get("val_loss")))
    except (OSError, ValueError, KeyError):
        return None
    if not epochs:
        return None
    if checkpoint == "best":
        scored = [(loss, epoch) for epoch, loss in epochs if isinstance(loss, (int, float))]
        return min(scored, key=lambda pair: pair[0])[1] if scored else None
    return epochs[-1][0]


def compute_results(run_dir: str | Path, data: Any = None, checkpoint: str = "last") -> RunResults:
    """Evaluate the run in `run_dir` on its validation set (`data`: its DataBundle, if loaded).

    `checkpoint`: "last" (the model as the run ended, which the curves end with) or "best"
    (the lowest validation loss, what export takes).
    """
    import torch
    from torch.utils.data import DataLoader

    from workbench.runs import load_run

    run = load_run(run_dir, checkpoint)
    task = str(run.data_info.get("task") or run.summary.get("task") or "classification")
    used = run.checkpoint.stem  # load_run falls back from best to last
    results = RunResults(Path(run_dir), task, run.checkpoint.name, checkpoint_epoch(Path(run_dir), used),
                         summary=dict(run.summary))
    if task == "language_model":
        results.vocab = list(run.data_info.get("vocab") or [])
        results.model = run.model
        return results
    bundle = data if data is not None else run.data()
    model = run.model
    model.eval()
    if task == "seq2seq":
        return _seq2seq_results(results, model, list(run.data_info.get("vocab") or []), bundle)
    class_names = list(run.data_info.get("class_names") or [])
    outputs: list[np.ndarray] = []
    targets: list[np.ndarray] = []
    seen = 0
    with torch.no_grad():
        for x, y in DataLoader(bundle.val, batch_size=256, shuffle=False):
            out = model(x)
            outputs.append(out.float().cpu().numpy())
            targets.append(y.cpu().numpy())
            seen += len(y)
            if seen >= MAX_EVAL_SAMPLES:
                break
    if not outputs:
        return results
    out = np.concatenate(outputs)
    y = np.concatenate(targets)
    results.val_samples = len(y)
    if task == "regression":
        pred = out.reshape(len(out), -1)
        true = y.reshape(len(y), -1).astype(np.float64)
        if pred.shape != true.shape:  # e.g. (N, 1) against (N,)
            pred = pred.reshape(true.shape) if pred.size == true.size else pred[:, : true.shape[1]]
        results.mae = float(np.abs(pred - true).mean())
        ss_res = float(((pred - true) ** 2).sum())
        ss_tot = float(((true - true.mean(axis=0)) ** 2).sum())
        results.r2 = 1.0 - ss_res / ss_tot if ss_tot > 0 else None
        step = max(1, true.size // MAX_SCATTER_POINTS)
        results.true_values = true.ravel()[::step]
        results.predicted_values = pred.ravel()[::step].astype(np.float64)
        return results
    # Classification: class scores (N, C), or one logit per sample for a binary output.
    if out.ndim == 2 and out.shape[1] > 1:
        predicted = out.argmax(axis=1)
        count = out.shape[1]
    else:
        threshold = 0.0 if getattr(model, "loss_name", "") == "bce_with_logits" else 0.5
        predicted = (out.reshape(len(out)) > threshold).astype(np.int64)
        count = 2
    truth = y.reshape(len(y)).astype(np.int64) if y.ndim <= 1 or y.shape[-1] == 1 else y.argmax(axis=-1)
    count = max(count, int(truth.max()) + 1 if len(truth) else 0, len(class_names))
    if len(class_names) < count:
        class_names = class_names + [str(i) for i in range(len(class_names), count)]
    confusion = np.zeros((count, count), dtype=np.int64)
    np.add.at(confusion, (truth, predicted), 1)
    results.class_names = class_names
    results.confusion = confusion
    results.accuracy = float((truth == predicted).mean()) if len(truth) else None
    # The grid: mistakes first (they teach the most), then correct ones, in validation order;
    # only the samples shown are read again.
    wrong = np.flatnonzero(truth != predicted)
    right = np.flatnonzero(truth == predicted)
    for i in np.concatenate([wrong, right])[:SAMPLE_GRID].tolist():
        x = bundle.val[i][0]
        x = x.float().numpy() if hasattr(x, "numpy") else np.asarray(x, dtype=np.float32)
        image = _display_image(x) if x.ndim == 3 else None
        features = None if image is not None else [float(v) for v in x.reshape(-1)[:6]]
        results.samples.append(SampleView(class_names[truth[i]], class_names[predicted[i]],
                                          bool(truth[i] == predicted[i]), image, features))
    return results


def _seq2seq_results(results: RunResults, model: Any, vocab: list[str], bundle: Any) -> RunResults:
    """Greedy decodings of the first validation sources, and their exact match."""
    from workbench.data.seq2seq import EOS_ID
    from workbench.sampling import greedy_decode

    pairs = list(getattr(bundle.val, "pairs", []))[:SEQ2SEQ_DECODED]
    if not pairs:
        return results
    decoded = []
    for start in range(0, len(pairs), 256):
        chunk = pairs[start:start + 256]
        decoded.extend(greedy_decode(model, vocab, [source for source, _ in chunk]))
    examples = [Seq2SeqExample(source, target, hyp.text, hyp.text == target and hyp.ids[-1:] == (EOS_ID,))
                for (source, target), hyp in zip(pairs, decoded)]
    results.val_samples = len(examples)
    results.exact_match = sum(e.correct for e in examples) / len(examples)
    results.examples = ([e for e in examples if not e.correct] + [e for e in examples if e.correct])[:SEQ2SEQ_SHOWN]
    return results
