"""A damaged models folder stops the Procfile's web process at start-up, with the bad file named in its log.

Each test copies the committed models to a temporary folder, damages one file, points
SINGULARITY_MODELS_DIR at it and runs the `web:` line exactly as the platform would.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from pathlib import Path

import pytest
import requests
import torch

from tests.live_server import PROJECT_ROOT, start_process, stop_process, wait_for_http
from tests.redis_server import free_port

pytestmark = pytest.mark.slow
START_TIMEOUT = 60  # seconds for gunicorn to load torch and the models (or to give up)


@pytest.fixture
def models_copy(tmp_path) -> Path:
    """A private copy of the committed models folder."""
    target = tmp_path / "models"
    shutil.copytree(PROJECT_ROOT / "models", target)
    return target


def run_web(models_dir: Path, log_path: Path) -> tuple[int | None, str, int]:
    """Start the web line on a free port; (exit code or None if still running, log text, port)."""
    port = free_port()
    process = start_process("web", {"PORT": str(port), "WEB_CONCURRENCY": "2",
                                    "SINGULARITY_MODELS_DIR": str(models_dir)}, log_path)
    try:
        code = process.wait(timeout=START_TIMEOUT)
    except subprocess.TimeoutExpired:
        code = None
    finally:
        stop_process(process)
    return code, log_path.read_text(errors="replace"), port


def assert_refused(models_dir: Path, tmp_path: Path, file_name: str) -> str:
    code, log, port = run_web(models_dir, tmp_path / "web.log")
    assert code is not None, f"the web process kept running with a damaged {file_name}:\n{log[-2000:]}"
    assert code != 0, log[-2000:]
    assert file_name in log, f"the log does not name {file_name}:\n{log[-2000:]}"
    assert "Booting worker" not in log  # the check runs before any worker serves a request
    with pytest.raises(requests.ConnectionError):
        requests.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
    return log


def write_sha(models_dir: Path, model: str, file_path: Path) -> None:
    """Record a file's real sha256 in the metadata, as a careless (or hostile) edit would."""
    meta_path = models_dir / f"{model}.json"
    meta = json.loads(meta_path.read_text())
    digest = hashlib.sha256(file_path.read_bytes()).hexdigest()
    relative = file_path.relative_to(models_dir).as_posix()
    if meta["weights"]["file"] == relative:
        meta["weights"]["sha256"] = digest
    for checkpoint in meta.get("checkpoints", []):
        if checkpoint["file"] == relative:
            checkpoint["sha256"] = digest
    meta_path.write_text(json.dumps(meta))


def test_intact_copy_starts_and_serves(models_copy, tmp_path):
    """Control: the copy itself is fine, so the failures below come from the damage alone."""
    port = free_port()
    process = start_process("web", {"PORT": str(port), "WEB_CONCURRENCY": "1",
                                    "SINGULARITY_MODELS_DIR": str(models_copy)}, tmp_path / "ok.log")
    try:
        wait_for_http(f"http://127.0.0.1:{port}/healthz", process, timeout=START_TIMEOUT)
        response = requests.post(f"http://127.0.0.1:{port}/api/models/xor/forward", json={"input": [1, 0]}, timeout=10)
        assert response.status_code == 200 and response.json()["prediction"] == 1
    finally:
        stop_process(process)


def test_one_flipped_byte_in_the_weights_stops_startup(models_copy, tmp_path):
    path = models_copy / "xor.pt"
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    log = assert_refused(models_copy, tmp_path, "xor.pt")
    assert "sha256" in log


def test_truncated_checkpoint_stops_startup(models_copy, tmp_path):
    path = models_copy / "mnist-checkpoints" / "02-step000200.pt"
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    assert_refused(models_copy, tmp_path, "02-step000200.pt")


def test_truncated_checkpoint_with_matching_checksum_stops_startup(models_copy, tmp_path):
    """Even when the metadata was updated to the truncated file's hash, the archive cannot be read."""
    path = models_copy / "mnist-checkpoints" / "03-step000469.pt"
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    write_sha(models_copy, "mnist", path)
    log = assert_refused(models_copy, tmp_path, "03-step000469.pt")
    assert "could not be read" in log


def test_missing_weights_file_stops_startup(models_copy, tmp_path):
    (models_copy / "mnist.pt").unlink()
    log = assert_refused(models_copy, tmp_path, "mnist.pt")
    assert "missing" in log


class _Payload:
    """Pickles to a call that creates a marker file: what a malicious weights file would do."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


def test_pickle_payload_with_matching_checksum_is_never_executed(models_copy, tmp_path):
    """weights_only loading refuses arbitrary objects: the payload's code must not run."""
    marker = tmp_path / "payload-ran"
    path = models_copy / "xor.pt"
    state = torch.load(PROJECT_ROOT / "models" / "xor.pt", weights_only=True)
    torch.save({**state, "extra": _Payload(marker)}, path)
    write_sha(models_copy, "xor", path)
    # Sanity check of the payload itself: an unsafe load does run it.
    torch.load(path, weights_only=False)
    assert marker.exists()
    marker.unlink()
    assert_refused(models_copy, tmp_path, "xor.pt")
    assert not marker.exists(), "loading the weights executed code from the file"
