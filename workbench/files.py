"""Atomic file writes: a reader (or a crash) sees the old file or the new one, never half.

Each write goes to a temporary file beside the target, then is renamed over it. A process killed
between the two leaves its temporary file behind, so temporary files carry a name that says
whose they are, `.TARGET.PID.HOST.RANDOM.workbench-tmp`, and every write sweeps the stale ones of
its own target: those of a process that is gone (on this machine), or older than STALE_TEMP_AGE_S
whoever made them. Nothing else is ever deleted: a file must match that exact pattern for that
exact target.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import re
import secrets
import socket
import time
from pathlib import Path
from typing import Any

from workbench.errors import WorkbenchError


log = logging.getLogger(__name__)

TEMP_SUFFIX = ".workbench-tmp"
STALE_TEMP_AGE_S = 24 * 3600.0  # a temporary file of a live or unknown process is kept this long
_LONG_NAME_BYTES = 120  # longer target names are hashed in temporary names (NAME_MAX is 255 bytes)
_TEMP_NAME = re.compile(r"^\.(?P<target>.+)\.(?P<pid>\d+)\.(?P<host>[A-Za-z0-9-]+)\.[0-9a-f]{8}"
                        + re.escape(TEMP_SUFFIX) + "$")


def _host() -> str:
    host = re.sub(r"[^A-Za-z0-9-]", "-", socket.gethostname())[:32].strip("-")
    return host or "host"


_HOST = _host()


def _target_part(name: str) -> str:
    if len(name.encode("utf-8")) <= _LONG_NAME_BYTES:
        return name
    return "h" + hashlib.sha256(name.encode("utf-8", "surrogateescape")).hexdigest()[:20]


def temp_path(target: str | os.PathLike[str]) -> Path:
    """A fresh temporary file's path for an atomic write of `target`, in the same folder."""
    target = Path(target)
    return target.with_name(f".{_target_part(target.name)}.{os.getpid()}.{_HOST}."
                            f"{secrets.token_hex(4)}{TEMP_SUFFIX}")


def sweep_temp_files(target: str | os.PathLike[str], max_age_s: float = STALE_TEMP_AGE_S) -> list[Path]:
    """Remove the temporary files that interrupted atomic writes of `target` left behind.

    A file is removed only when its name is `temp_path`'s pattern for this very target, and its
    process is gone (same machine, POSIX) or it is older than `max_age_s`. A live writer's file,
    including one of this process (another thread may be writing), is left alone. Returns what
    was removed; never raises for a file it cannot read or remove.
    """
    target = Path(target)
    part = _target_part(target.name)
    removed: list[Path] = []
    try:
        entries = list(os.scandir(target.parent))
    except OSError:
        return removed
    now = time.time()
    for entry in entries:
        match = _TEMP_NAME.match(entry.name)
        if match is None or match["target"] != part:
            continue
        try:
            age = now - entry.stat(follow_symlinks=False).st_mtime
            if age < max_age_s and not _writer_is_gone(int(match["pid"]), match["host"]):
                continue
            os.unlink(entry.path)
        except OSError:
            continue  # gone meanwhile, or not ours to remove
        removed.append(Path(entry.path))
    if removed:
        log.info("removed %d temporary file(s) of %s left by interrupted writes", len(removed), target)
    return removed


def _writer_is_gone(pid: int, host: str) -> bool:
    """True only when the process that made a temporary file has certainly ended."""
    if host != _HOST or pid == os.getpid() or os.name != "posix":
        # Another machine's pids mean nothing here (a shared folder); on Windows os.kill would
        # terminate the process rather than probe it.
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:
        return False  # it exists (PermissionError: another user's)
    try:  # Linux: a killed child its parent has not yet reaped is a zombie, gone for our purpose
        stat = Path(f"/proc/{pid}/stat").read_text()
        return stat.rpartition(")")[2].split()[0] == "Z"
    except (OSError, IndexError):
        return False


def write_bytes_atomic(path: str | os.PathLike[str], data: bytes, durable: bool = True) -> Path:
    """Write to a temporary file in the same folder, fsync, then rename over `path`.

    `durable=False` skips the fsync (a few ms to tens of ms on a busy disk): readers still see the
    old file or the new one, but after a power cut the new one may be empty. Only for files
    whose loss costs nothing. Stale temporary files of earlier, interrupted writes of `path` are
    removed first (see `sweep_temp_files`).
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    sweep_temp_files(target)
    tmp = temp_path(target)
    # 0o666 less the umask, as for any new file (mkstemp's 0o600 made saved projects private).
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            if durable:
                os.fsync(fh.fileno())  # the rename must not overtake the data after a power cut
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def write_text_atomic(path: str | os.PathLike[str], text: str) -> Path:
    """UTF-8 text, atomically; WorkbenchError, and nothing written, if the text is not Unicode."""
    try:
        data = text.encode("utf-8")
    except UnicodeEncodeError as exc:
        # A lone surrogate (from a JSON "\ud800" escape or an undecodable file name): no UTF-8
        # file can hold it, and writing it escaped would change the text behind the user's back.
        where = os.fsdecode(path).encode("utf-8", "backslashreplace").decode("utf-8")
        raise WorkbenchError(
            f"{where}: cannot be saved: its text holds U+{ord(text[exc.start]):04X} at character {exc.start},"
            " half of a UTF-16 surrogate pair on its own — remove that character"
        ) from None
    return write_bytes_atomic(path, data)


def write_json_atomic(path: str | os.PathLike[str], data: Any) -> Path:
    """Indented JSON, atomically; NaN and infinities become null (JSON has neither)."""
    return write_text_atomic(path, json.dumps(finite_json(data), indent=2, allow_nan=False, ensure_ascii=False) + "\n")


def finite_json(value: Any) -> Any:
    """The value with every NaN or infinity replaced by None, for JSON."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: finite_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite_json(v) for v in value]
    return value
