"""Input dtypes and sparse input: what a network trains and predicts in.

Sparse input trains the model dense input trains, without densifying; float32 stays
float32 (and its Poisson predictions finite where float64's are); integer input trains in
float64. The activations in float32 are checked in ``test_activations.py``, the losses in
``test_losses.py``, other array libraries in ``test_array_api.py``.
"""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from _helpers import fit_quietly
from _sklearn_twin import max_weight_diff
from sklearn.datasets import load_diabetes, load_digits
from sklearn.preprocessing import StandardScaler

from sknn_scratch import ScratchMLPClassifier, ScratchMLPRegressor
from sknn_scratch.core import Backpropagation


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    X = X[:500] / 16  # about half of the entries are zero
    return X, y[:500]


@pytest.fixture(scope="module")
def sparse_regression():
    rng = np.random.RandomState(0)
    X = sp.random(300, 40, density=0.1, format="csr", random_state=rng).toarray()
    y = X @ rng.standard_normal(40) + 0.1 * rng.standard_normal(300)
    return X, y


SOLVERS = {
    "sgd": dict(solver="sgd", learning_rate=0.1, batch_size=64),
    "adam": dict(solver="adam", learning_rate=0.01, batch_size=64),
    "lbfgs": dict(solver="lbfgs"),
    "early-stopping": dict(solver="adam", learning_rate=0.01, early_stopping=True),
}


@pytest.mark.parametrize("config", SOLVERS.values(), ids=SOLVERS.keys())
@pytest.mark.parametrize("sparse_format", [sp.csr_matrix, sp.csc_matrix, sp.csr_array])
def test_sparse_classifier_equals_dense(digits, config, sparse_format):
    X, y = digits
    params = dict(hidden_size=16, epochs=10, random_state=0, **config)
    dense = fit_quietly(ScratchMLPClassifier(**params), X, y)
    sparse = fit_quietly(ScratchMLPClassifier(**params), sparse_format(X), y)
    assert max_weight_diff(dense, sparse) < 1e-7
    np.testing.assert_allclose(dense.loss_curve_, sparse.loss_curve_, rtol=1e-9)
    np.testing.assert_allclose(
        dense.predict_proba(X), sparse.predict_proba(sparse_format(X)), atol=1e-9
    )


@pytest.mark.parametrize("config", SOLVERS.values(), ids=SOLVERS.keys())
def test_sparse_regressor_equals_dense(sparse_regression, config):
    X, y = sparse_regression
    params = dict(hidden_size=8, activation="relu", epochs=10, random_state=0, **config)
    dense = fit_quietly(ScratchMLPRegressor(**params), X, y)
    sparse = fit_quietly(ScratchMLPRegressor(**params), sp.csr_matrix(X), y)
    assert max_weight_diff(dense, sparse) < 1e-7
    np.testing.assert_allclose(dense.predict(X), sparse.predict(sp.csc_matrix(X)), atol=1e-9)


def test_sparse_partial_fit_and_sample_weight_equal_dense(digits):
    X, y = digits
    weights = np.random.RandomState(0).randint(0, 3, len(y))
    params = dict(hidden_size=8, learning_rate=0.01, random_state=0)
    dense, sparse = ScratchMLPClassifier(**params), ScratchMLPClassifier(**params)
    for chunk in np.array_split(np.arange(len(y)), 4):
        dense.partial_fit(X[chunk], y[chunk], classes=np.arange(10), sample_weight=weights[chunk])
        sparse.partial_fit(
            sp.csr_matrix(X[chunk]), y[chunk], classes=np.arange(10), sample_weight=weights[chunk]
        )
    assert max_weight_diff(dense, sparse) < 1e-7


def _refuse_to_densify(monkeypatch, n_features):
    """Make densifying any sparse matrix with ``n_features`` columns (X or rows of X) fail.

    Other sparse matrices may be densified: scikit-learn's LabelBinarizer builds the one-hot
    targets as a sparse matrix and returns them dense.
    """

    def guarded(method):
        def refuse(self, *args, **kwargs):
            if self.shape[1] == n_features:
                raise AssertionError("a sparse matrix was densified")
            return method(self, *args, **kwargs)

        return refuse

    for cls in (sp.csr_matrix, sp.csc_matrix, sp.csr_array, sp.csc_array, sp.coo_matrix):
        monkeypatch.setattr(cls, "toarray", guarded(cls.toarray))
        monkeypatch.setattr(cls, "todense", guarded(cls.todense))


@pytest.mark.parametrize("config", SOLVERS.values(), ids=SOLVERS.keys())
def test_sparse_input_is_never_densified(digits, monkeypatch, config):
    X, y = digits
    X_sparse = sp.csc_matrix(X)
    _refuse_to_densify(monkeypatch, X.shape[1])
    clf = fit_quietly(
        ScratchMLPClassifier(hidden_size=8, epochs=3, random_state=0, **config), X_sparse, y
    )
    clf.predict_proba(X_sparse)
    if config["solver"] != "lbfgs" and not config.get("early_stopping"):
        clf.partial_fit(X_sparse, y)
    with pytest.raises(AssertionError, match="densified"):  # the guard itself works
        X_sparse.toarray()


# ---------------------------------------------------------------------------------- float32


@pytest.mark.parametrize("config", SOLVERS.values(), ids=SOLVERS.keys())
def test_float32_loss_curve_tracks_float64(digits, config):
    X, y = digits
    params = dict(hidden_size=16, epochs=10, random_state=0, **config)
    single = fit_quietly(ScratchMLPClassifier(**params), X.astype(np.float32), y)
    double = fit_quietly(ScratchMLPClassifier(**params), X, y)
    assert len(single.loss_curve_) == len(double.loss_curve_)
    np.testing.assert_allclose(single.loss_curve_, double.loss_curve_, rtol=1e-3)
    if config.get("early_stopping"):
        np.testing.assert_allclose(
            single.validation_loss_curve_, double.validation_loss_curve_, rtol=1e-3
        )
    np.testing.assert_allclose(single.predict_proba(X), double.predict_proba(X), atol=1e-3)


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "sparse"])
def test_float32_trains_and_predicts_in_float32(digits, monkeypatch, sparse):
    X, y = digits
    X32 = X.astype(np.float32)
    X32 = sp.csr_matrix(X32) if sparse else X32
    seen = set()
    original = Backpropagation.loss_and_gradient

    def recording(backprop, X_batch, Y_batch, w_batch=None, dropout=None):
        masks = backprop.dropout
        seen.update(
            {X_batch.dtype, Y_batch.dtype, backprop.params.flat.dtype, backprop.grads.flat.dtype}
            | {a.dtype for a in backprop.workspace.activations}
            | ({w_batch.dtype} if w_batch is not None else set())
            | {m.dtype for m in ([] if masks is None else masks.all_masks + masks.all_outputs)}
        )
        return original(backprop, X_batch, Y_batch, w_batch, dropout)

    monkeypatch.setattr(Backpropagation, "loss_and_gradient", recording)
    clf = fit_quietly(
        ScratchMLPClassifier(hidden_size=8, epochs=3, dropout=0.2, random_state=0),
        X32, y, sample_weight=np.ones(len(y)),
    )  # fmt: skip
    assert seen == {np.dtype(np.float32)}
    assert all(c.dtype == np.float32 for c in clf.coefs_ + clf.intercepts_)
    assert clf.predict_proba(X32).dtype == np.float32
    assert clf.predict_proba(X).dtype == np.float32  # a float32 model predicts in float32


def test_float32_regressor_and_lbfgs(sparse_regression):
    X, y = sparse_regression
    for solver in ("adam", "lbfgs"):
        reg = fit_quietly(
            ScratchMLPRegressor(hidden_size=8, solver=solver, epochs=10, random_state=0),
            X.astype(np.float32), y,
        )  # fmt: skip
        assert reg.coefs_[0].dtype == np.float32
        assert reg.predict(X.astype(np.float32)).dtype == np.float32


def test_float32_poisson_predictions_are_finite_where_float64_are(diabetes_raw):
    X, y = diabetes_raw
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


def test_integer_input_is_trained_in_float64():
    X, y = load_diabetes(return_X_y=True)
    X_int = np.round(StandardScaler().fit_transform(X) * 10).astype(np.int64)
    reg = fit_quietly(ScratchMLPRegressor(hidden_size=4, epochs=3), X_int, y)
    assert reg.coefs_[0].dtype == np.float64


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "sparse"])
def test_partial_fit_and_warm_start_keep_the_networks_dtype(digits, sparse):
    # a float64 chunk continues a float32 network in float32, Adam's moments included
    X, y = digits
    convert = sp.csr_matrix if sparse else np.asarray
    chunks = np.array_split(np.arange(len(y)), 3)
    params = dict(hidden_size=8, learning_rate=0.01, random_state=0)
    mixed, single = ScratchMLPClassifier(**params), ScratchMLPClassifier(**params)
    for i, chunk in enumerate(chunks):
        X_chunk = X[chunk].astype(np.float32 if i == 0 else np.float64)
        mixed.partial_fit(convert(X_chunk), y[chunk], classes=np.arange(10))
        single.partial_fit(convert(X[chunk].astype(np.float32)), y[chunk], classes=np.arange(10))
    assert mixed.coefs_[0].dtype == np.float32
    assert max_weight_diff(mixed, single) == 0
    warm = fit_quietly(
        ScratchMLPClassifier(epochs=2, warm_start=True, **params), X.astype(np.float32), y
    )
    fit_quietly(warm, X, y)
    assert warm.coefs_[0].dtype == np.float32
