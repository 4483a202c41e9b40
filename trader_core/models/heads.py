"""LinearHead: the exported form of every head, y = activation(x @ weight + bias) on raw features."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

ACTIVATIONS = ("softmax", "sigmoid", "identity")


@dataclass(frozen=True)
class LinearHead:
    """A linear head on the raw feature vector: ``weight`` is float64 [F, K], ``bias`` float64 [K].

    float64 because these are the exported initializers and training predicts with them: rounding them to float32
    would put a gap between the trained predictions and the graph (docs/models.md, "Checks").
    """

    name: str
    kind: str
    weight: np.ndarray
    bias: np.ndarray

    def __post_init__(self) -> None:
        if self.kind not in ACTIVATIONS:
            raise ValueError(f"head {self.name!r}: kind must be one of {ACTIVATIONS}, got {self.kind!r}")
        weight = np.asarray(self.weight, dtype=np.float64)
        bias = np.asarray(self.bias, dtype=np.float64).reshape(-1)
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
        """The float64 evaluation the double ONNX graph computes before its final cast to float; training's
        predictions are this evaluation on the float32 features, so the parity check compares like with like."""
        z = np.asarray(x, dtype=np.float64) @ self.weight + self.bias
        if self.kind == "softmax":
            z = np.exp(z - z.max(axis=1, keepdims=True))
            return z / z.sum(axis=1, keepdims=True)
        if self.kind == "sigmoid":
            return 1.0 / (1.0 + np.exp(-np.clip(z, -50.0, 50.0)))
        return z
