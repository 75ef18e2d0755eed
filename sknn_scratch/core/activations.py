"""Activation functions and their derivatives (the tutorial's step 3, generalised).

Every activation ``f`` is written as ``f(z, out)``: it stores ``f(z)`` in ``out``, which may be
``z`` itself, so hidden layers are activated in place without a temporary array.

Every derivative is written, like the tutorial's ``sigmoid_derivative``, in terms of the
activation's *output* ``a = f(z)`` rather than its input: ``derivative(a, delta)`` multiplies
``delta`` in place by ``f'(z)``. That is all backpropagation needs, and it means the forward
pass does not have to keep ``z`` once ``a`` is known.

Adding an activation is two small functions and two entries in the tables at the bottom.
"""

import numpy as np
from scipy.special import expit

from . import fused


def identity(z: np.ndarray, out: np.ndarray) -> None:
    """``f(z) = z``."""
    if out is not z:
        np.copyto(out, z)


def sigmoid(z: np.ndarray, out: np.ndarray) -> None:
    """``f(z) = 1 / (1 + exp(-z))``.

    SciPy's ``expit`` evaluates it without overflow for any ``z`` (the tutorial's
    ``1 / (1 + np.exp(-x))`` warns for ``x < -709``).
    """
    expit(z, out=out)


def tanh(z: np.ndarray, out: np.ndarray) -> None:
    """``f(z) = tanh(z)``."""
    np.tanh(z, out=out)


def relu(z: np.ndarray, out: np.ndarray) -> None:
    """``f(z) = max(z, 0)``."""
    np.maximum(z, 0, out=out)


def softmax(z: np.ndarray, out: np.ndarray) -> None:
    """``f(z)_k = exp(z_k) / sum_j exp(z_j)``, row by row.

    Subtracting the row maximum first leaves the result unchanged and keeps every
    exponent at most zero, so nothing overflows.
    """
    np.subtract(z, z.max(axis=1, keepdims=True), out=out)
    np.exp(out, out=out)
    out /= out.sum(axis=1, keepdims=True)


def largest_finite_exp_input(dtype) -> np.floating:
    """The largest ``z`` of ``dtype`` whose ``exp(z)`` is finite in ``dtype``.

    ``log(finfo.max)`` rounded to float32 lands just above the true value, and its ``exp``
    overflows; stepping down to the next representable number fixes that.
    """
    dtype = np.dtype(dtype)
    z = np.log(np.finfo(dtype).max, dtype=dtype)
    with np.errstate(over="ignore"):
        while not np.isfinite(np.exp(z)):
            z = np.nextafter(z, dtype.type(0))
    return z


_EXP_CAPS = {np.dtype(t): largest_finite_exp_input(t) for t in (np.float32, np.float64)}


def exp(z: np.ndarray, out: np.ndarray) -> None:
    """``f(z) = exp(z)``, the inverse of the log link of the Poisson loss.

    ``z`` is capped at the largest value whose exponential is finite in its dtype, so that
    the result stays finite in float32 as in float64.
    """
    np.minimum(z, _EXP_CAPS[out.dtype], out=out)
    np.exp(out, out=out)


def identity_derivative(a: np.ndarray, delta: np.ndarray) -> None:
    """``f'(z) = 1``: nothing to do."""


def sigmoid_derivative(a: np.ndarray, delta: np.ndarray) -> None:
    """``f'(z) = a * (1 - a)``, the tutorial's ``sigmoid_derivative``."""
    delta *= a
    delta *= 1 - a


def tanh_derivative(a: np.ndarray, delta: np.ndarray) -> None:
    """``f'(z) = 1 - a**2``."""
    delta *= 1 - a * a


def relu_derivative(a: np.ndarray, delta: np.ndarray) -> None:
    """``f'(z) = 1`` where the unit is active (``a > 0``), else ``0``."""
    if fused.ENABLED:
        fused.relu_derivative(a, delta)  # the same product, in one pass
    else:
        np.multiply(delta, a > 0, out=delta)


def softmax_derivative(a: np.ndarray, delta: np.ndarray) -> None:
    """Multiply ``delta`` by the softmax Jacobian: ``a * (delta - sum(delta * a))`` per row.

    Softmax mixes the units of a row, so this is a vector-Jacobian product rather than an
    element-wise factor. It is only needed when softmax is paired with a loss other than
    the log-loss (with the log-loss the product simplifies to ``p - y``).
    """
    row_dot = np.einsum("ij,ij->i", delta, a)[:, np.newaxis]
    delta -= row_dot
    delta *= a


def exp_derivative(a: np.ndarray, delta: np.ndarray) -> None:
    """``f'(z) = exp(z) = a``."""
    delta *= a


ACTIVATIONS = {
    "identity": identity,
    "sigmoid": sigmoid,
    "tanh": tanh,
    "relu": relu,
    "softmax": softmax,
    "exp": exp,
}

DERIVATIVES = {
    "identity": identity_derivative,
    "sigmoid": sigmoid_derivative,
    "tanh": tanh_derivative,
    "relu": relu_derivative,
    "softmax": softmax_derivative,
    "exp": exp_derivative,
}

HIDDEN_ACTIVATIONS = ("identity", "sigmoid", "tanh", "relu")
