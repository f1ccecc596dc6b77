"""The training CLI reproduces the committed models' recipe and writes verifiable metadata."""

import json
import subprocess
import sys

import pytest

from singularity_dash.service import ModelService
from singularity_dash.weights_io import compute_sha256


def run_cli(*args):
    return subprocess.run(
        [sys.executable, "-m", "singularity_dash.train", *args], capture_output=True, text=True, timeout=600
    )


def test_xor_cli_trains_a_network_that_gets_every_row_right(tmp_path):
    result = run_cli("xor", "--models-dir", str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert "all four rows correct with margin: True" in result.stdout
    meta = json.loads((tmp_path / "xor.json").read_text())
    assert meta["weights"]["sha256"] == compute_sha256(tmp_path / "xor.pt")
    assert meta["training"]["seed"] == 3
    trained = ModelService(tmp_path, names=["xor"])
    assert [trained.forward("xor", x).prediction for x in ([0, 0], [0, 1], [1, 0], [1, 1])] == [0, 1, 1, 0]


def test_xor_cli_is_reproducible(tmp_path):
    for folder in ("a", "b"):
        assert run_cli("xor", "--models-dir", str(tmp_path / folder)).returncode == 0
    assert compute_sha256(tmp_path / "a" / "xor.pt") == compute_sha256(tmp_path / "b" / "xor.pt")


@pytest.mark.slow
def test_mnist_cli_one_epoch_reports_accuracy_and_checkpoints(tmp_path, data_dir):
    result = run_cli("mnist", "--data-dir", str(data_dir), "--epochs", "1", "--models-dir", str(tmp_path))
    assert result.returncode == 0, result.stderr
    last_line = result.stdout.strip().splitlines()[-1]
    assert last_line.startswith("mnist test accuracy: ")
    accuracy = float(last_line.split(":")[1].split()[0])
    meta = json.loads((tmp_path / "mnist.json").read_text())
    assert meta["metrics"]["test_accuracy"] == pytest.approx(accuracy, abs=1e-4)
    assert accuracy > 0.9  # one epoch already learns most digits
    assert meta["checkpoints"][0]["step"] == 0 and meta["checkpoints"][-1]["file"] == "mnist.pt"
    service = ModelService(tmp_path, names=["mnist"])  # every checksum verifies
    assert len(service.checkpoints("mnist")) == len(meta["checkpoints"])


def test_mnist_cli_without_data_explains_how_to_get_it(tmp_path):
    result = run_cli("mnist", "--data-dir", str(tmp_path / "empty"), "--models-dir", str(tmp_path))
    assert result.returncode != 0
    assert "--download" in result.stderr
