"""Network definitions and the registry of the models Singularity ships."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

ACTIVATIONS = {"tanh": nn.Tanh, "sigmoid": nn.Sigmoid, "relu": nn.ReLU}


@dataclass(frozen=True)
class ModelSpec:
    """What a registered model is: its shape, activations and how to describe it."""

    name: str
    title: str
    layer_sizes: tuple[int, ...]  # input first, e.g. (2, 2, 1)
    hidden_activation: str
    output_activation: str  # "sigmoid" (one unit, binary) or "softmax" (classes)
    input_description: str

    @property
    def parameter_count(self) -> int:
        """Weights plus biases of every dense layer."""
        sizes = self.layer_sizes
        return sum(n_in * n_out + n_out for n_in, n_out in zip(sizes[:-1], sizes[1:]))

    @property
    def layer_names(self) -> list[str]:
        """Names of the computing layers ("hidden 1", ..., "output")."""
        hidden = len(self.layer_sizes) - 2
        return [f"hidden {i + 1}" for i in range(hidden)] + ["output"]

    @property
    def layer_activations(self) -> list[str]:
        """Activation name of every computing layer."""
        hidden = len(self.layer_sizes) - 2
        return [self.hidden_activation] * hidden + [self.output_activation]


REGISTRY: dict[str, ModelSpec] = {
    "xor": ModelSpec(
        name="xor",
        title="XOR 2-2-1",
        layer_sizes=(2, 2, 1),
        hidden_activation="tanh",
        output_activation="sigmoid",
        input_description="2 numbers x1, x2 in [0, 1]",
    ),
    "mnist": ModelSpec(
        name="mnist",
        title="MNIST digits 784-128-64-10",
        layer_sizes=(784, 128, 64, 10),
        hidden_activation="relu",
        output_activation="softmax",
        input_description="784 numbers in [0, 1]: a 28x28 grayscale digit, white ink on black, row by row",
    ),
}


class MLP(nn.Module):
    """A stack of dense layers; `forward` returns logits (the output activation is applied outside)."""

    def __init__(self, layer_sizes: tuple[int, ...] | list[int], hidden_activation: str):
        super().__init__()
        self.linears = nn.ModuleList(
            nn.Linear(n_in, n_out) for n_in, n_out in zip(layer_sizes[:-1], layer_sizes[1:])
        )
        self.hidden_activation = ACTIVATIONS[hidden_activation]()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits of the last layer."""
        for linear in self.linears[:-1]:
            x = self.hidden_activation(linear(x))
        return self.linears[-1](x)


def build_model(spec: ModelSpec) -> MLP:
    """A fresh, randomly initialised network with the spec's shape."""
    return MLP(spec.layer_sizes, spec.hidden_activation)
