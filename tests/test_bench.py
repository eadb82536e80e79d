"""`workbench bench`: every piece runs and every key the issue asks for comes out as a number.

The pieces run at smoke size (one epoch, a few repetitions: seconds, numbers without meaning)
in a child process, so the Qt application, the training threads and the benchmarks' own
interpreter settings stay out of this test session. No timing is asserted: timings belong in
benchmarks/, and this machine is shared.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

from workbench import bench
from workbench.cli import _parser

SMOKE = (
    "import sys\n"
    "from workbench.bench import run_benchmarks, write_json\n"
    "results = run_benchmarks(quick=True, smoke=True)\n"
    "write_json(results, sys.argv[1])\n"
    "sys.exit(1 if results.get('errors') else 0)\n"
)


@pytest.mark.slow
def test_every_key_is_a_number(tmp_path: Path) -> None:
    out = tmp_path / "out.json"
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", WORKBENCH_CONFIG_DIR=str(tmp_path / "config"))
    result = subprocess.run([sys.executable, "-c", SMOKE, str(out)], capture_output=True, text=True,
                            timeout=300, env=env, cwd=tmp_path)
    data = json.loads(out.read_text()) if out.is_file() else {}
    assert result.returncode == 0, (data.get("errors"), result.stderr[-3000:])
    for key in bench.REQUIRED_KEYS:
        assert isinstance(data.get(key), (int, float)) and not isinstance(data.get(key), bool), key
    assert math.isfinite(data["train_throughput_ratio"])
    assert data["train_throughput_ratio"] == min(data[f"train_throughput_ratio_{m}"] for m in ("mlp", "cnn", "transformer"))
    assert data["machine"]["cores"] and data["settings"]["smoke"] is True
    if data["machine"]["gpu"] is None:
        assert set(data["skipped"]) == set(bench.CUDA_KEYS)


def test_table_marks_goals() -> None:
    results = {"train_throughput_ratio": 0.99, "startup_to_window_s": 2.0, "onnx_vs_torch_latency_ratio_batch1": 0.5,
               "skipped": {"train_throughput_ratio_cuda": "no CUDA device on this machine"}}
    rows = {r[0]: r for r in bench.table_rows(results)}
    assert rows["train_throughput_ratio"][3] == "yes"
    assert rows["startup_to_window_s"][3] == "NO"
    assert rows["onnx_vs_torch_latency_ratio_batch1"][2:] == ("", "")
    assert rows["gui_train_throughput_ratio"][1:] == ("—", ">= 0.95", "not measured")
    assert rows["train_throughput_ratio_cuda"][3].startswith("skipped")
    assert "| `train_throughput_ratio` | 0.990 | >= 0.98 | yes |" in bench.format_table(results, markdown=True)


def test_cli_has_bench() -> None:
    args = _parser().parse_args(["bench", "--quick", "--json", "out.json"])
    assert args.command == "bench" and args.quick and args.json == "out.json"
