"""LinearHead: the exported form of every head, y = activation(x @ weight + bias) on raw features."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

ACTIVATIONS = ("softmax", "sigmoid", "identity")


@dataclass(frozen=True)
class LinearHead:
    """A linear head on the raw feature vector: ``weight`` is float32 [F, K], ``bias`` float32 [K]."""

    name: str
    kind: str
    weight: np.ndarray
    bias: np.ndarray

    def __post_init__(self) -> None:
        if self.kind not in ACTIVATIONS:
            raise ValueError(f"head {self.name!r}: kind must be one of {ACTIVATIONS}, got {self.kind!r}")
        weight = np.asarray(self.weight, dtype=np.float32)
        bias = np.asarray(self.bias, dtype=np.float32).reshape(-1)
        if weight.ndim != 2 or weight.shape[1] != bias.shape[0]:
            raise ValueError(f"head {self.name!r}: weight {weight.shape} and bias {bias.shape} do not match")
        if self.kind == "softmax" and weight.shape[1] < 2:
            raise ValueError(f"head {self.name!r}: a softmax head needs at least 2 outputs")
        if not (np.isfinite(weight).all() and np.isfinite(bias).all()):
            raise ValueError(f"head {self.name!r}: non-finite weights")
        object.__setattr__(self, "weight", weight)
        object.__setattr__(self, "bias", bias)

    @property
    def width(self) -> int:
        return int(self.bias.shape[0])

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Reference numpy evaluation in float64 (tests compare exports against it)."""
        z = np.asarray(x, dtype=np.float64) @ self.weight.astype(np.float64) + self.bias.astype(np.float64)
        if self.kind == "softmax":
            z = np.exp(z - z.max(axis=1, keepdims=True))
            return z / z.sum(axis=1, keepdims=True)
        if self.kind == "sigmoid":
            return 1.0 / (1.0 + np.exp(-np.clip(z, -50.0, 50.0)))
        return z
