"""Images per second and memory of the image pipeline, beside torchvision's plain ImageFolder.

    python -m workbench.bench.data_loading [--quick]

- `data_loading_ratio`: one epoch over a generated folder of 10,000 small RGB JPEGs (ten class
  folders): Workbench's reader (`load_dataset`, images read and decoded per item, cache off)
  ÷ `torchvision.datasets.ImageFolder` with the same transforms (random flip, to float,
  normalise), both through a `DataLoader` with the same batch size and worker count. Images per
  second; rounds alternate the two sides and the ratio is the median of each round's pair.
- `data_memory_growth`: peak resident memory (the main process plus its largest worker) while a
  fresh process loads and iterates one epoch of 50,000 such JPEGs, ÷ the same for 5,000. The
  dataset holds file names, not pixels, so it should stay near 1.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from workbench.bench.common import alternate, median, paired_ratio, run_alone

WORKERS = 2
BATCH = 128
SIZE = 32
MEAN, STD = [0.5, 0.5, 0.5], [0.25, 0.25, 0.25]


def write_jpegs(root: Path, count: int, seed: int = 0) -> Path:
    """`count` random SIZE×SIZE RGB JPEGs in ten class folders (smooth noise: JPEG-like content)."""
    from PIL import Image

    rng = np.random.default_rng(seed)
    base = rng.integers(0, 256, size=(64, 8, 8, 3), dtype=np.uint8)
    for c in range(10):
        (root / f"class{c}").mkdir(parents=True, exist_ok=True)
    for i in range(count):
        small = Image.fromarray(base[i % 64] ^ np.uint8(i % 251))
        small.resize((SIZE, SIZE), Image.BILINEAR).save(root / f"class{i % 10}" / f"{i:06d}.jpg", quality=85)
    return root


def _workbench_loader(root: Path):  # noqa: ANN202
    from torch.utils.data import DataLoader

    from workbench.data import DatasetSpec, load_dataset

    options = {"cache": False, "transforms": [{"type": "horizontal_flip"},
                                              {"type": "normalize", "mean": MEAN, "std": STD}]}
    bundle = load_dataset(DatasetSpec("images", str(root), options, val_fraction=0.01))
    return DataLoader(bundle.train, batch_size=BATCH, shuffle=True, num_workers=WORKERS,
                      persistent_workers=True), len(bundle.train)


def _torchvision_loader(root: Path, count: int):  # noqa: ANN202
    import torch
    from torch.utils.data import DataLoader, Subset
    from torchvision.datasets import ImageFolder
    from torchvision.transforms import v2

    transform = v2.Compose([v2.PILToTensor(), v2.RandomHorizontalFlip(), v2.ToDtype(torch.float32, scale=True),
                            v2.Normalize(MEAN, STD)])
    dataset = Subset(ImageFolder(str(root), transform=transform), range(count))  # as many items as ours
    return DataLoader(dataset, batch_size=BATCH, shuffle=True, num_workers=WORKERS, persistent_workers=True)


def _epoch_rate(loader) -> float:  # noqa: ANN001
    start = time.perf_counter()
    n = 0
    for x, _ in loader:
        n += len(x)
    return n / (time.perf_counter() - start)


def loading_ratio(count: int, rounds: int, tmp: Path) -> dict[str, float]:
    root = write_jpegs(tmp / "jpegs", count)
    ours, items = _workbench_loader(root)
    plain = _torchvision_loader(root, items)
    _epoch_rate(ours), _epoch_rate(plain)  # start the workers and warm the file cache
    xs, ys = alternate(lambda: _epoch_rate(ours), lambda: _epoch_rate(plain), rounds)
    return {"data_loading_ratio": paired_ratio(xs, ys), "data_images_per_s": median(xs),
            "data_images_per_s_torchvision": median(ys)}


CHILD = r"""
import json, resource, sys
from torch.utils.data import DataLoader
from workbench.data import DatasetSpec, load_dataset
bundle = load_dataset(DatasetSpec("images", sys.argv[1], {"cache": False}, val_fraction=0.01))
loader = DataLoader(bundle.train, batch_size=%d, shuffle=True, num_workers=%d)
n = sum(len(x) for x, _ in loader)
own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
workers = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print("WORKBENCH_MEMORY " + json.dumps({"images": n, "peak_kb": own + workers}))
""" % (BATCH, WORKERS)


def _peak_kb(root: Path) -> float:
    proc = subprocess.run([sys.executable, "-c", CHILD, str(root)], capture_output=True, text=True, timeout=900)
    line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("WORKBENCH_MEMORY ")), None)
    if line is None:
        raise RuntimeError(f"the memory probe failed (exit {proc.returncode}): {proc.stderr.strip()[-300:]}")
    return float(json.loads(line.split(" ", 1)[1])["peak_kb"])


def memory_growth(small: int, large: int, tmp: Path) -> dict[str, float]:
    small_root = write_jpegs(tmp / "small", small)
    large_root = write_jpegs(tmp / "large", large)
    small_kb, large_kb = _peak_kb(small_root), _peak_kb(large_root)
    return {"data_memory_growth": large_kb / small_kb, "data_peak_mb_small": small_kb / 1024,
            "data_peak_mb_large": large_kb / 1024}


def measure(quick: bool = False, smoke: bool = False) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        results = loading_ratio(300 if smoke else 10_000, 1 if smoke else 3 if quick else 5, Path(tmp))
        results.update(memory_growth(50 if smoke else 5_000, 200 if smoke else 50_000, Path(tmp)))
    return results


if __name__ == "__main__":
    run_alone("data_loading", __doc__.splitlines()[0])
