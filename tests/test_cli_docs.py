"""The README's command list is the argument parser's: a change to either without the other fails."""

from __future__ import annotations

import argparse
from pathlib import Path

from workbench.cli import _parser
from workbench.cli_docs import END, START, command_reference, main, updated

README = Path(__file__).resolve().parents[1] / "README.md"


def test_the_readme_command_list_is_current() -> None:
    text = README.read_text(encoding="utf-8")
    assert updated(text, command_reference()) == text, "run: python -m workbench.cli_docs"


def test_every_command_and_option_is_listed() -> None:
    reference = command_reference()
    parser = _parser()
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    for name, sub in commands.choices.items():
        assert f"\nworkbench {name}" in reference, name
        for action in sub._actions:
            if action.option_strings and not isinstance(action, argparse._HelpAction):
                assert max(action.option_strings, key=len) in reference, (name, action.option_strings)
    for must in ("workbench bench [--quick]", "[--quiet]", "[--checkpoint best|last]", "[--seed N]",
                 "--out PROJECT.json", "workbench open [PROJECT]"):
        assert must in reference


def test_check_and_rewrite(tmp_path: Path, capsys) -> None:  # noqa: ANN001
    stale = tmp_path / "README.md"
    stale.write_text(f"# x\n\n{START}\n```text\nworkbench frobnicate\n```\n{END}\n\nafter\n", encoding="utf-8")
    assert main([str(stale), "--check"]) == 1
    assert "frobnicate" in stale.read_text(encoding="utf-8")
    assert main([str(stale)]) == 0
    text = stale.read_text(encoding="utf-8")
    assert "frobnicate" not in text and text.endswith(f"{END}\n\nafter\n") and "workbench train PROJECT" in text
    assert main([str(stale), "--check"]) == 0
