"""The command line, export folders, the Docker folder's standalone server, and a clean stop."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from workbench.cli import main as cli
from workbench.errors import ServeError
from workbench.serve.card import read_card
from workbench.serve.prepare import prepare_target


@pytest.mark.parametrize(("extra", "words"), [
    (["--workers", "0"], "--workers must be at least 1"),
    (["--max-batch", "0"], "--max-batch must be from 1"),
    (["--max-wait-ms", "-1"], "--max-wait-ms must be from 0"),
    (["--max-body-mb", "0"], "--max-body-mb must be more than 0"),
    (["--port", "70000"], "--port must be from 0 to 65535"),
])
def test_cli_refuses_settings_out_of_range(digits_run, capsys, extra, words) -> None:
    assert cli(["serve", str(digits_run), *extra]) == 1
    assert words in capsys.readouterr().err


def test_cli_names_a_folder_it_cannot_serve(tmp_path, capsys) -> None:
    assert cli(["serve", str(tmp_path / "nowhere")]) == 1
    assert "no such folder" in capsys.readouterr().err
    (tmp_path / "empty").mkdir()
    assert cli(["serve", str(tmp_path / "empty")]) == 1
    assert "neither a run folder" in capsys.readouterr().err


def test_an_export_folder_serves_its_recommended_variant_or_the_named_one(digits_run, tmp_path) -> None:
    from workbench.export import ExportOptions, export_run

    export = tmp_path / "export"
    report = export_run(digits_run, export, ExportOptions(quantize=("int8-dynamic",), latency_repeats=2))
    recommended = next(v.name for v in report.variants if v.recommended)
    card = read_card(prepare_target(export, tmp_path / "a"))
    assert card.variant == recommended
    assert card.accuracy == pytest.approx(report.variant(recommended).val_accuracy)
    card = read_card(prepare_target(export, tmp_path / "b", variant="original"))
    assert card.variant == "original" and card.model_file == "model.onnx" and card.kind == "image"
    with pytest.raises(ServeError, match="no variant 'fp16'.*'original', 'int8-dynamic'"):
        prepare_target(export, tmp_path / "c", variant="fp16")


def test_the_docker_folder_runs_without_workbench_torch_or_qt(digits_run, tmp_path) -> None:
    out = tmp_path / "image"
    assert cli(["serve", str(digits_run), "--write-dockerfile", str(out), "--max-batch", "16"]) == 0
    dockerfile = (out / "Dockerfile").read_text()
    requirements = (out / "requirements.txt").read_text()
    assert "serve_app.server" in dockerfile and '"--max-batch", "16"' in dockerfile
    assert {line.split("==")[0] for line in requirements.split()} == {"onnxruntime", "numpy", "pillow", "fastapi", "uvicorn"}
    assert (out / "model" / "model.onnx").is_file() and (out / "model" / "serve.json").is_file()
    assert (out / "serve_app" / "static" / "index.html").is_file()
    script = f"""
import sys
sys.path.insert(0, {str(out)!r})
from fastapi.testclient import TestClient
from serve_app.app import create_app
with TestClient(create_app({str(out / 'model')!r})) as client:
    answer = client.post("/predict", json={{"instances": [[[0.5] * 8] * 8]}}).json()
    assert client.get("/").status_code == 200
heavy = sorted(m for m in sys.modules if m.split(".")[0] in ("workbench", "torch", "PySide6", "torchvision"))
print(answer["predictions"][0]["class"], heavy)
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    cls, heavy = done.stdout.strip().split(" ", 1)
    assert cls in [str(i) for i in range(10)] and heavy == "[]"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_sigterm_answers_the_request_in_flight_then_exits(digits_run, tmp_path) -> None:
    out = tmp_path / "image"
    assert cli(["serve", str(digits_run), "--write-dockerfile", str(out)]) == 0
    port = _free_port()
    # a long batching wait keeps the one request in flight while the signal arrives
    process = subprocess.Popen([sys.executable, "-m", "serve_app.server", "model", "--host", "127.0.0.1",
                                "--port", str(port), "--max-wait-ms", "1000"], cwd=out,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/health", timeout=5).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert process.poll() is None and time.monotonic() < deadline, process.stderr.read() if process.poll() is not None else "no start"
            time.sleep(0.1)
        result: dict[str, object] = {}

        def ask() -> None:
            result["response"] = httpx.post(f"{base}/predict", json={"instances": [[[0.5] * 8] * 8]}, timeout=60)

        asker = threading.Thread(target=ask)
        asker.start()
        time.sleep(0.3)  # the request is waiting in the batcher
        process.send_signal(signal.SIGTERM)
        asker.join(60)
        code = process.wait(60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    response = result["response"]
    assert response.status_code == 200 and response.json()["predictions"][0]["class"]
    assert code == 0
    assert "Serving digits-mlp at http://127.0.0.1:" in process.stderr.read()


def test_a_read_only_run_folder_is_exported_beside_the_served_folder(digits_run, tmp_path, monkeypatch) -> None:
    import os
    import shutil

    import workbench.serve.prepare as prepare

    copy = tmp_path / "shared-run"
    shutil.copytree(digits_run, copy, ignore=shutil.ignore_patterns("serve-export"))
    # a read-only folder as a non-root user sees it (root writes anywhere)
    monkeypatch.setattr(prepare.os, "access", lambda path, mode: Path(path) != copy and os.access(path, mode))
    card = read_card(prepare_target(copy, tmp_path / "work" / "model"))
    assert card.variant == "original" and (tmp_path / "work" / "serve-export" / "report.json").is_file()
    assert not (copy / "serve-export").exists()


def test_the_standalone_server_names_a_damaged_card(tmp_path) -> None:
    out = tmp_path / "image"
    (out / "model").mkdir(parents=True)
    from workbench.serve.docker import copy_runtime

    copy_runtime(out)
    (out / "model" / "serve.json").write_text('{"task": "classification"}')
    done = subprocess.run([sys.executable, "-m", "serve_app.server", "model"], cwd=out, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 1 and "field 'loss' must be a text" in done.stderr


@pytest.mark.slow
def test_workbench_serve_prints_its_url_answers_and_stops_on_ctrl_c(digits_run, served, tmp_path) -> None:
    served(digits_run)  # the run's ONNX export exists: the command reuses it
    process = subprocess.Popen([sys.executable, "-m", "workbench", "serve", str(digits_run), "--port", "0"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path)
    try:
        line = process.stderr.readline()
        assert line.startswith("Serving digits-mlp at http://127.0.0.1:"), line + process.stderr.read()
        base = line.split(" at ", 1)[1].split("/ ", 1)[0]
        deadline = time.monotonic() + 60
        while True:
            try:
                health = httpx.get(f"{base}/health", timeout=5)
                break
            except httpx.TransportError:
                assert process.poll() is None and time.monotonic() < deadline
                time.sleep(0.1)
        assert health.json() == {"status": "ok", "variant": "original"}
        assert httpx.get(f"{base}/metadata", timeout=5).json()["project"] == "digits-mlp"
        process.send_signal(signal.SIGINT)
        assert process.wait(60) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
