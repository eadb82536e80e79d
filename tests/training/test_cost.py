"""Cost estimates: per-layer FLOPs against hand counts and real forward passes, the estimate's
arithmetic, the power figures (assumed for the CPU, NVML for NVIDIA GPUs), and the summary's
estimate beside the measured time after a run."""

from __future__ import annotations

import json
import math
import sys
import types

import pytest
import torch
from torch.nn.attention import SDPBackend, sdpa_kernel
from torch.utils.flop_counter import FlopCounterMode

from workbench.graph.builder import build_model
from workbench.graph.document import Graph
from workbench.graph.summary import summarize
from workbench.presets import resolve_project
from workbench.training import power
from workbench.training.cost import JOULES_PER_KWH, estimate_cost, format_duration, format_flops, format_step
from workbench.training.settings import TrainSettings

from .conftest import classification_bundle


def chain(graph: Graph, *specs: tuple[str, dict]) -> list[str]:
    ids: list[str] = []
    for type_id, params in specs:
        node = graph.add_node(type_id, params=params)
        if ids:
            graph.connect(ids[-1], node.id)
        ids.append(node.id)
    return ids


def test_linear_and_conv_flops_match_a_hand_count() -> None:
    g = Graph()
    chain(g, ("Input", {"kind": "image", "shape": [3, 8, 8]}),
          ("Conv2d", {"out_channels": 4, "kernel_size": 3, "padding": 1}),
          ("Conv2d", {"out_channels": 8, "kernel_size": 3, "padding": 1, "groups": 2, "stride": 2}),
          ("Flatten", {}), ("Linear", {"out_features": 10}), ("Output", {}))
    rows = {r.type + str(i): r.flops for i, r in enumerate(summarize(g).rows)}
    # A multiply-add is 2 FLOPs; biases are not counted (FlopCounterMode's convention).
    assert rows["Conv2d1"] == 2 * (4 * 8 * 8) * (3 * 3 * 3)  # outputs × (inputs per output)
    assert rows["Conv2d2"] == 2 * (8 * 4 * 4) * (2 * 3 * 3)  # 2 groups: 2 of the 4 channels per output
    assert rows["Linear4"] == 2 * (8 * 4 * 4) * 10
    assert summarize(g).total_flops == rows["Conv2d1"] + rows["Conv2d2"] + rows["Linear4"]


@pytest.mark.parametrize("preset", ["digits-cnn", "digits-vit", "tiny-gpt"])
def test_summary_flops_match_torch_counting_a_real_forward_pass(preset: str) -> None:
    """The summary counts on the meta device with one sample; a real batch of 4 through the
    built module gives 4 times each layer's count (convolutions, attention, embeddings...).

    Counted with attention's plain-math kernel, in train mode: the CPU's fused attention kernels
    (the flash kernel, and eval mode's fast path) hide their score products (Q·Kᵀ and the
    weighted sum) from the counter, which the summary does count."""
    graph = resolve_project(preset).graph
    summary = summarize(graph)
    model = build_model(graph, seed=0).train()
    spec = model.input_spec
    x = (torch.randint(0, 5, (4, *spec.shape)) if spec.dtype == "int64" else torch.randn(4, *spec.shape))
    with FlopCounterMode(display=False) as counter, torch.no_grad(), sdpa_kernel(SDPBackend.MATH):
        model(x)
    counts = counter.get_flop_counts()
    prefix = type(model).__name__ + "."
    checked = 0
    for row in summary.rows:
        real = sum(counts.get(prefix + row.name, {}).values())
        assert row.flops * 4 == real, row.name
        checked += row.flops > 0
    assert checked >= 2
    assert summary.total_flops * 4 == counter.get_total_flops()


def _mlp_graph(features: int = 8) -> Graph:
    g = Graph()
    chain(g, ("Input", {"kind": "vector", "shape": [features]}), ("Linear", {"out_features": 16}), ("ReLU", {}),
          ("Linear", {"out_features": 2}), ("Output", {}))
    return g


def test_estimate_is_the_measured_step_time_times_the_steps() -> None:
    graph = _mlp_graph()
    model = build_model(graph, seed=0)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    data = classification_bundle(n_train=100, n_val=40)
    settings = TrainSettings(epochs=3, batch_size=16, device="cpu", grid_intensity=250.0)
    est = estimate_cost(model, graph, data, settings, loss="cross_entropy")

    assert est.flops_per_sample == 2 * 8 * 16 + 2 * 16 * 2
    assert est.total_flops == est.flops_per_sample * 100 * 3 * 3
    assert est.steps_per_epoch == math.ceil(100 / 16) and est.val_batches_per_epoch == math.ceil(40 / 16)
    assert est.timed_steps >= 10 and est.warmup_steps == 3
    assert est.step_s > 0 and est.val_batch_s > 0
    assert est.time_s == pytest.approx(3 * (7 * est.step_s + 3 * est.val_batch_s))
    assert est.train_time_s == pytest.approx(3 * 7 * est.step_s)
    assert est.power_w == pytest.approx(power.CPU_WATTS_PER_CORE * torch.get_num_threads())
    assert not est.power_measured and "15 W/core assumption" in est.power_basis
    assert est.energy_kwh == pytest.approx(est.power_w * est.time_s / JOULES_PER_KWH)
    assert est.co2_g == pytest.approx(est.energy_kwh * 250.0)
    assert any("15 W/core assumption" in line for line in est.lines())
    # The copy trained; the model given did not.
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())


def test_gradient_accumulation_makes_a_step_of_several_batches() -> None:
    graph = _mlp_graph()
    data = classification_bundle(n_train=96, n_val=0)
    est = estimate_cost(build_model(graph, seed=0), graph, data,
                        TrainSettings(epochs=1, batch_size=8, grad_accum=3, device="cpu"), loss="cross_entropy")
    assert est.steps_per_epoch == 4  # 12 batches, 3 per step
    assert est.val_batches_per_epoch == 0 and est.val_batch_s == 0.0
    assert est.time_s == pytest.approx(4 * est.step_s)


def test_cpu_power_uses_a_known_cpus_rating_else_the_stated_assumption() -> None:
    known = power.cpu_power(cores=4, model_name="AMD EPYC 7763 64-Core Processor")
    assert known.watts == pytest.approx(280.0 / 64 * 4) and not known.measured
    assert "rated 280 W over 64 cores" in known.basis
    unknown = power.cpu_power(cores=2, model_name="AMD EPYC")
    assert unknown.watts == 30.0
    assert unknown.basis == "estimate from a 15 W/core assumption (AMD EPYC, 2 cores)"


class _FakeNvml(types.ModuleType):
    """pynvml's calls the meters use, with an energy counter that advances 5 J per reading."""

    def __init__(self) -> None:
        super().__init__("pynvml")
        self.energy_mj = 1_000_000

    def nvmlInit(self) -> None:  # noqa: N802 (pynvml's names)
        pass

    def nvmlDeviceGetTotalEnergyConsumption(self, handle: object) -> int:  # noqa: N802
        self.energy_mj += 5_000
        return self.energy_mj

    def nvmlDeviceGetPowerUsage(self, handle: object) -> int:  # noqa: N802
        return 250_000  # milliwatts


def test_nvml_energy_counter_gives_the_measured_energy(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pynvml", _FakeNvml())
    monkeypatch.setattr(power, "_nvml_handle", lambda nvml, device: "handle")
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda device=None: "NVIDIA Test GPU")
    meter = power.EnergyMeter(torch.device("cuda", 0))
    meter.start()
    assert meter.stop() == pytest.approx(5.0)  # joules
    assert meter.basis == "NVML energy counter of NVIDIA Test GPU"
    read, name = power.power_sampler(torch.device("cuda", 0))
    assert read() == 250.0 and name == "NVIDIA Test GPU"


def test_without_nvml_nothing_is_measured(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pynvml", None)  # import pynvml raises ImportError
    meter = power.EnergyMeter(torch.device("cuda", 0))
    meter.start()
    assert meter.stop() is None
    assert "nvidia-ml-py" in meter.basis
    cpu = power.EnergyMeter(torch.device("cpu"))
    cpu.start()
    assert cpu.stop() is None and cpu.basis == "the CPU's power is not measured"


def test_a_run_records_its_estimate_beside_the_measured_time(tmp_path) -> None:
    from workbench.runs import prepare_run, train_project

    prepared = prepare_run(resolve_project("digits-mlp"), {"epochs": 1, "device": "cpu"})
    result = train_project(prepared, tmp_path / "run", estimate=True)
    assert result.status == "finished"
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    cost = summary["cost"]
    assert cost["measured"]["wall_s"] == summary["duration_s"]
    assert cost["measured"]["energy_kwh"] is None and cost["measured"]["energy_basis"] == "the CPU's power is not measured"
    estimate = cost["estimate"]
    assert estimate["epochs"] == 1 and estimate["train_samples"] == prepared.data.train_size
    assert estimate["time_s"] == pytest.approx(estimate["steps_per_epoch"] * estimate["step_s"]
                                               + estimate["val_batches_per_epoch"] * estimate["val_batch_s"])
    assert estimate["co2_g"] == pytest.approx(estimate["energy_kwh"] * 400.0)


def test_formats() -> None:
    assert format_flops(2.94e9) == "2.94 GFLOPs"
    assert format_flops(512) == "512 FLOPs"
    assert (format_step(0.5643), format_step(1.8123)) == ("564 ms", "1.81 s")
    assert (format_duration(48.2), format_duration(138.5), format_duration(9000)) == ("48.2 s", "2.31 min", "2.5 h")
