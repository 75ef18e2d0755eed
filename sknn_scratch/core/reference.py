"""The whole mathematics of the package in plain NumPy: the oracle the fast core is held to.

Read it next to the tutorial: the same steps under the same names, grown to any number of
layers and to every activation, loss, optimizer and option of the estimators. Each formula
is written once, as the math reads: no buffers, nothing in place, no compiled loops, nothing
from the rest of the package. ``tests/test_reference.py`` checks every gradient here against
finite differences of :func:`compute_loss`, and holds every fast path (NumPy with and without
Numba, torch, array_api_strict) to this module, to 1e-10.

A network is a dict of lists, ``{"W": [W1, W2, ...], "b": [b1, b2, ...]}``: ``W[0]`` is the
tutorial's ``W1``, of shape ``(n_inputs, n_hidden)``, and ``b[0]`` its ``b1``, of shape
``(n_hidden,)``, as in a fitted estimator's ``coefs_`` and ``intercepts_``. Gradients are
those of the loss and steps go against them (the tutorial folds the sign into ``y - a2``).
"""

import math
from dataclasses import dataclass
from itertools import pairwise

import numpy as np
from scipy.special import expit, logsumexp, ndtr, xlogy

# Step 3. Every hidden activation as (f, f'), both functions of the layer's input z.
ACTIVATIONS = {
    "identity": (lambda z: z, np.ones_like),
    "sigmoid": (expit, lambda z: expit(z) * (1 - expit(z))),  # expit(z) = 1 / (1 + exp(-z))
    "tanh": (np.tanh, lambda z: 1 - np.tanh(z) ** 2),
    "relu": (lambda z: np.maximum(z, 0), lambda z: np.where(z > 0, 1.0, 0.0)),
    "leaky_relu": (lambda z: np.where(z > 0, z, 0.01 * z), lambda z: np.where(z > 0, 1.0, 0.01)),
    "elu": (  # alpha = 1; min(z, 0) keeps the exponential of the branch not taken finite
        lambda z: np.where(z > 0, z, np.expm1(np.minimum(z, 0))),
        lambda z: np.where(z > 0, 1.0, np.exp(np.minimum(z, 0))),
    ),
    "gelu": (  # z Phi(z), Phi the standard normal CDF (ndtr), phi its density
        lambda z: z * ndtr(z),
        lambda z: ndtr(z) + z * np.exp(-z * z / 2) / math.sqrt(2 * math.pi),
    ),
    "softplus": (lambda z: np.logaddexp(0, z), expit),  # log(1 + exp(z)), without overflow
    "silu": (lambda z: z * expit(z), lambda z: expit(z) * (1 + z * expit(-z))),
}

LINKS = {  # the output layer's activation, which the loss decides
    "identity": lambda z: z,
    "sigmoid": expit,
    "softmax": lambda z: np.exp(z - logsumexp(z, axis=1, keepdims=True)),
    "exp": np.exp,  # the Poisson loss's log link: log p = z
}


@dataclass(frozen=True)
class Spec:
    """What a network computes apart from its parameters (the defaults: the tutorial's)."""

    activation: str = "sigmoid"  # every hidden layer's, a key of ACTIVATIONS
    loss: str = "squared_error"  # see compute_loss
    link: str = "sigmoid"  # the output layer's activation, a key of LINKS
    parameter: float | None = None  # Huber's delta, or the quantile q
    alpha: float = 0.0  # the L2 term alpha / 2 * sum(W**2), over the batch's total weight


def initialize_parameters(layer_sizes: list, rng: np.random.RandomState, method: str = "normal",
                          activation: str = "sigmoid") -> dict:  # fmt: skip
    """Step 2: weights drawn from ``rng`` layer by layer (``W1`` first), biases zero.

    ``layer_sizes`` are the units per layer, input first. ``method`` is ``"normal"`` (the
    tutorial's ``np.random.randn``: ``RandomState(42)`` gives its network), ``"glorot"``
    (uniform on ``+-sqrt(6 / (n_in + n_out))``, 2 instead of 6 for sigmoid ``activation``)
    or ``"he"`` (normal, standard deviation ``sqrt(2 / n_in)``).

    Returns
    -------
    network : dict
    """
    W, b = [], []
    for n_in, n_out in pairwise(layer_sizes):
        if method == "normal":
            W.append(rng.standard_normal((n_in, n_out)))
        elif method == "he":
            W.append(rng.normal(0.0, np.sqrt(2 / n_in), size=(n_in, n_out)))
        else:
            bound = np.sqrt((2 if activation == "sigmoid" else 6) / (n_in + n_out))
            W.append(rng.uniform(-bound, bound, size=(n_in, n_out)))
        b.append(np.zeros(n_out))
    return {"W": W, "b": b}


def forward_propagation(network: dict, X: np.ndarray, spec: Spec = Spec(),
                        masks: list | None = None) -> tuple:  # fmt: skip
    """Step 4: ``z = a_prev @ W + b`` and ``a = f(z)``, layer by layer.

    ``masks`` are inverted dropout's: per hidden layer, ``(n_samples, width)``, 0 for a
    dropped unit and ``1 / (1 - rate)`` for a kept one; the layer passes on ``f(z) * mask``.

    Returns
    -------
    output : ndarray of shape (n_samples, n_outputs)
    cache : dict
        ``"z"``, every layer's input, and ``"a"``, what it passed on (the last is ``output``).
    """
    cache = {"z": [], "a": []}
    a, last = X, len(network["W"]) - 1
    for i, (W, b) in enumerate(zip(network["W"], network["b"])):
        z = a @ W + b
        if i < last:
            a = ACTIVATIONS[spec.activation][0](z)
            a = a if masks is None else a * masks[i]
        else:
            a = LINKS[spec.link](z)
        cache["z"].append(z)
        cache["a"].append(a)
    return a, cache


def _weights(Y, sample_weight):
    return np.ones(len(Y)) if sample_weight is None else np.asarray(sample_weight, float)


def compute_loss(network: dict, cache: dict, Y: np.ndarray, spec: Spec = Spec(),
                 sample_weight: np.ndarray | None = None) -> float:  # fmt: skip
    """Step 5: each sample's loss, their mean weighted by ``sample_weight``, plus L2.

    Per sample, with the output ``p``, the output layer's input ``z`` and ``r = y - p``:

    - ``squared_error``: ``mean_k r_k**2``, the tutorial's ``compute_loss``;
    - ``log_loss``: ``-sum_k y_k log p_k + (1 - y_k) log(1 - p_k)`` with sigmoid outputs
      (binary, multilabel), ``-sum_k y_k log p_k`` with softmax (multiclass), both written
      with ``z`` so that they stay finite for any ``z``;
    - ``poisson``: ``mean_k y_k log(y_k / p_k) - y_k + p_k`` (half the deviance; ``log p = z``);
    - ``absolute_error``: ``mean_k |r_k|``;
    - ``huber``: ``mean_k h(r_k)``, ``h(r) = r**2 / 2`` for ``|r| <= delta``, else
      ``delta (|r| - delta / 2)``;
    - ``quantile``: ``mean_k max(q r_k, (q - 1) r_k)``, the pinball loss.

    Returns
    -------
    loss : float
    """
    z, p = cache["z"][-1], cache["a"][-1]
    r = Y - p
    if spec.loss == "squared_error":
        per_sample = np.mean(r**2, axis=1)
    elif spec.loss == "log_loss" and spec.link == "softmax":
        per_sample = logsumexp(z, axis=1) - np.sum(Y * z, axis=1)
    elif spec.loss == "log_loss":  # -log(sigmoid(z)) = softplus(-z) = softplus(z) - z
        per_sample = np.sum(np.logaddexp(0, z) - Y * z, axis=1)
    elif spec.loss == "poisson":
        per_sample = np.mean(xlogy(Y, Y) - Y * z - Y + p, axis=1)
    elif spec.loss == "absolute_error":
        per_sample = np.mean(np.abs(r), axis=1)
    elif spec.loss == "huber":
        d = spec.parameter
        per_sample = np.mean(np.where(np.abs(r) <= d, r**2 / 2, d * (np.abs(r) - d / 2)), axis=1)
    else:
        q = spec.parameter
        per_sample = np.mean(np.maximum(q * r, (q - 1) * r), axis=1)
    w = _weights(Y, sample_weight)
    l2 = spec.alpha / 2 * sum(np.sum(W**2) for W in network["W"])
    return float((np.sum(w * per_sample) + l2) / np.sum(w))


def _output_delta(Y, p, spec):
    """Each sample's loss differentiated with respect to the output layer's input ``z``."""
    n_outputs = Y.shape[1]
    if spec.loss == "log_loss":  # with its sigmoid or softmax, the derivatives cancel: p - y
        return p - Y
    if spec.loss == "poisson":  # with the log link, likewise
        return (p - Y) / n_outputs
    if spec.loss == "absolute_error":  # 0 at the kink p == y
        return np.sign(p - Y) / n_outputs
    if spec.loss == "huber":
        return np.clip(p - Y, -spec.parameter, spec.parameter) / n_outputs
    if spec.loss == "quantile":  # 1[p > y] - q, and 1/2 - q at the kink
        return ((np.sign(p - Y) + 1) / 2 - spec.parameter) / n_outputs
    g = 2 * (p - Y) / n_outputs  # squared error: d/dp, then through the link
    if spec.link == "sigmoid":  # the tutorial's output_error * sigmoid_derivative(a2)
        return g * p * (1 - p)
    if spec.link == "softmax":  # softmax's Jacobian mixes the units of a row
        return p * (g - np.sum(g * p, axis=1, keepdims=True))
    return g


def backward_propagation(network: dict, cache: dict, X: np.ndarray, Y: np.ndarray,
                         spec: Spec = Spec(), sample_weight: np.ndarray | None = None,
                         masks: list | None = None) -> dict:  # fmt: skip
    """Step 6: the gradient of :func:`compute_loss` with respect to every weight and bias.

    ``delta`` is the gradient with respect to a layer's ``z``: ``dW = a_prev.T @ delta +
    alpha W / sum(w)``, ``db`` sums ``delta`` over the samples, and the previous layer's
    ``delta`` is ``(delta @ W.T) * mask * f'(z_prev)``.

    Returns
    -------
    gradients : dict
        ``{"dW": [...], "db": [...]}``, shaped as the network.
    """
    w = _weights(Y, sample_weight)
    delta = _output_delta(Y, cache["a"][-1], spec) * (w / np.sum(w))[:, None]
    n_layers = len(network["W"])
    dW, db = [None] * n_layers, [None] * n_layers
    for i in reversed(range(n_layers)):
        a_prev = X if i == 0 else cache["a"][i - 1]
        dW[i] = a_prev.T @ delta + spec.alpha * network["W"][i] / np.sum(w)
        db[i] = np.sum(delta, axis=0)
        if i > 0:
            delta = delta @ network["W"][i].T
            delta = delta if masks is None else delta * masks[i - 1]
            delta = delta * ACTIVATIONS[spec.activation][1](cache["z"][i - 1])
    return {"dW": dW, "db": db}


@dataclass(frozen=True)
class Optimizer:
    """How gradients become steps (the defaults: the tutorial's plain gradient descent)."""

    solver: str = "sgd"  # or "adam"
    learning_rate: float = 0.1  # the rate that the schedule scales (see learning_rate_at)
    momentum: float = 0.0  # SGD's
    nesterov: bool = False
    beta_1: float = 0.9  # Adam's
    beta_2: float = 0.999
    epsilon: float = 1e-8
    schedule: str = "constant"  # or "invscaling" (power_t), "cosine" (warmup_epochs)
    power_t: float = 0.5
    warmup_epochs: int = 0
    max_grad_norm: float | None = None  # clip each batch's whole gradient to this L2 norm


def learning_rate_at(optimizer: Optimizer, epoch: int, n_seen: int, epochs: int) -> float:
    """The learning rate of ``epoch`` (from 0) of ``epochs``, after ``n_seen`` samples."""
    lr, warmup = optimizer.learning_rate, optimizer.warmup_epochs
    if optimizer.schedule == "invscaling":
        return lr / (n_seen + 1) ** optimizer.power_t
    if optimizer.schedule == "cosine" and epoch < warmup:  # a linear warm-up, then
        return lr * (epoch + 1) / (warmup + 1)
    if optimizer.schedule == "cosine":  # half a cosine, from lr down to 0 at ``epochs``
        progress = min((epoch - warmup) / max(epochs - warmup, 1), 1.0)
        return lr * (1 + math.cos(math.pi * progress)) / 2
    return lr


def update_parameters(network: dict, gradients: dict, learning_rate: float,
                      optimizer: Optimizer = Optimizer(), state: dict | None = None
                      ) -> tuple:  # fmt: skip
    """Step 7: one step against ``gradients``; returns the new network and ``state``.

    ``state`` holds what the optimizer carries from step to step (SGD's velocity, Adam's
    moments and step count); it starts as None. SGD without momentum is the tutorial's step.
    """
    params, grads = network["W"] + network["b"], gradients["dW"] + gradients["db"]
    if optimizer.max_grad_norm is not None:
        norm = math.sqrt(sum(np.sum(g**2) for g in grads))
        if norm > optimizer.max_grad_norm:
            grads = [g * (optimizer.max_grad_norm / norm) for g in grads]
    zeros = [0.0] * len(params)
    state = {"t": 0, "m": zeros, "v": zeros, "velocity": zeros, **(state or {})}
    if optimizer.solver == "adam":
        b1, b2, t = optimizer.beta_1, optimizer.beta_2, state["t"] + 1
        m = [b1 * m + (1 - b1) * g for m, g in zip(state["m"], grads)]
        v = [b2 * v + (1 - b2) * g**2 for v, g in zip(state["v"], grads)]
        lr_t = learning_rate * math.sqrt(1 - b2**t) / (1 - b1**t)
        # The textbook's lr * m_hat / (sqrt(v_hat) + eps) with eps / sqrt(1 - b2**t) for eps
        # (Kingma and Ba's "more efficient" order, section 2; scikit-learn's MLP computes it)
        steps = [-lr_t * m_t / (np.sqrt(v_t) + optimizer.epsilon) for m_t, v_t in zip(m, v)]
        state.update(t=t, m=m, v=v)
    else:
        mu, lr = optimizer.momentum, learning_rate
        velocity = [mu * v - lr * g for v, g in zip(state["velocity"], grads)]
        steps = velocity
        if optimizer.nesterov:  # step to where the velocity is about to take the parameters
            steps = [mu * v - lr * g for v, g in zip(velocity, grads)]
        state["velocity"] = velocity
    params = [p + step for p, step in zip(params, steps)]
    n_layers = len(network["W"])
    return {"W": params[:n_layers], "b": params[n_layers:]}, state


def train_network(network: dict, X: np.ndarray, Y: np.ndarray, spec: Spec = Spec(),
                  optimizer: Optimizer = Optimizer(), *, epochs: int,
                  batch_size: int | None = None, sample_weight: np.ndarray | None = None,
                  dropout: float = 0.0, shuffle: bool = False,
                  rng: np.random.RandomState | None = None) -> tuple:  # fmt: skip
    """Step 8: ``epochs`` passes over ``(X, Y)``, batch by batch (one batch: ``None``).

    An epoch visits the rows in order, or in the order ``rng.permutation`` draws when
    ``shuffle`` and there are several batches; each batch then draws a dropout mask per
    hidden layer from ``rng``, keeping each unit with probability ``1 - dropout`` (the
    estimators draw the same, from their ``random_state`` once the weights are drawn). An
    epoch's loss is the mean of its batches' losses weighted by their total sample weight.

    Returns
    -------
    network : dict
    loss_curve : list of float
        Every epoch's loss (the estimators' ``loss_curve_``).
    """
    n = len(Y)
    batch_size = n if batch_size is None else min(batch_size, n)
    w = _weights(Y, sample_weight)
    state, loss_curve = None, []
    for epoch in range(epochs):
        learning_rate = learning_rate_at(optimizer, epoch, epoch * n, epochs)
        order = rng.permutation(n) if shuffle and batch_size < n else np.arange(n)
        epoch_loss = 0.0
        for start in range(0, n, batch_size):
            rows = order[start : start + batch_size]
            Xb, Yb, wb = X[rows], Y[rows], w[rows]
            masks = None
            if dropout > 0:
                widths = [W.shape[1] for W in network["W"][:-1]]
                masks = [(rng.random_sample((len(rows), k)) >= dropout) / (1 - dropout)
                         for k in widths]  # fmt: skip
            _, cache = forward_propagation(network, Xb, spec, masks)
            epoch_loss += compute_loss(network, cache, Yb, spec, wb) * np.sum(wb)
            gradients = backward_propagation(network, cache, Xb, Yb, spec, wb, masks)
            network, state = update_parameters(network, gradients, learning_rate, optimizer, state)
        loss_curve.append(epoch_loss / np.sum(w))
    return network, loss_curve


def predict(network: dict, X: np.ndarray, spec: Spec = Spec()) -> np.ndarray:
    """Step 9: the network's output for ``X``, with every unit (no dropout)."""
    return forward_propagation(network, X, spec)[0]
