"""The recorded parameter counts of the bundled presets match the built networks."""

from __future__ import annotations

from pathlib import Path

from workbench.preset_counts import COUNTS
from workbench.presets import (built_parameter_count, load_preset, network_fingerprint, parameter_count,
                               preset_paths, write_preset_counts)


def test_every_preset_has_its_true_count_recorded() -> None:
    """Fails when a preset's network changed: regenerate with `python -m workbench.preset_counts`."""
    for path in preset_paths():
        graph = load_preset(path.stem).graph
        key = network_fingerprint(graph)
        assert key in COUNTS, f"{path.stem}: no recorded count; run python -m workbench.preset_counts"
        assert COUNTS[key] == built_parameter_count(graph), path.stem


def test_fingerprint_ignores_layout_and_names_but_not_params() -> None:
    graph = load_preset("digits-mlp").graph
    before = network_fingerprint(graph)
    node = graph.node_by_name("fc1")
    node.position = (999.0, -5.0)
    node.name = "first"
    assert network_fingerprint(graph) == before
    node.params["out_features"] = 100
    assert network_fingerprint(graph) != before
    assert parameter_count(graph) == built_parameter_count(graph) == 17226 - 28 * 65 - 28 * 64


def test_writing_the_table_keeps_the_module_around_it(tmp_path: Path) -> None:
    import workbench.preset_counts as module

    copy = tmp_path / "preset_counts.py"
    original = Path(module.__file__).read_text(encoding="utf-8")
    copy.write_text(original.replace('": ', '": 1 + '), encoding="utf-8")
    write_preset_counts(copy)
    assert copy.read_text(encoding="utf-8") == original
