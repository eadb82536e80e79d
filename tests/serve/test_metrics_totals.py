"""`read_totals` reads back what `Metrics.render` writes: the app's Serve panel shows these numbers."""

from __future__ import annotations

import pytest

from workbench.serve.metrics import Metrics, Totals, read_totals


def test_totals_of_a_rendered_metrics_text() -> None:
    metrics = Metrics()
    metrics.request("/predict", 200, 0.004)
    metrics.request("/predict", 200, 0.006)
    metrics.request("/predict", 422, 0.002)
    metrics.request("/metrics", 200, 0.001)
    metrics.request("other", 404, 0.001)
    metrics.batch(2)
    totals = read_totals(metrics.render())
    assert (totals.requests, totals.predictions, totals.errors) == (5, 3, 2)
    assert totals.latency_sum_s == pytest.approx(0.012)
    assert totals.mean_latency_ms == pytest.approx(4.0)


def test_an_empty_or_foreign_text_reads_as_nothing_yet() -> None:
    assert read_totals(Metrics().render()) == Totals(0, 0, 0, 0.0)
    assert read_totals(Metrics().render()).mean_latency_ms is None
    assert read_totals("<html>not metrics</html>\nfoo bar\n") == Totals(0, 0, 0, 0.0)
