"""Built-in datasets: small, seeded and offline, so every preset trains out of the box.

The data itself is fixed by `data_seed` (default 0) whatever the split seed, so changing
`DatasetSpec.seed` reshuffles which rows are held out, not the rows themselves.
"""

from __future__ import annotations

import gzip
import importlib.util
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from workbench.data.assemble import assemble
from workbench.data.bundle import DataBundle, DatasetSpec
from workbench.data.options import Options
from workbench.data.options import DEFAULT_SEQ_LEN
from workbench.data.sequences import load_order_bundle
from workbench.errors import DataError


def _where(name: str) -> str:
    return f"built-in dataset '{name}'"


def digits_arrays() -> tuple[np.ndarray, np.ndarray]:
    """The 1797 x 64 pixel rows and labels of scikit-learn's digits.

    Read straight from the CSV that ships inside the scikit-learn wheel: importing
    `sklearn.datasets` costs seconds (it pulls in SciPy), the file costs ~25 ms.
    """
    spec = importlib.util.find_spec("sklearn")
    if spec is not None and spec.origin is not None:
        path = Path(spec.origin).parent / "datasets" / "data" / "digits.csv.gz"
        if path.is_file():
            with gzip.open(path, "rt") as fh:
                table = np.loadtxt(fh, delimiter=",", dtype=np.float32)
            return table[:, :-1], table[:, -1].astype(np.int64)
    try:  # a future layout of the package: fall back to its public loader
        from sklearn.datasets import load_digits
    except ImportError as exc:
        raise DataError("built-in dataset 'digits' needs scikit-learn: pip install scikit-learn") from exc
    raw = load_digits()
    return raw.data.astype(np.float32), raw.target.astype(np.int64)


def load_digits_bundle(spec: DatasetSpec) -> DataBundle:
    """8x8 handwritten digits from scikit-learn (1797 images, bundled in its wheel)."""
    Options(spec.options, _where("digits")).finish()
    pixels, y = digits_arrays()
    x = (pixels / 16.0).reshape(-1, 1, 8, 8)  # (N, 1, 8, 8) in [0, 1]
    return assemble(
        x, y, spec=spec, where=_where("digits"), task="classification",
        class_names=[str(i) for i in range(10)], norm="channel",
        description="Handwritten digits 0-9, 8x8 grayscale (scikit-learn)",
    )


def load_spirals_bundle(spec: DatasetSpec) -> DataBundle:
    """Interleaved 2-D spirals, one arm per class (the classic CS231n toy set)."""
    opts = Options(spec.options, _where("spirals"))
    classes = opts.int("classes", 3, minimum=2, maximum=50)
    per_class = opts.int("points_per_class", 300, minimum=2, maximum=1_000_000)
    noise = opts.float("noise", 0.2, minimum=0.0)
    data_seed = opts.int("data_seed", 0)
    opts.finish()
    rng = np.random.default_rng(data_seed)
    xs, ys = [], []
    for k in range(classes):
        r = np.linspace(0.0, 1.0, per_class)
        # Each arm turns through the same angle, offset by its class; noise blurs the angle.
        t = np.linspace(k * 4.0, (k + 1) * 4.0, per_class) * (3.0 / classes) \
            + rng.standard_normal(per_class) * noise
        xs.append(np.stack([r * np.sin(t), r * np.cos(t)], axis=1))
        ys.append(np.full(per_class, k, dtype=np.int64))
    return assemble(
        np.concatenate(xs).astype(np.float32), np.concatenate(ys), spec=spec,
        where=_where("spirals"), task="classification",
        class_names=[str(k) for k in range(classes)], norm="feature",
        description=f"{classes} interleaved spirals, {per_class} points each, noise {noise}",
    )


def load_moons_bundle(spec: DatasetSpec) -> DataBundle:
    """Two interleaving half circles (scikit-learn make_moons)."""
    opts = Options(spec.options, _where("moons"))
    samples = opts.int("samples", 1000, minimum=4, maximum=10_000_000)
    noise = opts.float("noise", 0.2, minimum=0.0)
    data_seed = opts.int("data_seed", 0)
    opts.finish()
    # The same construction as scikit-learn's make_moons, without importing scikit-learn.
    rng = np.random.default_rng(data_seed)
    n_out = samples // 2
    n_in = samples - n_out
    outer = np.linspace(0.0, np.pi, n_out)
    inner = np.linspace(0.0, np.pi, n_in)
    x = np.concatenate([
        np.stack([np.cos(outer), np.sin(outer)], axis=1),
        np.stack([1.0 - np.cos(inner), 0.5 - np.sin(inner)], axis=1),
    ]) + rng.standard_normal((samples, 2)) * noise
    y = np.concatenate([np.zeros(n_out, dtype=np.int64), np.ones(n_in, dtype=np.int64)])
    return assemble(
        x.astype(np.float32), y, spec=spec, where=_where("moons"),
        task="classification", class_names=["0", "1"], norm="feature",
        description=f"Two moons, {samples} points, noise {noise}",
    )


def load_regression_bundle(spec: DatasetSpec) -> DataBundle:
    """Friedman #1: y = 10 sin(pi x1 x2) + 20 (x3 - 0.5)^2 + 10 x4 + 5 x5 + noise; the other
    features are distractors the network must learn to ignore."""
    opts = Options(spec.options, _where("regression"))
    samples = opts.int("samples", 2000, minimum=4, maximum=10_000_000)
    features = opts.int("features", 10, minimum=5, maximum=10_000)
    noise = opts.float("noise", 1.0, minimum=0.0)
    data_seed = opts.int("data_seed", 0)
    opts.finish()
    # Friedman's formula (as in scikit-learn's make_friedman1), generated here directly.
    rng = np.random.default_rng(data_seed)
    x = rng.random((samples, features))
    y = (10.0 * np.sin(np.pi * x[:, 0] * x[:, 1]) + 20.0 * (x[:, 2] - 0.5) ** 2
         + 10.0 * x[:, 3] + 5.0 * x[:, 4] + noise * rng.standard_normal(samples))
    return assemble(
        x.astype(np.float32), y.astype(np.float64), spec=spec, where=_where("regression"),
        task="regression", norm="feature",
        description=f"Friedman #1 nonlinear regression, {samples} rows, {features} features",
    )


def _load_builtin_text(spec: DatasetSpec) -> DataBundle:
    from workbench.data.text import load_builtin_text  # torch: only when the text set is loaded

    return load_builtin_text(spec)


def _load_builtin_dates(spec: DatasetSpec) -> DataBundle:
    from workbench.data.seq2seq import load_dates_bundle  # torch: only when the dates set is loaded

    return load_dates_bundle(spec)


@dataclass(frozen=True)
class BuiltinInfo:
    """One entry of the built-in catalogue, shown by the CLI and the GUI."""

    name: str
    task: str
    description: str
    input_shape: tuple[int, ...]  # with default options
    loader: Callable[[DatasetSpec], DataBundle]
    options: dict[str, Any] = field(default_factory=dict)  # option -> default

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "task": self.task, "description": self.description,
                "input_shape": list(self.input_shape), "options": dict(self.options)}


BUILTINS: dict[str, BuiltinInfo] = {
    info.name: info
    for info in [
        BuiltinInfo("digits", "classification",
                    "Handwritten digits 0-9, 8x8 grayscale, 1797 images (scikit-learn)",
                    (1, 8, 8), load_digits_bundle),
        BuiltinInfo("spirals", "classification",
                    "Interleaved 2-D spirals; a classic for seeing a decision boundary bend",
                    (2,), load_spirals_bundle,
                    {"classes": 3, "points_per_class": 300, "noise": 0.2, "data_seed": 0}),
        BuiltinInfo("moons", "classification", "Two interleaving half circles in 2-D",
                    (2,), load_moons_bundle, {"samples": 1000, "noise": 0.2, "data_seed": 0}),
        BuiltinInfo("regression", "regression",
                    "Friedman #1 synthetic nonlinear regression, 2000 rows, 10 features",
                    (10,), load_regression_bundle,
                    {"samples": 2000, "features": 10, "noise": 1.0, "data_seed": 0}),
        BuiltinInfo("order", "classification",
                    "Temporal order (LSTM paper, 1997): is it X or Y early and mid-way among random a-d? 4 classes",
                    (30,), load_order_bundle, {"samples": 10000, "length": 30, "data_seed": 0}),
        BuiltinInfo("text", "language_model",
                    "Character-level text: source of 29 Python standard-library modules (1.4 MB)",
                    (DEFAULT_SEQ_LEN,), _load_builtin_text, {"seq_len": DEFAULT_SEQ_LEN}),
        BuiltinInfo("dates", "seq2seq",
                    "Dates written in words in 8 formats → ISO dates (generated): inputs source and target",
                    (29,), _load_builtin_dates, {"samples": 20000, "data_seed": 0}),
    ]
}
