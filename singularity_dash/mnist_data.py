"""Read the MNIST IDX files with numpy, so the web process needs no torchvision."""

from __future__ import annotations

import gzip
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

IMAGE_MAGIC = 2051
LABEL_MAGIC = 2049
SPLIT_FILES = {
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
}


class DataMissing(FileNotFoundError):
    """The configured data directory does not hold the MNIST files."""


@dataclass(frozen=True)
class DigitSet:
    """Images (n, 28, 28) uint8, white ink on black, and their labels (n,)."""

    images: np.ndarray
    labels: np.ndarray

    def __len__(self) -> int:
        return int(self.labels.shape[0])

    def pixels(self, index: int) -> np.ndarray:
        """Digit `index` as 784 floats in [0, 1], the model's input."""
        return self.images[index].reshape(-1).astype(np.float32) / 255.0


def _read_idx(path: Path, magic: int) -> np.ndarray:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as handle:
        raw = handle.read()
    found = int.from_bytes(raw[0:4], "big")
    if found != magic:
        raise DataMissing(f"{path.name} is not an MNIST IDX file (magic {found}, expected {magic})")
    count = int.from_bytes(raw[4:8], "big")
    if magic == IMAGE_MAGIC:
        rows, cols = int.from_bytes(raw[8:12], "big"), int.from_bytes(raw[12:16], "big")
        return np.frombuffer(raw, dtype=np.uint8, offset=16).reshape(count, rows, cols)
    return np.frombuffer(raw, dtype=np.uint8, offset=8).reshape(count)


def _find(raw_dir: Path, name: str) -> Path:
    for candidate in (raw_dir / name, raw_dir / f"{name}.gz"):
        if candidate.exists():
            return candidate
    raise DataMissing(f"{name} not found in {raw_dir}")


@lru_cache(maxsize=4)
def load_digits(data_dir: str | Path, split: str = "test") -> DigitSet:
    """The MNIST split under `data_dir` (torchvision layout: <data_dir>/MNIST/raw/), read once per process."""
    raw_dir = Path(data_dir) / "MNIST" / "raw"
    image_name, label_name = SPLIT_FILES[split]
    images = _read_idx(_find(raw_dir, image_name), IMAGE_MAGIC)
    labels = _read_idx(_find(raw_dir, label_name), LABEL_MAGIC)
    if len(images) != len(labels):
        raise DataMissing(f"MNIST {split} images and labels disagree in count in {raw_dir}")
    return DigitSet(images=images, labels=labels)
