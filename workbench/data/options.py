"""Reader options from the project file, checked one by one with messages that name them.

`DatasetSpec.options` is a free-form dict typed by hand in a project file or filled in by the
GUI; each reader takes the options it knows through `Options` and then calls `finish()`, so a
misspelt option is reported (with the valid names) instead of silently ignored.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from workbench.errors import DataError

DEFAULT_SEQ_LEN = 64  # the text sets' window length (tokens) when the project does not say


class Options:
    """A checked view of one reader's options; `where` names the source in messages."""

    def __init__(self, options: dict[str, Any] | None, where: str) -> None:
        self._raw = dict(options or {})
        self._where = where
        self._known: list[str] = []

    def _take(self, name: str) -> tuple[bool, Any]:
        self._known.append(name)
        if name in self._raw and self._raw[name] is not None:
            return True, self._raw[name]
        return False, None

    def _fail(self, name: str, value: Any, wanted: str) -> DataError:
        return DataError(f"{self._where}: option '{name}' must be {wanted}, got {value!r}")

    def int(self, name: str, default: int, minimum: int | None = None,
            maximum: int | None = None) -> int:
        present, value = self._take(name)
        if not present:
            return default
        # bool is an int subclass; `True` as a size is a typo, not a number.
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self._fail(name, value, "a whole number")
        if minimum is not None and value < minimum:
            raise self._fail(name, value, f"at least {minimum}")
        if maximum is not None and value > maximum:
            raise self._fail(name, value, f"at most {maximum}")
        return value

    def float(self, name: str, default: float, minimum: float | None = None,
              maximum: float | None = None) -> float:
        present, value = self._take(name)
        if not present:
            return default
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise self._fail(name, value, "a number")
        if minimum is not None and value < minimum:
            raise self._fail(name, value, f"at least {minimum}")
        if maximum is not None and value > maximum:
            raise self._fail(name, value, f"at most {maximum}")
        return float(value)

    def bool(self, name: str, default: bool) -> bool:
        present, value = self._take(name)
        if not present:
            return default
        if not isinstance(value, bool):
            raise self._fail(name, value, "true or false")
        return value

    def str(self, name: str, default: str | None) -> str | None:
        present, value = self._take(name)
        if not present:
            return default
        if not isinstance(value, str):
            raise self._fail(name, value, "a text")
        return value

    def choice(self, name: str, default: str, choices: Sequence[str]) -> str:
        present, value = self._take(name)
        if not present:
            return default
        if value not in choices:
            raise self._fail(name, value, "one of " + ", ".join(repr(c) for c in choices))
        return str(value)

    def str_list(self, name: str) -> list[str]:
        present, value = self._take(name)
        if not present:
            return []
        if isinstance(value, str):
            return [value]
        if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
            raise self._fail(name, value, "a list of names")
        return list(value)

    def int_pair(self, name: str) -> tuple[int, int] | None:
        present, value = self._take(name)
        if not present:
            return None
        if isinstance(value, int) and not isinstance(value, bool):
            value = [value, value]
        if (not isinstance(value, (list, tuple)) or len(value) != 2
                or not all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in value)):
            raise self._fail(name, value, "[height, width] in pixels")
        return int(value[0]), int(value[1])

    def raw(self, name: str) -> Any:
        """An option whose type the reader checks itself (e.g. a bool or a list)."""
        return self._take(name)[1]

    def finish(self) -> None:
        """Reject options this reader does not know, naming the ones it does."""
        unknown = sorted(set(self._raw) - set(self._known))
        if unknown:
            known = ", ".join(sorted(set(self._known))) or "none"
            raise DataError(
                f"{self._where}: unknown option(s) {', '.join(repr(u) for u in unknown)}; "
                f"the options it takes are: {known}"
            )
