"""A listener that records a run on disk: `metrics.jsonl` (one event per line) and `summary.json`.

metrics.jsonl is appended through a buffer and flushed at every epoch end and at the finish, so
another process (the GUI's run browser, `tail -f`) can follow a growing file without the writer
touching the disk at every step. With `flush_interval_s` it is also flushed when that much time
has passed since the last flush, so a follower of a distributed job (jobs.follow_metrics) sees
step records while an epoch is still running. summary.json is written atomically when the run ends.
Non-finite numbers are written as null: JSON has no NaN.
"""

from __future__ import annotations

import json
import logging
import math
import os
import tempfile
import time
from pathlib import Path
from typing import IO, Any

from workbench.training.events import EpochEvent, Event, FailedEvent, FinishedEvent, StepEvent

log = logging.getLogger(__name__)

METRICS_NAME = "metrics.jsonl"
SUMMARY_NAME = "summary.json"


def _finite(value: Any) -> Any:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


def write_json_atomic(path: Path, data: Any) -> None:
    """Write JSON so that a reader sees the old file or the new one, never a half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(_finite(data), f, indent=2, allow_nan=False)
            f.write("\n")
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


class RunWriter:
    """Listener: `Trainer(..., listeners=[RunWriter(run_dir)])`."""

    def __init__(self, run_dir: str | os.PathLike[str], flush_interval_s: float | None = None) -> None:
        self.run_dir = Path(run_dir)
        self.metrics_path = self.run_dir / METRICS_NAME
        self.summary_path = self.run_dir / SUMMARY_NAME
        self.flush_interval_s = flush_interval_s  # None: flush at epoch ends and the finish only
        self._file: IO[str] | None = None
        self._flushed_at = 0.0

    def __call__(self, event: Event) -> None:
        if self._file is None:
            self.run_dir.mkdir(parents=True, exist_ok=True)
            # Append: a resumed run continues the same file.
            self._file = open(self.metrics_path, "a", encoding="utf-8")
        self._file.write(json.dumps(_finite(event.to_dict()), allow_nan=False))
        self._file.write("\n")
        if isinstance(event, EpochEvent):
            self._file.flush()
            self._flushed_at = time.monotonic()
        elif self.flush_interval_s is not None and isinstance(event, StepEvent):
            now = time.monotonic()
            if now - self._flushed_at >= self.flush_interval_s:
                self._file.flush()
                self._flushed_at = now
        elif isinstance(event, (FinishedEvent, FailedEvent)):
            summary = dict(event.summary)
            summary["status"] = "failed" if isinstance(event, FailedEvent) else event.status
            if isinstance(event, FailedEvent):
                summary["message"] = event.message
            self.close()
            write_json_atomic(self.summary_path, summary)

    def close(self) -> None:
        """Flush and close metrics.jsonl (the finish event does this too)."""
        if self._file is not None:
            self._file.close()
            self._file = None
