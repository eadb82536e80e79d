"""Run settings declared once: type, range, default, label, help, and when each one applies.

A settings record (`TrainSettings`, `DatasetSpec`) is a frozen dataclass whose every field is
made by one of the functions below. The field's `SettingSpec` (a `ParamSpec`, as layers declare
their parameters, plus what a form and a project file need) is the only description of the
setting: the checked JSON round trip (`check_record`, `dump_record`), the constructor's check and
the GUI form are all generated from it, so a range or a label is never written twice.

Labels, help texts and group titles are English; they are marked with `QT_TRANSLATE_NOOP` so
that `pyside6-lupdate` collects them into the translation file (context `SETTINGS_CONTEXT`), and
the GUI shows them through Qt's translator. The core itself never imports Qt.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import math
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Literal

from workbench.errors import ProjectFileError, WorkbenchError
from workbench.layers.params import ParamSpec

SETTINGS_CONTEXT = "RunSettingsForm"  # the translation context of labels, help and group titles
TASKS = ("classification", "regression", "language_model")
SettingKind = Literal["int", "float", "bool", "choice", "text", "object"]
# A condition's allowed values: listed, or computed on use (e.g. the reader names, which live in
# a module that imports this one).
Allowed = tuple[str, ...] | Callable[[], Iterable[str]]
_KEY = "workbench.setting"  # where a dataclass field keeps its declaration


def QT_TRANSLATE_NOOP(context: str, text: str) -> str:  # noqa: N802 (the name lupdate looks for)
    """Mark `text` for translation in `context`; returns it unchanged (the GUI translates it)."""
    return text


@dataclass(frozen=True)
class SettingSpec(ParamSpec):
    """One run setting: a ParamSpec (name, kind, default, doc = help text, range, choices,
    optional) plus its label, form group, open bounds, scale and when it applies."""

    kind: SettingKind  # type: ignore[assignment]  (ParamKind plus "text" and "object")
    label: str = ""
    group: str = ""
    open_minimum: bool = False  # the minimum itself is refused ("> 0" rather than ">= 0")
    open_maximum: bool = False
    scale: Literal["linear", "log"] = "linear"  # "log": values span orders of magnitude (1e-4 .. 1)
    step: float | None = None  # a natural increment for a spin box's arrows
    pattern: str = ""  # "text": a regular expression the whole value must match
    expects: str = ""  # words for what is accepted, where the generated ones would not say it
    example: str = ""  # a typical value, shown in an empty field
    # An optional setting's None as the form shows it; a word other than "off" (e.g. "auto") is also
    # accepted in a file and read as None.
    none_means: str = "off"
    tasks: tuple[str, ...] = TASKS  # the data tasks the setting means something for
    applies_when: tuple[tuple[str, Allowed], ...] = ()  # (other field of the record, its values)

    # ----- what is accepted ------------------------------------------------------------------

    def describe(self) -> str:
        """What the setting accepts, in words: `a number > 0`, `null or an integer >= 1`."""
        words = self.expects or self._words()
        if not self.optional:
            return words
        return f"null or {words}" if self.none_means == "off" else f'"{self.none_means}", null or {words}'

    def _words(self) -> str:
        if self.kind == "choice":
            return "one of " + ", ".join(json.dumps(c) for c in self.choices)
        if self.kind == "bool":
            return "true or false"
        if self.kind == "text":
            return "a text"
        if self.kind == "object":
            return "an object"
        noun = "an integer" if self.kind == "int" else "a number"
        lo, hi = self.minimum, self.maximum
        if lo is not None and hi is not None:
            if self.open_minimum and self.open_maximum:
                return f"{noun} between {_num(lo)} and {_num(hi)}"
            left, right = "(" if self.open_minimum else "[", ")" if self.open_maximum else "]"
            return f"{noun} in {left}{_num(lo)}, {_num(hi)}{right}"
        if lo is not None:
            return f"{noun} {'>' if self.open_minimum else '>='} {_num(lo)}"
        if hi is not None:
            return f"{noun} {'<' if self.open_maximum else '<='} {_num(hi)}"
        return noun

    def problem(self, value: Any) -> str | None:
        """What is wrong with `value` ("expected a number > 0, got "abc""), or None when it is fine."""
        if self.optional and (value is None or self._named_none(value)):
            return None
        if _accepts(self, value):
            return None
        return f"expected {self.describe()}, got {show_json(value)}"

    def validate(self, value: Any) -> Any:
        """The value in canonical form (JSON's 1 as 1.0 for a number); SettingError if refused."""
        problem = self.problem(value)
        if problem is not None:
            raise SettingError(f"{self.name}: {problem}")
        return self.canonical(value)

    def canonical(self, value: Any) -> Any:
        """An accepted value as the record keeps it (JSON has one number type; objects are copied)."""
        if value is None or (self.optional and self._named_none(value)):
            return None
        if self.kind == "float":
            return float(value)
        if self.kind == "object":
            return dict(value)
        return value

    def _named_none(self, value: Any) -> bool:
        return self.none_means != "off" and value == self.none_means

    # ----- when it applies -------------------------------------------------------------------

    def applies(self, record: Any, task: str | None = None) -> bool:
        """Whether the setting means something for `record` (its other fields) and the data's task
        (None: not known yet). A form disables it otherwise; a file may still hold a value."""
        if task is not None and task not in self.tasks:
            return False
        for name, allowed in self.applies_when:
            values = allowed() if callable(allowed) else allowed
            if getattr(record, name) not in tuple(values):
                return False
        return True


class SettingError(WorkbenchError):
    """A run setting's value is refused; the message names the setting and what it accepts."""


# ----- declaring the fields of a record ----------------------------------------------------------


def _declare(spec: SettingSpec, default_factory: Callable[[], Any] | None = None) -> Any:
    metadata = {_KEY: spec}
    if default_factory is not None:
        return dataclasses.field(default_factory=default_factory, metadata=metadata)
    return dataclasses.field(default=spec.default, metadata=metadata)


def integer(default: int | None, *, label: str, doc: str, group: str = "", minimum: int | None = None,
            maximum: int | None = None, below: int | None = None, optional: bool = False, step: int | None = None,
            none_means: str = "off", applies_when: tuple[tuple[str, Allowed], ...] = (),
            tasks: tuple[str, ...] = TASKS) -> Any:
    """A whole-number setting; `below` is an open upper bound (`[0, 2**63)`); an optional one's
    None is shown (and may be written in a file) as `none_means`."""
    return _declare(SettingSpec(
        "", "int", default, doc, minimum=minimum, maximum=maximum if below is None else below,
        open_maximum=below is not None, optional=optional, label=label, group=group, step=step,
        none_means=none_means, applies_when=applies_when, tasks=tasks))


def number(default: float | None, *, label: str, doc: str, group: str = "", minimum: float | None = None,
           maximum: float | None = None, above: float | None = None, below: float | None = None,
           optional: bool = False, scale: Literal["linear", "log"] = "linear", step: float | None = None,
           applies_when: tuple[tuple[str, Allowed], ...] = (), tasks: tuple[str, ...] = TASKS) -> Any:
    """A real-valued setting; `above` / `below` are open bounds (`> 0`, `< 1`)."""
    return _declare(SettingSpec(
        "", "float", default, doc, minimum=minimum if above is None else above,
        maximum=maximum if below is None else below, open_minimum=above is not None,
        open_maximum=below is not None, optional=optional, label=label, group=group, scale=scale, step=step,
        applies_when=applies_when, tasks=tasks))


def choice(default: str, choices: tuple[str, ...], *, label: str, doc: str, group: str = "",
           applies_when: tuple[tuple[str, Allowed], ...] = (), tasks: tuple[str, ...] = TASKS) -> Any:
    """One of a fixed set of names."""
    return _declare(SettingSpec("", "choice", default, doc, choices=choices, label=label, group=group,
                                applies_when=applies_when, tasks=tasks))


def flag(default: bool, *, label: str, doc: str, group: str = "",
         applies_when: tuple[tuple[str, Allowed], ...] = (), tasks: tuple[str, ...] = TASKS) -> Any:
    """A yes/no setting."""
    return _declare(SettingSpec("", "bool", default, doc, label=label, group=group,
                                applies_when=applies_when, tasks=tasks))


def text(default: str | None, *, label: str, doc: str, group: str = "", pattern: str = "", expects: str = "",
         optional: bool = False, applies_when: tuple[tuple[str, Allowed], ...] = (),
         tasks: tuple[str, ...] = TASKS) -> Any:
    """A text setting, optionally matching `pattern` (described by `expects`)."""
    return _declare(SettingSpec("", "text", default, doc, pattern=pattern, expects=expects, optional=optional,
                                label=label, group=group, applies_when=applies_when, tasks=tasks))


def json_object(*, label: str, doc: str, group: str = "", example: str = "",
                applies_when: tuple[tuple[str, Allowed], ...] = (), tasks: tuple[str, ...] = TASKS) -> Any:
    """A JSON object of names and values (e.g. a reader's options); empty by default."""
    return _declare(SettingSpec("", "object", {}, doc, label=label, group=group, example=example,
                                applies_when=applies_when, tasks=tasks), default_factory=dict)


@functools.cache
def declarations(record: type) -> tuple[SettingSpec, ...]:
    """The declarations of a settings record's fields, in field order, each named after its field."""
    specs = []
    for f in dataclasses.fields(record):
        spec = f.metadata.get(_KEY)
        if not isinstance(spec, SettingSpec):
            raise TypeError(f"{record.__name__}.{f.name} is not declared with workbench.settings_spec")
        specs.append(dataclasses.replace(spec, name=f.name))
    return tuple(specs)


def declaration(record: type, name: str) -> SettingSpec:
    """One field's declaration; KeyError for a name the record does not have."""
    for spec in declarations(record):
        if spec.name == name:
            return spec
    raise KeyError(name)


# ----- generated behaviour ---------------------------------------------------------------------


def check_fields(obj: Any, error: type[WorkbenchError], what: str) -> None:
    """Raise `error` naming the first field of `obj` its declaration refuses (constructors call this)."""
    for spec in declarations(type(obj)):
        problem = spec.problem(getattr(obj, spec.name))
        if problem is not None:
            raise error(f"{what} {spec.name}: {problem}")


def check_record(record: type, d: Any, where: str) -> dict[str, Any]:
    """The checked field values of a JSON record of `record`; missing keys are left out (defaults).

    Raises ProjectFileError naming the path of the first bad field (`training.lr: expected ...`).
    """
    if not isinstance(d, dict):
        raise ProjectFileError(f"{where}: expected an object of settings, got {show_json(d)}")
    specs = {spec.name: spec for spec in declarations(record)}
    for key in d:
        if key not in specs:
            raise ProjectFileError(f"{where}.{key}: unknown setting; known settings are: {', '.join(sorted(specs))}")
    values: dict[str, Any] = {}
    for key, value in d.items():
        problem = specs[key].problem(value)
        if problem is not None:
            raise ProjectFileError(f"{where}.{key}: {problem}")
        values[key] = specs[key].canonical(value)
    return values


def dump_record(obj: Any, omit_empty: bool = False) -> dict[str, Any]:
    """Plain JSON-ready record of every declared field (`omit_empty`: leave out None and {})."""
    out: dict[str, Any] = {}
    for spec in declarations(type(obj)):
        value = getattr(obj, spec.name)
        if omit_empty and (value is None or value == {}):
            continue
        out[spec.name] = dict(value) if isinstance(value, dict) else value
    return out


def replace_checked(obj: Any, error: type[WorkbenchError], what: str, **changes: Any) -> Any:
    """A copy of a settings record with some fields changed, each checked by its declaration."""
    specs = {spec.name: spec for spec in declarations(type(obj))}
    values = {}
    for key, value in changes.items():
        if key not in specs:
            raise error(f"unknown {what} {key!r}; known settings are: {', '.join(sorted(specs))}")
        problem = specs[key].problem(value)
        if problem is not None:
            raise error(f"{what} {key}: {problem}")
        values[key] = specs[key].canonical(value)
    return dataclasses.replace(obj, **values)


def show_json(value: Any, limit: int = 60) -> str:
    """The value as the user wrote it in JSON (strings quoted, None as null), cut to `limit`."""
    try:
        text = json.dumps(value)
    except (TypeError, ValueError, RecursionError):
        try:
            text = repr(value)
        except (ValueError, RecursionError):  # an integer of thousands of digits
            text = f"<{type(value).__name__}>"
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _is_int(v: Any) -> bool:
    # bool is an int subclass; `true` in a settings file is a mistake, not the number 1.
    return isinstance(v, int) and not isinstance(v, bool)


def _in_range(spec: SettingSpec, v: float) -> bool:
    lo, hi = spec.minimum, spec.maximum
    if lo is not None and (v <= lo if spec.open_minimum else v < lo):
        return False
    return not (hi is not None and (v >= hi if spec.open_maximum else v > hi))


def _accepts(spec: SettingSpec, v: Any) -> bool:
    if spec.kind == "int":
        return _is_int(v) and _in_range(spec, v)
    if spec.kind == "float":
        if not (_is_int(v) or isinstance(v, float)):
            return False
        try:
            return math.isfinite(float(v)) and _in_range(spec, v)
        except OverflowError:  # an integer beyond the largest float
            return False
    if spec.kind == "bool":
        return isinstance(v, bool)
    if spec.kind == "choice":
        return isinstance(v, str) and v in spec.choices
    if spec.kind == "text":
        return isinstance(v, str) and (not spec.pattern or re.fullmatch(spec.pattern, v) is not None)
    if spec.kind == "object":
        return isinstance(v, dict) and all(isinstance(k, str) for k in v)
    raise AssertionError(f"setting {spec.name}: unknown kind {spec.kind!r}")


def _num(x: float) -> str:
    # Large powers of two read better as such: a seed is "an integer in [0, 2**63)".
    if _is_int(x) and x >= 2**16 and x & (x - 1) == 0:
        return f"2**{x.bit_length() - 1}"
    return str(int(x)) if float(x).is_integer() else str(x)
