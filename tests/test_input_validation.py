"""Input validation: what fit, partial_fit and predict refuse, and what they accept.

Bad parameters and bad data raise a ValueError that says what is wrong, and a refused call
leaves a fitted model exactly as it was. Valid data in an unusual memory layout (misaligned,
column-major) trains exactly as the usual layout does. Refusals that belong to one feature
live with it: sample and class weights in ``test_sample_and_class_weights.py``, the classes
of partial_fit and warm_start in ``test_partial_fit_and_warm_start.py``, early stopping's
validation set in ``test_early_stopping.py``, the Poisson loss's targets in
``test_losses.py``, other array libraries in ``test_array_api.py``.
"""

import warnings
from unittest import mock

import numpy as np
import pytest
from _helpers import PROPERTY_SETTINGS, fit_quietly, property_data, snapshot
from _sklearn_twin import max_weight_diff
from hypothesis import assume, example, given
from hypothesis import strategies as st
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.utils._param_validation import InvalidParameterError

from sknn_scratch import ScratchMLPClassifier, ScratchMLPRegressor
from sknn_scratch.core.kernels import NumpyKernels

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.fixture(scope="module")
def fitted(iris_raw):
    X, y = iris_raw
    clf = ScratchMLPClassifier(hidden_size=3, epochs=1).fit(X, y)
    reg = ScratchMLPRegressor(hidden_size=3, epochs=1).fit(X, X[:, 0])
    return clf, reg


# ------------------------------------------------------------------ refused, with a message


@pytest.mark.parametrize(
    "params, match",
    [
        (dict(hidden_size=(0,)), r"hidden_size must be a positive int .* got \(0,\)"),
        (dict(hidden_size=(5, -1)), r"positive int or a tuple of positive ints"),
        (dict(hidden_size=(5.5,)), r"positive int or a tuple of positive ints"),
        (dict(hidden_size=0), r"'hidden_size' parameter"),
        (dict(hidden_size="wide"), r"'hidden_size' parameter"),
        (dict(activation="softmax"), r"'activation' parameter .* among"),
        (dict(solver="newton"), r"'solver' parameter"),
        (dict(learning_rate=0), r"'learning_rate' parameter .* range \(0.0, inf\)"),
        (dict(learning_rate_schedule="linear"), r"'learning_rate_schedule' parameter"),
        (dict(batch_size=0), r"'batch_size' parameter"),
        (dict(epochs=0), r"'epochs' parameter"),
        (dict(alpha=-1.0), r"'alpha' parameter"),
        (dict(momentum=1.5), r"'momentum' parameter"),
        (dict(validation_fraction=1.0), r"'validation_fraction' parameter"),
        (dict(n_iter_no_change=0), r"'n_iter_no_change' parameter"),
        (dict(beta_2=1.0), r"'beta_2' parameter"),
        (dict(init="xavier"), r"'init' parameter"),
        (dict(max_fun=0), r"'max_fun' parameter"),
        (dict(loss="hinge"), r"'loss' parameter"),
        (dict(class_weight="auto"), r"'class_weight' parameter"),
        (dict(max_grad_norm=0.0), r"'max_grad_norm' parameter"),
        (dict(max_grad_norm=-1.0), r"'max_grad_norm' parameter"),
        (dict(warmup_epochs=-1), r"'warmup_epochs' parameter"),
    ],
)
def test_bad_parameters_are_named(iris_raw, params, match):
    X, y = iris_raw
    with pytest.raises(ValueError, match=match) as error:
        ScratchMLPClassifier(epochs=params.pop("epochs", 1), **params).fit(X, y)
    # scikit-learn's InvalidParameterError is a ValueError; both kinds say what to do
    assert isinstance(error.value, ValueError)


def test_regressor_rejects_classifier_losses(iris_raw):
    X, y = iris_raw
    with pytest.raises(InvalidParameterError, match="'loss' parameter"):
        ScratchMLPRegressor(loss="log_loss").fit(X, y)


@pytest.mark.parametrize("method", ["predict", "predict_proba", "predict_log_proba"])
def test_wrong_number_of_features_at_predict(fitted, iris_raw, method):
    X, _ = iris_raw
    with pytest.raises(ValueError, match=r"X has 3 features, but .* is expecting 4 features"):
        getattr(fitted[0], method)(X[:, :3])
    with pytest.raises(ValueError, match="X has 5 features"):
        fitted[1].predict(np.hstack([X, X[:, :1]]))


@pytest.mark.parametrize("value", [np.nan, np.inf])
def test_non_finite_input(fitted, iris_raw, value):
    X, y = iris_raw
    bad = X.copy()
    bad[3, 1] = value
    word = "NaN" if np.isnan(value) else "infinity"
    with pytest.raises(ValueError, match=f"Input X contains {word}"):
        ScratchMLPClassifier(epochs=1).fit(bad, y)
    with pytest.raises(ValueError, match=f"Input X contains {word}"):
        fitted[0].predict(bad)
    with pytest.raises(ValueError, match=f"Input y contains {word}"):
        ScratchMLPRegressor(epochs=1).fit(X, np.where(y == 2, value, y))


def test_classifier_target_errors(iris_raw):
    X, y = iris_raw
    with pytest.raises(ValueError, match=r"Unknown label type: 'continuous'.*ScratchMLPRegressor"):
        ScratchMLPClassifier(epochs=1).fit(X, X[:, 0])
    with pytest.raises(ValueError, match=r"only one class \(0\); a classifier needs .* 2"):
        ScratchMLPClassifier(epochs=1).fit(X, np.zeros(len(y), dtype=int))
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        ScratchMLPClassifier(epochs=1).fit(X, y[:-1])
    multilabel = ScratchMLPClassifier(hidden_size=3).partial_fit(X, np.eye(3)[y], classes=[0, 1])
    with pytest.raises(ValueError, match="indicator matrix with 3 columns"):
        multilabel.partial_fit(X, np.eye(4)[y])


def test_bad_arrays(iris_raw):
    X, y = iris_raw
    with pytest.raises(ValueError, match="0 sample"):
        ScratchMLPClassifier().fit(X[:0], y[:0])
    with pytest.raises(ValueError, match="dim 3"):
        ScratchMLPClassifier().fit(X[:, :, None], y)
    with pytest.raises(ValueError, match="could not convert string to float"):
        ScratchMLPRegressor().fit([["a"]] * 4, [1.0, 2.0, 3.0, 4.0])


def test_predict_before_fit():
    with pytest.raises(NotFittedError, match="not fitted yet"):
        ScratchMLPClassifier().predict(np.ones((2, 2)))


def test_no_hidden_layer_is_allowed(iris_raw):
    X, y = iris_raw
    clf = ScratchMLPClassifier(hidden_size=(), solver="lbfgs").fit(X, y)
    assert clf.n_layers_ == 2 and clf.coefs_[0].shape == (4, 3)


# ------------------------------------------------------------------ a refused call changes nothing


@pytest.mark.parametrize(
    "name, value",
    [("activation", "swish"), ("activation", "softmax"), ("random_state", -1),
     ("learning_rate", 0.0), ("momentum", 1.5), ("alpha", -1.0), ("batch_size", 0)],
)  # fmt: skip
def test_partial_fit_validates_parameters_on_every_call(iris, name, value):
    X, y = iris
    clf = ScratchMLPClassifier(hidden_size=3, solver="sgd").partial_fit(X, y, classes=np.unique(y))
    before = snapshot(clf)
    default = clf.get_params()[name]
    clf.set_params(**{name: value})
    with pytest.raises(ValueError, match=f"'{name}' parameter"):
        clf.partial_fit(X, y)
    clf.set_params(**{name: default})
    assert snapshot(clf) == before


def _bad_refits(X, y):
    """Ways to call fit / partial_fit that must be refused, each with the estimator's
    parameters it needs (a call may fail in validation, encoding or network building)."""
    nan_X = X.copy()
    nan_X[0, 0] = np.nan
    return {
        "NaN in X": ({}, (nan_X, y), {}),
        "one class": ({}, (X, np.zeros_like(y)), {}),
        "continuous y": ({}, (X, y + 0.5), {}),
        "mismatched lengths": ({}, (X, y[:-1]), {}),
        "negative sample_weight": ({}, (X, y), {"sample_weight": -np.ones(len(y))}),
        "zero sample_weight": ({}, (X, y), {"sample_weight": np.zeros(len(y))}),
        "bad hidden_size": ({"hidden_size": (3, 0)}, (X, y), {}),
        # refused only once the new data (two classes, two features) have been encoded
        "bad hidden_size, other data": (
            {"hidden_size": (3, 0)}, (X[:, :2], (y == 2).astype(int)), {}
        ),
        "unknown class in class_weight": ({"class_weight": {7: 1.0}}, (X, y), {}),
        "negative class_weight": ({"class_weight": {0: -2.0}}, (X, y), {}),
        "other classes": ({}, (X, np.where(y == 0, 5, y)), {}),
        "fewer features": ({}, (X[:, :2], y), {}),
        "empty X": ({}, (X[:0], y[:0]), {}),
        "complex X": ({}, (X * (1 + 1j), y), {}),
        "complex sample_weight": ({}, (X, y), {"sample_weight": np.ones(len(y)) * 1j}),
        "dropout out of range": ({"dropout": 1.0}, (X, y), {}),
        "unknown activation": ({"activation": "swish"}, (X, y), {}),
        "zero max_grad_norm": ({"max_grad_norm": 0.0}, (X, y), {}),
        "negative warmup_epochs": ({"warmup_epochs": -1}, (X, y), {}),
        "unknown schedule": ({"learning_rate_schedule": "step"}, (X, y), {}),
    }  # fmt: skip


@PROPERTY_SETTINGS
@given(
    seed=st.integers(0, 2**16),
    failure=st.sampled_from(sorted(_bad_refits(*property_data(0)[:2]))),
    method=st.sampled_from(["fit", "partial_fit"]),
    warm_start=st.booleans(),
)
@example(seed=0, failure="bad hidden_size, other data", method="fit", warm_start=False)
def test_a_refused_refit_leaves_the_model_whole(seed, failure, method, warm_start):
    # a fresh fit may change the classes and the features: that is no failure
    fresh_fit = method == "fit" and not warm_start
    assume(not (fresh_fit and failure in ("other classes", "fewer features")))
    assume(not (method == "partial_fit" and failure == "one class"))  # a chunk may hold one
    X, y, _ = property_data(seed)
    clf = ScratchMLPClassifier(hidden_size=3, epochs=3, warm_start=warm_start, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X, y)
    before, outputs = snapshot(clf), clf.predict_proba(X)
    params, args, kwargs = _bad_refits(X, y)[failure]
    original = clf.get_params()
    clf.set_params(**params)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(ValueError):
            getattr(clf, method)(*args, **kwargs)
    clf.set_params(**original)
    assert snapshot(clf) == before
    assert np.array_equal(clf.predict_proba(X), outputs)


# ------------------------------------------------------------------ accepted in any layout


@PROPERTY_SETTINGS
@given(
    seed=st.integers(0, 2**16),
    offset=st.integers(1, 7),
    dtype=st.sampled_from([np.float32, np.float64]),
)
def test_misaligned_input_is_aligned_once_and_trains_identically(seed, offset, dtype):
    X, _, y = property_data(seed)
    X = X.astype(dtype)
    buffer = np.zeros(X.nbytes + offset, dtype=np.uint8)
    misaligned = np.frombuffer(buffer[offset:].data, dtype=dtype).reshape(X.shape)
    misaligned[...] = X
    assert misaligned.flags.aligned == (offset % X.itemsize == 0)
    seen = []
    take_rows = NumpyKernels.take_rows

    def recording_take_rows(self, array, index, out):
        seen.append(array.flags.aligned)
        return take_rows(self, array, index, out)

    params = dict(hidden_size=3, batch_size=8, random_state=seed)
    aligned = ScratchMLPRegressor(**params).partial_fit(X, y)
    with mock.patch.object(NumpyKernels, "take_rows", recording_take_rows):
        trained = ScratchMLPRegressor(**params).partial_fit(misaligned, y)
    assert seen and all(seen)  # every batch is gathered from aligned memory
    assert max_weight_diff(aligned, trained) == 0


@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_column_major_input_trains_as_row_major(iris_raw, solver):
    # a DataFrame's values are often column-major; mini-batches gather its rows differently
    X, y = iris_raw
    params = dict(hidden_size=16, learning_rate=0.01, epochs=60, random_state=0)
    params.update(solver=solver, batch_size=32)
    row_major = fit_quietly(ScratchMLPClassifier(**params), np.ascontiguousarray(X), y)
    column_major = fit_quietly(ScratchMLPClassifier(**params), np.asfortranarray(X), y)
    assert row_major.loss_curve_ == column_major.loss_curve_
    for a, b in zip(row_major.coefs_, column_major.coefs_):
        np.testing.assert_array_equal(a, b)
