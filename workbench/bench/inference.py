"""Inference latency of exported models: onnxruntime vs PyTorch eager, int8 vs fp32.

    python -m workbench.bench.inference [--quick]

- `onnx_vs_torch_latency_ratio_batch1`: the digits-cnn preset's network, one sample per call;
  onnxruntime (fp32, the file `export_onnx` writes) ÷ PyTorch eager (`model.eval()` under
  `torch.inference_mode()`).
- `int8_vs_fp32_latency_ratio`: the digits-mlp preset's network, one sample per call;
  onnxruntime on the int8-dynamic file (`quantize_int8_dynamic`, per-tensor weight scales) ÷ on
  the fp32 file. `..._batch256` is the same at 256 samples per call, where the int8 matrix
  products have enough work to win back the cost of quantizing the activations on the fly.

Both sides of a ratio run with the same thread count (torch's intra-op threads = onnxruntime's
intra-op threads), are warmed up, and alternate in blocks of calls; each call is timed on its own
and the ratio is of the medians. Latency does not depend on the weights, so the networks are
built from the presets untrained.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import torch

from workbench.bench.common import median, run_alone
from workbench.graph.builder import GraphModule, build_model
from workbench.presets import load_preset


def _model(preset: str) -> GraphModule:
    model = build_model(load_preset(preset).graph, seed=0)
    model.eval()
    return model


def _latencies(fn: Callable[[], object], calls: int) -> list[float]:
    out = []
    perf_counter = time.perf_counter
    for _ in range(calls):
        t = perf_counter()
        fn()
        out.append(perf_counter() - t)
    return out


def latency_ratio(a: Callable[[], object], b: Callable[[], object], calls: int, blocks: int = 6) -> tuple[float, float]:
    """(median seconds per call of a, of b), from alternating blocks after a warm-up of each."""
    _latencies(a, max(20, calls // 10))
    _latencies(b, max(20, calls // 10))
    per_block = max(1, calls // blocks)
    xs: list[float] = []
    ys: list[float] = []
    for i in range(blocks):
        if i % 2 == 0:
            xs += _latencies(a, per_block)
            ys += _latencies(b, per_block)
        else:
            ys += _latencies(b, per_block)
            xs += _latencies(a, per_block)
    return median(xs), median(ys)


def onnx_vs_torch(calls: int, tmp: Path) -> dict[str, float]:
    from workbench.export import OnnxRunner, export_onnx

    model = _model("digits-cnn")
    path = tmp / "cnn.onnx"
    export_onnx(model, path, model.example_input(2))
    runner = OnnxRunner(path, threads=torch.get_num_threads())
    x = model.example_input(1)
    x_np = x.numpy()

    def eager() -> object:
        with torch.inference_mode():
            return model(x)

    ort_s, torch_s = latency_ratio(lambda: runner(x_np), eager, calls)
    return {"onnx_vs_torch_latency_ratio_batch1": ort_s / torch_s,
            "onnx_latency_ms_batch1_cnn": ort_s * 1e3, "torch_latency_ms_batch1_cnn": torch_s * 1e3}


def int8_vs_fp32(calls: int, tmp: Path) -> dict[str, float]:
    from workbench.export import OnnxRunner, export_onnx, quantize_int8_dynamic

    model = _model("digits-mlp")
    fp32 = tmp / "mlp.onnx"
    export_onnx(model, fp32, model.example_input(2))
    int8 = quantize_int8_dynamic(fp32, tmp / "mlp.int8.onnx", per_channel=False).path
    threads = torch.get_num_threads()
    run_fp32, run_int8 = OnnxRunner(fp32, threads=threads), OnnxRunner(int8, threads=threads)
    out: dict[str, float] = {}
    for batch, key in ((1, ""), (256, "_batch256")):
        x = model.example_input(batch).numpy()
        n = calls if batch == 1 else max(60, calls // 10)
        i8, f32 = latency_ratio(lambda: run_int8(x), lambda: run_fp32(x), n)
        out[f"int8_vs_fp32_latency_ratio{key}"] = i8 / f32
        out[f"int8_latency_ms{key or '_batch1'}_mlp"] = i8 * 1e3
        out[f"fp32_latency_ms{key or '_batch1'}_mlp"] = f32 * 1e3
    out["int8_size_ratio_mlp"] = int8.stat().st_size / fp32.stat().st_size
    return out


def measure(quick: bool = False, smoke: bool = False) -> dict[str, float]:
    calls = 60 if smoke else 600 if quick else 3000
    with tempfile.TemporaryDirectory(prefix="wb-bench-") as tmp:
        out = onnx_vs_torch(calls, Path(tmp))
        out.update(int8_vs_fp32(calls, Path(tmp)))
    return out


if __name__ == "__main__":
    run_alone("inference", __doc__.splitlines()[0])
