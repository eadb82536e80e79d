"""The recorded parameter counts of the bundled presets match the built networks."""

from __future__ import annotations

import importlib.util
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
    head, tail = original.split("COUNTS: dict[str, int] = {")[0], original.split("}  # end of COUNTS")[1]
    copy.write_text(head + 'COUNTS: dict[str, int] = {\n    "stale": 1,\n}  # end of COUNTS' + tail, encoding="utf-8")
    write_preset_counts(copy)
    text = copy.read_text(encoding="utf-8")
    assert text.startswith(head) and text.endswith("}  # end of COUNTS" + tail) and "stale" not in text
    spec = importlib.util.spec_from_file_location("written_counts", copy)
    written = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(written)
    expected = {network_fingerprint(load_preset(p.stem).graph): built_parameter_count(load_preset(p.stem).graph)
                for p in preset_paths()}
    assert written.COUNTS == expected
