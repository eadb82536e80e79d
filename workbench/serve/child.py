"""`python -m workbench.serve.child TARGET [options]`: `workbench serve` as the desktop app starts it.

The same command, plus one duty: the server ends when its standard input does. The app holds the
other end of that pipe, so when the app quits, or dies without a word, the pipe closes and the
server drains its requests and exits (SIGTERM to itself) instead of living on as an orphan.
"""

from __future__ import annotations

import os
import signal
import sys
import threading


def _end_with_stdin() -> None:
    # os.read on the descriptor, not sys.stdin: a daemon thread blocked inside a buffered reader
    # holds its lock, and the interpreter aborts at exit ("could not acquire lock for <stdin>").
    try:
        while os.read(0, 1 << 16):
            pass
    except OSError:
        pass
    # Before serving starts (the run is still being exported) SIGTERM ends the process at once;
    # once serving, `workbench.serve.server` turns it into a drain and a clean exit.
    os.kill(os.getpid(), signal.SIGTERM)


def main(argv: list[str] | None = None) -> int:
    """Serve as `workbench serve ARGS` does, until stopped or until stdin closes."""
    from workbench.cli import main as cli

    threading.Thread(target=_end_with_stdin, name="stdin-watch", daemon=True).start()
    return cli(["serve", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    raise SystemExit(main())
