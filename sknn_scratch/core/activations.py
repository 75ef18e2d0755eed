"""Activation functions and their derivatives (the tutorial's step 3, generalised).

Every activation ``f`` is written as ``f(z, out)``: it stores ``f(z)`` in ``out``, which may be
``z`` itself, so hidden layers are activated in place without a temporary array.

Every derivative is written, like the tutorial's ``sigmoid_derivative``, in terms of the
activation's *output* ``a = f(z)`` rather than its input: ``derivative(a, delta)`` multiplies
``delta`` in place by ``f'(z)``. That is all backpropagation needs, and it means the forward
pass does not have to keep ``z`` once ``a`` is known. Two activations are the exception:
GELU and SiLU dip below zero and come back up, so ``a`` does not tell ``z``, and their
derivatives take ``z`` itself (:data:`DERIVATIVE_TAKES_Z`; the forward pass keeps ``z`` for
them only).

Every function keeps its input's dtype (a float32 array gives float32 results, the constants
are cast to it) and none overflows or warns, however large ``|z|``, infinities included.

Adding an activation is two small functions and an entry in each table at the bottom.
"""

import math

import numpy as np
from scipy.special import expit, ndtr


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


LEAKY_RELU_SLOPE = 0.01
"""Slope of ``leaky_relu`` for ``z < 0`` (PyTorch's default ``negative_slope``)."""

ELU_ALPHA = 1.0
"""ELU's ``alpha``, the value ``-alpha`` it tends to as ``z -> -inf`` (PyTorch's default)."""


def leaky_relu(z: np.ndarray, out: np.ndarray) -> None:
    """``f(z) = z`` for ``z > 0``, else ``0.01 * z`` (:data:`LEAKY_RELU_SLOPE`).

    Units below zero keep a small gradient instead of none (Maas et al. 2013). With a slope
    below 1 this is ``max(z, 0.01 * z)``.
    """
    np.maximum(z, z * out.dtype.type(LEAKY_RELU_SLOPE), out=out)


def elu(z: np.ndarray, out: np.ndarray) -> None:
    """``f(z) = z`` for ``z > 0``, else ``alpha * (exp(z) - 1)`` (:data:`ELU_ALPHA`).

    The exponential linear unit (Clevert et al. 2016), written ``max(z, 0) + alpha *
    expm1(min(z, 0))``: each term is exactly zero where the other applies, the exponential
    never sees a positive number (so never overflows), and ``expm1`` keeps its precision
    near zero.
    """
    negative_part = np.minimum(z, 0)
    np.expm1(negative_part, out=negative_part)
    negative_part *= out.dtype.type(ELU_ALPHA)
    np.maximum(z, 0, out=out)
    out += negative_part


def gelu(z: np.ndarray, out: np.ndarray) -> None:
    """``f(z) = z * Phi(z)``, ``Phi`` the standard normal CDF (Hendrycks and Gimpel 2016).

    The exact form, not the tanh approximation; SciPy's ``ndtr`` computes ``Phi`` without
    overflow. At ``z = -inf`` the product would be ``-inf * 0``, so ``z`` is replaced there
    by the most negative finite number, which gives the limit, 0.
    """
    cdf = ndtr(z)
    np.maximum(z, np.finfo(out.dtype).min, out=out)
    out *= cdf


def softplus(z: np.ndarray, out: np.ndarray) -> None:
    """``f(z) = log(1 + exp(z))``, a smooth relu.

    ``np.logaddexp(0, z)`` evaluates it as ``max(z, 0) + log1p(exp(-|z|))``: no overflow for
    large ``z``, and no loss of the tiny values of very negative ``z``.
    """
    np.logaddexp(out.dtype.type(0), z, out=out)


def silu(z: np.ndarray, out: np.ndarray) -> None:
    """``f(z) = z * sigmoid(z)``, the sigmoid-weighted linear unit (swish with ``beta = 1``).

    ``expit`` computes the sigmoid without overflow; at ``z = -inf``, as in :func:`gelu`,
    the most negative finite number stands in for ``z`` and gives the limit, 0.
    """
    weight = expit(z)
    np.maximum(z, np.finfo(out.dtype).min, out=out)
    out *= weight


def softmax(z: np.ndarray, out: np.ndarray) -> tuple:
    """``f(z)_k = exp(z_k) / sum_j exp(z_j)``, row by row.

    Subtracting the row maximum first leaves the result unchanged and keeps every
    exponent at most zero, so nothing overflows. Returns the row maxima ``m`` and the sums
    ``s = sum_j exp(z_j - m)`` it divided by (as columns): the log-loss's
    ``logsumexp(z) = m + log(s)`` follows from them without a second pass over ``z``.
    """
    row_max = z.max(axis=1, keepdims=True)
    np.subtract(z, row_max, out=out)
    np.exp(out, out=out)
    row_sum = out.sum(axis=1, keepdims=True)
    out /= row_sum
    return row_max, row_sum


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


def relu_derivative_numpy(a: np.ndarray, delta: np.ndarray) -> None:
    """``f'(z) = 1`` where the unit is active (``a > 0``), else ``0``.

    :func:`.fused.relu_derivative` makes the same product in one pass; the NumPy kernels
    use it when Numba is installed (:class:`.kernels.NumpyKernels`).
    """
    np.multiply(delta, a > 0, out=delta)


def leaky_relu_derivative(a: np.ndarray, delta: np.ndarray) -> None:
    """``f'(z) = 1`` where ``a > 0``, else the slope (``a`` has the sign of ``z``)."""
    one, slope = delta.dtype.type(1), delta.dtype.type(LEAKY_RELU_SLOPE)
    np.multiply(delta, np.where(a > 0, one, slope), out=delta)


def elu_derivative(a: np.ndarray, delta: np.ndarray) -> None:
    """``f'(z) = 1`` where ``a > 0``, else ``alpha * exp(z)``, which is ``a + alpha``."""
    one, alpha = delta.dtype.type(1), delta.dtype.type(ELU_ALPHA)
    np.multiply(delta, np.where(a > 0, one, a + alpha), out=delta)


_GAUSSIAN_TAIL = 40.0
"""Beyond ``|z| = 40``, ``|z| * phi(z)`` (``phi`` the standard normal density) is below
1e-340: zero in float64 as in float32."""


def gelu_derivative(z: np.ndarray, delta: np.ndarray) -> None:
    """``f'(z) = Phi(z) + z * phi(z)``, ``phi`` the standard normal density; takes ``z``.

    In the second term ``z`` is clipped to ``[-40, 40]``, where it makes no difference
    (:data:`_GAUSSIAN_TAIL`) and ``z * z`` cannot overflow.
    """
    dtype = delta.dtype.type
    t = np.clip(z, dtype(-_GAUSSIAN_TAIL), dtype(_GAUSSIAN_TAIL))
    slope = np.exp(t * t * dtype(-0.5))
    slope *= dtype(1 / math.sqrt(2 * math.pi))
    slope *= t
    slope += ndtr(z)
    delta *= slope


def softplus_derivative(a: np.ndarray, delta: np.ndarray) -> None:
    """``f'(z) = sigmoid(z)``, which is ``1 - exp(-a)``.

    Computed as ``-expm1(-a)``, which keeps its precision where ``a`` is tiny (very
    negative ``z``) instead of losing it all to the subtraction.
    """
    delta *= -np.expm1(-a)


def silu_derivative(z: np.ndarray, delta: np.ndarray) -> None:
    """``f'(z) = s(z) * (1 + z * s(-z))``, ``s`` the sigmoid; takes ``z``.

    ``s(-z)`` is ``1 - s(z)``, computed directly so that it keeps its precision for large
    ``z``. ``z`` is clipped to the finite numbers, so that at ``z = +inf`` the product
    ``z * s(-z)`` is ``max * 0 = 0`` rather than ``inf * 0``.
    """
    info = np.finfo(delta.dtype)
    t = np.clip(z, info.min, info.max)
    slope = expit(-t)
    slope *= t
    slope += 1
    slope *= expit(t)
    delta *= slope


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
    "leaky_relu": leaky_relu,
    "elu": elu,
    "gelu": gelu,
    "softplus": softplus,
    "silu": silu,
    "softmax": softmax,
    "exp": exp,
}

DERIVATIVES = {
    "identity": identity_derivative,
    "sigmoid": sigmoid_derivative,
    "tanh": tanh_derivative,
    "relu": relu_derivative_numpy,
    "leaky_relu": leaky_relu_derivative,
    "elu": elu_derivative,
    "gelu": gelu_derivative,
    "softplus": softplus_derivative,
    "silu": silu_derivative,
    "softmax": softmax_derivative,
    "exp": exp_derivative,
}

DERIVATIVE_TAKES_Z = frozenset({"gelu", "silu"})
"""Activations whose derivative takes the layer's input ``z`` rather than its output ``a``.

GELU and SiLU are not one-to-one (each dips below zero and comes back up), so ``a`` does not
determine ``z``; for these alone the forward pass keeps ``z`` in an array of its own
(:meth:`.network.Workspace.pre_activation_rows`).
"""

HIDDEN_ACTIVATIONS = (
    "identity",
    "sigmoid",
    "tanh",
    "relu",
    "leaky_relu",
    "elu",
    "gelu",
    "softplus",
    "silu",
)

GROWTH_BOUNDS = {
    "identity": (0.0, math.inf),
    "sigmoid": (0.5, 1.0),  # sigmoid(z) <= 1/2 + |z|/4
    "tanh": (0.0, 1.0),
    "relu": (0.0, math.inf),
    "leaky_relu": (0.0, math.inf),
    "elu": (ELU_ALPHA, math.inf),  # |f(z)| <= max(|z|, alpha)
    "gelu": (0.0, math.inf),  # |z * Phi(z)| <= |z|
    "softplus": (math.log(2.0), math.inf),  # 0 < f(z) <= max(z, 0) + log(2)
    "silu": (0.0, math.inf),  # |z * sigmoid(z)| <= |z|
}
"""``(c, m)`` for each hidden activation, such that ``|f(z)| <= min(|z| + c, m)`` for every ``z``.

How large a layer's outputs can be, given a bound on its inputs: what
:func:`.network.logit_bound` needs to prove that the forward pass cannot overflow.
"""


# --------------------------------------------------------------------------------------------
# Functional forms, for array libraries other than NumPy (torch, CuPy, array_api_strict).
#
# The same mathematics as above, written with the Array API standard's functions only: each
# takes the namespace ``xp`` and returns a new array instead of writing into ``out`` (the
# standard has no ``out=``, and on a GPU the library's allocator makes temporaries cheap).
# :mod:`.kernels` picks these tables for any namespace that is not NumPy.


def _sigmoid_xp(xp, z):
    """``1 / (1 + exp(-z))`` as ``1 / (1 + e)`` for ``z >= 0`` and ``e / (1 + e)`` below,
    with ``e = exp(-|z|) <= 1``: no exponential can overflow."""
    e = xp.exp(-xp.abs(z))
    return xp.where(z >= 0, 1 / (1 + e), e / (1 + e))


def _relu_xp(xp, z):
    return xp.clip(z, min=0.0)  # a NaN stays NaN, as with np.maximum


def _leaky_relu_xp(xp, z):
    return xp.where(z > 0, z, z * LEAKY_RELU_SLOPE)


def _elu_xp(xp, z):
    return xp.clip(z, min=0.0) + ELU_ALPHA * xp.expm1(xp.clip(z, max=0.0))


def _normal_cdf_xp(xp, z):
    """``Phi(z)``: the standard leaves out ``erf``, so this asks the library for its own.

    torch has ``torch.special.ndtr``; for CuPy, SciPy's ``ndtr`` hands the array to
    ``cupyx.scipy.special`` (with ``SCIPY_ARRAY_API=1``, which scikit-learn's Array API
    support needs anyway).
    """
    special = getattr(xp, "special", None)  # torch.special, through array_api_compat
    if special is not None and hasattr(special, "ndtr"):
        return special.ndtr(z)
    if "cupy" in getattr(xp, "__name__", ""):
        return ndtr(z)
    raise ValueError(
        f"activation='gelu' needs the normal distribution's CDF, which the Array API standard "
        f"does not define and {getattr(xp, '__name__', xp)} does not provide. Use another "
        "activation (e.g. 'silu'), or NumPy, torch or CuPy arrays."
    )


def _gelu_xp(xp, z):
    finite = xp.clip(z, min=xp.finfo(z.dtype).min)  # -inf * Phi(-inf) would be NaN
    return finite * _normal_cdf_xp(xp, z)


def _softplus_xp(xp, z):
    return xp.logaddexp(xp.zeros_like(z), z)


def _silu_xp(xp, z):
    return xp.clip(z, min=xp.finfo(z.dtype).min) * _sigmoid_xp(xp, z)


def _softmax_xp(xp, z):
    e = xp.exp(z - xp.max(z, axis=1, keepdims=True))
    return e / xp.sum(e, axis=1, keepdims=True)


def _exp_xp(xp, z):
    return xp.exp(xp.clip(z, max=float(_EXP_CAPS[np.dtype(_numpy_dtype_name(xp, z))])))


def _numpy_dtype_name(xp, z) -> str:
    return "float32" if z.dtype == xp.float32 else "float64"


FUNCTIONAL_ACTIVATIONS = {
    "identity": lambda xp, z: z,
    "sigmoid": _sigmoid_xp,
    "tanh": lambda xp, z: xp.tanh(z),
    "relu": _relu_xp,
    "leaky_relu": _leaky_relu_xp,
    "elu": _elu_xp,
    "gelu": _gelu_xp,
    "softplus": _softplus_xp,
    "silu": _silu_xp,
    "softmax": _softmax_xp,
    "exp": _exp_xp,
}


def _gelu_derivative_xp(xp, z, delta):
    t = xp.clip(z, min=-_GAUSSIAN_TAIL, max=_GAUSSIAN_TAIL)
    density = xp.exp(t * t * -0.5) * (1 / math.sqrt(2 * math.pi))
    return delta * (t * density + _normal_cdf_xp(xp, z))


def _silu_derivative_xp(xp, z, delta):
    info = xp.finfo(z.dtype)
    t = xp.clip(z, min=info.min, max=info.max)
    return delta * ((t * _sigmoid_xp(xp, -t) + 1) * _sigmoid_xp(xp, t))


def _softmax_derivative_xp(xp, a, delta):
    return (delta - xp.sum(delta * a, axis=1, keepdims=True)) * a


FUNCTIONAL_DERIVATIVES = {
    "identity": lambda xp, a, delta: delta,
    "sigmoid": lambda xp, a, delta: delta * a * (1 - a),
    "tanh": lambda xp, a, delta: delta * (1 - a * a),
    "relu": lambda xp, a, delta: delta * xp.astype(a > 0, delta.dtype),
    "leaky_relu": lambda xp, a, delta: xp.where(a > 0, delta, delta * LEAKY_RELU_SLOPE),
    "elu": lambda xp, a, delta: xp.where(a > 0, delta, delta * (a + ELU_ALPHA)),
    "gelu": _gelu_derivative_xp,
    "softplus": lambda xp, a, delta: delta * -xp.expm1(-a),
    "silu": _silu_derivative_xp,
    "softmax": _softmax_derivative_xp,
    "exp": lambda xp, a, delta: delta * a,
}
