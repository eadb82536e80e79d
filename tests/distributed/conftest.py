"""Helpers for the distributed tests: gloo on the CPU, as few process launches as possible.

Each launch of a 2-process job costs ~6 s here (three interpreters import torch on two cores),
so the launching tests share their runs through module-scoped fixtures and train tiny epochs.
They are marked `slow` (registered below) so that `-m "not slow"` skips them locally; CI runs them.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

# A dead or hung peer must fail the job in seconds here, not after the default five minutes.
TEST_TIMEOUT_S = "60"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "slow: starts real multi-process jobs (several seconds each)")


def _worker_env(**extra: str) -> dict[str, str]:
    """The environment for a launched job: short collective timeout, no inherited test fault."""
    env = {k: v for k, v in os.environ.items() if k != "WORKBENCH_TEST_FAULT"}
    env["WORKBENCH_DIST_TIMEOUT_S"] = TEST_TIMEOUT_S
    env.update(extra)
    return env


def _torchrun(*workbench_args: str, nproc: int = 2, **env: str) -> subprocess.CompletedProcess[str]:
    """The user's own launch: `torchrun --standalone --nproc-per-node N -m workbench ...`."""
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone",
               "--nproc-per-node", str(nproc), "-m", "workbench", *workbench_args]
    return subprocess.run(command, capture_output=True, text=True, timeout=180,
                          env=_worker_env(**env), cwd=Path(__file__).parent)


@pytest.fixture(scope="session")
def torchrun():
    """`torchrun(*args, nproc=2, **env)` -> CompletedProcess of `torchrun ... -m workbench *args`."""
    return _torchrun


@pytest.fixture(autouse=True)
def _no_inherited_fault(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WORKBENCH_TEST_FAULT", raising=False)
    monkeypatch.setenv("WORKBENCH_DIST_TIMEOUT_S", TEST_TIMEOUT_S)


@pytest.fixture(autouse=True)
def _one_thread():
    # The in-process single-rank runs here are tiny: one thread is fastest, and it does not fight
    # the launched workers (torchrun gives each OMP_NUM_THREADS=1) for the two cores.
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
