"""Turning `DatasetSpec.path` into a real file, relative to the project file's folder."""

from __future__ import annotations

from pathlib import Path

from workbench.data.bundle import DatasetSpec
from workbench.errors import DataError


def resolve_path(spec: DatasetSpec, base_dir: Path | None, kind: str = "file") -> Path:
    """The absolute path of `spec.path`; relative paths are taken from `base_dir` (or the
    working directory when no project folder is known). Raises if it does not exist."""
    if not spec.path:
        raise DataError(
            f"choose your {data_to_choose(spec) or 'data file'}: data source '{spec.source}' reads a {kind} "
            f"and the project names none yet; set the dataset's path to it"
        )
    return resolve_file(spec.path, base_dir, f"data source '{spec.source}'", kind)


def data_to_choose(spec: DatasetSpec) -> str | None:
    """What the user still has to choose before `spec` can load ("image folder" or "data file"),
    or None when it names its data (a built-in set, or a reader with a path). An imported
    pretrained model's project reads images and names no folder until the user picks one."""
    from workbench.data.loading import READER_NAMES  # loading imports this module

    if spec.path or spec.source not in READER_NAMES:
        return None
    return "image folder" if spec.source == "images" else "data file"


def resolve_file(path: str | Path, base_dir: Path | None, what: str, kind: str = "file") -> Path:
    """Resolve any user path (the main one or one named in an option) the same way."""
    p = Path(path).expanduser()
    if not p.is_absolute():
        p = (base_dir if base_dir is not None else Path.cwd()) / p
    if not p.exists():
        relative = base_dir is not None and not Path(path).expanduser().is_absolute()
        where = f" (looked relative to {base_dir})" if relative else ""
        raise DataError(f"{what}: {kind} not found: {p}{where}; check the path")
    if kind == "folder" and not p.is_dir():
        raise DataError(f"{what}: {p} is a file, but a folder is expected")
    if kind == "file" and p.is_dir():
        raise DataError(f"{what}: {p} is a folder, but a file is expected")
    return p


def read_bytes(path: Path) -> bytes:
    """Read a user file whole; OS errors become a DataError naming it."""
    try:
        return path.read_bytes()
    except OSError as exc:
        raise DataError(f"cannot read {path}: {exc.strerror or exc}") from exc
