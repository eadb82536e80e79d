"""Every command ends a user's mistake the same way: `workbench: error: ...` on stderr, no traceback."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from workbench.cli import _parser, main
from workbench.presets import EXPECTED_PROJECT


def _subcommands() -> list[str]:
    action = next(a for a in _parser()._actions if isinstance(a, argparse._SubParsersAction))
    return sorted(action.choices)


def _bad_inputs(tmp: Path) -> list[list[str]]:
    not_json = tmp / "notes.txt"
    not_json.write_text("root:x:0:0:root:/root:/bin/bash\n")
    missing = str(tmp / "missing")
    return [
        ["open", str(not_json)],
        ["open", "no-such-preset"],
        ["presets", "extra"],
        ["info", str(not_json)],
        ["info", "digits-mlp", "--batch-size", "0"],
        ["import", "keras:resnet", "--out", str(tmp / "p.json")],
        ["import", str(tmp / "missing.onnx"), "--out", str(tmp / "p.json")],
        ["train", str(not_json)],
        ["train", "digits-mlp", "--target", "y"],
        ["train", "digits-mlp", "--nnodes", "2"],
        ["export", missing, "--out", str(tmp / "e")],
        ["evaluate", missing, "--data", missing],
        ["distill", missing],
        ["sample", missing],
        ["sample", missing, "--temperature", "0"],
        ["serve", missing],
        ["bench", "--json"],
        ["tune", "no-such-preset"],
        ["tune", "digits-mlp", "--trials", "many"],
    ]


def test_every_bad_input_ends_with_the_one_error_format(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for argv in _bad_inputs(tmp_path):
        try:
            code = main(argv)
        except SystemExit as exc:  # argparse's own refusals
            code = exc.code
        err = capsys.readouterr().err
        assert code in (1, 2), (argv, code, err)
        last = err.strip().splitlines()[-1]
        assert last.startswith("workbench: error: "), (argv, err)
        assert "Traceback" not in err, argv


def test_unknown_option_of_every_command_is_named_with_its_help(capsys: pytest.CaptureFixture[str]) -> None:
    for name in _subcommands():
        with pytest.raises(SystemExit) as exc:
            main([name, "--no-such-option"])
        err = capsys.readouterr().err
        assert exc.value.code == 2
        last = err.strip().splitlines()[-1]
        assert last.startswith(f"workbench: error: {name}: ") and last.endswith(f"(see workbench {name} --help)"), err
        assert err.startswith(f"usage: workbench {name}"), err

def test_a_file_that_is_no_project_says_what_was_expected(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    passwd = tmp_path / "passwd"
    passwd.write_text("root:x:0:0:root:/root:/bin/bash\n")
    assert main(["open", str(passwd)]) == 1
    err = capsys.readouterr().err
    assert err == (f"workbench: error: {passwd}: not valid JSON at line 1, column 1: Expecting value; "
                   f"{EXPECTED_PROJECT}\n")
    assert EXPECTED_PROJECT == "expected a Workbench project (.json) or a preset name (see `workbench presets`)"


def test_a_broken_workbench_project_names_its_field_without_the_hint(tmp_path: Path,
                                                                     capsys: pytest.CaptureFixture[str]) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text('{"format_version": 1, "name": 5}')
    assert main(["info", str(broken)]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"workbench: error: {broken}: ") and "name: expected a non-empty text, got 5" in err
    assert EXPECTED_PROJECT not in err
