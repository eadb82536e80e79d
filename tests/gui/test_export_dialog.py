"""The Export dialog: a real export of a tiny trained run (onnx + int8), the report table, bad
run folders, cancel and close mid-export, and File > Export… in the main window.

Every test that starts an export waits for the dialog's `export_finished`, which the dialog
emits from its slot on the QThread's own `finished` after `wait()`; the `make_dialog` fixture
fails a test that leaves an export running (and stops it first). No sleeps.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QFileDialog

from workbench.cli import main as cli_main
from workbench.gui.app import ensure_app
from workbench.gui.export_dialog import CANCELLED, DONE, FAILED, ExportDialog
from workbench.gui.i18n import install_language
from workbench.presets import load_preset
from workbench.project import Project

EXPORT_TIMEOUT_MS = 60_000


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """digits-mlp trained for one epoch into <root>/runs/, as `workbench train` leaves it."""
    root = tmp_path_factory.mktemp("project")
    run = root / "runs" / "digits-mlp-1epoch"
    assert cli_main(["train", "digits-mlp", "--epochs", "1", "--out", str(run)]) == 0
    return run


@pytest.fixture
def project(trained_run: Path) -> Project:
    """The digits-mlp project as if saved beside the runs/ folder."""
    return dataclasses.replace(load_preset("digits-mlp"), path=trained_run.parent.parent / "digits-mlp.json")


@pytest.fixture
def make_dialog(qtbot) -> Iterator[Callable[..., ExportDialog]]:  # noqa: ANN001
    """Dialogs for a test; afterwards, any export still running is stopped and the test fails."""
    ensure_app()
    install_language("en")
    made: list[ExportDialog] = []

    def make(project: Project | None = None) -> ExportDialog:
        dialog = ExportDialog(project)
        qtbot.addWidget(dialog)
        dialog.show()
        made.append(dialog)
        return dialog

    yield make
    dangling = [d for d in made if d.busy]
    for dialog in dangling:
        thread = dialog.export_thread
        with qtbot.waitSignal(dialog.export_finished, timeout=EXPORT_TIMEOUT_MS):
            dialog.cancel_export()
        assert thread is not None and thread.isFinished()
    if dangling:
        pytest.fail(f"{len(dangling)} export thread(s) were still running when the test ended")


@pytest.fixture
def latency_gate(monkeypatch: pytest.MonkeyPatch) -> threading.Event:
    """The export's first latency measurement waits for this event: a test can act mid-export
    (after the ONNX file is staged, before the export can end) without racing the worker."""
    from workbench.export import pipeline

    gate = threading.Event()
    real = pipeline.onnx_latency

    def gated(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        assert gate.wait(EXPORT_TIMEOUT_MS / 1000), "the test never opened the gate"
        return real(*args, **kwargs)

    monkeypatch.setattr(pipeline, "onnx_latency", gated)
    return gate


def _column(dialog: ExportDialog, key: str) -> list[str]:
    headers = [dialog.table.horizontalHeaderItem(c).text() for c in range(dialog.table.columnCount())]
    col = headers.index(key)
    return [dialog.table.item(r, col).text() for r in range(dialog.table.rowCount())]


def test_exports_onnx_and_int8_and_shows_the_report(make_dialog, qtbot, project: Project, trained_run: Path,  # noqa: ANN001
                                                    tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    dialog = make_dialog(project)
    assert dialog.selected_run() == trained_run
    assert "1 epoch" in dialog.run_combo.currentText() and "val acc" in dialog.run_combo.currentText()
    assert dialog.output_folder() == trained_run / "export"  # the default follows the run
    out = tmp_path / "exported"
    dialog.set_output_folder(out)
    qtbot.mouseClick(dialog.quantize_boxes["int8-dynamic"], Qt.MouseButton.LeftButton)
    assert dialog.format_boxes["onnx"].isChecked() and not dialog.format_boxes["onnx"].isEnabled()
    assert dialog.export_button.isEnabled()

    steps: list[str] = []
    dialog.export_progressed.connect(lambda step, total, message: steps.append(message))
    with qtbot.waitSignal(dialog.export_finished, timeout=EXPORT_TIMEOUT_MS) as finished:
        qtbot.mouseClick(dialog.export_button, Qt.MouseButton.LeftButton)
        assert dialog.busy and not dialog.options_box.isEnabled() and dialog.cancel_button.isVisible()
    assert finished.args == [DONE], dialog.message.text()
    assert dialog.export_thread is None and not dialog.busy
    assert steps[0] == "reading validation samples" and steps[-1] == "done"

    # The table: both variants, the recommended one bold and tinted.
    assert dialog.report_box.isVisible() and dialog.table.rowCount() == 2
    assert _column(dialog, "variant") == ["original", "int8-dynamic"]
    marks = _column(dialog, "")
    starred = [r for r, m in enumerate(marks) if "★" in m]
    assert len(starred) == 1
    assert dialog.table.item(starred[0], 1).font().bold()
    assert dialog.table.item(starred[0], 1).background().color().alpha() > 0
    assert all(float(v.rstrip("%")) > 50 for v in _column(dialog, "val acc"))

    # The files, proven and reported, and nothing half-written.
    names = sorted(p.name for p in out.iterdir())
    assert names == ["model.onnx", "model_int8_dynamic.onnx", "report.json", "report.md"]
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert [v["name"] for v in report["variants"]] == ["original", "int8-dynamic"]
    assert str(out) in dialog.message.text() and dialog.message_kind == "info"

    opened: list[QUrl] = []
    monkeypatch.setattr(QDesktopServices, "openUrl", lambda url: opened.append(url) or True)
    assert dialog.open_button.isEnabled()
    qtbot.mouseClick(dialog.open_button, Qt.MouseButton.LeftButton)
    assert [Path(u.toLocalFile()) for u in opened] == [out.resolve()]
    assert dialog.options_box.isEnabled() and dialog.export_button.isEnabled()  # ready for another export


def test_an_incomplete_run_folder_is_named_and_export_stays_off(make_dialog, qtbot, project: Project,  # noqa: ANN001
                                                                trained_run: Path, tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    broken = tmp_path / "half-a-run"
    broken.mkdir()
    shutil.copy(trained_run / "summary.json", broken / "summary.json")
    dialog = make_dialog(project)
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", staticmethod(lambda *args, **kwargs: str(broken)))
    qtbot.mouseClick(dialog.choose_run_button, Qt.MouseButton.LeftButton)
    assert dialog.selected_run() == broken
    assert dialog.message_kind == "error" and dialog.message.isVisible()
    assert "not a complete run folder (project.json is missing)" in dialog.message.text()
    assert not dialog.export_button.isEnabled()
    assert not dialog.start_export()

    dialog.run_combo.setCurrentIndex(dialog.run_combo.findText(trained_run.name, Qt.MatchFlag.MatchStartsWith))
    assert dialog.selected_run() == trained_run
    assert dialog.message_kind != "error" and dialog.export_button.isEnabled()


def test_an_unreadable_checkpoint_fails_with_the_core_message(make_dialog, qtbot, project: Project,  # noqa: ANN001
                                                              trained_run: Path, tmp_path: Path) -> None:
    run = tmp_path / "runs" / "damaged"
    shutil.copytree(trained_run, run)
    (run / "checkpoints" / "best.pt").write_bytes(b"not a checkpoint")
    (run / "checkpoints" / "last.pt").unlink()
    out = tmp_path / "out"
    dialog = make_dialog(project)
    dialog.add_run_folder(run)
    dialog.set_output_folder(out)
    assert dialog.export_button.isEnabled()  # looks complete: only loading it can tell
    with qtbot.waitSignal(dialog.export_finished, timeout=EXPORT_TIMEOUT_MS) as finished:
        dialog.start_export()
    assert finished.args == [FAILED]
    assert dialog.message_kind == "error"
    assert "not a readable checkpoint" in dialog.message.text() and "best.pt" in dialog.message.text()
    assert not dialog.report_box.isVisible() and not dialog.progress_widget.isVisible()
    assert dialog.options_box.isEnabled() and dialog.export_button.isEnabled()  # still usable
    assert not out.exists()


def test_cancel_leaves_no_partial_output(make_dialog, qtbot, project: Project, tmp_path: Path,  # noqa: ANN001
                                         latency_gate: threading.Event) -> None:
    out = tmp_path / "mine"
    out.mkdir()
    (out / "keep.txt").write_text("the user's own file\n")
    dialog = make_dialog(project)
    dialog.set_output_folder(out)
    dialog.quantize_boxes["int8-dynamic"].setChecked(True)

    def on_progress(step: int, total: int, message: str) -> None:
        if "measuring" in message and not latency_gate.is_set():  # model.onnx is staged by now
            assert any(p.name.startswith(".export-partial") for p in out.iterdir())
            qtbot.mouseClick(dialog.cancel_button, Qt.MouseButton.LeftButton)
            latency_gate.set()

    dialog.export_progressed.connect(on_progress)
    with qtbot.waitSignal(dialog.export_finished, timeout=EXPORT_TIMEOUT_MS) as finished:
        dialog.start_export()
    assert latency_gate.is_set()
    assert finished.args == [CANCELLED]
    assert sorted(p.name for p in out.iterdir()) == ["keep.txt"]
    assert "cancelled" in dialog.message.text() and dialog.message_kind == "info"
    assert not dialog.report_box.isVisible() and dialog.options_box.isEnabled()


def test_closing_mid_export_cancels_then_closes(make_dialog, qtbot, project: Project, tmp_path: Path,  # noqa: ANN001
                                                latency_gate: threading.Event) -> None:
    out = tmp_path / "new-folder"
    dialog = make_dialog(project)
    dialog.set_output_folder(out)

    def on_progress(step: int, total: int, message: str) -> None:
        if "measuring" in message and not latency_gate.is_set():
            dialog.close()
            assert dialog.isVisible()  # it waits for the export to stop
            latency_gate.set()

    dialog.export_progressed.connect(on_progress)
    with qtbot.waitSignal(dialog.export_finished, timeout=EXPORT_TIMEOUT_MS) as finished:
        dialog.start_export()
    assert finished.args == [CANCELLED]
    assert not dialog.isVisible()
    assert not out.exists()  # the export made the folder, and removed it


def test_options_follow_the_core(make_dialog, project: Project) -> None:  # noqa: ANN001
    from workbench.export import FORMATS, QUANTIZE_MODES, ExportOptions

    dialog = make_dialog(project)
    assert tuple(dialog.format_boxes) == FORMATS and tuple(dialog.quantize_boxes) == QUANTIZE_MODES
    assert not dialog.finetune_spin.isEnabled()
    dialog.format_boxes["code"].setChecked(True)
    assert dialog.format_boxes["safetensors"].isChecked() and not dialog.format_boxes["safetensors"].isEnabled()
    dialog.channels_spin.setValue(50)
    assert dialog.finetune_spin.isEnabled()
    dialog.finetune_spin.setValue(2)
    options = ExportOptions(**dialog.options())
    assert options.formats == ("onnx", "safetensors", "code") and options.prune_channels == 0.5
    assert options.prune is None and options.finetune_epochs == 2
    dialog.channels_spin.setValue(0)  # no pruning: nothing to fine-tune
    assert not dialog.finetune_spin.isEnabled() and ExportOptions(**dialog.options()).finetune_epochs == 0
    dialog.format_boxes["safetensors"].setChecked(False)  # locked: the code needs it
    assert dialog.format_boxes["safetensors"].isChecked()
    for box in reversed(dialog.format_boxes.values()):  # code first, then what it needed
        box.setChecked(False)
    assert dialog.message.text() == "Choose at least one format." and not dialog.export_button.isEnabled()


def test_no_runs_says_how_to_get_one(make_dialog, tmp_path: Path) -> None:  # noqa: ANN001
    empty = dataclasses.replace(load_preset("digits-mlp"), path=tmp_path / "digits-mlp.json")
    dialog = make_dialog(empty)
    assert dialog.run_combo.count() == 0 and dialog.selected_run() is None
    assert "Run > Train" in dialog.message.text() and not dialog.export_button.isEnabled()


def test_the_dialog_speaks_chinese(make_dialog, project: Project) -> None:  # noqa: ANN001
    install_language("zh_CN")
    try:
        dialog = make_dialog(project)
        assert dialog.windowTitle() == "导出"
        assert dialog.export_button.text() == "导出"
    finally:
        install_language("en")


def test_file_export_opens_the_dialog_on_the_project_runs(editor, qtbot, trained_run: Path,  # noqa: ANN001
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(trained_run.parent.parent)  # an unsaved project's runs/ is in the working folder
    editor.act_export.trigger()
    dialog = editor.findChild(ExportDialog)
    assert dialog is not None and dialog.isVisible() and dialog.isModal()
    assert dialog.selected_run() == trained_run.resolve() or dialog.selected_run() == trained_run
    dialog.close()
    qtbot.waitUntil(lambda: editor.findChild(ExportDialog) is None)  # deleted on close


def test_train_the_student_runs_in_the_training_panel_with_live_curves(editor, qtbot, trained_run: Path,  # noqa: ANN001
                                                                       monkeypatch: pytest.MonkeyPatch,
                                                                       no_dangling_threads) -> None:  # noqa: ANN001
    monkeypatch.chdir(trained_run.parent.parent)  # the unsaved project's runs/ holds the teacher
    panel = editor.training
    panel.interactive = False
    try:
        editor.act_export.trigger()
        dialog = editor.findChild(ExportDialog)
        assert dialog is not None and dialog.distill_group.isVisibleTo(dialog)
        assert dialog.distill_button.isEnabled()
        dialog.student_width.setValue(0.5)
        dialog.student_epochs.setValue(2)
        dialog.compare_box.setChecked(True)
        steps_while_running: list[int] = []
        panel.plot.points_appended.connect(lambda *_: steps_while_running.append(panel.plot.step_count()))
        with qtbot.waitSignal(panel.run_finished, timeout=EXPORT_TIMEOUT_MS) as blocker:
            qtbot.mouseClick(dialog.distill_button, Qt.MouseButton.LeftButton)
            assert panel.running and panel.request is not None and panel.request.distill is not None
        qtbot.waitUntil(lambda: editor.findChild(ExportDialog) is None)  # it closed, the curves are in view
        outcome = blocker.args[0]
        assert outcome.status == "finished", outcome.message

        run_dir = outcome.run_dir
        assert run_dir.parent == trained_run.parent.resolve() and run_dir.name.startswith("digits-mlp-student-")
        lines = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
        steps = [r for r in lines if r["kind"] == "step"]
        assert [r["epoch"] for r in lines if r["kind"] == "epoch"] == [1, 2]
        assert panel.plot.step_count() == len(steps) == 2 * 45  # every step of the run is on the curve
        assert len(steps_while_running) >= 2 and steps_while_running[0] < len(steps)  # drawn while it ran
        summary = json.loads((run_dir / "summary.json").read_text())
        assert summary["project"] == "digits-mlp-student" and "labels_only_val_accuracy" in summary
        assert summary["verdict"][1:] in panel.progress.status.text()  # said in the panel, capitalised

        editor.act_export.trigger()  # the student is offered for export like any run
        again = editor.findChild(ExportDialog)
        paths = [again.run_combo.itemData(i).path.resolve() for i in range(again.run_combo.count())]
        assert run_dir in paths
        again.close()
        qtbot.waitUntil(lambda: editor.findChild(ExportDialog) is None)
    finally:
        panel.shutdown()


def test_the_distillation_option_needs_a_trained_run_and_a_panel(make_dialog, project: Project,  # noqa: ANN001
                                                                  tmp_path: Path) -> None:
    alone = make_dialog(project)
    assert not alone.distill_group.isVisibleTo(alone)  # no training panel to run it in
    calls: list[tuple] = []
    dialog = ExportDialog(project, start_distillation=lambda *args: calls.append(args) or False)
    dialog.show()
    try:
        assert dialog.distill_group.isVisibleTo(dialog) and dialog.distill_button.isEnabled()
        dialog.student_width.setValue(0.25)
        assert dialog.distill() is False and dialog.isVisible()  # refused: the dialog stays, and says so
        (teacher, student, settings, baseline), = calls
        assert (teacher, student, settings.epochs, baseline) == (dialog.selected_run(), "0.25", 20, False)
        assert dialog.message_kind == "error" and "status line" in dialog.message.text()
        dialog.add_run_folder(tmp_path)  # not a run folder
        assert not dialog.distill_button.isEnabled()
    finally:
        dialog.close()
