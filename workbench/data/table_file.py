"""A table file read into typed columns: CSV/TSV through pyarrow's parser, or Parquet.

The whole file goes to `pyarrow.csv` (C++, multithreaded); each column is then typed with
pyarrow.compute and numpy on its distinct values (its dictionary), never with a Python loop
over rows. The rules:

- cells are trimmed; MISSING_TOKENS (in any letter case) mark a missing cell;
- a column is numeric when every present cell is a number as Python's `float()` reads it,
  otherwise its trimmed texts are categories; an infinite number is refused with its row;
- a row without any value (every cell blank or a missing token) is not a sample, as a blank
  line is not (a row of gaps only used to count as a row with missing values);
- rows are named by the file's line number, the header being row 1, as an editor shows them.

Rows with another field count than the header's are read past and named afterwards
(`_refuse_ragged`); whatever else pyarrow refuses (a stray quote, bytes that are not UTF-8)
goes to `_parse_slowly`, Python's csv module over the whole text, which names the offending row
or reads what pyarrow would not. Line numbers are only looked up for a message: from the first
rows (parsed as text for the preview anyway), by arithmetic when every line of the file is one
row, or by scanning the text.

A Parquet file (recognised by its magic bytes, whatever its name) is typed by the same rules:
its numbers are numbers (NaN is missing, as the text "nan" is in a CSV), its text, booleans and
dates are categories; its rows are numbered as the same table saved as CSV would be.

pyarrow is imported by the functions that read, not with the module: listing the readers or
loading another kind of data does not pay for it.
"""

from __future__ import annotations

import csv
import io
import itertools
import logging
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from workbench.data.paths import read_bytes
from workbench.data.text import decode_utf8
from workbench.errors import DataError

if TYPE_CHECKING:
    import pyarrow as pa

log = logging.getLogger(__name__)

MISSING_TOKENS = frozenset({"", "na", "n/a", "nan", "null", "none", "?"})
DELIMITERS = (",", "\t", ";", "|")  # preference order when the header is ambiguous
HEAD_ROWS = 100  # first rows kept as text (the preview shows them; their line numbers are exact)
MAX_LISTED = 5  # rows named in one message before "and N more"
PARQUET_MAGIC = b"PAR1"
_SNIFF_BYTES = 1 << 16  # the start of the file that the delimiter is chosen from


def listing(items: list[str], total: int | None = None) -> str:
    """The first MAX_LISTED items, then "and N more" up to `total` (default: len(items))."""
    total = len(items) if total is None else total
    more = f" and {total - MAX_LISTED} more" if total > MAX_LISTED else ""
    return ", ".join(items[:MAX_LISTED]) + more


def _case_variants(token: str) -> list[str]:
    return ["".join(chars) for chars in itertools.product(*({c.lower(), c.upper()} for c in token))]


# pyarrow matches null values exactly: every letter case of every token ("NA", "Na", "nA", ...),
# and the empty cell. A cell with spaces around a token stays text: `_text_column` trims it.
_NULL_VALUES = sorted({v for token in MISSING_TOKENS for v in _case_variants(token)})


def _is_empty(cells: list[str]) -> bool:
    """No value in the row: every cell blank or a missing token (a blank line has no cell)."""
    return all(cell.strip().lower() in MISSING_TOKENS for cell in cells)


@dataclass
class Column:
    """One column, typed: numbers (NaN where missing) or category codes (-1 where missing)."""

    name: str
    index: int
    missing: np.ndarray  # bool per row
    numbers: np.ndarray | None = None  # float64; None for a text column
    codes: np.ndarray | None = None  # int64 index into `categories`; None for a numeric column
    categories: list[str] = field(default_factory=list)  # a text column's trimmed texts, sorted

    def constant(self) -> bool:
        """Every present cell holds the same value ("1" and "1.0" are the same number)."""
        if self.numbers is not None:
            present = self.numbers[~self.missing]
            return present.size == 0 or bool(present.min() == present.max())
        return len(self.categories) <= 1


class Table:
    """A table file: column names, the first rows as text, and each column typed on demand.

    `head` holds the first HEAD_ROWS rows as the file writes them (trimmed) and `head_lines` their
    line numbers; `column(j)` types column j (once); `line_numbers(rows)` names rows in messages.
    """

    def __init__(self, path: Path, names: list[str], delimiter: str | None, data: list[Any],
                 head: list[list[str]], head_lines: list[int], *, header: bool = True,
                 lines: np.ndarray | None = None, parquet: bool = False) -> None:
        self.path = path
        self.names = names
        self.delimiter = delimiter  # None for Parquet
        self.head = head
        self.head_lines = head_lines
        self.header = header
        self.parquet = parquet
        self.where = f"{'Parquet' if parquet else 'CSV'} file {path}"
        self._data = data  # one pyarrow (Chunked)Array per column
        self._lines = lines
        self._columns: dict[int, Column] = {}

    @property
    def n_rows(self) -> int:
        return len(self._data[0])

    def column(self, j: int) -> Column:
        if j not in self._columns:
            self._columns[j] = _typed_column(self, j, self._data[j])
        return self._columns[j]

    def constant(self, j: int) -> bool:
        return self.column(j).constant()

    def line_numbers(self, rows: np.ndarray | list[int]) -> np.ndarray:
        """The line (header = 1) of each of `rows` (indices of the table's rows)."""
        rows = np.asarray(rows, dtype=np.int64)
        if self._lines is None:
            if rows.size == 0 or int(rows.max()) < len(self.head_lines):
                return np.asarray(self.head_lines, dtype=np.int64)[rows]
            self._lines = self._all_lines()
        return self._lines[rows]

    def cell_text(self, row: int, j: int) -> str:
        """Cell (row, j) as the file writes it, trimmed (for a message: may scan the file)."""
        if row < len(self.head):
            return self.head[row][j]
        if self.parquet:
            return _head_text(self._data[j].slice(row, 1))[0]
        records = _records(_lines_of(self.path), self.delimiter or ",", self.path)
        cells = next(itertools.islice(records, row + int(self.header), None), (0, []))[1]
        return cells[j] if j < len(cells) else ""

    def _all_lines(self) -> np.ndarray:
        first = 2 if self.header else 1
        raw = read_bytes(self.path)
        ends = raw.count(b"\n") + (0 if raw.endswith(b"\n") else 1)
        if b'"' not in raw and raw.count(b"\r") == raw.count(b"\r\n") and ends == self.n_rows + first - 1:
            # No quotes, no lone carriage returns, and as many lines as rows: line i is row i.
            return np.arange(self.n_rows, dtype=np.int64) + first
        text = io.StringIO(decode_utf8(raw, self.path), newline="")
        lines = np.fromiter((line for line, _ in _records(text, self.delimiter or ",", self.path)),
                            dtype=np.int64)[int(self.header):]
        if len(lines) != self.n_rows:  # pyarrow and csv disagree on the rows: name them approximately
            log.debug("%s: %d rows read, %d records scanned", self.where, self.n_rows, len(lines))
            lines = np.concatenate([lines, lines[-1:] + 1 + np.arange(max(0, self.n_rows - len(lines)))])
        return lines[:self.n_rows]


# ----- reading ---------------------------------------------------------------------------------

def read_table(path: Path, delimiter: str | None, header: bool) -> Table:
    """The table in `path`: Parquet if the file says so, otherwise delimited text."""
    start = _start(path)
    if start.startswith(PARQUET_MAGIC):
        return _read_parquet(path, delimiter, header)
    if not start.strip() and not read_bytes(path).strip():
        raise DataError(f"CSV file {path} is empty; it needs a header row and data rows")
    delim = choose_delimiter(start.decode("utf-8-sig", errors="replace"), path, delimiter)
    head, head_lines = _head(path, delim, HEAD_ROWS + int(header))
    if not head:
        raise DataError(f"CSV file {path} holds only blank lines or empty fields; it needs a header row "
                        f"and data rows")
    first = head[0]
    names = _names(first, header, path)
    if header:
        head, head_lines = head[1:], head_lines[1:]
    if not head:
        raise DataError(f"CSV file {path} has a header but no data rows")
    if len(names) < 2:
        raise DataError(
            f"CSV file {path} has a single column {names[0]!r} (delimiter {delim!r}); a table "
            f"needs feature columns and a target column; set option delimiter if it is another"
        )
    data = _read_fast(path, delim, header, first, len(head))
    if data is None:
        return _parse_slowly(path, delim, header)
    return Table(path, names, delim, data, head, head_lines, header=header)


def choose_delimiter(text: str, path: Path, option: str | None) -> str:
    """The option's delimiter, tab for .tsv/.tab, else the commonest of DELIMITERS in the header."""
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


def _start(path: Path) -> bytes:
    try:
        with path.open("rb") as f:
            return f.read(_SNIFF_BYTES)
    except OSError as exc:
        raise DataError(f"cannot read {path}: {exc.strerror or exc}") from exc


def _lines_of(path: Path) -> io.StringIO:
    """The whole file as text lines for Python's csv (a UTF-8 error names its byte and line)."""
    return io.StringIO(decode_utf8(read_bytes(path), path), newline="")


def _records(lines: Iterable[str], delim: str, path: Path) -> Iterator[tuple[int, list[str]]]:
    """(line number, trimmed cells) of each record with a value, as Python's csv reads it."""
    reader = csv.reader(lines, delimiter=delim)
    try:
        for row in reader:
            if not _is_empty(row):  # blank lines, and rows without a value, are not samples
                yield reader.line_num, [cell.strip() for cell in row]
    except csv.Error as exc:
        raise DataError(f"CSV file {path} row {reader.line_num}: {exc}") from exc


def _head(path: Path, delim: str, count: int) -> tuple[list[list[str]], list[int]]:
    """The first `count` records and their lines, read from the start of the file only."""
    rows: list[list[str]] = []
    lines: list[int] = []
    try:
        with path.open(encoding="utf-8-sig", newline="") as f:
            for line, cells in itertools.islice(_records(f, delim, path), count):
                rows.append(cells)
                lines.append(line)
    except UnicodeDecodeError as exc:
        _lines_of(path)  # raises the DataError that names the byte and its line
        raise DataError(f"{path} is not UTF-8 text; re-save the file as UTF-8") from exc
    except OSError as exc:
        raise DataError(f"cannot read {path}: {exc.strerror or exc}") from exc
    return rows, lines


def _names(first: list[str], header: bool, path: Path, what: str = "CSV") -> list[str]:
    if not header:
        return [f"column_{j + 1}" for j in range(len(first))]
    names = [n or f"column_{j + 1}" for j, n in enumerate(first)]
    dupes = sorted(name for name, count in Counter(names).items() if count > 1)
    if dupes:
        raise DataError(f"{what} file {path}: the header names column(s) "
                        f"{', '.join(repr(d) for d in dupes)} more than once; rename them")
    return names


def _read_csv(path: Path, read: Any, parse: Any, convert: Any) -> pa.Table:
    import pyarrow as pa
    import pyarrow.csv as pv

    # An input stream without decompression: a file is read as the bytes it holds, whatever
    # its name ends with (the text reader and the messages see the same bytes).
    with pa.input_stream(str(path), compression=None) as stream:
        return pv.read_csv(stream, read_options=read, parse_options=parse, convert_options=convert)


def _read_fast(path: Path, delim: str, header: bool, first: list[str], head_rows: int) -> list[Any] | None:
    """The columns as pyarrow reads them; None where pyarrow refuses the file or reads it
    otherwise than Python's csv module does (the caller then parses it slowly)."""
    import pyarrow as pa
    import pyarrow.csv as pv

    ragged: list[Any] = []
    newlines = False

    def on_invalid(row: Any) -> str:
        text = row.text or ""
        if _is_empty(next(csv.reader([text], delimiter=delim), [])):
            return "skip"  # a line of spaces or of bare delimiters: no sample
        if '"' in text and not newlines:
            return "error"  # maybe a quoted line break that the fast chunking cut: read again
        ragged.append(row)
        return "skip"  # the whole file is read once; the rows are named afterwards

    convert = pv.ConvertOptions(null_values=_NULL_VALUES, strings_can_be_null=True,
                                true_values=[], false_values=[])  # true/false stay text, as before
    table = parse = None
    for newlines in (False, True):  # quoted line breaks need slower chunking: only when met
        parse = pv.ParseOptions(delimiter=delim, newlines_in_values=newlines, invalid_row_handler=on_invalid)
        ragged.clear()
        try:
            table = _read_csv(path, pv.ReadOptions(autogenerate_column_names=not header), parse, convert)
            break
        except (pa.ArrowException, ValueError, UnicodeError, OSError, csv.Error) as exc:
            log.debug("%s: pyarrow: %s", path, exc)
    if table is None or table.num_columns != len(first) or table.num_rows < head_rows:
        return None
    if ragged:
        _refuse_ragged(path, delim, header, len(first), ragged)
        return None  # Python's csv counts the fields otherwise: let it read the file
    if header and [n.strip() for n in table.column_names] != first:
        return None
    columns: list[Any] = list(table.columns)
    kinds = [_kind(c.type) for c in columns]
    if "binary" in kinds:  # pyarrow keeps bytes that are not UTF-8 as binary
        _lines_of(path)  # raises the DataError that names the byte
        return None
    other = [j for j, kind in enumerate(kinds) if kind != "number" and kind != "text"]
    if other:  # dates, times: pyarrow parsed them, but they are categories as written
        texts = _reread_as_text(path, header, len(first), parse, other)
        if texts is None or len(texts[0]) != table.num_rows:
            return None
        for j, text in zip(other, texts):
            columns[j] = text
            kinds[j] = "text"
    return _drop_rows(columns, _empty_rows(columns))


def _empty_rows(columns: list[Any], nan_is_missing: bool = False) -> np.ndarray:
    """The rows without any value (bare delimiters, as a spreadsheet writes its empty rows).
    Numeric columns are asked first, with a null test; a text column only on the rows still in
    question; one column without a gap ends the search."""
    import pyarrow as pa
    import pyarrow.compute as pc

    none = np.zeros(0, dtype=np.int64)
    order = sorted(range(len(columns)), key=lambda j: _kind(columns[j].type) != "number")
    rows: np.ndarray | None = None  # the rows empty so far; None: all of them
    for j in order:
        c = columns[j] if rows is None else columns[j].take(pa.array(rows))
        kind = _kind(c.type)
        if kind == "number":
            if not c.null_count and not nan_is_missing:
                return none
            gap = pc.is_null(c, nan_is_null=nan_is_missing)
        elif kind == "text":
            token = pc.is_in(pc.utf8_lower(pc.utf8_trim_whitespace(c)), value_set=pa.array(sorted(MISSING_TOKENS)))
            gap = pc.or_(pc.is_null(c), pc.fill_null(token, False))
        else:
            return none  # booleans, dates and other values are never missing
        found = np.flatnonzero(np.asarray(gap.to_numpy(zero_copy_only=False), dtype=bool))
        rows = found if rows is None else rows[found]
        if not len(rows):
            return none
    return none if rows is None else rows


def _drop_rows(columns: list[Any], rows: np.ndarray) -> list[Any]:
    import pyarrow as pa

    if not len(rows):
        return columns
    keep = np.ones(len(columns[0]), dtype=bool)
    keep[rows] = False
    mask = pa.array(keep)
    return [c.filter(mask) for c in columns]


def _refuse_ragged(path: Path, delim: str, header: bool, width: int, rows: list[Any]) -> None:
    """Name the rows pyarrow found with another field count than the header's (`rows`: its
    InvalidRow records, which carry each row's text but, read on threads, not its line).

    Each text is found in the file as a whole line (bytes.find: no parse), so the lines come at
    the cost of one read; where a text cannot be found so, Python's csv counts every row's fields."""
    raw = read_bytes(path)
    fields = {row.text or "": row.actual_columns for row in rows}
    found: list[tuple[int, str]] = []  # (byte offset, text)
    for text, count in Counter(row.text or "" for row in rows).items():
        needle = text.encode("utf-8")
        start = 0
        while count and (at := raw.find(needle, start)) >= 0:
            end = at + len(needle)
            if (at == 0 or raw[at - 1:at] == b"\n") and raw[end:end + 1] in (b"", b"\n", b"\r"):
                found.append((at, text))
                count -= 1
            start = at + 1
        if count:
            _refuse_ragged_slowly(path, delim, header, width)
            return
    found.sort()
    ragged: list[str] = []
    line, counted = 1, 0
    for at, text in found[:MAX_LISTED]:
        line += raw.count(b"\n", counted, at)
        counted = at
        last = line + text.count("\n")  # a record's line is its last one, as Python's csv counts
        ragged.append(f"row {last} has {fields[text]} fields")
    raise DataError(_ragged_message(path, delim, header, width, ragged, len(found)))


def _refuse_ragged_slowly(path: Path, delim: str, header: bool, width: int) -> None:
    reader = csv.reader(_lines_of(path), delimiter=delim)
    ragged: list[str] = []
    try:
        for row in reader:
            if len(row) != width and not _is_empty(row):
                ragged.append(f"row {reader.line_num} has {len(row)} fields")
    except csv.Error as exc:
        raise DataError(f"CSV file {path} row {reader.line_num}: {exc}") from exc
    if ragged:
        raise DataError(_ragged_message(path, delim, header, width, ragged))


def _ragged_message(path: Path, delim: str, header: bool, width: int, ragged: list[str],
                    total: int | None = None) -> str:
    return (f"CSV file {path}: expected {width} fields per row (as in the "
            f"{'header' if header else 'first row'}), but {listing(ragged, total)}; check for a missing "
            f"or extra delimiter {delim!r} or an unclosed quote")


def _reread_as_text(path: Path, header: bool, width: int, parse: Any, js: list[int]) -> list[Any] | None:
    """Columns `js` read again as text (the header, if any, read as a first row and cut off)."""
    import pyarrow as pa
    import pyarrow.csv as pv

    names = [f"c{j}" for j in range(width)]  # unique, whatever the header holds
    convert = pv.ConvertOptions(include_columns=[names[j] for j in js], null_values=_NULL_VALUES,
                                strings_can_be_null=True, column_types={names[j]: pa.string() for j in js})
    try:
        table = _read_csv(path, pv.ReadOptions(column_names=names), parse, convert)
    except (pa.ArrowException, ValueError, UnicodeError, OSError) as exc:
        log.debug("%s: pyarrow: %s", path, exc)
        return None
    return [table.column(names[j]).slice(int(header)) for j in js]


def _parse_slowly(path: Path, delim: str, header: bool) -> Table:
    """Python's csv over the whole text: what pyarrow refused, named row by row (or read)."""
    import pyarrow as pa

    rows: list[list[str]] = []
    lines: list[int] = []
    for line, cells in _records(_lines_of(path), delim, path):
        rows.append(cells)
        lines.append(line)
    names = _names(rows[0], header, path)
    if header:
        rows, lines = rows[1:], lines[1:]
    ragged = [f"row {line} has {len(row)} fields" for row, line in zip(rows, lines) if len(row) != len(names)]
    if ragged:
        raise DataError(_ragged_message(path, delim, header, len(names), ragged))
    data = [pa.array([row[j] for row in rows], pa.string()) for j in range(len(names))]
    return Table(path, names, delim, data, rows[:HEAD_ROWS], lines[:HEAD_ROWS], header=header,
                 lines=np.asarray(lines, dtype=np.int64))


def _read_parquet(path: Path, delimiter: str | None, header: bool) -> Table:
    import pyarrow as pa
    import pyarrow.parquet as pq

    where = f"Parquet file {path}"
    if delimiter is not None:
        raise DataError(f"{where}: option 'delimiter' is for CSV/TSV text; remove it")
    if not header:
        raise DataError(f"{where}: option 'header' is for CSV/TSV text (a Parquet file names its "
                        f"columns itself); remove it")
    try:
        table = pq.read_table(str(path))
    except (pa.ArrowException, OSError, ValueError) as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DataError(f"{where} cannot be read ({reason}); check that it is a whole Parquet file") from exc
    names = _names([n.strip() for n in table.column_names], True, path, "Parquet")
    if table.num_rows == 0:
        raise DataError(f"{where} has columns but no data rows")
    if len(names) < 2:
        raise DataError(f"{where} has a single column {names[0]!r}; a table needs feature columns and "
                        f"a target column")
    data = [_parquet_values(c) for c in table.columns]
    # Rows without any value are left out, as the same table saved as CSV would have them; the
    # others keep the line that CSV would give them (header = 1).
    empty = _empty_rows(data, nan_is_missing=True)
    lines = np.delete(np.arange(table.num_rows, dtype=np.int64) + 2, empty)
    data = _drop_rows(data, empty)
    if not len(lines):
        raise DataError(f"{where} has no row with a value")
    texts = [_head_text(c.slice(0, HEAD_ROWS)) for c in data]
    head = [list(row) for row in zip(*texts)]
    return Table(path, names, None, data, head, lines[:len(head)].tolist(), lines=lines, parquet=True)


def _parquet_values(values: Any) -> Any:
    """A Parquet column as a number or text column where it has a text form (categories,
    booleans, dates and times as their ISO text); other types stay as they are (refused when used)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if pa.types.is_dictionary(values.type):
        values = pc.cast(values, values.type.value_type)
    if _kind(values.type) == "other":
        try:
            return pc.cast(values, pa.string())
        except (pa.ArrowException, ValueError):
            return values
    return values


def _head_text(values: Any) -> list[str]:
    import pyarrow as pa
    import pyarrow.compute as pc

    try:
        return _as_text(pc.cast(values, pa.string()))
    except (pa.ArrowException, ValueError):
        return ["" if v is None else str(v) for v in values.to_pylist()]


def _as_text(values: Any) -> list[str]:
    return ["" if v is None else v.strip() for v in values.to_pylist()]


def _kind(t: Any) -> str:
    """number, text, binary (bytes that are not UTF-8), other (a type with a text form), or unsupported."""
    import pyarrow as pa

    if pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_decimal(t) or pa.types.is_null(t):
        return "number"
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return "text"
    if pa.types.is_binary(t) or pa.types.is_large_binary(t):
        return "binary"
    if pa.types.is_boolean(t) or pa.types.is_temporal(t):
        return "other"
    return "unsupported"


# ----- typing ----------------------------------------------------------------------------------

def _typed_column(table: Table, j: int, values: Any) -> Column:
    kind = _kind(values.type)
    if kind == "number":
        return _number_column(table, j, values)
    if kind == "text":
        return _text_column(table, j, values)
    name = table.names[j]
    raise DataError(f"{table.where}: column {name!r} holds {values.type} values, neither numbers nor "
                    f"text; leave it out with option ignore: [{name!r}]")


def _number_column(table: Table, j: int, values: Any) -> Column:
    import pyarrow as pa
    import pyarrow.compute as pc

    numbers = np.asarray(pc.cast(values, pa.float64()).to_numpy(zero_copy_only=False), dtype=np.float64)
    if values.null_count:
        missing = np.asarray(pc.is_null(values).to_numpy(zero_copy_only=False), dtype=bool)
    else:
        missing = np.zeros(len(numbers), dtype=bool)
    finite = np.isfinite(numbers)
    if not finite.all():  # gaps (NaN), or an infinity or NaN written in the file
        if table.parquet:
            missing |= np.isnan(numbers)  # NaN is a gap in Parquet, as the text "nan" is in a CSV
        bad = np.flatnonzero(~finite & ~missing)
        if bad.size:
            row = int(bad[0])
            _refuse_infinite(table, j, row, table.cell_text(row, j))
    return Column(table.names[j], j, missing, numbers=numbers)


def _refuse_infinite(table: Table, j: int, row: int, text: str) -> None:
    line = int(table.line_numbers([row])[0])
    raise DataError(f"{table.where} row {line} column {table.names[j]!r}: infinite value {text!r}; replace it")


def _text_column(table: Table, j: int, values: Any) -> Column:
    """Typed through the column's dictionary: trimming, missing tokens, numbers and categories
    are decided once per distinct text, then spread to the rows with one gather."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    encoded = pc.dictionary_encode(values)
    trimmed = pc.utf8_trim_whitespace(encoded.dictionary)
    missing_d = np.asarray(pc.is_in(pc.utf8_lower(trimmed), value_set=pa.array(sorted(MISSING_TOKENS)))
                           .to_numpy(zero_copy_only=False), dtype=bool)
    index = np.asarray(pc.fill_null(encoded.indices, -1).to_numpy(zero_copy_only=False), dtype=np.int64)
    missing = np.append(missing_d, True)[index]  # index -1 (a null token) is missing
    numbers_d = _as_numbers(trimmed, ~missing_d)
    if numbers_d is not None:
        bad_d = ~missing_d & ~np.isfinite(numbers_d)
        if bad_d.any():
            row = int(np.flatnonzero(np.append(bad_d, False)[index])[0])
            _refuse_infinite(table, j, row, trimmed[int(index[row])].as_py())
        return Column(table.names[j], j, missing, numbers=np.append(numbers_d, np.nan)[index])
    present = trimmed.filter(pa.array(~missing_d))
    categories = pc.unique(present)
    categories = categories.take(pc.array_sort_indices(categories))  # code-point order, as sorted()
    category_d = np.asarray(pc.fill_null(pc.index_in(trimmed, value_set=categories), -1)
                            .to_numpy(zero_copy_only=False), dtype=np.int64)
    category_d[missing_d] = -1
    codes = np.append(category_d, -1)[index]
    return Column(table.names[j], j, missing, codes=codes, categories=categories.to_pylist())


def _as_numbers(texts: Any, present: np.ndarray) -> np.ndarray | None:
    """Each text as a float64 (NaN where not present), or None if a present one is no number as
    Python's float() reads it (pyarrow's parser first; Python's only where pyarrow refuses,
    e.g. "1_000")."""
    import pyarrow as pa
    import pyarrow.compute as pc

    out = np.full(len(texts), np.nan)
    chosen = texts.filter(pa.array(present))
    if len(chosen) == 0:
        return out  # no cell at all: a numeric column of gaps, as before
    try:
        numbers = np.asarray(pc.cast(chosen, pa.float64()).to_numpy(zero_copy_only=False), dtype=np.float64)
    except (pa.ArrowInvalid, ValueError):
        try:
            numbers = np.array([float(v) for v in chosen.to_pylist()], dtype=np.float64)
        except ValueError:
            return None
    out[present] = numbers
    return out
