"""Documentation screenshots of training: `python -m workbench.gui.training.screenshots docs/`.

- training.png: the CNN preset training on the CPU, grabbed mid-run (curves moving, progress,
  the editor read-only);
- results.png: the same run finished: confusion matrix, per-class accuracy, samples;
- compare.png: a second run with a higher learning rate overlaid on the first.

Runs are written to a temporary folder, not next to the docs. Works under Xvfb or with
QT_QPA_PLATFORM=offscreen; every window is rendered at 1440×900.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

from PySide6.QtCore import QEventLoop, QTimer
from PySide6.QtWidgets import QApplication

MID_RUN_EPOCHS = 6  # training.png is taken once this many epochs are done (of the preset's 15)


def _grab(window, path: Path) -> None:  # noqa: ANN001
    from workbench.gui.screenshots import SIZE
    from PySide6.QtCore import Qt

    for _ in range(4):
        QApplication.processEvents()
    image = window.grab().toImage()
    if image.size() != SIZE:
        image = image.scaled(SIZE, Qt.AspectRatioMode.IgnoreAspectRatio, Qt.TransformationMode.SmoothTransformation)
    image.save(str(path), "PNG")
    print(path)


def wait_until(condition, timeout_ms: int = 300_000) -> bool:  # noqa: ANN001
    """Run the event loop until `condition()` holds or `timeout_ms` passes; whether it holds."""
    loop = QEventLoop()
    timer = QTimer()
    timer.setInterval(20)
    timer.timeout.connect(lambda: loop.quit() if condition() else None)
    timer.start()
    QTimer.singleShot(timeout_ms, loop.quit)
    loop.exec()
    timer.stop()
    return bool(condition())


def make_all(out: Path) -> None:
    from workbench.gui.screenshots import _window

    window = _window()
    panel = window.training
    panel.interactive = False
    window.open_preset("digits-cnn")
    window.session.flush()
    window.view.fit(min_zoom=0.75)
    assert window.train(), panel.progress.status.text()
    wait_until(lambda: panel.series is not None and panel.series.epoch_count() >= MID_RUN_EPOCHS
                and panel.series.step_count() > panel.series.epoch_step.last(0) + 12)
    _grab(window, out / "training.png")
    outcome = panel.wait_for_run()
    assert outcome is not None and outcome.ok, outcome
    wait_until(lambda: panel.results.results is not None, 60_000)
    window.results_dock.raise_()
    _grab(window, out / "results.png")

    # A second run, learning rate x5, compared with the first.
    panel.form.edit("training.lr", window.session.project.training.lr * 5)
    first = str(outcome.run_dir)
    assert window.train()
    panel.wait_for_run()
    panel.runs.set_checked(first, True, notify=True)
    window.curves_dock.raise_()
    window.training_dock.raise_()
    _grab(window, out / "compare.png")
    window.session.undo_stack.setClean()
    window._force_dirty = False
    window.close()
    from workbench.gui.app import dispose

    dispose(window)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="folder for the PNG files (e.g. docs/)")
    args = parser.parse_args(argv)
    out = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    from workbench.gui.app import ensure_app

    app = ensure_app()
    with tempfile.TemporaryDirectory() as tmp:
        os.environ.setdefault("WORKBENCH_CONFIG_DIR", str(Path(tmp) / "config"))
        previous = Path.cwd()
        os.chdir(tmp)  # the runs go to <tmp>/runs
        try:
            make_all(out)
        finally:
            os.chdir(previous)
    app.processEvents()
    return 0


if __name__ == "__main__":
    sys.exit(main())
