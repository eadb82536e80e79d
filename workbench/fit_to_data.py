"""A network that follows its data, as edits of the drawing rather than of a run's copy.

`runs.fit_graph_to_data` makes a graph fit a dataset in place (the Input's kind and shape, the
head's width, the Output's loss, Embedding sizes); a run applies it to its own copy. The editor
needs the same fit as data: which params of which nodes change, so that it can offer them as
one undoable edit when the project's dataset changes, and follow what a run fitted. No Qt here.
"""

from __future__ import annotations

from typing import Any

from workbench.data.bundle import DataBundle
from workbench.graph.document import Graph
from workbench.runs import fit_graph_to_data

ParamEdits = dict[str, dict[str, Any]]  # node id -> {param: new value}


def param_edits(before: Graph, after: Graph) -> ParamEdits:
    """The params that differ between two versions of one graph (nodes matched by id), in the
    order of the nodes and of their params; nodes only one side has are left out."""
    edits: ParamEdits = {}
    for node in after.nodes:
        if not before.has_node(node.id):
            continue
        old = before.node(node.id).params
        changed = {k: v for k, v in node.params.items() if old.get(k) != v}
        if changed:
            edits[node.id] = changed
    return edits


def fit_edits(graph: Graph, bundle: DataBundle) -> tuple[ParamEdits, list[str]]:
    """What fitting `graph` (left unchanged) to `bundle` would change: the param edits, and the
    same in words ("Input 'digits' now takes image 3×32×32")."""
    trial = graph.copy()
    changes = fit_graph_to_data(trial, bundle)
    return param_edits(graph, trial), changes
