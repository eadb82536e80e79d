"""Commands that do not train start without torch, Qt, onnx, pandas or optuna.

`workbench presets`, every `--help`, argument errors and a refused project or preset name are
run in one fresh interpreter; after each, the test reads which heavy packages `sys.modules` holds.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

from workbench.cli import _parser

HEAVY = ("torch", "PySide6", "onnx", "onnxruntime", "pandas", "optuna", "pyqtgraph")

_PROBE = """
import contextlib, io, json, sys
from workbench.cli import main
heavy = {heavy!r}
report = []
for argv in json.loads(sys.argv[1]):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(argv)
        except SystemExit as exc:
            code = exc.code
    report.append({{"argv": argv, "code": code, "out": out.getvalue(), "err": err.getvalue(),
                   "heavy": [name for name in heavy if name in sys.modules]}})
print(json.dumps(report))
"""


def _subcommands() -> list[str]:
    """Every subcommand the parser knows, so that a new one is covered without editing this test."""
    action = next(a for a in _parser()._actions if isinstance(a, argparse._SubParsersAction))
    return sorted(action.choices)


def _probe(argvs: list[list[str]]) -> list[dict]:
    result = subprocess.run([sys.executable, "-c", _PROBE.format(heavy=HEAVY), json.dumps(argvs)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_help_listing_and_refusals_import_nothing_heavy(tmp_path) -> None:
    not_json = tmp_path / "notes.txt"
    not_json.write_text("hello\n")
    argvs = [["--help"], ["--version"], ["presets"]]
    argvs += [[name, "--help"] for name in _subcommands()]
    argvs += [
        ["train"],  # a missing argument
        ["train", "digits-mlp", "--epochs", "many"],  # a bad value
        ["frobnicate"],  # an unknown command
        ["train", "no-such-preset"],
        ["info", "no-such-preset"],
        ["open", "no-such-preset"],
        ["open", str(not_json)],
        ["train", str(tmp_path / "missing.json")],
        ["import", "keras:resnet", "--out", str(tmp_path / "p.json")],
        ["sample", str(tmp_path), "--tokens", "0"],
        ["distill", str(tmp_path)],
    ]
    report = _probe(argvs)
    assert len(report) == len(argvs)
    for entry in report:
        assert entry["heavy"] == [], f"{entry['argv']} imported {entry['heavy']}"
    by_argv = {tuple(e["argv"]): e for e in report}
    presets = by_argv[("presets",)]
    assert presets["code"] == 0 and "digits-cnn" in presets["out"] and "13.7k" in presets["out"]
    for name in _subcommands():
        entry = by_argv[(name, "--help")]
        assert entry["code"] == 0 and f"usage: workbench {name}" in entry["out"], entry
    refused = by_argv[("train", "no-such-preset")]
    assert refused["code"] == 1 and refused["err"].startswith("workbench: error: no preset named 'no-such-preset'")
    assert by_argv[("train", "digits-mlp", "--epochs", "many")]["code"] == 2

