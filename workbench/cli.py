"""The `workbench` command: the app, and the same core on the command line.

Errors a user can cause end with one line on stderr and exit code 1; tracebacks are for bugs.
Heavy imports (torch, the GUI) happen inside the commands that need them, so `--help` is fast.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import math
import os
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, NoReturn

from workbench import __version__
from workbench.errors import WorkbenchError

log = logging.getLogger(__name__)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `workbench` console script."""
    parser = _parser()
    args, extra = parser.parse_known_args(argv)
    if extra:  # told by the command's own parser, so that the message names the command
        commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        commands.choices.get(args.command, parser).error(f"unrecognized arguments: {' '.join(extra)}")
    logging.basicConfig(level=logging.WARNING if not args.verbose else logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    command = args.command or "open"
    try:
        return int(_COMMANDS[command](args) or 0)
    except WorkbenchError as exc:
        print(f"workbench: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("workbench: interrupted", file=sys.stderr)
        return 130


class _Parser(argparse.ArgumentParser):
    """argparse with Workbench's one error format: `workbench: error: COMMAND: message`."""

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        command = self.prog.removeprefix("workbench").strip()
        where = f"{command}: " if command else ""
        hint = f"workbench {command} --help" if command else "workbench --help"
        self.exit(2, f"workbench: error: {where}{message} (see {hint})\n")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="workbench", description="Design neural networks by drawing them, train them, export them.")
    parser.add_argument("--version", action="version", version=f"workbench {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log what happens")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("open", help="open the app (with a project file or a preset)")
    p.add_argument("project", nargs="?", help="project file or preset name")
    p.add_argument("--screenshot", metavar="PATH", help="save a PNG of the window and exit")
    p.add_argument("--train", action="store_true", help="train the project in the app before the screenshot")
    _train_overrides(p)

    sub.add_parser("presets", help="list the bundled presets")

    p = sub.add_parser("info", help="print the layer table and totals of a project")
    p.add_argument("project", help="project file or preset name")
    p.add_argument("--batch-size", type=int, default=None, help="batch size for the memory estimate")

    p = sub.add_parser("import", help="import a pretrained torchvision model or an ONNX file as a project (with its weights)")
    p.add_argument("source", metavar="torchvision:NAME|FILE.onnx",
                   help="e.g. torchvision:resnet18, torchvision:mobilenet_v3_small, or model.onnx (checked against onnxruntime)")
    p.add_argument("--out", required=True, metavar="PROJECT.json", help="project file to write (weights go beside it)")
    p.add_argument("--weights", metavar="DEFAULT|PATH",
                   help="torchvision's published weights (DEFAULT or a name such as IMAGENET1K_V1: from the cache, "
                        "downloaded when online) or a .safetensors / state-dict file of that model; "
                        "without it the project starts untrained")
    p.add_argument("--classes", type=int, metavar="N", help="replace the classifier's last Linear with N fresh outputs")

    p = sub.add_parser("train", help="train a project into a run folder")
    p.add_argument("project", help="project file or preset name")
    _train_overrides(p)
    p.add_argument("--out", metavar="RUN_DIR", help="run folder (default: runs/<project>-<time>)")
    p.add_argument("--resume", metavar="CHECKPOINT", help="continue a run from its checkpoint (e.g. RUN_DIR/checkpoints/last.pt)")
    p.add_argument("--data", metavar="PATH", help="train on this file or folder instead of the project's dataset")
    p.add_argument("--target", metavar="COLUMN", help="with a table --data (CSV/TSV or Parquet): the column to predict")
    p.add_argument("--image-size", nargs=2, type=int, metavar=("H", "W"), help="with an image folder --data: resize to H×W")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    g = p.add_argument_group("cost and tracking")
    g.add_argument("--estimate", action="store_true",
                   help="print the run's estimated FLOPs, time (from a few timed steps), energy and CO2, and exit")
    g.add_argument("--no-estimate", action="store_true",
                   help="skip the estimate made before training (recorded in summary.json beside the measured time)")
    g.add_argument("--grid-intensity", type=float, metavar="G", help="grams of CO2 per kWh for the estimate (default 400)")
    g.add_argument("--log", action="append", metavar="tensorboard,mlflow",
                   help="also log the run to TensorBoard (event files in RUN_DIR/tensorboard) and/or MLflow; "
                        "needs: pip install 'workbench[tracking]'")
    g.add_argument("--mlflow-uri", metavar="URI", help="MLflow tracking URI (default sqlite:///<runs folder>/mlflow.db)")
    g = p.add_argument_group("start from a trained model")
    g.add_argument("--init-from", metavar="SOURCE", help="copy weights by layer name and shape from a run folder, "
                   "a checkpoint (.pt) or a weights file (.safetensors, or a saved state_dict)")
    g.add_argument("--freeze", metavar="NODE[,NODE...]", help="layers whose weights stay fixed")
    g.add_argument("--freeze-until", metavar="NODE", help="freeze every layer up to and including NODE")
    g.add_argument("--replace-head", action="store_true",
                   help="swap the last Linear for a fresh one sized to the data's classes")
    g.add_argument("--unfreeze-epoch", type=int, metavar="N", help="the frozen layers train too from epoch N on")
    g = p.add_argument_group("distributed training (PyTorch DDP, started through torchrun's launcher)")
    g.add_argument("--nproc", type=int, metavar="N", help="train as N processes on this machine: one per GPU (NCCL), or CPU processes (gloo)")
    g.add_argument("--nnodes", type=int, metavar="M", help="machines in the job (default 1); run the same command on each")
    g.add_argument("--node-rank", type=int, metavar="R", help="this machine's index, 0 to M-1; node 0 holds rank 0, which writes the run folder")
    g.add_argument("--master", metavar="ADDR:PORT", help="address of node 0 and a free port there, the same on every machine")

    p = sub.add_parser("export", help="export a trained run as verified files, with optional compression")
    p.add_argument("run_dir", help="run folder made by 'workbench train'")
    p.add_argument("--out", required=True, metavar="DIR", help="folder for the exported files and the report")
    p.add_argument("--format", default="onnx", metavar="onnx,safetensors,pt2,code",
                   help="comma-separated: onnx, safetensors, pt2, code (default: onnx)")
    p.add_argument("--quantize", default="", metavar="int8-dynamic,int8-static,fp16",
                   help="comma-separated: int8-dynamic, int8-static, fp16")
    p.add_argument("--prune", type=float, metavar="FRACTION", help="global magnitude pruning: share of weights set to zero")
    p.add_argument("--prune-channels", type=float, metavar="FRACTION", help="structured pruning: share of channels removed")
    p.add_argument("--finetune-epochs", type=int, default=0, metavar="N", help="training after pruning, to recover accuracy")
    p.add_argument("--checkpoint", default="best", choices=("best", "last"), help="which checkpoint to export")

    p = sub.add_parser("evaluate", help="score a trained run on held-out data (accuracy, per-class table, confusion matrix)")
    p.add_argument("run_dir", help="run folder made by 'workbench train'")
    p.add_argument("--data", required=True, metavar="PATH",
                   help="held-out data read like the run's: an image folder (its test/ part if it has one, else val/), "
                        "a manifest, official MNIST/CIFAR files (their test part) or a CSV table")
    p.add_argument("--checkpoint", default="best", choices=("best", "last"), help="which checkpoint to score")
    p.add_argument("--out", metavar="DIR", help="folder for evaluation.json and evaluation.md "
                                                "(default: RUN_DIR/evaluations/<data>-<time>)")
    p.add_argument("--batch-size", type=int, default=256, metavar="N", help="samples per forward pass (default 256)")

    p = sub.add_parser("distill", help="train a smaller student on a trained teacher's outputs")
    p.add_argument("teacher_run", help="the teacher's run folder")
    p.add_argument("--student", metavar="PROJECT_OR_SCALE",
                   help="a width factor for the teacher's own network (e.g. 0.5), a preset or a project file "
                        "(not needed with --resume)")
    p.add_argument("--epochs", type=int, help="student training epochs")
    p.add_argument("--temperature", type=float, help="softens the teacher's outputs (2-5 is usual)")
    p.add_argument("--alpha", type=float, help="weight of the teacher's outputs; the rest goes to the labels")
    p.add_argument("--lr", type=float, help="student learning rate")
    p.add_argument("--baseline", action="store_true", help="also train the student on labels alone and compare")
    p.add_argument("--device", help="auto, cpu, cuda, cuda:N or mps (default: the teacher run's)")
    p.add_argument("--out", metavar="RUN_DIR", help="run folder for the student (default: runs/<teacher>-student-<time>)")
    p.add_argument("--resume", metavar="CHECKPOINT",
                   help="continue a distillation from its checkpoint (e.g. RUN_DIR/checkpoints/last.pt); "
                        "its run folder is RUN_DIR unless --out says otherwise")

    p = sub.add_parser("bench", help="measure training overhead, responsiveness, plotting, start-up and export speed")
    p.add_argument("--quick", action="store_true", help="fewer repetitions (about two minutes on 2 CPU cores)")
    p.add_argument("--json", metavar="PATH", help="also write every number, the machine and the settings as JSON")

    p = sub.add_parser("sample", help="generate text from a trained language model, or decode a source with a seq2seq run")
    p.add_argument("run_dir", help="run folder of a language model or a sequence-to-sequence model")
    p.add_argument("--prompt", default="", help="text to continue")
    p.add_argument("--source", action="append", metavar="TEXT",
                   help="seq2seq runs: the text to decode (repeat for several)")
    p.add_argument("--beam", type=int, default=1, metavar="K",
                   help="seq2seq runs: beam search keeping K hypotheses, printed best first (default 1: greedy)")
    p.add_argument("--tokens", type=int, default=200, help="characters to generate")
    p.add_argument("--temperature", type=float, default=0.8, help="lower is more predictable")
    p.add_argument("--seed", type=int, default=0)

    p = sub.add_parser("serve", help="answer predictions of a trained model over HTTP (onnxruntime + FastAPI)")
    p.add_argument("target", help="run folder (exported to ONNX on the way) or export folder with its report.json")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this machine only)")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--variant", metavar="NAME", help="variant of an export (default: the recommended one)")
    p.add_argument("--workers", type=int, default=1, metavar="N", help="server processes, each with the model loaded")
    p.add_argument("--max-batch", type=int, default=32, metavar="B", help="samples per onnxruntime call (1: no batching)")
    p.add_argument("--max-wait-ms", type=float, default=2.0, metavar="T",
                   help="how long a request waits for others to share its call")
    p.add_argument("--max-body-mb", type=float, default=8.0, metavar="M", help="larger request bodies are refused (413)")
    p.add_argument("--write-dockerfile", metavar="DIR",
                   help="write a Dockerfile, requirements.txt and the model files to DIR instead of serving")

    p = sub.add_parser("tune", help="search run settings and marked layer parameters (Optuna); print the best trials")
    p.add_argument("project", help="project file or preset name")
    p.add_argument("--trials", type=int, default=20, metavar="N", help="trials to run now (default 20)")
    p.add_argument("--objectives", default="val_loss", metavar="NAMES",
                   help="comma-separated, each maximised or minimised as it should be: val_accuracy, val_loss, "
                        "val_mae, params, flops, latency_ms (default val_loss); two or more give a Pareto front")
    p.add_argument("--space", metavar="SPACE.json", help="entries that replace the default search space")
    p.add_argument("--epochs", type=int, metavar="N", help="epochs of every trial (default: the project's, at most 5)")
    p.add_argument("--timeout", type=float, metavar="S", help="start no trial after S seconds")
    p.add_argument("--storage", metavar="URL", help="Optuna storage (default sqlite:///<project>.optuna.db beside it)")
    p.add_argument("--study", metavar="NAME", help="study name (default: the project's); an existing one continues")
    p.add_argument("--parallel", type=int, default=1, metavar="K", help="processes running trials at once")
    p.add_argument("--threads", type=int, default=1, metavar="N", help="torch threads per process (default 1)")
    return parser


def _train_overrides(p: argparse.ArgumentParser) -> None:
    p.add_argument("--epochs", type=int, help="number of epochs")
    p.add_argument("--device", help="auto, cpu, cuda, cuda:N or mps")
    p.add_argument("--batch-size", type=int, help="samples per batch")
    p.add_argument("--lr", type=float, help="learning rate")
    p.add_argument("--seed", type=int, help="random seed")


def _overrides(args: argparse.Namespace) -> dict[str, Any]:
    names = {"epochs": "epochs", "device": "device", "batch_size": "batch_size", "lr": "lr", "seed": "seed"}
    return {key: getattr(args, attr) for attr, key in names.items() if getattr(args, attr, None) is not None}


# ----- commands -------------------------------------------------------------------------------


def cmd_open(args: argparse.Namespace) -> int:
    if getattr(args, "project", None):
        _check_project(args.project)  # a wrong name or file ends here, before Qt and torch load
    try:
        from workbench.gui.app import run_app
    except ImportError as exc:
        library = str(exc).split(":")[0].strip()
        if ".so" in library and "cannot open shared object file" in str(exc):  # a system library
            from workbench.gui.display_check import package_for

            raise WorkbenchError(f"the app cannot start: {library} is missing; install with: "
                                 f"sudo apt-get install {package_for(library)}") from None
        if "PySide6" in str(exc) or "workbench.gui" in str(exc):
            print(f"workbench: error: the app cannot start ({exc}); reinstall with: pip install -e .", file=sys.stderr)
            return 1
        raise
    return run_app(
        getattr(args, "project", None),
        screenshot=getattr(args, "screenshot", None),
        train=getattr(args, "train", False),
        overrides=_overrides(args),
    )


def cmd_presets(args: argparse.Namespace) -> int:
    from workbench.graph.summary import format_count
    from workbench.presets import list_presets

    rows = [(p.name, p.task, p.dataset, format_count(p.parameters), p.description) for p in list_presets()]
    _print_table(("preset", "task", "dataset", "params", "description"), rows)
    return 0


def cmd_info(args: argparse.Namespace) -> int:
    from workbench.presets import resolve_project

    project = resolve_project(args.project)  # before the summary's torch: a wrong name is told at once
    from workbench.graph.analysis import analyze
    from workbench.graph.summary import format_bytes, format_count, summarize

    analysis = analyze(project.graph)
    if not analysis.ok:
        print(f"workbench: error: {project.name}: the network has problems:", file=sys.stderr)
        for problem in analysis.problems:
            if problem.severity == "error":
                print(f"  - {problem.message}", file=sys.stderr)
        return 1
    batch = args.batch_size if args.batch_size is not None else project.training.batch_size
    if batch < 1:
        raise WorkbenchError(f"--batch-size must be at least 1, got {batch}")
    summary = summarize(project.graph, batch_size=batch, optimizer=project.training.optimizer)
    rows = [(r.name, r.type, r.output_shape, format_count(r.params), format_count(r.flops)) for r in summary.rows]
    print(f"{project.name}: {project.description}")
    _print_table(("node", "type", "output shape", "params", "FLOPs"), rows)
    print(
        f"total: {summary.total_params:,} parameters ({summary.size_mb:.2f} MB fp32), "
        f"{format_count(summary.total_flops)} FLOPs per sample, "
        f"training memory ≈ {format_bytes(summary.train_memory_bytes)} at batch {batch}"
    )
    for problem in analysis.problems:
        print(f"warning: {problem.message}")
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    if args.source.lower().endswith(".onnx"):
        return _import_onnx(args)
    library, _, name = args.source.partition(":")
    if library != "torchvision" or not name:
        raise WorkbenchError(f"import {args.source}: expected torchvision:NAME or a .onnx file, e.g. torchvision:resnet18")
    from workbench.model_import import import_torchvision

    result = import_torchvision(name, args.out, weights=args.weights, classes=args.classes)
    for line in result.lines():
        print(line)
    return 0


def _import_onnx(args: argparse.Namespace) -> int:
    if args.weights or args.classes:
        raise WorkbenchError(f"import {args.source}: --weights and --classes are for torchvision models; an ONNX file "
                             "brings its own weights (replace the head after importing)")
    from workbench.model_import import import_onnx

    for line in import_onnx(args.source, args.out).lines():
        print(line)
    return 0


def cmd_train(args: argparse.Namespace) -> int:
    if "RANK" not in os.environ or "WORLD_SIZE" not in os.environ:  # not a torchrun rank
        _check_project(args.project)  # a wrong name or file is told before torch loads (~2 s)
    from workbench.presets import resolve_project
    from workbench.runs import default_run_dir, prepare_run, train_project
    from workbench.training import distributed

    cost = _cost_overrides(args)  # before any data loads: a missing tracking package is told at once
    worker = distributed.worker_env()  # set when torchrun started this process as one rank
    if args.nproc is None and (args.nnodes is not None or args.node_rank is not None or args.master is not None):
        raise WorkbenchError("--nnodes, --node-rank and --master go with --nproc N (processes per machine)")
    if args.nproc is not None:
        if worker is not None:
            raise WorkbenchError("--nproc starts a distributed job, but this process already is one rank of a job "
                                 "(RANK and WORLD_SIZE are set): leave --nproc out under torchrun")
        from workbench.training.launcher import launch_training, torchrun_args

        nnodes, node_rank = args.nnodes or 1, args.node_rank or 0
        torchrun_args(args.nproc, nnodes, node_rank, args.master)  # refuses bad counts before anything starts
        project = resolve_project(args.project)
        _check_data_named(project, _data_override(args) if args.data else None, args.project)
        run_dir = (Path(args.out) if args.out else default_run_dir(project)).resolve()
        resume = Path(args.resume).resolve() if args.resume else None
        if resume is not None and node_rank == 0 and not resume.is_file():  # rank 0 reads it and sends it on
            raise WorkbenchError(f"--resume {resume}: no such checkpoint file")
        _data_override(args)  # its mistakes are found here, once, rather than in every worker
        # The workers run this command again without the launcher's options, with absolute paths
        # and one run folder for all.
        worker_args = ["-v"] if args.verbose else []
        worker_args += ["train", str(Path(args.project).resolve()) if Path(args.project).is_file() else args.project,
                        "--out", str(run_dir)]
        for flag, value in (("--epochs", args.epochs), ("--device", args.device), ("--batch-size", args.batch_size),
                            ("--lr", args.lr), ("--seed", args.seed), ("--resume", resume), ("--target", args.target),
                            ("--init-from", Path(args.init_from).resolve() if args.init_from else None),
                            ("--freeze", args.freeze), ("--freeze-until", args.freeze_until),
                            ("--unfreeze-epoch", args.unfreeze_epoch),
                            ("--log", ",".join(args.log) if args.log else None), ("--mlflow-uri", args.mlflow_uri),
                            ("--grid-intensity", args.grid_intensity),
                            ("--data", Path(args.data).resolve() if args.data else None)):
            if value is not None:
                worker_args += [flag, str(value)]
        if args.image_size:
            worker_args += ["--image-size", *(str(n) for n in args.image_size)]
        if args.quiet:
            worker_args.append("--quiet")
        if args.replace_head:
            worker_args.append("--replace-head")
        print(f"launching {args.nproc} process{'es' if args.nproc != 1 else ''} on this machine"
              + (f" (node {node_rank} of {nnodes})" if nnodes > 1 else "")
              + f" through torchrun's launcher (torch.distributed.run) -> {run_dir}", file=sys.stderr)
        outcome = launch_training(worker_args, nproc=args.nproc, nnodes=nnodes, node_rank=node_rank,
                                  master=args.master, run_dir=run_dir, verbose=args.verbose)
        if outcome.exit_code == 0:
            return 0
        last = run_dir / "checkpoints" / "last.pt"
        where = f"run folder: {run_dir}" + (f"; continue with --resume {last}" if last.is_file() else "")
        print(f"workbench: {'' if outcome.signal else 'error: '}{outcome.message} ({where})", file=sys.stderr)
        return outcome.exit_code

    rank = worker.rank if worker is not None else 0
    main_rank = rank == 0
    # Under Workbench's launcher, the launcher prints the one line about a failure; under the
    # user's own torchrun, rank 0 prints its line and torchrun's table has every rank's message.
    say_failure = worker is None or (main_rank and not distributed.under_launcher())
    # A worker turns SIGINT/SIGTERM (forwarded by the launcher) into a stop all ranks agree on.
    signals = distributed.SignalStop(rank) if worker is not None else contextlib.nullcontext()
    holder: dict[str, Any] = {}
    try:
        with signals:
            project = resolve_project(args.project)
            _freeze(project, args)
            data = _data_override(args)
            _check_data_named(project, data, args.project)
            with _data_progress(quiet=args.quiet or not main_rank):
                prepared = prepare_run(project, {**_overrides(args), **_start_overrides(args), **cost}, data,
                                       replace_head=args.replace_head)
            if main_rank:
                for change in prepared.changes:
                    print(f"to fit the data: {change}", file=sys.stderr)
                for line in prepared.init.lines() if prepared.init is not None else ():
                    print(line, file=sys.stderr)
            if args.estimate:
                return _print_estimate(prepared)
            run_dir = Path(args.out) if args.out else default_run_dir(project)
            resume = Path(args.resume) if args.resume else None
            if resume is not None and main_rank and not resume.is_file():
                raise WorkbenchError(f"--resume {resume}: no such checkpoint file")
            settings = prepared.project.training
            if main_rank:
                print(
                    f"training {project.name} on {prepared.data.description or project.dataset.source}: "
                    f"{prepared.data.train_size} train / {prepared.data.val_size} validation samples, "
                    f"{settings.epochs} epochs, batch {settings.batch_size} -> {run_dir}",
                    file=sys.stderr,
                )
            context = None
            if worker is not None:
                context = distributed.init_worker(worker, settings.device)
                if main_rank:
                    print(distributed.describe_job(context, settings), file=sys.stderr)
                distributed.install_test_fault(prepared.model, rank)

            def on_trainer(trainer: Any) -> None:
                holder["t"] = trainer
                if isinstance(signals, distributed.SignalStop):
                    signals.attach(trainer)

            progress = _Progress(settings.epochs, quiet=args.quiet or not main_rank,
                                 steps_per_epoch=lambda: getattr(holder.get("t"), "steps_per_epoch", None))
            try:
                result = train_project(prepared, run_dir, listeners=[progress], resume_from=resume,
                                       on_trainer=on_trainer, distributed=context,
                                       estimate=not args.no_estimate)
            except KeyboardInterrupt:
                # A second Ctrl+C during the clean stop is allowed to end the process.
                trainer = holder.get("t")
                if trainer is None:
                    raise
                trainer.request_stop()
                raise
            progress.close()
            # Still inside `signals`: the launcher's SIGTERM to the ranks that outlive a failed one
            # must not cut this rank short before its error file is written.
            if result.status == "failed":
                if worker is not None:
                    distributed.record_failure(result.message, rank, peer_lost=holder["t"].peer_lost)
                if say_failure:
                    print(f"workbench: error: {result.message} (run folder: {run_dir})", file=sys.stderr)
                return 1
            if worker is not None:
                distributed.shutdown_worker()
    except WorkbenchError as exc:
        if worker is None:
            raise
        distributed.record_failure(str(exc), rank)
        if say_failure:
            print(f"workbench: error: {exc}", file=sys.stderr)
        return 1
    if not main_rank:
        return 0
    summary = result.summary
    metric = next((f"{k} {v:.4f}" for k, v in summary.items() if k.startswith("val_") and k != "val_loss" and isinstance(v, float)), "")
    val_loss = summary.get("val_loss")
    print(
        f"{result.status}: val_loss {val_loss:.4f} {metric} in {summary.get('duration_s', 0):.1f} s -> {run_dir}"
        if isinstance(val_loss, (int, float)) else f"{result.status} -> {run_dir}"
    )
    _print_cost(run_dir)
    return 0


def _check_project(name_or_path: str) -> None:
    """Read the project file or preset (a few milliseconds, no torch): its mistakes are told first."""
    from workbench.presets import resolve_project

    resolve_project(name_or_path)


def _cost_overrides(args: argparse.Namespace) -> dict[str, Any]:
    """--log, --mlflow-uri and --grid-intensity as training setting overrides; the loggers'
    packages are imported here, so that a missing one is told before the run starts."""
    from workbench.training.tracking import parse_backends, require

    if args.estimate and args.nproc is not None:
        raise WorkbenchError("--estimate times a single-process run; leave out --nproc")
    backends = parse_backends(args.log)
    require(backends)
    out: dict[str, Any] = {}
    if backends:
        out["log_tensorboard"] = "tensorboard" in backends
        out["log_mlflow"] = "mlflow" in backends
    if args.mlflow_uri is not None:
        out["mlflow_uri"] = args.mlflow_uri
    if args.grid_intensity is not None:
        out["grid_intensity"] = args.grid_intensity
    return out


def _print_estimate(prepared: Any) -> int:
    """`workbench train --estimate`: time a few steps and print the estimate."""
    from workbench.training.cost import estimate_cost

    project = prepared.project
    estimate = estimate_cost(prepared.model, project.graph, prepared.data, project.training, prepared.model.loss_name)
    print(f"estimate for {project.name}: {estimate.epochs} epochs of {estimate.train_samples:,} samples, "
          f"batch {estimate.batch_size}, on {estimate.device}")
    for line in estimate.lines():
        print(f"  {line}")
    return 0


def _print_cost(run_dir: Path) -> None:
    """The measured time (and energy) beside the estimate, from summary.json's cost."""
    from workbench.run_records import read_json_object

    try:
        cost = read_json_object(run_dir / "summary.json").get("cost")
    except WorkbenchError:
        return
    if not isinstance(cost, dict) or not isinstance(cost.get("measured"), dict):
        return
    measured, estimate = cost["measured"], cost.get("estimate")
    wall = measured.get("wall_s")
    if not isinstance(wall, (int, float)):
        return
    line = f"time: {wall:.1f} s measured"
    if isinstance(estimate, dict) and isinstance(estimate.get("time_s"), (int, float)) and wall > 0:
        line += f", {estimate['time_s']:.1f} s estimated ({(estimate['time_s'] - wall) / wall:+.0%})"
    if isinstance(measured.get("energy_kwh"), (int, float)):
        line += f"; energy {measured['energy_kwh']:.3g} kWh measured ({measured.get('energy_basis')})"
    print(line)


def _start_overrides(args: argparse.Namespace) -> dict[str, Any]:
    """--init-from (made absolute: the run's project.json must find it from anywhere) and
    --unfreeze-epoch, as training setting overrides."""
    out: dict[str, Any] = {}
    if args.init_from:
        out["init_from"] = str(Path(args.init_from).expanduser().resolve())
    if args.unfreeze_epoch is not None:
        out["unfreeze_epoch"] = args.unfreeze_epoch
    return out


def _freeze(project: Any, args: argparse.Namespace) -> None:
    """Apply --freeze and --freeze-until to the project's graph; unknown names are listed."""
    from workbench.training.init_from import check_names, freeze_nodes, nodes_until

    if args.freeze:
        names = [n.strip() for n in args.freeze.split(",") if n.strip()]
        freeze_nodes(project.graph, check_names(project.graph, names, "--freeze"))
    if args.freeze_until:
        freeze_nodes(project.graph, nodes_until(project.graph, args.freeze_until, "--freeze-until"))


def _check_data_named(project: Any, data: Any, name: str) -> None:
    """A project that reads the user's data but names none (an imported pretrained model reads
    images and has no folder yet): say which flag gives it, before any data loads."""
    from workbench.data.paths import data_to_choose
    from workbench.errors import DataError

    what = None if data is not None else data_to_choose(project.dataset)
    if what == "image folder":
        raise DataError(f"{name}: choose your image folder: the project names no data yet — add --data FOLDER "
                        f"(one sub-folder of images per class), e.g. workbench train {name} --data photos/")
    if what is not None:
        raise DataError(f"{name}: choose your data file: the project's '{project.dataset.source}' data has no "
                        f"path yet — add --data FILE, or set dataset.path in the project file")


def _data_override(args: argparse.Namespace):
    if not args.data:
        if args.target or args.image_size:
            raise WorkbenchError("--target and --image-size only apply with --data PATH")
        return None
    from workbench.data.bundle import DatasetSpec

    path = Path(args.data)
    if not path.exists():
        raise WorkbenchError(f"--data {path}: no such file or folder")
    name = path.name.lower()
    if path.is_dir():
        source = "images"
    elif name.endswith((".csv", ".tsv", ".parquet")):
        source = "csv"  # the table reader: CSV/TSV text or Parquet
    elif name.endswith(".npz"):
        source = "npz"
    elif "idx" in name or "ubyte" in name:
        source = "idx"
    elif name.endswith((".txt", ".text", ".md", ".py")):
        source = "textfile"
    else:
        raise WorkbenchError(
            f"--data {path}: cannot tell the format from the name — use a .csv/.tsv/.parquet, .npz, .txt, "
            "an IDX file (…-idx3-ubyte) or a folder of images with one sub-folder per class"
        )
    options: dict[str, Any] = {}
    if args.target:
        if source != "csv":
            raise WorkbenchError("--target only applies to a table (CSV/TSV or Parquet)")
        options["target"] = args.target
    if args.image_size:
        if source != "images":
            raise WorkbenchError("--image-size only applies to an image folder")
        options["size"] = list(args.image_size)
    return DatasetSpec(source=source, path=str(path.resolve()), options=options)


def cmd_sample(args: argparse.Namespace) -> int:
    if args.tokens < 1:
        raise WorkbenchError(f"--tokens must be at least 1, got {args.tokens}")
    if not math.isfinite(args.temperature) or args.temperature <= 0:
        raise WorkbenchError(f"--temperature must be a number > 0 (0.8 is usual), got {args.temperature}")
    if not 0 <= args.seed < 2**63:
        raise WorkbenchError(f"--seed must be a whole number from 0 to 2**63-1, got {args.seed}")
    from workbench.runs import load_run
    from workbench.sampling import generate

    run = load_run(args.run_dir)
    vocab = run.data_info.get("vocab")
    if run.data_info.get("task") == "seq2seq" and vocab:
        from workbench.sampling import decoded_lines

        print("\n".join(decoded_lines(run.model, vocab, args.source, args.beam)))
        return 0
    if run.data_info.get("task") != "language_model" or not vocab:
        raise WorkbenchError(f"{args.run_dir}: this run is not a language model (task: {run.data_info.get('task')})")
    print(generate(run.model, vocab, args.prompt, tokens=args.tokens, temperature=args.temperature, seed=args.seed))
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from workbench.serve.command import serve_command

    return serve_command(args.target, host=args.host, port=args.port, variant=args.variant, workers=args.workers,
                         max_batch=args.max_batch, max_wait_ms=args.max_wait_ms, max_body_mb=args.max_body_mb,
                         dockerfile_dir=args.write_dockerfile)


def cmd_tune(args: argparse.Namespace) -> int:
    from workbench.tuning.command import tune_command

    try:
        return tune_command(args.project, trials=args.trials, objectives=args.objectives, space_file=args.space,
                            storage=args.storage, study=args.study, parallel=args.parallel, timeout_s=args.timeout,
                            epochs=args.epochs, threads=args.threads)
    except KeyboardInterrupt:
        print("workbench: interrupted; the same command continues the study", file=sys.stderr)
        return 130


def cmd_export(args: argparse.Namespace) -> int:
    from workbench.export import ExportOptions, export_run

    options = ExportOptions(
        formats=args.format,
        quantize=args.quantize,
        prune=args.prune,
        prune_channels=args.prune_channels,
        finetune_epochs=args.finetune_epochs,
    )
    report = export_run(args.run_dir, args.out, options, checkpoint=args.checkpoint, progress=_export_progress)
    rows = report.table_rows()
    if rows:
        _print_table(tuple(rows[0]), [tuple(r.values()) for r in rows])
    print(f"report: {Path(args.out) / 'report.md'}  (★ recommended, ◆ best trade-offs)")
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    from workbench.evaluation import evaluate_run

    report, out = evaluate_run(args.run_dir, args.data, checkpoint=args.checkpoint, out_dir=args.out,
                               batch_size=args.batch_size)
    print(f"{report.run_dir} ({report.checkpoint.name}) on {report.data}: {report.data_description}")
    print(report.headline())
    header, rows = report.table()
    if rows:
        _print_table(header, rows)
    for note in report.notes:
        print(f"note: {note}")
    print(f"report: {out / 'evaluation.md'}")
    return 0


def _export_progress(progress: Any) -> None:
    print(f"[{progress.step}/{progress.total}] {progress.message}", file=sys.stderr)


def cmd_distill(args: argparse.Namespace) -> int:
    from dataclasses import replace

    resume = Path(args.resume) if args.resume else None
    if resume is None and args.student is None:
        raise WorkbenchError("--student is needed: a width factor such as 0.5, a preset or a project file "
                             "(or --resume CHECKPOINT to continue a distillation)")
    if resume is not None and not resume.is_file():
        raise WorkbenchError(f"--resume {resume}: no such checkpoint file")
    from workbench.export import DistillSettings, distill_run, distillation_settings

    chosen = {"epochs": args.epochs, "temperature": args.temperature, "alpha": args.alpha, "lr": args.lr}
    if args.out:
        out = Path(args.out)
    elif resume is not None:
        out = resume.resolve().parent.parent  # RUN_DIR/checkpoints/last.pt
    else:
        from workbench.safe_names import run_folder_name

        out = Path("runs") / f"{run_folder_name(Path(args.teacher_run).resolve().name)}-student-{time.strftime('%Y%m%d-%H%M%S')}"
    base = distillation_settings(out) if resume is not None else DistillSettings()
    settings = replace(base, **{k: v for k, v in chosen.items() if v is not None})
    progress = _Progress(settings.epochs)
    result = distill_run(args.teacher_run, args.student, out, settings, baseline=args.baseline, listeners=[progress],
                         resume_from=resume, overrides={"device": args.device} if args.device else None)
    progress.close()
    if result.status == "stopped":
        print(f"stopped -> {out}; continue with --resume {out / 'checkpoints' / 'last.pt'}")
        return 0
    summary = result.summary()
    print(
        f"student: {summary['student_parameters']:,} parameters, val_loss {summary['student_val_loss']:.4f}"
        + (f", val_accuracy {summary['student_val_accuracy']:.4f}" if summary.get("student_val_accuracy") is not None else "")
        + f" (teacher {summary['teacher_val_accuracy'] or summary['teacher_val_loss']:.4f}) -> {out}"
    )
    if args.baseline:
        print(result.verdict())
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    from workbench.bench import describe_machine, format_table, run_benchmarks, write_json

    results = run_benchmarks(quick=args.quick, progress=lambda text: print(text, file=sys.stderr, flush=True))
    print(describe_machine(results))
    print(format_table(results))
    for piece, message in results.get("errors", {}).items():
        print(f"workbench: error: benchmark {piece} failed: {message}", file=sys.stderr)
    if args.json:
        print(f"wrote {write_json(results, args.json)}")
    return 1 if results.get("errors") else 0


_COMMANDS = {
    "open": cmd_open,
    "presets": cmd_presets,
    "info": cmd_info,
    "import": cmd_import,
    "train": cmd_train,
    "sample": cmd_sample,
    "export": cmd_export,
    "evaluate": cmd_evaluate,
    "distill": cmd_distill,
    "bench": cmd_bench,
    "serve": cmd_serve,
    "tune": cmd_tune,
}


# ----- output helpers -------------------------------------------------------------------------


def _print_table(header: tuple[str, ...], rows: list[tuple[Any, ...]]) -> None:
    cells = [tuple(str(c) for c in header)] + [tuple(str(c) for c in r) for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    for n, row in enumerate(cells):
        print("  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip())
        if n == 0:
            print("  ".join("-" * w for w in widths))


@contextlib.contextmanager
def _data_progress(quiet: bool) -> Iterator[None]:
    """Show the data readers' progress (scanning a large image folder) on stderr while loading:
    one line redrawn on a terminal, a line every 10 s (and at the end of a stage) otherwise."""
    from workbench.data.progress import DataProgress, listening

    if quiet:
        yield
        return
    live = sys.stderr.isatty()
    last = {"at": 0.0, "stage": ""}

    def show(report: DataProgress) -> None:
        done = report.total is not None and report.done >= report.total
        if live:
            sys.stderr.write("\r" + report.text().ljust(78) + ("\n" if done else ""))
        elif done or report.stage != last["stage"] or time.monotonic() - last["at"] >= 10:
            last["at"], last["stage"] = time.monotonic(), report.stage
            sys.stderr.write(report.text() + "\n")
        sys.stderr.flush()

    with listening(show):
        yield


class _Progress:
    """Training progress on stderr: one line redrawn on a terminal; elsewhere (a file, a pipe, a CI
    log) a plain line at least every PLAIN_EVERY_S seconds, so that a long epoch is never silent.
    Both print a line per epoch."""

    PLAIN_EVERY_S = 10.0

    def __init__(self, epochs: int, quiet: bool = False, *, stream: Any = None,
                 clock: Callable[[], float] = time.monotonic,
                 steps_per_epoch: Callable[[], int | None] = lambda: None) -> None:
        self.epochs = epochs
        self.quiet = quiet
        self.stream = stream if stream is not None else sys.stderr
        self.live = self.stream.isatty() and not quiet
        self.clock = clock
        self.steps_per_epoch = steps_per_epoch  # known once the trainer has its data loader
        self._last = 0.0
        self._said_at = clock()  # when the last plain line was written (or training started)
        self._first: tuple[int, float] | None = None  # (step, elapsed_s) of the first step seen

    def __call__(self, event: Any) -> None:
        kind = type(event).__name__
        if kind == "StepEvent":
            if self._first is None:
                self._first = (event.step, event.elapsed_s)
            if self.live:
                now = self.clock()
                if now - self._last >= 0.1:  # redraw at most ten times a second
                    self._last = now
                    self.stream.write(
                        f"\repoch {event.epoch}/{self.epochs}  step {event.step}  loss {event.loss:.4f}  "
                        f"lr {event.lr:.2e}  {event.samples_per_s:,.0f} samples/s   "
                    )
                    self.stream.flush()
            elif not self.quiet and self.clock() - self._said_at >= self.PLAIN_EVERY_S:
                self._said_at = self.clock()
                self.stream.write(self.plain_line(event) + "\n")
                self.stream.flush()
        elif kind == "EpochEvent" and not self.quiet:
            metrics = "  ".join(f"{k} {v:.4f}" for k, v in event.val_metrics.items())
            val = f"val_loss {event.val_loss:.4f}" if event.val_loss is not None else ""
            self.stream.write(
                ("\r" if self.live else "")
                + f"epoch {event.epoch}/{self.epochs}  train_loss {event.train_loss:.4f}  {val}  {metrics}  ({event.elapsed_s:.1f} s)".ljust(100)
                + "\n"
            )
            self._said_at = self.clock()
        elif kind == "FailedEvent" and self.live:
            self.stream.write("\n")

    def plain_line(self, event: Any) -> str:
        """`epoch 2/15  step 340/675  loss 0.4321  1,234 samples/s  ETA 1 min 20 s` (what is known)."""
        per_epoch = self.steps_per_epoch()
        total = per_epoch * self.epochs if per_epoch else None
        step = f"step {event.step}/{total}" if total else f"step {event.step}"
        line = f"epoch {event.epoch}/{self.epochs}  {step}  loss {event.loss:.4f}  {event.samples_per_s:,.0f} samples/s"
        if total and self._first is not None and event.step > self._first[0]:
            seconds_per_step = (event.elapsed_s - self._first[1]) / (event.step - self._first[0])
            line += f"  ETA {_duration(max(0, total - event.step) * seconds_per_step)}"
        return line

    def close(self) -> None:
        self.stream.flush()


def _duration(seconds: float) -> str:
    """42 s, 3 min 05 s, 2 h 07 min."""
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"


if __name__ == "__main__":
    sys.exit(main())
