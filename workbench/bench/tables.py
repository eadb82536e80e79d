"""Loading a large CSV table, beside pandas.read_csv parsing the same file.

    python -m workbench.bench.tables [--quick]

A generated CSV in a temporary folder: 1,000,000 rows (20,000 at smoke size) of 20 numeric
columns (normal values of different scales, four decimals) and a text label of three classes,
about 160 MB.

- `csv_load_vs_pandas`: Workbench's whole reader, `load_dataset(DatasetSpec("csv", path))`
  (parse, type every column, infer the task, split, standardise on the train rows, build the
  tensors) ÷ `pandas.read_csv(path)` (parse and type only). Rounds alternate the two sides
  (`alternate`) and the ratio is the median of each round's pair (`paired_ratio`), after one
  warm-up of each that brings the file into the page cache and imports what both need.
- `csv_load_s`, `csv_pandas_s`: the median seconds of each side.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import numpy as np

from workbench.bench.common import alternate, median, paired_ratio, run_alone

ROWS = 1_000_000
SMOKE_ROWS = 20_000
FEATURES = 20
CLASSES = ("bird", "cat", "dog")


def write_table(path: Path, rows: int, seed: int = 0) -> Path:
    """`rows` rows of FEATURES numbers and a label, written through pyarrow's CSV writer (fast,
    and no quotes: the file is what a spreadsheet or pandas' to_csv would write)."""
    import pyarrow as pa
    import pyarrow.csv as pv

    rng = np.random.default_rng(seed)
    columns = {f"x{j}": np.round(rng.normal(size=rows) * (j + 1), 4) for j in range(FEATURES)}
    labels = pa.DictionaryArray.from_arrays(pa.array(rng.integers(0, len(CLASSES), rows), pa.int32()),
                                            pa.array(CLASSES))
    table = pa.table({**columns, "label": labels.cast(pa.string())})
    with path.open("wb") as f:
        f.write((",".join(table.column_names) + "\n").encode())
        pv.write_csv(table, f, write_options=pv.WriteOptions(include_header=False, quoting_style="none"))
    return path


def _workbench(path: Path, rows: int) -> float:
    from workbench.data import DatasetSpec, load_dataset

    start = time.perf_counter()
    bundle = load_dataset(DatasetSpec("csv", str(path)))
    seconds = time.perf_counter() - start
    if bundle.train_size + bundle.val_size != rows or bundle.input_shape != (FEATURES,):
        raise RuntimeError(f"the table loaded as {bundle.train_size}+{bundle.val_size} rows of {bundle.input_shape}")
    return seconds


def _pandas(path: Path, rows: int) -> float:
    import pandas as pd

    start = time.perf_counter()
    frame = pd.read_csv(path)
    seconds = time.perf_counter() - start
    if frame.shape != (rows, FEATURES + 1):
        raise RuntimeError(f"pandas read {frame.shape}")
    return seconds


def measure(quick: bool = False, smoke: bool = False) -> dict[str, float]:
    rows = SMOKE_ROWS if smoke else ROWS
    with tempfile.TemporaryDirectory() as tmp:
        path = write_table(Path(tmp) / "table.csv", rows)
        _workbench(path, rows), _pandas(path, rows)  # warm-up: page cache, imports (torch, pyarrow, pandas)
        xs, ys = alternate(lambda: _workbench(path, rows), lambda: _pandas(path, rows), 1 if smoke else 3 if quick else 5)
    return {"csv_load_vs_pandas": paired_ratio(xs, ys), "csv_load_s": median(xs), "csv_pandas_s": median(ys)}


if __name__ == "__main__":
    run_alone("tables", __doc__.splitlines()[0])
