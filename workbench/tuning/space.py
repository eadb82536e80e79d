"""The search space: which run settings and node parameters a search varies, and over what.

Names are run settings (`lr`, `batch_size`, `optimizer`, `weight_decay`, `scheduler`, any other
field of TrainSettings) and node parameters as `<node name>.<param>` (`fc1.out_features`,
`dropout.p`). The default space covers the usual run settings, every Dropout's rate, and the
node parameters the user marked searchable in the project (the nodes' `search` records); it
fixes the epochs at the project's, at most DEFAULT_EPOCHS. A space
file (`--space SPACE.json`) overrides it entry by entry:

    {"lr": {"low": 1e-4, "high": 1e-2, "log": true},   a range (log: spread over magnitudes)
     "batch_size": [32, 64, 128],                      these values
     "fc2.out_features": {"low": 16, "high": 128, "step": 16},
     "epochs": 5,                                      a fixed value: not searched
     "scheduler": null}                                left out: the project's own value

Every value is checked against the setting's or the layer parameter's declaration before any
trial starts, so a search never proposes a value the run would refuse.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from workbench.errors import GraphError, TuningError, WorkbenchError
from workbench.graph.search_values import check_search_entry
from workbench.layers import layer_spec
from workbench.project import Project
from workbench.settings_spec import declarations, show_json
from workbench.training.settings import OPTIMIZERS, SCHEDULERS, TrainSettings

# The run settings a default search varies. A learning rate spans magnitudes; weight decay too
# (from "almost none"); batch sizes are powers of two.
DEFAULT_TRAINING: dict[str, Any] = {
    "lr": {"low": 1e-4, "high": 1e-1, "log": True},
    "batch_size": [16, 32, 64, 128],
    "optimizer": [o for o in OPTIMIZERS if o != "rmsprop"],
    "weight_decay": {"low": 1e-6, "high": 1e-2, "log": True},
    "scheduler": [s for s in SCHEDULERS if s != "step"],
}
# Trials train at most this many epochs unless the space or --epochs says otherwise: a search
# ranks settings on a short budget, then the chosen ones train in full.
DEFAULT_EPOCHS = 5
# Settings a search never varies: they say where and how a run happens, not what it learns.
NOT_SEARCHABLE = frozenset({"device", "num_workers", "init_from", "precision"})


@dataclass(frozen=True)
class Dimension:
    """One searched name: a list of values (`choices`) or a range (`low`..`high`, `log`, `step`)."""

    name: str
    kind: str  # "choice" | "int" | "float"
    choices: tuple[Any, ...] = ()
    low: float = 0.0
    high: float = 0.0
    log: bool = False
    step: float | None = None

    def suggest(self, trial: Any) -> Any:
        """The value an Optuna trial proposes for this dimension."""
        if self.kind == "choice":
            return trial.suggest_categorical(self.name, list(self.choices))
        if self.kind == "int":
            return trial.suggest_int(self.name, int(self.low), int(self.high), log=self.log,
                                     step=int(self.step or 1))
        return trial.suggest_float(self.name, self.low, self.high, log=self.log, step=self.step)

    def describe(self) -> str:
        """`16..256 (log)` or `adam, sgd`: the dimension in words, for the terminal and the app."""
        if self.kind == "choice":
            return ", ".join(str(c) for c in self.choices)
        text = f"{self.low:g}..{self.high:g}"
        return text + (" (log)" if self.log else f" (step {self.step:g})" if self.step else "")

    def to_entry(self) -> list[Any] | dict[str, Any]:
        """The entry a space file holds for this dimension."""
        if self.kind == "choice":
            return list(self.choices)
        entry: dict[str, Any] = {"low": self.low, "high": self.high}
        if self.log:
            entry["log"] = True
        if self.step:
            entry["step"] = self.step
        return entry


@dataclass(frozen=True)
class SearchSpace:
    """What a search varies (`dimensions`) and what it fixes for every trial (`fixed`)."""

    dimensions: tuple[Dimension, ...]
    fixed: dict[str, Any] = field(default_factory=dict)

    def names(self) -> tuple[str, ...]:
        return tuple(d.name for d in self.dimensions)

    def suggest(self, trial: Any) -> dict[str, Any]:
        """One value per dimension, proposed by the trial."""
        return {d.name: d.suggest(trial) for d in self.dimensions}

    def apply(self, project: Project, values: dict[str, Any]) -> Project:
        """A copy of `project` with the fixed values and `values` set (settings and node params)."""
        return apply_values(project, {**self.fixed, **values})

    def to_dict(self) -> dict[str, Any]:
        """The space as a space file writes it."""
        return {**{d.name: d.to_entry() for d in self.dimensions}, **self.fixed}


def apply_values(project: Project, values: dict[str, Any]) -> Project:
    """A copy of `project` with run settings and `<node>.<param>` values set; TuningError for a
    name or value the project refuses."""
    graph = project.graph.copy()
    training: dict[str, Any] = {}
    for name, value in values.items():
        node_name, dot, param = name.partition(".")
        if dot:
            node = graph.node_by_name(node_name)
            if node is None:
                raise TuningError(f"{name}: the project has no layer named '{node_name}'")
            try:
                graph.set_param(node.id, param, value)
            except GraphError as exc:
                raise TuningError(f"{name}: {exc}") from None
        else:
            training[name] = value
    try:
        settings = project.training.replace(**training) if training else project.training
    except WorkbenchError as exc:
        raise TuningError(str(exc)) from None
    return Project(project.name, graph, project.dataset, settings, project.description, project.path)


def default_space(project: Project) -> dict[str, Any]:
    """The entries of the default space for `project`: run settings, Dropout rates, and the node
    parameters marked searchable."""
    entries: dict[str, Any] = dict(DEFAULT_TRAINING)
    entries["epochs"] = min(project.training.epochs, DEFAULT_EPOCHS)
    for node in project.graph.nodes:
        for param, low, high in layer_spec(node.type).searched_by_default:
            if param not in node.search:
                entries[f"{node.name}.{param}"] = {"low": low, "high": high}
        for param, entry in node.search.items():
            entries[f"{node.name}.{param}"] = entry
    return entries


def build_space(project: Project, overrides: dict[str, Any] | None = None) -> SearchSpace:
    """The default space with `overrides` (a space file's entries) applied, every entry checked."""
    entries = default_space(project)
    for name, entry in (overrides or {}).items():
        if entry is None:
            entries.pop(name, None)
        else:
            entries[name] = entry
    dimensions: list[Dimension] = []
    fixed: dict[str, Any] = {}
    for name, entry in entries.items():
        if isinstance(entry, (list, dict)):
            dimensions.append(_dimension(project, name, entry))
        else:
            fixed[name] = entry
    # A fixed value is checked by applying it once; a dimension's ends were checked above.
    apply_values(project, fixed)
    return SearchSpace(tuple(dimensions), fixed)


def read_space_file(path: str | Path) -> dict[str, Any]:
    """A space file's entries; TuningError names the file and what is wrong."""
    source = Path(path)
    try:
        record = json.loads(source.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise TuningError(f"--space {source}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise TuningError(f"--space {source}: cannot be read ({exc})") from None
    except json.JSONDecodeError as exc:
        raise TuningError(f"--space {source}: not valid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}") from None
    if not isinstance(record, dict):
        raise TuningError(f"--space {source}: expected an object of names and values, got {show_json(record)}")
    return record


def _dimension(project: Project, name: str, entry: list[Any] | dict[str, Any]) -> Dimension:
    node_name, dot, param = name.partition(".")
    if dot:
        node = project.graph.node_by_name(node_name)
        if node is None:
            known = ", ".join(n.name for n in project.graph.nodes)
            raise TuningError(f"search space: {name}: the project has no layer named '{node_name}' (layers: {known})")
        try:
            checked = check_search_entry(node.spec, param, entry)
        except GraphError as exc:
            raise TuningError(f"search space: {name}: {exc}") from None
        kind = node.spec.param(param).kind
    else:
        checked, kind = _setting_entry(name, entry)
    if isinstance(checked, list):
        return Dimension(name, "choice", tuple(checked))
    return Dimension(name, kind, low=checked["low"], high=checked["high"], log=bool(checked.get("log")),
                     step=checked.get("step"))


def _setting_entry(name: str, entry: list[Any] | dict[str, Any]) -> tuple[list[Any] | dict[str, Any], str]:
    specs = {spec.name: spec for spec in declarations(TrainSettings)}
    if name not in specs:
        raise TuningError(f"search space: '{name}' is neither a run setting nor <layer>.<param> "
                          f"(settings: {', '.join(sorted(set(specs) - NOT_SEARCHABLE))})")
    if name in NOT_SEARCHABLE:
        raise TuningError(f"search space: {name} says where a run happens, not what it learns: give it one value")
    spec = specs[name]

    def checked(value: Any) -> Any:
        problem = spec.problem(value)
        if problem is not None or value is None:
            raise TuningError(f"search space: {name}: {problem or 'null is not a value to try'}")
        return spec.canonical(value)

    if isinstance(entry, list):
        if len(entry) < 2:
            raise TuningError(f"search space: {name}: list at least two values to try, or give one value to fix it")
        return [checked(v) for v in entry], "choice"
    if spec.kind not in ("int", "float"):
        raise TuningError(f"search space: {name}: a range needs a number setting; list the values instead")
    unknown = sorted(set(entry) - {"low", "high", "log", "step"})
    if unknown or "low" not in entry or "high" not in entry:
        raise TuningError(f"search space: {name}: a range is {{\"low\": …, \"high\": …}} with optional "
                          f"\"log\" or \"step\", got {show_json(entry)}")
    low, high = checked(entry["low"]), checked(entry["high"])
    if not low < high:
        raise TuningError(f"search space: {name}: 'low' ({low}) must be below 'high' ({high})")
    log = entry.get("log", False)
    if not isinstance(log, bool) or (log and low <= 0):
        raise TuningError(f"search space: {name}: 'log' is true or false, and a log range needs 'low' > 0")
    out: dict[str, Any] = {"low": low, "high": high, "log": log}
    step = entry.get("step")
    if step is not None:
        if isinstance(step, bool) or not isinstance(step, (int, float)) or not (math.isfinite(step) and step > 0) or log:
            raise TuningError(f"search space: {name}: 'step' is a number > 0, and not combined with 'log'")
        out["step"] = step
    return out, spec.kind

