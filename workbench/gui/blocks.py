"""The user's block library: named fragments (e.g. "Transformer block") kept as JSON.

A block is a saved selection of layers with the edges between them; inserting it adds fresh
copies of those layers. The file is plain JSON in the config folder, rewritten atomically.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from workbench.files import write_json_atomic

log = logging.getLogger(__name__)
FORMAT = "workbench-blocks"


class BlockLibrary:
    """Named fragments, in the order they were saved."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.blocks: dict[str, dict[str, Any]] = {}
        self.load()

    def load(self) -> None:
        self.blocks = {}
        if not self.path.is_file():
            return
        try:
            record = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            log.warning("block library %s cannot be read: %s", self.path, exc)
            return
        for item in record.get("blocks", []) if isinstance(record, dict) else []:
            if isinstance(item, dict) and isinstance(item.get("name"), str) and isinstance(item.get("graph"), dict):
                self.blocks[item["name"]] = item

    def names(self) -> list[tuple[str, str]]:
        """(name, description) of every block."""
        return [(name, str(item.get("description", ""))) for name, item in self.blocks.items()]

    def fragment(self, name: str) -> dict[str, Any]:
        return self.blocks[name]["graph"]

    def save(self, name: str, fragment: dict[str, Any], description: str = "") -> None:
        self.blocks[name] = {"name": name, "description": description, "graph": fragment}
        self._write()

    def remove(self, name: str) -> None:
        self.blocks.pop(name, None)
        self._write()

    def _write(self) -> None:
        record = {"kind": FORMAT, "format_version": 1, "blocks": list(self.blocks.values())}
        write_json_atomic(self.path, record)
