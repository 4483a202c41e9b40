"""Huber regression with sklearn's objective and optimizer, and a loss/gradient that never copies rows.

sklearn's ``HuberRegressor`` slices the inlier and outlier rows of X out of the matrix on every L-BFGS
step (two copies of X per iteration), which made it the slowest part of the experiments. The objective
here is the same (Owen's concomitant-scale Huber loss, ``alpha * ||w||^2``, scale ``sigma`` bounded
below by ``10 * eps``) and so is the optimizer call (L-BFGS-B, ``maxiter``, ``gtol``), but the gradient
is one matrix-vector product with a per-row weight vector. sklearn's loss function is the slow
reference in the tests; the fitted coefficients agree with ``HuberRegressor`` to optimizer tolerance.
Sample weights are not supported (no caller uses them).
"""

from __future__ import annotations

import warnings

import numpy as np
from scipy import optimize
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import HuberRegressor

SIGMA_FLOOR = np.finfo(np.float64).eps * 10


def huber_loss_and_gradient(params: np.ndarray, x: np.ndarray, y: np.ndarray, epsilon: float,
                            alpha: float) -> tuple[float, np.ndarray]:
    """Loss and gradient of ``params = [w..., intercept, sigma]`` (sklearn's layout, intercept fitted)."""
    n_features = x.shape[1]
    w, intercept, sigma = params[:n_features], params[n_features], params[n_features + 1]
    residual = y - x @ w - intercept
    outlier = np.abs(residual) > epsilon * sigma
    n_outliers = np.count_nonzero(outlier)
    inlier_residual = np.where(outlier, 0.0, residual)
    squared_loss = float(inlier_residual @ inlier_residual) / sigma
    outlier_loss = 2.0 * epsilon * float(np.abs(residual[outlier]).sum()) - sigma * n_outliers * epsilon ** 2
    # d(loss)/d(prediction) / -2 per row: r / sigma inside the band, epsilon * sign(r) outside.
    slope = np.where(outlier, epsilon * np.sign(residual), inlier_residual / sigma)
    grad = np.empty(n_features + 2)
    grad[:n_features] = -2.0 * (slope @ x) + 2.0 * alpha * w
    grad[n_features] = -2.0 * slope.sum()
    grad[n_features + 1] = len(y) - n_outliers * epsilon ** 2 - squared_loss / sigma
    loss = len(y) * sigma + squared_loss + outlier_loss + alpha * float(w @ w)
    return loss, grad


class FastHuberRegressor(HuberRegressor):
    """``HuberRegressor`` (same parameters, attributes and predictions) fitted with the copy-free gradient."""

    def fit(self, X, y, sample_weight=None):  # noqa: N803 (sklearn's signature)
        if sample_weight is not None or not self.fit_intercept or self.warm_start:
            return super().fit(X, y, sample_weight)
        x = np.ascontiguousarray(X, dtype=np.float64)
        y = np.asarray(y, dtype=np.float64).ravel()
        if x.ndim != 2 or len(x) != len(y) or not (np.isfinite(x).all() and np.isfinite(y).all()):
            raise ValueError("FastHuberRegressor: X must be a finite 2-D matrix with one finite y per row")
        start = np.zeros(x.shape[1] + 2)
        start[-1] = 1.0
        bounds = np.tile([-np.inf, np.inf], (len(start), 1))
        bounds[-1][0] = SIGMA_FLOOR
        result = optimize.minimize(huber_loss_and_gradient, start, method="L-BFGS-B", jac=True,
                                   args=(x, y, self.epsilon, self.alpha), bounds=bounds,
                                   options={"maxiter": self.max_iter, "gtol": self.tol})
        if result.status == 2:
            raise ValueError(f"FastHuberRegressor: L-BFGS-B failed: {result.message}")
        if result.status == 1:
            warnings.warn(f"FastHuberRegressor: L-BFGS-B stopped at max_iter={self.max_iter}", ConvergenceWarning,
                          stacklevel=2)
        self.n_features_in_ = x.shape[1]
        self.n_iter_ = int(min(result.nit, self.max_iter))
        self.coef_, self.intercept_, self.scale_ = result.x[:-2].copy(), float(result.x[-2]), float(result.x[-1])
        self.outliers_ = np.abs(y - x @ self.coef_ - self.intercept_) > self.scale_ * self.epsilon
        return self
