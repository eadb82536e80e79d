"""Searchable node parameters: the values a hyperparameter search may try for one parameter.

A node may mark some of its numeric parameters as searchable; the project file keeps them in the
node's `search` record, by parameter name:

    "search": {"out_features": [32, 64, 128]}                      # these values
    "search": {"out_features": {"low": 16, "high": 256, "log": true}}  # a range (step for integers)

Every value is checked by the parameter's own declaration, so a search never proposes a value
the layer refuses. The inspector writes the same record from a line of text (`parse_search_text`).
"""

from __future__ import annotations

import math
import re
from typing import Any

from workbench.errors import GraphError
from workbench.layers.params import ParamSpec, show_value
from workbench.layers.registry import LayerSpec

SEARCHABLE_KINDS = ("int", "float")
_RANGE_KEYS = {"low", "high", "log", "step"}


def searchable(param: ParamSpec) -> bool:
    """Whether a search may vary this parameter (whole or real numbers)."""
    return param.kind in SEARCHABLE_KINDS


def check_search_entry(spec: LayerSpec, key: str, entry: Any) -> list[Any] | dict[str, Any]:
    """The canonical search entry of parameter `key` of a `spec` layer; GraphError says what is wrong."""
    try:
        param = spec.param(key)
    except GraphError:
        raise GraphError(f"{spec.type_id} has no parameter '{key}' to search") from None
    if not searchable(param):
        raise GraphError(f"{spec.type_id}.{key} is not a number: only whole or real numbers can be searched")
    if isinstance(entry, list):
        if len(entry) < 2:
            raise GraphError(f"{spec.type_id}.{key}: list at least two values to search, got {show_value(entry)}")
        values = [_checked(spec, param, v) for v in entry]
        if len(set(values)) != len(values):
            raise GraphError(f"{spec.type_id}.{key}: a value is listed twice in {show_value(entry)}")
        return values
    if isinstance(entry, dict):
        unknown = sorted(set(entry) - _RANGE_KEYS)
        if unknown:
            raise GraphError(f"{spec.type_id}.{key}: unknown key '{unknown[0]}' in a range (known: high, log, low, step)")
        if "low" not in entry or "high" not in entry:
            raise GraphError(f"{spec.type_id}.{key}: a range needs 'low' and 'high', got {show_value(entry)}")
        low, high = _checked(spec, param, entry["low"]), _checked(spec, param, entry["high"])
        if not low < high:
            raise GraphError(f"{spec.type_id}.{key}: 'low' ({low}) must be below 'high' ({high})")
        out: dict[str, Any] = {"low": low, "high": high}
        log = entry.get("log", False)
        if not isinstance(log, bool):
            raise GraphError(f"{spec.type_id}.{key}: 'log' must be true or false, got {show_value(log)}")
        if log:
            if low <= 0:
                raise GraphError(f"{spec.type_id}.{key}: a log range needs 'low' > 0, got {low}")
            out["log"] = True
        if "step" in entry:
            step = entry["step"]
            if isinstance(step, bool) or not isinstance(step, (int, float)) or not (math.isfinite(step) and step > 0):
                raise GraphError(f"{spec.type_id}.{key}: 'step' must be a number > 0, got {show_value(step)}")
            if param.kind == "int" and not float(step).is_integer():
                raise GraphError(f"{spec.type_id}.{key}: 'step' of a whole-number parameter must be whole, got {step}")
            if log:
                raise GraphError(f"{spec.type_id}.{key}: a range has either 'log' or 'step', not both")
            out["step"] = int(step) if param.kind == "int" else float(step)
        return out
    raise GraphError(f"{spec.type_id}.{key}: expected a list of values or a range "
                     f'{{"low": …, "high": …}}, got {show_value(entry)}')


def check_search(spec: LayerSpec, record: Any) -> dict[str, Any]:
    """A node's whole `search` record, checked entry by entry."""
    if not isinstance(record, dict):
        raise GraphError(f"search: expected an object of parameter names, got {show_value(record)}")
    return {key: check_search_entry(spec, key, entry) for key, entry in record.items()}


def _checked(spec: LayerSpec, param: ParamSpec, value: Any) -> Any:
    try:
        return param.validate(value)
    except GraphError as exc:
        raise GraphError(f"{spec.type_id} search value: {exc}") from None


_RANGE_TEXT = re.compile(r"^\s*(\S+)\s*(?:\.\.|–|-\s|to\s)\s*(\S+)\s*(log)?\s*$", re.IGNORECASE)


def parse_search_text(spec: LayerSpec, key: str, text: str) -> list[Any] | dict[str, Any] | None:
    """The entry a user typed: `32, 64, 128` (values), `16..256` or `16..256 log` (a range); ''
    means not searched (None). GraphError names the parameter and the accepted forms."""
    text = text.strip()
    if not text:
        return None
    match = _RANGE_TEXT.match(text)
    try:
        if match and "," not in text:
            low, high = _number(match.group(1)), _number(match.group(2))
            entry: Any = {"low": low, "high": high, **({"log": True} if match.group(3) else {})}
        else:
            entry = [_number(part) for part in text.replace(";", ",").split(",") if part.strip()]
    except ValueError:
        raise GraphError(f"{spec.type_id}.{key}: search values are numbers separated by commas (32, 64, 128) "
                         f"or a range (16..256, or 16..256 log), got {show_value(text)}") from None
    return check_search_entry(spec, key, entry)


def format_search_entry(entry: list[Any] | dict[str, Any] | None) -> str:
    """The entry as `parse_search_text` reads it back."""
    if entry is None:
        return ""
    if isinstance(entry, list):
        return ", ".join(_show_number(v) for v in entry)
    text = f"{_show_number(entry['low'])}..{_show_number(entry['high'])}"
    return text + (" log" if entry.get("log") else "")


def _number(text: str) -> int | float:
    text = text.strip()
    try:
        return int(text)
    except ValueError:
        value = float(text)
        if not math.isfinite(value):
            raise ValueError(text) from None
        return value


def _show_number(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)
