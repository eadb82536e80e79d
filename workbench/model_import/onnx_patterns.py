"""Multi-node ONNX patterns -> one layer record each.

Exporters write some layers as several nodes: MatMul or Conv and then Add (a bias), x·sigmoid(x)
(SiLU), x·hardsigmoid(x) (Hardswish), x·0.5·(1 + erf(x/√2)) (GELU, in the orders exporters
use), mean → 1×1 conv → act → 1×1 conv → gate → Mul (SqueezeExcitation), and a per-channel
scale and shift (BatchNorm2d). `fuse` rewrites
them in place; each rewrite keeps the key of the pattern's last record, so what uses it is
unchanged, and only fuses records nothing else uses.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from workbench.model_import.onnx_ops import OnnxLayer

# Layers a SqueezeExcitation's two activations may be, as its params name them.
_SE_ACTIVATIONS = {"ReLU": "relu", "SiLU": "silu", "GELU": "gelu", "Sigmoid": "sigmoid", "Hardsigmoid": "hardsigmoid",
                   "Hardswish": "hardswish", "Tanh": "tanh"}


def fuse(records: dict[str, OnnxLayer], output: str) -> None:
    """Apply every pattern to `records` (key -> record, in graph order) until none matches."""
    _Fuser(records, output).run()


def close(value: np.ndarray | None, target: float, tol: float = 1e-4) -> bool:
    """True for a one-element constant within `tol` of `target`."""
    return value is not None and value.size == 1 and abs(float(value.reshape(())) - target) <= tol


def _channel_bias(c: np.ndarray, width: int, axis_from_end: int) -> np.ndarray | None:
    """A constant added to every output as one value per channel, or None when it is not one."""
    if c.size == 1:
        return np.full((width,), float(c.reshape(())), dtype=np.float32)
    if c.size == width and c.ndim >= axis_from_end and c.shape[-axis_from_end] == width:
        return c.reshape(width).astype(np.float32)
    return None


def _image_channels(c: np.ndarray) -> int | None:
    """C for a constant shaped (C, 1, 1) or (1, C, 1, 1): one value per channel of an image."""
    shape = c.shape[1:] if c.ndim == 4 and c.shape[0] == 1 else c.shape
    if len(shape) == 3 and shape[1:] == (1, 1) and shape[0] > 1:
        return int(shape[0])
    return None


class _Fuser:
    """Pattern rewrites on the records; each keeps the key of the pattern's last record."""

    def __init__(self, records: dict[str, OnnxLayer], output: str) -> None:
        self.records, self.output = records, output

    def users(self) -> dict[str, list[str]]:
        found: dict[str, list[str]] = {}
        for r in self.records.values():
            for s in r.sources:
                found.setdefault(s, []).append(r.key)
        found.setdefault(self.output, []).append("__output__")
        return found

    def get(self, key: str) -> OnnxLayer | None:
        return self.records.get(key)

    def run(self) -> None:
        for rule in (self._gelu, self._gated_self, self._bias, self._squeeze_excitation, self._channel_affine):
            while rule(self.users()):
                pass

    def _replace(self, final: OnnxLayer, type_id: str, params: dict[str, Any], sources: list[str],
                 absorbed: list[OnnxLayer], tensors: dict[str, np.ndarray] | None = None, hint: str = "") -> None:
        nodes = [nd for r in absorbed for nd in r.nodes] + final.nodes
        for r in absorbed:
            del self.records[r.key]
        final.type_id, final.params, final.sources, final.nodes = type_id, params, sources, nodes
        final.pending, final.const, final.reason = False, None, ""
        final.tensors = tensors if tensors is not None else {}
        final.hint = hint or final.hint

    def _sole(self, users: dict[str, list[str]], key: str) -> OnnxLayer | None:
        """The one record using `key`, when exactly one does (and it is not the graph's output)."""
        found = users.get(key, [])
        return self.get(found[0]) if len(found) == 1 else None

    def _is(self, r: OnnxLayer | None, kind: str, value: float | None = None) -> bool:
        return r is not None and r.pending and r.type_id == kind and (value is None or close(r.const, value))

    def _gelu(self, users: dict[str, list[str]]) -> bool:
        """x · 0.5 · (1 + erf(x / √2)), in the orders exporters write it, -> GELU."""
        for e in list(self.records.values()):
            if not (e.pending and e.type_id == "Erf"):
                continue
            p = self.get(e.sources[0])
            if not self._is(p, "Mul", 1 / math.sqrt(2)) or self._sole(users, p.key) is not e:
                continue
            x = p.sources[0]
            a = self._sole(users, e.key)
            if not self._is(a, "Add", 1.0):
                continue
            m = self._sole(users, a.key)
            if m is None or not m.pending:
                continue
            if self._is(m, "Mul", 0.5):  # (1 + erf) · 0.5, then · x
                y = self._sole(users, m.key)
                if self._is(y, "Mul") and y.const is None and sorted(y.sources) == sorted([m.key, x]):
                    self._replace(y, "GELU", {}, [x], [p, e, a, m])
                    return True
            elif self._is(m, "Mul") and m.const is None and a.key in m.sources:
                other = m.sources[1] if m.sources[0] == a.key else m.sources[0]
                if other == x:  # x · (1 + erf), then · 0.5
                    y = self._sole(users, m.key)
                    if self._is(y, "Mul", 0.5):
                        self._replace(y, "GELU", {}, [x], [p, e, a, m])
                        return True
                h = self.get(other)
                if self._is(h, "Mul", 0.5) and h.sources == [x] and self._sole(users, h.key) is m:  # (x · 0.5) · (1 + erf)
                    self._replace(m, "GELU", {}, [x], [p, e, a, h])
                    return True
        return False

    def _gated_self(self, users: dict[str, list[str]]) -> bool:
        """x · sigmoid(x) -> SiLU, x · hardsigmoid(x) -> Hardswish."""
        for m in list(self.records.values()):
            if not (self._is(m, "Mul") and m.const is None and len(m.sources) == 2):
                continue
            for gate_key, x in (m.sources, m.sources[::-1]):
                g = self.get(gate_key)
                if g is not None and not g.pending and g.type_id in ("Sigmoid", "Hardsigmoid") and g.sources == [x] \
                        and self._sole(users, g.key) is m:
                    self._replace(m, "SiLU" if g.type_id == "Sigmoid" else "Hardswish", {}, [x], [g])
                    return True
        return False

    def _bias(self, users: dict[str, list[str]]) -> bool:
        """Linear / convolution followed by the addition of a per-output constant -> its bias."""
        for r in list(self.records.values()):
            if not (self._is(r, "Add") and r.const is not None):
                continue
            s = self.get(r.sources[0])
            if s is None or s.pending or s.type_id not in ("Linear", "Conv2d", "Conv1d", "ConvTranspose2d") \
                    or self._sole(users, s.key) is not r:
                continue
            width = int(s.params["out_features" if s.type_id == "Linear" else "out_channels"])
            # the channel axis, counted from the end: (…, out) for a Linear, (C, L) and (C, H, W) for convolutions
            add = _channel_bias(r.const, width, {"Linear": 1, "Conv1d": 2}.get(s.type_id, 3))
            if add is None:
                continue
            tensors = dict(s.tensors)
            tensors["bias"] = tensors.get("bias", np.zeros(width, dtype=np.float32)) + add
            self._replace(r, s.type_id, {**s.params, "bias": True}, s.sources, [s], tensors, s.hint)
            return True
        return False

    def _channel_affine(self, users: dict[str, list[str]]) -> bool:
        """x · scale + shift with one value per image channel (a BatchNorm an exporter folded, as in
        pre-activation networks) -> BatchNorm2d with mean 0 and variance 1."""
        for r in list(self.records.values()):
            if not (r.pending and r.type_id in ("Mul", "Add") and r.const is not None):
                continue
            width = _image_channels(r.const)
            if width is None:
                continue
            scale = r.const.reshape(width) if r.type_id == "Mul" else np.ones(width, dtype=np.float32)
            shift = r.const.reshape(width) if r.type_id == "Add" else np.zeros(width, dtype=np.float32)
            final, absorbed = r, []
            after = self._sole(users, r.key)
            if r.type_id == "Mul" and self._is(after, "Add") and after.const is not None \
                    and _image_channels(after.const) == width:
                final, absorbed, shift = after, [r], after.const.reshape(width)
            tensors = {"weight": scale.astype(np.float32), "bias": shift.astype(np.float32),
                       "running_mean": np.zeros(width, dtype=np.float32), "running_var": np.ones(width, dtype=np.float32),
                       "num_batches_tracked": np.zeros((), dtype=np.int64)}
            # the smallest eps the layer takes: sqrt(1 + eps) is 1 in float32, so the layer is exactly x · scale + shift
            self._replace(final, "BatchNorm2d", {"momentum": 0.1, "eps": 1e-12}, list(r.sources), absorbed, tensors)
            return True
        return False

    def _squeeze_excitation(self, users: dict[str, list[str]]) -> bool:
        """x · gate(conv1×1(act(conv1×1(mean(x))))) -> SqueezeExcitation."""
        for m in list(self.records.values()):
            if not (self._is(m, "Mul") and m.const is None and len(m.sources) == 2):
                continue
            for gate_key, x in (m.sources, m.sources[::-1]):
                chain = self._se_chain(users, gate_key, m)
                if chain is None or chain[-1].sources != [x]:
                    continue
                g, c2, act, c1, pool = chain
                tensors = {}
                for prefix, conv in (("fc1", c1), ("fc2", c2)):
                    width = int(conv.params["out_channels"])
                    tensors[f"{prefix}.weight"] = conv.tensors["weight"]
                    tensors[f"{prefix}.bias"] = conv.tensors.get("bias", np.zeros(width, dtype=np.float32))
                params = {"squeeze_channels": int(c1.params["out_channels"]), "activation": _SE_ACTIVATIONS[act.type_id],
                          "scale_activation": _SE_ACTIVATIONS[g.type_id]}
                hint = c1.hint.rsplit(".", 1)[0] if "." in c1.hint else ""
                self._replace(m, "SqueezeExcitation", params, [x], list(chain), tensors, hint)
                return True
        return False

    def _se_chain(self, users: dict[str, list[str]], gate_key: str, m: OnnxLayer) -> list[OnnxLayer] | None:
        g = self.get(gate_key)
        if g is None or g.pending or g.type_id not in _SE_ACTIVATIONS or self._sole(users, g.key) is not m:
            return None
        chain = [g]
        for want in ("conv", "act", "conv", "pool"):
            prev = chain[-1]
            r = self.get(prev.sources[0]) if len(prev.sources) == 1 else None
            if r is None or r.pending or self._sole(users, r.key) is not prev:
                return None
            p = r.params
            ok = {
                "conv": r.type_id == "Conv2d" and (p["kernel_size"], p["stride"], p["padding"], p["groups"], p["dilation"]) == (1, 1, 0, 1, 1),
                "act": r.type_id in _SE_ACTIVATIONS,
                "pool": r.type_id == "AdaptiveAvgPool2d" and p["output_size"] == 1,
            }[want]
            if not ok:
                return None
            chain.append(r)
        return chain
