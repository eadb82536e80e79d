"""Rebuild python_stdlib.txt from the running interpreter's standard library.

Run from the repository root: `python assets/text/make_corpus.py`. The modules below are
pure Python and pure ASCII in CPython 3.11; a module that is not ASCII in another version is
left out (and reported) rather than mangled, so the corpus stays a 7-bit text.
"""

from __future__ import annotations

import sys
import sysconfig
from pathlib import Path

MODULES = [
    "abc.py", "argparse.py", "ast.py", "bisect.py", "collections/__init__.py",
    "configparser.py", "contextlib.py", "copy.py", "csv.py", "dataclasses.py", "datetime.py",
    "difflib.py", "enum.py", "inspect.py", "json/__init__.py", "json/decoder.py",
    "json/encoder.py", "logging/__init__.py", "pathlib.py", "pprint.py", "queue.py",
    "random.py", "shutil.py", "string.py", "subprocess.py", "tempfile.py", "textwrap.py",
    "threading.py", "typing.py",
]


def main() -> None:
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    parts = []
    for name in MODULES:
        raw = (stdlib / name).read_bytes()
        if any(b >= 128 for b in raw):
            sys.stderr.write(f"skipped {name}: not ASCII\n")
            continue
        text = raw.decode("ascii").replace("\r\n", "\n")
        parts.append(f"# ===== Lib/{name} =====\n{text.rstrip()}\n\n")
    out = Path(__file__).with_name("python_stdlib.txt")
    out.write_text("".join(parts), encoding="ascii", newline="\n")
    sys.stderr.write(f"wrote {out} ({out.stat().st_size} bytes, {len(parts)} modules)\n")


if __name__ == "__main__":
    main()
