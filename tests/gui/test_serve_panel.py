"""Run › Serve…: the panel starts `workbench serve` on a trained run in a child process, shows its
URL and live counts, and stops it; errors (no run, port in use, a server that exits) are shown
with the server's own words."""

from __future__ import annotations

import os
import re
import socket
from pathlib import Path

import httpx
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication

from workbench.cli import main as cli
from workbench.gui.serve_panel import FAILED, SERVING, STOPPED, ServePanel

START_MS = 180_000  # exporting the run to ONNX and loading it: seconds on a busy 2-core machine


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("serve-runs") / "runs" / "digits-mlp-1"
    assert cli(["train", "digits-mlp", "--epochs", "1", "--device", "cpu", "--out", str(out), "--quiet"]) == 0
    return out


@pytest.fixture
def panel(qtbot):  # noqa: ANN001, ANN201
    panel = ServePanel(None)
    qtbot.addWidget(panel)
    panel.show()
    yield panel
    panel.server.shutdown()


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


@pytest.mark.slow
def test_the_panel_serves_a_run_counts_its_requests_and_stops_it(qtbot, panel, tiny_run) -> None:
    panel.add_run_folder(tiny_run)
    assert panel.selected_run() == tiny_run
    assert panel.start()
    assert not panel.start_button.isEnabled() and not panel.run_combo.isEnabled()
    qtbot.waitUntil(lambda: panel.server.state in (SERVING, FAILED), timeout=START_MS)
    assert panel.server.state == SERVING, panel.server.message
    url = panel.server.url
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+", url)
    assert f'href="{url}/"' in panel.url_label.text() and panel.copy_button.isEnabled()
    panel.copy_url()
    assert QGuiApplication.clipboard().text() == url + "/"
    assert panel.requests_label.text() == "0 answered · 0 errors"
    good = httpx.post(f"{url}/predict", json={"instances": [[[0.5] * 8] * 8]}, timeout=30)
    assert good.status_code == 200 and good.json()["predictions"][0]["class"] in [str(i) for i in range(10)]
    assert httpx.post(f"{url}/predict", json={"instances": [[0.5] * 8]}, timeout=30).status_code == 422
    qtbot.waitUntil(lambda: panel.requests_label.text() == "2 answered · 1 error", timeout=10_000)
    assert re.fullmatch(r"\d+\.\d ms mean; \d+\.\d ms in the last second", panel.latency_label.text())
    pid = panel.server.pid
    assert pid is not None and not _gone(pid)
    qtbot.mouseClick(panel.stop_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.server.state == STOPPED, timeout=30_000)
    assert _gone(pid) and panel.server.pid is None
    assert panel.start_button.isEnabled() and panel.status_label.text() == "Stopped."
    with pytest.raises(httpx.TransportError):
        httpx.get(f"{url}/health", timeout=5)


@pytest.mark.slow
def test_closing_the_panel_keeps_serving_and_closing_the_window_stops_it(qtbot, window, tiny_run) -> None:
    from PySide6.QtGui import QAction

    serve = next(a for a in window.run_menu.actions() if isinstance(a, QAction) and a.text() == "Ser&ve…")
    serve.trigger()
    panel = window.serving.panel
    assert panel is not None and panel.isVisible()
    assert "keeps the server running" in panel.note.text()
    panel.add_run_folder(tiny_run)
    assert panel.start()
    qtbot.waitUntil(lambda: panel.server.state in (SERVING, FAILED), timeout=START_MS)
    assert panel.server.state == SERVING, panel.server.message
    pid = panel.server.pid
    panel.close()
    assert panel.server.state == SERVING and not _gone(pid)
    assert httpx.get(f"{panel.server.url}/health", timeout=10).json()["status"] == "ok"
    serve.trigger()  # shows the same panel, still serving
    assert window.serving.panel is panel and panel.isVisible() and panel.server.pid == pid
    window.close()
    assert _gone(pid)


def test_starting_without_a_run_says_so(qtbot, panel) -> None:
    assert panel.selected_run() is None
    assert not panel.start()
    assert "No run selected" in panel.status_label.text()
    assert panel.start_button.isEnabled()


def test_a_folder_that_is_not_a_run_is_named(qtbot, panel, tmp_path) -> None:
    panel.add_run_folder(tmp_path)
    assert not panel.start()
    assert panel.status_label.text() == f"{tmp_path}: not a complete run folder (project.json is missing) — train it with 'workbench train'"


def test_a_port_in_use_is_named_before_starting(qtbot, panel, tiny_run) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        panel.add_run_folder(tiny_run)
        panel.port_spin.setValue(port)
        assert not panel.start()
        assert f"port {port} is in use" in panel.status_label.text()
        assert panel.server.pid is None


def test_a_server_that_exits_shows_its_last_words(qtbot, panel, tiny_run, tmp_path) -> None:
    import shutil

    broken = tmp_path / "broken-run"
    shutil.copytree(tiny_run, broken, ignore=shutil.ignore_patterns("serve-export"))
    (broken / "project.json").write_text("{not json", encoding="utf-8")
    panel.add_run_folder(broken)
    assert panel.start()
    qtbot.waitUntil(lambda: panel.server.state == FAILED, timeout=START_MS)
    text = panel.status_label.text()
    assert text.startswith("the server exited with code 1: workbench: error:"), text
    assert "project.json" in text
    assert "workbench: error:" in panel.output.toPlainText()
    assert panel.start_button.isEnabled() and panel.server.pid is None
