"""The documentation screenshots, made reproducibly: `python -m workbench.gui.screenshots docs/`.

Each picture is one state of the newcomer's path through the app (start page, a preset open with
a layer selected, a shape error and its reason, a refused connection, the dark theme, the Data
preview of the digits and of a CSV file with warnings, the gallery of pretrained models). Works under Xvfb or with
QT_QPA_PLATFORM=offscreen; every main window is rendered at 1440×900, a dialog at its own size.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QPointF, QSize, Qt
from PySide6.QtWidgets import QApplication

if TYPE_CHECKING:
    from workbench.data import DatasetSpec

SIZE = QSize(1440, 900)


def _window(dark: bool = False):  # noqa: ANN202
    from workbench.gui import theme
    from workbench.gui.app import ensure_app
    from workbench.gui.main_window import MainWindow
    from workbench.gui.settings import Settings

    theme.apply_theme(ensure_app(), "dark" if dark else "light")
    window = MainWindow(Settings(), restore_layout=False)
    window.autosave_timer.stop()
    window.setAttribute(Qt.WidgetAttribute.WA_DontShowOnScreen, True)
    window.resize(SIZE)
    window.show()
    return window


def _settle(window) -> None:  # noqa: ANN001
    for _ in range(6):
        QApplication.processEvents()
    if window.session is not None:
        window.session.flush()
        window.session.refresh_summary()
    QApplication.processEvents()


def _save(window, path: Path) -> None:  # noqa: ANN001
    _settle(window)
    image = window.grab().toImage()
    if image.size() != SIZE:
        image = image.scaled(SIZE, Qt.AspectRatioMode.IgnoreAspectRatio, Qt.TransformationMode.SmoothTransformation)
    image.save(str(path), "PNG")
    if window.session is not None:
        window.session.undo_stack.setClean()
    window._force_dirty = False
    window.close()
    print(path)


def start_page(out: Path) -> None:
    window = _window()
    window.load_presets()
    _save(window, out / "start-page.png")


def editor(out: Path) -> None:
    window = _window()
    window.open_preset("digits-cnn")
    _settle(window)
    graph = window.session.graph
    conv2 = graph.node_by_name("conv2").id
    window.scene.select_nodes([conv2])
    window.summary_dock.raise_()
    _save(window, out / "editor.png")  # as it opens: fitted, the chain wrapped into rows


def _show_shape_error(window) -> None:  # noqa: ANN001
    """digits-mlp with its Flatten removed, the image wired straight into fc1, fc1 selected."""
    from workbench.gui.commands import ConnectCommand, RemoveCommand

    window.open_preset("digits-mlp")
    graph = window.session.graph
    flatten, fc1, digits = (graph.node_by_name(n).id for n in ("flatten", "fc1", "digits"))
    window.session.push(RemoveCommand(graph, [flatten]))
    window.session.push(ConnectCommand(graph, digits, fc1))
    _settle(window)
    window.scene.select_nodes([fc1])
    window.view.fit()


def shape_error(out: Path) -> None:
    window = _window()
    _show_shape_error(window)
    _save(window, out / "shape-error.png")


def chinese(out: Path) -> None:
    """The shape error in Simplified Chinese: the problem, the inspector's doc and the cards."""
    from workbench.gui.i18n import install_language

    install_language("zh_CN")
    try:
        window = _window()
        window.retranslate()
        _show_shape_error(window)
        _save(window, out / "editor-zh.png")
    finally:
        install_language("en")


def connect_refused(out: Path) -> None:
    window = _window()
    window.open_preset("digits-mlp")
    _settle(window)
    graph = window.session.graph
    window.view.set_zoom(1.0)
    fc2, fc1 = graph.node_by_name("fc2").id, graph.node_by_name("fc1").id
    window.view.center_on_nodes([fc1, fc2])
    scene = window.scene
    # A drag from fc2's output back to fc1's taken input, caught before the mouse is released.
    scene._begin_connection(scene.nodes[fc2].output, scene.nodes[fc2].output.scenePos())
    scene._update_connection(scene.nodes[fc1].inputs["in"].scenePos())
    _save(window, out / "connect-refused.png")


def dark(out: Path) -> None:
    window = _window(dark=True)
    window.open_preset("digits-resnet")
    _settle(window)
    window.auto_layout()
    _settle(window)
    window.session.undo_stack.setClean()
    window.summary_dock.raise_()
    window.scene.select_nodes([window.session.graph.node_by_name("res1_add").id])
    window.view.set_zoom(0.75)
    window.view.centerOn(QPointF(1050, 60))
    _save(window, out / "editor-dark.png")


def _preview_shot(spec: DatasetSpec, base_dir: Path | None, path: Path) -> None:
    """The Data preview dialog alone, at its own size, once its data has loaded."""
    from PySide6.QtCore import QEventLoop

    from workbench.gui import theme
    from workbench.gui.app import ensure_app
    from workbench.gui.data_dialog import DataPreviewDialog

    theme.apply_theme(ensure_app(), "light")
    dialog = DataPreviewDialog()
    dialog.setAttribute(Qt.WidgetAttribute.WA_DontShowOnScreen, True)
    loop = QEventLoop()
    dialog.preview_finished.connect(lambda _outcome: loop.quit())
    dialog.show_spec(spec, base_dir)
    dialog.show()
    loop.exec()  # the result arrives through this loop, so it cannot come before exec()
    for _ in range(4):
        QApplication.processEvents()
    dialog.grab().save(str(path), "PNG")
    dialog.close()
    print(path)


def data_preview(out: Path) -> None:
    from workbench.data import DatasetSpec

    _preview_shot(DatasetSpec("digits"), None, out / "data-preview.png")


def data_preview_table(out: Path) -> None:
    """A made-up sensor log, written here: a constant column and a rare class, so both warnings show."""
    import numpy as np

    from workbench.data import DatasetSpec

    rng = np.random.default_rng(7)
    lines = ["temperature,humidity,site,firmware,status"]
    for i in range(240):
        fault = i % 12 == 5  # 20 faults in 240 rows: the imbalance the preview should flag
        temp = rng.normal(71.0 if fault else 64.0, 3.0)
        lines.append(f"{temp:.1f},{rng.uniform(30, 60):.0f},{['north', 'south', 'east'][i % 3]},v2.1,"
                     f"{'fault' if fault else 'ok'}")
    folder = Path(tempfile.mkdtemp(prefix="workbench-shots-data-"))
    (folder / "sensors.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    _preview_shot(DatasetSpec("csv", "sensors.csv"), folder, out / "data-preview-table.png")


def pretrained_gallery(out: Path) -> None:
    """File › New from Pretrained Model…, as it opens: the models with their size, accuracy and
    whether their weights are cached (here they are not: the download is named)."""
    from workbench.gui import theme
    from workbench.gui.app import ensure_app
    from workbench.gui.pretrained_dialog import PretrainedDialog

    theme.apply_theme(ensure_app(), "light")
    dialog = PretrainedDialog(None, Path.home() / "projects")
    dialog.setAttribute(Qt.WidgetAttribute.WA_DontShowOnScreen, True)
    dialog.resize(700, 400)  # every model of the gallery in view, little empty list below
    dialog.show()
    for _ in range(4):
        QApplication.processEvents()
    path = out / "pretrained-gallery.png"
    dialog.grab().save(str(path), "PNG")
    dialog.close()
    print(path)


SHOTS: dict[str, Callable[[Path], None]] = {
    "start-page": start_page,
    "editor": editor,
    "shape-error": shape_error,
    "connect-refused": connect_refused,
    "editor-zh": chinese,
    "editor-dark": dark,
    "data-preview": data_preview,
    "data-preview-table": data_preview_table,
    "pretrained-gallery": pretrained_gallery,
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="folder for the PNG files (e.g. docs/)")
    parser.add_argument("--only", choices=sorted(SHOTS), action="append", help="make only these")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    # Screenshots must not see (or write) the user's settings, recent files or recovery file.
    os.environ["WORKBENCH_CONFIG_DIR"] = tempfile.mkdtemp(prefix="workbench-shots-")
    from workbench.gui.app import ensure_app
    from workbench.gui.i18n import install_language

    ensure_app()
    install_language("en")
    for name in args.only or SHOTS:
        SHOTS[name](args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
