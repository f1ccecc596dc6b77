"""Train a 2-H-1 network on a truth table with plain numpy, and rebuild / export what it learned.

Everything here is pure: the same config gives the same run (the seed fixes the initial weights),
and results are plain numbers that fit in a browser Store.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field

import numpy as np

from singularity_dash.errors import InputError
from singularity_dash.trace import LayerTrace, Trace

INPUTS = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
TRUTH_TABLES = {
    "XOR": (0, 1, 1, 0),
    "AND": (0, 0, 0, 1),
    "OR": (0, 1, 1, 1),
    "XNOR": (1, 0, 0, 1),
}
HIDDEN_SIZES = (2, 3, 4, 8)
HIDDEN_ACTIVATIONS = ("tanh", "sigmoid", "relu")
MAX_EPOCHS = 20000
SNAPSHOT_COUNT = 41  # weight snapshots kept over a run (epoch 0 included)
EXPORT_FORMAT = "singularity-xor/1"


@dataclass(frozen=True)
class TrainingConfig:
    """What to train: hidden size and activation, learning rate, epochs, seed and the 4 targets."""

    hidden_size: int = 2
    activation: str = "tanh"
    lr: float = 0.5
    epochs: int = 2000
    seed: int = 0
    targets: tuple[int, int, int, int] = TRUTH_TABLES["XOR"]

    def validated(self) -> "TrainingConfig":
        """This config with clean types, or InputError naming the bad setting and its limits."""
        try:
            hidden, epochs, seed, lr = int(self.hidden_size), int(self.epochs), int(self.seed), float(self.lr)
            targets = tuple(int(t) for t in self.targets)
        except (TypeError, ValueError) as exc:
            raise InputError(f"training settings must be numbers: {exc}") from None
        if hidden not in HIDDEN_SIZES:
            raise InputError(f"hidden size must be one of {HIDDEN_SIZES}, got {hidden}")
        if self.activation not in HIDDEN_ACTIVATIONS:
            raise InputError(f"activation must be one of {HIDDEN_ACTIVATIONS}, got {self.activation!r}")
        if not (np.isfinite(lr) and 0 < lr <= 10):
            raise InputError(f"learning rate must be in (0, 10], got {lr}")
        if not 1 <= epochs <= MAX_EPOCHS:
            raise InputError(f"epochs must be between 1 and {MAX_EPOCHS}, got {epochs}")
        if not 0 <= seed < 2**32:
            raise InputError(f"seed must be between 0 and {2**32 - 1}, got {seed}")
        if len(targets) != 4 or any(t not in (0, 1) for t in targets):
            raise InputError(f"targets must be four 0/1 values for (0,0), (0,1), (1,0), (1,1), got {self.targets!r}")
        return TrainingConfig(hidden, self.activation, lr, epochs, seed, targets)  # type: ignore[arg-type]


@dataclass(frozen=True)
class Snapshot:
    """The weights at one epoch (before that epoch's update) and the loss they give."""

    epoch: int
    loss: float
    weights: tuple[np.ndarray, np.ndarray]  # (H, 2), (1, H)
    biases: tuple[np.ndarray, np.ndarray]  # (H,), (1,)


@dataclass
class TrainingResult:
    """A finished (or partial) run: the config, the loss of every epoch, and the snapshots."""

    config: TrainingConfig
    losses: list[float] = field(default_factory=list)
    snapshots: list[Snapshot] = field(default_factory=list)

    @property
    def epochs_done(self) -> int:
        """How many epochs (updates) have run."""
        return len(self.losses)


# --- the network -------------------------------------------------------------------------------


def apply_activation(name: str, z: np.ndarray) -> np.ndarray:
    """tanh, sigmoid (overflow-safe) or ReLU applied element-wise."""
    z = np.asarray(z, dtype=float)
    if name == "tanh":
        return np.tanh(z)
    if name == "sigmoid":
        return 0.5 * (1.0 + np.tanh(0.5 * z))  # same as 1/(1+e^-z), never overflows
    if name == "relu":
        return np.maximum(z, 0.0)
    raise InputError(f"unknown activation {name!r}; use one of {HIDDEN_ACTIVATIONS}")


def _activation_slope(name: str, z: np.ndarray, a: np.ndarray) -> np.ndarray:
    """d a / d z of the hidden activation, from z and a."""
    if name == "tanh":
        return 1.0 - a * a
    if name == "sigmoid":
        return a * (1.0 - a)
    return (z > 0).astype(float)


def compute_initial_params(hidden_size: int, seed: int) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Glorot-uniform weights and small random biases, fixed by the seed (so "replay" starts identically)."""
    rng = np.random.default_rng(int(seed))
    limit1 = np.sqrt(6.0 / (2 + hidden_size))
    limit2 = np.sqrt(6.0 / (hidden_size + 1))
    w1 = rng.uniform(-limit1, limit1, size=(hidden_size, 2))
    b1 = rng.uniform(-0.5, 0.5, size=hidden_size)
    w2 = rng.uniform(-limit2, limit2, size=(1, hidden_size))
    b2 = np.zeros(1)
    return [w1, w2], [b1, b2]


def compute_bce_loss(logits: np.ndarray, targets: np.ndarray) -> float:
    """Mean binary cross-entropy of sigmoid(logits) against 0/1 targets, computed stably from logits."""
    logits = np.asarray(logits, dtype=float).ravel()
    t = np.asarray(targets, dtype=float).ravel()
    # softplus(z) - t z == -[t log s(z) + (1-t) log(1-s(z))]
    return float(np.mean(np.logaddexp(0.0, logits) - t * logits))


def compute_batch_forward(weights, biases, activation: str, x: np.ndarray):
    """Forward pass of a batch (n, 2): (z1, a1, z2, p) with p = sigmoid(z2)."""
    w1, w2 = (np.asarray(w, dtype=float) for w in weights)
    b1, b2 = (np.asarray(b, dtype=float).ravel() for b in biases)
    z1 = x @ w1.T + b1
    a1 = apply_activation(activation, z1)
    z2 = a1 @ w2.T + b2
    return z1, a1, z2, apply_activation("sigmoid", z2)


def _snapshot(epoch: int, loss: float, weights, biases) -> Snapshot:
    """A frozen copy of the current parameters."""
    return Snapshot(epoch, float(loss), (weights[0].copy(), weights[1].copy()), (biases[0].copy(), biases[1].copy()))


def compute_snapshot_epochs(epochs: int, count: int = SNAPSHOT_COUNT) -> list[int]:
    """Epochs at which to keep the weights: denser early, where learning changes most; 0 and the end included."""
    t = np.linspace(0.0, 1.0, count)
    return sorted(set(np.rint(epochs * t**2).astype(int).tolist()))


def iterate_training(config: TrainingConfig, report_every: int | None = None) -> Iterator[TrainingResult]:
    """Full-batch gradient descent with BCE on the 4 rows; yields the growing result every `report_every` epochs and at the end."""
    config = config.validated()
    weights, biases = compute_initial_params(config.hidden_size, config.seed)
    t = np.asarray(config.targets, dtype=float).reshape(-1, 1)
    keep = set(compute_snapshot_epochs(config.epochs))
    report_every = max(1, int(report_every or config.epochs))
    result = TrainingResult(config)
    n = INPUTS.shape[0]
    for epoch in range(config.epochs + 1):
        z1, a1, z2, p = compute_batch_forward(weights, biases, config.activation, INPUTS)
        loss = compute_bce_loss(z2, t)
        if epoch in keep:
            result.snapshots.append(_snapshot(epoch, loss, weights, biases))
        if epoch == config.epochs:
            break
        result.losses.append(loss)
        # Backprop of mean BCE through sigmoid: dL/dz2 = (p - t) / n.
        dz2 = (p - t) / n
        dw2 = dz2.T @ a1
        db2 = dz2.sum(axis=0)
        dz1 = (dz2 @ weights[1]) * _activation_slope(config.activation, z1, a1)
        dw1 = dz1.T @ INPUTS
        db1 = dz1.sum(axis=0)
        weights = [weights[0] - config.lr * dw1, weights[1] - config.lr * dw2]
        biases = [biases[0] - config.lr * db1, biases[1] - config.lr * db2]
        if not np.all(np.isfinite(weights[0])) or not np.all(np.isfinite(weights[1])):
            raise InputError(f"training diverged at epoch {epoch + 1}: try a smaller learning rate than {config.lr}")
        if (epoch + 1) % report_every == 0 and epoch + 1 < config.epochs:
            yield result
    yield result


def train_network(config: TrainingConfig) -> TrainingResult:
    """Run a whole training and return the result (losses per epoch, snapshots)."""
    result = None
    for result in iterate_training(config):
        pass
    return result  # type: ignore[return-value]


def compute_outputs(weights, biases, activation: str) -> np.ndarray:
    """P(y = 1) for the four truth-table rows, in the order of INPUTS."""
    return compute_batch_forward(weights, biases, activation, INPUTS)[3].ravel()


def compute_is_linearly_separable(targets) -> bool:
    """Whether one neuron (a line in the input square) can separate the 1-rows from the 0-rows."""
    t = tuple(int(v) for v in targets)
    # Of the 16 truth tables on 2 inputs exactly XOR and XNOR are not linearly separable.
    return t not in (TRUTH_TABLES["XOR"], TRUTH_TABLES["XNOR"])


def compute_hidden_layer_hint(targets) -> str:
    """A sentence for the learner: does this truth table need the hidden layer?"""
    if compute_is_linearly_separable(targets):
        return ("One straight line can separate the 1s from the 0s in this table, so even a network "
                "without a hidden layer could learn it.")
    return ("No single straight line separates the 1s from the 0s in this table: the network needs its "
            "hidden layer to bend the input space first.")


# --- traces ------------------------------------------------------------------------------------


def _validate_params(weights, biases, activation: str) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Weights (H, 2) and (1, H), biases (H,) and (1,) as finite float arrays, or InputError."""
    if activation not in HIDDEN_ACTIVATIONS:
        raise InputError(f"activation must be one of {HIDDEN_ACTIVATIONS}, got {activation!r}")
    try:
        w = [np.asarray(v, dtype=float) for v in weights]
        b = [np.asarray(v, dtype=float).ravel() for v in biases]
    except (TypeError, ValueError) as exc:
        raise InputError(f"weights and biases must be numbers: {exc}") from None
    if len(w) != 2 or len(b) != 2:
        raise InputError("a 2-H-1 network needs two weight matrices and two bias vectors")
    h = w[0].shape[0] if w[0].ndim == 2 else -1
    if w[0].shape != (h, 2) or w[1].shape != (1, h) or b[0].shape != (h,) or b[1].shape != (1,) or h < 1:
        raise InputError(
            f"shapes do not fit a 2-H-1 network: weights {[a.shape for a in w]}, biases {[a.shape for a in b]}"
        )
    if not all(np.all(np.isfinite(a)) for a in w + b):
        raise InputError("weights or biases contain NaN or infinite values")
    return w, b


def compute_weights_hash(weights, biases) -> str:
    """Stable short hash of a parameter set (identifies a browser-trained snapshot)."""
    digest = hashlib.sha256()
    for array in list(weights) + list(biases):
        digest.update(np.ascontiguousarray(array, dtype=np.float64).tobytes())
    return digest.hexdigest()


def compute_trace_from_weights(weights, biases, activation: str, x, checkpoint: str = "browser") -> Trace:
    """The Trace of input x through a 2-H-1 network given as numpy weights (for browser-trained models)."""
    w, b = _validate_params(weights, biases, activation)
    try:
        x = np.asarray(x, dtype=float).ravel()
    except (TypeError, ValueError):
        raise InputError(f"input must be two numbers (x1, x2), got {x!r}") from None
    if x.shape != (2,) or not np.all(np.isfinite(x)):
        raise InputError(f"input must be two finite numbers (x1, x2), got {x!r}")
    z1 = w[0] @ x + b[0]
    a1 = apply_activation(activation, z1)
    z2 = w[1] @ a1 + b[1]
    a2 = apply_activation("sigmoid", z2)
    layers = (
        LayerTrace("hidden 1", activation, w[0], b[0], z1, a1),
        LayerTrace("output", "sigmoid", w[1], b[1], z2, a2),
    )
    p = float(a2[0])
    return Trace(
        model="xor",
        input=x.astype(np.float32),
        layers=layers,
        probabilities=np.array([1.0 - p, p]),
        prediction=int(p > 0.5),
        weights_sha256=compute_weights_hash(w, b),
        checkpoint=checkpoint,
    )


# --- serialisation ------------------------------------------------------------------------------


def snapshot_to_dict(snapshot: Snapshot) -> dict:
    """A snapshot as plain JSON-able lists."""
    return {
        "epoch": snapshot.epoch,
        "loss": snapshot.loss,
        "weights": [w.tolist() for w in snapshot.weights],
        "biases": [b.tolist() for b in snapshot.biases],
    }


def snapshot_from_dict(data: dict, activation: str = "tanh") -> Snapshot:
    """A snapshot back from snapshot_to_dict's form (validated)."""
    try:
        w, b = _validate_params(data["weights"], data["biases"], activation)
        return Snapshot(int(data["epoch"]), float(data["loss"]), (w[0], w[1]), (b[0], b[1]))
    except (KeyError, TypeError) as exc:
        raise InputError(f"not a weight snapshot: missing or bad {exc}") from None


def result_to_store(result: TrainingResult, status: str = "done") -> dict:
    """A training result as the JSON dict the page keeps in its browser Store."""
    return {
        "config": {**asdict(result.config), "targets": list(result.config.targets)},
        "losses": [float(v) for v in result.losses],
        "snapshots": [snapshot_to_dict(s) for s in result.snapshots],
        "status": status,
    }


def config_from_store(store: dict) -> TrainingConfig:
    """The TrainingConfig of a stored run (validated)."""
    try:
        cfg = dict(store["config"])
        cfg["targets"] = tuple(cfg["targets"])
        return TrainingConfig(**cfg).validated()
    except (KeyError, TypeError) as exc:
        raise InputError(f"stored training run has no valid config: {exc}") from None


def snapshot_from_store(store: dict, index: int | None) -> Snapshot:
    """Snapshot `index` of a stored run (the last one when index is None; clamped to the range)."""
    snapshots = store.get("snapshots") or []
    if not snapshots:
        raise InputError("the stored training run has no snapshots")
    i = len(snapshots) - 1 if index is None else min(max(int(index), 0), len(snapshots) - 1)
    return snapshot_from_dict(snapshots[i], config_from_store(store).activation)


def export_json(weights, biases, activation: str, config: TrainingConfig | None = None) -> str:
    """The network as a JSON document: format, layer sizes, activations, weights, biases (and its training config)."""
    w, b = _validate_params(weights, biases, activation)
    doc = {
        "format": EXPORT_FORMAT,
        "layer_sizes": [2, int(w[0].shape[0]), 1],
        "hidden_activation": activation,
        "output_activation": "sigmoid",
        "weights": [a.tolist() for a in w],
        "biases": [a.tolist() for a in b],
        "outputs": dict(zip(("00", "01", "10", "11"), compute_outputs(w, b, activation).tolist())),
    }
    if config is not None:
        doc["training"] = {**asdict(config), "targets": list(config.targets)}
    return json.dumps(doc, indent=2)


def load_exported_json(text: str) -> tuple[list[np.ndarray], list[np.ndarray], str]:
    """(weights, biases, hidden activation) from a document written by export_json."""
    try:
        doc = json.loads(text)
    except (TypeError, ValueError) as exc:
        raise InputError(f"not valid JSON: {exc}") from None
    if not isinstance(doc, dict) or doc.get("format") != EXPORT_FORMAT:
        raise InputError(f"not a {EXPORT_FORMAT} document")
    try:
        activation = doc["hidden_activation"]
        w, b = _validate_params(doc["weights"], doc["biases"], activation)
    except KeyError as exc:
        raise InputError(f"document lacks {exc}") from None
    return w, b, activation


_TORCH_ACTIVATIONS = {"tanh": "nn.Tanh()", "sigmoid": "nn.Sigmoid()", "relu": "nn.ReLU()"}


def _float_list(array: np.ndarray) -> str:
    """Nested Python list literal with full float precision."""
    return repr(np.asarray(array, dtype=float).tolist())


def export_pytorch_snippet(weights, biases, activation: str) -> str:
    """A short, runnable PyTorch script that rebuilds this network with its exact weights."""
    w, b = _validate_params(weights, biases, activation)
    hidden = w[0].shape[0]
    return "\n".join([
        "import torch",
        "from torch import nn",
        "",
        f"# 2-{hidden}-1 network: {activation} hidden layer, sigmoid output P(y = 1)",
        f"model = nn.Sequential(nn.Linear(2, {hidden}), {_TORCH_ACTIVATIONS[activation]}, nn.Linear({hidden}, 1), nn.Sigmoid())",
        "with torch.no_grad():",
        f"    model[0].weight.copy_(torch.tensor({_float_list(w[0])}))",
        f"    model[0].bias.copy_(torch.tensor({_float_list(b[0])}))",
        f"    model[2].weight.copy_(torch.tensor({_float_list(w[1])}))",
        f"    model[2].bias.copy_(torch.tensor({_float_list(b[1])}))",
        "",
        "x = torch.tensor([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])",
        "print(model(x).squeeze(1))  # P(y = 1) for the rows (0,0), (0,1), (1,0), (1,1)",
        "",
    ])
