"""Level of detail for curves of a million points: growing arrays, min/max pyramids, decimation.

`GrowingArray` holds a column of a run (amortised O(1) appends into a buffer that doubles when
full; `view()` is the filled part, without a copy). A `MinMaxPyramid` over it keeps the minimum
and maximum of every bucket of 8, 16, 32, ... values, extended as the run grows (vectorised,
only over the new points). `decimate` picks from it what a plot `budget` points wide can show of
the index range in view: the exact points when they fit, else one (max, min) pair per bucket, so
a zoomed-out million-step curve is drawn from ~a thousand points without rescanning the million.
No Qt.
"""

from __future__ import annotations

import math

import numpy as np


class GrowingArray:
    """A float64 array that grows by doubling; `view()` is the filled part (no copy).

    `version` changes whenever filled values are rewritten (`set_all`), so that what was derived
    from them (a `MinMaxPyramid`, a plot's level of detail) knows to start over; appending does
    not change it.
    """

    __slots__ = ("_data", "_n", "version")

    def __init__(self, capacity: int = 1024) -> None:
        self._data = np.empty(max(16, capacity), dtype=np.float64)
        self._n = 0
        self.version = 0

    def __len__(self) -> int:
        return self._n

    def append(self, value: float) -> None:
        if self._n == len(self._data):
            grown = np.empty(len(self._data) * 2, dtype=np.float64)
            grown[: self._n] = self._data
            self._data = grown
        self._data[self._n] = value
        self._n += 1

    def view(self) -> np.ndarray:
        return self._data[: self._n]

    def extend(self, values: np.ndarray) -> None:
        """Append many values at once (a run read from disk, benchmarks)."""
        values = np.asarray(values, dtype=np.float64).ravel()
        need = self._n + len(values)
        if need > len(self._data):
            grown = np.empty(max(need, len(self._data) * 2), dtype=np.float64)
            grown[: self._n] = self._data[: self._n]
            self._data = grown
        self._data[self._n:need] = values
        self._n = need

    def set_all(self, values: np.ndarray) -> None:
        """Replace the contents (same length) after a vectorised recomputation."""
        self._data[: self._n] = values
        self.version += 1

    def last(self, default: float = math.nan) -> float:
        return float(self._data[self._n - 1]) if self._n else default


PYRAMID_BASE = 8  # steps in the finest bucket: below that, the exact points are cheap enough


def _finite_or_nan(values: np.ndarray) -> np.ndarray:
    """±inf become NaN, so that min/max buckets skip them like the plot's bounds do."""
    finite = np.isfinite(values)
    return values if finite.all() else np.where(finite, values, np.nan)


class MinMaxPyramid:
    """Minimum and maximum of each bucket of PYRAMID_BASE · 2^level values of a GrowingArray.

    `update()` folds in what was appended since the last call: only the new points at the finest
    level, then only the new pairs at each level above, so keeping it current costs a few numpy
    calls per refresh however long the run is. Non-finite values are skipped (a bucket of only
    NaN is NaN: a gap in the curve). `lo` and `hi` are the finite bounds of all values seen.
    """

    def __init__(self, source: GrowingArray) -> None:
        self.source = source
        self.levels: list[tuple[GrowingArray, GrowingArray]] = []  # (mins, maxs) per level
        self.lo = math.inf
        self.hi = -math.inf
        self._version = source.version
        self._seen = 0

    def bucket(self, level: int) -> int:
        return PYRAMID_BASE << level

    def bounds(self) -> tuple[float, float] | None:
        self.update()
        return (self.lo, self.hi) if self.lo <= self.hi else None

    def update(self) -> None:
        source = self.source
        if source.version != self._version:  # values rewritten (new smoothing): start over
            self.levels.clear()
            self.lo, self.hi = math.inf, -math.inf
            self._seen = 0
            self._version = source.version
        data = source.view()
        n = len(data)
        if n == self._seen:
            return
        new = _finite_or_nan(data[self._seen:])
        lo, hi = float(np.fmin.reduce(new)), float(np.fmax.reduce(new))
        if not math.isnan(lo):
            self.lo, self.hi = min(self.lo, lo), max(self.hi, hi)
        self._seen = n
        if not self.levels:
            self.levels.append((GrowingArray(), GrowingArray()))
        mins, maxs = self.levels[0]
        done, full = len(mins) * PYRAMID_BASE, n - n % PYRAMID_BASE
        if full <= done:
            return
        block = _finite_or_nan(data[done:full]).reshape(-1, PYRAMID_BASE)
        mins.extend(np.fmin.reduce(block, axis=1))
        maxs.extend(np.fmax.reduce(block, axis=1))
        level = 1
        while True:
            below_min, below_max = self.levels[level - 1]
            pairs = len(below_min) // 2
            if pairs == 0:
                return
            if level == len(self.levels):
                self.levels.append((GrowingArray(64), GrowingArray(64)))
            mins, maxs = self.levels[level]
            have = len(mins)
            if pairs == have:  # nothing new at this level, so nothing new above it
                return
            mins.extend(np.fmin.reduce(below_min.view()[2 * have:2 * pairs].reshape(-1, 2), axis=1))
            maxs.extend(np.fmax.reduce(below_max.view()[2 * have:2 * pairs].reshape(-1, 2), axis=1))
            level += 1


def visible_range(x: np.ndarray, n: int, left: float, right: float, x_sorted: bool) -> tuple[int, int]:
    """Indices [i0, i1) of the first n points inside [left, right], plus one either side so that
    the line runs to the plot's edges; all of them when x is not sorted (nothing to search)."""
    if not x_sorted or n == 0 or not (math.isfinite(left) and math.isfinite(right)):
        return 0, n
    head = x[:n]
    i0 = int(np.searchsorted(head, left, "left")) - 1
    i1 = int(np.searchsorted(head, right, "right")) + 1
    return max(0, i0), min(n, max(i1, 0))


def decimate(x: np.ndarray, y: np.ndarray, pyramid: MinMaxPyramid, n: int, i0: int, i1: int,
             budget: int) -> tuple[np.ndarray, np.ndarray, tuple[int, ...]]:
    """What a plot `budget` points wide draws of points [i0, i1) (of the first n): (x, y, key).

    At most `budget` points: the exact ones when they fit (zoomed in), else one (max, min) pair
    per pyramid bucket at the finest level that fits, at the bucket's first and last x, plus the
    newest, not yet complete bucket from the raw values. `key` names the choice: the same key
    means the same points, so the caller can skip an unchanged setData.
    """
    i0, i1 = max(0, i0), min(n, i1)
    count = i1 - i0
    if count <= budget:
        return x[i0:i1], y[i0:i1], (-1, i0, i1)
    pyramid.update()
    level = 0
    while level + 1 < len(pyramid.levels) and 2 * -(-count // pyramid.bucket(level)) > budget:
        level += 1
    if not pyramid.levels:  # cannot happen with budget >= PYRAMID_BASE; exact rather than wrong
        return x[i0:i1], y[i0:i1], (-1, i0, i1)
    size = pyramid.bucket(level)
    mins, maxs = pyramid.levels[level]
    complete = min(len(mins), n // size)
    first, last = min(i0 // size, complete), min(-(-i1 // size), complete)
    starts = np.arange(first, last, dtype=np.int64) * size
    ends = starts + (size - 1)
    lows, highs = mins.view()[first:last], maxs.view()[first:last]
    tail = i1 > complete * size  # the view reaches the points after the last complete bucket
    if tail:
        t0 = max(complete * size, i0)
        rest = _finite_or_nan(y[t0:n])
        starts = np.append(starts, t0)
        ends = np.append(ends, n - 1)
        lows = np.append(lows, np.fmin.reduce(rest))
        highs = np.append(highs, np.fmax.reduce(rest))
    out_x = np.empty(2 * len(starts))
    out_y = np.empty(2 * len(starts))
    out_x[0::2], out_x[1::2] = x[starts], x[ends]
    out_y[0::2], out_y[1::2] = highs, lows
    return out_x, out_y, (level, first, last, n if tail else -1)
