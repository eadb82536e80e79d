"""Data-parallel training over several processes with PyTorch's own machinery: the worker side.

A distributed job is N copies of `workbench train` started by torchrun's launcher (ours:
`workbench train PROJECT --nproc N`, see launcher.py; or the user's own
`torchrun --nproc_per_node=N -m workbench train PROJECT`). Each copy finds its place in the job
in the environment torchrun sets (RANK, WORLD_SIZE, LOCAL_RANK), joins the process group here and
trains with the ordinary Trainer, given a DistContext:

- backend: NCCL when the ranks train on CUDA, gloo on the CPU; every collective has a timeout
  (WORKBENCH_DIST_TIMEOUT_S, default 300 s), so a peer that hangs ends the job instead of
  freezing it. A peer that dies is noticed at once: its sockets close.
- device: cuda:LOCAL_RANK (one GPU per process), or the CPU.
- model: wrapped in DistributedDataParallel for training only. Checkpoints hold the unwrapped
  module's state_dict, so they load in a single-process run and the other way round.
- data: sharded (loaders.py); losses and validation metrics are summed across ranks, so the
  numbers rank 0 writes describe the whole job.
- learning rate: used as set. Nothing scales it with the number of processes; the effective batch
  is batch_size × world_size × grad_accum, and the job states both.
- only rank 0 writes the run folder (runs.train_project).

Also here, the pieces a worker needs around the Trainer: signals that become a stop request all
ranks agree on, the error file torchrun's launcher reads to name the failed rank, and a test-only
fault injector. Not here yet: FSDP (sharding a model too big for one GPU).
"""

from __future__ import annotations

import datetime
import hashlib
import json
import logging
import os
import re
import signal
import threading
import time
from dataclasses import dataclass
from typing import Any

import torch
import torch.distributed as dist
from torch import nn

from workbench.errors import DeviceError
from workbench.training.settings import TrainSettings

log = logging.getLogger(__name__)

TIMEOUT_ENV = "WORKBENCH_DIST_TIMEOUT_S"
DEFAULT_TIMEOUT_S = 300.0  # long enough for rank 0 to write a large checkpoint while others wait
LAUNCHER_ENV = "WORKBENCH_DIST_LAUNCHER"  # set by launcher.py: it reports failures in one line
FAULT_ENV = "WORKBENCH_TEST_FAULT"  # tests only: "RANK:STEP:raise|exit|kill|hang"


@dataclass(frozen=True)
class WorkerEnv:
    """This process's place in the job, as torchrun's launcher tells it."""

    rank: int  # 0 .. world_size-1 across all nodes
    local_rank: int  # 0 .. local_world_size-1 on this node; picks the GPU
    world_size: int
    local_world_size: int


def worker_env(environ: dict[str, str] | None = None) -> WorkerEnv | None:
    """The torchrun environment of this process, or None when it was not started as a worker."""
    env = os.environ if environ is None else environ
    if "WORLD_SIZE" not in env or "RANK" not in env:
        return None
    try:
        world = int(env["WORLD_SIZE"])
        rank = int(env["RANK"])
        local_rank = int(env.get("LOCAL_RANK", "0"))
        local_world = int(env.get("LOCAL_WORLD_SIZE", str(world)))
    except ValueError:
        raise DeviceError(
            "RANK, WORLD_SIZE and LOCAL_RANK must be integers; start distributed jobs with "
            "'workbench train --nproc N' or torchrun"
        ) from None
    return WorkerEnv(rank, local_rank, world, local_world)


def under_launcher() -> bool:
    """True in a worker that Workbench's own launcher started (it reports failures itself)."""
    return os.environ.get(LAUNCHER_ENV) == "1"


@dataclass(frozen=True)
class DistContext:
    """A joined process group: what the Trainer needs to train as one rank of many."""

    rank: int
    local_rank: int
    world_size: int
    backend: str  # "nccl" | "gloo"
    device: torch.device

    @property
    def is_main(self) -> bool:
        """Rank 0: the one process that writes the run folder."""
        return self.rank == 0


def worker_device(setting: str, local_rank: int) -> torch.device:
    """The device of the process with `local_rank`, from the project's device setting."""
    name = setting.strip().lower()
    if name == "cpu":
        return torch.device("cpu")
    if name == "mps":
        raise DeviceError("distributed training runs on CUDA GPUs or on the CPU, not on mps; "
                          "set the device to cpu or train in one process")
    wants_cuda = name == "cuda" or name.startswith("cuda:")
    if not torch.cuda.is_available():
        if wants_cuda:
            raise DeviceError(f"{name} is not available on this node; set the device to cpu or auto")
        return torch.device("cpu")
    count = torch.cuda.device_count()
    if local_rank >= count:
        raise DeviceError(
            f"this node has {count} GPU{'s' if count != 1 else ''} but a process with local rank "
            f"{local_rank}: start at most {count} processes per node (--nproc {count}), "
            f"or set the device to cpu"
        )
    if name.startswith("cuda:") and name != f"cuda:{local_rank}":
        # One GPU per process is the DDP layout; a fixed index would put every rank on one GPU.
        log.info("device %s: each process uses its own GPU, this one cuda:%d", name, local_rank)
    return torch.device("cuda", local_rank)


def collective_timeout_s() -> float:
    """Seconds a collective may wait for the other ranks before the job fails."""
    text = os.environ.get(TIMEOUT_ENV)
    if not text:
        return DEFAULT_TIMEOUT_S
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if value <= 0:
        raise DeviceError(f"{TIMEOUT_ENV}={text!r}: expected a number of seconds > 0")
    return value


def init_worker(env: WorkerEnv, device_setting: str) -> DistContext:
    """Join the job's process group (NCCL on CUDA, gloo on the CPU) on this rank's device."""
    device = worker_device(device_setting, env.local_rank)
    backend = "nccl" if device.type == "cuda" else "gloo"
    timeout = datetime.timedelta(seconds=collective_timeout_s())
    if device.type == "cuda":
        torch.cuda.set_device(device)
    if not dist.is_initialized():
        kwargs: dict[str, Any] = {"device_id": device} if device.type == "cuda" else {}
        # MASTER_ADDR, MASTER_PORT, RANK and WORLD_SIZE come from torchrun's environment.
        dist.init_process_group(backend, timeout=timeout, **kwargs)
    log.info("rank %d of %d joined (%s on %s, timeout %s)", env.rank, env.world_size, backend,
             device, timeout)
    return DistContext(env.rank, env.local_rank, env.world_size, backend, device)


def shutdown_worker() -> None:
    """Leave the process group after a run every rank finished (never after a failure)."""
    if dist.is_initialized():
        dist.destroy_process_group()


def describe_job(ctx: DistContext, settings: TrainSettings) -> str:
    """The line a distributed run prints: processes, effective batch, learning-rate rule."""
    effective = settings.batch_size * ctx.world_size * settings.grad_accum
    return (
        f"distributed: {ctx.world_size} process{'es' if ctx.world_size != 1 else ''} "
        f"({ctx.backend}, {ctx.device.type}); effective batch {effective} = batch "
        f"{settings.batch_size} per process × {ctx.world_size} × grad_accum {settings.grad_accum}; "
        f"learning rate {settings.lr:g} used as set (not scaled with the number of processes)"
    )


# ---- what the Trainer calls ---------------------------------------------------------------


def _has_unreachable_parameters(model: nn.Module) -> bool:
    """True when a GraphModule holds trainable layers whose output never reaches the loss.

    DDP waits for a gradient of every parameter unless told otherwise, and a drawn branch that
    leads nowhere never gets one; find_unused_parameters costs a graph walk per step, so it is
    turned on only for such graphs.
    """
    plan = getattr(model, "plan", None)
    output = getattr(model, "output_name", None)
    if not isinstance(plan, list) or not isinstance(output, str):
        return False
    needed = {output}
    for name, sources in reversed(plan):
        if name in needed:
            needed.update(sources)
    return any(p.requires_grad for name, _ in plan if name not in needed
               for p in model.get_submodule(name).parameters())


def wrap_model(model: nn.Module, ctx: DistContext) -> nn.Module:
    """`model` in DistributedDataParallel (which broadcasts rank 0's weights to every rank)."""
    from torch.nn.parallel import DistributedDataParallel

    device_ids = [ctx.device.index] if ctx.device.type == "cuda" else None
    return DistributedDataParallel(model, device_ids=device_ids,
                                   find_unused_parameters=_has_unreachable_parameters(model))


def reduce_step(step_loss: torch.Tensor, batches: int, stop: bool, ctx: DistContext) -> tuple[float, bool]:
    """(loss of the step averaged over all ranks, whether any rank asked to stop): one collective.

    The stop flag rides along so that every rank ends after the same step; a rank that stopped
    alone would leave the others waiting in the next gradient all-reduce.
    """
    packed = torch.stack((step_loss.detach().float() / batches,
                          torch.tensor(1.0 if stop else 0.0, device=step_loss.device)))
    dist.all_reduce(packed)
    total, stops = packed.tolist()
    return total / ctx.world_size, stops > 0


def agree_stop(stop: bool, ctx: DistContext) -> bool:
    """True on every rank when any rank asked to stop."""
    flag = torch.tensor([1.0 if stop else 0.0], device=ctx.device)
    dist.all_reduce(flag)
    return bool(flag.item() > 0)


def broadcast_from_main(obj: Any, ctx: DistContext) -> Any:
    """Rank 0's `obj` on every rank (pickled between our own processes; used for checkpoints)."""
    box = [obj if ctx.is_main else None]
    dist.broadcast_object_list(box, src=0, device=ctx.device if ctx.device.type == "cuda" else None)
    return box[0]


def sync_buffers(model: nn.Module, ctx: DistContext) -> None:
    """Rank 0's buffers (BatchNorm statistics) on every rank, so that validation on each shard
    measures the model rank 0 checkpoints."""
    for buffer in model.buffers():
        dist.broadcast(buffer, src=0)


def parameters_digest(model: nn.Module) -> str:
    """sha256 of every parameter's name, dtype, shape and bytes: equal digests, equal weights."""
    digest = hashlib.sha256()
    with torch.no_grad():
        for name, p in model.named_parameters():
            digest.update(f"{name}:{p.dtype}:{tuple(p.shape)};".encode())
            digest.update(p.detach().cpu().contiguous().view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()


def replicas_identical(model: nn.Module, ctx: DistContext) -> tuple[bool, str]:
    """(whether every rank holds the same parameters, this rank's digest)."""
    mine = parameters_digest(model)
    digests: list[Any] = [None] * ctx.world_size
    dist.all_gather_object(digests, mine)
    same = all(d == mine for d in digests)
    if not same:
        log.error("the ranks' parameters differ after training: %s", digests)
    return same, mine


def is_peer_loss(exc: BaseException) -> bool:
    """Whether `exc` says another rank went away (died, hung past the timeout, closed its socket)."""
    if isinstance(exc, dist.DistError):  # DistBackendError, DistNetworkError, DistStoreError
        return True
    text = str(exc)
    return any(marker in text for marker in (
        "Connection closed by peer", "Connection reset by peer", "Broken pipe", "Timed out",
        "timed out", "ProcessGroupNCCL", "NCCL error", "gloo/transport",
    ))


def short_comm_error(exc: BaseException) -> str:
    """The gist of a backend error: "Connection closed by peer [10.0.0.2]:4032", without gloo's
    source location and advice."""
    text = str(exc).strip()
    first = text.splitlines()[0] if text else type(exc).__name__
    first = re.sub(r"^\[[^\]]*\.(cc|cpp|h|hpp):\d+\]\s*", "", first)  # "[.../pair.cc:553] "
    return first.split(". ")[0].rstrip(".")


# ---- around the Trainer, in the worker process ----------------------------------------------


class SignalStop:
    """SIGINT and SIGTERM become a stop request (the launcher forwards both to every rank).

    The Trainer ends after the current step, all ranks at the same step, and rank 0 writes
    last.pt. A signal that comes before the Trainer exists is kept and handed over in `attach`.
    Installed only from the main thread (Python's rule for signal handlers).
    """

    SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def __init__(self, rank: int) -> None:
        self.rank = rank
        self._trainer: Any = None
        self._pending = False
        self._previous: dict[int, Any] = {}

    def __enter__(self) -> SignalStop:
        if threading.current_thread() is threading.main_thread():
            for sig in self.SIGNALS:
                self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)
        self._previous.clear()

    def attach(self, trainer: Any) -> None:
        self._trainer = trainer
        if self._pending:
            trainer.request_stop()

    def _handle(self, signum: int, frame: object) -> None:
        # Only a flag is set here: the loop checks it between steps, and a checkpoint being
        # written is never cut short by the signal.
        log.warning("rank %d: %s received; stopping after the current step", self.rank,
                    signal.Signals(signum).name)
        self._pending = True
        if self._trainer is not None:
            self._trainer.request_stop()


def record_failure(message: str, rank: int, peer_lost: bool = False) -> None:
    """Write the error file torchrun's launcher reads (TORCHELASTIC_ERROR_FILE), if it set one.

    The format is torchelastic's own, so `torchrun` prints the message in its failure table;
    the "workbench" record lets launcher.py tell the rank that failed first from the ranks that
    only lost contact with it.
    """
    path = os.environ.get("TORCHELASTIC_ERROR_FILE")
    if not path:
        return
    now = time.time()
    data = {
        "message": {
            "message": f"rank {rank}: {message}",
            "extraInfo": {"py_callstack": f"rank {rank}: {message}", "timestamp": str(int(now))},
        },
        "workbench": {"rank": rank, "message": message,
                      "kind": "peer_lost" if peer_lost else "failed", "time": now},
    }
    try:
        with open(path, "w", encoding="utf-8") as f:
            json.dump(data, f)
    except OSError:
        log.warning("cannot write the error file %s", path, exc_info=True)


def install_test_fault(model: nn.Module, rank: int, environ: dict[str, str] | None = None) -> None:
    """Tests only: with WORKBENCH_TEST_FAULT="RANK:STEP:MODE", rank RANK fails in the forward pass
    of its STEP-th training batch: MODE "raise" raises, "exit" leaves with os._exit(3), "kill"
    sends itself SIGKILL, "hang" stops responding (the others' collectives time out) until the
    launcher's SIGTERM, which it obeys at once (torchrun waits 30 s before SIGKILL otherwise).
    Does nothing without the variable."""
    spec = (os.environ if environ is None else environ).get(FAULT_ENV)
    if not spec:
        return
    try:
        fault_rank, fault_step, mode = spec.split(":")
        at_rank, at_step = int(fault_rank), int(fault_step)
    except ValueError:
        raise DeviceError(f"{FAULT_ENV}={spec!r}: expected RANK:STEP:raise|exit|kill|hang") from None
    if mode not in ("raise", "exit", "kill", "hang"):
        raise DeviceError(f"{FAULT_ENV}={spec!r}: expected RANK:STEP:raise|exit|kill|hang")
    if rank != at_rank:
        return
    calls = [0]

    def fault(module: nn.Module, inputs: object) -> None:
        if not module.training:
            return
        calls[0] += 1
        if calls[0] != at_step:
            return
        log.warning("rank %d: injecting the test fault %r at batch %d", rank, mode, at_step)
        if mode == "raise":
            raise RuntimeError(f"test fault injected on rank {rank} at batch {at_step}")
        if mode == "exit":
            os._exit(3)
        if mode == "hang":
            signal.signal(signal.SIGTERM, lambda *_: os._exit(4))
            while True:
                time.sleep(1.0)
        os.kill(os.getpid(), signal.SIGKILL)

    model.register_forward_pre_hook(fault)
    log.warning("rank %d: test fault %r armed for batch %d", rank, mode, at_step)
