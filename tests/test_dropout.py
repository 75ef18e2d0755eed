"""Dropout: inverted masks in training only, reproducible fits, a smaller gap.

The gradient for a fixed mask (every activation, loss, depth, with and without sample
weights) is checked against finite differences on the reference, and the fast core's dropout
fits are held to the reference's, in ``test_reference.py``.
"""

import warnings

import numpy as np
import pytest
from _helpers import fit_quietly
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import log_loss

from sknn_scratch import ScratchMLPClassifier, ScratchMLPRegressor
from sknn_scratch.core import NetworkSpec, make_loss
from sknn_scratch.core.network import Dropout


def test_masks_are_inverted_and_keep_the_expected_output():
    rng = np.random.RandomState(0)
    spec = NetworkSpec((3, 2000, 1), "relu", make_loss("squared_error", "identity"), dropout=0.25)
    dropout = Dropout(0.25, spec.layer_sizes, 50, np.float32, rng).draw(50)
    mask = dropout.masks[0]
    assert mask.dtype == np.float32
    assert set(np.unique(mask)) == {np.float32(0), np.float32(1 / 0.75)}
    assert (mask == 0).mean() == pytest.approx(0.25, abs=0.01)
    assert mask.mean() == pytest.approx(1.0, abs=0.02)


def test_dropout_is_reproducible_and_prediction_uses_every_unit():
    X, y = make_classification(200, 8, random_state=0)
    params = dict(hidden_size=32, dropout=0.5, epochs=5, random_state=3)
    a = fit_quietly(ScratchMLPClassifier(**params), X, y)
    b = fit_quietly(ScratchMLPClassifier(**params), X, y)
    plain = fit_quietly(ScratchMLPClassifier(**{**params, "dropout": 0.0}), X, y)
    assert a.loss_curve_ == b.loss_curve_
    assert all(np.array_equal(u, v) for u, v in zip(a.coefs_, b.coefs_))
    assert a.loss_curve_ != plain.loss_curve_
    # prediction is deterministic: no mask at predict time
    np.testing.assert_array_equal(a.predict_proba(X), a.predict_proba(X))


def test_dropout_narrows_the_gap_on_a_small_overparameterised_problem():
    # 100 noisy training samples, two hidden layers of 256: the network memorises them
    X, y = make_classification(2100, 20, n_informative=5, flip_y=0.1, random_state=0)
    X_train, y_train, X_test, y_test = X[:100], y[:100], X[100:], y[100:]
    results = {}
    for rate in (0.0, 0.5):
        clf = ScratchMLPClassifier(
            hidden_size=(256, 256), activation="relu", alpha=0.0, epochs=200, tol=0.0,
            dropout=rate, random_state=0,
        )  # fmt: skip
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            clf.fit(X_train, y_train)
        results[rate] = (
            clf.score(X_train, y_train) - clf.score(X_test, y_test),
            log_loss(y_test, clf.predict_proba(X_test)),
        )
    (gap_plain, test_loss_plain), (gap_dropout, test_loss_dropout) = results[0.0], results[0.5]
    assert gap_dropout < gap_plain
    assert test_loss_dropout < 0.6 * test_loss_plain


def test_dropout_needs_a_stochastic_solver():
    X, y = make_classification(50, 4, random_state=0)
    with pytest.raises(ValueError, match=r"dropout=0\.2 needs a stochastic solver"):
        ScratchMLPRegressor(solver="lbfgs", dropout=0.2).fit(X, y)
    with pytest.raises(ValueError, match="'dropout' parameter"):
        ScratchMLPRegressor(dropout=1.0).fit(X, y)
