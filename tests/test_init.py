"""The initial weights (``core/init.py``): init="normal" (the tutorial's), "glorot" and "he".

For "normal" and "glorot" the starting weights are read back from a fit whose single step is
too small to move them (plain gradient descent with learning_rate=1e-300), so nothing private
is needed; "he" is checked on ``initialize_parameters`` itself.
"""

import math

import numpy as np
import pytest
from sklearn.datasets import load_iris

from sknn_scratch import ScratchMLPClassifier, ScratchMLPRegressor
from sknn_scratch.core import initialize_parameters

DTYPES = (np.float32, np.float64)

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def _starting_weights(Estimator, X, y, **params):
    est = Estimator(
        solver="sgd", momentum=0.0, learning_rate=1e-300, epochs=1, alpha=0.0, **params
    )
    return est.fit(X, y)


def test_normal_init_is_the_tutorials_initialize_network():
    X, y = load_iris(return_X_y=True)
    clf = _starting_weights(
        ScratchMLPClassifier, X, y, hidden_size=(5, 4), init="normal", random_state=42
    )
    # the tutorial: np.random.seed(42); W1 = randn(input, hidden); W2 = randn(hidden, output)
    rng = np.random.RandomState(42)
    expected = [rng.randn(4, 5), rng.randn(5, 4), rng.randn(4, 3)]
    for W, W_expected in zip(clf.coefs_, expected):
        np.testing.assert_array_equal(W, W_expected)
    for b in clf.intercepts_:  # zero, up to the 1e-300 step
        np.testing.assert_allclose(b, 0, atol=1e-250)


@pytest.mark.parametrize("activation, factor", [("sigmoid", 2.0), ("tanh", 6.0), ("relu", 6.0)])
def test_glorot_init_is_uniform_within_the_glorot_bound(activation, factor):
    rng = np.random.RandomState(0)
    X, y = rng.standard_normal((50, 60)), rng.standard_normal((50, 3))
    reg = _starting_weights(
        ScratchMLPRegressor, X, y, hidden_size=(80, 40), activation=activation, random_state=0
    )
    for W in reg.coefs_:
        fan_in, fan_out = W.shape
        bound = np.sqrt(factor / (fan_in + fan_out))
        assert np.abs(W).max() <= bound
        assert np.abs(W).max() > 0.9 * bound  # the draws reach the bound
        # a uniform on (-r, r) has mean 0 and variance r**2 / 3 (within 4 standard errors:
        # those of the mean and of the variance of n uniform draws)
        n = W.size
        assert abs(W.mean()) < 4 * bound / np.sqrt(3 * n)
        assert W.var() == pytest.approx(bound**2 / 3, rel=4 * np.sqrt(0.8 / n))
    for b in reg.intercepts_:  # zero, up to the 1e-300 step
        np.testing.assert_allclose(b, 0, atol=1e-250)


def test_random_state_fixes_the_initial_weights():
    X, y = load_iris(return_X_y=True)
    a = _starting_weights(ScratchMLPClassifier, X, y, hidden_size=6, random_state=3)
    b = _starting_weights(ScratchMLPClassifier, X, y, hidden_size=6, random_state=3)
    c = _starting_weights(ScratchMLPClassifier, X, y, hidden_size=6, random_state=4)
    assert np.array_equal(a.coefs_[0], b.coefs_[0])
    assert not np.array_equal(a.coefs_[0], c.coefs_[0])


def test_starting_weights_trick_does_not_move_the_weights():
    # the guard of this file's method: a step of 1e-300 leaves every weight where it was
    X, y = load_iris(return_X_y=True)
    clf = _starting_weights(ScratchMLPClassifier, X, y, hidden_size=6, random_state=0)
    again = ScratchMLPClassifier(
        hidden_size=6, solver="sgd", momentum=0.0, learning_rate=1e-300, epochs=3, alpha=0.0,
        random_state=0,
    )  # fmt: skip
    again.fit(X, y)
    for W, W_again in zip(clf.coefs_, again.coefs_):
        np.testing.assert_array_equal(W, W_again)


def test_he_init_draws_normal_weights_of_variance_2_over_fan_in():
    layer_sizes = (400, 300, 200, 5)
    params = initialize_parameters(layer_sizes, "he", np.random.RandomState(0), "relu")
    for W in params.coefs[:-1]:  # the large layers: 120 000 and 60 000 weights
        std = math.sqrt(2 / W.shape[0])
        assert W.std() == pytest.approx(std, rel=0.02)
        assert abs(W.mean()) < 4 * std / math.sqrt(W.size)
        # a normal: about 68.3% of the draws within one standard deviation
        assert np.mean(np.abs(W) < std) == pytest.approx(0.6827, abs=0.01)
    for b in params.intercepts:
        assert not b.any()


def test_he_init_draws_layer_by_layer_from_the_given_rng():
    layer_sizes = (4, 6, 5, 3)
    for dtype in DTYPES:
        params = initialize_parameters(layer_sizes, "he", np.random.RandomState(7), "gelu", dtype)
        rng = np.random.RandomState(7)
        for W, n_in, n_out in zip(params.coefs, layer_sizes[:-1], layer_sizes[1:]):
            expected = rng.normal(0.0, math.sqrt(2 / n_in), size=(n_in, n_out)).astype(dtype)
            np.testing.assert_array_equal(W, expected)
    # a seed fixes the weights
    first = initialize_parameters(layer_sizes, "he", np.random.RandomState(7), "gelu")
    again = initialize_parameters(layer_sizes, "he", np.random.RandomState(7), "gelu")
    other = initialize_parameters(layer_sizes, "he", np.random.RandomState(8), "gelu")
    np.testing.assert_array_equal(first.flat, again.flat)
    assert not np.array_equal(first.coefs[0], other.coefs[0])
    # a Generator works as well as a RandomState
    generated = initialize_parameters(layer_sizes, "he", np.random.default_rng(0), "relu")
    assert np.isfinite(generated.flat).all() and generated.coefs[0].any()
