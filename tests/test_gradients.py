"""Backpropagation against central finite differences, for every piece of the network."""

import numpy as np
import pytest
from _helpers import finite_difference_gradient

from sknn_scratch.core import (
    NetworkSpec,
    Workspace,
    initialize_parameters,
    loss_and_gradient,
    make_loss,
)
from sknn_scratch.core.activations import HIDDEN_ACTIVATIONS
from sknn_scratch.core.losses import OUTPUT_ACTIVATIONS

N_SAMPLES, N_FEATURES, N_OUTPUTS = 7, 3, 3
LOSS_OUTPUT_PAIRS = [(loss, out) for loss, outs in OUTPUT_ACTIVATIONS.items() for out in outs]
HIDDEN_LAYERS = {1: (5,), 2: (5, 4), 3: (4, 5, 3)}


def _targets(loss, output_activation, rng):
    """Targets of the kind each output layer predicts."""
    if output_activation == "softmax":
        return np.eye(N_OUTPUTS)[rng.randint(N_OUTPUTS, size=N_SAMPLES)]
    if output_activation == "sigmoid":
        return rng.randint(2, size=(N_SAMPLES, N_OUTPUTS)).astype(float)
    if loss == "poisson":
        return rng.poisson(2.0, size=(N_SAMPLES, N_OUTPUTS)).astype(float)
    return rng.normal(size=(N_SAMPLES, N_OUTPUTS))


def _loss_and_gradient(params, spec, X, Y, sample_weight):
    workspace = Workspace(spec.layer_sizes, N_SAMPLES, np.float64)
    grads = params.zeros_like()
    loss = loss_and_gradient(params, spec, X, Y, sample_weight, workspace, grads)
    return loss, grads.flat


def _finite_difference_gradient(params, spec, X, Y, sample_weight):
    def loss():
        return _loss_and_gradient(params, spec, X, Y, sample_weight)[0]

    return finite_difference_gradient(loss, params.flat)


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "sample_weight"])
@pytest.mark.parametrize("alpha", [0.0, 0.3])
@pytest.mark.parametrize("depth", sorted(HIDDEN_LAYERS))
@pytest.mark.parametrize("loss, output_activation", LOSS_OUTPUT_PAIRS)
@pytest.mark.parametrize("activation", HIDDEN_ACTIVATIONS)
def test_backprop_matches_finite_differences(
    activation, loss, output_activation, depth, alpha, weighted
):
    rng = np.random.RandomState(0)
    X = rng.normal(size=(N_SAMPLES, N_FEATURES))
    Y = _targets(loss, output_activation, rng)
    sample_weight = rng.uniform(0.2, 3.0, size=N_SAMPLES) if weighted else None
    spec = NetworkSpec(
        layer_sizes=(N_FEATURES, *HIDDEN_LAYERS[depth], N_OUTPUTS),
        hidden_activation=activation,
        loss=make_loss(loss, output_activation),
        alpha=alpha,
    )
    params = initialize_parameters(spec.layer_sizes, "normal", rng, activation)
    n_biases = params.flat.size - params.n_weights
    params.flat[params.n_weights :] = rng.normal(scale=0.5, size=n_biases)
    params.flat *= 0.7  # moderate pre-activations: no saturated units, no relu exactly at 0

    _, analytic = _loss_and_gradient(params, spec, X, Y, sample_weight)
    numeric = _finite_difference_gradient(params, spec, X, Y, sample_weight)

    relative_error = np.linalg.norm(analytic - numeric) / np.linalg.norm(analytic + numeric)
    assert relative_error < 1e-6


def test_integer_weights_give_the_gradient_of_repeated_rows():
    rng = np.random.RandomState(1)
    X = rng.normal(size=(N_SAMPLES, N_FEATURES))
    Y = _targets("log_loss", "softmax", rng)
    counts = rng.randint(1, 4, size=N_SAMPLES)
    spec = NetworkSpec((N_FEATURES, 6, N_OUTPUTS), "tanh", make_loss("log_loss", "softmax"), 0.1)
    params = initialize_parameters(spec.layer_sizes, "glorot", rng, "tanh")

    weighted = _loss_and_gradient(params, spec, X, Y, counts.astype(float))

    X_rep, Y_rep = np.repeat(X, counts, axis=0), np.repeat(Y, counts, axis=0)
    workspace = Workspace(spec.layer_sizes, len(Y_rep), np.float64)
    grads = params.zeros_like()
    repeated_loss = loss_and_gradient(params, spec, X_rep, Y_rep, None, workspace, grads)

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
