"""`python -m workbench.serve.child`: `workbench serve` that ends when its stdin closes, so a server
started by the app never outlives it."""

from __future__ import annotations

import subprocess
import sys
import time

import httpx


def test_the_server_drains_and_exits_when_its_stdin_closes(digits_run, served, tmp_path) -> None:
    served(digits_run)  # the run's ONNX export exists: the child reuses it
    process = subprocess.Popen([sys.executable, "-m", "workbench.serve.child", str(digits_run), "--port", "0"],
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               cwd=tmp_path)
    try:
        line = process.stderr.readline()
        assert line.startswith("Serving digits-mlp at http://127.0.0.1:"), line + process.stderr.read()
        base = line.split(" at ", 1)[1].split("/ ", 1)[0]
        deadline = time.monotonic() + 60
        while True:
            try:
                assert httpx.get(f"{base}/health", timeout=5).json()["status"] == "ok"
                break
            except httpx.TransportError:
                assert process.poll() is None and time.monotonic() < deadline
                time.sleep(0.1)
        process.stdin.close()  # what the app's death does to the pipe
        assert process.wait(60) == 0
        assert "Fatal" not in process.stderr.read()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
