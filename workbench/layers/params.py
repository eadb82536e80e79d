"""Typed layer parameters: declared once, used to validate values and to generate forms."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

from workbench.errors import GraphError

ParamKind = Literal["int", "float", "bool", "choice", "ints"]


class ParamError(GraphError):
    """A parameter value is refused; the message names the parameter and what it accepts."""


@dataclass(frozen=True)
class ParamSpec:
    """One parameter of a layer type: its kind, default, allowed values and a one-line doc."""

    name: str
    kind: ParamKind
    default: Any
    doc: str
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] = ()
    length: tuple[int, int] | None = None  # for "ints": allowed (min, max) number of items
    optional: bool = False  # None is accepted (e.g. "no limit")

    def describe(self) -> str:
        """What the parameter accepts, in words, for messages and tooltips."""
        if self.kind == "choice":
            return "one of " + ", ".join(repr(c) for c in self.choices)
        if self.kind == "bool":
            return "true or false"
        if self.kind == "ints":
            lo, hi = self.length or (1, 8)
            count = f"{lo}" if lo == hi else f"{lo} to {hi}"
            return f"a list of {count} integers" + self._range_words()
        noun = "an integer" if self.kind == "int" else "a number"
        return noun + self._range_words()

    def _range_words(self) -> str:
        lo, hi = self.minimum, self.maximum
        if lo is not None and hi is not None:
            return f" from {_num(lo)} to {_num(hi)}"
        if lo is not None:
            return f" ≥ {_num(lo)}"
        if hi is not None:
            return f" ≤ {_num(hi)}"
        return ""

    def validate(self, value: Any) -> Any:
        """Return the value in canonical form or raise ParamError saying what is accepted."""
        if value is None and self.optional:
            return None
        checked = _CHECKERS[self.kind](self, value)
        if checked is _INVALID:
            raise ParamError(f"'{self.name}' must be {self.describe()}, got {show_value(value)}")
        return checked


def show_value(value: Any, limit: int = 40) -> str:
    """A value as messages quote it: repr, cut to `limit` characters, printable on any terminal.

    A huge integer is described rather than converted (Python refuses to turn integers of more
    than 4,300 digits into text), and lone surrogates, which no terminal can encode, are escaped.
    """
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 200:
        return f"a {'negative ' if value < 0 else ''}number of about {int(value.bit_length() * math.log10(2))} digits"
    try:
        text = repr(value)
    except (ValueError, RecursionError):  # a huge integer or a deeply nested list inside
        text = f"<{type(value).__name__}>"
    text = text if len(text) <= limit else text[: limit - 3] + "..."
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


_INVALID = object()


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)


def _in_range(spec: ParamSpec, x: float) -> bool:
    return (spec.minimum is None or x >= spec.minimum) and (spec.maximum is None or x <= spec.maximum)


def _check_int(spec: ParamSpec, value: Any) -> Any:
    if isinstance(value, bool):
        return _INVALID
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if not isinstance(value, int) or not _in_range(spec, value):
        return _INVALID
    return value


def _check_float(spec: ParamSpec, value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return _INVALID
    try:
        value = float(value)
    except OverflowError:  # an integer beyond the largest float
        return _INVALID
    if not math.isfinite(value) or not _in_range(spec, value):
        return _INVALID
    return value


def _check_bool(spec: ParamSpec, value: Any) -> Any:
    return value if isinstance(value, bool) else _INVALID


def _check_choice(spec: ParamSpec, value: Any) -> Any:
    return value if isinstance(value, str) and value in spec.choices else _INVALID


def _check_ints(spec: ParamSpec, value: Any) -> Any:
    if not isinstance(value, (list, tuple)):
        return _INVALID
    lo, hi = spec.length or (1, 8)
    if not lo <= len(value) <= hi:
        return _INVALID
    items = [_check_int(spec, v) for v in value]
    return _INVALID if any(i is _INVALID for i in items) else tuple(items)


_CHECKERS = {
    "int": _check_int,
    "float": _check_float,
    "bool": _check_bool,
    "choice": _check_choice,
    "ints": _check_ints,
}


def int_param(name: str, default: int, doc: str, lo: int | None = 1, hi: int | None = None) -> ParamSpec:
    """An integer parameter (most layer sizes)."""
    return ParamSpec(name, "int", default, doc, minimum=lo, maximum=hi)


def float_param(name: str, default: float, doc: str, lo: float | None = None, hi: float | None = None) -> ParamSpec:
    """A real-valued parameter."""
    return ParamSpec(name, "float", default, doc, minimum=lo, maximum=hi)


def bool_param(name: str, default: bool, doc: str) -> ParamSpec:
    """A yes/no parameter."""
    return ParamSpec(name, "bool", default, doc)


def choice_param(name: str, default: str, doc: str, choices: tuple[str, ...]) -> ParamSpec:
    """A parameter with a fixed set of named values."""
    return ParamSpec(name, "choice", default, doc, choices=choices)


def ints_param(
    name: str, default: tuple[int, ...], doc: str, length: tuple[int, int] = (1, 8), lo: int | None = 1, hi: int | None = None
) -> ParamSpec:
    """A list of integers (shapes, axis orders), each from `lo` to `hi`."""
    return ParamSpec(name, "ints", tuple(default), doc, minimum=lo, maximum=hi, length=length)
