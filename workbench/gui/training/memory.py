"""Will the run fit? The model summary's training-memory estimate against a device's free memory. No Qt.

`summarize(...).train_memory_bytes` (weights, gradients, optimizer state and activations) grows
linearly with the batch size, so two estimates (batch 1 and the chosen batch) give the fixed part
and the per-sample part, and from them the largest batch size that fits.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass

from workbench.graph.document import Graph
from workbench.training.devices import DeviceInfo

log = logging.getLogger(__name__)

HEADROOM = 0.9  # leave a tenth of the free memory to the framework, the allocator and others


@dataclass(frozen=True)
class MemoryCheck:
    """The estimate for one batch size on one device."""

    estimate: int  # bytes the run is expected to need
    free: int | None  # bytes free on the device (None: unknown)
    batch_size: int
    fits: bool
    batch_that_fits: int | None  # the largest batch size under the headroom (None: unknown); 0: not even 1


def check_memory(graph: Graph, batch_size: int, optimizer: str, device: DeviceInfo | None) -> MemoryCheck | None:
    """None when the graph cannot be summarised (it has problems) or nothing is known."""
    from workbench.graph.summary import summarize

    try:
        summary = summarize(graph, batch_size=batch_size, optimizer=optimizer)
    except Exception as exc:  # an invalid graph: the Problems panel says why
        log.debug("no memory estimate: %s", exc)
        return None
    # The estimate is linear in the batch (activations scale with it, the rest does not), so
    # the batch-of-one figure follows without a second summary (a meta-device forward pass,
    # ~18 ms of the Train click).
    at_batch = summary.train_memory_bytes
    at_one = at_batch - summary.activation_bytes * (batch_size - 1) // batch_size
    free = device.free_memory if device is not None else None
    if free is None:
        return MemoryCheck(at_batch, None, batch_size, True, None)
    budget = free * HEADROOM
    per_sample = (at_batch - at_one) / (batch_size - 1) if batch_size > 1 else at_one * 0.5
    fixed = at_one - per_sample
    if per_sample <= 0:
        fits_batch = batch_size if at_batch <= budget else 0
    else:
        fits_batch = max(0, int((budget - fixed) // per_sample))
    return MemoryCheck(at_batch, free, batch_size, at_batch <= budget, fits_batch)


def process_memory() -> int | None:
    """Resident memory of this process in bytes (Linux /proc), else the peak from getrusage."""
    try:
        with open("/proc/self/statm", encoding="ascii") as fh:
            pages = int(fh.read().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError, AttributeError):
        pass
    try:
        import resource
        import sys

        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return peak if sys.platform == "darwin" else peak * 1024
    except (ImportError, OSError):
        return None


def device_memory_in_use(device: str) -> tuple[int | None, str]:
    """(bytes, what they measure) for the device a run trains on."""
    if device.startswith("cuda"):
        try:
            import torch

            index = int(device.partition(":")[2] or 0)
            return int(torch.cuda.memory_reserved(index)), "cuda"
        except Exception:  # a device gone away: report nothing rather than fail the progress line
            return None, "cuda"
    if device == "mps":
        try:
            import torch

            return int(torch.mps.current_allocated_memory()), "mps"
        except Exception:
            return None, "mps"
    return process_memory(), "process"
