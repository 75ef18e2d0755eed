"""The training loop (``core/training.py``): batches, the stopping rule, divergence.

How an epoch visits the data (the batch size, shuffling), when training stops (``tol`` and
``n_iter_no_change``, or the epochs running out, with a ConvergenceWarning that says which),
and what a run that diverges leaves behind: TrainingDivergedError (a ValueError), finite
weights from before the failing epoch, no leaked RuntimeWarning, a partial_fit undone
completely, early stopping's best validated model. A KeyboardInterrupt keeps the weights
learnt so far. L-BFGS's own loop is checked in ``test_lbfgs.py``.
"""

import warnings

import numpy as np
import pytest
from _helpers import PROPERTY_SETTINGS, fit_quietly, property_data, snapshot
from _sklearn_twin import fit_twins, max_weight_diff
from hypothesis import example, given
from hypothesis import strategies as st
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning

from sknn_scratch import (
    ScratchMLPClassifier,
    ScratchMLPRegressor,
    TrainingDivergedError,
    TrainingDivergedWarning,
)
from sknn_scratch.core.activations import HIDDEN_ACTIVATIONS

# ------------------------------------------------------------------ batches and shuffling


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


@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_first_shuffled_epoch_matches_sklearn(iris, solver):
    # scikit-learn permutes the previous epoch's order, we permute arange: the first
    # permutation is the same, the later ones differ (both are uniformly random orders)
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


# ------------------------------------------------------------------ the stopping rule


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


def test_no_convergence_warning_once_converged(iris_raw):
    X, y = iris_raw
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        model = ScratchMLPClassifier(
            hidden_size=16, learning_rate=0.01, epochs=2000, tol=1e-3, random_state=0
        ).fit(X, y)
    assert model.n_iter_ < 2000


def test_rising_loss_is_not_called_improving(diabetes):
    X, y = diabetes
    reg = ScratchMLPRegressor(
        hidden_size=10, activation="identity", solver="sgd", learning_rate=0.1, epochs=4,
        random_state=0,
    )  # fmt: skip
    with pytest.warns(ConvergenceWarning) as record:
        reg.fit(X, y)
    assert reg.loss_curve_[-1] > min(reg.loss_curve_)
    message = str(record[0].message)
    assert "still improving" not in message
    assert f"{reg.loss_curve_[-1]:.6g}" in message and "smaller learning_rate" in message


# ------------------------------------------------------------------ divergence


def _no_runtime_warning():
    """Turn any RuntimeWarning (overflow, invalid value) into an error; allow the rest."""
    context = warnings.catch_warnings()
    context.__enter__()
    warnings.simplefilter("ignore", ConvergenceWarning)
    warnings.simplefilter("error", RuntimeWarning)
    return context


@pytest.mark.parametrize("activation", ["relu", "identity", "tanh", "sigmoid"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_huge_learning_rate_raises_and_keeps_finite_weights(diabetes_raw, activation, dtype):
    X, y = diabetes_raw
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


def test_divergence_is_caught_as_a_value_error(diabetes):
    X, y = diabetes
    reg = ScratchMLPRegressor(
        hidden_size=10, activation="relu", solver="sgd", learning_rate=1e3, random_state=0
    )
    try:
        reg.fit(X * 1e3, y)
    except ValueError as error:  # what model-selection code catches
        assert isinstance(error, TrainingDivergedError)
        assert isinstance(error, ArithmeticError)
        assert error.epoch >= 1 and not error.recovered
    else:
        pytest.fail("the fit did not diverge")
    assert issubclass(TrainingDivergedError, ValueError)
    assert issubclass(TrainingDivergedError, ArithmeticError)


def test_refit_after_divergence_starts_clean(diabetes_raw):
    X, y = diabetes_raw
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


def test_partial_fit_divergence_keeps_finite_weights(diabetes_raw):
    X, y = diabetes_raw
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
    "solver, state", [("sgd", ("velocity",)), ("adam", ("m_scaled", "v_scaled", "t"))]
)
def test_divergence_in_partial_fit_is_undone_with_the_optimizer_state(diabetes, solver, state):
    X, y = diabetes
    reg = ScratchMLPRegressor(hidden_size=10, activation="relu", solver=solver, random_state=0)
    for _ in range(3):
        reg.partial_fit(X, y)
    before = snapshot(reg)
    optimizer_before = {name: np.copy(getattr(reg._optimizer, name)) for name in state}

    reg.set_params(learning_rate=1e100)
    with pytest.raises(TrainingDivergedError, match="smaller learning_rate"):
        reg.partial_fit(X * 1e200, y)
    reg.set_params(learning_rate=0.01)  # the value it had: the state must be bit for bit equal
    assert snapshot(reg) == before
    for name in state:
        assert np.array_equal(getattr(reg._optimizer, name), optimizer_before[name])

    # and the advice in the message works: a smaller learning rate trains on
    reg.set_params(learning_rate=1e-6).partial_fit(X, y)
    assert reg.n_iter_ == 1 and len(reg.loss_curve_) == 4
    assert all(np.isfinite(w).all() for w in reg.coefs_)


@PROPERTY_SETTINGS
@given(
    seed=st.integers(0, 2**16),
    solver=st.sampled_from(["sgd", "adam"]),
    momentum=st.sampled_from([0.0, 0.5, 0.9]),
    warm_up_calls=st.integers(1, 3),
    bad_rate_exponent=st.integers(60, 200),
)
def test_a_diverging_partial_fit_changes_nothing(
    seed, solver, momentum, warm_up_calls, bad_rate_exponent
):
    X, _, y = property_data(seed)
    reg = ScratchMLPRegressor(
        hidden_size=4, activation="identity", solver=solver, momentum=momentum, batch_size=8,
        random_state=seed,
    )  # fmt: skip
    for _ in range(warm_up_calls):
        reg.partial_fit(X, y)
    before = snapshot(reg)
    reg.set_params(learning_rate=10.0**bad_rate_exponent)
    with pytest.raises(TrainingDivergedError):
        reg.partial_fit(X * 1e100, y)
    reg.set_params(learning_rate=0.01)
    assert snapshot(reg) == before
    reg.partial_fit(X, y)
    assert len(reg.loss_curve_) == warm_up_calls + 1


def test_failed_fit_keeps_an_optimizer_that_partial_fit_continues_from(diabetes):
    X, y = diabetes
    reg = ScratchMLPRegressor(
        hidden_size=10, activation="relu", solver="adam", learning_rate=1e100, random_state=0
    )
    with pytest.raises(TrainingDivergedError) as error:
        reg.fit(X * 1e200, y)
    assert reg.n_iter_ == error.value.epoch - 1 == len(reg.loss_curve_)
    assert reg._optimizer.t == reg.n_iter_ * 2  # two batches of 200 per epoch, none since
    assert np.isfinite(reg._optimizer.m_scaled).all()
    reg.set_params(learning_rate=1e-4).partial_fit(X, y)
    assert len(reg.loss_curve_) == error.value.epoch and np.isfinite(reg.loss_curve_).all()


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("batch_size", [None, 2])
def test_finite_weights_with_infinite_outputs_count_as_divergence(dtype, batch_size):
    # relu, sgd, inputs of 1e20: the loss and the weights stay finite, the outputs do not
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=dtype) * dtype(1e20)
    y = np.array([0.0, 1.0, 1.0, 0.0])
    reg = ScratchMLPRegressor(
        activation="relu", solver="sgd", epochs=2, batch_size=batch_size, random_state=0
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        warnings.simplefilter("ignore", ConvergenceWarning)
        try:
            reg.fit(X, y)
        except TrainingDivergedError as error:
            assert "values on the training data" in str(error) or "loss" in str(error)
        assert np.isfinite(reg.predict(X)).all()


def test_early_stopping_keeps_the_best_validated_model_when_a_run_diverges(diabetes):
    X, y = diabetes
    params = dict(
        hidden_size=10, activation="relu", solver="sgd", learning_rate=0.1, early_stopping=True,
        random_state=0,
    )  # fmt: skip
    X_wide = X * 100
    reg = ScratchMLPRegressor(**params)
    with pytest.warns(TrainingDivergedWarning, match="Early stopping kept the parameters of"):
        reg.fit(X_wide, y)
    assert issubclass(TrainingDivergedWarning, ConvergenceWarning)
    assert np.isfinite(reg.predict(X_wide)).all()
    assert reg.n_iter_ == len(reg.validation_scores_) == len(reg.loss_curve_)
    best_epoch = int(np.argmax(reg.validation_scores_)) + 1
    assert reg.best_validation_score_ == max(reg.validation_scores_)
    # the kept weights are those of the best epoch: a run stopped there has the same ones
    shorter = fit_quietly(ScratchMLPRegressor(**{**params, "epochs": best_epoch}), X_wide, y)
    assert all(np.array_equal(a, b) for a, b in zip(reg.coefs_, shorter.coefs_))


def test_early_stopping_without_a_validated_epoch_raises(diabetes):
    X, y = diabetes
    reg = ScratchMLPRegressor(
        hidden_size=10, activation="identity", solver="sgd", learning_rate=1e100,
        early_stopping=True, random_state=0,
    )  # fmt: skip
    with pytest.raises(TrainingDivergedError, match="at epoch 1"):
        reg.fit(X * 1e200, y)
    assert np.isfinite(reg.predict(X)).all()


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
def test_extreme_runs_leak_no_runtime_warning(diabetes_raw, iris_raw, Estimator, params):
    # badly scaled data and huge steps may fail, but only with TrainingDivergedError
    X, y = iris_raw if Estimator is ScratchMLPClassifier else diabetes_raw
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


@PROPERTY_SETTINGS
@given(
    seed=st.integers(0, 2**16),
    classifier=st.booleans(),
    loss_choice=st.booleans(),
    activation=st.sampled_from(HIDDEN_ACTIVATIONS),
    solver=st.sampled_from(["sgd", "adam", "lbfgs"]),
    dtype=st.sampled_from([np.float64, np.float32]),
    input_exponent=st.integers(0, 30),
    rate_exponent=st.integers(-3, 8),
    batch_size=st.sampled_from([None, 4, 16]),
)
# found by hypothesis: the first layer overflowed in float32 behind a sigmoid, which turned
# it back into finite outputs; predict then warned of an overflow
@example(
    seed=0, classifier=True, loss_choice=False, activation="sigmoid", solver="sgd",
    dtype=np.float32, input_exponent=25, rate_exponent=6, batch_size=16,
)  # fmt: skip
def test_every_fit_ends_with_finite_outputs_on_its_training_data(
    seed, classifier, loss_choice, activation, solver, dtype, input_exponent, rate_exponent,
    batch_size,
):  # fmt: skip
    X, y_class, y_count = property_data(seed)
    X = (X * 10.0**input_exponent).astype(dtype)
    Estimator = ScratchMLPClassifier if classifier else ScratchMLPRegressor
    losses = ("log_loss", "squared_error") if classifier else ("squared_error", "poisson")
    estimator = Estimator(
        hidden_size=5, activation=activation, solver=solver, loss=losses[loss_choice],
        learning_rate=10.0**rate_exponent, batch_size=batch_size, epochs=5, random_state=seed,
    )  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # no overflow leaks out either
        warnings.simplefilter("ignore", ConvergenceWarning)
        try:
            estimator.fit(X, y_class if classifier else y_count)
        except TrainingDivergedError as error:
            assert "Training diverged at epoch" in str(error)
            assert ("learning_rate" in str(error)) == (solver != "lbfgs")
        outputs = estimator.predict_proba(X) if classifier else estimator.predict(X)
    assert all(np.isfinite(w).all() for w in estimator.coefs_ + estimator.intercepts_)
    assert np.isfinite(outputs).all()
    assert estimator.n_iter_ <= len(estimator.loss_curve_) or solver == "lbfgs"


# ------------------------------------------------------------------ interruption


def test_keyboard_interrupt_keeps_the_weights_learnt_so_far(iris_raw, monkeypatch):
    """As in scikit-learn, Ctrl-C ends fit with a warning and a usable, fitted model."""
    from sknn_scratch.core import optimizers

    X, y = iris_raw
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
