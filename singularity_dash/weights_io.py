"""Weight files and their metadata: sha256 checksums and safe loading (weights_only)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import torch


class WeightsError(RuntimeError):
    """A weights file is missing, corrupt or does not match its recorded checksum."""


def compute_sha256(path: Path) -> str:
    """Hex sha256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def metadata_path(models_dir: Path, name: str) -> Path:
    """Where the metadata JSON of model `name` lives."""
    return Path(models_dir) / f"{name}.json"


def read_metadata(models_dir: Path, name: str) -> dict:
    """The metadata JSON of model `name`; WeightsError naming the file if absent or unreadable."""
    path = metadata_path(models_dir, name)
    try:
        return json.loads(path.read_text())
    except FileNotFoundError as exc:
        raise WeightsError(f"model metadata {path.name} is missing from {path.parent}") from exc
    except (OSError, ValueError) as exc:
        raise WeightsError(f"model metadata {path.name} is unreadable: {exc}") from exc


def write_metadata(models_dir: Path, name: str, metadata: dict) -> Path:
    """Write model `name`'s metadata JSON (pretty, sorted keys, so diffs stay readable)."""
    path = metadata_path(models_dir, name)
    path.write_text(json.dumps(metadata, indent=2, sort_keys=True) + "\n")
    return path


def save_state(state: dict[str, torch.Tensor], path: Path) -> str:
    """Save a state dict and return the sha256 of the written file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({key: value.detach().cpu().clone() for key, value in state.items()}, path)
    return compute_sha256(path)


def load_verified_state(path: Path, expected_sha256: str) -> dict[str, torch.Tensor]:
    """Load a state dict with weights_only=True after checking its sha256; WeightsError names the file."""
    if not path.exists():
        raise WeightsError(f"weights file {path.name} is missing from {path.parent}")
    actual = compute_sha256(path)
    if actual != expected_sha256:
        raise WeightsError(
            f"weights file {path.name} does not match its recorded sha256 "
            f"(expected {expected_sha256[:12]}..., found {actual[:12]}...): it was changed or truncated"
        )
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises many types for a corrupt archive
        raise WeightsError(f"weights file {path.name} could not be read: {exc}") from exc
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise WeightsError(f"weights file {path.name} does not hold a state dict of tensors")
    return state
