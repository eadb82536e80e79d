"""The engine as one rank of a job, in this process (a gloo group of one: no launch, about 1 s),
and the worker-side pieces: environment, devices, sharded loaders, fault injection."""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch
import torch.distributed as dist
from torch import nn
from torch.utils.data import TensorDataset

from workbench.data.bundle import DataBundle
from workbench.errors import DeviceError
from workbench.training import Trainer, TrainSettings, load_checkpoint, make_loaders
from workbench.training import distributed as wd
from workbench.training.distributed import DistContext
from workbench.training.metrics import ValidationMeter

FAST = TrainSettings(epochs=2, batch_size=8, lr=0.01, device="cpu", grad_accum=2)


def bundle(n_train: int = 96, n_val: int = 40, features: int = 6) -> DataBundle:
    g = torch.Generator().manual_seed(0)
    w = torch.randn(features, generator=g)

    def make(n: int) -> TensorDataset:
        x = torch.randn(n, features, generator=g)
        return TensorDataset(x, (x @ w > 0).long())

    return DataBundle(train=make(n_train), val=make(n_val), task="classification",
                      input_shape=(features,), input_dtype="float32", num_outputs=2)


def mlp(features: int = 6) -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(features, 16), nn.ReLU(), nn.Dropout(0.1), nn.Linear(16, 2))


@pytest.fixture
def group(tmp_path: Path) -> Iterator[DistContext]:
    """This process as rank 0 of a world of one."""
    dist.init_process_group("gloo", init_method=f"file://{tmp_path / 'store'}", rank=0, world_size=1,
                            timeout=datetime.timedelta(seconds=30))
    try:
        yield DistContext(0, 0, 1, "gloo", torch.device("cpu"))
    finally:
        dist.destroy_process_group()


def test_a_rank_trains_with_ddp_and_checkpoints_the_plain_module(group: DistContext, tmp_path: Path) -> None:
    model = mlp()
    trainer = Trainer(model, bundle(), FAST, "cross_entropy", checkpoint_dir=tmp_path, distributed=group)
    result = trainer.run()
    assert result.status == "finished", result.message
    s = result.summary
    assert s["world_size"] == 1 and s["backend"] == "gloo" and s["lr_scaling"] == "none"
    assert s["effective_batch_size"] == 8 * 1 * 2
    # 96 samples / batch 8 = 12 batches = 6 optimizer steps per epoch with grad_accum 2
    assert s["global_steps"] == 12
    assert s["replicas_identical"] is True and s["parameters_digest"] == wd.parameters_digest(model)
    state = load_checkpoint(tmp_path / "last.pt")
    assert not any(k.startswith("module.") for k in state["model"])  # not DDP's prefixed names
    plain = mlp()
    plain.load_state_dict(state["model"])
    assert wd.parameters_digest(plain) == s["parameters_digest"]


def test_checkpoints_move_between_single_and_distributed_runs(group: DistContext, tmp_path: Path) -> None:
    single = Trainer(mlp(), bundle(), FAST.replace(epochs=1), "cross_entropy", checkpoint_dir=tmp_path / "a")
    assert single.run().status == "finished"
    as_rank = Trainer(mlp(), bundle(), FAST.replace(epochs=2), "cross_entropy",
                      checkpoint_dir=tmp_path / "b", distributed=group)
    result = as_rank.run(resume_from=tmp_path / "a" / "last.pt")
    assert result.status == "finished" and as_rank.epoch == 2 and as_rank.global_step == 12
    back = Trainer(mlp(), bundle(), FAST.replace(epochs=3), "cross_entropy", checkpoint_dir=tmp_path / "c")
    assert back.run(resume_from=tmp_path / "b" / "last.pt").status == "finished"
    assert back.global_step == 18


def test_a_rank_cannot_pause_but_stops_where_all_agree(group: DistContext, tmp_path: Path) -> None:
    trainer = Trainer(mlp(), bundle(), FAST, "cross_entropy", checkpoint_dir=tmp_path, distributed=group)
    trainer.request_pause()
    assert not trainer.is_paused  # a paused rank would leave the others waiting in a collective
    trainer.request_stop()
    result = trainer.run()
    assert result.status == "stopped" and trainer.global_step == 0
    assert (tmp_path / "last.pt").is_file()


def test_a_missing_checkpoint_fails_every_rank_alike(group: DistContext, tmp_path: Path) -> None:
    trainer = Trainer(mlp(), bundle(), FAST, "cross_entropy", distributed=group)
    result = trainer.run(resume_from=tmp_path / "nope.pt")
    assert result.status == "failed" and "does not exist" in result.message and not trainer.peer_lost


def test_validation_sums_are_all_reduced(group: DistContext) -> None:
    meter = ValidationMeter("classification", "cross_entropy")
    outputs = torch.tensor([[2.0, 0.0], [0.0, 1.0], [3.0, 0.0]])
    meter.update(outputs, torch.tensor([0, 0, 0]), torch.tensor(0.5))
    before = meter.compute()
    meter.all_reduce(group.device)
    assert meter.compute() == before  # a world of one: the sums are this rank's
    empty = ValidationMeter("classification", "cross_entropy")
    empty.all_reduce(group.device)  # a rank whose shard was empty still takes part
    assert empty.compute() == (None, {})
    # seq2seq keeps its own sums (real target positions, whole sequences right).
    seq = ValidationMeter("seq2seq", "cross_entropy")
    y = torch.tensor([[5, 2, 0], [6, 2, 0]])
    seq.update(torch.nn.functional.one_hot(torch.tensor([[5, 2, 1], [6, 3, 0]]), 8).float(), y, torch.tensor(0.5))
    before = seq.compute()
    assert before[1] == {"val_token_accuracy": 0.75, "val_exact_match": 0.5}
    seq.all_reduce(group.device)
    assert seq.compute() == before


def test_sharded_loaders_split_the_data_between_ranks() -> None:
    data = bundle(n_train=10, n_val=7)
    settings = TrainSettings(batch_size=2, seed=3)
    loaders = [make_loaders(data, settings, torch.device("cpu"), shard=(rank, 3)) for rank in range(3)]
    train = [list(iter(l.sampler)) for l in loaders]
    assert all(len(t) == 4 for t in train)  # padded: every rank runs the same number of steps
    assert set().union(*map(set, train)) == set(range(10))
    assert {len(l.train) for l in loaders} == {2}
    loaders[0].sampler.set_epoch(1)
    assert list(iter(loaders[0].sampler)) != train[0]  # a new order each epoch
    val = [list(l.val.sampler) for l in loaders]  # type: ignore[union-attr]
    assert sorted(i for v in val for i in v) == list(range(7))  # each sample once, no padding


def test_worker_env_and_devices(monkeypatch: pytest.MonkeyPatch) -> None:
    assert wd.worker_env({}) is None
    env = wd.worker_env({"RANK": "3", "WORLD_SIZE": "4", "LOCAL_RANK": "1", "LOCAL_WORLD_SIZE": "2"})
    assert env == wd.WorkerEnv(rank=3, local_rank=1, world_size=4, local_world_size=2)
    with pytest.raises(DeviceError, match="integers"):
        wd.worker_env({"RANK": "x", "WORLD_SIZE": "2"})
    assert wd.worker_device("cpu", 5) == torch.device("cpu")
    with pytest.raises(DeviceError, match="not on mps"):
        wd.worker_device("mps", 0)
    if not torch.cuda.is_available():
        assert wd.worker_device("auto", 1) == torch.device("cpu")
        with pytest.raises(DeviceError, match="cuda is not available"):
            wd.worker_device("cuda", 0)
    monkeypatch.setenv(wd.TIMEOUT_ENV, "0")
    with pytest.raises(DeviceError, match="seconds > 0"):
        wd.collective_timeout_s()


def test_peer_loss_is_told_from_other_errors() -> None:
    closed = RuntimeError("[/x/gloo/transport/tcp/pair.cc:553] Connection closed by peer [127.0.0.1]:20099. "
                          "This is typically caused by a remote worker crashing.")
    assert wd.is_peer_loss(closed) and not wd.is_peer_loss(ValueError("shapes do not match"))
    assert wd.short_comm_error(closed) == "Connection closed by peer [127.0.0.1]:20099"


def test_the_job_line_states_effective_batch_and_lr_rule() -> None:
    line = wd.describe_job(DistContext(0, 0, 4, "nccl", torch.device("cpu")),
                           TrainSettings(batch_size=16, grad_accum=2, lr=0.003))
    assert "effective batch 128 = batch 16 per process × 4 × grad_accum 2" in line
    assert "learning rate 0.003 used as set (not scaled" in line


def test_test_fault_fires_once_on_its_rank_only() -> None:
    model = mlp()
    wd.install_test_fault(model, rank=0, environ={wd.FAULT_ENV: "1:1:raise"})
    model(torch.zeros(1, 6))  # another rank's fault
    wd.install_test_fault(model, rank=0, environ={wd.FAULT_ENV: "0:2:raise"})
    model(torch.zeros(1, 6))
    with pytest.raises(RuntimeError, match="test fault injected on rank 0 at batch 2"):
        model(torch.zeros(1, 6))
    model(torch.zeros(1, 6))
    with pytest.raises(DeviceError, match="RANK:STEP"):
        wd.install_test_fault(model, rank=0, environ={wd.FAULT_ENV: "0:x:raise"})


def test_ddp_is_told_about_branches_that_lead_nowhere() -> None:
    class Drawn(nn.Module):
        def __init__(self, dead: bool) -> None:
            super().__init__()
            self.a, self.b, self.out = nn.Linear(2, 2), nn.Linear(2, 2), nn.Identity()
            self.output_name = "out"
            self.plan = [("a", ("x",)), ("b", ("a",)), ("out", ("a",) if dead else ("b",))]

    assert wd._has_unreachable_parameters(Drawn(dead=True))
    assert not wd._has_unreachable_parameters(Drawn(dead=False))
    assert not wd._has_unreachable_parameters(mlp())
