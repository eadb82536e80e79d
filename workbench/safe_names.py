"""Folder and file names made from names a user typed (a project's name, a run's name).

A name never becomes a path as it is: `../../x` would leave the folder it was meant for, `a/b`
would make two levels, `CON` cannot be created on Windows, and a long name overflows the file
system's limit. `safe_folder_name` keeps what is safe in every file system and replaces the rest:

- letters and digits of any script (and the marks that combine with them), `-`, `_` and `.`
  are kept; every other character (separators, spaces, control characters, `:*?"<>|`) becomes `_`;
- leading and trailing dots are removed (no hidden folders, no `.` or `..`, and Windows drops
  trailing dots anyway);
- Windows' reserved device names (CON, PRN, AUX, NUL, COM1-9, LPT1-9, also before an
  extension: `con.txt`) get a `_` appended;
- the result is cut to MAX_NAME_BYTES bytes of UTF-8, so that a suffix such as a time stamp
  still fits in the 255 bytes most file systems allow.

Nothing usable left (an empty name, `.`, `..`, only dots) is refused, or replaced by `fallback`.
"""

from __future__ import annotations

import re
import unicodedata

from workbench.errors import WorkbenchError

RUN_NAME_FALLBACK = "run"  # run folders of a project whose name has no usable character
MAX_NAME_BYTES = 120  # leaves room for "-20261123-133304-2" and a temporary file's suffix
_KEPT_PUNCTUATION = frozenset("-_.")
_KEPT_CATEGORIES = ("L", "N", "M")  # letters, numbers, combining marks (Devanagari vowel signs, ...)
_WINDOWS_RESERVED = re.compile(r"^(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³])$", re.IGNORECASE)


def safe_folder_name(name: str, *, fallback: str | None = None, max_bytes: int = MAX_NAME_BYTES) -> str:
    """`name` as one folder (or file) name that stays where it is put; see the module docstring.

    Raises WorkbenchError naming `name` when nothing usable is left and no `fallback` is given.
    """
    text = unicodedata.normalize("NFC", str(name))
    cleaned = "".join(ch if _kept(ch) else "_" for ch in text)
    cleaned = _cut(cleaned.strip("."), max_bytes).strip(".")
    if not cleaned or not text.strip():
        if fallback is not None:
            return safe_folder_name(fallback, max_bytes=max_bytes)
        raise WorkbenchError(
            f"the name {name!r} cannot name a folder (nothing is left of it but dots or spaces); "
            f"give it a name with letters or digits"
        )
    stem = cleaned.split(".", 1)[0]
    if _WINDOWS_RESERVED.match(stem):
        cleaned = stem + "_" + cleaned[len(stem):]
    return cleaned


def run_folder_name(project_name: str) -> str:
    """The start of a project's run folder names (runs/<this>-<time>): its name made safe,
    or RUN_NAME_FALLBACK when nothing of it is usable."""
    return safe_folder_name(project_name, fallback=RUN_NAME_FALLBACK)


def _kept(ch: str) -> bool:
    return ch in _KEPT_PUNCTUATION or unicodedata.category(ch).startswith(_KEPT_CATEGORIES)


def _cut(text: str, max_bytes: int) -> str:
    """The longest prefix of `text` whose UTF-8 form fits in `max_bytes` (never half a character)."""
    encoded = text.encode("utf-8")
    if len(encoded) <= max_bytes:
        return text
    return encoded[:max_bytes].decode("utf-8", errors="ignore")


__all__ = ["MAX_NAME_BYTES", "RUN_NAME_FALLBACK", "run_folder_name", "safe_folder_name"]
