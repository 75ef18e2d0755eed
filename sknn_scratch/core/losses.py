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
}


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


LOSSES = {"squared_error": squared_error, "log_loss": log_loss, "poisson": poisson}


def weighted_mean(values: np.ndarray, sample_weight: np.ndarray | None) -> float:
    """Mean of ``values``, weighted by ``sample_weight`` when it is given."""
    if sample_weight is None:
        return float(values.sum()) / values.shape[0]  # np.mean's extra checks cost more here
    return float(values @ sample_weight / sample_weight.sum())


def loss_value(loss, out_activation, y, logits, prob, sample_weight=None) -> float:
    """The (weighted) mean loss of a batch."""
    per_sample = LOSSES[loss](y, logits, prob, out_activation)
    return weighted_mean(per_sample, sample_weight)


def output_delta(loss, out_activation, y, prob, sample_weight, out) -> None:
    """Store in ``out`` the gradient of the batch's mean loss with respect to the logits.

    For the pairs that belong together (log-loss with sigmoid or softmax, Poisson with exp),
    the derivative of the loss and the derivative of the output activation cancel into
    ``p - y``. For the squared error the loss's own derivative ``2 (p - y) / n_outputs`` is
    multiplied by the output activation's derivative: with a sigmoid output this is the
    tutorial's ``output_error * sigmoid_derivative(a2)`` (up to its sign and scale).
    """
    np.subtract(prob, y, out=out)
    scale = 1.0  # the loss's constant factor, applied together with the mean's weights
    if loss == "squared_error":
        DERIVATIVES[out_activation](prob, out)
        scale = 2.0 / y.shape[1]
    elif loss == "poisson":
        scale = 1.0 / y.shape[1]
    if sample_weight is None:
        out *= scale / out.shape[0]
    else:
        out *= (sample_weight * (scale / sample_weight.sum()))[:, np.newaxis]
