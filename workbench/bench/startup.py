"""Start-up: from process start to the main window shown, with a preset open.

    python -m workbench.bench.startup [--quick]

Each run is a fresh `python` process that starts the app the way `workbench open digits-cnn`
does (`workbench.gui.app.run_app("digits-cnn")`), offscreen, with an empty settings folder. An
event filter watches for the first paint of the main window once a project is open in it; at
that moment the child prints the wall-clock time and quits. The parent takes the time just
before it starts the process, so interpreter start-up and every import count. The first run
is a warm-up (disk cache, bytecode cache), then the median of the rest is reported.

Bytecode: this machine sets PYTHONDONTWRITEBYTECODE=1, which makes every start compile
Workbench's own sources again (~0.25 s here); the children run without it, so they write
`__pycache__/` beside the sources (ignored by git) and use it, as an installed app does. Also
reported: whether torch had been imported when the window appeared, and the time to the first
paint of any window.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from workbench.bench.common import median, run_alone

PRESET = "digits-cnn"
TIMEOUT_S = 120

# Runs in the child. Kept to the app's own entry point plus the watcher: everything the app
# imports is on the clock.
CHILD = r"""
import sys, time
from PySide6.QtCore import QEvent, QObject
from PySide6.QtWidgets import QApplication
from workbench.gui.app import ensure_app, run_app

marks = {}

class Watch(QObject):
    def eventFilter(self, obj, event):
        if event.type() == QEvent.Type.Paint and obj.isWidgetType():
            marks.setdefault("first_paint", time.time())
            window = obj.window()
            if getattr(window, "session", None) is not None and "window" not in marks:
                marks["window"] = time.time()
                marks["torch_loaded"] = "torch" in sys.modules
                QApplication.instance().quit()
        return False

app = ensure_app()
watch = Watch()
app.installEventFilter(watch)
code = run_app(sys.argv[1])
print("WORKBENCH_STARTUP " + __import__("json").dumps(marks), flush=True)
__import__("os")._exit(code)  # the measurement is taken: skip the interpreter's slow teardown
"""


def one_start(preset: str, config_dir: str) -> dict[str, float]:
    env = dict(os.environ)
    env.update({"QT_QPA_PLATFORM": "offscreen", "WORKBENCH_CONFIG_DIR": config_dir})
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    t0 = time.time()
    proc = subprocess.run([sys.executable, "-c", CHILD, preset], cwd=config_dir, env=env, capture_output=True,
                          text=True, timeout=TIMEOUT_S)
    line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("WORKBENCH_STARTUP ")), None)
    marks = json.loads(line.split(" ", 1)[1]) if line else {}
    if "window" not in marks:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-5:]
        raise RuntimeError(f"the app did not show a window with {preset} open (exit {proc.returncode}): " + " | ".join(tail))
    return {"window_s": marks["window"] - t0, "first_paint_s": marks["first_paint"] - t0,
            "torch_loaded": float(bool(marks["torch_loaded"]))}


def measure(quick: bool = False, smoke: bool = False) -> dict[str, float]:
    runs = 1 if smoke else 3 if quick else 7
    warm_up = 0 if smoke else 1
    with tempfile.TemporaryDirectory(prefix="wb-bench-startup-") as tmp:
        results = []
        for i in range(runs + warm_up):
            config = Path(tmp) / f"config{i}"  # empty settings each time: no restored layout, no recovery
            config.mkdir()
            results.append(one_start(PRESET, str(config)))
        results = results[warm_up:]  # the first start warmed the caches
    return {
        "startup_to_window_s": median([r["window_s"] for r in results]),
        "startup_to_first_paint_s": median([r["first_paint_s"] for r in results]),
        "startup_torch_loaded_at_window": max(r["torch_loaded"] for r in results),
    }


if __name__ == "__main__":
    run_alone("startup", __doc__.splitlines()[0])
