"""A diverging run raises TrainingDivergedError, keeps finite weights and leaks no warning."""

import warnings

import numpy as np
import pytest
from sklearn.datasets import load_diabetes, load_iris
from sklearn.exceptions import ConvergenceWarning

from sknn_scratch import ScratchMLPClassifier, ScratchMLPRegressor, TrainingDivergedError


@pytest.fixture(scope="module")
def diabetes():
    return load_diabetes(return_X_y=True)  # unscaled targets in the hundreds


def _no_runtime_warning():
    """Turn any RuntimeWarning (overflow, invalid value) into an error; allow the rest."""
    context = warnings.catch_warnings()
    context.__enter__()
    warnings.simplefilter("ignore", ConvergenceWarning)
    warnings.simplefilter("error", RuntimeWarning)
    return context


@pytest.mark.parametrize("activation", ["relu", "identity", "tanh", "sigmoid"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_huge_learning_rate_raises_and_keeps_finite_weights(diabetes, activation, dtype):
    X, y = diabetes
    reg = ScratchMLPRegressor(
        hidden_size=20, activation=activation, solver="sgd", learning_rate=1e4, epochs=100,
        tol=0.0, random_state=0,
    )  # fmt: skip
    context = _no_runtime_warning()
    try:
        with pytest.raises(TrainingDivergedError) as error:
            reg.fit(X.astype(dtype), y)
        message = str(error.value)
        assert "Training diverged at epoch" in message
        assert "infinite or NaN" in message and "smaller learning_rate" in message
        # the weights kept are those from the start of the failing epoch, and usable
        epoch = int(message.split("epoch ")[1].split(":")[0])
        assert reg.n_iter_ == len(reg.loss_curve_) == epoch - 1
        assert all(np.isfinite(w).all() for w in reg.coefs_ + reg.intercepts_)
        assert all(np.isfinite(reg.loss_curve_))
        assert np.isfinite(reg.predict(X.astype(dtype))).all()
    finally:
        context.__exit__(None, None, None)


def test_training_diverged_error_is_a_value_error_and_an_arithmetic_error():
    assert issubclass(TrainingDivergedError, ValueError)
    assert issubclass(TrainingDivergedError, ArithmeticError)


def test_refit_after_divergence_starts_clean(diabetes):
    X, y = diabetes
    X = (X - X.mean(axis=0)) / X.std(axis=0)
    params = dict(hidden_size=10, activation="relu", solver="sgd", epochs=20, random_state=0)
    reg = ScratchMLPRegressor(learning_rate=1.0, **params)
    with pytest.raises(TrainingDivergedError):
        reg.fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        reg.set_params(learning_rate=1e-3).fit(X, y)
        fresh = ScratchMLPRegressor(learning_rate=1e-3, **params).fit(X, y)
    assert reg.loss_curve_ == fresh.loss_curve_
    assert all(np.array_equal(a, b) for a, b in zip(reg.coefs_, fresh.coefs_))


def test_partial_fit_divergence_keeps_finite_weights(diabetes):
    X, y = diabetes
    reg = ScratchMLPRegressor(
        hidden_size=10, activation="identity", solver="sgd", learning_rate=1e6, random_state=0
    )
    context = _no_runtime_warning()
    try:
        with pytest.raises(TrainingDivergedError):
            for _ in range(20):
                reg.partial_fit(X, y)
        assert all(np.isfinite(w).all() for w in reg.coefs_ + reg.intercepts_)
    finally:
        context.__exit__(None, None, None)


@pytest.mark.parametrize(
    "Estimator, params",
    [
        (ScratchMLPRegressor, dict(solver="adam", learning_rate=1e3)),
        (ScratchMLPRegressor, dict(solver="lbfgs", activation="relu")),
        (ScratchMLPRegressor, dict(loss="poisson", solver="sgd", learning_rate=1e3)),
        (ScratchMLPRegressor, dict(loss="poisson", solver="lbfgs")),
        (ScratchMLPClassifier, dict(solver="sgd", learning_rate=1e8, activation="relu")),
        (ScratchMLPClassifier, dict(solver="lbfgs", activation="identity")),
        (ScratchMLPClassifier, dict(loss="squared_error", solver="sgd", learning_rate=1e8)),
    ],
)
def test_extreme_runs_leak_no_runtime_warning(diabetes, Estimator, params):
    # badly scaled data and huge steps may fail, but only with TrainingDivergedError
    X, y = diabetes
    if Estimator is ScratchMLPClassifier:
        X, y = load_iris(return_X_y=True)
    est = Estimator(hidden_size=10, epochs=20, random_state=0, **params)
    context = _no_runtime_warning()
    try:
        try:
            est.fit(X * 1e3, y)
        except TrainingDivergedError:
            pass
        assert all(np.isfinite(w).all() for w in est.coefs_ + est.intercepts_)
        prediction = est.predict_proba(X) if Estimator is ScratchMLPClassifier else est.predict(X)
        assert np.isfinite(prediction).all()
    finally:
        context.__exit__(None, None, None)


def test_keyboard_interrupt_keeps_the_weights_learnt_so_far(monkeypatch):
    """As in scikit-learn, Ctrl-C ends fit with a warning and a usable, fitted model."""
    from sknn_scratch.core import optimizers

    X, y = load_iris(return_X_y=True)
    original_step = optimizers.Adam.step
    calls = []

    def interrupted_step(self, params, grad):
        calls.append(1)
        if len(calls) == 7:
            raise KeyboardInterrupt
        return original_step(self, params, grad)

    monkeypatch.setattr(optimizers.Adam, "step", interrupted_step)
    clf = ScratchMLPClassifier(hidden_size=5, batch_size=50, epochs=10, random_state=0)
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        clf.fit(X, y)
    messages = [str(w.message) for w in record]
    assert len(messages) == 1 and "interrupted by the user during epoch 3" in messages[0]
    assert clf.n_iter_ == 2 and len(clf.loss_curve_) == 2  # 3 batches per epoch
    assert all(np.isfinite(w).all() for w in clf.coefs_ + clf.intercepts_)
    assert clf.predict(X).shape == y.shape
