"""The README's command list, written from the argument parser so that the two cannot drift.

`python -m workbench.cli_docs` rewrites the block between the markers in README.md (`--check`
only says whether it is current; a test runs that check). Each command is shown as its usage,
wrapped, then its one-line help.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

START = "<!-- commands: generated from the argument parser by `python -m workbench.cli_docs`; do not edit by hand -->"
END = "<!-- end of commands -->"
WIDTH = 100


def _option(action: argparse.Action) -> str:
    """`[--epochs N]`, `--out DIR`, `[--checkpoint best|last]`, `[--quiet]`."""
    flag = max(action.option_strings, key=len)  # the long form reads best
    if action.nargs == 0:
        shown = flag
    else:
        shown = f"{flag} {_metavar(action)}"
    return shown if action.required else f"[{shown}]"


def _metavar(action: argparse.Action) -> str:
    if action.choices is not None:
        return "|".join(str(c) for c in action.choices)
    metavar = action.metavar
    if isinstance(metavar, tuple):
        return " ".join(metavar)
    if metavar is None:
        metavar = {int: "N", float: "X"}.get(action.type, action.dest.upper())  # type: ignore[arg-type]
    if action.nargs == "*":
        return f"[{metavar} ...]"
    if action.nargs == "+":
        return f"{metavar} [{metavar} ...]"
    if isinstance(action.nargs, int) and action.nargs > 1:
        return " ".join([metavar] * action.nargs)
    return metavar


def _positional(action: argparse.Action) -> str:
    name = action.metavar if isinstance(action.metavar, str) else action.dest.upper()
    return f"[{name}]" if action.nargs == "?" else name


def _usage(prog: str, parser: argparse.ArgumentParser) -> list[str]:
    parts = []
    for action in parser._actions:
        if isinstance(action, (argparse._HelpAction, argparse._SubParsersAction)):
            continue
        parts.append(_option(action) if action.option_strings else _positional(action))
    # Positionals first, as they are typed; then the options in their declared order.
    parts.sort(key=lambda p: p.startswith(("[-", "-")))
    indent = " " * (len(prog) + 1)
    lines = [prog]
    for part in parts:  # wrapped between options, never inside one
        if len(lines[-1]) + 1 + len(part) > WIDTH and lines[-1].strip():
            lines.append(indent + part)
        else:
            lines[-1] += " " + part
    return lines


def command_reference(parser: argparse.ArgumentParser | None = None) -> str:
    """Every command's usage and help, as the README shows them (a ```text block)."""
    if parser is None:
        from workbench.cli import _parser

        parser = _parser()
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    helps = {choice.dest: choice.help for choice in commands._choices_actions}
    lines = ["```text", *_usage("workbench", parser), "    open the app (the same as `workbench open`)"]
    for name, sub in commands.choices.items():
        lines += _usage(f"workbench {name}", sub)
        lines.append(f"    {helps.get(name) or sub.description or ''}".rstrip())
    lines.append("```")
    return "\n".join(lines) + "\n"


def updated(text: str, reference: str) -> str:
    """`text` (the README) with the block between the markers replaced by `reference`."""
    if START not in text or END not in text:
        raise SystemExit(f"the README has no command block: put {START!r} and {END!r} where it goes")
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{START}\n{reference}{END}{tail}"


def main(argv: list[str] | None = None) -> int:
    """Rewrite (or with --check, only compare) the README's command block."""
    parser = argparse.ArgumentParser(prog="python -m workbench.cli_docs", description=__doc__.splitlines()[0])
    parser.add_argument("readme", nargs="?", type=Path, default=Path("README.md"), help="default: README.md")
    parser.add_argument("--check", action="store_true", help="exit 1 when the block is not current; write nothing")
    args = parser.parse_args(argv)
    text = args.readme.read_text(encoding="utf-8")
    new = updated(text, command_reference())
    if new == text:
        print(f"{args.readme}: the command list is current")
        return 0
    if args.check:
        print(f"{args.readme}: the command list differs from the parser; run python -m workbench.cli_docs",
              file=sys.stderr)
        return 1
    args.readme.write_text(new, encoding="utf-8")
    print(f"{args.readme}: command list rewritten")
    return 0


if __name__ == "__main__":
    sys.exit(main())
