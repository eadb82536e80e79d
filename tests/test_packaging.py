"""What an installation holds: the declared dependencies, the pinned versions, the bundled files.

A built wheel is checked end to end by `.ci/wheel-check` (install into a fresh environment, run
the commands from outside the repository); these tests check the declarations it relies on.
"""

from __future__ import annotations

import importlib.metadata
from pathlib import Path

from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.version import Version

from workbench.presets import list_presets
from workbench.resources import asset_path, presets_dir

REPO = Path(__file__).resolve().parents[1]


def requirements() -> list[Requirement]:
    """Every declared requirement, the test extra's included, with its marker."""
    return [Requirement(text) for text in importlib.metadata.requires("workbench") or []]


def applies(requirement: Requirement, python: str) -> bool:
    if requirement.marker is None:
        return True
    environment = {**default_environment(), "python_version": python}
    return any(requirement.marker.evaluate({**environment, "extra": extra}) for extra in ("", "test"))


def allowed(name: str, version: str, python: str) -> bool:
    """Whether pip may install `name==version` for workbench[test] on Python `python`."""
    rules = [r for r in requirements() if r.name.lower() == name.lower() and applies(r, python)]
    assert rules, f"{name} is not a dependency for Python {python}"
    return all(Version(version) in r.specifier for r in rules)


def pins() -> dict[str, str]:
    out = {}
    for line in (REPO / "constraints.txt").read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, version = line.split("==")
            out[name.strip().lower()] = version.strip()
    return out


def test_the_pyside6_release_that_loses_references_is_excluded_where_it_breaks() -> None:
    assert not allowed("PySide6-Essentials", "6.12.0", "3.11")
    assert not allowed("PySide6-Essentials", "6.12.0", "3.10")
    assert allowed("PySide6-Essentials", "6.12.0", "3.12")  # immortal None/True: unaffected
    assert allowed("PySide6-Essentials", "6.11.3", "3.11")


def test_constraints_pin_every_direct_dependency_to_an_allowed_version() -> None:
    pinned = pins()
    direct = {r.name.lower() for r in requirements()}
    assert direct <= set(pinned), f"not pinned in constraints.txt: {sorted(direct - set(pinned))}"
    for name in direct:
        assert allowed(name, pinned[name], "3.11"), f"constraints.txt pins {name}=={pinned[name]}, outside its range"


def test_presets_and_assets_are_package_data() -> None:
    names = {info.name for info in list_presets(parameters=False)}
    assert {"digits-mlp", "digits-cnn", "tiny-gpt"} <= names
    assert presets_dir().joinpath("digits-cnn.json").is_file()
    assert asset_path("icons", "train.svg").is_file()
    assert asset_path("i18n", "workbench_zh_CN.qm").is_file()
    assert asset_path("text", "python_stdlib.txt").stat().st_size > 1_000_000
