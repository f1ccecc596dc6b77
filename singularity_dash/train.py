"""Training CLI: `python -m singularity_dash.train xor|mnist` writes models/<name>.pt and its metadata JSON."""

from __future__ import annotations

import argparse
import math
import platform
import random
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from .config import DEFAULT_MODELS_DIR
from .nets import REGISTRY, build_model
from .weights_io import save_state, write_metadata

XOR_INPUTS = [[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]]
XOR_TARGETS = [0.0, 1.0, 1.0, 0.0]


def seed_everything(seed: int) -> None:
    """Fix every random source training touches, so a run can be repeated exactly."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(True, warn_only=True)


def train_xor(models_dir: Path, seed: int = 3, steps: int = 3000, lr: float = 0.05) -> dict:
    """Full-batch Adam on the four XOR rows until every row is right by a margin."""
    seed_everything(seed)
    spec = REGISTRY["xor"]
    model = build_model(spec)
    inputs = torch.tensor(XOR_INPUTS)
    targets = torch.tensor(XOR_TARGETS).unsqueeze(1)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    for _ in range(steps):
        optimizer.zero_grad()
        loss = F.binary_cross_entropy_with_logits(model(inputs), targets)
        loss.backward()
        optimizer.step()
    with torch.no_grad():
        outputs = torch.sigmoid(model(inputs)).squeeze(1).tolist()
    margin_ok = all((o < 0.1) if t == 0 else (o > 0.9) for o, t in zip(outputs, XOR_TARGETS))
    sha = save_state(model.state_dict(), models_dir / "xor.pt")
    metadata = {
        "name": "xor",
        "architecture": _architecture(spec),
        "weights": {"file": "xor.pt", "sha256": sha},
        "training": {"optimizer": "Adam", "lr": lr, "steps": steps, "loss": "binary cross-entropy", "seed": seed},
        "metrics": {
            "final_loss": round(loss.item(), 6),
            "outputs": {f"{int(x1)}{int(x2)}": round(o, 6) for (x1, x2), o in zip(XOR_INPUTS, outputs)},
            "all_rows_correct_with_margin": margin_ok,
        },
        "checkpoints": [],
        "environment": _environment(),
    }
    write_metadata(models_dir, "xor", metadata)
    print(f"xor outputs {[round(o, 4) for o in outputs]}; all four rows correct with margin: {margin_ok}")
    return metadata


def _load_mnist_tensors(data_dir: Path, download: bool) -> tuple[torch.Tensor, ...]:
    """MNIST train and test sets as float tensors in [0, 1] (n, 784) and label tensors, via torchvision."""
    from torchvision.datasets import MNIST  # training-only dependency

    try:
        train = MNIST(root=str(data_dir), train=True, download=download)
        test = MNIST(root=str(data_dir), train=False, download=download)
    except RuntimeError as exc:
        sys.exit(f"MNIST not found under {data_dir}/MNIST/raw ({exc}); pass --download to fetch it")

    def as_inputs(dataset) -> torch.Tensor:
        return dataset.data.reshape(len(dataset.data), -1).float() / 255.0

    return as_inputs(train), train.targets.clone(), as_inputs(test), test.targets.clone()


def augment(images: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Small random rotations, scalings and shifts, so drawn and photographed digits are recognised too."""
    count = images.shape[0]
    angle = (torch.rand(count, generator=generator) - 0.5) * math.radians(24)
    scale = 1.0 + (torch.rand(count, generator=generator) - 0.5) * 0.2
    shift = (torch.rand(count, 2, generator=generator) - 0.5) * (4.0 / 14.0)  # +-2 px
    cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale
    theta = torch.stack([torch.stack([cos, -sin, shift[:, 0]], 1), torch.stack([sin, cos, shift[:, 1]], 1)], 1)
    grid = F.affine_grid(theta, (count, 1, 28, 28), align_corners=False)
    warped = F.grid_sample(images.view(count, 1, 28, 28), grid, align_corners=False, padding_mode="zeros")
    return warped.view(count, 784)


@torch.no_grad()
def evaluate(model: torch.nn.Module, inputs: torch.Tensor, labels: torch.Tensor) -> float:
    """Accuracy on the whole of `inputs`."""
    model.eval()
    correct = sum(
        int((model(inputs[i : i + 2000]).argmax(1) == labels[i : i + 2000]).sum()) for i in range(0, len(inputs), 2000)
    )
    model.train()
    return correct / len(inputs)


def train_mnist(
    models_dir: Path, data_dir: Path, epochs: int = 15, seed: int = 0, download: bool = False, batch_size: int = 128
) -> dict:
    """Adam with cosine decay and light augmentation; checkpoints from the random init to the final weights."""
    from tqdm import tqdm  # training-only dependency

    seed_everything(seed)
    spec = REGISTRY["mnist"]
    train_x, train_y, test_x, test_y = _load_mnist_tensors(data_dir, download)
    model = build_model(spec)
    optimizer = torch.optim.Adam(model.parameters(), lr=2e-3)
    steps_per_epoch = math.ceil(len(train_x) / batch_size)
    total_steps = epochs * steps_per_epoch
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=2e-3, total_steps=total_steps)
    generator = torch.Generator().manual_seed(seed)
    # Early checkpoints are close together: that is where the first-layer templates emerge from noise.
    checkpoint_steps = {0: "random init", 30: "after 30 batches", 200: "after 200 batches",
                        steps_per_epoch: "after 1 epoch", 4 * steps_per_epoch: "after 4 epochs"}
    checkpoints = []
    checkpoint_dir = models_dir / "mnist-checkpoints"

    def record(step: int, label: str) -> None:
        accuracy = evaluate(model, test_x, test_y)
        name = f"{len(checkpoints):02d}-step{step:06d}.pt"
        sha = save_state(model.state_dict(), checkpoint_dir / name)
        checkpoints.append({"id": f"c{len(checkpoints)}", "label": label, "step": step,
                            "epoch": round(step / steps_per_epoch, 3), "test_accuracy": accuracy,
                            "file": f"mnist-checkpoints/{name}", "sha256": sha})

    started = time.time()
    step = 0
    record(0, checkpoint_steps[0])
    for epoch in range(epochs):
        order = torch.randperm(len(train_x), generator=generator)
        progress = tqdm(range(steps_per_epoch), desc=f"epoch {epoch + 1}/{epochs}", unit="batch", file=sys.stdout)
        for batch in progress:
            index = order[batch * batch_size : (batch + 1) * batch_size]
            inputs = augment(train_x[index], generator)
            loss = F.cross_entropy(model(inputs), train_y[index])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            scheduler.step()
            step += 1
            if step in checkpoint_steps and step < total_steps:
                record(step, checkpoint_steps[step])
            if batch % 50 == 0:
                progress.set_postfix(loss=f"{float(loss):.3f}")
    record(step, "final")
    accuracy = checkpoints[-1]["test_accuracy"]
    sha = save_state(model.state_dict(), models_dir / "mnist.pt")
    checkpoints[-1]["file"], checkpoints[-1]["sha256"] = "mnist.pt", sha
    (checkpoint_dir / f"{len(checkpoints) - 1:02d}-step{step:06d}.pt").unlink()  # the final one is mnist.pt
    metadata = {
        "name": "mnist",
        "architecture": _architecture(spec),
        "weights": {"file": "mnist.pt", "sha256": sha},
        "training": {
            "optimizer": "Adam + one-cycle schedule", "max_lr": 2e-3, "epochs": epochs, "batch_size": batch_size,
            "loss": "cross-entropy", "seed": seed, "input": "pixels / 255, no normalisation",
            "augmentation": "random rotation +-12 deg, scale +-10%, shift +-2 px",
            "seconds": round(time.time() - started, 1),
        },
        "metrics": {"test_accuracy": accuracy, "test_set_size": len(test_x)},
        "checkpoints": checkpoints,
        "environment": _environment(),
    }
    write_metadata(models_dir, "mnist", metadata)
    print(f"mnist test accuracy: {accuracy:.4f} on {len(test_x)} test images")
    return metadata


def _architecture(spec) -> dict:
    return {"layer_sizes": list(spec.layer_sizes), "hidden_activation": spec.hidden_activation,
            "output_activation": spec.output_activation, "parameters": spec.parameter_count}


def _environment() -> dict:
    return {"torch": torch.__version__, "python": platform.python_version()}


def main(argv: list[str] | None = None) -> None:
    """Parse the command line and train the chosen model."""
    parser = argparse.ArgumentParser(prog="python -m singularity_dash.train", description=__doc__)
    sub = parser.add_subparsers(dest="model", required=True)
    xor = sub.add_parser("xor", help="train the 2-2-1 XOR network")
    xor.add_argument("--seed", type=int, default=3)
    mnist = sub.add_parser("mnist", help="train the 784-128-64-10 MNIST classifier")
    mnist.add_argument("--data-dir", type=Path, required=True, help="folder holding MNIST/raw (torchvision layout)")
    mnist.add_argument("--epochs", type=int, default=15)
    mnist.add_argument("--seed", type=int, default=0)
    mnist.add_argument("--download", action="store_true", help="download MNIST into --data-dir if absent")
    for command in (xor, mnist):
        command.add_argument("--models-dir", type=Path, default=DEFAULT_MODELS_DIR)
    args = parser.parse_args(argv)
    torch.set_num_threads(max(1, torch.get_num_threads()))
    args.models_dir.mkdir(parents=True, exist_ok=True)
    if args.model == "xor":
        train_xor(args.models_dir, seed=args.seed)
    else:
        train_mnist(args.models_dir, args.data_dir, epochs=args.epochs, seed=args.seed, download=args.download)


if __name__ == "__main__":
    main()
