"""How much power a training device draws: read from NVML on NVIDIA GPUs, assumed otherwise.

NVIDIA GPUs report their board power and (Volta and later) a running energy counter through
NVML; `pynvml` (the `nvidia-ml-py` package) reads them, and torch.cuda.power_draw uses it too.
Nothing measures a CPU's power portably, so a CPU's figure is an assumption, and every figure
says which it is (`PowerFigure.measured`, `PowerFigure.basis`):

- a CPU whose model name is in KNOWN_CPUS: its rated power (TDP) shared over its cores;
- any other CPU: CPU_WATTS_PER_CORE per core that training uses (torch's thread count).

Only the training device is counted (the GPU board, or the CPU cores), not the rest of the
machine (memory, disks, fans, the power supply's losses).
"""

from __future__ import annotations

import logging
import platform
from dataclasses import dataclass
from typing import Any, Callable

import torch

log = logging.getLogger(__name__)

# Assumed draw of one busy CPU core when the model's rated power is unknown: a server core
# runs at about 3-10 W of its package's TDP, a desktop core at 10-20 W; 15 W errs high.
CPU_WATTS_PER_CORE = 15.0

# Rated power (TDP, watts) and physical cores of a few CPUs, from their makers' spec sheets;
# matched as a substring of /proc/cpuinfo's model name.
KNOWN_CPUS: dict[str, tuple[float, int]] = {
    "AMD EPYC 7763": (280.0, 64),
    "AMD EPYC 9654": (360.0, 96),
    "AMD Ryzen 9 7950X": (170.0, 16),
    "Intel(R) Xeon(R) Platinum 8380": (270.0, 40),
}


@dataclass(frozen=True)
class PowerFigure:
    """The training device's power draw and where the number comes from."""

    watts: float | None  # None: not measured, and no assumption fits the device
    measured: bool  # True: read from the device (NVML); False: an assumption
    basis: str  # in words, e.g. "estimate from a 15 W/core assumption (AMD EPYC, 2 cores)"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready record."""
        return {"watts": self.watts, "measured": self.measured, "basis": self.basis}


def cpu_model_name() -> str:
    """/proc/cpuinfo's model name, else what `platform` knows, else "CPU"."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip() or "CPU"
    except OSError:
        pass  # not Linux
    return platform.processor() or platform.machine() or "CPU"


def cpu_power(cores: int | None = None, model_name: str | None = None) -> PowerFigure:
    """The assumed draw of `cores` busy cores (default: torch's thread count) of this CPU."""
    cores = cores or torch.get_num_threads()
    name = model_name if model_name is not None else cpu_model_name()
    for known, (tdp, physical) in KNOWN_CPUS.items():
        if known in name:
            per_core = tdp / physical
            return PowerFigure(per_core * cores, False,
                               f"estimate from {name}'s rated {tdp:g} W over {physical} cores "
                               f"({per_core:.3g} W/core × {cores} core{'s' if cores != 1 else ''})")
    return PowerFigure(CPU_WATTS_PER_CORE * cores, False,
                       f"estimate from a {CPU_WATTS_PER_CORE:g} W/core assumption "
                       f"({name}, {cores} core{'s' if cores != 1 else ''})")


def _pynvml() -> Any | None:
    """pynvml, initialised; None when it is not installed or finds no driver."""
    try:
        import pynvml  # type: ignore[import-not-found]
    except ImportError:
        return None
    try:
        pynvml.nvmlInit()
    except Exception as exc:  # pynvml.NVMLError and its many subclasses: no driver, no GPU
        log.info("NVML is not available: %s", exc)
        return None
    return pynvml


def _nvml_handle(nvml: Any, device: torch.device) -> Any | None:
    """The NVML handle of a CUDA device, found by UUID (NVML numbers devices without regard to
    CUDA_VISIBLE_DEVICES, so the CUDA index may name another GPU)."""
    index = device.index if device.index is not None else torch.cuda.current_device()
    try:
        uuid = str(torch.cuda.get_device_properties(index).uuid)
        return nvml.nvmlDeviceGetHandleByUUID(uuid if uuid.startswith("GPU-") else f"GPU-{uuid}")
    except Exception as exc:
        log.info("no NVML handle for %s: %s", device, exc)
        return None


def power_sampler(device: torch.device) -> tuple[Callable[[], float | None], str] | None:
    """For an NVIDIA GPU with NVML: a function reading its board power now (watts) and the GPU's
    name; None for any other device."""
    if device.type != "cuda":
        return None
    nvml = _pynvml()
    handle = _nvml_handle(nvml, device) if nvml is not None else None
    if handle is None:
        return None
    name = torch.cuda.get_device_name(device)

    def read() -> float | None:
        try:
            return nvml.nvmlDeviceGetPowerUsage(handle) / 1000.0  # milliwatts
        except Exception:
            return None

    return read, name


def unmeasured_reason(device: torch.device) -> str:
    """Why no power reading exists for `device`, with the fix where there is one."""
    if device.type == "cuda":
        return "no NVML power reading (install nvidia-ml-py for NVIDIA GPUs)"
    if device.type == "cpu":
        return "the CPU's power is not measured"
    return f"{device.type} devices report no power"


class EnergyMeter:
    """The energy a CUDA device used between `start()` and `stop()`, from NVML's counter.

    `stop()` returns joules, or None where nothing measures it (the CPU, other GPUs, no NVML,
    GPUs older than Volta); `basis` then says why.
    """

    def __init__(self, device: torch.device) -> None:
        self.device = device
        self.basis = unmeasured_reason(device)
        self._nvml: Any | None = None
        self._handle: Any | None = None
        self._start_mj: int | None = None

    def start(self) -> None:
        """Read the counter (a no-op where there is none)."""
        if self.device.type != "cuda":
            return
        self._nvml = _pynvml()
        if self._nvml is None:
            return
        self._handle = _nvml_handle(self._nvml, self.device)
        if self._handle is None:
            return
        try:
            self._start_mj = int(self._nvml.nvmlDeviceGetTotalEnergyConsumption(self._handle))
        except Exception as exc:  # NVMLError_NotSupported before Volta
            self.basis = f"NVML has no energy counter on this GPU ({exc})"
            self._start_mj = None

    def stop(self) -> float | None:
        """Joules used since `start()`, or None."""
        if self._nvml is None or self._handle is None or self._start_mj is None:
            return None
        try:
            end = int(self._nvml.nvmlDeviceGetTotalEnergyConsumption(self._handle))
        except Exception as exc:
            self.basis = f"NVML energy counter unreadable ({exc})"
            return None
        self.basis = f"NVML energy counter of {torch.cuda.get_device_name(self.device)}"
        return (end - self._start_mj) / 1000.0  # millijoules
