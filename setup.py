"""Packages for setuptools; everything else is declared in pyproject.toml.

The repository keeps its presets and assets in top-level folders, where contributors look for
them; they are installed inside the package (`workbench._presets`, `workbench._assets`) so
that a built wheel is as complete as a clone and both are read through importlib.resources.
"""

from setuptools import find_packages, setup

setup(
    packages=[*find_packages(include=["workbench", "workbench.*"]), "workbench._presets", "workbench._assets"],
    package_dir={"workbench._presets": "presets", "workbench._assets": "assets"},
)
