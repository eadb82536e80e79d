"""Test set-up shared by the whole suite.

Qt must run offscreen here (no display): the platform is set before any QApplication exists,
and plainly assigned, because an empty inherited value would survive `setdefault`.
"""

from __future__ import annotations

import os

os.environ["QT_QPA_PLATFORM"] = "offscreen"
