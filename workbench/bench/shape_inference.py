"""Re-validation + shape inference of a 200-node graph: what the editor runs after every edit.

    python -m workbench.bench.shape_inference

The graph is a residual CNN the size of a large drawing: an image Input, a stem (Conv2d,
BatchNorm2d), 27 residual blocks of seven layers (Conv2d, BatchNorm2d, ReLU, Conv2d, BatchNorm2d,
Add with the block's input, ReLU; blocks 9 and 18 halve the resolution with a stride-2
convolution and a 1×1 projection on the skip), then pooling, a two-layer classifier with dropout
and the Output: 200 nodes, 226 edges. The time is
`workbench.graph.analysis.analyze(graph)` (topological order, every problem, every shape),
the median over repeated calls.
"""

from __future__ import annotations

import time

from workbench.bench.common import median, percentile, run_alone
from workbench.graph.analysis import analyze
from workbench.graph.document import Graph


def residual_graph(blocks: int = 27) -> Graph:
    """A valid residual CNN: 9 + 7 * blocks nodes, plus one projection per downsampling block."""
    g = Graph()
    x = g.add_node("Input", params={"kind": "image", "shape": [3, 64, 64]}).id
    x = _chain(g, x, ("Conv2d", {"out_channels": 32, "kernel_size": 3, "padding": 1, "bias": False}), ("BatchNorm2d", {}))
    channels = 32
    for b in range(blocks):
        down = b > 0 and b % 9 == 0
        width = channels * 2 if down else channels
        body = _chain(
            g, x,
            ("Conv2d", {"out_channels": width, "kernel_size": 3, "padding": 1, "stride": 2 if down else 1, "bias": False}),
            ("BatchNorm2d", {}),
            ("ReLU", {}),
            ("Conv2d", {"out_channels": width, "kernel_size": 3, "padding": 1, "bias": False}),
            ("BatchNorm2d", {}),
        )
        skip = x
        if down:  # a 1×1 stride-2 projection keeps the Add's shapes equal
            skip = _chain(g, x, ("Conv2d", {"out_channels": width, "kernel_size": 1, "padding": 0, "stride": 2, "bias": False}))
        add = g.add_node("Add").id
        g.connect(body, add, "in1")
        g.connect(skip, add, "in2")
        x = _chain(g, add, ("ReLU", {}))
        channels = width
    x = _chain(g, x, ("GlobalAvgPool", {}), ("Linear", {"out_features": 128}), ("ReLU", {}), ("Dropout", {}),
               ("Linear", {"out_features": 10}), ("Output", {}))
    return g


def _chain(g: Graph, src: str, *layers: tuple[str, dict]) -> str:
    for type_id, params in layers:
        node = g.add_node(type_id, params=params)
        g.connect(src, node.id)
        src = node.id
    return src


def measure(quick: bool = False, smoke: bool = False) -> dict[str, float]:
    graph = residual_graph()
    first = analyze(graph)
    if not first.ok or len(graph.nodes) != 200:
        raise RuntimeError(f"benchmark graph: {len(graph.nodes)} nodes, problems: {first.errors_text()}")
    for _ in range(5):
        analyze(graph)
    times = []
    for _ in range(10 if smoke else 100 if quick else 500):
        t = time.perf_counter()
        analyze(graph)
        times.append(time.perf_counter() - t)
    return {"shape_inference_ms_200_nodes": median(times) * 1e3,
            "shape_inference_ms_200_nodes_p99": percentile(times, 99) * 1e3}


if __name__ == "__main__":
    run_alone("shape_inference", __doc__.splitlines()[0])
