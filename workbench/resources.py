"""Files that ship inside the package: the presets and the assets (icons, translations, corpus).

In the repository they stay in the top-level `presets/` and `assets/` folders; setup.py maps
those folders to the packages `workbench._presets` and `workbench._assets`, so an editable
install and a built wheel find them the same way, through `importlib.resources`.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from workbench.errors import WorkbenchError

PRESETS_PACKAGE = "workbench._presets"
ASSETS_PACKAGE = "workbench._assets"


def _package_dir(package: str) -> Path:
    try:
        root = files(package)
    except ModuleNotFoundError:
        raise WorkbenchError(
            f"this installation of Workbench lacks its bundled files ({package}); "
            "reinstall it with pip (`pip install workbench` or `pip install -e .` in a clone)"
        ) from None
    if not isinstance(root, Path):  # e.g. imported from a zip file: Qt and our readers need real files
        raise WorkbenchError(f"Workbench's bundled files ({package}) are not on the file system ({root}); "
                             "install the package with pip rather than running it from an archive")
    return root


def presets_dir() -> Path:
    """The folder of bundled preset projects (`*.json`)."""
    return _package_dir(PRESETS_PACKAGE)


def asset_path(*parts: str) -> Path:
    """A bundled asset, e.g. `asset_path("icons", "train.svg")` (it may not exist: callers check)."""
    return _package_dir(ASSETS_PACKAGE).joinpath(*parts)
