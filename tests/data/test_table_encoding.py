"""A table's saved encoding applied to new rows: values, missing cells, unseen categories, errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from workbench.data import DatasetSpec, load_dataset
from workbench.data.table_encoding import check_encoding, encode_rows, feature_width, read_rows
from workbench.errors import DataError

ENCODING = {
    "feature_names": ["size", "colour=blue", "colour=red"],
    "features": [
        {"name": "size", "kind": "numeric", "mean": 10.0, "std": 2.0},
        {"name": "colour", "kind": "categorical", "categories": ["blue", "red"], "fill": "red"},
    ],
    "target": {"name": "kind", "task": "classification", "classes": ["0", "1", "cat"]},
    "delimiter": ",",
    "missing": "error",
    "dropped_rows": 0,
}
NAMES = ["colour", "kind", "size", "note"]  # another column order, and a column the run ignored


def encode(rows: list[list[str]], **changes: object):  # noqa: ANN201
    return encode_rows({**ENCODING, **changes}, NAMES, rows, list(range(2, 2 + len(rows))), "new.csv")


def test_rows_are_standardised_and_one_hot_encoded_with_the_saved_statistics() -> None:
    out = encode([["red", "cat", "14", "x"], ["blue", "1.0", "9", "y"], ["green", "0", "10", ""]])
    assert out.x.tolist() == [[2.0, 0.0, 1.0], [-0.5, 1.0, 0.0], [0.0, 0.0, 0.0]]
    assert out.y.tolist() == [2, 1, 0]  # a number is matched as the reader named it: 1.0 is class '1'
    assert out.unseen == {"colour": 1} and out.dropped == 0 and out.lines == [2, 3, 4]
    assert feature_width(ENCODING) == 3


def test_missing_cells_follow_the_runs_option() -> None:
    rows = [["red", "cat", "NA", "x"], ["?", "0", "12", "x"], ["blue", "", "8", "x"], ["blue", "1", "11", "x"]]
    with pytest.raises(DataError, match=r"2 missing value\(s\): row 2 column 'size', row 3 column 'colour'"):
        encode(rows)
    dropped = encode(rows, missing="drop")  # and the row without a target is left out whatever the option
    assert dropped.lines == [5] and dropped.dropped == 3 and dropped.x.tolist() == [[0.5, 1.0, 0.0]]
    filled = encode(rows, missing="fill")  # size had no fill value: its training mean; colour's is red
    assert filled.lines == [2, 3, 5] and filled.dropped == 1
    assert filled.x.tolist() == [[0.0, 0.0, 1.0], [1.0, 0.0, 1.0], [0.5, 1.0, 0.0]]
    assert filled.filled == {"size": 1, "colour": 1}
    with pytest.raises(DataError, match="no row is left to score"):
        encode([["red", "", "1", "x"]])


def test_cells_that_cannot_be_encoded_are_named_by_row() -> None:
    with pytest.raises(DataError, match=r"new.csv: row 3 column 'size': 'big' is not a number"):
        encode([["red", "cat", "1", ""], ["red", "cat", "big", ""]])
    with pytest.raises(DataError, match=r"class\(es\) the run never saw: 'dog' \(row 2\), '7' \(row 3\)"):
        encode([["red", "dog", "1", ""], ["red", "7", "1", ""]])
    with pytest.raises(DataError, match=r"no column 'size', 'kind'"):
        encode_rows(ENCODING, ["colour"], [["red"]], [2], "new.csv")
    regression = {**ENCODING, "target": {"name": "kind", "task": "regression", "classes": None}}
    out = encode_rows(regression, NAMES, [["red", "2.5", "10", ""]], [2], "new.csv")
    assert out.y.tolist() == [[2.5]]
    with pytest.raises(DataError, match=r"row 2 target column 'kind': 'cat' is not a number"):
        encode_rows(regression, NAMES, [["red", "cat", "10", ""]], [2], "new.csv")


def test_a_damaged_encoding_names_its_field() -> None:
    assert check_encoding(ENCODING, "data.json") is ENCODING
    broken = {**ENCODING, "features": [{**ENCODING["features"][0], "std": 0}]}
    with pytest.raises(ValueError, match=r"data.json: field 'encoding.features\[0\].std' must be a number > 0"):
        check_encoding(broken, "data.json")
    with pytest.raises(ValueError, match="field 'encoding.delimiter' must be one character"):
        check_encoding({**ENCODING, "delimiter": ",,"}, "data.json")
    with pytest.raises(ValueError, match="field 'encoding.target.classes' must be a list of class names"):
        check_encoding({**ENCODING, "target": {"name": "kind", "task": "classification"}}, "data.json")


def test_read_rows_names_a_ragged_row(tmp_path: Path) -> None:
    (tmp_path / "t.csv").write_text("a;b\n1;2\n\n3\n")
    with pytest.raises(DataError, match="expected 2 fields per row .* but row 4 has 1 fields"):
        read_rows(tmp_path / "t.csv", ";", True, "t.csv")
    assert read_rows(tmp_path / "t.csv", ",", False, "t.csv")[0] == ["column_1"]


def test_the_csv_readers_own_encoding_reproduces_its_validation_rows(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    lines = ["x,shade,y"] + [f"{rng.normal(5, 2):.3f},{rng.choice(['dark', 'light'])},{rng.choice(['a', 'b'])}"
                             for _ in range(60)]
    (tmp_path / "t.csv").write_text("\n".join(lines) + "\n")
    bundle = load_dataset(DatasetSpec("csv", str(tmp_path / "t.csv"), {"target": "y"}))
    names, rows, numbers = read_rows(tmp_path / "t.csv", bundle.encoding["delimiter"], True, "t.csv")
    everything = encode_rows(check_encoding(bundle.encoding, "bundle"), names, rows, numbers, "t.csv")
    x_val, y_val = bundle.val.tensors
    # every validation row is one of the file's rows, encoded to the same inputs and label
    pairs = {(tuple(np.round(x, 5)), int(y)) for x, y in zip(everything.x.tolist(), everything.y.tolist())}
    for x, y in zip(x_val.tolist(), y_val.tolist()):
        assert (tuple(np.round(x, 5)), int(y)) in pairs
