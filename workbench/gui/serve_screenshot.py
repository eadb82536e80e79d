"""Documentation screenshot of Run › Serve…: `python -m workbench.gui.serve_screenshot docs/`.

serve-panel.png: the panel serving a digits-mlp run trained here for a few epochs (in a
temporary folder), after a handful of predictions (and one malformed request) were sent to it
over HTTP, so that the counts and latency show real traffic. Works under Xvfb or with
QT_QPA_PLATFORM=offscreen; the panel is rendered at its own size.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from workbench.gui.training.screenshots import wait_until

EPOCHS = 5
PREDICTIONS = 24


def make(out: Path) -> Path:
    """Train, serve, send requests, grab the panel; returns the PNG's path."""
    import httpx
    from sklearn.datasets import load_digits

    from workbench.cli import main as cli
    from workbench.gui import theme
    from workbench.gui.app import ensure_app
    from workbench.gui.serve_panel import FAILED, SERVING, ServePanel

    theme.apply_theme(ensure_app(), "light")
    with tempfile.TemporaryDirectory(prefix="workbench-shot-") as work:
        run = Path(work) / "runs" / "digits-mlp"
        if cli(["train", "digits-mlp", "--epochs", str(EPOCHS), "--device", "cpu", "--out", str(run), "--quiet"]):
            raise SystemExit("training failed")
        panel = ServePanel(None)
        panel.add_run_folder(run)
        panel.show()
        panel.start()
        if not wait_until(lambda: panel.server.state in (SERVING, FAILED)) or panel.server.state != SERVING:
            raise SystemExit(f"the server did not start: {panel.server.message}")
        digits = load_digits()
        with httpx.Client(base_url=panel.server.url, timeout=30) as client:
            for image in digits.images[:PREDICTIONS] / 16.0:
                client.post("/predict", json={"instances": [image.tolist()]})
            client.post("/predict", json={"instances": [[0.5] * 8]})  # a wrong shape: counted as an error
        wait_until(lambda: panel.server.totals is not None and panel.server.totals.predictions == PREDICTIONS + 1,
                    10_000)
        path = out / "serve-panel.png"
        for _ in range(4):
            ensure_app().processEvents()
        panel.grab().save(str(path), "PNG")
        panel.server.shutdown()
    print(path)
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="folder to write serve-panel.png into")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    make(args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
