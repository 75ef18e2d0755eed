"""The network (``core/network.py``): the fast core's loss and gradient, and the logit bound.

The finite-difference check of backpropagation (every activation, loss and link, with and
without L2, sample weights and dropout) is made on the reference in ``test_reference.py``,
whose oracle grid then holds the fast core to the reference. Here: sample weights as repeated
rows, saturated outputs, and :func:`logit_bound`, the bound on every layer's input that the
divergence checks rely on. The forward pass with each hidden activation is checked in
``test_activations.py``, the dropout masks in ``test_dropout.py``.
"""

import numpy as np
import pytest

from sknn_scratch.core import (
    Backpropagation,
    NetworkSpec,
    initialize_parameters,
    make_loss,
)
from sknn_scratch.core.activations import ACTIVATIONS, HIDDEN_ACTIVATIONS
from sknn_scratch.core.losses import OUTPUT_ACTIVATIONS
from sknn_scratch.core.network import Batch, coarse_logit_bound, forward, logit_bound

N_SAMPLES, N_FEATURES, N_OUTPUTS = 7, 3, 3  # test_activations.py uses these, _spec and _targets
LOSS_OUTPUT_PAIRS = [(loss, out) for loss, outs in OUTPUT_ACTIVATIONS.items() for out in outs]


def _targets(loss, output_activation, rng):
    """Targets of the kind each output layer predicts."""
    if output_activation == "softmax":
        return np.eye(N_OUTPUTS)[rng.randint(N_OUTPUTS, size=N_SAMPLES)]
    if output_activation == "sigmoid":
        return rng.randint(2, size=(N_SAMPLES, N_OUTPUTS)).astype(float)
    if loss == "poisson":
        return rng.poisson(2.0, size=(N_SAMPLES, N_OUTPUTS)).astype(float)
    return rng.normal(size=(N_SAMPLES, N_OUTPUTS))


def _spec(activation, hidden=(5, 4), loss="squared_error", output_activation="identity"):
    layer_sizes = (N_FEATURES, *hidden, N_OUTPUTS)
    return NetworkSpec(layer_sizes, activation, make_loss(loss, output_activation))


def _loss_and_gradient(params, spec, X, Y, sample_weight):
    backprop = Backpropagation(params, spec, N_SAMPLES)
    loss = backprop.loss_and_gradient(X, Y, sample_weight)
    return loss, backprop.grads.flat


# ------------------------------------------------------------------ loss and gradient


@pytest.mark.parametrize("name", HIDDEN_ACTIVATIONS)
def test_keeping_every_hidden_z_changes_no_number(name):
    # what check_gradients and trace_step ask for: every hidden layer's z, kept for display
    rng = np.random.RandomState(0)
    spec = _spec(name, loss="log_loss", output_activation="softmax")
    params = initialize_parameters(spec.layer_sizes, "glorot", rng, name)
    X, Y = rng.normal(size=(N_SAMPLES, N_FEATURES)), _targets("log_loss", "softmax", rng)
    plain = Backpropagation(params, spec, N_SAMPLES)
    keeping = Backpropagation(params, spec, N_SAMPLES, keep_pre_activations=True)
    assert plain.loss_and_gradient(X, Y) == keeping.loss_and_gradient(X, Y)
    assert plain.grads.flat.tobytes() == keeping.grads.flat.tobytes()
    kept = keeping.workspace.batch(name, N_SAMPLES).pre_activations
    a_prev = X
    for i, z in enumerate(kept):  # z = a_prev @ W + b, layer by layer
        expected = a_prev @ params.coefs[i] + params.intercepts[i]
        np.testing.assert_allclose(z, expected, rtol=1e-12, atol=1e-14)
        a_prev = keeping.workspace.activations[i]
    assert len(kept) == len(spec.layer_sizes) - 2


@pytest.mark.parametrize("name", ["relu", "gelu", "sigmoid"])
@pytest.mark.parametrize("dropout", [0.0, 0.3])
def test_deltas_written_over_spent_outputs_change_no_number(name, dropout):
    # a training workspace computes a hidden layer's delta over the outputs of the layer
    # above when they are at least as wide; a workspace keeping every z for display does not
    rng = np.random.RandomState(3)
    hidden = (6, 6, 4, 5)  # deltas 0 and 2 reuse the outputs above; 1 and 3 cannot
    spec = NetworkSpec(
        (N_FEATURES, *hidden, N_OUTPUTS), name, make_loss("log_loss", "softmax"), 0.1, dropout
    )
    params = initialize_parameters(spec.layer_sizes, "glorot", rng, name)
    X, Y = rng.normal(size=(N_SAMPLES, N_FEATURES)), _targets("log_loss", "softmax", rng)
    training = Backpropagation(params, spec, N_SAMPLES, np.random.RandomState(0))
    keeping = Backpropagation(
        params, spec, N_SAMPLES, np.random.RandomState(0), keep_pre_activations=True
    )
    shared = [
        np.shares_memory(delta, above)
        for delta, above in zip(training.workspace.deltas, training.workspace.activations[1:])
    ]
    assert shared == [True, False, True, False]
    assert not any(
        np.shares_memory(delta, above)
        for delta, above in zip(keeping.workspace.deltas, keeping.workspace.activations[1:])
    )
    for n_rows in (N_SAMPLES, N_SAMPLES - 2):  # a full batch, and a last, shorter one
        assert training.loss_and_gradient(X[:n_rows], Y[:n_rows]) == keeping.loss_and_gradient(
            X[:n_rows], Y[:n_rows]
        )
        assert training.grads.flat.tobytes() == keeping.grads.flat.tobytes()


def test_integer_weights_give_the_gradient_of_repeated_rows():
    rng = np.random.RandomState(1)
    X = rng.normal(size=(N_SAMPLES, N_FEATURES))
    Y = _targets("log_loss", "softmax", rng)
    counts = rng.randint(1, 4, size=N_SAMPLES)
    spec = NetworkSpec((N_FEATURES, 6, N_OUTPUTS), "tanh", make_loss("log_loss", "softmax"), 0.1)
    params = initialize_parameters(spec.layer_sizes, "glorot", rng, "tanh")

    weighted = _loss_and_gradient(params, spec, X, Y, counts.astype(float))

    X_rep, Y_rep = np.repeat(X, counts, axis=0), np.repeat(Y, counts, axis=0)
    repeated = Backpropagation(params, spec, len(Y_rep))
    repeated_loss = repeated.loss_and_gradient(X_rep, Y_rep)
    grads = repeated.grads

    np.testing.assert_allclose(weighted[0], repeated_loss, rtol=1e-12)
    np.testing.assert_allclose(weighted[1], grads.flat, rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize(
    "loss, output_activation", [p for p in LOSS_OUTPUT_PAIRS if p[1] in ("sigmoid", "softmax")]
)
def test_loss_is_finite_and_silent_for_extreme_logits(loss, output_activation):
    """Huge weights saturate the output layer; the loss and gradient stay finite, no warning."""
    rng = np.random.RandomState(2)
    X = rng.normal(size=(N_SAMPLES, N_FEATURES)) * 1e3
    Y = _targets(loss, output_activation, rng)
    spec = NetworkSpec((N_FEATURES, 4, N_OUTPUTS), "identity", make_loss(loss, output_activation))
    params = initialize_parameters(spec.layer_sizes, "normal", rng, "identity")
    params.flat *= 1e3
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        loss_value, gradient = _loss_and_gradient(params, spec, X, Y, None)
    assert np.isfinite(loss_value)
    assert np.isfinite(gradient).all()


# ------------------------------------------------------------------ logit_bound


def _every_z(params, spec, X):
    """Every layer's input ``z``, kept by the forward pass."""
    sizes = spec.layer_sizes[1:]
    activations = [np.empty((X.shape[0], w)) for w in sizes]
    pre_activations = [np.empty((X.shape[0], w)) for w in sizes[:-1]]
    logits = np.empty((X.shape[0], sizes[-1]))
    batch = Batch(activations, logits, pre_activations, deltas=[])
    forward(params, spec, X, batch)
    return [*batch.pre_activations, batch.logits]


@pytest.mark.parametrize("name", HIDDEN_ACTIVATIONS)
def test_logit_bound_bounds_every_layer(name):
    rng = np.random.RandomState(0)
    spec = _spec(name, hidden=(6, 5, 4))
    X = rng.uniform(-2, 2, size=(200, N_FEATURES))
    for scale in (0.1, 1.0, 3.0):
        params = initialize_parameters(spec.layer_sizes, "normal", rng, name)
        params.flat[params.n_weights :] = rng.normal(size=params.flat.size - params.n_weights)
        params.flat *= scale
        largest_z = max(np.abs(z).max() for z in _every_z(params, spec, X))
        assert largest_z <= logit_bound(params, spec, 2.0)
        # the free bound from the largest parameter alone is looser, and still a bound
        largest_parameter = float(np.abs(params.flat).max())
        coarse = coarse_logit_bound(spec, 2.0, largest_parameter)
        assert logit_bound(params, spec, 2.0) <= coarse


@pytest.mark.parametrize("name", HIDDEN_ACTIVATIONS)
def test_logit_bound_counts_what_an_activation_makes_of_zero(name):
    # zero first layer: every unit outputs f(0) (1/2 for sigmoid, log 2 for softplus), which
    # a bound that assumed |f(z)| <= |z| would miss
    spec = _spec(name, hidden=(6,))
    params = initialize_parameters(spec.layer_sizes, "normal", np.random.RandomState(0), name)
    params.flat[:] = 0
    params.coefs[1][...] = 1
    X = np.ones((3, N_FEATURES))
    largest_z = max(np.abs(z).max() for z in _every_z(params, spec, X))
    f_of_zero = np.zeros((1, 1))
    ACTIVATIONS[name](f_of_zero, out=f_of_zero)
    assert largest_z == pytest.approx(6 * float(f_of_zero[0, 0]))
    assert largest_z <= logit_bound(params, spec, 1.0)
