"""Which devices this machine can train on, and turning a device name into a torch.device.

The names are the ones a project file stores ("auto", "cpu", "cuda", "cuda:1", "mps"); a name
that this machine cannot honour raises DeviceError listing what it does have, because a project
made on a GPU workstation is often opened on a laptop.

torch is imported inside the functions, not at module level: the GUI imports this module (for
`DeviceInfo`) while the main window is built, and a module-level `import torch` there cost ~1.4 s
of start-up before the window could appear.
"""

from __future__ import annotations

import logging
import os
import platform
from dataclasses import dataclass
from typing import TYPE_CHECKING

from workbench.errors import DeviceError

if TYPE_CHECKING:
    import torch

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DeviceInfo:
    """One device: its id as a settings value, a human name, and memory where known."""

    id: str  # "cpu", "cuda:0", "mps"
    name: str  # "NVIDIA H100 80GB HBM3", "AMD EPYC 7763 (2 threads)"
    total_memory: int | None = None  # bytes
    free_memory: int | None = None  # bytes

    def describe(self) -> str:
        """`cpu (AMD EPYC 7763, 24.0 GB)`: how the device appears in messages and menus."""
        if self.total_memory is None:
            return f"{self.id} ({self.name})"
        return f"{self.id} ({self.name}, {self.total_memory / 1e9:.1f} GB)"


def _cpu_name() -> str:
    import torch

    name = ""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    name = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass  # not Linux: platform.processor() below is the best we have
    name = name or platform.processor() or platform.machine() or "CPU"
    return f"{name} ({torch.get_num_threads()} threads)"


def _cpu_memory() -> tuple[int | None, int | None]:
    """(total, free) system memory in bytes; None where the platform does not tell."""

    def sysconf(key: str) -> int | None:
        try:
            value = os.sysconf(key)
        except (AttributeError, ValueError, OSError):
            return None  # Windows has no sysconf; macOS lacks SC_AVPHYS_PAGES
        return value if value > 0 else None

    page = sysconf("SC_PAGE_SIZE")
    total_pages = sysconf("SC_PHYS_PAGES")
    free_pages = sysconf("SC_AVPHYS_PAGES")
    total = page * total_pages if page and total_pages else None
    free = page * free_pages if page and free_pages else None
    return total, free


def _mps_available() -> bool:
    import torch

    mps = getattr(torch.backends, "mps", None)
    return bool(mps is not None and mps.is_available())


def list_devices() -> list[DeviceInfo]:
    """Every device training can use here, CPU first."""
    import torch

    total, free = _cpu_memory()
    devices = [DeviceInfo("cpu", _cpu_name(), total, free)]
    if torch.cuda.is_available():
        for index in range(torch.cuda.device_count()):
            try:
                free_b, total_b = torch.cuda.mem_get_info(index)
            except RuntimeError:  # a busy or broken device still shows, without numbers
                log.warning("cannot read memory of cuda:%d", index, exc_info=True)
                free_b = total_b = None
            devices.append(
                DeviceInfo(f"cuda:{index}", torch.cuda.get_device_name(index), total_b, free_b)
            )
    if _mps_available():
        total_mps = None
        try:
            total_mps = int(torch.mps.recommended_max_memory())
        except (AttributeError, RuntimeError):
            pass  # older torch: memory unknown
        devices.append(DeviceInfo("mps", "Apple GPU (Metal)", total_mps, None))
    return devices


def _unavailable(name: str, why: str) -> DeviceError:
    have = ", ".join(d.describe() for d in list_devices())
    return DeviceError(f"{why}; this machine has: {have}")


def resolve_device(name: str = "auto") -> torch.device:
    """`auto` picks CUDA, then MPS, then CPU; anything named must exist or DeviceError."""
    import torch

    name = name.strip().lower()
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda", torch.cuda.current_device())
        if _mps_available():
            return torch.device("mps")
        return torch.device("cpu")
    if name == "cpu":
        return torch.device("cpu")
    if name == "mps":
        if not _mps_available():
            raise _unavailable(name, "mps is not available")
        return torch.device("mps")
    if name == "cuda" or name.startswith("cuda:"):
        index_text = name.partition(":")[2]
        if index_text and not index_text.isdigit():
            raise _unavailable(name, f"{name!r} is not a device name (expected cuda:N)")
        if not torch.cuda.is_available():
            raise _unavailable(name, f"{name} is not available")
        index = int(index_text) if index_text else torch.cuda.current_device()
        if index >= torch.cuda.device_count():
            raise _unavailable(name, f"{name} is not available")
        return torch.device("cuda", index)
    raise _unavailable(
        name, f"unknown device {name!r} (expected auto, cpu, cuda, cuda:N or mps)"
    )
