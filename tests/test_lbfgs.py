"""solver="lbfgs": SciPy's L-BFGS-B on the flat parameter vector.

Checked three ways: against scikit-learn's MLP started from the same weights (the same
objective handed to the same optimizer), against linear models whose objective a network
without hidden layer minimises exactly, and against its own caps (``epochs``, ``max_fun``),
at which it warns rather than call itself converged.
"""

import warnings
from types import SimpleNamespace

import numpy as np
import pytest
from _helpers import fit_quietly
from _sklearn_twin import fit_twins, max_weight_diff
from scipy.special import expit, softmax
from sklearn.datasets import load_breast_cancer, load_diabetes, load_iris
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression, PoissonRegressor, Ridge
from sklearn.metrics import log_loss
from sklearn.preprocessing import StandardScaler

from sknn_scratch import ScratchMLPClassifier, ScratchMLPRegressor, TrainingDivergedError
from sknn_scratch.core import training


def _scaled(loader, n=None):
    X, y = loader(return_X_y=True)
    return StandardScaler().fit_transform(X[:n]), y[:n]


@pytest.mark.parametrize(
    "loader, n, hidden_size, activation",
    [(load_iris, None, (5, 4), "tanh"), (load_breast_cancer, 200, 6, "sigmoid")],
    ids=["iris-multiclass", "breast-cancer-binary"],
)
@pytest.mark.parametrize("max_fun", [15000, 12])
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "sample_weight"])
def test_lbfgs_matches_sklearn(loader, n, hidden_size, activation, max_fun, weighted):
    # rounding differences grow along the L-BFGS path (1e-15 after 10 iterations, 1e-11
    # after 30, 1e-6 after 50 on iris), so the runs are compared over 25 iterations
    X, y = _scaled(loader, n)
    clf = ScratchMLPClassifier(
        hidden_size=hidden_size, activation=activation, solver="lbfgs", alpha=1e-2, epochs=25,
        max_fun=max_fun, random_state=0,
    )  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        weights = np.random.RandomState(0).uniform(0.2, 3, len(y)) if weighted else None
        ours, sk, _ = fit_twins(clf, X, y, sample_weight=weights)
    assert ours.n_iter_ == sk.n_iter_
    assert ours.loss_ == pytest.approx(sk.loss_, rel=1e-9)
    assert max_weight_diff(ours, sk) < 1e-8
    np.testing.assert_allclose(ours.predict_proba(X), sk.predict_proba(X), atol=1e-9)


def test_epochs_caps_lbfgs_iterations():
    X, y = _scaled(load_iris)
    clf = ScratchMLPClassifier(hidden_size=5, solver="lbfgs", epochs=6, tol=0.0, random_state=0)
    with pytest.warns(ConvergenceWarning, match="epochs=6"):
        clf.fit(X, y)
    assert clf.n_iter_ == len(clf.loss_curve_) == 6
    # every L-BFGS-B iteration ends with a line search that decreased the loss
    assert np.all(np.diff(clf.loss_curve_) < 0)


def test_max_fun_caps_loss_evaluations(monkeypatch):
    from sknn_scratch.core import Backpropagation

    X, y = _scaled(load_iris)
    calls = []
    original = Backpropagation.loss_and_gradient

    def counted(*args, **kwargs):
        calls.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(Backpropagation, "loss_and_gradient", counted)
    clf = ScratchMLPClassifier(
        hidden_size=5, solver="lbfgs", max_fun=9, epochs=1000, tol=0.0, random_state=0
    )
    with pytest.warns(ConvergenceWarning, match="max_fun=9"):
        clf.fit(X, y)
    # L-BFGS-B may finish the line search under way when it reaches the cap
    assert 9 <= len(calls) <= 9 + 20
    assert clf.n_iter_ <= 9


def test_converged_lbfgs_does_not_warn_and_loss_is_the_objective():
    X, y = _scaled(load_iris)
    clf = ScratchMLPClassifier(hidden_size=4, solver="lbfgs", alpha=0.1, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        clf.fit(X, y)
    assert clf.n_iter_ < clf.epochs
    penalty = 0.5 * clf.alpha * sum(np.sum(W**2) for W in clf.coefs_) / len(y)
    assert clf.loss_ == pytest.approx(log_loss(y, clf.predict_proba(X)) + penalty, rel=1e-9)
    assert clf.loss_ == clf.loss_curve_[-1]


def test_lbfgs_stop_at_the_evaluation_cap_is_never_called_converged():
    # SciPy can report "converged" on the evaluation that reaches max_fun; only a small final
    # gradient makes that true
    reached_cap = SimpleNamespace(status=0, nit=8, nfev=10, jac=np.array([0.15, -0.02]))
    assert not training._lbfgs_converged(reached_cap, max_iter=200, max_fun=10, tol=1e-4)
    small_gradient = SimpleNamespace(status=0, nit=8, nfev=10, jac=np.array([5e-5]))
    assert training._lbfgs_converged(small_gradient, max_iter=200, max_fun=10, tol=1e-4)
    stopped = SimpleNamespace(status=1, nit=3, nfev=11, jac=np.array([0.15]))
    assert not training._lbfgs_converged(stopped, max_iter=200, max_fun=10, tol=1e-4)


@pytest.mark.parametrize("activation", ["identity", "relu", "tanh", "sigmoid"])
@pytest.mark.parametrize("max_fun", [2, 5, 10, 20, 40])
def test_lbfgs_warns_whenever_it_stops_at_max_fun(iris, activation, max_fun):
    X, y = iris
    clf = ScratchMLPClassifier(
        hidden_size=5, solver="lbfgs", activation=activation, max_fun=max_fun, random_state=2
    )
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        clf.fit(X, y)
    warned = any(issubclass(w.category, ConvergenceWarning) for w in record)
    if not warned:  # then L-BFGS-B's own test holds at the weights it returned
        from sknn_scratch.core import Backpropagation, Parameters

        params = Parameters.from_arrays(clf.coefs_, clf.intercepts_)
        spec = clf._network_spec(params.layer_sizes)
        Y = clf._label_binarizer.transform(y).astype(float)
        backprop = Backpropagation(params, spec, len(y))
        backprop.loss_and_gradient(X, Y)
        assert np.abs(backprop.grads.flat).max() <= clf.tol


def test_lbfgs_divergence_gives_advice_that_applies_to_lbfgs(diabetes_raw):
    X, y = diabetes_raw
    reg = ScratchMLPRegressor(
        hidden_size=10, loss="poisson", solver="lbfgs", activation="relu", random_state=0
    )
    with pytest.raises(TrainingDivergedError) as error:
        reg.fit(X * 1e4, y)
    message = str(error.value)
    assert "learning_rate" not in message and "Scale the inputs" in message
    assert reg.n_iter_ == len(reg.loss_curve_) == 0
    assert np.isfinite(reg.predict(X * 1e4)).all()


# L-BFGS-B stops on SciPy's default relative-reduction test (ftol ~ 2e-9) at the latest, so
# the objectives agree to ~1e-8 and the coefficients, on a flat optimum, to ~1e-3.


def _logistic_objective(W, b, X, y, alpha):
    logits = X @ W + b
    prob = softmax(logits, axis=1) if logits.shape[1] > 1 else expit(logits).ravel()
    return log_loss(y, prob) + 0.5 * alpha * np.sum(W**2) / len(y)


@pytest.mark.parametrize("loader, n", [(load_iris, None), (load_breast_cancer, 300)])
def test_no_hidden_layer_is_logistic_regression(loader, n):
    X, y = _scaled(loader, n)
    alpha = 0.5
    ours = ScratchMLPClassifier(
        hidden_size=(), solver="lbfgs", alpha=alpha, tol=1e-10, random_state=0
    )
    ours.fit(X, y)
    lr = LogisticRegression(C=1 / alpha, tol=1e-10, max_iter=10000).fit(X, y)
    best = _logistic_objective(lr.coef_.T, lr.intercept_, X, y, alpha)
    assert ours.loss_ == pytest.approx(best, rel=1e-7)
    np.testing.assert_allclose(ours.coefs_[0].T, lr.coef_, atol=2e-3)
    np.testing.assert_allclose(ours.intercepts_[0], lr.intercept_, atol=2e-3)


def test_no_hidden_layer_regressors_are_ridge_and_poisson_regression():
    X, y = _scaled(load_diabetes)
    alpha = 3.0
    ours = ScratchMLPRegressor(
        hidden_size=(), solver="lbfgs", alpha=alpha, tol=1e-10, random_state=0
    ).fit(X, y)
    ridge = Ridge(alpha=alpha / 2).fit(X, y)  # ours: mean((y - p)**2) + alpha/2 |W|^2 / n
    ridge_objective = np.mean(
        (y - ridge.predict(X)) ** 2
    ) + 0.5 * alpha * ridge.coef_ @ ridge.coef_ / len(y)
    assert ours.loss_ == pytest.approx(ridge_objective, rel=1e-7)
    np.testing.assert_allclose(ours.coefs_[0].ravel(), ridge.coef_, atol=5e-3)  # |coef| ~ 20

    poisson = ScratchMLPRegressor(
        hidden_size=(), loss="poisson", solver="lbfgs", alpha=alpha, tol=1e-10, random_state=0
    ).fit(X, y)
    reference = PoissonRegressor(alpha=alpha / len(y), tol=1e-10, max_iter=10000).fit(X, y)
    np.testing.assert_allclose(poisson.coefs_[0].ravel(), reference.coef_, atol=1e-4)
    assert poisson.intercepts_[0][0] == pytest.approx(reference.intercept_, abs=1e-5)


def test_warm_start_continues_lbfgs_from_the_fitted_weights():
    X, y = _scaled(load_iris)
    clf = ScratchMLPClassifier(
        hidden_size=5, solver="lbfgs", epochs=5, tol=0.0, warm_start=True, random_state=0
    )
    fit_quietly(clf, X, y)
    first = list(clf.loss_curve_)
    fit_quietly(clf, X, y)
    assert clf.loss_curve_[:5] == first
    assert len(clf.loss_curve_) == 10 and clf.n_iter_ == 5  # n_iter_: this fit only
    assert clf.loss_curve_[5] < first[-1]  # started where the first fit stopped
    cold = fit_quietly(ScratchMLPClassifier(**{**clf.get_params(), "warm_start": False}), X, y)
    assert cold.loss_curve_ == first


def test_lbfgs_stopping_before_any_iteration_still_reports_the_loss():
    X, y = _scaled(load_iris)
    clf = ScratchMLPClassifier(hidden_size=3, solver="lbfgs", tol=1e3, random_state=0).fit(X, y)
    assert clf.n_iter_ == 0 and clf.loss_curve_ == []
    penalty = 0.5 * clf.alpha * sum(np.sum(W**2) for W in clf.coefs_) / len(y)
    assert clf.loss_ == pytest.approx(log_loss(y, clf.predict_proba(X)) + penalty, rel=1e-9)
