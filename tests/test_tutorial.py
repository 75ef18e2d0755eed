"""The tutorial's XOR run, reproduced by the estimator with the parameters README gives.

The reference below is the tutorial's own algorithm (its steps 2-9), restated
in a few lines: sigmoid layers, the MSE loss, backpropagation summed over the samples, and
``W += learning_rate * gradient`` with learning rate 0.1, for 10 000 epochs.
"""

import warnings

import numpy as np
import pytest

from sknn_scratch import ScratchMLPClassifier

XOR_X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]])
XOR_Y = np.array([[0], [1], [1], [0]])
TUTORIAL_PARAMS = dict(
    hidden_size=2,
    activation="sigmoid",
    loss="squared_error",
    solver="sgd",
    batch_size=None,
    momentum=0.0,
    learning_rate=0.2,
    epochs=10000,
    alpha=0.0,
    init="normal",
    tol=0.0,
    random_state=42,
)


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


def tutorial_run(X, y, hidden_size=2, epochs=10000, learning_rate=0.1):
    """The tutorial's ``train_network`` and ``predict``: returns (losses, predictions)."""
    np.random.seed(42)
    W1 = np.random.randn(X.shape[1], hidden_size)
    b1 = np.zeros((1, hidden_size))
    W2 = np.random.randn(hidden_size, y.shape[1])
    b2 = np.zeros((1, y.shape[1]))
    losses = []
    for _ in range(epochs):
        a1 = _sigmoid(X @ W1 + b1)
        a2 = _sigmoid(a1 @ W2 + b2)
        losses.append(np.mean((y - a2) ** 2))
        output_delta = (y - a2) * a2 * (1 - a2)
        hidden_delta = (output_delta @ W2.T) * a1 * (1 - a1)
        W2 += learning_rate * a1.T @ output_delta
        b2 += learning_rate * output_delta.sum(axis=0, keepdims=True)
        W1 += learning_rate * X.T @ hidden_delta
        b1 += learning_rate * hidden_delta.sum(axis=0, keepdims=True)
    predictions = _sigmoid(_sigmoid(X @ W1 + b1) @ W2 + b2)
    return np.array(losses), predictions.ravel()


@pytest.fixture(scope="module")
def tutorial_reference():
    return tutorial_run(XOR_X, XOR_Y)


@pytest.fixture(scope="module")
def reproduced():
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the run must be warning-free apart from convergence
        warnings.filterwarnings("ignore", message=".*has not converged.*")
        return ScratchMLPClassifier(**TUTORIAL_PARAMS).fit(XOR_X, XOR_Y.ravel())


def test_reproduces_the_printed_losses(tutorial_reference, reproduced):
    losses, _ = tutorial_reference
    assert reproduced.n_iter_ == 10000
    assert len(reproduced.loss_curve_) == 10000
    np.testing.assert_allclose(reproduced.loss_curve_[::100], losses[::100], rtol=0, atol=1e-8)


def test_reproduces_the_predictions(tutorial_reference, reproduced):
    _, predictions = tutorial_reference
    proba = reproduced.predict_proba(XOR_X)[:, 1]
    np.testing.assert_allclose(proba, predictions, rtol=0, atol=1e-8)


def test_reproduces_the_initial_weights():
    np.random.seed(42)
    W1, W2 = np.random.randn(2, 2), np.random.randn(2, 1)
    model = ScratchMLPClassifier(**{**TUTORIAL_PARAMS, "epochs": 1}, n_iter_no_change=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(XOR_X, XOR_Y.ravel())
    # one step of size learning_rate * gradient away from the tutorial's initial weights
    assert np.abs(model.coefs_[0] - W1).max() < 0.05
    assert np.abs(model.coefs_[1] - W2).max() < 0.05
    assert model.coefs_[0].shape == W1.shape and model.coefs_[1].shape == W2.shape


def test_the_tutorial_run_is_stuck(reproduced):
    """Its final loss is ~0.128 and two of the four XOR cases sit near 0.5."""
    assert 0.12 < reproduced.loss_ < 0.135
    proba = reproduced.predict_proba(XOR_X)[:, 1]
    assert np.sum(np.abs(proba - 0.5) < 0.05) == 2
    assert reproduced.score(XOR_X, XOR_Y.ravel()) < 1.0


def test_the_tutorial_learning_rate_convention():
    """0.1 with summed, halved gradients is 0.2 with gradients of the mean loss (4 samples)."""
    losses_01, _ = tutorial_run(XOR_X, XOR_Y, epochs=300, learning_rate=0.1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for lr, close in [(0.2, True), (0.1, False)]:
            model = ScratchMLPClassifier(**{**TUTORIAL_PARAMS, "epochs": 300, "learning_rate": lr})
            model.fit(XOR_X, XOR_Y.ravel())
            same = np.allclose(model.loss_curve_, losses_01, rtol=0, atol=1e-10)
            assert same is close


@pytest.mark.parametrize(
    "change",
    [
        {"hidden_size": 8},
        {"solver": "lbfgs", "hidden_size": 4, "activation": "tanh", "loss": "log_loss",
         "init": "glorot", "epochs": 200},
    ],
    ids=["tutorial-with-8-hidden-units", "lbfgs-tanh-logloss"],
)  # fmt: skip
def test_xor_is_solved_with_better_settings(change):
    model = ScratchMLPClassifier(**{**TUTORIAL_PARAMS, **change})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(XOR_X, XOR_Y.ravel())
    assert model.score(XOR_X, XOR_Y.ravel()) == 1.0
    proba = model.predict_proba(XOR_X)[:, 1]
    assert np.all(np.abs(proba - XOR_Y.ravel()) < 0.2)
