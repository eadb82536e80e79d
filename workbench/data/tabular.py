"""CSV / TSV tables: one row per sample, one target column, numeric and categorical features.

Loading runs in stages so that each problem is reported with its row: parse the text into
rows (ragged rows named), find missing cells (named, or dropped / filled on request), type each
column, split, then fill, one-hot encode and standardise with statistics of the train rows.
Row numbers are line numbers as a spreadsheet or editor shows them (the header is row 1).
"""

from __future__ import annotations

import csv
import io
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from workbench.data.assemble import assemble
from workbench.data.bundle import DataBundle, DatasetSpec
from workbench.data.labels import (
    check_regression_target,
    encode_classes,
    infer_task,
)
from workbench.data.options import Options
from workbench.data.paths import read_bytes
from workbench.data.splits import feature_stats, split_indices
from workbench.data.text import decode_utf8
from workbench.errors import DataError

log = logging.getLogger(__name__)

MISSING_TOKENS = frozenset({"", "na", "n/a", "nan", "null", "none", "?"})
DELIMITERS = (",", "\t", ";", "|")  # preference order when the header is ambiguous
MAX_CATEGORIES = 100  # a text column with more distinct values than this is probably an id
MAX_LISTED = 5  # rows named in one message before "and N more"


@dataclass
class Table:
    """A parsed table: column names, cells as text, and each row's line number."""

    path: Path
    names: list[str]
    rows: list[list[str]]
    lines: list[int]
    delimiter: str

    def column(self, j: int) -> list[str]:
        return [row[j] for row in self.rows]


def _listing(items: list[str]) -> str:
    more = f" and {len(items) - MAX_LISTED} more" if len(items) > MAX_LISTED else ""
    return ", ".join(items[:MAX_LISTED]) + more


def _choose_delimiter(text: str, path: Path, option: str | None) -> str:
    if option is not None:
        named = {"tab": "\t", "\\t": "\t", "comma": ",", "semicolon": ";", "pipe": "|"}
        delim = named.get(option, option)
        if len(delim) != 1:
            raise DataError(f"{path}: option 'delimiter' must be one character (or 'tab'), "
                            f"got {option!r}")
        return delim
    if path.suffix.lower() in (".tsv", ".tab"):
        return "\t"
    # The header line decides: a table's header holds its delimiter once per column break,
    # while the data may hold decimal commas or free text.
    first = next((line for line in text.splitlines() if line.strip()), "")
    counts = {d: first.count(d) for d in DELIMITERS}
    best = max(DELIMITERS, key=lambda d: (counts[d], -DELIMITERS.index(d)))
    return best if counts[best] > 0 else ","


def parse_table(path: Path, delimiter: str | None, header: bool) -> Table:
    raw = read_bytes(path)
    if not raw.strip():
        raise DataError(f"CSV file {path} is empty; it needs a header row and data rows")
    text = decode_utf8(raw, path)
    delim = _choose_delimiter(text, path, delimiter)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delim)
    rows: list[list[str]] = []
    lines: list[int] = []
    try:
        for row in reader:
            if not row or all(not cell.strip() for cell in row):
                continue  # blank lines are not samples
            rows.append([cell.strip() for cell in row])
            lines.append(reader.line_num)
    except csv.Error as exc:
        raise DataError(f"CSV file {path} row {reader.line_num}: {exc}") from exc
    if not rows:
        raise DataError(f"CSV file {path} holds only blank lines or empty fields; it needs a header row "
                        f"and data rows")

    if header:
        names = [n or f"column_{j + 1}" for j, n in enumerate(rows[0])]
        rows, lines = rows[1:], lines[1:]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise DataError(f"CSV file {path}: the header names column(s) "
                            f"{', '.join(repr(d) for d in dupes)} more than once; rename them")
    else:
        names = [f"column_{j + 1}" for j in range(len(rows[0]))]
    if not rows:
        raise DataError(f"CSV file {path} has a header but no data rows")
    if len(names) < 2:
        raise DataError(
            f"CSV file {path} has a single column {names[0]!r} (delimiter {delim!r}); a table "
            f"needs feature columns and a target column; set option delimiter if it is another"
        )
    ragged = [f"row {line} has {len(row)} fields" for row, line in zip(rows, lines)
              if len(row) != len(names)]
    if ragged:
        raise DataError(
            f"CSV file {path}: expected {len(names)} fields per row (as in the "
            f"{'header' if header else 'first row'}), but {_listing(ragged)}; check for a missing "
            f"or extra delimiter {delim!r} or an unclosed quote"
        )
    return Table(path, names, rows, lines, delim)


def _numeric(values: list[str]) -> np.ndarray | None:
    """The column as float64 if every present value is a number, else None."""
    try:
        return np.array([float(v) for v in values], dtype=np.float64)
    except ValueError:
        return None


@dataclass
class Column:
    name: str
    index: int
    missing: np.ndarray  # bool per row
    numbers: np.ndarray | None  # float64 with NaN where missing; None for a text column


def _column(table: Table, j: int) -> Column:
    cells = table.column(j)
    missing = np.array([c.lower() in MISSING_TOKENS for c in cells], dtype=bool)
    present = [c for c, m in zip(cells, missing) if not m]
    nums = _numeric(present)
    numbers = None
    if nums is not None:
        if not np.isfinite(nums).all():
            k = int(np.flatnonzero(~np.isfinite(nums))[0])
            line = np.asarray(table.lines)[~missing][k]
            raise DataError(f"CSV file {table.path} row {line} column {table.names[j]!r}: "
                            f"infinite value {present[k]!r}; replace it")
        numbers = np.full(len(cells), np.nan)
        numbers[~missing] = nums
    return Column(table.names[j], j, missing, numbers)


def load_csv(spec: DatasetSpec, path: Path, base_dir: Path | None = None) -> DataBundle:
    """The table as a bundle: split, filled, one-hot encoded and standardised on train rows."""
    return load_csv_table(spec, path)[0]


def load_csv_table(spec: DatasetSpec, path: Path) -> tuple[DataBundle, Table]:
    """The bundle and the parsed table it came from (cells as text, as in the file), so that a
    preview shows the user's own rows without reading and parsing the file a second time."""
    where = f"CSV file {path}"
    opts = Options(spec.options, where)
    target_opt = opts.str("target", None)
    task_opt = opts.choice("task", "auto", ("auto", "classification", "regression"))
    missing_opt = opts.choice("missing", "error", ("error", "drop", "fill"))
    delimiter_opt = opts.str("delimiter", None)
    header = opts.bool("header", True)
    ignore = opts.str_list("ignore")
    opts.finish()

    table = parse_table(path, delimiter_opt, header)
    target_name = target_opt if target_opt is not None else table.names[-1]
    for name in [target_name, *ignore]:
        if name not in table.names:
            what = "target column" if name == target_name else "column to ignore"
            raise DataError(f"{where}: no {what} {name!r}; its columns are: "
                            f"{', '.join(table.names)}")
    if target_name in ignore:
        raise DataError(f"{where}: column {target_name!r} is both the target and ignored")
    target = _column(table, table.names.index(target_name))
    features = [_column(table, j) for j, n in enumerate(table.names)
                if n != target_name and n not in ignore]
    if not features:
        raise DataError(f"{where}: no feature columns are left besides the target {target_name!r}")

    # --- missing values -------------------------------------------------------------------
    lines = np.asarray(table.lines)
    feature_missing = np.zeros(len(lines), dtype=bool)
    for col in features:
        feature_missing |= col.missing
    cells = [f"row {lines[i]} column {col.name!r}"
             for i in range(len(lines)) for col in [*features, target] if col.missing[i]]
    keep = np.ones(len(lines), dtype=bool)
    if cells and missing_opt == "error":
        raise DataError(
            f"{where}: {len(cells)} missing value(s): {_listing(cells)}; fill them in, or set "
            f"option missing to 'drop' (leave those rows out) or 'fill' (use the column's mean "
            f"or most common value)"
        )
    if missing_opt == "drop":
        keep &= ~(feature_missing | target.missing)
    elif target.missing.any():
        # A target cannot be made up: rows without one are left out even when filling.
        log.warning("%s: %d row(s) without a target value left out (first: row %d)", where,
                    int(target.missing.sum()), int(lines[target.missing][0]))
        keep &= ~target.missing
    dropped = int((~keep).sum())
    if not keep.any():
        raise DataError(f"{where}: every row has a missing value, so no rows are left")

    # --- target ---------------------------------------------------------------------------
    raw_target = target.numbers if target.numbers is not None else \
        np.array(table.column(target.index), dtype=object)
    y_raw = raw_target[keep]
    if target.numbers is None:
        y_raw = y_raw.astype(str)
    task = infer_task(y_raw) if task_opt == "auto" else task_opt
    what = f"target column {target_name!r}"
    if task == "classification":
        if target.numbers is not None and len(np.unique(y_raw)) > MAX_CATEGORIES:
            raise DataError(f"{where}: {what} has {len(np.unique(y_raw))} distinct numbers; "
                            f"that is not a set of classes: use task 'regression'")
        y, class_names, _ = encode_classes(y_raw, where, what)
    else:
        y = check_regression_target(y_raw, where, what)
        class_names = None

    # --- split, then fill / encode / standardise with train statistics ----------------------
    tr, va = split_indices(int(keep.sum()), spec.val_fraction, spec.seed, where,
                           stratify=y if task == "classification" else None)
    row_ids = np.flatnonzero(keep)
    blocks: list[np.ndarray] = []
    feature_names: list[str] = []
    means: list[float] = []
    stds: list[float] = []
    described: list[dict[str, Any]] = []
    for col in features:
        if col.numbers is not None:
            values = col.numbers[row_ids]
            info: dict[str, Any] = {"name": col.name, "kind": "numeric"}
            if np.isnan(values).any():
                fill = float(np.nanmean(values[tr])) if (~np.isnan(values[tr])).any() else 0.0
                values = np.where(np.isnan(values), fill, values)
                info["fill"] = fill
            mean, std = feature_stats(values[tr][:, None])
            blocks.append(((values - mean[0]) / std[0])[:, None])
            feature_names.append(col.name)
            means.append(float(mean[0]))
            stds.append(float(std[0]))
            info.update(mean=float(mean[0]), std=float(std[0]))
        else:
            cells_all = np.array(table.column(col.index), dtype=object)[row_ids]
            present = ~col.missing[row_ids]
            categories = sorted(set(cells_all[present]))
            if len(categories) > MAX_CATEGORIES and len(categories) > 0.5 * present.sum():
                raise DataError(
                    f"{where}: column {col.name!r} holds {len(categories)} different texts "
                    f"(e.g. {categories[0]!r}); it looks like a name or id, not a category; "
                    f"leave it out with option ignore: [{col.name!r}]"
                )
            info = {"name": col.name, "kind": "categorical", "categories": categories}
            if not present.all():
                train_vals, counts = np.unique(cells_all[tr][present[tr]].astype(str),
                                               return_counts=True)
                fill_cat = str(train_vals[np.argmax(counts)]) if len(train_vals) else categories[0]
                cells_all = np.where(present, cells_all, fill_cat)
                info["fill"] = fill_cat
            index = {c: k for k, c in enumerate(categories)}
            onehot = np.zeros((len(row_ids), len(categories)))
            onehot[np.arange(len(row_ids)), [index[c] for c in cells_all]] = 1.0
            blocks.append(onehot)
            # One-hot columns stay 0/1; identity statistics keep normalization aligned with x.
            feature_names += [f"{col.name}={c}" for c in categories]
            means += [0.0] * len(categories)
            stds += [1.0] * len(categories)
        described.append(info)
    x = np.concatenate(blocks, axis=1).astype(np.float32)

    encoding: dict[str, Any] = {
        "feature_names": feature_names,
        "features": described,
        "target": {"name": target_name, "task": task, "classes": class_names},
        "delimiter": table.delimiter,
        "missing": missing_opt,
        "dropped_rows": dropped,
    }
    bundle = assemble(
        x[tr], y[tr], spec=spec, where=where, task=task, class_names=class_names, norm="none",
        val=(x[va], y[va]), encoding=encoding,
        description=(f"{path.name}: {len(row_ids)} rows, {len(feature_names)} features, target "
                     f"{target_name!r} ({task}{f', {len(class_names)} classes' if class_names else ''})"
                     + (f", {dropped} rows dropped" if dropped else "")),
    )
    stats = dict(bundle.normalization or {})
    stats.update(mean=means, std=stds)
    bundle.normalization = stats
    log.info("%s: target %r -> %s; features %s", where, target_name, task, feature_names)
    return bundle, table
