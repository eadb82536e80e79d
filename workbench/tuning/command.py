"""`workbench tune`: the search on the command line, a line per trial and the best trials at the end."""

from __future__ import annotations

import sys
import time
from typing import Any, TextIO

from workbench.errors import TuningError
from workbench.tuning.objectives import parse_objectives
from workbench.tuning.runner import TuneOptions, tune
from workbench.tuning.space import build_space, read_space_file
from workbench.tuning.study import TrialRecord, default_storage, default_study_name, pareto_front, study_records


def tune_command(project_ref: str, *, trials: int, objectives: str, space_file: str | None = None,
                 storage: str | None = None, study: str | None = None, parallel: int = 1,
                 timeout_s: float | None = None, epochs: int | None = None, threads: int = 1,
                 out: TextIO | None = None, err: TextIO | None = None) -> int:
    """Run a search over `project_ref` (a project file or preset name) and print its trials and front
    (on `out`, default stdout; what it searches on `err`, default stderr)."""
    out, err = out or sys.stdout, err or sys.stderr
    from workbench.presets import resolve_project

    if timeout_s is not None and timeout_s <= 0:
        raise TuningError(f"--timeout must be a number of seconds > 0, got {timeout_s:g}")
    if threads < 1:
        raise TuningError(f"--threads must be at least 1, got {threads}")
    if epochs is not None and epochs < 1:
        raise TuningError(f"--epochs must be at least 1, got {epochs}")
    project = resolve_project(project_ref)
    overrides = read_space_file(space_file) if space_file else {}
    if epochs is not None:
        overrides["epochs"] = epochs
    space = build_space(project, overrides)
    goals = parse_objectives(objectives)
    options = TuneOptions(trials=trials, objectives=goals, space=space, storage=storage or default_storage(project),
                          study=study or default_study_name(project), timeout_s=timeout_s, parallel=parallel,
                          threads=threads)
    arrows = ", ".join(f"{o.name} {'↑' if o.direction == 'maximize' else '↓'}" for o in goals)
    pruning = ("pruning: median rule on each epoch's " + goals[0].name if options.prunes else
               "pruning: off (Optuna cannot prune a multi-objective study)" if len(goals) > 1 else
               f"pruning: off ({goals[0].name} is only known at the end of a trial)")
    print(f"study '{options.study}' in {options.storage}", file=err)
    print(f"objectives: {arrows}; {pruning}", file=err)
    for dim in space.dimensions:
        print(f"  search {dim.name}: {dim.describe()}", file=err)
    for name, value in space.fixed.items():
        print(f"  fixed  {name}: {value}", file=err)
    names = [o.name for o in goals]
    started = time.monotonic()
    study_obj = tune(project_ref, project, options, on_trial=lambda r: print(_trial_line(r, names), file=out, flush=True))
    wall = time.monotonic() - started
    records = study_records(study_obj)
    counts = {state: sum(r.state == state for r in records) for state in ("COMPLETE", "PRUNED", "FAIL")}
    print(f"{len(records)} trials in the study ({counts['COMPLETE']} complete, {counts['PRUNED']} pruned, "
          f"{counts['FAIL']} failed); this command: {wall:.1f} s", file=out)
    front = pareto_front(study_obj)
    if front:
        title = "Pareto front" if len(goals) > 1 else "best trial"
        print(f"{title}:", file=out)
        _print_front(front, names, out)
    print(f"see every trial: optuna-dashboard {options.storage}", file=out)
    return 0


def _trial_line(record: TrialRecord, names: list[str]) -> str:
    values = "  ".join(f"{n} {_value(v)}" for n, v in zip(names, record.values)) if record.values else record.message
    params = " ".join(f"{k}={_value(v)}" for k, v in record.params.items())
    seconds = f"{record.duration_s:.1f} s" if record.duration_s is not None else ""
    return f"trial {record.number:>3}  {record.state.lower():<8}  {values}  ({seconds})  {params}"


def _print_front(front: list[TrialRecord], names: list[str], out: TextIO) -> None:
    params = sorted({k for r in front for k in r.params})
    header = ["trial", *names, *params, "run folder"]
    rows = [[str(r.number), *(_value(v) for v in (r.values or ())), *(_value(r.params.get(p, "")) for p in params),
             r.run_dir or ""] for r in front]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    for n, row in enumerate([header, *rows]):
        print("  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip(), file=out)
        if n == 0:
            print("  ".join("-" * w for w in widths), file=out)


def _value(value: Any) -> str:
    if isinstance(value, float):
        if value.is_integer() and abs(value) >= 1000:
            return f"{int(value):,}"
        return f"{value:.4g}"
    return str(value)
