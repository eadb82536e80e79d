"""Fitting a network to its data as edits of the drawing (workbench.fit_to_data), and the
training process telling the app what its run fitted."""

from __future__ import annotations

import io
import json
from pathlib import Path

from workbench.data import DatasetSpec, load_dataset
from workbench.fit_to_data import fit_edits, param_edits
from workbench.presets import load_preset
from workbench.project import project_to_dict


def test_fit_edits_name_each_change_and_leave_the_graph_alone() -> None:
    graph = load_preset("digits-mlp").graph
    before = graph.to_dict()
    edits, words = fit_edits(graph, load_dataset(DatasetSpec("regression")))
    assert graph.to_dict() == before
    digits, output = graph.node_by_name("digits"), graph.node_by_name("output")
    head = graph.node(graph.edge_into(output.id, "in").src)
    assert list(edits) == [digits.id, head.id, output.id]  # in the order of the nodes
    assert edits[digits.id]["kind"] == "vector" and list(edits[digits.id]["shape"]) == [10]
    assert edits[head.id] == {"out_features": 1} and edits[output.id] == {"loss": "mse"}
    assert len(words) == 3 and any("mse" in w for w in words)
    trial = graph.copy()
    for nid, params in edits.items():
        for key, value in params.items():
            trial.set_param(nid, key, value)
    assert param_edits(graph, trial) == edits
    assert fit_edits(trial, load_dataset(DatasetSpec("regression")))[0] == {}


def test_a_fitted_run_reports_its_edits_to_the_app(tmp_path: Path) -> None:
    from workbench.training.child import PROTOCOL, Control, EventPipe, run_job

    project = load_preset("digits-mlp")
    project.dataset = DatasetSpec("spirals")
    project.training = project.training.replace(epochs=1)
    out = io.BytesIO()
    pipe = EventPipe(out)
    job = {"kind": "job", "protocol": PROTOCOL, "project": project_to_dict(project), "run_dir": str(tmp_path / "run"),
           "fit_data": True}
    outcome = run_job(job, pipe, Control(pipe))
    assert outcome["status"] == "finished", outcome
    records = [json.loads(line) for line in out.getvalue().splitlines()]
    prepared = next(r for r in records if r["kind"] == "prepared")
    digits = project.graph.node_by_name("digits")
    head = project.graph.node(project.graph.edge_into(project.graph.node_by_name("output").id, "in").src)
    assert prepared["fitted"] == {digits.id: {"kind": "vector", "shape": [2]}, head.id: {"out_features": 3}}
