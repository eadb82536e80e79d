"""The core's message catalogs: collect what needs translating, keep the `.po` files, compile `.mo`.

    python -m workbench.i18n_catalog           # refresh assets/i18n/workbench_core_*.po, compile the .mo
    python -m workbench.i18n_catalog --check   # exit 1 if a .po lacks a message or a translation, or a .mo is stale

The messages are: every string the core marks with `_()` or `N_()` (found in the source, outside
workbench/gui, which Qt translates), every layer's one-line doc (the registry) and every preset's
title and description. Refreshing keeps the translations there are, adds new messages with an empty
translation (to be filled in by hand, in any editor) and drops messages no longer used. Compiling
is Python's own msgfmt in a few lines (the standard library's gettext reads the result): no
GNU gettext or Babel needed.
"""

from __future__ import annotations

import argparse
import ast
import struct
import sys
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path

from workbench.i18n import LANGUAGES, catalog_name

HEADER = "Content-Type: text/plain; charset=UTF-8\nContent-Transfer-Encoding: 8bit\nLanguage: {language}\n"


@dataclass
class Entry:
    """One message of a catalog: its English text, its translation and where it comes from."""

    msgid: str
    msgstr: str = ""
    where: list[str] = field(default_factory=list)


def source_messages(root: Path | None = None) -> dict[str, list[str]]:
    """Strings passed to `_()` or `N_()` in the core's source (the installed package, or `root`),
    with the files that use them."""
    if root is None:
        root = Path(str(files("workbench")))
    found: dict[str, list[str]] = {}
    for path in sorted(root.rglob("*.py")):
        relative = path.relative_to(root.parent)
        if "gui" in relative.parts or "__pycache__" in relative.parts:
            continue
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"))
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("_", "N_")
                    and node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
                where = found.setdefault(node.args[0].value, [])
                if str(relative) not in where:
                    where.append(str(relative))
    return found


def declared_messages() -> dict[str, list[str]]:
    """The layers' docs and the presets' titles and descriptions, with what declares them."""
    from workbench.layers.registry import all_layer_specs
    from workbench.presets import list_presets

    found: dict[str, list[str]] = {}
    for spec in all_layer_specs():
        if spec.doc:
            found.setdefault(spec.doc, []).append(f"layer {spec.type_id}")
    for info in list_presets(parameters=False):
        for text in (getattr(info, "title", "") or "", info.description or ""):
            if text:
                found.setdefault(text, []).append(f"preset {info.name}")
    return found


def all_messages() -> dict[str, list[str]]:
    """Every message the catalogs must hold."""
    messages = declared_messages()
    for text, where in source_messages().items():
        messages.setdefault(text, []).extend(where)
    return messages


# ----- .po files ------------------------------------------------------------------------------


def _quote(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\t", "\\t").replace("\n", "\\n")
    return f'"{escaped}"'


def _unquote(token: str) -> str:
    body = token.strip()[1:-1]
    out, i = [], 0
    while i < len(body):
        c = body[i]
        if c == "\\" and i + 1 < len(body):
            nxt = body[i + 1]
            out.append({"n": "\n", "t": "\t", '"': '"', "\\": "\\"}.get(nxt, nxt))
            i += 2
        else:
            out.append(c)
            i += 1
    return "".join(out)


def read_po(path: Path) -> list[Entry]:
    """The entries of a .po file (the header, msgid "", included first); a missing file has none."""
    if not path.is_file():
        return []
    entries: list[Entry] = []
    current: Entry | None = None
    field_name = ""
    where: list[str] = []
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if line.startswith("#:"):
            where.append(line[2:].strip())
        elif line.startswith("msgid "):
            current = Entry(_unquote(line[6:]), where=where)
            where = []
            entries.append(current)
            field_name = "msgid"
        elif line.startswith("msgstr ") and current is not None:
            current.msgstr = _unquote(line[7:])
            field_name = "msgstr"
        elif line.startswith('"') and current is not None:
            if field_name == "msgid":
                current.msgid += _unquote(line)
            else:
                current.msgstr += _unquote(line)
    return entries


def write_po(path: Path, entries: list[Entry], language: str) -> None:
    """Write the entries (header first) as a .po file."""
    lines = [f"# Workbench's own messages (the core: problems, refusals, layer docs, presets), {language}.",
             "# Refresh with `python -m workbench.i18n_catalog`; translate every empty msgstr.",
             'msgid ""', "msgstr " + _quote(HEADER.format(language=language)), ""]
    for entry in entries:
        if not entry.msgid:
            continue
        lines += [f"#: {w}" for w in entry.where]
        lines += [f"msgid {_quote(entry.msgid)}", f"msgstr {_quote(entry.msgstr)}", ""]
    path.write_text("\n".join(lines), encoding="utf-8")


def refreshed(entries: list[Entry], messages: dict[str, list[str]]) -> list[Entry]:
    """The catalog for `messages`: existing translations kept, new messages untranslated, in the
    order of `messages`; messages no longer used are dropped."""
    known = {e.msgid: e.msgstr for e in entries}
    return [Entry(text, known.get(text, ""), sorted(set(where))) for text, where in messages.items()]


# ----- .mo files ------------------------------------------------------------------------------


def compile_mo(entries: list[Entry], language: str) -> bytes:
    """The GNU .mo file of the translated entries (what `gettext.GNUTranslations` reads)."""
    pairs = {"": HEADER.format(language=language)}
    pairs.update({e.msgid: e.msgstr for e in entries if e.msgid and e.msgstr})
    keys = sorted(pairs)
    ids = b""
    strs = b""
    offsets = []
    for key in keys:
        k, v = key.encode("utf-8"), pairs[key].encode("utf-8")
        offsets.append((len(ids), len(k), len(strs), len(v)))
        ids += k + b"\0"
        strs += v + b"\0"
    start = 7 * 4 + 16 * len(keys)  # header, then the two tables of (length, offset)
    key_table, value_table = [], []
    for key_offset, key_length, value_offset, value_length in offsets:
        key_table += [key_length, start + key_offset]
        value_table += [value_length, start + len(ids) + value_offset]
    header = struct.pack("Iiiiiii", 0x950412DE, 0, len(keys), 7 * 4, 7 * 4 + 8 * len(keys), 0, 0)
    return header + struct.pack(f"{len(key_table)}i", *key_table) + struct.pack(f"{len(value_table)}i", *value_table) \
        + ids + strs


def catalog_dir() -> Path:
    """assets/i18n/ (shipped as workbench._assets/i18n)."""
    from workbench.resources import asset_path

    return asset_path("i18n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if anything is out of date")
    args = parser.parse_args(argv)
    messages = all_messages()
    folder = catalog_dir()
    stale: list[str] = []
    for language in LANGUAGES:
        if language == "en":
            continue
        po, mo = folder / catalog_name(language, ".po"), folder / catalog_name(language, ".mo")
        entries = refreshed(read_po(po), messages)
        missing = [e.msgid for e in entries if not e.msgstr]
        if args.check:
            if [e.msgid for e in read_po(po) if e.msgid] != [e.msgid for e in entries]:
                stale.append(f"{po.name} is not up to date with the messages: run python -m workbench.i18n_catalog")
            if not mo.is_file() or mo.read_bytes() != compile_mo(read_po(po), language):
                stale.append(f"{mo.name} is not compiled from {po.name}: run python -m workbench.i18n_catalog")
        else:
            write_po(po, entries, language)
            mo.write_bytes(compile_mo(entries, language))
            print(f"{po}: {len(entries)} messages, {len(missing)} untranslated")
        stale += [f"{po.name}: no translation of {text!r}" for text in missing]
    for line in stale:
        print(line, file=sys.stderr)
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
