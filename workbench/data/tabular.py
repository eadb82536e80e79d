"""CSV / TSV and Parquet tables: one row per sample, one target column, numeric and categorical features.

Loading runs in stages so that each problem is reported with its row: read the file into
columns (workbench.data.table_file: pyarrow's parser, ragged rows named), find missing cells
(named, or dropped / filled on request), type each column, split, then fill, one-hot encode and
standardise with statistics of the train rows. Every stage works on whole columns (pyarrow and
numpy), never row by row in Python, so a million-row file loads in seconds.
Row numbers are line numbers as a spreadsheet or editor shows them (the header is row 1).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np

from workbench.data.assemble import assemble
from workbench.data.bundle import DataBundle, DatasetSpec
from workbench.data.labels import check_regression_target, encode_classes, infer_task
from workbench.data.options import Options
from workbench.data.splits import feature_stats, split_indices
from workbench.data.table_file import MAX_LISTED, MISSING_TOKENS, Column, Table, listing, read_table
from workbench.errors import DataError

log = logging.getLogger(__name__)

__all__ = ["MAX_CATEGORIES", "MISSING_TOKENS", "Table", "load_csv", "load_csv_table"]

MAX_CATEGORIES = 100  # a text column with more distinct values than this is probably an id


def load_csv(spec: DatasetSpec, path: Path, base_dir: Path | None = None) -> DataBundle:
    """The table as a bundle: split, filled, one-hot encoded and standardised on train rows."""
    return load_csv_table(spec, path)[0]


def load_csv_table(spec: DatasetSpec, path: Path) -> tuple[DataBundle, Table]:
    """The bundle and the table it came from (its first rows as text, as in the file), so that
    a preview shows the user's own rows without reading and parsing the file a second time."""
    opts = Options(spec.options, f"CSV file {path}")
    target_opt = opts.str("target", None)
    task_opt = opts.choice("task", "auto", ("auto", "classification", "regression"))
    missing_opt = opts.choice("missing", "error", ("error", "drop", "fill"))
    delimiter_opt = opts.str("delimiter", None)
    header = opts.bool("header", True)
    ignore = opts.str_list("ignore")
    opts.finish()

    table = read_table(path, delimiter_opt, header)
    where = table.where
    target_name = target_opt if target_opt is not None else table.names[-1]
    for name in [target_name, *ignore]:
        if name not in table.names:
            what = "target column" if name == target_name else "column to ignore"
            raise DataError(f"{where}: no {what} {name!r}; its columns are: "
                            f"{', '.join(table.names)}")
    if target_name in ignore:
        raise DataError(f"{where}: column {target_name!r} is both the target and ignored")
    target = table.column(table.names.index(target_name))
    features = [table.column(j) for j, n in enumerate(table.names)
                if n != target_name and n not in ignore]
    if not features:
        raise DataError(f"{where}: no feature columns are left besides the target {target_name!r}")

    keep = _rows_to_keep(table, features, target, missing_opt)
    dropped = int((~keep).sum())
    row_ids = np.flatnonzero(keep)

    y, task, class_names = _target(target, row_ids, task_opt, where)
    tr, va = split_indices(len(row_ids), spec.val_fraction, spec.seed, where,
                           stratify=y if task == "classification" else None)
    x_tr, x_va, feature_names, means, stds, described = _encode(table, features, row_ids, tr, va)

    encoding: dict[str, Any] = {
        "feature_names": feature_names,
        "features": described,
        "target": {"name": target_name, "task": task, "classes": class_names},
        "delimiter": table.delimiter,
        "missing": missing_opt,
        "dropped_rows": dropped,
    }
    bundle = assemble(
        x_tr, y[tr], spec=spec, where=where, task=task, class_names=class_names, norm="none",
        val=(x_va, y[va]), encoding=encoding,
        description=(f"{path.name}: {len(row_ids)} rows, {len(feature_names)} features, target "
                     f"{target_name!r} ({task}{f', {len(class_names)} classes' if class_names else ''})"
                     + (f", {dropped} rows dropped" if dropped else "")),
    )
    stats = dict(bundle.normalization or {})
    stats.update(mean=means, std=stds)
    bundle.normalization = stats
    log.info("%s: target %r -> %s; features %s", where, target_name, task, feature_names)
    return bundle, table


def _rows_to_keep(table: Table, features: list[Column], target: Column, missing_opt: str) -> np.ndarray:
    """Rows that become samples: missing cells named (option missing: error), or their rows left out."""
    where = table.where
    feature_missing = np.zeros(table.n_rows, dtype=bool)
    for col in features:
        feature_missing |= col.missing
    columns = [*features, target]
    total = sum(int(col.missing.sum()) for col in columns)
    if total and missing_opt == "error":
        # Name the first cells in reading order: row by row, left to right as the columns are used.
        # Each of these rows has a missing cell, so the first MAX_LISTED rows hold the cells named.
        rows = np.flatnonzero(feature_missing | target.missing)[:MAX_LISTED]
        cells = [f"row {line} column {col.name!r}" for i, line in zip(rows, table.line_numbers(rows))
                 for col in columns if col.missing[i]]
        raise DataError(
            f"{where}: {total} missing value(s): {listing(cells, total)}; fill them in, or set "
            f"option missing to 'drop' (leave those rows out) or 'fill' (use the column's mean "
            f"or most common value)"
        )
    keep = np.ones(table.n_rows, dtype=bool)
    if missing_opt == "drop":
        keep &= ~(feature_missing | target.missing)
    elif target.missing.any():
        # A target cannot be made up: rows without one are left out even when filling.
        first = int(table.line_numbers(np.flatnonzero(target.missing)[:1])[0])
        log.warning("%s: %d row(s) without a target value left out (first: row %d)", where,
                    int(target.missing.sum()), first)
        keep &= ~target.missing
    if not keep.any():
        raise DataError(f"{where}: every row has a missing value, so no rows are left")
    return keep


def _target(target: Column, row_ids: np.ndarray, task_opt: str, where: str
            ) -> tuple[np.ndarray, str, list[str] | None]:
    """Class ids or regression values of the kept rows, the task and the class names."""
    what = f"target column {target.name!r}"
    if target.numbers is None:
        assert target.codes is not None
        names = np.array(target.categories, dtype=str)
        task = infer_task(names) if task_opt == "auto" else task_opt  # text: classes
        if task == "regression":
            check_regression_target(names, where, what)  # refuses text, naming the column
        codes = target.codes[row_ids]  # no row without a target is kept
        used = np.flatnonzero(np.bincount(codes, minlength=len(names)))
        _, class_names, _ = encode_classes(names[used], where, what)
        position = np.zeros(len(names), dtype=np.int64)  # category -> class id
        position[used] = np.arange(len(used))
        return position[codes], "classification", class_names
    y_raw = target.numbers[row_ids]
    task = infer_task(y_raw) if task_opt == "auto" else task_opt
    if task == "classification":
        values, ids = np.unique(y_raw, return_inverse=True)
        if len(values) > MAX_CATEGORIES:
            raise DataError(f"{where}: {what} has {len(values)} distinct numbers; "
                            f"that is not a set of classes: use task 'regression'")
        _, class_names, _ = encode_classes(values, where, what)
        return ids.reshape(-1).astype(np.int64), task, class_names
    return check_regression_target(y_raw, where, what), "regression", None


def _encode(table: Table, features: list[Column], row_ids: np.ndarray, tr: np.ndarray, va: np.ndarray
            ) -> tuple[np.ndarray, np.ndarray, list[str], list[float], list[float], list[dict[str, Any]]]:
    """x of the train rows `tr` and of the validation rows `va` (float32): numbers filled and
    standardised and categories one-hot, with statistics of the train rows; the feature names,
    means, stds and each column's record."""
    every_row = len(row_ids) == table.n_rows  # nothing dropped: the columns need no copy
    numeric: list[tuple[int, np.ndarray, float, float]] = []  # (x column, values, mean, std)
    one_hot: list[tuple[int, np.ndarray]] = []  # (first x column, one-hot position per kept row)
    feature_names: list[str] = []
    means: list[float] = []
    stds: list[float] = []
    described: list[dict[str, Any]] = []
    for col in features:
        at = len(feature_names)
        if col.numbers is not None:
            values = col.numbers if every_row else col.numbers[row_ids]
            info: dict[str, Any] = {"name": col.name, "kind": "numeric"}
            gaps = col.missing if every_row else col.missing[row_ids]  # NaN exactly where missing
            if gaps.any():
                train = values[tr]
                fill = float(np.nanmean(train)) if (~np.isnan(train)).any() else 0.0
                values = np.where(gaps, fill, values)
                info["fill"] = fill
            mean, std = feature_stats(values[tr][:, None])
            numeric.append((at, values, float(mean[0]), float(std[0])))
            feature_names.append(col.name)
            means.append(float(mean[0]))
            stds.append(float(std[0]))
            info.update(mean=float(mean[0]), std=float(std[0]))
        else:
            ids, info = _one_hot_plan(table, col, row_ids, tr)
            one_hot.append((at, ids))
            categories = info["categories"]
            feature_names += [f"{col.name}={c}" for c in categories]
            # One-hot columns stay 0/1; identity statistics keep normalization aligned with x.
            means += [0.0] * len(categories)
            stds += [1.0] * len(categories)
        described.append(info)
    width = len(feature_names)
    return (_fill(tr, width, numeric, one_hot), _fill(va, width, numeric, one_hot),
            feature_names, means, stds, described)


FILL_BLOCK = 1 << 14  # rows of x written at a time: a block of every column stays in the cache


def _fill(rows: np.ndarray, width: int, numeric: list[tuple[int, np.ndarray, float, float]],
          one_hot: list[tuple[int, np.ndarray]]) -> np.ndarray:
    """x (len(rows), width) float32 of the kept rows `rows`, row-major as torch keeps it.

    Written a block of rows at a time: a column written whole into a row-major x strides over
    all of it once per column, which costs more than the arithmetic."""
    x = np.zeros((len(rows), width), dtype=np.float32)  # one-hot columns: only the ones are set
    for start in range(0, len(rows), FILL_BLOCK):
        block = rows[start:start + FILL_BLOCK]
        out = x[start:start + FILL_BLOCK]
        for at, values, mean, std in numeric:
            # In float64 as the statistics, stored as float32: the same numbers as before.
            part = values[block]
            np.subtract(part, mean, out=part)
            out[:, at] = np.divide(part, std, out=part)
    for at, ids in one_hot:
        x[np.arange(len(rows)), at + ids[rows]] = 1.0
    return x


def _one_hot_plan(table: Table, col: Column, row_ids: np.ndarray, tr: np.ndarray
                  ) -> tuple[np.ndarray, dict[str, Any]]:
    """A text column's one-hot position per kept row, one position per category present in the
    kept rows (sorted), gaps filled with the train rows' most common category; and its record."""
    assert col.codes is not None
    where = table.where
    codes = col.codes[row_ids]
    present = codes >= 0
    counts = np.bincount(codes[present], minlength=len(col.categories))
    used = np.flatnonzero(counts)
    categories = [col.categories[k] for k in used]
    if not categories:
        raise DataError(f"{where}: column {col.name!r} has no value in the rows used; fill it in, or "
                        f"leave it out with option ignore: [{col.name!r}]")
    if len(categories) > MAX_CATEGORIES and len(categories) > 0.5 * present.sum():
        _refuse_stray_text(table, col, codes, counts, row_ids)
        raise DataError(
            f"{where}: column {col.name!r} holds {len(categories)} different texts "
            f"(e.g. {categories[0]!r}); it looks like a name or id, not a category; "
            f"leave it out with option ignore: [{col.name!r}]"
        )
    info: dict[str, Any] = {"name": col.name, "kind": "categorical", "categories": categories}
    position = np.full(len(col.categories) + 1, -1, dtype=np.int64)  # category -> one-hot column
    position[used] = np.arange(len(used))
    ids = position[codes]
    if not present.all():
        train = codes[tr]
        counts = np.bincount(train[train >= 0], minlength=len(col.categories))
        # Ties go to the first category in sorted order, as np.unique's argmax did.
        fill = int(np.argmax(counts)) if counts.any() else int(used[0])
        ids = np.where(present, ids, position[fill])
        info["fill"] = col.categories[fill]
    return ids, info


def _refuse_stray_text(table: Table, col: Column, codes: np.ndarray, counts: np.ndarray,
                       row_ids: np.ndarray) -> None:
    """A column of numbers with a few cells of text reads as text with thousands of categories:
    name the first text cell's row instead of calling the column an id (only on that error)."""
    number = np.array([_is_number(text) for text in col.categories], dtype=bool)
    numbers = int(counts[number].sum())
    if numbers <= 0.5 * counts.sum():
        return
    stray = np.append(~number, False)[codes]  # code -1 (missing) is not stray
    first = int(row_ids[np.flatnonzero(stray)[0]])
    line = int(table.line_numbers([first])[0])
    text = col.categories[int(col.codes[first])]  # type: ignore[index]
    raise DataError(
        f"{table.where} row {line} column {col.name!r}: {text!r} is not a number, while {numbers} of "
        f"the column's {int(counts.sum())} cells are ({int(counts[~number].sum())} are not); correct "
        f"it (a gap can be left empty or NA), or leave the column out with option ignore: [{col.name!r}]"
    )


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
