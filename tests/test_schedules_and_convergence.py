"""Stochastic solvers, learning-rate schedules, batching and convergence, against sklearn's MLP.

Each configuration is trained twice from the same weights and random state: by us, and by
scikit-learn's ``MLPClassifier`` / ``MLPRegressor`` (see ``_sklearn_twin``). Same semantics
means the same loss at every epoch, the same stopping epoch and the same final weights.

Shuffling draws the same first permutation as scikit-learn; from the second epoch on the two
orders differ (scikit-learn permutes the previous epoch's order, we permute ``arange``: both
are uniformly random orders), so the epoch-by-epoch comparisons run with ``shuffle=False``
and the shuffled case is compared on its first epoch.
"""

import warnings

import numpy as np
import pytest
from _sklearn_twin import fit_twins, max_weight_diff
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning

from sknn_scratch import ScratchMLPClassifier, ScratchMLPRegressor

STOCHASTIC_CONFIGS = {
    "sgd-constant-nesterov": dict(
        solver="sgd", momentum=0.9, nesterovs_momentum=True, batch_size=32
    ),
    "sgd-constant-plain-momentum": dict(
        solver="sgd", momentum=0.5, nesterovs_momentum=False, batch_size=40, shuffle=False
    ),
    "sgd-invscaling": dict(
        solver="sgd", learning_rate_schedule="invscaling", power_t=0.25, learning_rate=0.5,
        batch_size=25,
    ),
    "sgd-adaptive": dict(
        solver="sgd", learning_rate_schedule="adaptive", momentum=0.0, tol=1e-3,
        n_iter_no_change=2, learning_rate=0.2, epochs=300,
    ),
    "sgd-full-batch": dict(solver="sgd", batch_size=None, momentum=0.0, learning_rate=0.5),
    "adam-auto-batch": dict(solver="adam", learning_rate=0.01, tol=1e-3, n_iter_no_change=3),
    "adam-betas": dict(solver="adam", beta_1=0.8, beta_2=0.99, epsilon=1e-6, batch_size=16),
}  # fmt: skip


@pytest.mark.parametrize("config", STOCHASTIC_CONFIGS.values(), ids=STOCHASTIC_CONFIGS.keys())
def test_classifier_matches_sklearn_epoch_by_epoch(iris, config):
    X, y = iris
    params = dict(
        hidden_size=(6, 4), activation="tanh", alpha=1e-3, epochs=60, random_state=3,
        learning_rate=0.05, shuffle=False,
    )  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ours, sk, scale = fit_twins(ScratchMLPClassifier(**{**params, **config}), X, y)

    assert ours.n_iter_ == sk.n_iter_
    np.testing.assert_allclose(ours.loss_curve_, scale * np.asarray(sk.loss_curve_), rtol=1e-9)
    assert max_weight_diff(ours, sk) < 1e-9
    np.testing.assert_allclose(ours.predict_proba(X), sk.predict_proba(X), atol=1e-10)
    if ours.solver == "sgd":
        assert ours._optimizer.learning_rate == pytest.approx(sk._optimizer.learning_rate)


@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_first_shuffled_epoch_matches_sklearn(iris, solver):
    X, y = iris
    clf = ScratchMLPClassifier(
        hidden_size=5, solver=solver, learning_rate=0.05, batch_size=20, shuffle=True, epochs=1,
        random_state=7,
    )  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ours, sk, _ = fit_twins(clf, X, y)
    unshuffled = ScratchMLPClassifier(**{**clf.get_params(), "shuffle": False})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        unshuffled.fit(X, y)
    assert max_weight_diff(ours, sk) < 1e-12
    assert max_weight_diff(ours, unshuffled) > 1e-4  # the order did change


def test_adaptive_schedule_divides_by_five_until_tiny(iris):
    X, y = iris
    config = STOCHASTIC_CONFIGS["sgd-adaptive"]
    clf = ScratchMLPClassifier(hidden_size=(6, 4), activation="tanh", random_state=3, **config)
    clf.fit(X, y)
    final_rate = clf._optimizer.learning_rate
    divisions = np.log(config["learning_rate"] / final_rate) / np.log(5)
    # training stopped (before the epoch cap) only once the rate fell to 1e-6 or below
    assert clf.n_iter_ < config["epochs"]
    assert divisions == pytest.approx(round(divisions)) and divisions >= 1
    assert final_rate <= 1e-6 < final_rate * 5


@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_regressor_matches_sklearn_epoch_by_epoch(diabetes, solver):
    X, y = diabetes
    reg = ScratchMLPRegressor(
        hidden_size=8, activation="relu", solver=solver, learning_rate=0.01, batch_size=64,
        alpha=1e-2, epochs=40, random_state=0, shuffle=False,
    )  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ours, sk, scale = fit_twins(reg, X, y)
    assert ours.n_iter_ == sk.n_iter_
    np.testing.assert_allclose(ours.loss_curve_, scale * np.asarray(sk.loss_curve_), rtol=1e-9)
    np.testing.assert_allclose(ours.predict(X), sk.predict(X), rtol=1e-9, atol=1e-9)


def _stopping_epoch(loss_curve, tol, n_iter_no_change):
    """The epoch at which scikit-learn's rule stops on this loss curve, or None."""
    best, count = np.inf, 0
    for epoch, loss in enumerate(loss_curve, start=1):
        count = count + 1 if loss > best - tol else 0
        best = min(best, loss)
        if count > n_iter_no_change:
            return epoch
    return None


@pytest.mark.parametrize("tol, n_iter_no_change", [(1e-2, 2), (1e-3, 5), (0.0, 1)])
def test_training_stops_by_tol_and_n_iter_no_change(iris, tol, n_iter_no_change):
    X, y = iris
    clf = ScratchMLPClassifier(
        hidden_size=5, solver="sgd", learning_rate=0.3, batch_size=50, tol=tol,
        n_iter_no_change=n_iter_no_change, epochs=500, random_state=0,
    )  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)  # a converged run does not warn
        clf.fit(X, y)
    assert clf.n_iter_ < 500
    assert clf.n_iter_ == _stopping_epoch(clf.loss_curve_, tol, n_iter_no_change)
    assert clf.best_loss_ == min(clf.loss_curve_)


def test_convergence_warning_when_epochs_run_out(iris):
    X, y = iris
    clf = ScratchMLPClassifier(hidden_size=5, epochs=7, n_iter_no_change=np.inf, random_state=0)
    with pytest.warns(ConvergenceWarning, match="epochs=7"):
        clf.fit(X, y)
    assert clf.n_iter_ == len(clf.loss_curve_) == 7
    assert clf.t_ == 7 * X.shape[0]


def test_batch_size_auto_is_min_of_200_and_n_samples():
    X, y = make_classification(n_samples=450, n_features=6, random_state=0)
    params = dict(hidden_size=4, epochs=3, tol=0.0, learning_rate=0.01, random_state=0)

    def weights(batch_size, n):
        clf = ScratchMLPClassifier(batch_size=batch_size, **params)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            return clf.fit(X[:n], y[:n])

    assert max_weight_diff(weights("auto", 450), weights(200, 450)) == 0
    assert max_weight_diff(weights("auto", 450), weights(201, 450)) > 1e-6
    assert max_weight_diff(weights("auto", 150), weights(150, 150)) == 0
    assert max_weight_diff(weights("auto", 150), weights(None, 150)) == 0


def test_batch_size_larger_than_n_samples_warns_and_clips(iris):
    X, y = iris
    params = dict(hidden_size=4, solver="sgd", epochs=3, tol=0.0, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        full = ScratchMLPClassifier(batch_size=None, **params).fit(X, y)
        with pytest.warns(UserWarning, match="batch_size=1000 is larger"):
            clipped = ScratchMLPClassifier(batch_size=1000, **params).fit(X, y)
    assert max_weight_diff(full, clipped) == 0


def test_shuffle_changes_the_order_but_is_reproducible(iris):
    X, y = iris
    params = dict(hidden_size=4, solver="sgd", epochs=5, tol=0.0, learning_rate=0.1)

    def fit(**kw):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            return ScratchMLPClassifier(**params, **kw).fit(X, y)

    shuffled = fit(batch_size=30, shuffle=True, random_state=0)
    assert max_weight_diff(shuffled, fit(batch_size=30, shuffle=True, random_state=0)) == 0
    assert max_weight_diff(shuffled, fit(batch_size=30, shuffle=False, random_state=0)) > 1e-4
    # a single full batch has no order to change
    full = fit(batch_size=None, shuffle=True, random_state=0)
    assert max_weight_diff(full, fit(batch_size=None, shuffle=False, random_state=0)) == 0
