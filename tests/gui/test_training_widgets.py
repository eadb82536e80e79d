"""The training panel's parts: run settings, devices and memory, runs list and overlays, plots and
exports, results, the multi-GPU path (with a fake device list), the `open --train --screenshot`
hook, and the translations."""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtGui import QImage

from workbench.training.devices import DeviceInfo

RUN_TIMEOUT_MS = 90_000
GB = 10**9


pytestmark = pytest.mark.usefixtures("no_dangling_threads")


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A digits-mlp run of one epoch, made the way `workbench train` makes it."""
    from workbench.presets import load_preset
    from workbench.runs import prepare_run, train_project

    run_dir = tmp_path_factory.mktemp("made") / "digits-mlp-20250101-120000"
    result = train_project(prepare_run(load_preset("digits-mlp"), {"epochs": 1}), run_dir)
    assert result.status == "finished"
    return run_dir


@pytest.fixture
def here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _steps(run_dir: Path) -> list[dict]:
    return [r for r in map(json.loads, (run_dir / "metrics.jsonl").read_text().splitlines()) if r["kind"] == "step"]


# ----- run settings ---------------------------------------------------------------------------


def test_run_settings_show_the_project_and_edit_it_through_the_undo_stack(editor, user_edit) -> None:  # noqa: ANN001
    form = editor.training.form
    training = editor.session.project.training
    lr, epochs, grad_clip = form.editor("training.lr"), form.editor("training.epochs"), form.editor("training.grad_clip")
    patience, batch_size = form.editor("training.early_stopping_patience"), form.editor("training.batch_size")
    source, options, path = form.editor("dataset.source"), form.editor("dataset.options"), form.editor("dataset.path")
    assert form.isEnabled()
    assert lr.value() == pytest.approx(training.lr) and epochs.value() == training.epochs
    assert form.editor("training.optimizer").currentText() == training.optimizer and source.currentData() == "digits"
    # Every engine setting has a widget with a tooltip.
    widgets = {path.removeprefix("training."): form.editor(path) for path in form.editors if path.startswith("training.")}
    assert set(widgets) == set(training.to_dict())
    assert all(w.toolTip() for w in widgets.values())

    user_edit(lr, "0.01")
    user_edit(lr, "0.02")  # merges with the previous edit: one undo step
    user_edit(grad_clip, "1.5")
    user_edit(patience, "3")
    user_edit(batch_size, "64")
    project = editor.session.project
    assert (project.training.lr, project.training.grad_clip, project.training.early_stopping_patience) == (0.02, 1.5, 3)
    assert editor.isWindowModified()
    assert editor.summary.batch.value() == 64  # the summary estimates memory at the run's batch size
    assert editor.session.undo_stack.count() == 4
    assert editor.act_undo.text() == "&Undo Change Batch size"
    for _ in range(4):
        editor.act_undo.trigger()
    assert project.training == training
    assert lr.value() == pytest.approx(training.lr) and grad_clip.value() == 0 and patience.value() == 0
    assert grad_clip.text() == "off"
    editor.act_redo.trigger()
    assert project.training.lr == 0.02 and lr.value() == pytest.approx(0.02)
    # Dataset edits too; a reader's path field is enabled only for readers.
    assert not path.isEnabled()
    user_edit(source, "spirals")
    assert project.dataset.source == "spirals"
    user_edit(options, "{not json")
    assert form.warning_label.isVisible() and "JSON" in form.warning_label.text()
    assert project.dataset.options == {}
    user_edit(options, '{"classes": 4}')
    assert project.dataset.options == {"classes": 4}
    editor.act_undo.trigger()
    assert project.dataset.options == {} and options.text() == ""


def test_devices_are_listed_with_memory_and_an_overflow_names_a_batch_size_that_fits(editor, monkeypatch,
                                                                                    user_edit) -> None:  # noqa: ANN001
    from workbench.gui.training.memory import check_memory

    form = editor.training.form
    devices = [DeviceInfo("cpu", "Test CPU", 16 * GB, 12 * GB),
               DeviceInfo("cuda:0", "Tiny GPU", 2 * 10**6, 320_000),
               DeviceInfo("cuda:1", "Big GPU", 80 * GB, 79 * GB)]
    monkeypatch.setattr("workbench.training.devices.list_devices", lambda: list(devices))
    form.refresh_devices()
    texts = [form.device.itemText(i) for i in range(form.device.count())]
    assert texts[0].startswith("Automatic (cuda:0)")
    assert any("Tiny GPU" in t and "320.0 kB free of 2.0 MB" in t for t in texts)
    assert any(t.startswith("All 2 GPUs") for t in texts)

    user_edit(form.device, "cuda:0")
    assert editor.session.project.training.device == "cuda:0" and form.nproc == 1
    form.update_memory_check()
    check = form.last_memory
    assert check is not None and not check.fits
    fits = check.batch_that_fits
    assert fits is not None and 1 <= fits < 32
    assert form.warning_label.isVisible()
    assert f"A batch size of {fits} would fit" in form.warning_label.text()
    graph, opt = editor.session.graph, "adam"
    assert check_memory(graph, fits, opt, devices[1]).fits
    assert not check_memory(graph, fits + 2, opt, devices[1]).fits
    # A device with room clears the warning; "all GPUs" is a run setting (the project says cuda).
    user_edit(form.device, "cuda:1")
    form.update_memory_check()
    assert not form.warning_label.isVisible()
    user_edit(form.device, "all")
    assert form.nproc == 2 and editor.session.project.training.device == "cuda"


def test_all_gpus_starts_a_distributed_job_and_follows_its_run_folder(editor, here: Path, finished_run: Path,
                                                                      qtbot, monkeypatch, user_edit) -> None:  # noqa: ANN001
    panel = editor.training
    panel.interactive = False
    devices = [DeviceInfo("cpu", "Test CPU", 16 * GB, 12 * GB), DeviceInfo("cuda:0", "GPU", 80 * GB, 79 * GB),
               DeviceInfo("cuda:1", "GPU", 80 * GB, 79 * GB)]
    monkeypatch.setattr("workbench.training.devices.list_devices", lambda: list(devices))
    panel.form.refresh_devices()
    user_edit(panel.form.device, "all")
    calls = []

    class FakeJob:
        returncode = 0

        def poll(self) -> int:
            return 0

        def wait(self, timeout: float | None = None) -> int:
            return 0

    def fake_start(project_path, nproc, run_dir, overrides=None, *, resume_from=None, log_path=None, env=None):  # noqa: ANN001, ANN202
        calls.append((Path(project_path), nproc, Path(run_dir)))
        shutil.copytree(finished_run, run_dir)  # what rank 0 would have written
        return FakeJob()

    monkeypatch.setattr("workbench.training.jobs.start_distributed_job", fake_start)
    with qtbot.waitSignal(panel.run_finished, timeout=RUN_TIMEOUT_MS) as blocker:
        assert editor.train()
    outcome = blocker.args[0]
    assert outcome.status == "finished"
    (project_file, nproc, run_dir), = calls
    assert nproc == 2 and run_dir == outcome.run_dir and run_dir.parent == here / "runs"
    assert json.loads(project_file.read_text())["training"]["device"] == "cuda"
    assert panel.plot.step_count() == len(_steps(finished_run))
    assert not panel.pause_supported()


# ----- runs list, plots, exports --------------------------------------------------------------


def test_runs_list_shows_cli_runs_overlays_and_follows_a_running_one(editor, here: Path, finished_run: Path) -> None:  # noqa: ANN001
    panel = editor.training
    runs = here / "runs"
    shutil.copytree(finished_run, runs / finished_run.name)
    going = runs / "digits-mlp-20250101-130000"
    going.mkdir()
    shutil.copy(finished_run / "project.json", going / "project.json")
    lines = (finished_run / "metrics.jsonl").read_text().splitlines(keepends=True)
    (going / "metrics.jsonl").write_text("".join(lines[:10]))
    other = runs / "spirals-mlp-20250101-120000"
    other.mkdir()
    (other / "project.json").write_text(json.dumps({"name": "spirals-mlp"}))
    panel.runs.refresh()

    listed = {panel.runs.tree.topLevelItem(i).text(0): panel.runs.tree.topLevelItem(i)
              for i in range(panel.runs.tree.topLevelItemCount())}
    assert set(listed) == {"2025-01-01 12:00:00", "2025-01-01 13:00:00"}  # not the other project's
    done = listed["2025-01-01 12:00:00"]
    assert done.text(1) == "finished" and done.text(2).endswith("%")
    assert listed["2025-01-01 13:00:00"].text(1) == "running"

    key_done, key_going = str(runs / finished_run.name), str(going)
    panel.runs.set_checked(key_done, True, notify=True)
    panel.runs.set_checked(key_going, True, notify=True)
    assert set(panel.plot.runs) == {key_done, key_going}
    assert panel.plot.step_count(key_done) == len(_steps(finished_run))
    assert panel.plot.runs[key_done].smooth.opts["pen"].color().name() == panel.runs.color_of(key_done).name()
    assert panel.plot.runs[key_done].color != panel.plot.runs[key_going].color
    assert {label.text for _sample, label in panel.plot.legend.items} == {"2025-01-01 12:00:00", "2025-01-01 13:00:00"}
    # The running one is followed as its file grows.
    assert panel._follow_timer.isActive()
    before = panel.plot.step_count(key_going)
    with open(going / "metrics.jsonl", "a", encoding="utf-8") as fh:
        fh.write("".join(lines[10:20]))
    panel._follow_overlays()
    assert panel.plot.step_count(key_going) == before + 10
    panel.runs.set_checked(key_going, False, notify=True)
    assert set(panel.plot.runs) == {key_done}
    assert not panel._follow_timer.isActive()


def test_x_axis_switches_and_exports_png_and_csv(editor, here: Path, finished_run: Path) -> None:  # noqa: ANN001
    from workbench.gui.training.series import RunSeries
    from workbench.training.jobs import MetricsTail

    plot = editor.training.plot
    series = RunSeries.from_records(MetricsTail(finished_run).poll())
    plot.add_run("r", "run", series, "#1f77b4", live=True)
    steps = _steps(finished_run)
    x, _ = plot.step_data()
    assert list(x) == [r["step"] for r in steps]
    plot.set_x_mode("epoch")
    x, _ = plot.step_data()
    assert x[-1] == pytest.approx(1.0) and 0 < x[0] < 0.1
    assert plot.x_combo.currentData() == "epoch"
    plot.set_x_mode("time")
    x, _ = plot.step_data()
    assert list(x) == pytest.approx([r["elapsed_s"] for r in steps])
    assert plot.runs["r"].val.getOriginalDataset()[0][0] == pytest.approx(series.epoch_time.view()[0])
    # Smoothing 0 draws the raw loss.
    plot.smoothing.setValue(0.0)
    assert list(plot.runs["r"].smooth.getOriginalDataset()[1]) == pytest.approx([r["loss"] for r in steps])

    png = plot.export_png(here / "curves.png")
    image = QImage(str(png))
    assert not image.isNull() and image.width() >= 800
    table = plot.export_csv(here / "metrics.csv")
    rows = list(csv.DictReader(table.open(encoding="utf-8")))
    assert len(rows) == len(steps) + 1
    assert rows[0]["kind"] == "step" and float(rows[0]["loss"]) == pytest.approx(steps[0]["loss"])
    assert rows[-1]["kind"] == "epoch" and float(rows[-1]["val_accuracy"]) > 0.5


def test_plot_stays_cheap_with_a_million_points(editor) -> None:  # noqa: ANN001
    from workbench.gui.training.plots import MIN_POINTS, POINTS_PER_PIXEL
    from workbench.gui.training.series import RunSeries

    plot = editor.training.plot
    editor.curves_dock.show()
    editor.curves_dock.raise_()
    n = 1_000_000
    steps = np.arange(1, n + 1)
    loss = 2.0 * np.exp(-steps / 2e5) + np.random.default_rng(0).random(n) * 0.1
    series = RunSeries()
    series.set_steps_per_epoch(1000)
    series.add_steps(steps, 1 + (steps - 1) // 1000, loss, np.full(n, 1e-3), np.full(n, 1e3), steps * 1e-3)
    assert series.step_count() == n and series.epoch_x.last() == pytest.approx(1000.0)
    series.add_step(n + 1, 1001, 0.5, 1e-3, 1e3, (n + 1) * 1e-3)  # and grows one by one after that
    plot.add_run("big", "big", series, "#d62728", live=True)
    assert plot.step_count() == n + 1
    # Drawn from the run's min/max pyramid: about two points per pixel, never a million segments.
    budget = max(MIN_POINTS, POINTS_PER_PIXEL * int(plot.loss_plot.getViewBox().width()))
    curves = plot.runs["big"]
    for item in (curves.raw, curves.smooth, curves.lr):
        x, y = item.getOriginalDataset()
        assert 0 < len(x) <= budget
    x, y = curves.raw.getOriginalDataset()
    assert x[-1] == n + 1 and y.max() == loss.max()
    assert not plot.graphics.grab().isNull()
    # Over: the whole run in view, still from the pyramid.
    series.status = "finished"
    plot.refresh()
    plot.graphics.grab()
    assert plot.loss_plot.getViewBox().viewRange()[0][1] >= n + 1
    assert len(curves.raw.getOriginalDataset()[0]) <= budget


# ----- results --------------------------------------------------------------------------------


def test_results_show_confusion_matrix_per_class_accuracy_and_samples(editor, finished_run: Path, qtbot) -> None:  # noqa: ANN001
    from workbench.gui.training.results_data import compute_results

    results = compute_results(finished_run)
    view = editor.training.results
    view.show_results(results)
    assert view.stack.currentWidget() is view.class_page
    data_info = json.loads((finished_run / "data.json").read_text())
    assert results.confusion.shape == (10, 10) and results.confusion.sum() == data_info["val_size"]
    assert results.accuracy == pytest.approx(np.trace(results.confusion) / results.confusion.sum())
    assert view.per_class.rowCount() == 10 and view.per_class.item(0, 0).text() == "0"
    assert len(view.samples.samples) == 32 and view.samples.samples[0].image.shape == (8, 8)
    mistakes = [s for s in results.samples if not s.correct]
    assert results.samples[: len(mistakes)] == mistakes  # mistakes first
    assert "accuracy" in view.header.text()
    assert (results.checkpoint, results.epoch) == ("last.pt", 1) and "last.pt, epoch 1" in view.header.text()
    assert not view.confusion.grab().isNull()
    # The other checkpoint, evaluated in the background.
    with qtbot.waitSignal(editor.training.results_shown, timeout=30_000) as blocker:
        view.model_choice.setCurrentIndex(view.model_choice.findData("best"))
    assert blocker.args[0].checkpoint == "best.pt" and blocker.args[0].epoch == 1


def test_regression_results_show_predicted_against_true(editor) -> None:  # noqa: ANN001
    from workbench.gui.training.results_data import RunResults

    true = np.linspace(-1, 1, 50)
    results = RunResults(Path("runs/r"), "regression", "best.pt", val_samples=50, true_values=true,
                         predicted_values=true * 0.9, mae=0.05, r2=0.98)
    view = editor.training.results
    view.show_results(results)
    assert view.stack.currentWidget() is view.scatter_plot
    x, y = view.scatter.getData()
    assert len(x) == 50 and y[-1] == pytest.approx(0.9)
    assert "mean absolute error" in view.header.text()


def test_language_model_results_sample_text_in_the_background(editor, qtbot) -> None:  # noqa: ANN001
    from workbench.graph.builder import build_model
    from workbench.gui.training.results_data import RunResults
    from workbench.presets import load_preset

    project = load_preset("tiny-gpt")
    model = build_model(project.graph, seed=0)
    size = next(n.params["num_embeddings"] for n in project.graph.nodes if n.type == "Embedding")
    vocab = [chr(32 + i) for i in range(size)]
    view = editor.training.results
    view.show_results(RunResults(Path("runs/gpt"), "language_model", "best.pt", vocab=vocab, model=model,
                                 summary={"val_token_accuracy": 0.5}))
    assert view.stack.currentWidget() is view.lm_page
    view.prompt.setText("def ")
    view.length.setValue(20)
    view.temperature.setValue(0.5)
    with qtbot.waitSignal(editor.training.sample_finished, timeout=30_000):
        view.generate_button.click()
    text = view.generated.toPlainText()
    assert text.startswith("def ") and len(text) == 24
    assert view.generate_button.isEnabled()
    view.prompt.setText("\u00e9\u00e9")  # characters the model never saw: the message says so
    with qtbot.waitSignal(editor.training.sample_finished, timeout=30_000):
        view.generate_button.click()
    assert "never saw" in view.generated.toPlainText()


# ----- the command-line hook, and translations ------------------------------------------------


@pytest.mark.slow
def test_open_train_screenshot_trains_in_the_app_and_exits_by_the_outcome(qapp, here: Path, capsys) -> None:  # noqa: ANN001
    from workbench.gui.app import run_app

    shot = here / "shot.png"
    assert run_app("digits-mlp", str(shot), train=True, overrides={"epochs": 1}) == 0
    image = QImage(str(shot))
    assert (image.width(), image.height()) == (1440, 900)
    (run,) = (here / "runs").iterdir()
    assert json.loads((run / "summary.json").read_text())["status"] == "finished"
    assert "finished" in capsys.readouterr().err

    assert run_app("regression-mlp", str(here / "nan.png"), train=True, overrides={"epochs": 1, "lr": 1e12}) == 1
    err = capsys.readouterr().err
    assert "training failed" in err and "lower the learning rate" in err
    assert (here / "nan.png").is_file()  # the picture still shows what happened

    assert run_app("digits-mlp", str(here / "dev.png"), train=True, overrides={"device": "cuda:7"}) == 1
    err = capsys.readouterr().err
    assert "cannot train" in err and "cuda:7 is not available" in err


def test_training_texts_are_translated(window, tmp_path: Path) -> None:  # noqa: ANN001
    from workbench.gui.i18n import install_language

    # Every string of the training panel is in the translation file, translated.
    package = Path(__file__).resolve().parents[2] / "workbench"
    # The form's labels and help are declared in the core, with the settings.
    sources = sorted(str(p) for p in (package / "gui" / "training").glob("*.py"))
    sources += [str(package / "training" / "settings.py"), str(package / "data" / "bundle.py")]
    fresh = tmp_path / "fresh.ts"
    lupdate = shutil.which("pyside6-lupdate") or str(Path(sys.executable).parent / "pyside6-lupdate")
    subprocess.run([lupdate, *sources, "-ts", str(fresh), "-silent"], check=True, capture_output=True, timeout=120)
    import xml.etree.ElementTree as ET

    def messages(path: Path) -> dict[tuple[str, str], str | None]:
        out = {}
        for context in ET.parse(path).getroot().iter("context"):
            name = context.findtext("name")
            for message in context.iter("message"):
                translation = message.find("translation")
                done = translation is not None and translation.get("type") not in ("unfinished", "vanished", "obsolete")
                out[(name, message.findtext("source"))] = translation.text if done else None
        return out

    ours = messages(Path(__file__).resolve().parents[2] / "assets" / "i18n" / "workbench_zh_CN.ts")
    needed = messages(fresh)
    missing = [key for key in needed if not ours.get(key)]
    assert not missing, f"untranslated: {missing[:5]}"
    # And they show.
    assert install_language("zh_CN") == "zh_CN"
    window.retranslate()
    window.training.plot.retranslate()
    assert "曲线" in window.curves_dock.windowTitle()
    assert window.training.plot.export_png_button.text() != "Save PNG…"
    install_language("en")
    window.retranslate()
