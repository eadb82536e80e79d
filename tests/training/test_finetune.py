"""Starting from a trained model: per-node trainable and learning-rate factor, weights read from
a run, a checkpoint or a weights file, frozen BatchNorm, two-phase fine-tuning, a fresh head."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file

from workbench.errors import GraphError, ProjectFileError, TrainingError
from workbench.graph.builder import build_model
from workbench.graph.document import EventKind, Graph
from workbench.project import Project, project_from_dict, project_to_dict
from workbench.training import Trainer, TrainSettings
from workbench.training.checkpoint import save_checkpoint
from workbench.training.init_from import (
    backbone,
    check_names,
    freeze_nodes,
    initialise,
    nodes_until,
    read_weights,
    replace_head,
)
from workbench.training.optim import build_optimizer


def net(width: int = 16, outputs: int = 2) -> Graph:
    """Input(8) -> fc1 -> bn -> relu -> head -> Output."""
    g = Graph()
    ids = [
        g.add_node("Input", "x", {"kind": "vector", "shape": [8]}).id,
        g.add_node("Linear", "fc1", {"out_features": width}).id,
        g.add_node("BatchNorm1d", "bn").id,
        g.add_node("ReLU", "relu").id,
        g.add_node("Linear", "head", {"out_features": outputs}).id,
        g.add_node("Output", "out", {"loss": "cross_entropy"}).id,
    ]
    for a, b in zip(ids, ids[1:]):
        g.connect(a, b)
    return g


def frozen_net(**kw) -> Graph:
    g = net(**kw)
    freeze_nodes(g, backbone(g))
    return g


# ----- the node record ----------------------------------------------------------------------


def test_trainable_and_lr_scale_round_trip_and_default() -> None:
    g = net()
    fc1 = g.node_by_name("fc1")
    events = []
    g.subscribe(events.append)
    assert g.set_training(fc1.id, trainable=False, lr_scale=0.1) == (True, 1.0)
    assert [e.kind for e in events] == [EventKind.TRAINING_CHANGED]
    assert events[0].detail == {"old": (True, 1.0), "new": (False, 0.1)}
    record = project_to_dict(Project("p", g))
    node = next(n for n in record["graph"]["nodes"] if n["name"] == "fc1")
    assert node["trainable"] is False and node["lr_scale"] == 0.1
    # Other nodes write neither key, so files without them read as trainable at factor 1.
    head = next(n for n in record["graph"]["nodes"] if n["name"] == "head")
    assert "trainable" not in head and "lr_scale" not in head
    again = project_from_dict(record)
    assert again.graph == g
    assert again.graph.node_by_name("fc1").trainable is False
    assert again.graph.node_by_name("head").trainable is True and again.graph.node_by_name("head").lr_scale == 1.0


@pytest.mark.parametrize(("key", "value", "message"), [
    ("trainable", "no", "graph.nodes[1].trainable: expected true or false"),
    ("lr_scale", 0, "graph.nodes[1].lr_scale: expected a number > 0"),
    ("lr_scale", "fast", "graph.nodes[1].lr_scale: expected a number > 0"),
])
def test_bad_node_training_fields_name_their_path(key: str, value: object, message: str) -> None:
    record = project_to_dict(Project("p", net()))
    record["graph"]["nodes"][1][key] = value
    with pytest.raises(ProjectFileError, match=message.replace("[", r"\[").replace("]", r"\]")):
        project_from_dict(record)


def test_set_training_refuses_bad_values() -> None:
    g = net()
    with pytest.raises(GraphError, match="lr_scale must be a finite number > 0"):
        g.set_training(g.node_by_name("fc1").id, lr_scale=0.0)
    with pytest.raises(GraphError, match="trainable must be true or false"):
        g.set_training(g.node_by_name("fc1").id, trainable=1)  # type: ignore[arg-type]


# ----- frozen parameters, optimizer groups, BatchNorm ----------------------------------------


def test_frozen_parameters_get_no_gradient_no_state_and_do_not_change(make_classification) -> None:
    model = build_model(frozen_net(), seed=0)
    assert {n for n, p in model.named_parameters() if p.requires_grad} == {"head.weight", "head.bias"}
    before = {k: v.clone() for k, v in model.state_dict().items()}
    trainer = Trainer(model, make_classification(), TrainSettings(epochs=2, batch_size=16, device="cpu"),
                      loss="cross_entropy")
    assert trainer.run().status == "finished"
    after = model.state_dict()
    changed = {k for k in before if not torch.equal(before[k], after[k])}
    assert changed == {"head.weight", "head.bias"}  # BN running stats of the frozen part included
    state_params = {id(p) for p in trainer.optimizer.state}
    assert state_params == {id(model.head.weight), id(model.head.bias)}
    assert all(p.grad is None for n, p in model.named_parameters() if not n.startswith("head."))


def test_frozen_batchnorm_stays_in_eval_mode_after_validation(make_classification) -> None:
    model = build_model(frozen_net(), seed=0)
    model.train()
    assert model.training and not model.bn.training and model.head.training
    seen: list[bool] = []
    trainer = Trainer(model, make_classification(), TrainSettings(epochs=3, batch_size=16, device="cpu"),
                      loss="cross_entropy", listeners=[lambda e: seen.append(model.bn.training)])
    trainer.run()
    assert seen and not any(seen)  # during every step, after every validation
    model.eval()
    model.train()
    assert not model.bn.training


def test_one_param_group_per_distinct_factor() -> None:
    g = net()
    g.set_training(g.node_by_name("head").id, lr_scale=10.0)
    g.set_training(g.node_by_name("bn").id, lr_scale=10.0)
    model = build_model(g, seed=0)
    opt = build_optimizer(model, TrainSettings(lr=0.01))
    groups = [(gr["lr"], gr["lr_scale"], len(gr["params"])) for gr in opt.param_groups]
    assert groups == [(0.01, 1.0, 2), (pytest.approx(0.1), 10.0, 4)]


def test_everything_frozen_is_refused() -> None:
    g = net()
    freeze_nodes(g, [n for n in g.nodes])
    with pytest.raises(TrainingError, match="no trainable parameters — unfreeze at least one layer"):
        build_optimizer(build_model(g), TrainSettings())


def test_unfreeze_epoch_adds_the_backbone_then(make_classification, tmp_path: Path) -> None:
    model = build_model(frozen_net(), seed=0)
    groups_per_epoch: list[int] = []
    trainable_per_epoch: list[bool] = []

    def listen(event) -> None:
        if type(event).__name__ == "EpochEvent":
            groups_per_epoch.append(len(trainer.optimizer.param_groups))
            trainable_per_epoch.append(model.fc1.weight.requires_grad)

    settings = TrainSettings(epochs=3, batch_size=16, device="cpu", unfreeze_epoch=2, scheduler="cosine")
    trainer = Trainer(model, make_classification(), settings, loss="cross_entropy", listeners=[listen],
                      checkpoint_dir=tmp_path)
    fc1_before = model.fc1.weight.clone()
    assert trainer.run().status == "finished"
    assert groups_per_epoch == [1, 2, 2]
    assert trainable_per_epoch == [False, True, True]
    assert not torch.equal(fc1_before, model.fc1.weight)
    assert model.bn.training  # unfrozen BatchNorm trains like the rest
    assert len(trainer.scheduler.base_lrs) == 2
    # A run resumed after the unfreeze gets the same groups back.
    again = Trainer(build_model(frozen_net(), seed=0), make_classification(),
                    settings.replace(epochs=4), loss="cross_entropy")
    assert again.run(resume_from=tmp_path / "last.pt").status == "finished"
    assert len(again.optimizer.param_groups) == 2


# ----- init_from ----------------------------------------------------------------------------


def test_initialise_from_a_checkpoint_matches_by_name_and_shape(tmp_path: Path) -> None:
    source = build_model(net(outputs=3), seed=1)  # the same backbone, another head width
    path = tmp_path / "src.pt"
    save_checkpoint(path, _checkpoint_of(source))
    model = build_model(net(outputs=2), seed=0)
    report = initialise(model, path)
    assert torch.equal(model.fc1.weight, source.fc1.weight)
    assert "fc1.weight" in report.loaded and "bn.running_mean" in report.loaded
    assert dict(report.skipped) == {
        "head.weight": "shape differs (source 3×16, network 2×16)",
        "head.bias": "shape differs (source 3, network 2)",
    }
    assert report.lines()[0] == f"initialised {len(report.loaded)} of {len(report.loaded) + 2} tensors from {path}"


def test_initialise_from_safetensors_and_plain_state_dict(tmp_path: Path) -> None:
    source = build_model(net(), seed=3)
    weights = {k: v.contiguous() for k, v in source.state_dict().items() if k.startswith("fc1.")}
    save_file(weights, str(tmp_path / "w.safetensors"))
    torch.save({"state_dict": weights}, tmp_path / "w.pth")
    for name in ("w.safetensors", "w.pth"):
        model = build_model(net(), seed=0)
        report = initialise(model, tmp_path / name)
        assert sorted(report.loaded) == ["fc1.bias", "fc1.weight"]
        assert dict(report.skipped)["head.weight"] == "missing in the source"
        assert torch.equal(model.fc1.weight, source.fc1.weight)


def test_initialise_from_a_run_folder_reads_its_best_checkpoint(tmp_path: Path) -> None:
    source = build_model(net(), seed=5)
    (tmp_path / "run" / "checkpoints").mkdir(parents=True)
    save_checkpoint(tmp_path / "run" / "checkpoints" / "best.pt", _checkpoint_of(source))
    path, weights = read_weights(tmp_path / "run")
    assert path == tmp_path / "run" / "checkpoints" / "best.pt"
    assert torch.equal(weights["head.weight"], source.head.weight)


def test_nothing_matching_refuses_to_start(tmp_path: Path) -> None:
    torch.save({"features.0.weight": torch.zeros(3, 3)}, tmp_path / "other.pt")
    with pytest.raises(TrainingError, match=r"init_from .*other.pt: no tensor matches the network by name "
                                            r"and shape \(the source has e.g. 'features.0.weight'"):
        initialise(build_model(net()), tmp_path / "other.pt")


def test_unreadable_sources_each_get_one_message(tmp_path: Path) -> None:
    torch.save({"model": argparse.Namespace(a=1)}, tmp_path / "pickled.pt")  # any non-tensor object
    (tmp_path / "junk.pt").write_bytes(b"not a torch file")
    (tmp_path / "junk.safetensors").write_bytes(b"\x00\x01garbage")
    torch.save([1, 2, 3], tmp_path / "list.pt")
    (tmp_path / "folder").mkdir()
    cases = {
        tmp_path / "missing.pt": "no such file or folder",
        tmp_path / "pickled.pt": "holds pickled Python objects, which Workbench never unpickles",
        tmp_path / "junk.pt": "not a readable PyTorch file",
        tmp_path / "junk.safetensors": "not a readable safetensors file",
        tmp_path / "list.pt": "holds no state dict",
        tmp_path / "folder": "is a folder but not a run folder with a checkpoint",
    }
    for path, words in cases.items():
        with pytest.raises(ProjectFileError) as info:
            read_weights(path)
        message = str(info.value)
        assert message.startswith(f"init_from {path}: {words}") and "\n" not in message
        assert message.endswith("give a run folder, a Workbench checkpoint (.pt) or a weights file "
                                "(.safetensors or a saved state_dict)")


# ----- graph helpers ------------------------------------------------------------------------


def test_freeze_until_and_unknown_names() -> None:
    g = net()
    assert [n.name for n in nodes_until(g, "bn")] == ["x", "fc1", "bn"]
    with pytest.raises(GraphError, match=r"--freeze: no layer named 'conv9', 'fc7' \(layers: fc1, bn, relu, head\)"):
        check_names(g, ["fc1", "conv9", "fc7"])


def test_replace_head_gives_a_fresh_trainable_head() -> None:
    g = frozen_net()
    g.set_training(g.node_by_name("head").id, trainable=False, lr_scale=3.0)
    change = replace_head(g, 5)
    assert change == "Linear 'head' (2 outputs) replaced by a fresh Linear 'head_new' with 5 outputs"
    head = g.node_by_name("head_new")
    assert head.params["out_features"] == 5 and head.trainable and head.lr_scale == 1.0
    assert g.node_by_name("head") is None
    model = build_model(g)
    assert model(torch.randn(4, 8)).shape == (4, 5)


def _checkpoint_of(model: torch.nn.Module) -> dict:
    """A checkpoint as the engine writes it, for `model` after no training."""
    from workbench.data.bundle import DataBundle
    from torch.utils.data import TensorDataset

    data = DataBundle(train=TensorDataset(torch.randn(4, 8), torch.zeros(4, dtype=torch.long)), val=None,
                      task="classification", input_shape=(8,), input_dtype="float32",
                      num_outputs=int(model.head.out_features))
    trainer = Trainer(model, data, TrainSettings(epochs=1, device="cpu"), loss="cross_entropy")
    trainer._setup()
    return trainer._state()


def test_a_relative_source_resolves_against_the_project_folder(tmp_path: Path) -> None:
    from workbench.presets import load_preset
    from workbench.project import save_project
    from workbench.project import load_project
    from workbench.runs import prepare_run

    source = build_model(load_preset("digits-mlp").graph, seed=7)
    (tmp_path / "weights").mkdir()
    save_file({k: v.contiguous() for k, v in source.state_dict().items()}, str(tmp_path / "weights" / "w.safetensors"))
    project = load_preset("digits-mlp")
    project.training = project.training.replace(init_from="weights/w.safetensors", epochs=1)
    loaded = load_project(save_project(project, tmp_path / "p.json"))
    prepared = prepare_run(loaded)
    assert prepared.project.training.init_from == str(tmp_path.resolve() / "weights" / "w.safetensors")
    assert len(prepared.init.loaded) == 6 and not prepared.init.skipped
    assert torch.equal(prepared.model.fc1.weight, source.fc1.weight)
