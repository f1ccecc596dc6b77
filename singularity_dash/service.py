"""The model service: the only module that runs torch.

Loads every registered model (and its training checkpoints) once per process, verified against the
sha256 in its metadata, and answers forward passes as plain `Trace`s of numpy arrays, memoized in
the shared activation cache by (model, weights hash, input hash). Holds no per-user state.
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from .cache import ArrayCache
from .errors import InputError
from .nets import REGISTRY, MLP, ModelSpec, build_model
from .trace import LayerTrace, Trace
from .weights_io import WeightsError, load_verified_state, read_metadata

FINAL = "final"


class UnknownModel(KeyError):
    """No registered model (or checkpoint) by that name."""

    def __str__(self) -> str:
        return str(self.args[0])


@dataclass
class LoadedModel:
    """One set of weights of a registered model, ready to run."""

    spec: ModelSpec
    module: MLP
    sha256: str
    weights: list[np.ndarray]  # per layer (n_out, n_in), read-only
    biases: list[np.ndarray]
    lock: threading.Lock = field(default_factory=threading.Lock)  # hooks are per call; one call at a time


def _load(spec: ModelSpec, path: Path, sha256: str) -> LoadedModel:
    state = load_verified_state(path, sha256)
    module = build_model(spec)
    try:
        module.load_state_dict(state)
    except RuntimeError as exc:
        raise WeightsError(f"weights file {path.name} does not fit the {spec.title} network: {exc}") from exc
    module.eval()
    weights = [lin.weight.detach().numpy().copy() for lin in module.linears]
    biases = [lin.bias.detach().numpy().copy() for lin in module.linears]
    for array in weights + biases:
        array.setflags(write=False)
    return LoadedModel(spec, module, sha256, weights, biases)


def hash_input(x: np.ndarray) -> str:
    """Stable hash of an input vector (its float32 bytes)."""
    return hashlib.sha256(np.ascontiguousarray(x, dtype=np.float32).tobytes()).hexdigest()[:32]


class ModelService:
    """Loads the registered models once and runs traced forward passes."""

    def __init__(self, models_dir: Path, cache: ArrayCache | None = None, names: list[str] | None = None):
        torch.set_num_threads(1)  # one core per worker process: workers scale, threads would contend
        self.models_dir = Path(models_dir)
        self.cache = cache
        self.metadata: dict[str, dict] = {}
        self._loaded: dict[tuple[str, str], LoadedModel] = {}
        for name in names or list(REGISTRY):
            self._load_model(name)

    def _load_model(self, name: str) -> None:
        spec = REGISTRY[name]
        metadata = read_metadata(self.models_dir, name)
        self.metadata[name] = metadata
        weights = metadata.get("weights", {})
        if "file" not in weights or "sha256" not in weights:
            raise WeightsError(f"model metadata {name}.json names no weights file and sha256")
        self._loaded[(name, FINAL)] = _load(spec, self.models_dir / weights["file"], weights["sha256"])
        for checkpoint in metadata.get("checkpoints", []):
            if checkpoint.get("sha256") == weights["sha256"]:
                self._loaded[(name, checkpoint["id"])] = self._loaded[(name, FINAL)]
                continue
            path = self.models_dir / checkpoint["file"]
            self._loaded[(name, checkpoint["id"])] = _load(spec, path, checkpoint["sha256"])

    # --- what is loaded -------------------------------------------------------------------------

    @property
    def model_names(self) -> list[str]:
        """Names of the loaded models."""
        return list(self.metadata)

    def spec(self, name: str) -> ModelSpec:
        """The registered spec of a loaded model."""
        if name not in self.metadata:
            raise UnknownModel(f"unknown model {name!r}; known: {', '.join(self.model_names)}")
        return REGISTRY[name]

    def checkpoints(self, name: str) -> list[dict]:
        """The model's training checkpoints in order (id, label, step, epoch, test_accuracy)."""
        self.spec(name)
        return list(self.metadata[name].get("checkpoints", []))

    def describe(self, name: str) -> dict:
        """Public facts about a model: sizes, parameter count, metrics, checkpoints."""
        spec = self.spec(name)
        meta = self.metadata[name]
        return {
            "name": name,
            "title": spec.title,
            "layer_sizes": list(spec.layer_sizes),
            "hidden_activation": spec.hidden_activation,
            "output_activation": spec.output_activation,
            "parameters": spec.parameter_count,
            "input": spec.input_description,
            "metrics": meta.get("metrics", {}),
            "weights_sha256": meta["weights"]["sha256"],
            "checkpoints": [
                {key: c[key] for key in ("id", "label", "step", "epoch", "test_accuracy") if key in c}
                for c in meta.get("checkpoints", [])
            ],
        }

    def loaded(self, name: str, checkpoint: str = FINAL) -> LoadedModel:
        """The loaded weights of a model at a checkpoint ("final" by default)."""
        self.spec(name)
        try:
            return self._loaded[(name, checkpoint or FINAL)]
        except KeyError:
            ids = [c for (n, c) in self._loaded if n == name]
            raise UnknownModel(f"model {name!r} has no checkpoint {checkpoint!r}; known: {', '.join(ids)}") from None

    # --- forward ----------------------------------------------------------------------------------

    def forward(self, name: str, x, checkpoint: str = FINAL) -> Trace:
        """The traced forward pass of input `x` (validated), from the cache when it holds it."""
        model = self.loaded(name, checkpoint)
        x = self._validate(model.spec, x)
        key = f"trace:v2:{name}:{model.sha256[:16]}:{hash_input(x)}"
        arrays = self.cache.get(key) if self.cache is not None else None
        cache_status = "hit" if arrays is not None else ("miss" if self.cache is not None else "off")
        if arrays is None:
            arrays = self._run(model, x)
            if self.cache is not None:
                self.cache.set(key, arrays)
        return self._assemble(model, x, arrays, checkpoint or FINAL, cache_status)

    @staticmethod
    def _validate(spec: ModelSpec, x) -> np.ndarray:
        array = np.asarray(x, dtype=np.float32).reshape(-1)
        if array.shape[0] != spec.layer_sizes[0]:
            raise InputError(f"{spec.name} takes {spec.layer_sizes[0]} numbers, got {array.shape[0]}")
        if not np.all(np.isfinite(array)):
            raise InputError("input contains NaN or infinite values")
        return array

    @staticmethod
    def _run(model: LoadedModel, x: np.ndarray) -> dict[str, np.ndarray]:
        """Forward with hooks on every dense layer capturing its pre-activation z."""
        captured: list[torch.Tensor] = []
        with model.lock, torch.inference_mode():
            handles = [
                linear.register_forward_hook(lambda _m, _i, out: captured.append(out.detach().clone()))
                for linear in model.module.linears
            ]
            try:
                model.module(torch.from_numpy(x).unsqueeze(0))
            finally:
                for handle in handles:
                    handle.remove()
            arrays = {}
            activations = model.spec.layer_activations
            for i, (z, activation) in enumerate(zip(captured, activations)):
                arrays[f"z{i}"] = z[0].numpy()
                arrays[f"a{i}"] = _activate(z, activation)[0].numpy()
        return arrays

    @staticmethod
    def _assemble(model: LoadedModel, x: np.ndarray, arrays: dict, checkpoint: str, cache_status: str) -> Trace:
        spec = model.spec
        layers = tuple(
            LayerTrace(name, activation, model.weights[i], model.biases[i], arrays[f"z{i}"], arrays[f"a{i}"])
            for i, (name, activation) in enumerate(zip(spec.layer_names, spec.layer_activations))
        )
        output = layers[-1].a.astype(np.float64)
        if spec.output_activation == "sigmoid":
            probabilities = np.array([1.0 - output[0], output[0]])
        else:
            probabilities = output
        return Trace(
            model=spec.name,
            input=x,
            layers=layers,
            probabilities=probabilities,
            prediction=int(np.argmax(probabilities)),
            weights_sha256=model.sha256,
            checkpoint=checkpoint,
            cache_status=cache_status,
        )


def _activate(z: torch.Tensor, name: str) -> torch.Tensor:
    if name == "relu":
        return torch.relu(z)
    if name == "tanh":
        return torch.tanh(z)
    if name == "sigmoid":
        return torch.sigmoid(z)
    if name == "softmax":
        return torch.softmax(z, dim=-1)
    raise ValueError(f"unknown activation {name!r}")
