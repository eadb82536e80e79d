"""The models one can start a project from, with what a listing shows: size, accuracy, weights on disk.

Everything comes from torchvision's weights metadata and torch's hub cache: no model is built and
nothing is downloaded, so the listing is quick and works offline.
"""

from __future__ import annotations

from dataclasses import dataclass

from workbench.model_import.torchvision_models import SUPPORTED_MODELS
from workbench.model_import.weights import cached_file, published_weights


@dataclass(frozen=True)
class GalleryEntry:
    """One importable model and its published (DEFAULT) weights."""

    name: str  # torchvision's name, e.g. "resnet18"
    parameters: int
    weights: str  # the DEFAULT weights' name, e.g. "IMAGENET1K_V1"
    download_mb: float  # size of the weights file
    cached: bool  # the weights file is in torch's hub cache: no download needed
    classes: int  # outputs of the published head
    top1: float | None  # ImageNet-1K top-1 accuracy (%) of the published weights

    def describe(self) -> str:
        """One line for a listing: parameters, accuracy, where the weights would come from."""
        accuracy = f", {self.top1:.1f} % top-1" if self.top1 is not None else ""
        source = "weights cached" if self.cached else f"weights: {self.download_mb:.0f} MB download"
        return f"{self.name} — {self.parameters / 1e6:.1f} M parameters{accuracy}, {source}"


def gallery() -> list[GalleryEntry]:
    """Every tested model (SUPPORTED_MODELS), in that order."""
    entries = []
    for name in SUPPORTED_MODELS:
        weights = published_weights(name)
        meta = weights.meta
        top1 = meta.get("_metrics", {}).get("ImageNet-1K", {}).get("acc@1")
        entries.append(GalleryEntry(
            name=name, parameters=int(meta["num_params"]), weights=weights.name,
            download_mb=float(meta.get("_file_size", 0.0)), cached=cached_file(weights).exists(),
            classes=len(meta.get("categories", ())), top1=float(top1) if top1 is not None else None,
        ))
    return entries
