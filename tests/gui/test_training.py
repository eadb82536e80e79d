"""Training from the app: the worker thread and its training process, Stop / Pause / Resume,
failures, devices, responsiveness.

Every test waits on signals (the QThread's own `finished`, relayed as `TrainingPanel.run_finished`
after `QThread.wait()`), never on sleeps; the `no_dangling_threads` fixture fails a test that
leaves a training or task thread running, `no_dangling_processes` one that leaves a training
process. The panel keeps a spare training process ready, as the app does once its window is up.
Runs go to a temporary folder (the tests chdir there: an unsaved preset's runs folder is ./runs,
as for `workbench train`).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QTimer

from workbench.gui.training import live_threads

RUN_FILES = {"project.json", "data.json", "metrics.jsonl", "summary.json", "checkpoints"}
RUN_TIMEOUT_MS = 90_000  # generous: the CI machine may be busy; a healthy run takes a second or two


pytestmark = pytest.mark.usefixtures("no_dangling_threads", "no_dangling_processes")


@pytest.fixture
def runs_here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path / "runs"


@pytest.fixture
def trainer(window, runs_here: Path) -> Iterator:  # noqa: ANN001
    """The window, without dialogs from the training panel and with a spare training process (as
    the app starts once its window is up); any run is stopped, and the processes end, at the end."""
    window.training.interactive = False
    window.training.start_spare()
    yield window
    window.training.shutdown()


def _open(window, preset: str, **overrides) -> None:  # noqa: ANN001, ANN003
    window.training_overrides = dict(overrides)
    assert window.open_preset(preset)
    window.training_overrides = {}
    window.session.flush()


def _train(window, qtbot):  # noqa: ANN001, ANN202
    """Press Train and wait for the run's thread to finish; returns the RunOutcome."""
    with qtbot.waitSignal(window.training.run_finished, timeout=RUN_TIMEOUT_MS) as blocker:
        assert window.train()
    return blocker.args[0]


def _records(run_dir: Path, kind: str) -> list[dict]:
    lines = (run_dir / "metrics.jsonl").read_text(encoding="utf-8").splitlines()
    return [r for r in map(json.loads, lines) if r["kind"] == kind]


def test_training_a_preset_finishes_plots_every_step_and_writes_the_cli_run_folder(trainer, qtbot, tmp_path: Path,
                                                                                   user_edit) -> None:  # noqa: ANN001
    from workbench.cli import main as cli_main

    window = trainer
    _open(window, "digits-mlp")
    panel = window.training
    user_edit(panel.form.editor("training.epochs"), 1)  # an undoable project edit
    assert window.session.project.training.epochs == 1
    assert window.session.undo_stack.count() == 1

    seen_read_only = []
    panel.run_started.connect(lambda _r: seen_read_only.append(
        (window.read_only, window.read_only_banner.isVisible(), window.act_delete.isEnabled(),
         window.inspector.isEnabled(), panel.form.isEnabled(), window.act_undo.isEnabled())))
    outcome = _train(window, qtbot)

    assert seen_read_only == [(True, True, False, False, False, False)]
    assert not window.read_only and not window.read_only_banner.isVisible()
    assert window.act_train.isEnabled() and not window.act_stop.isEnabled() and window.act_undo.isEnabled()
    assert outcome.status == "finished", outcome.message
    run_dir = outcome.run_dir
    assert run_dir.parent == tmp_path / "runs" and run_dir.name.startswith("digits-mlp-")
    steps = _records(run_dir, "step")
    summary = json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))
    assert summary["status"] == "finished" and summary["global_steps"] == len(steps) > 0
    # One point per step on the live loss curve, at x = step.
    assert panel.plot.step_count() == len(steps)
    x, loss = panel.plot.step_data()
    assert list(x) == [r["step"] for r in steps]
    assert loss[0] == pytest.approx(steps[0]["loss"])
    assert panel.series.epoch_count() == 1
    # The same run folder as `workbench train`.
    assert cli_main(["train", "digits-mlp", "--epochs", "1", "--out", str(tmp_path / "cli")]) == 0
    cli = tmp_path / "cli"
    assert {p.name for p in run_dir.iterdir()} == {p.name for p in cli.iterdir()} == RUN_FILES
    assert {p.name for p in (run_dir / "checkpoints").iterdir()} == {"best.pt", "last.pt"}
    cli_summary = json.loads((cli / "summary.json").read_text(encoding="utf-8"))
    assert set(summary) == set(cli_summary)
    assert json.loads((run_dir / "project.json").read_text()) == json.loads((cli / "project.json").read_text())
    assert json.loads((run_dir / "data.json").read_text()) == json.loads((cli / "data.json").read_text())
    assert set(_records(run_dir, "epoch")[0]) == set(_records(cli, "epoch")[0])
    assert summary["global_steps"] == cli_summary["global_steps"]
    # The results: a confusion matrix over the whole validation set, and the runs list knows the run.
    results = panel.results.results
    assert results is not None and results.task == "classification"
    assert results.confusion.sum() == json.loads((run_dir / "data.json").read_text())["val_size"]
    assert panel.results.stack.currentWidget() is panel.results.class_page
    assert str(run_dir) in panel.runs.infos and panel.runs.infos[str(run_dir)].status == "finished"
    assert "Finished" in panel.progress.status.text()


def test_stop_ends_the_run_within_one_step_keeps_its_metrics_and_resume_continues_it(trainer, qtbot,
                                                                                      user_edit) -> None:  # noqa: ANN001
    window = trainer
    _open(window, "digits-mlp", epochs=50)
    panel = window.training
    with qtbot.waitSignal(panel.run_finished, timeout=RUN_TIMEOUT_MS) as blocker:
        assert window.train()
        qtbot.waitUntil(lambda: panel.worker.steps_emitted >= 3, timeout=RUN_TIMEOUT_MS)
        emitted = panel.worker.steps_emitted
        window.act_stop.trigger()
    outcome = blocker.args[0]
    assert outcome.status == "stopped"
    steps = _records(outcome.run_dir, "step")
    # The training process answered the stop with the last step it had sent when the stop came:
    # the step under way then, and no more, followed.
    stop_came_after = panel.worker.trainer.stopping_after
    assert emitted <= stop_came_after <= len(steps) <= stop_came_after + 1
    assert outcome.summary["global_steps"] == len(steps)
    assert panel.plot.step_count() == len(steps)
    assert (outcome.run_dir / "checkpoints" / "last.pt").is_file()
    assert json.loads((outcome.run_dir / "summary.json").read_text())["status"] == "stopped"

    # Resume from the checkpoint, in the same folder, for one epoch in all.
    user_edit(panel.form.editor("training.epochs"), 1)
    info = panel.runs.infos[str(outcome.run_dir)]
    with qtbot.waitSignal(panel.run_finished, timeout=RUN_TIMEOUT_MS) as blocker:
        assert panel.resume_run(info)
    resumed = blocker.args[0]
    assert resumed.status == "finished" and resumed.run_dir == outcome.run_dir
    all_steps = [r["step"] for r in _records(outcome.run_dir, "step")]
    assert all_steps == list(range(1, len(all_steps) + 1))  # numbering goes on from the stop
    assert len(all_steps) > len(steps)
    assert panel.plot.step_count() == len(all_steps)  # the curve continues the earlier one


def test_pause_holds_the_step_count_and_resume_continues(trainer, qtbot) -> None:  # noqa: ANN001
    window = trainer
    _open(window, "digits-mlp", epochs=50)
    panel = window.training
    assert window.train()
    qtbot.waitUntil(lambda: panel.worker.steps_emitted >= 2, timeout=RUN_TIMEOUT_MS)
    window.act_pause.trigger()
    assert panel.paused and window.act_pause.text() == "&Resume"
    # The training process answers with the last step it had sent when the pause came.
    qtbot.waitUntil(lambda: panel.worker.trainer.is_paused, timeout=RUN_TIMEOUT_MS)
    at_pause = panel.worker.trainer.paused_after
    # Nothing is supposed to happen here, so there is no signal to wait for: give the paused
    # loop time (with the event loop running) to prove that it does not advance.
    qtbot.wait(600)
    held = panel.worker.last_step
    assert at_pause <= held <= at_pause + 1  # at most the step that was under way
    qtbot.wait(400)
    assert panel.worker.last_step == held
    assert panel.worker.trainer.is_paused
    assert "Paused" in panel.progress.status.text()

    window.act_pause.trigger()
    assert not panel.paused and window.act_pause.text() == "&Pause"
    qtbot.waitUntil(lambda: panel.worker.last_step >= held + 3, timeout=RUN_TIMEOUT_MS)
    with qtbot.waitSignal(panel.run_finished, timeout=RUN_TIMEOUT_MS) as blocker:
        panel.stop()
    assert blocker.args[0].status == "stopped"


@pytest.mark.slow
def test_a_run_that_turns_nan_shows_its_message_and_the_app_stays_responsive(trainer, qtbot,
                                                                             user_edit) -> None:  # noqa: ANN001
    window = trainer
    _open(window, "regression-mlp", lr=1e12, epochs=2)
    assert window.training.form.editor("training.lr").value() == pytest.approx(1e12)
    outcome = _train(window, qtbot)
    assert outcome.status == "failed"
    assert "lower the learning rate" in outcome.message
    status = window.training.progress.status.text()
    assert "The run failed" in status and "lower the learning rate" in status
    # The metrics so far are kept, and the run folder says what happened.
    summary = json.loads((outcome.run_dir / "summary.json").read_text())
    assert summary["status"] == "failed" and "lower the learning rate" in summary["message"]
    assert len(_records(outcome.run_dir, "step")) >= 1
    assert window.training.runs.infos[str(outcome.run_dir)].status == "failed"
    # Alive: timers fire, the editor is editable again, and another run can start.
    with qtbot.waitSignal(window.training.status_message, timeout=2000):
        QTimer.singleShot(10, lambda: window.training.status_message.emit("ping", 10))
    assert not window.read_only and window.act_train.isEnabled() and window.palette_panel.isEnabled()
    user_edit(window.training.form.editor("training.lr"), "0.003")
    user_edit(window.training.form.editor("training.epochs"), 1)
    assert _train(window, qtbot).status == "finished"


def test_bad_data_ends_the_run_with_its_message(trainer, qtbot, tmp_path: Path, user_edit) -> None:  # noqa: ANN001
    window = trainer
    _open(window, "digits-mlp")
    form = window.training.form
    user_edit(form.editor("dataset.source"), "csv")
    user_edit(form.editor("dataset.path"), str(tmp_path / "missing.csv"))
    assert window.session.project.dataset.source == "csv"
    outcome = _train(window, qtbot)
    assert outcome.status == "failed" and "missing.csv" in outcome.message
    assert "missing.csv" in window.training.progress.status.text()


def test_a_device_this_machine_lacks_is_refused_with_the_reason(trainer, qtbot) -> None:  # noqa: ANN001
    window = trainer
    _open(window, "digits-mlp", device="cuda:3")
    form = window.training.form
    assert "not available" in form.device.currentText() and form.device.currentData() == "cuda:3"
    assert window.train() is False
    assert not window.training.running and not live_threads()
    status = window.training.progress.status.text()
    assert "cuda:3" in status and "this machine has: cpu" in status
    assert "cuda:3" in window.statusBar().currentMessage()
    assert not window.read_only


def test_the_event_loop_keeps_running_while_the_worker_trains(trainer, qtbot) -> None:  # noqa: ANN001
    """The GUI thread handles its events all through a run, so the window stays responsive.

    Shown without a clock: a timer on the GUI thread samples how many steps the plot holds; if
    training blocked the GUI thread, no sample could fall between its first and its last step.
    How long the GUI thread may wait is measured by `workbench bench` (event_loop_lag_*), not here.
    """
    window = trainer
    _open(window, "digits-mlp", epochs=10)
    panel = window.training
    seen: list[int] = []
    timer = QTimer()
    timer.setInterval(10)
    timer.timeout.connect(lambda: seen.append(panel.plot.step_count()))
    appended: list[int] = []
    panel.plot.points_appended.connect(lambda n, _t: appended.append(n))
    with qtbot.waitSignal(panel.run_finished, timeout=RUN_TIMEOUT_MS):
        assert window.train()
        timer.start()
    timer.stop()
    total = panel.plot.step_count()
    midway = sorted({n for n in seen if 0 < n < total})
    assert len(midway) >= 2, f"the GUI thread handled no event while the run was under way (samples: {seen[:20]}…)"
    # Batched: the plot grew in fewer refreshes than there were steps (or one per step at most).
    assert sum(appended) == total
    assert len(appended) <= total


def test_the_event_buffer_batches_a_flood_of_events(qtbot) -> None:  # noqa: ANN001
    from PySide6.QtCore import QObject, Signal

    from workbench.gui.training.worker import Drainer, EventBuffer

    class Notifier(QObject):
        pending = Signal()  # emitted on the producer thread, queued to the drainer (GUI thread)

    received: list[int] = []
    notifier = Notifier()
    notices = [0]

    def notify() -> None:
        notices[0] += 1
        notifier.pending.emit()

    buffer = EventBuffer(notify)
    drainer = Drainer(buffer, lambda items: received.extend(i for _t, i in items))
    notifier.pending.connect(drainer.poke)
    total = 20_000
    start = time.perf_counter()
    producer = threading.Thread(target=lambda: [buffer.put(i) for i in range(total)])
    producer.start()
    producer.join()
    took = time.perf_counter() - start
    qtbot.waitUntil(lambda: len(received) == total, timeout=5000)
    assert received == list(range(total))
    # One notice per drain at most, and drains at most every interval: a handful of wake-ups
    # for 20,000 events, however slowly the producer ran.
    allowed = took / (drainer.interval_ms / 1000) + 3
    assert notices[0] <= allowed and drainer.drains <= allowed and notices[0] < total / 100
    assert buffer.last_put_time > 0 and buffer.puts == total


def test_an_exception_in_our_code_ends_the_run_with_its_message(trainer, qtbot, monkeypatch) -> None:  # noqa: ANN001
    from workbench.training.child import FAULT_ENV

    # The training process raises before it prepares the run, as a bug there would. (Set after
    # the spare started: the job brings the app's environment along.)
    monkeypatch.setenv(FAULT_ENV, "0:raise")
    window = trainer
    _open(window, "digits-mlp")
    outcome = _train(window, qtbot)
    expected = f"RuntimeError: test fault injected before the run was prepared ({FAULT_ENV})"
    assert outcome.status == "failed" and outcome.message == expected
    assert expected in window.training.progress.status.text()
    assert not window.read_only and window.act_train.isEnabled()


def test_closing_the_window_stops_the_run_and_keeps_it(trainer, qtbot) -> None:  # noqa: ANN001
    window = trainer
    _open(window, "digits-mlp", epochs=50)
    panel = window.training
    assert window.train()
    qtbot.waitUntil(lambda: panel.worker.steps_emitted >= 2, timeout=RUN_TIMEOUT_MS)
    window.session.undo_stack.setClean()
    assert window.close()
    assert not panel.running and not live_threads()
    outcome = panel.last_outcome
    assert outcome is not None and outcome.status == "stopped"
    assert json.loads((outcome.run_dir / "summary.json").read_text())["status"] == "stopped"
