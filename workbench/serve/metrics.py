"""Prometheus-style counters and histograms for `/metrics`, without a client library."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass

LATENCY_BUCKETS_S = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256)


class Histogram:
    """Cumulative buckets, a sum and a count, as Prometheus exposes them."""

    def __init__(self, buckets: Sequence[float]) -> None:
        self.buckets = tuple(buckets)
        self.counts = [0] * (len(self.buckets) + 1)
        self.sum = 0.0
        self.count = 0
        self.max = 0.0

    def observe(self, value: float) -> None:
        """Count one observation."""
        for i, bound in enumerate(self.buckets):
            if value <= bound:
                self.counts[i] += 1
                break
        else:
            self.counts[-1] += 1
        self.sum += value
        self.count += 1
        self.max = max(self.max, value)

    def lines(self, name: str, labels: str = "") -> list[str]:
        """The exposition lines of this histogram."""
        out, running = [], 0
        sep = "," if labels else ""
        for bound, n in zip((*self.buckets, float("inf")), self.counts):
            running += n
            le = "+Inf" if bound == float("inf") else f"{bound:g}"
            out.append(f'{name}_bucket{{{labels}{sep}le="{le}"}} {running}')
        tail = f"{{{labels}}}" if labels else ""
        out += [f"{name}_sum{tail} {self.sum:.6g}", f"{name}_count{tail} {self.count}"]
        return out


class Metrics:
    """Requests by path and status, errors, latency and batch sizes; safe across threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.requests: dict[tuple[str, int], int] = {}
        self.latency = Histogram(LATENCY_BUCKETS_S)
        self.batch_size = Histogram(BATCH_BUCKETS)

    def request(self, path: str, status: int, seconds: float) -> None:
        """Count one answered request."""
        with self._lock:
            self.requests[(path, status)] = self.requests.get((path, status), 0) + 1
            if path == "/predict":
                self.latency.observe(seconds)

    def batch(self, size: int) -> None:
        """Count one model call of `size` samples."""
        with self._lock:
            self.batch_size.observe(size)

    def render(self) -> str:
        """The text exposition format."""
        with self._lock:
            lines = ["# HELP workbench_requests_total Requests answered, by path and status.",
                     "# TYPE workbench_requests_total counter"]
            lines += [f'workbench_requests_total{{path="{p}",status="{s}"}} {n}'
                      for (p, s), n in sorted(self.requests.items())]
            errors = sum(n for (_, s), n in self.requests.items() if s >= 400)
            lines += ["# HELP workbench_request_errors_total Requests answered with a 4xx or 5xx status.",
                      "# TYPE workbench_request_errors_total counter", f"workbench_request_errors_total {errors}",
                      "# HELP workbench_predict_latency_seconds Time from receiving a /predict request to its answer.",
                      "# TYPE workbench_predict_latency_seconds histogram",
                      *self.latency.lines("workbench_predict_latency_seconds"),
                      "# HELP workbench_batch_size Samples per model call.",
                      "# TYPE workbench_batch_size histogram",
                      *self.batch_size.lines("workbench_batch_size"),
                      "# HELP workbench_batch_size_max Largest batch run so far.",
                      "# TYPE workbench_batch_size_max gauge",
                      f"workbench_batch_size_max {int(self.batch_size.max)}"]
        return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class Totals:
    """What a watcher of the server needs from `/metrics`: predictions, errors and latency."""

    requests: int  # every request answered, /metrics included
    predictions: int  # /predict requests answered
    errors: int  # requests answered with a 4xx or 5xx
    latency_sum_s: float  # the /predict latencies added up

    @property
    def mean_latency_ms(self) -> float | None:
        """Mean /predict latency so far; None before the first prediction."""
        return 1000.0 * self.latency_sum_s / self.predictions if self.predictions else None


def read_totals(text: str) -> Totals:
    """The totals in a `/metrics` text as `Metrics.render` writes it (unknown lines are ignored)."""
    requests = predictions = errors = 0
    latency = 0.0
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        name, _, value = line.rpartition(" ")
        try:
            number = float(value)
        except ValueError:
            continue
        if name.startswith("workbench_requests_total{"):
            requests += int(number)
        elif name == "workbench_request_errors_total":
            errors = int(number)
        elif name == "workbench_predict_latency_seconds_count":
            predictions = int(number)
        elif name == "workbench_predict_latency_seconds_sum":
            latency = number
    return Totals(requests, predictions, errors, latency)
