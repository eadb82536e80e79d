"""Start-up order: what the window needs loads without torch, and a worker's heavy modules are
imported on the GUI thread before its thread starts (workbench/gui/preload.py)."""

from __future__ import annotations

import subprocess
import sys

from PySide6.QtCore import QThread
from PySide6.QtWidgets import QLabel

from workbench.gui import preload
from workbench.gui.app import ensure_app


def _run(code: str) -> str:
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_window_modules_and_gallery_listing_need_no_torch() -> None:
    code = (
        "import sys\n"
        "import workbench.training.devices, workbench.gui.training.memory\n"
        "from workbench.presets import list_presets\n"
        "assert all(p.parameters is None for p in list_presets(parameters=False))\n"
        "print('torch' in sys.modules)\n"
    )
    assert _run(code) == "False"


def test_parameter_count_needs_no_dynamo() -> None:
    """The gallery's counts build the networks but never run them: torch._dynamo (~1.5 s) stays out."""
    code = (
        "import sys\n"
        "from workbench.presets import list_presets\n"
        "counts = {p.name: p.parameters for p in list_presets()}\n"
        "assert counts['digits-cnn'] == 13706, counts\n"
        "print('torch._dynamo' in sys.modules)\n"
    )
    assert _run(code) == "False"


def test_ensure_imported_reports_failures_and_skips_loaded_modules() -> None:
    ensure_app()
    assert preload.ensure_imported("json", "workbench.gui.preload") == []
    assert preload.ensure_imported("no_such_module_for_workbench", busy_cursor=True) == ["no_such_module_for_workbench"]


def test_training_threads_are_made_after_their_imports() -> None:
    ensure_app()
    from workbench.gui.training.worker import BackgroundTask, make_thread

    task = BackgroundTask(lambda: None)
    thread = make_thread(task, task.run, "workbench-test")
    try:
        assert all(name in sys.modules for name in preload.TRAINING_MODULES)
    finally:
        thread.start()
        assert thread.wait(10_000)
    assert isinstance(thread, QThread)


def test_after_first_paint_waits_for_the_paint(qtbot) -> None:  # noqa: ANN001
    ensure_app()
    calls: list[str] = []
    label = QLabel("painted")
    qtbot.addWidget(label)
    preload.after_first_paint(label, lambda: calls.append("done"))
    qtbot.wait(20)
    assert calls == []  # not shown yet: nothing painted
    label.show()
    qtbot.waitUntil(lambda: calls == ["done"], timeout=5000)
    label.update()
    qtbot.wait(50)
    assert calls == ["done"]  # once only
