"""The torch modules behind layer types that torch.nn has no ready class for.

This file imports torch only: the code exporter copies these classes verbatim into the
standalone model file it writes, so that file runs without Workbench installed.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn


class Add(nn.Module):
    """Element-wise sum of all inputs (residual connections)."""

    def forward(self, *xs: torch.Tensor) -> torch.Tensor:
        out = xs[0]
        for x in xs[1:]:
            out = out + x
        return out


class Concat(nn.Module):
    """Concatenation of all inputs along one per-sample axis."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.dim = dim  # counts the batch axis

    def forward(self, *xs: torch.Tensor) -> torch.Tensor:
        return torch.cat(xs, dim=self.dim)


class Reshape(nn.Module):
    """Reshape each sample, keeping the batch axis."""

    def __init__(self, shape: tuple[int, ...]) -> None:
        super().__init__()
        self.shape = tuple(shape)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.reshape(x.shape[0], *self.shape)


class Permute(nn.Module):
    """Reorder the per-sample axes (the batch axis stays first)."""

    def __init__(self, dims: tuple[int, ...]) -> None:
        super().__init__()
        self.dims = (0, *(d + 1 for d in dims))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.permute(*self.dims)


class Transpose(nn.Module):
    """Swap two per-sample axes."""

    def __init__(self, dim0: int, dim1: int) -> None:
        super().__init__()
        self.dim0, self.dim1 = dim0 + 1, dim1 + 1

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.transpose(self.dim0, self.dim1)


class GlobalAvgPool(nn.Module):
    """Average over all spatial positions: (B, C, H, W) -> (B, C)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.mean(dim=(2, 3))


class SinusoidalPositionalEncoding(nn.Module):
    """Adds the fixed sine/cosine position signal of 'Attention Is All You Need'."""

    def __init__(self, max_len: int, dim: int) -> None:
        super().__init__()
        position = torch.arange(max_len).unsqueeze(1)
        div = torch.exp(torch.arange(0, dim, 2) * (-math.log(10000.0) / dim))
        pe = torch.zeros(max_len, dim)
        pe[:, 0::2] = torch.sin(position * div)
        pe[:, 1::2] = torch.cos(position * div)[:, : dim // 2]
        self.register_buffer("pe", pe, persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # x: (B, T, C)
        return x + self.pe[: x.shape[1]]


class LearnedPositionalEmbedding(nn.Module):
    """Adds a trained vector per position."""

    def __init__(self, max_len: int, dim: int) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.randn(max_len, dim) * 0.02)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # x: (B, T, C)
        return x + self.weight[: x.shape[1]]


class PatchEmbedding(nn.Module):
    """Cuts an image into patches and projects each to a token (ViT), optional CLS token."""

    def __init__(self, in_channels: int, patch_size: int, dim: int, cls_token: bool) -> None:
        super().__init__()
        self.proj = nn.Conv2d(in_channels, dim, kernel_size=patch_size, stride=patch_size)
        self.cls = nn.Parameter(torch.zeros(1, 1, dim)) if cls_token else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.proj(x)  # (B, C, H/p, W/p)
        x = x.flatten(2).transpose(1, 2)  # (B, N, C)
        if self.cls is not None:
            x = torch.cat([self.cls.expand(x.shape[0], -1, -1), x], dim=1)  # (B, 1+N, C)
        return x


class SelfAttention(nn.Module):
    """Multi-head self-attention over a sequence, optionally causal (each token sees its past)."""

    def __init__(self, dim: int, heads: int, causal: bool, dropout: float) -> None:
        super().__init__()
        self.heads = heads
        self.causal = causal
        self.dropout = dropout
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        B, T, C = x.shape
        q, k, v = self.qkv(x).split(C, dim=2)  # each (B, T, C)
        q = q.view(B, T, self.heads, C // self.heads).transpose(1, 2)  # (B, h, T, C/h)
        k = k.view(B, T, self.heads, C // self.heads).transpose(1, 2)
        v = v.view(B, T, self.heads, C // self.heads).transpose(1, 2)
        p = self.dropout if self.training else 0.0
        y = F.scaled_dot_product_attention(q, k, v, dropout_p=p, is_causal=self.causal)  # (B, h, T, C/h)
        y = y.transpose(1, 2).reshape(B, T, C)
        return self.proj(y)


class TransformerBlock(nn.Module):
    """Pre-norm Transformer block: x + attn(norm(x)), then x + mlp(norm(x))."""

    def __init__(self, dim: int, heads: int, mlp_ratio: float, dropout: float, causal: bool) -> None:
        super().__init__()
        hidden = int(dim * mlp_ratio)
        self.norm1 = nn.LayerNorm(dim)
        self.attn = SelfAttention(dim, heads, causal, dropout)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = nn.Sequential(nn.Linear(dim, hidden), nn.GELU(), nn.Linear(hidden, dim), nn.Dropout(dropout))
        self.drop = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # x: (B, T, C)
        x = x + self.drop(self.attn(self.norm1(x)))
        return x + self.mlp(self.norm2(x))


class CrossAttention(nn.Module):
    """Multi-head attention from one sequence to another: queries from the first input, keys and
    values from the second (a decoder reading its encoder's output). With `memory_ids`, memory
    positions holding the padding id `pad_id` are not attended to."""

    def __init__(self, dim: int, heads: int, dropout: float, pad_id: int = 0) -> None:
        super().__init__()
        self.heads = heads
        self.dropout = dropout
        self.pad_id = pad_id
        self.q = nn.Linear(dim, dim)
        self.kv = nn.Linear(dim, 2 * dim)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x: torch.Tensor, memory: torch.Tensor, memory_ids: torch.Tensor | None = None) -> torch.Tensor:
        B, T, C = x.shape
        S = memory.shape[1]
        q = self.q(x).view(B, T, self.heads, C // self.heads).transpose(1, 2)  # (B, h, T, C/h)
        k, v = self.kv(memory).split(C, dim=2)  # each (B, S, C)
        k = k.view(B, S, self.heads, C // self.heads).transpose(1, 2)  # (B, h, S, C/h)
        v = v.view(B, S, self.heads, C // self.heads).transpose(1, 2)
        mask = None
        if memory_ids is not None:
            keep = memory_ids != self.pad_id  # (B, S), True where a real token is
            # a memory of padding only would leave nothing to attend to (NaN): attend to all of it
            keep = keep | ~keep.any(dim=1, keepdim=True)
            mask = keep[:, None, None, :]  # (B, 1, 1, S)
        p = self.dropout if self.training else 0.0
        y = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=p)  # (B, h, T, C/h)
        y = y.transpose(1, 2).reshape(B, T, C)
        return self.proj(y)


class TransformerDecoderBlock(nn.Module):
    """Pre-norm Transformer decoder block: causal self-attention, then cross-attention to the
    encoder's output (memory), then an MLP, each added to the stream (a residual)."""

    def __init__(self, dim: int, heads: int, mlp_ratio: float, dropout: float, pad_id: int = 0) -> None:
        super().__init__()
        hidden = int(dim * mlp_ratio)
        self.norm1 = nn.LayerNorm(dim)
        self.self_attn = SelfAttention(dim, heads, True, dropout)
        self.norm2 = nn.LayerNorm(dim)
        self.cross_attn = CrossAttention(dim, heads, dropout, pad_id)
        self.norm3 = nn.LayerNorm(dim)
        self.mlp = nn.Sequential(nn.Linear(dim, hidden), nn.GELU(), nn.Linear(hidden, dim), nn.Dropout(dropout))
        self.drop = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor, memory: torch.Tensor, memory_ids: torch.Tensor | None = None) -> torch.Tensor:
        # x: (B, T, C) the target so far; memory: (B, S, C) the encoder's output
        x = x + self.drop(self.self_attn(self.norm1(x)))
        x = x + self.drop(self.cross_attn(self.norm2(x), memory, memory_ids))
        return x + self.mlp(self.norm3(x))


class Recurrent(nn.Module):
    """An RNN, LSTM or GRU over a sequence (batch first) that returns every step's output or,
    with output="last", the last layer's final hidden state (both directions, concatenated)."""

    def __init__(self, cell: str, input_size: int, hidden_size: int, num_layers: int = 1,
                 bidirectional: bool = False, dropout: float = 0.0, output: str = "sequence",
                 nonlinearity: str = "tanh", forget_bias: float = 0.0) -> None:
        super().__init__()
        kwargs = {"nonlinearity": nonlinearity} if cell == "rnn" else {}
        rnn = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}[cell]
        # torch applies dropout between stacked layers only (and warns when there are none)
        self.rnn = rnn(input_size, hidden_size, num_layers, batch_first=True, bidirectional=bidirectional,
                       dropout=dropout if num_layers > 1 else 0.0, **kwargs)
        if cell == "lstm" and forget_bias:
            # An LSTM whose forget gates start half shut forgets its first steps within a few
            # more and learns long memories slowly; a bias of 1 starts them open (Jozefowicz et
            # al. 2015, Keras's unit_forget_bias). Gates are stacked i, f, g, o: f is the 2nd quarter.
            with torch.no_grad():
                for name, p in self.rnn.named_parameters():
                    if name.startswith("bias_ih"):
                        p[hidden_size:2 * hidden_size] = forget_bias
                    elif name.startswith("bias_hh"):
                        p[hidden_size:2 * hidden_size] = 0.0
        self.is_lstm = cell == "lstm"
        self.directions = 2 if bidirectional else 1
        self.output = output

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # x: (B, T, F)
        y, state = self.rnn(x)  # y: (B, T, D*H); the hidden state: (layers*D, B, H)
        if self.output == "sequence":
            return y
        h = state[0] if self.is_lstm else state  # an LSTM's state is (hidden, cell)
        return torch.cat(list(h[-self.directions:]), dim=-1)  # (B, D*H): the last layer's directions


class SequencePool(nn.Module):
    """Turns a sequence into one vector: the mean, the first (CLS) or the last token."""

    def __init__(self, mode: str) -> None:
        super().__init__()
        self.mode = mode

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # x: (B, T, C) -> (B, C)
        if self.mode == "mean":
            return x.mean(dim=1)
        if self.mode == "cls":
            return x[:, 0]
        return x[:, -1]


class SqueezeExcitation(nn.Module):
    """Squeeze-and-excitation (torchvision.ops.SqueezeExcitation): rescale each channel by a gate
    computed from the whole image. Submodule names match torchvision's, so its weights load as is."""

    def __init__(self, channels: int, squeeze_channels: int, activation: str, scale_activation: str) -> None:
        super().__init__()
        # kept inside the class: the code exporter copies classes, not module-level names
        acts = {"relu": nn.ReLU, "silu": nn.SiLU, "gelu": nn.GELU, "sigmoid": nn.Sigmoid,
                "hardsigmoid": nn.Hardsigmoid, "hardswish": nn.Hardswish, "tanh": nn.Tanh}
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc1 = nn.Conv2d(channels, squeeze_channels, 1)
        self.fc2 = nn.Conv2d(squeeze_channels, channels, 1)
        self.activation = acts[activation]()
        self.scale_activation = acts[scale_activation]()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # x: (B, C, H, W); the gate is (B, C, 1, 1)
        scale = self.scale_activation(self.fc2(self.activation(self.fc1(self.avgpool(x)))))
        return scale * x


class StochasticDepth(nn.Module):
    """Drops a residual branch at random while training (torchvision.ops.StochasticDepth);
    the identity in eval mode. "row" drops per sample, "batch" the whole batch at once."""

    def __init__(self, p: float, mode: str) -> None:
        super().__init__()
        self.p, self.mode = p, mode

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0.0:
            return x
        survival = 1.0 - self.p
        shape = [x.shape[0]] + [1] * (x.ndim - 1) if self.mode == "row" else [1] * x.ndim
        keep = torch.empty(shape, dtype=x.dtype, device=x.device).bernoulli_(survival)
        if survival > 0.0:
            keep = keep / survival
        return x * keep


class LayerNorm2d(nn.LayerNorm):
    """LayerNorm over the channels of each pixel of an image (ConvNeXt): (B, C, H, W) in and out."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.permute(0, 2, 3, 1)  # (B, H, W, C)
        x = F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)
        return x.permute(0, 3, 1, 2)  # (B, C, H, W)


class ConvNeXtBlock(nn.Module):
    """ConvNeXt block (torchvision's CNBlock): depthwise 7×7 conv, LayerNorm, MLP ×4 with GELU, a learnt
    per-channel scale, stochastic depth, plus the input. Tensor names match torchvision's."""

    def __init__(self, dim: int, layer_scale: float, stochastic_depth: float, eps: float) -> None:
        super().__init__()
        self.block = nn.Sequential(
            nn.Conv2d(dim, dim, kernel_size=7, padding=3, groups=dim, bias=True),
            Permute((1, 2, 0)),  # (B, H, W, C): the norm and the MLP work on each pixel's channels
            nn.LayerNorm(dim, eps=eps),
            nn.Linear(dim, 4 * dim),
            nn.GELU(),
            nn.Linear(4 * dim, dim),
            Permute((2, 0, 1)),  # back to (B, C, H, W)
        )
        self.layer_scale = nn.Parameter(torch.ones(dim, 1, 1) * layer_scale)
        self.stochastic_depth = StochasticDepth(stochastic_depth, "row")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.stochastic_depth(self.layer_scale * self.block(x))
