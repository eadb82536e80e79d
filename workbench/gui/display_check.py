"""Before the app's first window: can Qt reach the display? Told in one line, not by Qt's abort.

On Linux with an X server, Qt loads its xcb platform plugin (PySide6's `libqxcb.so`) when the
QApplication is made; if a system library it needs is missing, Qt prints a paragraph that names
one library (often one that is installed) and aborts the process (exit 134). This module reads
the plugin's ELF dynamic section (and that of the Qt libraries it pulls in), finds the shared
libraries that resolve nowhere, maps them to Debian/Ubuntu packages, and raises a DisplayError
naming every missing package and the apt command. It imports no Qt and starts no process: it
reads a few ELF headers and lists a few library folders (a few milliseconds).
"""

from __future__ import annotations

import glob
import importlib.util
import os
import socket
import struct
import sys
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import BinaryIO

from workbench.errors import DisplayError

# soname -> Debian/Ubuntu package, where the package name does not follow from the soname
# (see `package_for`).
PACKAGES = {
    "libglib-2.0.so.0": "libglib2.0-0",
    "libgthread-2.0.so.0": "libglib2.0-0",
    "libgobject-2.0.so.0": "libglib2.0-0",
    "libGLX.so.0": "libglx0",
    "libGLdispatch.so.0": "libglvnd0",
    "libOpenGL.so.0": "libopengl0",
    "libdbus-1.so.3": "libdbus-1-3",
    "libpng16.so.16": "libpng16-16",
    "libz.so.1": "zlib1g",
    "libzstd.so.1": "libzstd1",
    "libfreetype.so.6": "libfreetype6",
    "libfontconfig.so.1": "libfontconfig1",
    "libgcc_s.so.1": "libgcc-s1",
    "libstdc++.so.6": "libstdc++6",
}
# Always there with the C library: never reported.
_BASE = ("libc.so.", "libm.so.", "libdl.so.", "libpthread.so.", "librt.so.", "ld-linux", "libgcc_s.so.",
         "libstdc++.so.")

Resolver = Callable[[str], "str | None"]  # soname -> path of the library, or None when not found


def package_for(soname: str) -> str:
    """The Debian/Ubuntu package that ships `soname`: libxcb-icccm.so.4 -> libxcb-icccm4,
    libxkbcommon-x11.so.0 -> libxkbcommon-x11-0 (a dash when the name ends in a digit)."""
    if soname in PACKAGES:
        return PACKAGES[soname]
    name, _, version = soname.partition(".so.")
    name = name.lower()
    if not version:
        return name
    major = version.split(".")[0]
    return f"{name}-{major}" if name[-1].isdigit() else f"{name}{major}"


def xcb_plugin() -> Path | None:
    """PySide6's xcb platform plugin, found without importing PySide6; None when absent."""
    spec = importlib.util.find_spec("PySide6")
    for folder in (spec.submodule_search_locations or []) if spec is not None else []:
        plugin = Path(folder) / "Qt" / "plugins" / "platforms" / "libqxcb.so"
        if plugin.is_file():
            return plugin
    return None


def needs_xcb(environ: Mapping[str, str] | None = None, platform: str | None = None) -> bool:
    """True when Qt would load the xcb plugin: Linux, DISPLAY set, QT_QPA_PLATFORM unset or xcb."""
    env = os.environ if environ is None else environ
    chosen = env.get("QT_QPA_PLATFORM", "").split(":")[0].strip()
    return (platform or sys.platform).startswith("linux") and bool(env.get("DISPLAY")) and chosen in ("", "xcb")


def has_display(environ: Mapping[str, str] | None = None, platform: str | None = None) -> bool:
    """False on Linux without DISPLAY and WAYLAND_DISPLAY (a server, a container, CI)."""
    env = os.environ if environ is None else environ
    return not (platform or sys.platform).startswith("linux") or bool(env.get("DISPLAY") or env.get("WAYLAND_DISPLAY"))


def check_display(environ: Mapping[str, str] | None = None, resolve: Resolver | None = None,
                  plugin: Path | None = None, platform: str | None = None,
                  connect: Callable[[str], bool | None] | None = None) -> None:
    """DisplayError (one line) when the app could not open a window on this display.

    `resolve` finds a library (default: as the dynamic loader would), `connect` says whether an
    X server listens at a DISPLAY value (None: cannot tell); both are parameters for tests."""
    env = os.environ if environ is None else environ
    system = platform or sys.platform
    chosen = env.get("QT_QPA_PLATFORM", "").split(":")[0].strip()
    if not chosen and not has_display(env, system):
        raise DisplayError("no display to open the window on (DISPLAY and WAYLAND_DISPLAY are not set): "
                           "start it from a desktop session, or under `xvfb-run -a workbench`")
    if not needs_xcb(env, system):
        return
    display = env.get("DISPLAY", "")
    if connect is None:
        connect = _x_server_listens
    if connect(display) is False:
        raise DisplayError(f"no X server answers at DISPLAY={display}: start one (or unset DISPLAY and run under "
                           "`xvfb-run -a workbench`)")
    plugin = plugin if plugin is not None else xcb_plugin()
    if plugin is None:
        return  # a PySide6 without the plugin: Qt's own message is the best there is
    missing = missing_libraries(plugin, resolve if resolve is not None else system_resolver(env))
    if missing:
        packages = apt_packages(missing)
        raise DisplayError(
            f"Qt cannot use the X display: {', '.join(missing)} {'is' if len(missing) == 1 else 'are'} missing; "
            f"install with: sudo apt-get install {' '.join(packages)}"
        )


def _x_server_listens(display: str) -> bool | None:
    """Whether an X server listens at a local DISPLAY (":0", "unix:1.0"); None for a remote one.

    Qt reports a display it cannot reach with the same abort, blaming libxcb-cursor0."""
    host, _, rest = display.rpartition(":")
    number = rest.split(".")[0]
    if host not in ("", "unix") or not number.isdigit():
        return None
    path = f"/tmp/.X11-unix/X{number}"
    for address in ("\0" + path, path):  # Linux's abstract socket first, then the file
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
            probe.settimeout(1.0)
            try:
                probe.connect(address)
                return True
            except OSError:
                continue
    return False


def missing_libraries(plugin: Path, resolve: Resolver) -> list[str]:
    """Sonames that `plugin` needs, directly or through the libraries it loads, found nowhere."""
    missing: list[str] = []
    seen: set[str] = set()
    pending = [plugin]
    while pending:
        library = pending.pop()
        needed, search = dynamic_section(library)
        for soname in needed:
            if soname in seen or soname.startswith(_BASE):
                continue
            seen.add(soname)
            # The library's own RUNPATH first (PySide6's Qt libraries sit beside each other).
            local = next((Path(d) / soname for d in search if (Path(d) / soname).is_file()), None)
            path = str(local) if local is not None else resolve(soname)
            if path is None:
                missing.append(soname)
            else:
                pending.append(Path(path))
    return sorted(missing)


def required_system_libraries(plugin: Path) -> list[str]:
    """Sonames outside PySide6 that the plugin and the Qt libraries it loads name (the README's
    apt line is made of their packages)."""
    found: set[str] = set()
    seen: set[Path] = set()
    pending = [plugin]
    while pending:
        library = pending.pop()
        if library in seen:
            continue
        seen.add(library)
        needed, search = dynamic_section(library)
        for soname in needed:
            local = next((Path(d) / soname for d in search if (Path(d) / soname).is_file()), None)
            if local is not None:
                pending.append(local)
            elif not soname.startswith(_BASE):
                found.add(soname)
    return sorted(found)


def system_resolver(environ: Mapping[str, str] | None = None) -> Resolver:
    """Finds a soname as the dynamic loader would: LD_LIBRARY_PATH, /etc/ld.so.conf's folders,
    then the default ones."""
    env = os.environ if environ is None else environ
    folders = [d for d in env.get("LD_LIBRARY_PATH", "").split(":") if d]
    folders += _ld_so_conf(Path("/etc/ld.so.conf"))
    folders += ["/lib64", "/usr/lib64", "/lib", "/usr/lib"]
    listing: dict[str, str] = {}
    for folder in reversed(folders):  # the first folder wins
        try:
            for name in os.listdir(folder):
                listing[name] = os.path.join(folder, name)
        except OSError:
            continue

    def resolve(soname: str) -> str | None:
        return listing.get(soname)

    return resolve


def _ld_so_conf(conf: Path, depth: int = 0) -> list[str]:
    """The folders listed in ld.so.conf, following its `include` lines."""
    try:
        lines = conf.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return []
    folders: list[str] = []
    for line in lines:
        line = line.split("#", 1)[0].strip()
        if line.startswith("include ") and depth < 4:
            pattern = line.split(None, 1)[1]
            if not os.path.isabs(pattern):
                pattern = str(conf.parent / pattern)
            for included in sorted(glob.glob(pattern)):
                folders += _ld_so_conf(Path(included), depth + 1)
        elif line:
            folders.append(line)
    return folders


# ----- ELF ------------------------------------------------------------------------------------

_DT_NEEDED, _DT_STRTAB, _DT_STRSZ, _DT_RPATH, _DT_RUNPATH = 1, 5, 10, 15, 29


def dynamic_section(library: Path) -> tuple[list[str], list[str]]:
    """(the DT_NEEDED sonames, the RPATH/RUNPATH folders with $ORIGIN expanded) of a 64-bit
    little-endian ELF file; ([], []) for anything else or a file that cannot be read.

    Only the headers, the dynamic segment and its string table are read (Qt's libraries are
    tens of megabytes)."""
    try:
        with open(library, "rb") as file:
            return _parse_dynamic(file, str(library.parent))
    except (OSError, struct.error, ValueError, UnicodeDecodeError):
        return [], []


def _read(file: BinaryIO, offset: int, size: int) -> bytes:
    file.seek(offset)
    data = file.read(size)
    if len(data) != size:
        raise ValueError("truncated ELF file")
    return data


def _parse_dynamic(file: BinaryIO, origin: str) -> tuple[list[str], list[str]]:
    header = _read(file, 0, 64)
    if header[:4] != b"\x7fELF" or header[4] != 2 or header[5] != 1:  # ELFCLASS64, little-endian
        return [], []
    phoff, = struct.unpack_from("<Q", header, 0x20)
    phentsize, phnum = struct.unpack_from("<HH", header, 0x36)
    table = _read(file, phoff, phentsize * phnum)
    loads: list[tuple[int, int, int]] = []  # (vaddr, offset, filesz)
    dynamic: tuple[int, int] | None = None
    for i in range(phnum):
        p_type, _flags, offset, vaddr, _paddr, filesz = struct.unpack_from("<IIQQQQ", table, i * phentsize)
        if p_type == 1:  # PT_LOAD
            loads.append((vaddr, offset, filesz))
        elif p_type == 2:  # PT_DYNAMIC
            dynamic = (offset, filesz)
    if dynamic is None:
        return [], []
    segment = _read(file, *dynamic)
    entries: list[tuple[int, int]] = []
    for at in range(0, len(segment) - 15, 16):
        tag, value = struct.unpack_from("<qQ", segment, at)
        if tag == 0:
            break
        entries.append((tag, value))
    tags = dict(entries)
    if _DT_STRTAB not in tags or _DT_STRSZ not in tags:
        return [], []
    address = tags[_DT_STRTAB]
    offset = next((off + address - vaddr for vaddr, off, size in loads if vaddr <= address < vaddr + size), address)
    strings = _read(file, offset, tags[_DT_STRSZ])

    def text(at: int) -> str:
        return strings[at:strings.index(b"\0", at)].decode("utf-8")

    needed = [text(value) for tag, value in entries if tag == _DT_NEEDED]
    search: list[str] = []
    for tag, value in entries:
        if tag in (_DT_RPATH, _DT_RUNPATH):
            search += [p.replace("$ORIGIN", origin).replace("${ORIGIN}", origin) for p in text(value).split(":") if p]
    return needed, search


def apt_packages(sonames: Iterable[str]) -> list[str]:
    """The packages to install for these sonames, sorted, each once."""
    return sorted({package_for(name) for name in sonames})
