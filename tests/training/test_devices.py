"""Device listing and resolution, including a simulated CUDA machine."""

from __future__ import annotations

import sys

import pytest
import torch

from workbench.errors import DeviceError
from workbench.training import devices
from workbench.training.devices import DeviceInfo, list_devices, resolve_device


def test_cpu_is_listed_first_with_memory() -> None:
    found = list_devices()
    assert found[0].id == "cpu"
    assert found[0].name
    if sys.platform.startswith("linux"):
        assert found[0].total_memory and found[0].total_memory > 0
        assert found[0].free_memory is not None and found[0].free_memory <= found[0].total_memory


def test_describe() -> None:
    assert DeviceInfo("cpu", "Some CPU", 24_000_000_000).describe() == "cpu (Some CPU, 24.0 GB)"
    assert DeviceInfo("mps", "Apple GPU").describe() == "mps (Apple GPU)"


def test_cpu_and_auto() -> None:
    assert resolve_device("cpu") == torch.device("cpu")
    assert resolve_device(" CPU ") == torch.device("cpu")
    auto = resolve_device("auto")
    if not torch.cuda.is_available() and not devices._mps_available():
        assert auto == torch.device("cpu")


def test_missing_cuda_lists_what_the_machine_has() -> None:
    missing = f"cuda:{torch.cuda.device_count() if torch.cuda.is_available() else 1}"
    with pytest.raises(DeviceError, match=rf"^{missing} is not available; this machine has: cpu \("):
        resolve_device(missing)


def test_unknown_name() -> None:
    with pytest.raises(DeviceError, match=r"unknown device 'tpu'.*this machine has: cpu"):
        resolve_device("tpu")
    with pytest.raises(DeviceError, match="not a device name"):
        resolve_device("cuda:x")


@pytest.fixture
def one_fake_gpu(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    monkeypatch.setattr(torch.cuda, "current_device", lambda: 0)
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda i: "Fake GPU")
    monkeypatch.setattr(torch.cuda, "mem_get_info", lambda i: (3 * 10**9, 8 * 10**9))


def test_with_a_gpu(one_fake_gpu: None) -> None:
    assert resolve_device("auto") == torch.device("cuda", 0)
    assert resolve_device("cuda") == torch.device("cuda", 0)
    assert resolve_device("cuda:0") == torch.device("cuda", 0)
    gpu = list_devices()[1]
    assert gpu == DeviceInfo("cuda:0", "Fake GPU", 8 * 10**9, 3 * 10**9)
    with pytest.raises(DeviceError, match=r"cuda:1 is not available; this machine has: cpu \(.*\), "
                                          r"cuda:0 \(Fake GPU, 8.0 GB\)"):
        resolve_device("cuda:1")
