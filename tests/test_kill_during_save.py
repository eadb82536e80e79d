"""kill -9 in the middle of a save: the file is the old one or the new one, never torn, and the
temporary file the killed process left is removed by the next save.

Each child process saves in a loop and says where it is on stdout; the test kills it (SIGKILL)
once it has said so: at a chosen point inside a save (blocked there, so the kill lands exactly
there), or anywhere in a loop of saves. No sleeps: the marker line decides when to kill.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from workbench.files import TEMP_SUFFIX, sweep_temp_files, temp_path, write_text_atomic
from workbench.presets import load_preset
from workbench.project import load_project, save_project

pytestmark = pytest.mark.skipif(os.name != "posix", reason="SIGKILL and pid probing are POSIX")

# Saves `target` over and over; with a mode, the second save blocks at that point (the kill lands there).
CHILD = r"""
import os, sys
mode, target, source = sys.argv[1:4]

def block():
    print("in-save", flush=True)
    sys.stdin.read()  # never returns: the test kills this process here

if mode == "checkpoint":
    import torch
    from workbench.training.checkpoint import save_checkpoint
    from workbench.training.rng import capture_rng_state

    def save(n):
        save_checkpoint(target, {"model": {"w": torch.full((512, 512), float(n))},
                                 "optimizer": {"state": {}, "param_groups": []}, "epoch": n,
                                 "global_step": n, "rng": capture_rng_state(),
                                 "loader_rng": torch.Generator().get_state(), "settings": {}})
else:
    from workbench.project import load_project, save_project
    project = load_project(source)

    def save(n):
        project.description = f"save {n} " + "x" * 300_000
        save_project(project, target)

calls = {"n": 0}
if mode in ("before-rename", "checkpoint"):
    real_replace = os.replace
    def replace(a, b):
        calls["n"] += 1
        if calls["n"] >= 2:
            block()
        real_replace(a, b)
    os.replace = replace
elif mode == "mid-write":
    real_fdopen = os.fdopen
    class HalfWriter:
        def __init__(self, fh): self.fh = fh
        def __enter__(self): return self
        def __exit__(self, *exc): return self.fh.__exit__(*exc)
        def write(self, data):
            calls["n"] += 1
            if calls["n"] >= 2:
                self.fh.write(data[: len(data) // 2]); self.fh.flush()
                block()
            return self.fh.write(data)
        def __getattr__(self, name): return getattr(self.fh, name)
    os.fdopen = lambda *a, **k: HalfWriter(real_fdopen(*a, **k))

n = 0
while True:
    n += 1
    save(n)
    print(f"saved {n}", flush=True)
"""


def _kill_when(mode: str, target: Path, source: Path, marker: str) -> list[str]:
    """Start the child, read its lines until `marker`, SIGKILL it and reap it; returns the lines."""
    child = subprocess.Popen([sys.executable, "-c", CHILD, mode, str(target), str(source)],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    seen: list[str] = []
    assert child.stdout is not None
    for line in child.stdout:
        seen.append(line.strip())
        if line.strip() == marker:
            break
    child.send_signal(signal.SIGKILL)
    child.wait()
    child.stdout.close()
    child.stdin.close()  # type: ignore[union-attr]
    assert marker in seen, f"the child ended without saying {marker!r}: {seen}"
    return seen


def _temps(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(TEMP_SUFFIX))


@pytest.fixture
def source(tmp_path: Path) -> Path:
    return save_project(load_preset("digits-mlp"), tmp_path / "source.json")


@pytest.mark.parametrize("mode", ["mid-write", "before-rename"])
def test_a_project_killed_inside_a_save_is_the_old_file_and_its_temp_is_swept(mode: str, source: Path,
                                                                              tmp_path: Path) -> None:
    folder = tmp_path / "projects"
    folder.mkdir()
    target = folder / "p.json"
    for round_ in range(3):  # repeatedly: each kill leaves one more orphan, each next save removes it
        _kill_when(mode, target, source, "in-save")
        assert load_project(target).description.startswith("save 1 ")  # the old file, whole
        orphans = _temps(folder)
        assert len(orphans) == 1 and orphans[0].startswith(".p.json."), orphans
        project = load_project(target)
        project.description = f"after kill {round_}"
        save_project(project, target)
        assert _temps(folder) == []
        assert load_project(target).description == f"after kill {round_}"


def test_a_project_killed_anywhere_in_a_loop_of_saves_is_never_torn(source: Path, tmp_path: Path) -> None:
    target = tmp_path / "p.json"
    for _ in range(4):
        seen = _kill_when("loop", target, source, "saved 3")
        description = load_project(target).description  # parses: old or new, never half
        saved = int(description.split()[1])
        assert saved >= 3 and description == f"save {saved} " + "x" * 300_000, seen
        save_project(load_project(target), target)
        assert _temps(tmp_path) == []


def test_a_checkpoint_killed_inside_a_save_is_the_old_file_and_its_temp_is_swept(tmp_path: Path) -> None:
    import torch

    from workbench.training.checkpoint import load_checkpoint, save_checkpoint

    target = tmp_path / "checkpoints" / "last.pt"
    _kill_when("checkpoint", target, tmp_path, "in-save")
    state = load_checkpoint(target)
    assert state["epoch"] == 1 and torch.equal(state["model"]["w"], torch.full((512, 512), 1.0))
    assert len(_temps(target.parent)) == 1
    state["epoch"] = 2
    save_checkpoint(target, state)
    assert _temps(target.parent) == [] and load_checkpoint(target)["epoch"] == 2


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_only_our_stale_temp_files_of_that_target_are_removed(tmp_path: Path) -> None:
    target = tmp_path / "summary.json"
    dead = temp_path(target).name.split(".")
    # `.summary.json.PID.HOST.RANDOM.workbench-tmp` of a process that has ended:
    stale = tmp_path / ".".join([*dead[:3], str(_dead_pid()), *dead[4:]])
    live_mine = temp_path(target)  # this process: maybe another thread writing right now
    other_target = temp_path(tmp_path / "data.json").name.replace(str(os.getpid()), str(_dead_pid()))
    lookalikes = [".summary.json.tmp", "summary.json.123.host.abcdef12.workbench-tmp",
                  ".summary.json.123.host.notahex!.workbench-tmp", other_target, "notes.txt"]
    for path in [stale, live_mine, *(tmp_path / name for name in lookalikes)]:
        path.write_text("x")
    assert sweep_temp_files(target) == [stale]
    assert not stale.exists() and live_mine.exists()
    assert all((tmp_path / name).exists() for name in lookalikes)
    old = 2 * 24 * 3600
    os.utime(live_mine, (live_mine.stat().st_atime - old, live_mine.stat().st_mtime - old))
    assert sweep_temp_files(target) == [live_mine]  # older than the threshold: whoever made it


def test_a_killed_best_copy_leaves_a_link_the_next_copy_removes(tmp_path: Path) -> None:
    from workbench.training.checkpoint import copy_checkpoint

    last, best = tmp_path / "last.pt", tmp_path / "best.pt"
    write_text_atomic(last, "weights")
    orphan = temp_path(best)
    os.link(last, orphan)  # what a kill between the link and the rename leaves
    orphan.rename(orphan.with_name(orphan.name.replace(f".{os.getpid()}.", f".{_dead_pid()}.")))
    copy_checkpoint(last, best)
    assert best.read_text() == "weights" and _temps(tmp_path) == []


def test_saved_files_follow_the_umask(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        path = write_text_atomic(tmp_path / "p.json", "{}")
    finally:
        os.umask(old)
    assert path.stat().st_mode & 0o777 == 0o644
