"""Regression tests: damaged data files that once escaped the readers as non-DataError exceptions.

Found by the property tests in test_readers_fuzz.py.
"""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest

from workbench.data import DatasetSpec, load_dataset
from workbench.errors import DataError


DATA = np.arange(6, dtype=np.float32).tobytes()


def _npy(header: bytes) -> bytes:
    """A version 1.0 .npy file of six float32 values with this header text."""
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header + DATA


@pytest.mark.parametrize(
    "header",
    [
        # numpy's header parser raised tokenize.TokenError (unclosed brackets)
        b"{'descr': '<f4', 'fortran_order': False, 's2, 3), }" + b" " * 60 + b"\n",
        # parsed only by numpy's Python 2 fallback, which warned ("save it again") and failed
        b"{'\x01descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }\n" + b" " * 60,
    ],
    ids=["unclosed", "python 2 fallback"],
)
def test_npy_with_a_damaged_header_is_a_data_error(tmp_path: Path, header: bytes) -> None:
    (tmp_path / "x.npy").write_bytes(_npy(header))
    (tmp_path / "y.npy").write_bytes(_npy(b"{'descr': '<f4', 'fortran_order': False, 'shape': (6,), }" + b" " * 60 + b"\n"))
    spec = DatasetSpec(source="npz", path="x.npy", options={"labels": "y.npy"})
    with pytest.raises(DataError, match=r"x.npy (is not a valid .npy file|cannot be read as a NumPy array)"):
        load_dataset(spec, tmp_path)


@pytest.mark.parametrize("content", [",", ",,\n , \n", "\n\n;\n"])
def test_csv_of_only_blank_fields_is_a_data_error(tmp_path: Path, content: str) -> None:
    (tmp_path / "t.csv").write_text(content)
    with pytest.raises(DataError, match=r"t.csv holds only blank lines or empty fields"):
        load_dataset(DatasetSpec(source="csv", path="t.csv"), tmp_path)
