"""Crashes of the training process: the window stays up and says what happened, the run is
marked failed and stays resumable, and the processes come and go with the runs and the window.

The faults are real: the test kills the training process with SIGKILL (what the system does
when memory runs out), or the process crashes itself at a given step (WORKBENCH_TEST_CHILD_FAULT,
which workbench.training.child reads only when it is set). Every wait is on a signal, a record
from the process or a condition, never a sleep.
"""

from __future__ import annotations

import json
import os
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QTimer

from workbench.errors import TrainingError
from workbench.training.child import FAULT_ENV, arm_test_fault
from workbench.training.child_process import crash_message, describe_exit, live_children, mark_failed

RUN_TIMEOUT_MS = 90_000  # generous: the CI machine may be busy; a healthy run takes a second or two
STEPS_PER_EPOCH = 45  # digits-mlp: 1,437 training rows in batches of 32

pytestmark = [pytest.mark.usefixtures("no_dangling_threads", "no_dangling_processes"),
              pytest.mark.skipif(os.name != "posix", reason="the faults are POSIX signals")]


@pytest.fixture
def runs_here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path / "runs"


@pytest.fixture
def trainer(window, runs_here: Path) -> Iterator:  # noqa: ANN001
    """The window without dialogs, with a spare training process as the app has once it is up."""
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
    with qtbot.waitSignal(window.training.run_finished, timeout=RUN_TIMEOUT_MS) as blocker:
        assert window.train()
    return blocker.args[0]


def _records(run_dir: Path, kind: str) -> list[dict]:
    lines = (run_dir / "metrics.jsonl").read_text(encoding="utf-8").splitlines()
    return [r for r in map(json.loads, lines) if r["kind"] == kind]


def _event_loop_runs(qtbot) -> None:  # noqa: ANN001
    """A timer started now fires: the GUI thread is handling events."""
    timer = QTimer()
    timer.setSingleShot(True)
    with qtbot.waitSignal(timer.timeout, timeout=5000):
        timer.start(1)


@pytest.mark.slow
def test_a_training_process_killed_mid_run_fails_the_run_and_resuming_continues_it(trainer, qtbot,  # noqa: ANN001
                                                                                   user_edit) -> None:  # noqa: ANN001
    from workbench.training.checkpoint import load_checkpoint

    window = trainer
    _open(window, "digits-mlp", epochs=50)
    panel = window.training
    with qtbot.waitSignal(panel.run_finished, timeout=RUN_TIMEOUT_MS) as blocker:
        assert window.train()
        # Past the first checkpoint (written at the end of epoch 1), with records after it on
        # disk (metrics.jsonl is flushed at each epoch's end, before the epoch reaches the app).
        qtbot.waitUntil(lambda: (panel.worker.last_epoch or 0) >= 2, timeout=RUN_TIMEOUT_MS)
        pid = panel.worker.pid
        os.kill(pid, signal.SIGKILL)
        _event_loop_runs(qtbot)
    outcome = blocker.args[0]
    run_dir = outcome.run_dir
    assert outcome.status == "failed"
    assert outcome.message == ("training process ended unexpectedly: killed by signal 9 (SIGKILL) — often the "
                               "system running out of memory; the run can be resumed from its last checkpoint")
    status = panel.progress.status.text()
    assert status.startswith("The run failed: training process ended unexpectedly: killed by signal 9 (SIGKILL)")
    assert "Training failed" in window.statusBar().currentMessage()
    _event_loop_runs(qtbot)
    assert not window.read_only and window.act_train.isEnabled() and not window.act_stop.isEnabled()
    # The run folder says so, and the process is gone (its memory went with it).
    summary = json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))
    assert summary["status"] == "failed" and summary["message"] == outcome.message
    assert summary["last_checkpoint"] == str(run_dir / "checkpoints" / "last.pt")
    assert panel.runs.infos[str(run_dir)].status == "failed"
    assert pid not in [c.pid for c in live_children()]
    assert panel.spare is not None and panel.spare.pid != pid  # the next run's process is warming up
    # The killed run recorded epochs after its last checkpoint: resuming must not repeat them.
    checkpoint = load_checkpoint(run_dir / "checkpoints" / "last.pt")
    epochs_seen = [r["epoch"] for r in _records(run_dir, "epoch")]
    assert max(epochs_seen) > checkpoint["epoch"] >= 1

    target = max(epochs_seen) + 1
    user_edit(panel.form.editor("training.epochs"), target)
    with qtbot.waitSignal(panel.run_finished, timeout=RUN_TIMEOUT_MS) as blocker:
        assert panel.resume_run(panel.runs.infos[str(run_dir)])
    resumed = blocker.args[0]
    assert resumed.status == "finished" and resumed.run_dir == run_dir
    steps = [r["step"] for r in _records(run_dir, "step")]
    assert steps == list(range(1, target * STEPS_PER_EPOCH + 1))  # each step once, in order
    assert [r["epoch"] for r in _records(run_dir, "epoch")] == list(range(1, target + 1))
    assert panel.plot.step_count() == len(steps)  # the curve dropped the killed run's extra points too
    assert json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))["status"] == "finished"


@pytest.mark.slow
@pytest.mark.parametrize(("mode", "signal_name"), [("segfault", "SIGSEGV"), ("abort", "SIGABRT")])
def test_a_training_process_that_crashes_is_reported_and_the_app_trains_again(trainer, qtbot, monkeypatch,  # noqa: ANN001
                                                                              mode: str, signal_name: str) -> None:
    monkeypatch.setenv(FAULT_ENV, f"5:{mode}")  # set after the spare started: the job brings it along
    window = trainer
    _open(window, "digits-mlp", epochs=1)
    panel = window.training
    outcome = _train(window, qtbot)
    number = int(getattr(signal, signal_name))
    assert outcome.status == "failed"
    assert outcome.message.startswith(f"training process ended unexpectedly: killed by signal {number} ({signal_name})")
    assert outcome.message.endswith("; the run can be resumed from its last checkpoint")
    assert f"({signal_name})" in panel.progress.status.text()
    assert panel.worker.last_step == 5 and panel.plot.step_count() == 5  # every step up to the crash is shown
    summary = json.loads((outcome.run_dir / "summary.json").read_text(encoding="utf-8"))
    assert summary["status"] == "failed" and signal_name in summary["message"] and summary["global_steps"] == 5
    _event_loop_runs(qtbot)

    monkeypatch.delenv(FAULT_ENV)
    assert _train(window, qtbot).status == "finished"


def test_a_run_takes_the_warm_process_and_the_next_one_is_started(trainer, qtbot, monkeypatch) -> None:  # noqa: ANN001
    window = trainer
    panel = window.training
    spare = panel.spare
    assert spare is not None and spare.wait_ready(RUN_TIMEOUT_MS / 1000)  # it says "ready" once warmed up
    _open(window, "digits-mlp", epochs=1)
    outcome = _train(window, qtbot)
    assert outcome.status == "finished"
    assert panel.worker.pid == spare.pid  # the run trained in the warm process
    assert spare.returncode == 0  # which exited after the run
    following = panel.spare
    assert following is not None and following.pid != spare.pid and following.returncode is None
    # A variable set since the spare started reaches the run: the job brings the environment.
    monkeypatch.setenv(FAULT_ENV, "3:exit")
    assert following.wait_ready(RUN_TIMEOUT_MS / 1000)
    crashed = _train(window, qtbot)
    assert panel.worker.pid == following.pid
    assert crashed.message.startswith("training process ended unexpectedly: exited with code 3")


def test_closing_the_window_ends_its_training_processes(trainer) -> None:  # noqa: ANN001
    window = trainer
    spare = window.training.spare
    assert spare is not None and spare.returncode is None
    assert window.close()
    assert spare.returncode is not None and not live_children()


def test_exit_statuses_are_said_in_words(tmp_path: Path) -> None:
    assert describe_exit(-9) == "killed by signal 9 (SIGKILL) — often the system running out of memory"
    assert describe_exit(-11) == "killed by signal 11 (SIGSEGV) — a crash in native code (a segmentation fault)"
    assert describe_exit(3) == "exited with code 3 without saying why"
    # Resumable only when there is a checkpoint to resume from.
    assert crash_message(-9, tmp_path) == ("training process ended unexpectedly: killed by signal 9 (SIGKILL) — "
                                           "often the system running out of memory")
    (tmp_path / "checkpoints").mkdir()
    (tmp_path / "checkpoints" / "last.pt").write_bytes(b"")
    assert crash_message(-6, tmp_path).endswith("; the run can be resumed from its last checkpoint")
    mark_failed(tmp_path, "gone", since=0.0, last_step=7, last_epoch=0)
    summary = json.loads((tmp_path / "summary.json").read_text(encoding="utf-8"))
    assert summary == {"status": "failed", "message": "gone", "global_steps": 7, "epochs": 0,
                       "last_checkpoint": str(tmp_path / "checkpoints" / "last.pt")}


def test_the_test_fault_is_inert_unless_set_and_checks_its_value() -> None:
    assert arm_test_fault(environ={}) is None
    assert arm_test_fault(environ={FAULT_ENV: ""}) is None
    for bad in ("5", "x:kill", "5:explode", "3:raise"):
        with pytest.raises(TrainingError, match=FAULT_ENV):
            arm_test_fault(environ={FAULT_ENV: bad})
    fault = arm_test_fault(environ={FAULT_ENV: "0:raise"})
    assert fault is not None
    fault(1)  # another step: nothing happens
    with pytest.raises(RuntimeError, match="test fault injected"):
        fault(0)
