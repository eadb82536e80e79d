"""A distillation as a run folder: the same files as `workbench train` writes, plus what a resume needs.

    RUN_DIR/project.json        the student's project, with the settings it trains with
    RUN_DIR/data.json           the teacher's data, as any run records it
    RUN_DIR/metrics.jsonl       step and epoch records from the engine
    RUN_DIR/summary.json        the engine's outcome, the teacher's and the labels-only figures
    RUN_DIR/checkpoints/        best.pt and last.pt, in the engine's format
    RUN_DIR/distillation.json   the teacher run, the student and the DistillSettings

`load_run`, `workbench export` and the app read it like any run; `workbench distill --resume
RUN_DIR/checkpoints/last.pt` continues it.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from workbench.errors import ExportError, GraphError, WorkbenchError
from workbench.export.distill import (
    DistillResult,
    DistillSettings,
    Listener,
    check_student,
    distill,
    resolve_student,
    student_settings,
)
from workbench.files import write_json_atomic
from workbench.graph.builder import build_model
from workbench.graph.document import Graph

if TYPE_CHECKING:
    from workbench.training.distributed import DistContext

DISTILLATION_FILE = "distillation.json"


def distillation_settings(run_dir: str | Path) -> DistillSettings:
    """The DistillSettings a distillation run folder was made with (to resume it)."""
    return _read_record(Path(run_dir))[1]


def _read_record(run_dir: Path) -> tuple[dict[str, Any], DistillSettings]:
    path = run_dir / DISTILLATION_FILE
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
        return record, DistillSettings(**record["settings"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ExportError(f"{path}: not readable as a distillation record ({exc}) — is {run_dir} a distillation run?") from None


def distill_run(
    teacher_run: str | Path,
    student: Graph | float | str | None,
    out_dir: str | Path,
    settings: DistillSettings | None = None,
    *,
    name: str | None = None,
    baseline: bool = False,
    listeners: Sequence[Listener] = (),
    resume_from: str | Path | None = None,
    on_trainer: Callable[[Any], None] | None = None,
    overrides: dict[str, Any] | None = None,
    distributed: DistContext | None = None,
) -> DistillResult:
    """Distil a trained run into a run folder that `load_run`, the exporter and the app read like
    any other: project.json (the student's project, settings as trained), data.json,
    metrics.jsonl (step and epoch records), summary.json (with the teacher's and, with
    `baseline`, the labels-only figures), checkpoints/best.pt and last.pt in the engine's
    format, and distillation.json (the teacher, the student, the distillation settings).

    `student` is a graph, a width factor for the teacher's own graph, or the text the CLI got
    (`--student 0.5`, a preset name or a project file). `overrides` are run settings for this
    machine over the teacher run's (e.g. {"device": "cpu"}). With `resume_from` (a checkpoint of
    the run in `out_dir`) the run continues: the student comes from out_dir/project.json,
    `student` may be None and `settings` default to the folder's. In a distributed job only
    rank 0 writes the folder.
    """
    from workbench.project import Project, load_project
    from workbench.runs import CHECKPOINTS, PreparedRun, load_run, write_run_header
    from workbench.training.run_writer import METRICS_NAME, RunWriter

    out = Path(out_dir)
    writes = distributed is None or distributed.is_main
    previous: Project | None = None
    how = ""
    if resume_from is None:
        if out.exists() and any(out.iterdir()):
            raise ExportError(f"{out} is not empty — choose a new folder for the student's run")
        settings = settings or DistillSettings()
    else:
        if not Path(resume_from).is_file():
            raise ExportError(f"cannot resume from {resume_from}: no such checkpoint file")
        if not (out / "project.json").is_file():
            raise ExportError(f"cannot resume in {out}: not a run folder (project.json is missing)")
        previous = load_project(out / "project.json")
        record, stored = _read_record(out)
        settings, how = settings or stored, str(record.get("student", "a student"))
    try:
        run = load_run(teacher_run)
        data = run.data()
    except WorkbenchError as exc:
        raise ExportError(f"cannot use {teacher_run} as the teacher: {exc}") from exc
    if previous is None:
        if student is None:
            raise ExportError("no student given — give a width factor such as 0.5, a preset or a project file")
        graph, how = resolve_student(student, run.project.graph)
        base, project_name = run.project.training, name or f"{run.project.name}-student"
    else:
        graph, base, project_name = previous.graph, previous.training, previous.name
    base = base.replace(**(overrides or {}))
    project = Project(project_name, graph, run.project.dataset, student_settings(settings, base),
                      f"Distilled from {run.project.name} ({how}), T={settings.temperature:g}, alpha={settings.alpha:g}")
    try:
        model = build_model(graph, seed=settings.seed)
    except GraphError as exc:
        raise ExportError(f"the student network is not valid: {exc}") from exc
    check_student(run.model, model)  # before anything is written
    created = not out.exists()
    run_listeners = list(listeners)
    if writes:
        write_run_header(out, PreparedRun(project, data, model, []))
        # Rewritten on a resume too: a later resume goes on with the settings used last.
        write_json_atomic(out / DISTILLATION_FILE, {"teacher_run": str(teacher_run), "student": how,
                                                    "settings": settings.to_dict()})
        run_listeners.insert(0, RunWriter(out))
    facts = {"project": project.name, "dataset": run.project.dataset.path or run.project.dataset.source,
             "task": data.task, "teacher_run": str(teacher_run)}
    try:
        result = distill(run.model, graph, data, settings, baseline=baseline, listeners=run_listeners,
                         checkpoint_dir=out / CHECKPOINTS if writes else None, run_settings=base,
                         resume_from=resume_from, on_trainer=on_trainer, distributed=distributed)
    except BaseException as exc:
        if writes:
            run_listeners[0].close()
            if created and not (out / METRICS_NAME).exists():
                shutil.rmtree(out, ignore_errors=True)  # nothing was trained: leave nothing behind
            else:
                _complete_summary(out, facts)
                last = out / CHECKPOINTS / "last.pt"
                if isinstance(exc, ExportError) and last.is_file():
                    raise ExportError(f"{exc} (run folder: {out}; continue with --resume {last})") from exc
        raise
    if writes:
        _complete_summary(out, {**facts, **result.summary()})
    return result


def _complete_summary(out: Path, facts: dict[str, Any]) -> None:
    """Add what only distillation knows to the engine's summary.json (if the run got to write one)."""
    path = out / "summary.json"
    try:
        summary = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return
    first = {k: facts[k] for k in ("project", "dataset", "task") if k in facts}
    write_json_atomic(path, {**first, **summary, **facts})


__all__ = ["DISTILLATION_FILE", "distill_run", "distillation_settings"]
