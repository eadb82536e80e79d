"""A table's saved encoding applied to new rows: the run's statistics, never re-fitted.

The CSV reader records how it turned columns into the network's inputs (`DataBundle.encoding`,
kept in a run's data.json): per feature column its kind, the training mean and std (numbers) or
its categories (text, one-hot), the value missing cells were filled with, and the target's name,
task and classes. `encode_rows` turns rows of another table with the same columns into inputs
the run's network reads as it read its validation rows, so that a model is scored on held-out
data exactly as it was trained:

- numbers are standardised with the training mean and std;
- a category the training rows never had becomes a one-hot row of zeros (and is counted);
- missing cells follow the run's `missing` option: refused, dropped, or filled with the recorded
  fill value (a number column that had none is filled with its training mean, which standardises
  to 0; a text column with none gets zeros);
- rows without a target are left out, as in training.

`check_encoding` checks a record read back from a run folder field by field before it is used.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from workbench.data.labels import class_name
from workbench.data.paths import read_bytes
from workbench.data.text import decode_utf8
from workbench.errors import DataError

# The cells the CSV reader reads as missing (any letter case), the same words as its own.
MISSING_TOKENS = frozenset({"", "na", "n/a", "nan", "null", "none", "?"})
MAX_LISTED = 5


@dataclass
class EncodedRows:
    """New rows as the run's network reads them, and their targets as the run's labels."""

    x: np.ndarray  # (N, features) float32
    y: np.ndarray  # (N,) int64 class ids, or (N, 1) float64 values in the target's own units
    lines: list[int]  # each kept row's line number in the file
    dropped: int = 0  # rows left out (missing target, or missing features with missing: drop)
    unseen: dict[str, int] = field(default_factory=dict)  # column -> cells of a category not trained on
    filled: dict[str, int] = field(default_factory=dict)  # column -> missing cells filled


def check_encoding(encoding: Any, where: str) -> dict[str, Any]:
    """The encoding record, checked; ValueError naming the field that is wrong.

    (The caller turns it into its own error: a run folder's data.json is a damaged run file.)
    """
    def need(ok: bool, path: str, what: str) -> None:
        if not ok:
            raise ValueError(f"{where}: field '{path}' must be {what}")

    need(isinstance(encoding, dict), "encoding", "a record")
    features = encoding.get("features")
    need(isinstance(features, list) and len(features) > 0, "encoding.features", "a non-empty list")
    for i, info in enumerate(features):
        at = f"encoding.features[{i}]"
        need(isinstance(info, dict) and isinstance(info.get("name"), str), at, "a record with a name")
        if info.get("kind") == "numeric":
            need(_number(info.get("mean")), f"{at}.mean", "a number")
            need(_number(info.get("std")) and info["std"] > 0, f"{at}.std", "a number > 0")
            need("fill" not in info or _number(info["fill"]), f"{at}.fill", "a number")
        elif info.get("kind") == "categorical":
            cats = info.get("categories")
            need(isinstance(cats, list) and all(isinstance(c, str) for c in cats), f"{at}.categories",
                 "a list of texts")
            need("fill" not in info or isinstance(info["fill"], str), f"{at}.fill", "a text")
        else:
            need(False, f"{at}.kind", "'numeric' or 'categorical'")
    target = encoding.get("target")
    need(isinstance(target, dict) and isinstance(target.get("name"), str), "encoding.target", "a record with a name")
    need(target.get("task") in ("classification", "regression"), "encoding.target.task",
         "'classification' or 'regression'")
    classes = target.get("classes")
    if target["task"] == "classification":
        need(isinstance(classes, list) and all(isinstance(c, str) for c in classes), "encoding.target.classes",
             "a list of class names")
    need(isinstance(encoding.get("delimiter"), str) and len(encoding["delimiter"]) == 1, "encoding.delimiter",
         "one character")
    need(encoding.get("missing", "error") in ("error", "drop", "fill"), "encoding.missing",
         "'error', 'drop' or 'fill'")
    return encoding


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def feature_width(encoding: Mapping[str, Any]) -> int:
    """How many inputs the encoded features make (a number is one, a text column one per category)."""
    return sum(1 if f["kind"] == "numeric" else len(f["categories"]) for f in encoding["features"])


def read_rows(path: Path, delimiter: str, header: bool, where: str) -> tuple[list[str], list[list[str]], list[int]]:
    """(column names, rows of cells as text, each row's line number) of a CSV/TSV file.

    Blank rows are not samples; a row of another width than the header is named.
    """
    text = decode_utf8(read_bytes(path), path)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows: list[list[str]] = []
    lines: list[int] = []
    try:
        for row in reader:
            if row and any(cell.strip() for cell in row):
                rows.append([cell.strip() for cell in row])
                lines.append(reader.line_num)
    except csv.Error as exc:
        raise DataError(f"{where}: row {reader.line_num}: {exc}") from None
    if header:
        if not rows:
            raise DataError(f"{where}: the file is empty; it needs a header row and data rows")
        names, rows, lines = rows[0], rows[1:], lines[1:]
    else:
        names = [f"column_{j + 1}" for j in range(len(rows[0]) if rows else 0)]
    if not rows:
        raise DataError(f"{where}: no data rows")
    ragged = [f"row {line} has {len(row)} fields" for row, line in zip(rows, lines) if len(row) != len(names)]
    if ragged:
        raise DataError(f"{where}: expected {len(names)} fields per row (delimiter {delimiter!r}, as the run's "
                        f"table), but {_listing(ragged)}")
    return names, rows, lines


def encode_rows(encoding: Mapping[str, Any], names: Sequence[str], rows: Sequence[Sequence[str]],
                lines: Sequence[int], where: str) -> EncodedRows:
    """Rows of a table (cells as text, `names` its header) encoded as the run encoded its rows.

    DataError names the column or the row (by its line number) that cannot be encoded.
    """
    columns = {name: j for j, name in enumerate(names)}
    features = encoding["features"]
    target = encoding["target"]
    absent = [f["name"] for f in features if f["name"] not in columns]
    if target["name"] not in columns:
        absent.append(target["name"])
    if absent:
        raise DataError(f"{where}: no column {', '.join(repr(a) for a in absent)}; the run was trained on the "
                        f"columns {', '.join(repr(f['name']) for f in features)} with target {target['name']!r}")
    missing_rule = encoding.get("missing", "error")

    def is_missing(cell: str) -> bool:
        return cell.strip().lower() in MISSING_TOKENS

    keep = np.ones(len(rows), dtype=bool)
    no_target = np.array([is_missing(r[columns[target["name"]]]) for r in rows], dtype=bool)
    keep &= ~no_target
    gaps = [(i, f["name"]) for i, r in enumerate(rows) if keep[i] for f in features if is_missing(r[columns[f["name"]]])]
    if gaps and missing_rule == "error":
        cells = [f"row {lines[i]} column {name!r}" for i, name in gaps]
        raise DataError(f"{where}: {len(cells)} missing value(s): {_listing(cells)}; the run was trained with "
                        f"option missing 'error', so fill them in (or leave those rows out)")
    if missing_rule == "drop":
        for i, _ in gaps:
            keep[i] = False
    kept = np.flatnonzero(keep)
    if len(kept) == 0:
        raise DataError(f"{where}: no row is left to score (every row misses its target"
                        f"{' or a feature' if missing_rule == 'drop' else ''})")

    blocks: list[np.ndarray] = []
    unseen: dict[str, int] = {}
    filled: dict[str, int] = {}
    for info in features:
        j = columns[info["name"]]
        cells = [rows[i][j].strip() for i in kept]
        if info["kind"] == "numeric":
            values = np.empty(len(cells))
            for k, cell in enumerate(cells):
                if is_missing(cell):
                    values[k] = info.get("fill", info["mean"])
                    filled[info["name"]] = filled.get(info["name"], 0) + 1
                    continue
                try:
                    values[k] = float(cell)
                except ValueError:
                    raise DataError(f"{where}: row {lines[kept[k]]} column {info['name']!r}: {cell!r} is not a "
                                    f"number, but the run read this column as numbers") from None
                if not math.isfinite(values[k]):
                    raise DataError(f"{where}: row {lines[kept[k]]} column {info['name']!r}: infinite value "
                                    f"{cell!r}; replace it")
            blocks.append(((values - info["mean"]) / info["std"])[:, None])
        else:
            index = {c: n for n, c in enumerate(info["categories"])}
            onehot = np.zeros((len(cells), len(index)))
            for k, cell in enumerate(cells):
                if is_missing(cell):
                    filled[info["name"]] = filled.get(info["name"], 0) + 1
                    cell = info.get("fill", "")
                if cell in index:
                    onehot[k, index[cell]] = 1.0
                elif cell:
                    unseen[info["name"]] = unseen.get(info["name"], 0) + 1
            blocks.append(onehot)
    x = np.concatenate(blocks, axis=1).astype(np.float32)

    target_cells = [rows[i][columns[target["name"]]].strip() for i in kept]
    if target["task"] == "classification":
        y = _class_ids(target_cells, target["classes"], [lines[i] for i in kept], target["name"], where)
    else:
        y = _values(target_cells, [lines[i] for i in kept], target["name"], where)
    return EncodedRows(x, y, [lines[i] for i in kept], int(len(rows) - len(kept)), unseen, filled)


def _class_ids(cells: list[str], classes: list[str], lines: list[int], column: str, where: str) -> np.ndarray:
    """Class ids by the run's class names; a number is matched as the reader named it ('3.0' is '3')."""
    order = {name: k for k, name in enumerate(classes)}
    ids = np.empty(len(cells), dtype=np.int64)
    unknown: dict[str, int] = {}
    for k, cell in enumerate(cells):
        name = cell
        if name not in order:
            try:
                name = class_name(float(cell))
            except ValueError:
                pass
        if name not in order:
            unknown.setdefault(cell, lines[k])
            continue
        ids[k] = order[name]
    if unknown:
        first = ", ".join(f"{c!r} (row {line})" for c, line in list(unknown.items())[:MAX_LISTED])
        raise DataError(f"{where}: target column {column!r} holds class(es) the run never saw: {first}; "
                        f"the run's classes are {_listing([repr(c) for c in classes])}")
    return ids


def _values(cells: list[str], lines: list[int], column: str, where: str) -> np.ndarray:
    values = np.empty((len(cells), 1))
    for k, cell in enumerate(cells):
        try:
            values[k, 0] = float(cell)
        except ValueError:
            raise DataError(f"{where}: row {lines[k]} target column {column!r}: {cell!r} is not a number, but "
                            f"the run predicts a quantity") from None
        if not math.isfinite(values[k, 0]):
            raise DataError(f"{where}: row {lines[k]} target column {column!r}: infinite value {cell!r}")
    return values


def _listing(items: list[str]) -> str:
    more = f" and {len(items) - MAX_LISTED} more" if len(items) > MAX_LISTED else ""
    return ", ".join(items[:MAX_LISTED]) + more
