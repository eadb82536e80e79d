"""Before the first window: missing X libraries and an absent display are told in one line."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from workbench.errors import DisplayError
from workbench.gui import display_check
from workbench.gui.display_check import (apt_packages, check_display, dynamic_section, package_for,
                                         required_system_libraries, system_resolver, xcb_plugin)

README = Path(__file__).resolve().parents[2] / "README.md"


def _real_resolver_except(*missing: str):
    real = system_resolver()
    return lambda soname: None if soname in missing else real(soname)


def test_missing_libraries_are_named_with_their_packages_in_one_line() -> None:
    resolve = _real_resolver_except("libxcb-icccm.so.4", "libxcb-keysyms.so.1")
    with pytest.raises(DisplayError) as caught:
        check_display({"DISPLAY": ":0"}, resolve=resolve, platform="linux", connect=lambda _: True)
    assert str(caught.value) == (
        "Qt cannot use the X display: libxcb-icccm.so.4, libxcb-keysyms.so.1 are missing; "
        "install with: sudo apt-get install libxcb-icccm4 libxcb-keysyms1")


def test_a_library_missing_deeper_down_is_found_too(tmp_path: Path) -> None:
    """libxkbcommon-x11 is present but the libxcb-xkb it loads is not."""
    resolve = _real_resolver_except("libxcb-xkb.so.1")
    with pytest.raises(DisplayError, match=r"libxcb-xkb\.so\.1 is missing; install with: sudo apt-get install libxcb-xkb1$"):
        check_display({"DISPLAY": ":0"}, resolve=resolve, platform="linux", connect=lambda _: True)


def test_nothing_is_checked_off_xcb_or_when_all_is_there() -> None:
    def never(soname: str) -> None:
        raise AssertionError(f"looked up {soname}")

    check_display({"DISPLAY": ":0", "QT_QPA_PLATFORM": "offscreen"}, resolve=never, platform="linux")
    check_display({"DISPLAY": ":0", "QT_QPA_PLATFORM": "wayland"}, resolve=never, platform="linux")
    check_display({}, resolve=never, platform="darwin")
    check_display({"DISPLAY": ":0"}, resolve=system_resolver(), platform="linux", connect=lambda _: True)


def test_no_display_and_an_unreachable_x_server_are_told() -> None:
    with pytest.raises(DisplayError, match=r"^no display to open the window on .*xvfb-run -a workbench"):
        check_display({}, platform="linux")
    with pytest.raises(DisplayError, match=r"^no X server answers at DISPLAY=:57"):
        check_display({"DISPLAY": ":57"}, platform="linux", connect=lambda _: False)
    assert display_check._x_server_listens("remote.example:0") is None
    assert display_check._x_server_listens(":4242") is False


def test_package_names_follow_debian() -> None:
    assert [package_for(s) for s in ("libxcb-cursor.so.0", "libxkbcommon-x11.so.0", "libX11.so.6",
                                     "libxcb.so.1", "libEGL.so.1", "libglib-2.0.so.0")] == [
        "libxcb-cursor0", "libxkbcommon-x11-0", "libx11-6", "libxcb1", "libegl1", "libglib2.0-0"]


def test_the_plugin_is_read_as_the_loader_reads_it() -> None:
    plugin = xcb_plugin()
    assert plugin is not None
    needed, search = dynamic_section(plugin)
    assert "libQt6XcbQpa.so.6" in needed and "libxcb-icccm.so.4" in needed
    assert any(Path(folder).resolve() == (plugin.parent / "../../lib").resolve() for folder in search)
    assert dynamic_section(README) == ([], [])  # not an ELF file


def test_the_readme_apt_line_lists_every_package_the_plugin_needs() -> None:
    text = README.read_text(encoding="utf-8").replace("\\\n", " ")
    line = next(l for l in text.splitlines() if l.startswith("sudo apt-get install") and "libxcb" in l)
    listed = set(re.split(r"\s+", line.removeprefix("sudo apt-get install").strip()))
    needed = set(apt_packages(required_system_libraries(xcb_plugin())))
    assert {"libxcb-icccm4", "libxcb-keysyms1", "libxcb-cursor0"} <= needed
    assert needed <= listed, f"missing from the README's apt line: {sorted(needed - listed)}"


def test_workbench_says_it_in_one_line_instead_of_aborting(monkeypatch, capsys) -> None:
    from workbench.cli import main

    monkeypatch.delenv("QT_QPA_PLATFORM")
    monkeypatch.setenv("DISPLAY", ":0")
    monkeypatch.setattr(display_check, "_x_server_listens", lambda _: True)
    monkeypatch.setattr(display_check, "system_resolver", lambda env=None: _real_resolver_except("libxcb-icccm.so.4"))
    assert main(["open"]) == 1
    err = capsys.readouterr().err
    assert err == ("workbench: error: Qt cannot use the X display: libxcb-icccm.so.4 is missing; "
                   "install with: sudo apt-get install libxcb-icccm4\n")


def _env_without_display() -> dict[str, str]:
    import os

    return {k: v for k, v in os.environ.items() if k not in ("QT_QPA_PLATFORM", "DISPLAY", "WAYLAND_DISPLAY")}


@pytest.mark.slow
def test_without_a_display_the_app_says_so_and_a_screenshot_still_works(tmp_path: Path) -> None:
    import subprocess
    import sys

    env = _env_without_display()
    app = subprocess.run([sys.executable, "-m", "workbench"], env=env, capture_output=True, text=True, timeout=120)
    assert app.returncode == 1, app.stderr  # not Qt's abort (134)
    assert app.stderr.startswith("workbench: error: no display to open the window on") and app.stderr.count("\n") == 1
    shot = tmp_path / "shot.png"
    made = subprocess.run([sys.executable, "-m", "workbench", "open", "digits-mlp", "--screenshot", str(shot)],
                          env=env, capture_output=True, text=True, timeout=300)
    assert made.returncode == 0, made.stderr
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
