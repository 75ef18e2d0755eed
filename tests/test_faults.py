"""Fault paths: every failure leaves the estimator in a known state and says what went wrong.

A divergence is a ValueError; it is undone completely (optimizer state included) in
partial_fit; a network is never handed back with non-finite outputs on its own training data;
early stopping keeps its best validated model when a run blows up; L-BFGS warns whenever it
stops at a cap; bad class weights, classes and parameters are refused before any state
changes.
"""

import pickle
import warnings
from types import SimpleNamespace

import numpy as np
import pytest
from _helpers import fit_quietly
from sklearn.datasets import load_diabetes
from sklearn.exceptions import ConvergenceWarning, DataConversionWarning
from sklearn.preprocessing import StandardScaler

from sknn_scratch import (
    ScratchMLPClassifier,
    ScratchMLPRegressor,
    TrainingDivergedError,
    TrainingDivergedWarning,
)
from sknn_scratch.core import training
from sknn_scratch.core.activations import exp
from sknn_scratch.core.kernels import NumpyKernels


def _snapshot(estimator):
    """Every bit of an estimator's state (parameters, fitted arrays, optimizer, history)."""
    return pickle.dumps(estimator.__dict__)


# ------------------------------------------------------------------ divergence


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


@pytest.mark.parametrize(
    "solver, state", [("sgd", ("velocity",)), ("adam", ("m_scaled", "v_scaled", "t"))]
)
def test_divergence_in_partial_fit_is_undone_with_the_optimizer_state(diabetes, solver, state):
    X, y = diabetes
    reg = ScratchMLPRegressor(hidden_size=10, activation="relu", solver=solver, random_state=0)
    for _ in range(3):
        reg.partial_fit(X, y)
    before = _snapshot(reg)
    optimizer_before = {name: np.copy(getattr(reg._optimizer, name)) for name in state}

    reg.set_params(learning_rate=1e100)
    with pytest.raises(TrainingDivergedError, match="smaller learning_rate"):
        reg.partial_fit(X * 1e200, y)
    reg.set_params(learning_rate=0.01)  # the value it had: the state must be bit for bit equal
    assert _snapshot(reg) == before
    for name in state:
        assert np.array_equal(getattr(reg._optimizer, name), optimizer_before[name])

    # and the advice in the message works: a smaller learning rate trains on
    reg.set_params(learning_rate=1e-6).partial_fit(X, y)
    assert reg.n_iter_ == 1 and len(reg.loss_curve_) == 4
    assert all(np.isfinite(w).all() for w in reg.coefs_)


def test_learning_rate_set_between_partial_fits_takes_effect(diabetes):
    # full-batch SGD without momentum makes one step -lr * grad per call, so the second
    # call's step with lr=b is exactly b/a times the step taken with lr=a
    X, y = diabetes
    params = dict(hidden_size=5, solver="sgd", momentum=0.0, batch_size=None, random_state=0)
    a, b = 0.01, 0.003
    kept = ScratchMLPRegressor(learning_rate=a, **params).partial_fit(X, y)
    changed = ScratchMLPRegressor(learning_rate=a, **params).partial_fit(X, y)
    start = kept.coefs_[0].copy()
    kept.partial_fit(X, y)
    changed.set_params(learning_rate=b).partial_fit(X, y)
    np.testing.assert_allclose(
        changed.coefs_[0] - start, (b / a) * (kept.coefs_[0] - start), rtol=1e-9, atol=1e-15
    )


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


# ------------------------------------------------------------------ L-BFGS


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


def test_lbfgs_divergence_gives_advice_that_applies_to_lbfgs():
    X, y = load_diabetes(return_X_y=True)
    reg = ScratchMLPRegressor(
        hidden_size=10, loss="poisson", solver="lbfgs", activation="relu", random_state=0
    )
    with pytest.raises(TrainingDivergedError) as error:
        reg.fit(X * 1e4, y)
    message = str(error.value)
    assert "learning_rate" not in message and "Scale the inputs" in message
    assert reg.n_iter_ == len(reg.loss_curve_) == 0
    assert np.isfinite(reg.predict(X * 1e4)).all()


# ------------------------------------------------------------------ numerics


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_exp_output_is_finite_for_any_logit(dtype):
    z = np.array([-np.inf, -1e30, 0.0, 88.0, 88.8, 709.0, 710.0, 1e30], dtype=dtype)
    out = np.empty_like(z)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        exp(z, out)
    assert np.isfinite(out).all() and out.dtype == dtype
    assert out[-1] == out.max() > np.finfo(dtype).max / 2


def test_float32_poisson_predictions_are_finite_where_float64_are():
    X, y = load_diabetes(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    params = dict(hidden_size=10, activation="relu", loss="poisson", epochs=30, random_state=0)
    reg64 = fit_quietly(ScratchMLPRegressor(**params), X, y)
    reg32 = fit_quietly(ScratchMLPRegressor(**params), X.astype(np.float32), y)
    far = X * 1e3  # large enough that the log link's output is capped in float32
    assert np.isfinite(reg64.predict(far)).all()
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        predictions = reg32.predict(far.astype(np.float32))
    assert predictions.dtype == np.float32 and np.isfinite(predictions).all()


def _misaligned_copy(array):
    """The values of ``array`` in memory that is not aligned to 8 bytes."""
    buffer = np.empty(array.nbytes + 1, dtype=np.uint8)
    misaligned = np.frombuffer(buffer[1:].data, dtype=array.dtype).reshape(array.shape)
    misaligned[...] = array
    assert not misaligned.flags.aligned
    return misaligned


def test_misaligned_input_is_aligned_once_and_trains_identically(diabetes, monkeypatch):
    X, y = diabetes
    seen = []
    take_rows = NumpyKernels.take_rows

    def recording_take_rows(self, array, index, out):
        seen.append(array.flags.aligned)
        return take_rows(self, array, index, out)

    monkeypatch.setattr(NumpyKernels, "take_rows", recording_take_rows)
    params = dict(hidden_size=5, batch_size=32, random_state=0)
    aligned = ScratchMLPRegressor(**params).partial_fit(X, y)
    misaligned = ScratchMLPRegressor(**params).partial_fit(_misaligned_copy(X), y)
    assert seen and all(seen)  # every batch is gathered from aligned memory
    assert all(np.array_equal(a, b) for a, b in zip(aligned.coefs_, misaligned.coefs_))


# ------------------------------------------------------------------ validation, atomic state


@pytest.mark.parametrize(
    "class_weight",
    [{0: -1.0}, {0: np.nan}, {0: np.inf}, {0: "heavy"}, {0: True}, {1: None}, {0: [1.0]}],
    ids=["negative", "nan", "inf", "text", "bool", "none", "list"],
)
@pytest.mark.parametrize("method", ["fit", "partial_fit"])
def test_invalid_class_weight_values_are_refused(iris, class_weight, method):
    X, y = iris
    clf = ScratchMLPClassifier(hidden_size=3, epochs=2, class_weight=class_weight)
    kwargs = {"classes": np.unique(y)} if method == "partial_fit" else {}
    with pytest.raises(ValueError, match=r"class_weight\["):
        getattr(clf, method)(X, y, **kwargs)
    assert not hasattr(clf, "coefs_")


def test_class_weight_list_is_refused_in_partial_fit_of_a_fitted_model(iris):
    X, y = iris
    clf = ScratchMLPClassifier(hidden_size=3).partial_fit(X, y, classes=np.unique(y))
    before = _snapshot(clf)
    clf.set_params(class_weight=[1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="'class_weight' parameter"):
        clf.partial_fit(X, y)
    clf.set_params(class_weight=None)
    assert _snapshot(clf) == before


def test_column_vector_y_with_dict_class_weight_fits_like_a_1d_y(iris):
    X, y = iris
    params = dict(hidden_size=3, epochs=5, class_weight={0: 3.0}, random_state=0)
    flat = fit_quietly(ScratchMLPClassifier(**params), X, y)
    with pytest.warns(DataConversionWarning):
        column = fit_quietly(ScratchMLPClassifier(**params), X, y.reshape(-1, 1))
    assert all(np.array_equal(a, b) for a, b in zip(flat.coefs_, column.coefs_))


@pytest.mark.parametrize(
    "name, value",
    [("activation", "swish"), ("activation", "softmax"), ("random_state", -1),
     ("learning_rate", 0.0), ("momentum", 1.5), ("alpha", -1.0), ("batch_size", 0)],
)  # fmt: skip
def test_partial_fit_validates_parameters_on_every_call(iris, name, value):
    X, y = iris
    clf = ScratchMLPClassifier(hidden_size=3, solver="sgd").partial_fit(X, y, classes=np.unique(y))
    before = _snapshot(clf)
    default = clf.get_params()[name]
    clf.set_params(**{name: value})
    with pytest.raises(ValueError, match=f"'{name}' parameter"):
        clf.partial_fit(X, y)
    clf.set_params(**{name: default})
    assert _snapshot(clf) == before


def test_failed_refit_leaves_the_previous_model_whole(iris):
    X, y = iris
    clf = fit_quietly(ScratchMLPClassifier(hidden_size=4, epochs=5, random_state=0), X, y)
    before, predictions = _snapshot(clf), clf.predict(X)
    binary = (y == 2).astype(int)
    clf.set_params(hidden_size=(4, 0))  # refused only once the data have been encoded
    with pytest.raises(ValueError, match="hidden_size"):
        clf.fit(X[:, :2], binary)
    clf.set_params(hidden_size=4)
    assert _snapshot(clf) == before
    assert np.array_equal(clf.predict(X), predictions)


@pytest.mark.parametrize("new_classes", [[0, 1], [0, 1, 2, 3], [1, 2, 3]])
def test_warm_start_with_other_classes_names_both_sets(iris, new_classes):
    X, y = iris
    clf = fit_quietly(ScratchMLPClassifier(hidden_size=4, epochs=3, warm_start=True), X, y)
    before = _snapshot(clf)
    y_new = np.resize(np.array(new_classes), len(y))
    with pytest.raises(ValueError, match=r"\[0, 1, 2\].*\[" + ", ".join(map(str, new_classes))):
        clf.fit(X, y_new)
    assert _snapshot(clf) == before


def test_partial_fit_still_accepts_a_subset_of_its_classes(iris):
    X, y = iris
    clf = ScratchMLPClassifier(hidden_size=4).partial_fit(X, y, classes=np.unique(y))
    subset = y < 2
    clf.partial_fit(X[subset], y[subset])
    assert clf.classes_.tolist() == [0, 1, 2] and clf.n_iter_ == 1


def test_sample_weights_summing_to_infinity_are_refused(iris):
    X, y = iris
    weights = np.full(len(y), 1e307)
    with pytest.raises(ValueError, match="sample weights sum to inf"):
        ScratchMLPClassifier(hidden_size=3).fit(X, y, sample_weight=weights)


@pytest.mark.parametrize("exponent", [-200, 200, 1000])
def test_huge_or_tiny_sample_weights_fit_as_their_ratios_say(iris, exponent):
    # the loss is a weighted mean plus alpha / total_weight * |W|^2 / 2: weights and alpha
    # multiplied by the same power of two describe the same model, bit for bit
    X, y = iris
    params = dict(hidden_size=3, epochs=5, random_state=0, class_weight={0: 3.0})
    reference = fit_quietly(ScratchMLPClassifier(alpha=1e-3, **params), X, y)
    weights = np.ldexp(np.ones(len(y)), exponent)
    scaled = fit_quietly(
        ScratchMLPClassifier(alpha=float(np.ldexp(1e-3, exponent)), **params),
        X, y, sample_weight=weights,
    )  # fmt: skip
    assert scaled.loss_curve_ == reference.loss_curve_
    assert all(np.array_equal(a, b) for a, b in zip(scaled.coefs_, reference.coefs_))
