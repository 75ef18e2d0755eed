"""The tutorial's XOR run, reproduced by the estimator with the parameters README gives.

The tutorial's own code (``initialize_network`` to ``predict``, its steps 2-9, copied as it
is printed into ``_tutorial.py``) is run here: sigmoid layers, the MSE loss, backpropagation summed
over the samples, and ``W += learning_rate * gradient`` with learning rate 0.1, for 10 000
epochs. The estimator does the same arithmetic (up to the order of a few sums, which moves
the last bit: 2e-16 after 10 000 epochs), so its numbers are compared to 1e-12.
"""

import contextlib
import io
import re
import warnings

import numpy as np
import pytest
from _tutorial import initialize_network, predict, train_network, tutorial_run

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
TOL = 1e-12  # the sums in another order: 2e-16 after 10 000 epochs




def printed_run(X, y, hidden_size=2, epochs=10000, learning_rate=0.1):
    """The tutorial's ``train_network`` as it runs: the network and the losses it prints."""
    with contextlib.redirect_stdout(io.StringIO()) as output:
        network = train_network(X, y, X.shape[1], hidden_size, y.shape[1], epochs, learning_rate)
    printed = re.findall(r"^Epoch (\d+), Loss: (\S+)$", output.getvalue(), flags=re.MULTILINE)
    assert [int(epoch) for epoch, _ in printed] == list(range(0, epochs, 100))
    return network, np.array([float(loss) for _, loss in printed])


@pytest.fixture(scope="module")
def tutorial_reference():
    """The tutorial's run: every epoch's loss (every 100th is printed) and its predictions."""
    return tutorial_run(XOR_X, XOR_Y)


@pytest.fixture(scope="module")
def reproduced():
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the run must be warning-free apart from convergence
        warnings.filterwarnings("ignore", message=".*has not converged.*")
        return ScratchMLPClassifier(**TUTORIAL_PARAMS).fit(XOR_X, XOR_Y.ravel())


def test_tutorial_run_is_the_tutorials_train_network():
    # tutorial_run (which test_reference.py uses too) is train_network keeping every loss:
    # the losses it keeps include, bit for bit, those train_network prints
    network, printed = printed_run(XOR_X, XOR_Y, epochs=300)
    losses, predictions = tutorial_run(XOR_X, XOR_Y, epochs=300)
    np.testing.assert_array_equal(losses[::100], printed)
    np.testing.assert_array_equal(predictions, predict(network, XOR_X).ravel())


def test_reproduces_the_printed_losses(tutorial_reference, reproduced):
    losses, _ = tutorial_reference
    assert reproduced.n_iter_ == 10000
    assert len(reproduced.loss_curve_) == 10000
    # every loss, the printed ones (every 100th) included
    np.testing.assert_allclose(reproduced.loss_curve_, losses, rtol=0, atol=TOL)


def test_reproduces_the_predictions(tutorial_reference, reproduced):
    _, predictions = tutorial_reference
    proba = reproduced.predict_proba(XOR_X)[:, 1]
    np.testing.assert_allclose(proba, predictions, rtol=0, atol=TOL)


def test_reproduces_the_initial_weights_and_the_first_update():
    model = ScratchMLPClassifier(**{**TUTORIAL_PARAMS, "epochs": 1}, n_iter_no_change=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(XOR_X, XOR_Y.ravel())
    start = initialize_network(2, 2, 1)
    network, _ = printed_run(XOR_X, XOR_Y, epochs=1)  # one update of the tutorial's network
    for name, ours in zip(["W1", "W2", "b1", "b2"], model.coefs_ + model.intercepts_):
        assert ours.shape == start[name].shape[-ours.ndim :]
        np.testing.assert_allclose(ours, network[name].reshape(ours.shape), rtol=0, atol=TOL)
        assert np.abs(ours - start[name].reshape(ours.shape)).max() > 1e-5  # a real step


def test_the_tutorial_run_is_stuck(tutorial_reference, reproduced):
    """Its final loss is ~0.128 and two of the four XOR cases sit near 0.5."""
    losses, predictions = tutorial_reference
    assert reproduced.loss_ == pytest.approx(losses[-1], rel=0, abs=TOL)
    # the tutorial's predictions 0.053, 0.4955, 0.951, 0.5032: the cases (0, 1) and (1, 1)
    # sit within 0.005 of 0.5, on the wrong side, and the run scores 2 out of 4
    assert np.sum(np.abs(predictions - 0.5) < 0.005) == 2
    np.testing.assert_array_equal(reproduced.predict(XOR_X), predictions > 0.5)
    assert reproduced.score(XOR_X, XOR_Y.ravel()) == np.mean((predictions > 0.5) == XOR_Y.ravel())
    assert reproduced.score(XOR_X, XOR_Y.ravel()) == 0.5


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
