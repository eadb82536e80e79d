"""Tables through pyarrow: Parquet beside CSV, a 100,000-row file against numpy's reading, and
every row or column error naming the right line, also past the first rows and in files whose
lines are not one row each (blank lines, quoted line breaks)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import torch

from workbench.data import DatasetSpec, load_dataset
from workbench.data.preview import PREVIEW_ROWS, preview_dataset
from workbench.data.splits import split_indices
from workbench.errors import DataError

ROWS = 100_000
NAMES = ["x0", "x1", "x2", "x3", "x4", "y"]


def load(path: Path, **options):  # noqa: ANN201
    return load_dataset(DatasetSpec("csv", str(path), options))


def error(path: Path, **options) -> str:
    with pytest.raises(DataError) as err:
        load(path, **options)
    message = str(err.value)
    assert "\n" not in message and str(path) in message
    return message


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[str], np.ndarray]:
    """A 100,000-row regression table as lines of text (header first) and the numbers they hold."""
    rng = np.random.default_rng(7)
    values = np.round(rng.normal(size=(ROWS, 6)) * [1, 10, 100, 0.01, 5, 3] + [0, 50, -7, 1, 0, 20], 5)
    lines = [",".join(NAMES)] + [",".join(f"{v:.5f}" for v in row) for row in values]
    return lines, values


def write(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


# ------------------------------------------------------------------------------ large files

def test_large_csv_matches_numpys_reading(tmp_path: Path, big: tuple[list[str], np.ndarray]) -> None:
    lines, _ = big
    path = write(tmp_path / "big.csv", lines)
    expected = np.loadtxt(path, delimiter=",", skiprows=1)
    assert expected.shape == (ROWS, 6)
    b = load(path)
    assert b.task == "regression" and b.input_shape == (5,)
    assert (b.train_size, b.val_size) == (80_000, 20_000)
    tr, va = split_indices(ROWS, 0.2, 0, "big")  # the reader's own split: regression, not stratified
    stats = b.normalization
    assert np.allclose(stats["mean"], expected[tr, :5].mean(axis=0), rtol=1e-12, atol=1e-12)
    assert np.allclose(stats["std"], expected[tr, :5].std(axis=0), rtol=1e-12)
    for part, rows in ((b.train, tr), (b.val, va)):
        x, y = part.tensors
        assert x.dtype == torch.float32 and x.is_contiguous()
        # numpy's numbers, standardised with the train rows' statistics, up to float32 rounding.
        z = (expected[rows, :5] - stats["mean"]) / stats["std"]
        np.testing.assert_allclose(x.numpy(), z, rtol=1e-6, atol=1e-6)
        z_y = (expected[rows, 5] - stats["target_mean"][0]) / stats["target_std"][0]
        np.testing.assert_allclose(y.numpy()[:, 0], z_y, rtol=1e-6, atol=1e-6)
    assert [f["name"] for f in b.encoding["features"]] == NAMES[:5]


def test_large_csv_with_blank_lines_quotes_and_gaps(tmp_path: Path, big: tuple[list[str], np.ndarray]) -> None:
    lines, values = big
    text = [lines[0].replace("y", "label") + ",note"]
    kinds = ("low", "mid", "high")
    for i, row in enumerate(values[:20_000]):
        note = '"two\nlines, quoted"' if i % 997 == 0 else ("" if i % 50 == 0 else f"n{i % 3}")
        text.append(",".join(f"{v:.5f}" for v in row[:5]) + f",{kinds[i % 3]},{note}")
        if i % 5000 == 10:
            text.append("")  # blank lines are not rows
            text.append(",,,,,,")  # nor are rows of empty cells
            text.append(" NA ,na,,N/A,?, none,NULL")  # nor rows of gaps only
    path = write(tmp_path / "mixed.csv", text)
    b = load(path, missing="fill", target="label")
    assert b.train_size + b.val_size == 20_000
    assert b.class_names == ["high", "low", "mid"]
    notes = next(f for f in b.encoding["features"] if f["name"] == "note")
    assert notes["categories"] == ["n0", "n1", "n2", "two\nlines, quoted"]
    assert notes["fill"] in ("n0", "n1", "n2")


def test_errors_name_lines_far_into_the_file(tmp_path: Path, big: tuple[list[str], np.ndarray]) -> None:
    lines, _ = big
    row = 70_000  # a data row, as a line number (header = row 1)

    def variant(name: str, change) -> Path:  # noqa: ANN001
        edited = list(lines)
        edited[row - 1] = change(edited[row - 1])
        return write(tmp_path / name, edited)

    assert "row 70000 has 5 fields" in error(variant("ragged.csv", lambda s: s.rsplit(",", 1)[0]))
    # Seven ragged rows, two of them the same text, one a quoted line break; CRLF line ends.
    many = list(lines)
    for at in (500, 900, 40_000, 40_001, 60_000, 80_000, 99_000):
        many[at - 1] = "1,2,3"
    many[90_000 - 1] = '1,"two\nlines",3'
    (tmp_path / "many.csv").write_bytes("\r\n".join(many).encode() + b"\r\n")
    assert ("but row 500 has 3 fields, row 900 has 3 fields, row 40000 has 3 fields, row 40001 has 3 fields, "
            "row 60000 has 3 fields and 3 more;") in error(tmp_path / "many.csv")
    many[500 - 1] = many[900 - 1] = many[40_000 - 1] = many[40_001 - 1] = many[60_000 - 1] = lines[1]
    (tmp_path / "many.csv").write_bytes("\r\n".join(many).encode() + b"\r\n")
    assert "row 80000 has 3 fields, row 90001 has 3 fields, row 99001 has 3 fields;" in error(tmp_path / "many.csv")
    cells = variant("gap.csv", lambda s: ",".join(c if k != 2 else "NA" for k, c in enumerate(s.split(","))))
    assert "1 missing value(s): row 70000 column 'x2'" in error(cells)
    assert load(cells, missing="drop").encoding["dropped_rows"] == 1
    inf = variant("inf.csv", lambda s: ",".join(c if k != 3 else "-inf" for k, c in enumerate(s.split(","))))
    assert "row 70000 column 'x3': infinite value '-inf'" in error(inf)
    typo = variant("typo.csv", lambda s: ",".join(c if k != 1 else "twelve" for k, c in enumerate(s.split(","))))
    msg = error(typo)
    assert "row 70000 column 'x1': 'twelve' is not a number" in msg and "99999 of" in msg
    raw = (tmp_path / "gap.csv").read_bytes().replace(b"NA", b"\xff")
    (tmp_path / "bytes.csv").write_bytes(raw)
    assert "line 70000" in error(tmp_path / "bytes.csv")

    # Lines that are not one row each: a blank line and a quoted line break before the bad row.
    shifted = list(lines)
    shifted[10] = shifted[10] + "\n"
    shifted[row - 1] = ",".join(c if k != 4 else "" for k, c in enumerate(shifted[row - 1].split(",")))
    path = write(tmp_path / "shifted.csv", shifted)
    assert "row 70001 column 'x4'" in error(path)  # the blank line counts as a line
    quoted = list(lines)
    quoted[0] = quoted[0] + ",note"
    quoted[1:] = [f'{s},"n{i % 2}"' for i, s in enumerate(quoted[1:])]
    quoted[30] = quoted[30].replace('"n', '"first line\nn')
    quoted[row - 1] = ",".join(c if k != 0 else "?" for k, c in enumerate(quoted[row - 1].split(",")))
    assert "row 70001 column 'x0'" in error(write(tmp_path / "quoted.csv", quoted))


# ------------------------------------------------------------------------------ text forms

def test_tsv_header_off_and_cell_forms(tmp_path: Path) -> None:
    rows = [(i * 0.5, f" {['red', 'blue'][i % 2]} ", "2024-01-%02d" % (i % 28 + 1), "True" if i % 3 else "false",
             i % 2) for i in range(60)]
    text = "\n".join("\t".join(str(c) for c in r) for r in rows) + "\n"
    (tmp_path / "t.tsv").write_text(text)
    b = load(tmp_path / "t.tsv", header=False)
    assert b.encoding["delimiter"] == "\t" and b.class_names == ["0", "1"]
    names = [f["name"] for f in b.encoding["features"]]
    assert names == ["column_1", "column_2", "column_3", "column_4"]
    kinds = {f["name"]: f for f in b.encoding["features"]}
    assert kinds["column_2"]["categories"] == ["blue", "red"]  # cells are trimmed
    assert kinds["column_3"]["kind"] == "categorical" and kinds["column_3"]["categories"][0] == "2024-01-01"
    assert kinds["column_4"]["categories"] == ["True", "false"]  # as written, not parsed as booleans
    assert b.train_size + b.val_size == 60  # the first line is a row: there is no header
    (tmp_path / "c.txt").write_text(text.replace("\t", ";").replace("2024-01-01", "NA"))
    assert "row 1 column 'column_3'" in error(tmp_path / "c.txt", header=False, delimiter="semicolon")

    # Numbers as Python's float() reads them (spaces, "1_000"); every letter case of every gap token.
    forms = "a,b,y\n" + "".join(f"{v},{m},{i % 2}\n" for i, (v, m) in enumerate(
        [(" 1.5 ", "NA"), ("1_000", "n/a"), ("+2", "None"), (".5", "?"), ("1e3", "NaN"), ("7", "nULl")] * 5))
    (tmp_path / "forms.csv").write_text(forms)
    b = load(tmp_path / "forms.csv", missing="fill")
    a, gaps = b.encoding["features"]
    x = torch.cat([b.train.tensors[0], b.val.tensors[0]]).numpy().astype(np.float64)
    assert a["kind"] == "numeric" and set(np.round(x[:, 0] * a["std"] + a["mean"], 3)) == {0.5, 1.5, 2, 7, 1000}
    assert gaps["kind"] == "numeric" and gaps["fill"] == 0.0 and not x[:, 1].any()
    (tmp_path / "bom.csv").write_bytes(b"\xef\xbb\xbf" + forms.encode())
    assert [f["name"] for f in load(tmp_path / "bom.csv", missing="fill").encoding["features"]] == ["a", "b"]


def test_preview_of_a_large_table_keeps_only_the_first_rows_as_text(tmp_path: Path,
                                                                   big: tuple[list[str], np.ndarray]) -> None:
    lines, _ = big
    edited = [lines[0] + ",unit"] + [f"{s},kg" for s in lines[1:]]
    edited[3] = edited[3].replace(",", ", ", 1)  # shown trimmed, as before
    write(tmp_path / "p.csv", edited)
    p = preview_dataset(DatasetSpec("csv", "p.csv", {"target": "y"}), tmp_path)
    assert p.header == [*NAMES, "unit"] and p.target_column == "y" and p.constant_columns == ["unit"]
    assert len(p.rows) == PREVIEW_ROWS and p.rows[0] == lines[1].split(",") + ["kg"]
    assert p.rows[2][1] == lines[3].split(",")[1]
    assert p.row_labels[:3] == ["2", "3", "4"]
    (tmp_path / "q.csv").write_text("k,v,label\n" + "".join(f"{1 if i % 2 else '1.0'},{i},{'ab'[i % 2]}\n" for i in range(300)))
    assert preview_dataset(DatasetSpec("csv", "q.csv"), tmp_path).constant_columns == ["k"]


# ------------------------------------------------------------------------------- Parquet

def _columns(n: int = 200) -> dict[str, list]:
    rng = np.random.default_rng(3)
    return {
        "size": [None if i % 17 == 0 else float(np.round(v, 4)) for i, v in enumerate(rng.normal(size=n))],
        "count": [int(v) for v in rng.integers(0, 50, n)],
        "colour": [["red", "green", "blue"][i % 3] for i in range(n)],
        "flag": [bool(i % 4) for i in range(n)],
        "label": [["yes", "no"][int(v > 0)] for v in rng.normal(size=n)],
    }


def test_parquet_loads_like_the_same_csv(tmp_path: Path) -> None:
    data = _columns()

    def cell(value: object) -> str:
        return "" if value is None else ("true" if value is True else "false" if value is False else str(value))

    names = list(data)
    rows = zip(*data.values())
    (tmp_path / "t.csv").write_text(",".join(names) + "\n" + "".join(",".join(cell(v) for v in r) + "\n" for r in rows))
    pq.write_table(pa.table(data), tmp_path / "t.parquet")
    csv_bundle = load(tmp_path / "t.csv", missing="fill")
    parquet_bundle = load(tmp_path / "t.parquet", missing="fill")
    for a, b in ((csv_bundle.train, parquet_bundle.train), (csv_bundle.val, parquet_bundle.val)):
        assert all(torch.equal(s, t) for s, t in zip(a.tensors, b.tensors))
    assert parquet_bundle.class_names == csv_bundle.class_names == ["no", "yes"]
    assert parquet_bundle.normalization == csv_bundle.normalization
    assert parquet_bundle.encoding["features"] == csv_bundle.encoding["features"]
    assert parquet_bundle.encoding["features"][3]["categories"] == ["false", "true"]
    assert parquet_bundle.encoding["delimiter"] is None and csv_bundle.encoding["delimiter"] == ","
    # Recognised by its content, whatever the file is called.
    (tmp_path / "export.dat").write_bytes((tmp_path / "t.parquet").read_bytes())
    assert torch.equal(load(tmp_path / "export.dat", missing="fill").train.tensors[0], parquet_bundle.train.tensors[0])

    p = preview_dataset(DatasetSpec("csv", "t.parquet", {"missing": "fill"}), tmp_path)
    assert p.header == names and p.row_labels[:2] == ["2", "3"]
    assert p.rows[0] == [cell(data[n][0]) for n in names]


def test_parquet_errors(tmp_path: Path) -> None:
    data = _columns()
    pq.write_table(pa.table(data), tmp_path / "gaps.parquet")
    assert "Parquet file" in (msg := error(tmp_path / "gaps.parquet")) and "row 2 column 'size'" in msg
    nan = dict(data, size=[float("nan") if v is None else v for v in data["size"]])
    pq.write_table(pa.table(nan), tmp_path / "nan.parquet")
    assert "row 2 column 'size'" in error(tmp_path / "nan.parquet")  # NaN is a gap, as "nan" in a CSV
    assert "'delimiter'" in error(tmp_path / "gaps.parquet", delimiter=";")
    assert "'header'" in error(tmp_path / "gaps.parquet", header=False)
    nested = dict(data, tags=[[i, i + 1] for i in range(200)], label=data["label"])
    pq.write_table(pa.table(nested), tmp_path / "nested.parquet")
    assert "'tags'" in error(tmp_path / "nested.parquet", missing="fill", target="label")
    assert load(tmp_path / "nested.parquet", missing="fill", target="label", ignore=["tags"]).input_shape == (7,)
    (tmp_path / "cut.parquet").write_bytes((tmp_path / "gaps.parquet").read_bytes()[:300])
    assert "cannot be read" in error(tmp_path / "cut.parquet")


def test_command_line_takes_a_parquet_file_as_a_table(tmp_path: Path) -> None:
    import argparse

    from workbench.cli import _data_override

    pq.write_table(pa.table(_columns()), tmp_path / "t.parquet")
    args = argparse.Namespace(data=str(tmp_path / "t.parquet"), target="label", image_size=None)
    spec = _data_override(args)
    assert (spec.source, spec.options) == ("csv", {"target": "label"})
    bundle = load_dataset(DatasetSpec(spec.source, spec.path, {**spec.options, "missing": "fill"}))
    assert bundle.class_names == ["no", "yes"] and bundle.input_shape == (7,)


@pytest.mark.parametrize("kind", ["csv", "parquet"])
def test_a_row_without_any_value_is_not_a_sample(tmp_path: Path, kind: str) -> None:
    rows = [(1.0, "x", "p"), (None, None, None), (2.0, None, "q")] + [(float(i), "xy"[i % 2], "pq"[i % 2]) for i in range(30)]
    if kind == "csv":
        path = tmp_path / "t.csv"
        path.write_text("a,b,y\n" + "".join(",".join("NA" if v is None else str(v) for v in r) + "\n" for r in rows))
    else:
        path = tmp_path / "t.parquet"
        pq.write_table(pa.table({"a": [r[0] for r in rows], "b": [r[1] for r in rows], "y": [r[2] for r in rows]}), path)
    # The empty row keeps its line (3): the next row is line 4, as an editor shows the CSV.
    assert "1 missing value(s): row 4 column 'b'" in error(path)
    b = load(path, missing="drop")
    assert b.train_size + b.val_size == 31 and b.encoding["dropped_rows"] == 1  # 33 rows, one empty
