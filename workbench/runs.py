"""Runs: a project trained into a run folder, and a run folder read back.

The command line, the app and distributed workers all train through `train_project`, so a run
folder is the same whoever made it (in a distributed job, rank 0 alone writes it):

    RUN_DIR/project.json     the project exactly as trained (settings after overrides)
    RUN_DIR/data.json        what the model was trained on: task, shapes, normalisation, vocabulary
    RUN_DIR/metrics.jsonl    one JSON object per step and per epoch, appended as training goes
    RUN_DIR/summary.json     the outcome (written at the end, also after a failure)
    RUN_DIR/checkpoints/     best.pt and last.pt
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from workbench.data.bundle import DataBundle, DatasetSpec
from workbench.errors import DataError, ProjectFileError
from workbench.files import write_json_atomic
from workbench.graph.analysis import analyze, check
from workbench.graph.builder import GraphModule, build_model
from workbench.graph.document import Graph, Node
from workbench.i18n import _
from workbench.project import Project, load_project, save_project
from workbench.run_records import read_data_info, read_json_object, read_summary
from workbench.safe_names import run_folder_name
from workbench.training.losses import describe_task, loss_for_task, output_width

if TYPE_CHECKING:  # for the annotation only; the engine loads when a run starts
    from workbench.training.cost import CostEstimate
    from workbench.training.distributed import DistContext

log = logging.getLogger(__name__)

CHECKPOINTS = "checkpoints"


def data_record(bundle: DataBundle, spec: DatasetSpec) -> dict[str, Any]:
    """The facts about the data that sampling, export and evaluation need without reloading it.

    `preprocessing` (images: channels, resize/crop steps, mean and std) and `encoding` (tables:
    each column's statistics and categories) let `workbench evaluate` prepare new data exactly
    as the run's validation data was, without fitting anything on it.
    """
    record: dict[str, Any] = {
        "dataset": spec.to_dict(),
        "task": bundle.task,
        "input_shape": list(bundle.input_shape),
        "input_dtype": bundle.input_dtype,
        "num_outputs": bundle.num_outputs,
        "target_shape": list(bundle.target_shape),
        "class_names": bundle.class_names,
        "normalization": bundle.normalization,
        "vocab": bundle.vocab,
        "train_size": bundle.train_size,
        "val_size": bundle.val_size,
    }
    if bundle.named_inputs is not None:  # several Inputs, by name: [shape, dtype] each
        record["named_inputs"] = {k: [list(shape), dtype] for k, (shape, dtype) in bundle.named_inputs.items()}
    encoding = dict(bundle.encoding or {})
    if encoding.get("preprocessing"):
        record["preprocessing"] = encoding.pop("preprocessing")
    if encoding:
        record["encoding"] = encoding
    return record


def fit_problems(graph: Graph, bundle: DataBundle, dataset_name: str, spec: DatasetSpec | None = None) -> list[str]:
    """Where the network and the data disagree, each with the node and the fix.

    The Output's loss must suit the data's task (training.losses.loss_for_task): a regression
    target under cross-entropy trains to a loss of 0 and learns nothing. `spec`, when given, lets
    the message say how to change a task that was inferred from the data.
    """
    analysis = analyze(graph)
    problems: list[str] = []
    sources = [n for n in graph.nodes if n.type == "Input"]
    source = sources[0] if sources else None
    output = next((n for n in graph.nodes if n.type == "Output"), None)
    if source is None or output is None or output.id not in analysis.shapes:
        return problems  # graph problems are reported by analysis first
    want = tuple(bundle.input_shape)
    if bundle.named_inputs is not None:
        problems.extend(_named_input_problems(sources, bundle, dataset_name))
    elif len(sources) > 1:
        problems.append(
            f"the network has {len(sources)} Inputs ({', '.join(n.name for n in sources)}) but dataset "
            f"'{dataset_name}' gives one input per sample — remove all Inputs but one"
        )
    elif tuple(source.params["shape"]) != want or (source.params["kind"] == "tokens") != (bundle.input_dtype == "int64"):
        kind = _input_kind(bundle)
        problems.append(_(
            "{layer} declares {kind} {dims} but dataset '{dataset}' gives {data_kind} {data_dims} — set its kind "
            "to '{data_kind}' and its shape to {shape}").format(
            layer=source.label(), kind=source.params["kind"], dims=_dims(source.params["shape"]), dataset=dataset_name,
            data_kind=kind, data_dims=_dims(want), shape=list(want)))
    out = analysis.shapes[output.id]
    feeder = _feeder(graph, output.id)
    outputs_param = _following(feeder, "outputs") if feeder is not None else None
    loss = output.params["loss"]
    better = loss_for_task(loss, bundle.task, bundle.num_outputs)
    if better is not None:
        problems.append(_("{layer} trains with {loss}, but dataset '{dataset}' is {task} — set its loss to {better}")
                        .format(layer=output.label(), loss=loss, dataset=dataset_name, better=better,
                                task=describe_task(bundle.task, bundle.num_outputs)) + _task_hint(bundle, spec))
        loss = better  # the width check below then asks for what that loss needs
    if bundle.task in ("classification", "language_model", "seq2seq"):
        what = _("classes") if bundle.task == "classification" else _("characters in its vocabulary")
        width = output_width(loss, bundle.task, bundle.num_outputs)
        if bundle.task == "classification":
            expected: tuple[int, ...] = (width,)
        elif bundle.task == "seq2seq":  # one score per vocabulary entry at every target position
            expected = (bundle.target_shape[0], width)
        else:
            expected = (want[0], width)
        if out.shape != expected:
            fix = _(" — set {layer} {param} to {width}").format(layer=feeder.label(), param=outputs_param, width=width) \
                if feeder and outputs_param else ""
            problems.append(_("{layer} gets {dims} per sample but dataset '{dataset}' has {n} {what} (expects {expected})")
                            .format(layer=output.label(), dims=out.dims(), dataset=dataset_name, n=bundle.num_outputs,
                                    what=what, expected=_dims(expected)) + fix)
    elif out.shape != tuple(bundle.target_shape):
        problems.append(_(
            "{layer} gets {dims} per sample but the targets of '{dataset}' are {targets} — end the network with a "
            "Linear of {n} outputs").format(layer=output.label(), dims=out.dims(), dataset=dataset_name,
                                            targets=_dims(bundle.target_shape), n=bundle.num_outputs))
    for node in graph.nodes:
        vocab_param = _following(node, "vocab")
        if vocab_param and bundle.vocab and node.params[vocab_param] < len(bundle.vocab):
            problems.append(
                f"{node.label()} has {vocab_param} {node.params[vocab_param]} but the vocabulary has "
                f"{len(bundle.vocab)} characters — set {vocab_param} to {len(bundle.vocab)}"
            )
    return problems


def fit_graph_to_data(graph: Graph, bundle: DataBundle) -> list[str]:
    """Make the Input, the last Linear and Embeddings follow the data (used when the user
    points a project at other data). Returns what was changed, in words."""
    changes = fit_input_to_data(graph, bundle)
    output = next((n for n in graph.nodes if n.type == "Output"), None)
    width = bundle.num_outputs
    if output is not None:
        better = loss_for_task(output.params["loss"], bundle.task, bundle.num_outputs)
        if better is not None:
            graph.set_param(output.id, "loss", better)
            changes.append(_("{layer} now trains with {loss}: the data is {task}").format(
                layer=output.label(), loss=better, task=describe_task(bundle.task, bundle.num_outputs)))
        width = output_width(output.params["loss"], bundle.task, bundle.num_outputs)
    feeder = _feeder(graph, output.id) if output is not None else None
    outputs_param = _following(feeder, "outputs") if feeder is not None else None
    if feeder is not None and outputs_param and feeder.params[outputs_param] != width:
        graph.set_param(feeder.id, outputs_param, width)
        changes.append(_("{layer} now has 1 output").format(layer=feeder.label()) if width == 1
                       else _("{layer} now has {n} outputs").format(layer=feeder.label(), n=width))
    # The longest token sequence any Input gets (several, for named inputs).
    lengths = [shape[0] for shape, dtype in (bundle.named_inputs or {}).values() if dtype == "int64" and shape]
    longest = max(lengths) if lengths else bundle.input_shape[0] if bundle.input_dtype == "int64" else 0
    for node in graph.nodes:
        vocab_param, length_param = _following(node, "vocab"), _following(node, "length")
        if vocab_param and bundle.vocab and node.params[vocab_param] != len(bundle.vocab):
            graph.set_param(node.id, vocab_param, len(bundle.vocab))
            changes.append(_("{layer} now has {n} embeddings").format(layer=node.label(), n=len(bundle.vocab)))
        if length_param and longest and node.params[length_param] < longest:
            graph.set_param(node.id, length_param, longest)
            changes.append(_("{layer} now accepts {n} positions").format(layer=node.label(), n=longest))
    return changes


def _named_input_problems(sources: list[Node], bundle: DataBundle, dataset_name: str) -> list[str]:
    """Data with named inputs: every Input must be named after one, and each must be declared
    as the data gives it."""
    named = bundle.named_inputs or {}
    listed = ", ".join(f"'{n}'" for n in named)
    problems: list[str] = []
    drawn = {n.name for n in sources}
    for node in sources:
        if node.name not in named:
            problems.append(f"{node.label()} gets nothing from dataset '{dataset_name}', which gives inputs "
                            f"{listed} — rename the Input to one of them")
            continue
        shape, dtype = named[node.name]
        kind = _kind_of(shape, dtype)
        if tuple(node.params["shape"]) != tuple(shape) or node.params["kind"] != kind:
            problems.append(
                f"{node.label()} declares {node.params['kind']} {_dims(node.params['shape'])} but dataset "
                f"'{dataset_name}' gives '{node.name}' as {kind} {_dims(shape)} — set its kind to '{kind}' "
                f"and its shape to {list(shape)}")
    for name in named:
        if name not in drawn:
            problems.append(f"dataset '{dataset_name}' gives input '{name}' but no Input is named so — "
                            f"add an Input named '{name}' (inputs: {listed})")
    return problems


def fit_input_to_data(graph: Graph, bundle: DataBundle) -> list[str]:
    """Make the Input declare what the data gives (its kind and shape: 3×32×32 for an RGB folder
    resized to 32×32); with named inputs, each Input named after one. Returns what was changed,
    in words."""
    if bundle.named_inputs is not None:
        changes = []
        for node in [n for n in graph.nodes if n.type == "Input" and n.name in bundle.named_inputs]:
            shape, dtype = bundle.named_inputs[node.name]
            kind = _kind_of(shape, dtype)
            if node.params["kind"] != kind or list(node.params["shape"]) != list(shape):
                graph.set_param(node.id, "kind", kind)
                graph.set_param(node.id, "shape", list(shape))
                changes.append(_("{layer} now takes {kind} {dims}").format(layer=node.label(), kind=kind, dims=_dims(shape)))
        return changes
    source = next((n for n in graph.nodes if n.type == "Input"), None)
    if source is None:
        return []
    kind, shape = _input_kind(bundle), list(bundle.input_shape)
    if source.params["kind"] == kind and list(source.params["shape"]) == shape:
        return []
    graph.set_param(source.id, "kind", kind)
    graph.set_param(source.id, "shape", shape)
    return [_("{layer} now takes {kind} {dims}").format(layer=source.label(), kind=kind, dims=_dims(shape))]


def _following(node: Node, fact: str) -> str | None:
    """The param of `node` that follows `fact` of the data (LayerSpec.follows_data), if any."""
    return next((param for param, what in node.spec.follows_data if what == fact), None)


def _task_hint(bundle: DataBundle, spec: DatasetSpec | None) -> str:
    """How to change the task when the reader inferred it (data.labels.infer_task)."""
    if spec is None or spec.source not in ("csv", "npz") or "task" in spec.options \
            or bundle.task not in ("classification", "regression"):
        return ""
    other = "classification" if bundle.task == "regression" else "regression"
    what = "holds class ids" if other == "classification" else "is a quantity"
    return f" (or, if its target {what}, set the dataset's option task to '{other}')"


def _input_kind(bundle: DataBundle) -> str:
    return _kind_of(bundle.input_shape, bundle.input_dtype)


def _kind_of(shape: Sequence[int], dtype: str) -> str:
    if dtype == "int64":
        return "tokens"
    return "image" if len(shape) == 3 else "vector"


def _feeder(graph: Graph, node_id: str):
    edge = graph.edge_into(node_id, "in")
    return graph.node(edge.src) if edge else None


def _dims(shape: Sequence[int]) -> str:
    return "×".join(str(d) for d in shape)


@dataclass
class PreparedRun:
    """Everything a trainer needs, checked against each other."""

    project: Project
    data: DataBundle
    model: GraphModule
    changes: list[str]  # what fitting the graph to overriding data changed
    init: Any = None  # training.init_from.InitReport when the weights came from init_from


def prepare_run(project: Project, overrides: dict[str, Any] | None = None, data: DatasetSpec | None = None,
                replace_head: bool = False) -> PreparedRun:
    """Apply setting overrides, load the data, check that network and data fit, build the model.

    The Input always takes its kind and shape from the data (and its transforms). With `data`
    (the user's own data instead of the project's) the last Linear, the Output's loss and
    Embeddings follow that data too; otherwise any other disagreement is a DataError naming the node.
    """
    from workbench.data import load_dataset

    settings = project.training.replace(**(overrides or {})) if overrides else project.training
    graph = project.graph.copy()
    spec = data or project.dataset
    check(graph)
    bundle = load_dataset(spec, base_dir=project.base_dir)
    changes = fit_graph_to_data(graph, bundle) if data is not None else fit_input_to_data(graph, bundle)
    if replace_head:  # before the check: the fresh head is sized to the data
        from workbench.training.init_from import head_width, replace_head as swap_head

        changes.append(swap_head(graph, head_width(graph, bundle)))
    problems = fit_problems(graph, bundle, spec.path or spec.source, spec)
    if problems:
        raise DataError("; ".join(problems))
    model = build_model(graph, seed=settings.seed)
    init = None
    if settings.init_from:
        from workbench.training.init_from import initialise

        init = initialise(model, settings.init_from, base_dir=project.base_dir)
        source = Path(settings.init_from).expanduser()
        if not source.is_absolute() and project.base_dir is not None:
            # The run's project.json lives elsewhere: keep the source findable from there.
            settings = settings.replace(init_from=str((project.base_dir / source).resolve()))
    trained = Project(project.name, graph, spec, settings, project.description, project.path)
    return PreparedRun(trained, bundle, model, changes, init)


def default_run_dir(project: Project) -> Path:
    """runs/<project>-<time> beside the project file (or in the working folder).

    The project's name goes through `run_folder_name`, so a name such as `../../x` still lands in runs/.
    """
    runs = project.runs_dir
    stamp = time.strftime("%Y%m%d-%H%M%S")
    name = run_folder_name(project.name)
    candidate = runs / f"{name}-{stamp}"
    n = 2
    while candidate.exists():
        candidate = runs / f"{name}-{stamp}-{n}"
        n += 1
    return candidate


def write_run_header(run_dir: Path, prepared: PreparedRun) -> None:
    """project.json and data.json: written before the first step, so a run folder always says what it is."""
    run_dir.mkdir(parents=True, exist_ok=True)
    project = prepared.project
    saved = Project(project.name, project.graph, project.dataset, project.training, project.description)
    if project.dataset.path and project.base_dir:
        # The run folder lives elsewhere: keep the data findable from there.
        path = Path(project.dataset.path)
        absolute = path if path.is_absolute() else (project.base_dir / path).resolve()
        saved.dataset = DatasetSpec(project.dataset.source, str(absolute), project.dataset.options,
                                    project.dataset.val_fraction, project.dataset.seed)
    save_project(saved, run_dir / "project.json")
    write_json_atomic(run_dir / "data.json", data_record(prepared.data, project.dataset))


FOLLOW_FLUSH_S = 1.0  # distributed runs: metrics.jsonl reaches the disk at least this often


def train_project(
    prepared: PreparedRun,
    run_dir: Path,
    listeners: Sequence[Callable[[Any], None]] = (),
    resume_from: Path | None = None,
    on_trainer: Callable[[Any], None] | None = None,
    distributed: DistContext | None = None,
    estimate: CostEstimate | bool = False,
):
    """Train a prepared run into `run_dir`; returns the engine's RunResult.

    `on_trainer` receives the Trainer before training starts, so a caller can stop or pause it.
    A `resume_from` checkpoint that cannot continue the run raises ProjectFileError or
    TrainingError before anything is written. What metrics.jsonl holds past the checkpoint is
    dropped when training resumes (RunWriter), so no step or epoch is recorded twice.
    `distributed` (a training.distributed.DistContext) makes this process one rank of a job:
    only rank 0 writes the run folder (header, metrics, checkpoints, summary); the other ranks
    train without writing anything, so the folder looks like a single-process run's.
    `estimate` (a training.cost.CostEstimate, or True: make one first from a few timed steps) is
    recorded in summary.json's `cost` beside the measured wall time and energy; the settings'
    log_tensorboard / log_mlflow add their loggers (training.run_extras).
    """
    from workbench.training import RunWriter, Trainer
    from workbench.training.run_extras import RunExtras

    writes = distributed is None or distributed.is_main
    if resume_from is not None and distributed is None:
        # Before anything is written: a checkpoint that cannot continue this run (damaged, of
        # another network, already at the last epoch) leaves the run folder as it was. (In a
        # distributed job every rank checks it in the engine, from rank 0's copy.)
        from workbench.training.checkpoint import check_resume, load_checkpoint

        check_resume(load_checkpoint(resume_from, mmap=True), prepared.model, prepared.project.training, resume_from)
    extras = RunExtras(prepared, run_dir, writes=writes, estimate=estimate,
                       single=distributed is None and resume_from is None)
    run_listeners = [*listeners, *extras.listeners]
    if writes:
        write_run_header(run_dir, prepared)
        # A distributed job is followed through the file (jobs.follow_metrics): flush it often.
        run_listeners.insert(0, RunWriter(run_dir, flush_interval_s=FOLLOW_FLUSH_S if distributed else None))
    trainer = Trainer(
        prepared.model,
        prepared.data,
        prepared.project.training,
        loss=prepared.model.loss_name,
        listeners=run_listeners,
        checkpoint_dir=run_dir / CHECKPOINTS if writes else None,
        distributed=distributed,
    )
    if on_trainer is not None:
        on_trainer(trainer)
    extras.start(trainer.device)
    result = trainer.run(resume_from=resume_from)
    if writes:
        _complete_summary(run_dir, prepared)
    extras.finish(result)
    return result


def _complete_summary(run_dir: Path, prepared: PreparedRun) -> None:
    """Add what only this layer knows (project, dataset, task) to the engine's summary.json."""
    path = run_dir / "summary.json"
    try:
        summary = read_json_object(path)
    except ProjectFileError as exc:
        log.warning("cannot complete the summary: %s", exc)
        return
    summary = {
        "project": prepared.project.name,
        "dataset": prepared.project.dataset.path or prepared.project.dataset.source,
        "task": prepared.data.task,
        **summary,
    }
    if prepared.init is not None:
        summary["init_from"] = prepared.init.to_dict()
    write_json_atomic(path, summary)


@dataclass
class TrainedRun:
    """A run folder read back: the project, the trained model and what it reported."""

    run_dir: Path
    project: Project
    model: GraphModule
    summary: dict[str, Any]
    data_info: dict[str, Any]
    checkpoint: Path

    def data(self) -> DataBundle:
        """The run's data, loaded again with the same split."""
        from workbench.data import load_dataset

        return load_dataset(self.project.dataset, base_dir=self.run_dir)


def load_run(run_dir: str | Path, checkpoint: str = "best") -> TrainedRun:
    """Read a run folder; ProjectFileError says what is missing or broken.

    Every file is checked before it is used (run_records, load_checkpoint): a damaged one ends in
    one line naming the file and the field, never in a traceback in sampling or export.
    """
    from workbench.training.checkpoint import check_model_fits, load_checkpoint

    root = Path(run_dir)
    if not root.is_dir():
        raise ProjectFileError(f"{root}: no such run folder")
    for needed in ("project.json", "data.json"):
        if not (root / needed).is_file():
            raise ProjectFileError(f"{root}: not a complete run folder ({needed} is missing) — train it with 'workbench train'")
    project = load_project(root / "project.json")
    data_info = read_data_info(root / "data.json")
    _check_data_info_fits(project.graph, data_info, root / "data.json")
    summary = read_summary(root / "summary.json") if (root / "summary.json").is_file() else {}
    ckpt = root / CHECKPOINTS / f"{checkpoint}.pt"
    if not ckpt.is_file():
        other = root / CHECKPOINTS / "last.pt"
        if checkpoint == "best" and other.is_file():
            ckpt = other
        else:
            raise ProjectFileError(f"{root}: no checkpoint ({ckpt.name} is missing) — the run has not finished an epoch")
    state = load_checkpoint(ckpt)
    model = build_model(project.graph, seed=None)
    check_model_fits(state, model, ckpt)
    try:
        model.load_state_dict(state["model"])
    except RuntimeError as exc:  # same names and shapes, yet refused (a dtype torch cannot copy)
        raise ProjectFileError(f"{ckpt}: does not match the run's network ({str(exc).splitlines()[0]})") from None
    model.eval()
    return TrainedRun(root, project, model, summary, data_info, ckpt)


def _check_data_info_fits(graph: Graph, info: dict[str, Any], path: Path) -> None:
    """data.json's task and widths must be those the run's network was trained for: sampling
    indexes the vocabulary, and export names the classes, by the network's outputs."""
    output = next((n for n in graph.nodes if n.type == "Output"), None)
    analysis = analyze(graph)
    if output is None or output.id not in analysis.shapes:
        return  # the project's own problems are reported when it is built
    task, outputs, loss = info["task"], info["num_outputs"], output.params["loss"]
    if loss_for_task(loss, task, outputs) is not None:
        raise ProjectFileError(f"{path}: field 'task' says {describe_task(task, outputs)}, which the run's "
                               f"{loss} loss cannot train; the run folder is damaged")
    shape = analysis.shapes[output.id].shape
    width, expected = (shape[-1] if shape else 1), output_width(loss, task, outputs)
    if width != expected:
        field = {"language_model": "vocab", "classification": "class_names"}.get(task, "num_outputs")
        raise ProjectFileError(f"{path}: field '{field}' gives {outputs} {'tokens' if task == 'language_model' else 'outputs'} "
                               f"but the run's network has {width}; the run folder is damaged")
