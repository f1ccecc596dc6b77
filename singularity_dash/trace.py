"""Plain data the service hands to the UI: numpy arrays in small frozen dataclasses, no torch."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class LayerTrace:
    """One dense layer for one input: z = weight @ a_prev + bias, a = activation(z)."""

    name: str  # "hidden 1", "output"
    activation: str  # "tanh" | "sigmoid" | "relu" | "softmax"
    weight: np.ndarray  # (n_out, n_in)
    bias: np.ndarray  # (n_out,)
    z: np.ndarray  # (n_out,) pre-activation
    a: np.ndarray  # (n_out,) activation

    @property
    def size(self) -> int:
        """Number of neurons in this layer."""
        return int(self.bias.shape[0])


@dataclass(frozen=True)
class Trace:
    """A forward pass: the input, every layer's z and a, and the prediction."""

    model: str
    input: np.ndarray  # (n_in,) float32, flattened (784 for mnist, 2 for xor)
    layers: tuple[LayerTrace, ...]
    probabilities: np.ndarray  # (n_classes,), sums to 1 (xor: [P(0), P(1)])
    prediction: int
    weights_sha256: str = ""
    checkpoint: str = "final"
    cache_status: str = field(default="", compare=False)  # "hit" | "miss" | "off", diagnostics only

    @property
    def activations(self) -> list[np.ndarray]:
        """Activation vector of every layer, the input first (index 0)."""
        return [self.input] + [layer.a for layer in self.layers]

    @property
    def layer_sizes(self) -> list[int]:
        """Neuron count per layer, the input first."""
        return [int(self.input.shape[0])] + [layer.size for layer in self.layers]
