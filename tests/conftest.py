"""Test set-up shared by the whole suite.

Qt must run offscreen here (no display): the platform is set before any QApplication exists,
and plainly assigned, because an empty inherited value would survive `setdefault`.
"""

from __future__ import annotations

import os

import pytest

os.environ["QT_QPA_PLATFORM"] = "offscreen"

from hypothesis import HealthCheck, Phase, settings  # noqa: E402

# Property tests (hypothesis): a bounded run by default, so that the whole property suite adds
# well under a minute on a 2-core machine, and a deep one on request (see the README):
#   python -m pytest -o faulthandler_timeout=0 --hypothesis-profile=long tests/graph ...
# No deadline: on a shared machine one example's time says nothing about the code. No explain
# phase: it imports libcst and re-runs failures, seconds that a shrunk example already saves.
_COMMON = {
    "deadline": None,
    "suppress_health_check": [HealthCheck.too_slow],
    "phases": [Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink],
}
settings.register_profile("bounded", max_examples=150, **_COMMON)
settings.register_profile("long", max_examples=10_000, **_COMMON)
settings.load_profile("bounded")  # --hypothesis-profile, applied after this file, overrides it


# The slowest end-to-end cases (whole trainings in child processes, several processes sharing a
# study, a browser, the benchmark smoke run) are marked `slow`: the README's test command skips
# them so that it stays within five minutes on two cores, and CI runs them in a second step:
#   WORKBENCH_SLOW_TESTS=1 python -m pytest -q -m slow
SLOW_TESTS = "WORKBENCH_SLOW_TESTS"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", f"slow: a long end-to-end case, run when {SLOW_TESTS}=1 (CI does)")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if os.environ.get(SLOW_TESTS) == "1":
        return
    skip = pytest.mark.skip(reason=f"a long end-to-end case: set {SLOW_TESTS}=1 to run it (CI does)")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)
