"""Loss functions and the error signal at the output layer (the tutorial's step 5).

A loss is averaged over the samples of a batch, weighted by ``sample_weight`` when given.
Per sample, the losses are:

``squared_error``
    ``mean_k (y_k - p_k)**2``: the tutorial's ``compute_loss`` (mean over all entries).
``log_loss``
    ``-sum_k [y_k log p_k + (1 - y_k) log(1 - p_k)]`` with sigmoid outputs (binary and
    multilabel), ``-sum_k y_k log p_k`` with a softmax output (multiclass).
``poisson``
    ``mean_k [y_k log(y_k / p_k) - y_k + p_k]``, the half Poisson deviance, with ``p = exp(z)``.
``absolute_error``
    ``mean_k |r_k|`` with the residual ``r = y - p``: the network learns the median.
``huber``
    ``mean_k h(r_k)``, ``h(r) = r**2 / 2`` for ``|r| <= delta``, else ``delta (|r| - delta / 2)``:
    squared near the fit, linear (and so robust to outliers) beyond ``delta``.
``quantile``
    ``mean_k max(q r_k, (q - 1) r_k)``, the pinball loss: the network learns the
    ``q``-quantile.

The last three are the robust losses; they pair with the identity output only, and Huber's
``delta`` and the quantile's ``q`` are the loss's parameter (``NetworkSpec.loss_parameter``).

The log-loss and the Poisson loss are computed from the output layer's logits ``z`` rather
than from the probabilities, so they stay finite and warning-free however large ``z`` gets.
"""

import numpy as np
from scipy.special import xlogy

from .activations import DERIVATIVES

# Which output activations each loss may be paired with.
OUTPUT_ACTIVATIONS = {
    "squared_error": ("identity", "sigmoid", "softmax"),
    "log_loss": ("sigmoid", "softmax"),
    "poisson": ("exp",),
    "absolute_error": ("identity",),
    "huber": ("identity",),
    "quantile": ("identity",),
}

# The losses that take a parameter: its name, its default and the values it may take.
LOSS_PARAMETERS = {
    "huber": ("delta", 1.0, "a number > 0", lambda delta: delta > 0),
    "quantile": ("q", 0.5, "a number in (0, 1)", lambda q: 0 < q < 1),
}


def resolve_loss_parameter(loss, parameter) -> float | None:
    """The parameter ``loss`` computes with: ``parameter``, or the loss's default if None.

    None for the losses that take no parameter; a ValueError for a value the loss cannot
    take (NaN included), or for a parameter given to a loss that takes none.
    """
    if loss not in LOSS_PARAMETERS:
        if parameter is not None:
            raise ValueError(f"The {loss!r} loss takes no parameter, got {parameter!r}.")
        return None
    name, default, allowed, is_allowed = LOSS_PARAMETERS[loss]
    if parameter is None:
        return default
    if not is_allowed(parameter):
        raise ValueError(f"The {loss!r} loss's {name} must be {allowed}, got {parameter!r}.")
    return float(parameter)


def squared_error(y, logits, prob, out_activation):
    """Per-sample ``mean_k (y_k - p_k)**2``."""
    residual = y - prob
    residual *= residual
    return residual.sum(axis=1) / y.shape[1]


def logsumexp_rows(z):
    """``log(sum_k exp(z_k))`` for each row of ``z``, without overflow.

    Subtracting the row maximum ``m`` first keeps every exponent at most zero:
    ``logsumexp(z) = m + log(sum_k exp(z_k - m))``. (SciPy's ``logsumexp`` computes the same,
    but its generality costs more than the whole computation on a batch's few outputs.)
    """
    m = z.max(axis=1)
    shifted = z - m[:, np.newaxis]
    np.exp(shifted, out=shifted)
    return np.log(shifted.sum(axis=1)) + m


def log_loss(y, logits, prob, out_activation):
    """Per-sample cross-entropy, from the logits.

    For a sigmoid unit ``-[y log p + (1 - y) log(1 - p)] = softplus(z) - y z``; for a softmax
    row ``-sum_k y_k log p_k = logsumexp(z) - sum_k y_k z_k`` (the rows of ``y`` sum to one).
    """
    y_dot_z = np.einsum("ij,ij->i", y, logits)
    if out_activation == "softmax":
        return logsumexp_rows(logits) - y_dot_z
    return np.logaddexp(0, logits).sum(axis=1) - y_dot_z


def poisson(y, logits, prob, out_activation):
    """Per-sample half Poisson deviance with the log link, ``log p = z``."""
    deviance = xlogy(y, y) - y * logits - y + prob
    return deviance.mean(axis=1)


def absolute_error(y, logits, prob, out_activation):
    """Per-sample ``mean_k |y_k - p_k|``."""
    residual = y - prob
    return np.abs(residual, out=residual).mean(axis=1)


def huber(y, logits, prob, out_activation, delta):
    """Per-sample Huber loss: ``r**2 / 2`` up to ``|r| = delta``, linear beyond."""
    size = np.abs(y - prob)
    quadratic = 0.5 * size * size
    linear = delta * (size - 0.5 * delta)
    return np.where(size <= delta, quadratic, linear).mean(axis=1)


def quantile(y, logits, prob, out_activation, q):
    """Per-sample pinball loss ``max(q r, (q - 1) r)``, ``r = y - p``."""
    residual = y - prob
    return np.maximum(q * residual, (q - 1) * residual).mean(axis=1)


LOSSES = {
    "squared_error": squared_error,
    "log_loss": log_loss,
    "poisson": poisson,
    "absolute_error": absolute_error,
    "huber": huber,
    "quantile": quantile,
}


# The robust losses' derivatives with respect to ``p``, as functions of ``p - y``. Each one
# turns ``out``, which holds ``p - y``, into the derivative in place. At ``p == y`` the loss
# has a kink; the value chosen there is the middle of its subgradients: 0 for the absolute
# error and ``1/2 - q`` for the quantile loss (so that with ``q = 1/2`` it is half the
# absolute error's, as the loss is).
def _absolute_error_derivative(out, parameter):
    """``sign(p - y)``."""
    np.sign(out, out=out)


def _huber_derivative(out, delta):
    """``clip(p - y, -delta, delta)``."""
    np.clip(out, -delta, delta, out=out)


def _quantile_derivative(out, q):
    """``1[p > y] - q`` (``1/2 - q`` at ``p == y``), computed as ``(sign(p - y) + 1) / 2 - q``."""
    np.sign(out, out=out)
    out += 1
    out *= 0.5
    out -= q


ROBUST_DERIVATIVES = {
    "absolute_error": _absolute_error_derivative,
    "huber": _huber_derivative,
    "quantile": _quantile_derivative,
}


def weighted_mean(values: np.ndarray, sample_weight: np.ndarray | None) -> float:
    """Mean of ``values``, weighted by ``sample_weight`` when it is given."""
    if sample_weight is None:
        return float(values.sum()) / values.shape[0]  # np.mean's extra checks cost more here
    return float(values @ sample_weight / sample_weight.sum())


def loss_value(
    loss, out_activation, y, logits, prob, sample_weight=None, loss_parameter=None
) -> float:
    """The (weighted) mean loss of a batch.

    ``loss_parameter`` is Huber's ``delta`` or the quantile ``q`` (see ``LOSS_PARAMETERS``),
    None for the losses that take none.
    """
    parameter = () if loss_parameter is None else (loss_parameter,)
    per_sample = LOSSES[loss](y, logits, prob, out_activation, *parameter)
    return weighted_mean(per_sample, sample_weight)


def output_delta(loss, out_activation, y, prob, sample_weight, out, loss_parameter=None) -> None:
    """Store in ``out`` the gradient of the batch's mean loss with respect to the logits.

    For the pairs that belong together (log-loss with sigmoid or softmax, Poisson with exp),
    the derivative of the loss and the derivative of the output activation cancel into
    ``p - y``. For the squared error the loss's own derivative ``2 (p - y) / n_outputs`` is
    multiplied by the output activation's derivative: with a sigmoid output this is the
    tutorial's ``output_error * sigmoid_derivative(a2)`` (up to its sign and scale). The
    robust losses, with their identity output, give their derivative with respect to ``p``
    (see ``ROBUST_DERIVATIVES``) divided by ``n_outputs``.
    """
    np.subtract(prob, y, out=out)
    scale = 1.0  # the loss's constant factor, applied together with the mean's weights
    if loss == "squared_error":
        DERIVATIVES[out_activation](prob, out)
        scale = 2.0 / y.shape[1]
    elif loss == "poisson":
        scale = 1.0 / y.shape[1]
    elif loss in ROBUST_DERIVATIVES:
        ROBUST_DERIVATIVES[loss](out, loss_parameter)
        scale = 1.0 / y.shape[1]
    if sample_weight is None:
        out *= scale / out.shape[0]
    else:
        out *= (sample_weight * (scale / sample_weight.sum()))[:, np.newaxis]
