"""Knowledge distillation: a smaller student learns from the teacher's softened outputs.

The loss mixes the teacher's knowledge with the true labels (Hinton et al. 2015):

    loss = alpha · T² · KL(softmax(teacher / T) ‖ softmax(student / T)) + (1 − alpha) · task loss

(T² keeps the soft term's gradients on the scale of the hard one.) Regression outputs are matched
with MSE instead of KL. The student is any graph with the teacher's Input and Output — another
project, a preset, or the teacher itself with every width scaled by a factor (`scale_widths`).

`distill` emits the training engine's events (EpochEvent, FinishedEvent), so a RunWriter or the
app's plots follow it like any run; `distill_run` writes a complete run folder that `load_run`
and the exporter read like any other. With `baseline=True` the same student is also trained on
the labels alone with the same budget and seed, so the report can say honestly whether
distillation helped.
"""

from __future__ import annotations

import copy
import json
import logging
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader

from workbench.data.bundle import DataBundle
from workbench.errors import ExportError, GraphError, WorkbenchError
from workbench.export.channels import downstream_until_width_setter, reaches_output
from workbench.export.evaluate import Evaluation, evaluate, torch_predict
from workbench.export.onnx_export import eval_mode
from workbench.export.options import ExportCancelled
from workbench.graph.analysis import analyze
from workbench.graph.builder import GraphModule, build_model
from workbench.graph.document import Graph, Node

log = logging.getLogger(__name__)

Listener = Callable[[Any], None]


@dataclass(frozen=True)
class DistillSettings:
    """How the student is trained."""

    # Measured on digits (CNN teacher 98.6%, half-width student, 3 seeds): with 10 epochs the
    # labels-only student was ahead (97.0% vs 97.8%); with 20 epochs at lr 3e-3 the distilled one
    # was (98.4% vs 98.1%). Distillation needs the student to train long enough.
    epochs: int = 20
    temperature: float = 4.0  # softens both distributions; 2-5 is usual
    alpha: float = 0.7  # weight of the teacher's soft targets; 1 - alpha goes to the labels
    lr: float = 3e-3  # Adam
    batch_size: int = 32
    seed: int = 0  # student initialisation and batch order

    def __post_init__(self) -> None:
        if not isinstance(self.epochs, int) or isinstance(self.epochs, bool) or self.epochs < 1:
            raise ExportError(f"distillation epochs must be a whole number ≥ 1, got {self.epochs!r}")
        if not _number(self.temperature) or self.temperature <= 0:
            raise ExportError(f"temperature must be a number > 0, got {self.temperature!r}")
        if not _number(self.alpha) or not 0 <= self.alpha <= 1:
            raise ExportError(f"alpha must be between 0 (labels only) and 1 (teacher only), got {self.alpha!r}")
        if not _number(self.lr) or self.lr <= 0:
            raise ExportError(f"learning rate must be a number > 0, got {self.lr!r}")
        if not isinstance(self.batch_size, int) or self.batch_size < 1:
            raise ExportError(f"batch size must be a whole number ≥ 1, got {self.batch_size!r}")

    def to_dict(self) -> dict[str, Any]:
        return {"epochs": self.epochs, "temperature": self.temperature, "alpha": self.alpha,
                "lr": self.lr, "batch_size": self.batch_size, "seed": self.seed}


@dataclass
class ScaledGraph:
    """The teacher's graph with narrower layers."""

    graph: Graph
    changed: dict[str, tuple[int, int]] = field(default_factory=dict)  # node name -> (old, new)
    kept: dict[str, str] = field(default_factory=dict)  # node name -> why its width stayed


@dataclass
class DistillResult:
    """The trained student and the figures that say whether distillation paid off."""

    model: GraphModule
    graph: Graph
    evaluation: Evaluation
    teacher: Evaluation
    history: list[dict[str, Any]] = field(default_factory=list)  # one record per epoch
    baseline: Evaluation | None = None  # the same student trained on labels only
    settings: DistillSettings = field(default_factory=DistillSettings)

    def summary(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "student_parameters": sum(p.numel() for p in self.model.parameters()),
            "student_val_loss": self.evaluation.val_loss,
            "student_val_accuracy": self.evaluation.val_accuracy,
            "teacher_val_loss": self.teacher.val_loss,
            "teacher_val_accuracy": self.teacher.val_accuracy,
            "settings": self.settings.to_dict(),
        }
        if self.baseline is not None:
            out["labels_only_val_loss"] = self.baseline.val_loss
            out["labels_only_val_accuracy"] = self.baseline.val_accuracy
            out["verdict"] = self.verdict()
        return out

    def verdict(self) -> str:
        """One honest sentence comparing the distilled student with the labels-only one."""
        if self.baseline is None:
            return "no labels-only baseline was trained"
        a, b = self.evaluation.val_accuracy, self.baseline.val_accuracy
        if a is not None and b is not None:
            if a > b:
                return f"distillation helped: accuracy {a:.2%} vs {b:.2%} trained on labels alone"
            return f"distillation did not help here: accuracy {a:.2%} vs {b:.2%} trained on labels alone"
        la, lb = self.evaluation.val_loss, self.baseline.val_loss
        if la is None or lb is None:
            return "no validation set to compare on"
        better = "helped" if la < lb else "did not help here"
        return f"distillation {better}: val loss {la:.4g} vs {lb:.4g} trained on labels alone"


# ----- the student's shape ----------------------------------------------------------------------


def scale_widths(graph: Graph, factor: float) -> ScaledGraph:
    """The graph with every declared width (`LayerSpec.width`: Linear out_features, Conv
    out_channels, embedding widths) × `factor`.

    Widths that reach the Output stay (they are the model's answer), and widths are rounded to
    a multiple of what the layers declare they need (`LayerSpec.width_multiple`: every head
    count, and even for sinusoidal positions). Layers whose narrowing would break a shape rule elsewhere (say, an Add
    against the Input) keep their width; `kept` says which and why.
    """
    if not _number(factor) or not 0 < factor <= 4:
        raise ExportError(f"the width factor must be a number between 0 and 4 (0.5 halves every layer), got {factor!r}")
    analysis = analyze(graph)
    if not analysis.ok:
        raise ExportError(f"the teacher's graph is not valid: {analysis.errors_text()}")
    multiple = 1
    for node in graph.nodes:
        needs = node.spec.width_multiple
        if needs is not None:
            multiple = math.lcm(multiple, needs(node.params))
    out = ScaledGraph(graph.copy())
    candidates: dict[str, int] = {}
    for node in graph.nodes:
        if node.spec.width is None:
            continue
        if reaches_output(graph, node.id):
            out.kept[node.name] = "its width is the model's output"
            continue
        old = node.params[_width_param(node)]
        new = max(multiple, int(round(old * factor / multiple)) * multiple)
        if new != old:
            candidates[node.id] = new
    for _ in range(len(candidates) + 1):
        trial = graph.copy()
        for nid, new in candidates.items():
            trial.set_param(nid, _width_param(trial.node(nid)), new)
        result = analyze(trial)
        if result.ok:
            out.graph = trial
            for nid, new in candidates.items():
                node = graph.node(nid)
                out.changed[node.name] = (node.params[_width_param(node)], new)
            return out
        bad = {p.node_id for p in result.problems if p.severity == "error" and p.node_id}
        culprits = [nid for nid in candidates if downstream_until_width_setter(trial, nid) & bad]
        if not culprits:
            break
        for nid in culprits:
            candidates.pop(nid)
            out.kept[graph.node(nid).name] = "narrowing it breaks a shape rule further on (" + next(
                p.message for p in result.problems if p.node_id in bad) + ")"
    raise ExportError(f"cannot scale the widths by {factor}: {analyze(trial).errors_text()}")


def _width_param(node: Node) -> str:
    width = node.spec.width
    assert width is not None  # only nodes that declare a width are scaled
    return width.param


def resolve_student(spec: Graph | float | str, teacher_graph: Graph) -> tuple[Graph, str]:
    """The student's graph from what a user typed: a width factor ("0.5"), a preset name or a
    project file; returns it with a few words saying what it is."""
    if isinstance(spec, Graph):
        return spec, "another network"
    if isinstance(spec, (int, float)) and not isinstance(spec, bool):
        factor = float(spec)
    else:
        try:
            factor = float(spec)
        except ValueError:
            from workbench.presets import resolve_project

            try:
                project = resolve_project(spec)
            except WorkbenchError as exc:
                raise ExportError(f"student '{spec}': {exc} — give a width factor such as 0.5, a preset or a project file") from exc
            return project.graph, f"'{project.name}'"
    return scale_widths(teacher_graph, factor).graph, f"the teacher at {factor:g}× width"


def check_student(teacher: GraphModule, student: GraphModule) -> None:
    """The student must take the teacher's input and give outputs of the same shape."""
    if student.input_spec != teacher.input_spec:
        raise ExportError(f"the student takes {student.input_spec} but the teacher takes {teacher.input_spec} — they must match")
    if student.output_spec != teacher.output_spec:
        raise ExportError(f"the student outputs {student.output_spec} but the teacher outputs {teacher.output_spec} — they must match")


# ----- training ---------------------------------------------------------------------------------


def distillation_loss(student: torch.Tensor, teacher: torch.Tensor, y: torch.Tensor, loss_name: str,
                      temperature: float, alpha: float) -> torch.Tensor:
    """alpha · soft term (teacher) + (1 − alpha) · the task loss (labels)."""
    from workbench.training.losses import get_loss

    hard = get_loss(loss_name)(student, y)
    if alpha == 0:
        return hard
    t = temperature
    if loss_name == "cross_entropy":
        s2, t2 = student.reshape(-1, student.shape[-1]), teacher.reshape(-1, teacher.shape[-1])
        soft = F.kl_div(F.log_softmax(s2 / t, dim=-1), F.log_softmax(t2 / t, dim=-1),
                        reduction="batchmean", log_target=True) * (t * t)
    elif loss_name == "bce_with_logits":
        soft = F.binary_cross_entropy_with_logits(student / t, torch.sigmoid(teacher / t)) * (t * t)
    else:
        soft = F.mse_loss(student, teacher)
    return alpha * soft + (1 - alpha) * hard


def distill(
    teacher: GraphModule,
    student: Graph,
    data: DataBundle,
    settings: DistillSettings | None = None,
    *,
    baseline: bool = False,
    listeners: Sequence[Listener] = (),
    cancel: Callable[[], bool] | None = None,
    checkpoint_dir: Path | None = None,
) -> DistillResult:
    """Train the student on the teacher's softened outputs plus the labels.

    The student graph is built with the settings' seed (the labels-only baseline starts from
    the same weights). The teacher is not changed (eval mode while it teaches, its own after).
    """
    settings = settings or DistillSettings()
    graph = student
    try:
        model = build_model(graph, seed=settings.seed)
    except GraphError as exc:
        raise ExportError(f"the student network is not valid: {exc}") from exc
    check_student(teacher, model)
    teacher_eval = evaluate(torch_predict(teacher), data, teacher.loss_name)
    baseline_model = copy.deepcopy(model) if baseline else None
    history = _train(model, teacher, data, settings, settings.alpha, listeners, cancel, checkpoint_dir)
    result = DistillResult(model, graph, evaluate(torch_predict(model), data, model.loss_name), teacher_eval,
                           history, settings=settings)
    if baseline_model is not None:
        _train(baseline_model, teacher, data, settings, 0.0, (), cancel)
        result.baseline = evaluate(torch_predict(baseline_model), data, model.loss_name)
    log.info("distillation: %s", result.verdict() if baseline else result.summary())
    return result


def _train(model: GraphModule, teacher: GraphModule, data: DataBundle, settings: DistillSettings, alpha: float,
           listeners: Sequence[Listener], cancel: Callable[[], bool] | None,
           checkpoint_dir: Path | None = None) -> list[dict[str, Any]]:
    from workbench.training.events import EpochEvent, FinishedEvent

    generator = torch.Generator().manual_seed(settings.seed)
    loader = DataLoader(data.train, batch_size=settings.batch_size, shuffle=True, generator=generator)
    optimizer = torch.optim.Adam(model.parameters(), lr=settings.lr)
    loss_name = model.loss_name
    history: list[dict[str, Any]] = []
    best: float | None = None
    start = time.perf_counter()
    # Seeded (dropout included) so that the distilled and the labels-only student see the same
    # randomness; fork_rng gives the caller's global generator back afterwards.
    with eval_mode(teacher), torch.random.fork_rng(devices=[]):
        torch.manual_seed(settings.seed)
        for epoch in range(1, settings.epochs + 1):
            model.train()
            total, seen = 0.0, 0
            for x, y in loader:
                if cancel is not None and cancel():
                    raise ExportCancelled("distillation cancelled")
                with torch.no_grad():
                    teacher_out = teacher(x)
                loss = distillation_loss(model(x), teacher_out, y, loss_name, settings.temperature, alpha)
                if not torch.isfinite(loss):
                    raise ExportError(f"the distillation loss became {loss.item()} in epoch {epoch} — lower the learning rate")
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
                total += float(loss.item()) * len(x)
                seen += len(x)
            model.eval()
            ev = evaluate(torch_predict(model), data, loss_name)
            record = {"epoch": epoch, "train_loss": total / max(seen, 1), "val_loss": ev.val_loss, **ev.metrics}
            history.append(record)
            improved = ev.val_loss is not None and (best is None or ev.val_loss < best)
            best = ev.val_loss if improved else best
            if checkpoint_dir is not None:
                _save_checkpoints(checkpoint_dir, model, optimizer, generator, epoch, epoch * len(loader), best,
                                  settings, improved)
            event = EpochEvent(epoch, record["train_loss"], ev.val_loss, dict(ev.metrics), settings.lr,
                               time.perf_counter() - start)
            for listener in listeners:
                listener(event)
    model.eval()
    last = history[-1] if history else {}
    summary = {"status": "finished", "epochs": settings.epochs, **{k: v for k, v in last.items() if k != "epoch"},
               "best_val_loss": best, "parameters": sum(p.numel() for p in model.parameters()),
               "duration_s": time.perf_counter() - start, "distillation": {**settings.to_dict(), "alpha": alpha}}
    for listener in listeners:
        listener(FinishedEvent("finished", summary))
    return history


def _save_checkpoints(folder: Path, model: nn.Module, optimizer: torch.optim.Optimizer, generator: torch.Generator,
                      epoch: int, step: int, best: float | None, settings: DistillSettings, improved: bool) -> None:
    """last.pt every epoch, best.pt when the validation loss improved: a checkpoint like the engine's."""
    from workbench.training.checkpoint import save_checkpoint
    from workbench.training.rng import capture_rng_state

    state = {
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict(),
        "scheduler": None,
        "scaler": None,
        "epoch": epoch,
        "global_step": step,
        "best_val_loss": best,
        "bad_epochs": 0,
        "rng": capture_rng_state(),
        "loader_rng": generator.get_state(),
        "settings": {"distillation": settings.to_dict()},
    }
    save_checkpoint(folder / "last.pt", state)
    if improved:
        save_checkpoint(folder / "best.pt", state)


def distill_run(
    teacher_run: str | Path,
    student: Graph | float | str,
    out_dir: str | Path,
    settings: DistillSettings | None = None,
    *,
    name: str | None = None,
    baseline: bool = False,
    listeners: Sequence[Listener] = (),
    cancel: Callable[[], bool] | None = None,
) -> DistillResult:
    """Distil a trained run into a new run folder that `load_run` and `export_run` accept.

    `student` is a graph, a width factor for the teacher's own graph, or the text the CLI got
    (`--student 0.5`, a preset name or a project file). The folder gets project.json (the student's project), data.json, metrics.jsonl,
    summary.json (with the teacher's and, with `baseline`, the labels-only figures) and
    checkpoints/best.pt and last.pt.
    """
    from workbench.project import Project
    from workbench.runs import CHECKPOINTS, PreparedRun, load_run, write_run_header
    from workbench.training.run_writer import RunWriter, write_json_atomic

    settings = settings or DistillSettings()
    out = Path(out_dir)
    if out.exists() and any(out.iterdir()):
        raise ExportError(f"{out} is not empty — choose a new folder for the student's run")
    try:
        run = load_run(teacher_run)
        data = run.data()
    except WorkbenchError as exc:
        raise ExportError(f"cannot use {teacher_run} as the teacher: {exc}") from exc
    graph, how = resolve_student(student, run.project.graph)
    training = run.project.training.replace(epochs=settings.epochs, lr=settings.lr, batch_size=settings.batch_size,
                                            seed=settings.seed)
    project = Project(name or f"{run.project.name}-student", graph, run.project.dataset, training,
                      f"Distilled from {run.project.name} ({how}), T={settings.temperature:g}, alpha={settings.alpha:g}")
    try:
        model = build_model(graph, seed=settings.seed)
    except GraphError as exc:
        raise ExportError(f"the student network is not valid: {exc}") from exc
    check_student(run.model, model)  # before anything is written
    created = not out.exists()
    write_run_header(out, PreparedRun(project, data, model, []))
    writer = RunWriter(out)
    try:
        result = distill(run.model, graph, data, settings, baseline=baseline, listeners=[writer, *listeners],
                         cancel=cancel, checkpoint_dir=out / CHECKPOINTS)
    except BaseException:
        writer.close()
        if created:
            import shutil

            shutil.rmtree(out, ignore_errors=True)
        raise
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    summary = {"project": project.name, "dataset": run.project.dataset.path or run.project.dataset.source,
               "task": data.task, **summary, "teacher_run": str(teacher_run), **result.summary(),
               "best_checkpoint": str(out / CHECKPOINTS / "best.pt"), "last_checkpoint": str(out / CHECKPOINTS / "last.pt")}
    write_json_atomic(out / "summary.json", summary)
    return result


def _number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


__all__ = [
    "DistillResult",
    "DistillSettings",
    "ScaledGraph",
    "check_student",
    "distill",
    "distill_run",
    "distillation_loss",
    "resolve_student",
    "scale_widths",
]
