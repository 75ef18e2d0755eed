"""The kinds of targets, and the output layer and predictions each gets.

Binary and multiclass labels of any type, multilabel indicator matrices (independent
sigmoids), one or several regression targets. Predictions are checked against a forward pass
written out here in plain NumPy and against scikit-learn's MLP given the same weights;
training against scikit-learn's MLP started from the same weights, and against linear models.
The Poisson loss's targets and log link are checked in ``test_losses.py``.
"""

import warnings

import numpy as np
import pytest
from _helpers import fit_quietly
from _sklearn_twin import SKLEARN_ACTIVATION, fit_twins, max_weight_diff
from scipy.special import expit, softmax
from sklearn.datasets import load_diabetes, load_iris, make_multilabel_classification
from sklearn.exceptions import ConvergenceWarning, DataConversionWarning
from sklearn.linear_model import Ridge
from sklearn.metrics import f1_score
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.preprocessing import LabelBinarizer, StandardScaler

from sknn_scratch import ScratchMLPClassifier, ScratchMLPRegressor

HIDDEN = {
    "sigmoid": expit,
    "tanh": np.tanh,
    "relu": lambda z: np.maximum(z, 0),
    "identity": lambda z: z,
}


def _logits(est, X):
    """The output layer's input, by a forward pass written out from coefs_ and intercepts_."""
    a = X
    for W, b in zip(est.coefs_[:-1], est.intercepts_[:-1]):
        a = HIDDEN[est.activation](a @ W + b)
    return a @ est.coefs_[-1] + est.intercepts_[-1]


@pytest.fixture(scope="module")
def multilabel():
    X, Y = make_multilabel_classification(
        n_samples=300, n_features=10, n_classes=4, n_labels=2, random_state=0
    )
    return StandardScaler().fit_transform(X), Y


@pytest.fixture(scope="module")
def two_targets():
    X, y = load_diabetes(return_X_y=True)
    X = StandardScaler().fit_transform(X)[:250]
    Y = np.column_stack([y[:250], X[:, 2] * X[:, 3]])
    return X, (Y - Y.mean(axis=0)) / Y.std(axis=0)


# ------------------------------------------------------------------------------ multilabel


def test_multilabel_predicts_an_indicator_matrix_from_independent_sigmoids(multilabel):
    X, Y = multilabel
    clf = fit_quietly(
        ScratchMLPClassifier(hidden_size=20, learning_rate=0.01, random_state=0), X, Y
    )
    assert clf.out_activation_ == "sigmoid" and clf.n_outputs_ == 4
    assert clf.classes_.tolist() == [0, 1, 2, 3]
    proba = clf.predict_proba(X)
    np.testing.assert_allclose(proba, expit(_logits(clf, X)), rtol=1e-12)
    assert not np.allclose(proba.sum(axis=1), 1)  # one probability per label, not a softmax
    prediction = clf.predict(X)
    assert prediction.shape == Y.shape
    np.testing.assert_array_equal(prediction, (proba > 0.5).astype(int))
    assert f1_score(Y, prediction, average="micro") > 0.8


def test_multilabel_training_matches_sklearn(multilabel):
    X, Y = multilabel
    clf = ScratchMLPClassifier(
        hidden_size=12, activation="relu", solver="adam", learning_rate=0.01, batch_size=50,
        shuffle=False, epochs=20, random_state=0,
    )  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ours, sk, _ = fit_twins(clf, X, Y)
    np.testing.assert_allclose(ours.loss_curve_, sk.loss_curve_, rtol=1e-9)
    assert max_weight_diff(ours, sk) < 1e-10
    np.testing.assert_array_equal(ours.predict(X), sk.predict(X))


def test_multilabel_partial_fit_and_early_stopping(multilabel):
    X, Y = multilabel
    clf = ScratchMLPClassifier(hidden_size=10, learning_rate=0.01, random_state=0)
    for chunk in np.array_split(np.arange(len(Y)), 3):
        clf.partial_fit(X[chunk], Y[chunk], classes=np.arange(4))
    assert clf.predict(X).shape == Y.shape
    stopped = fit_quietly(
        ScratchMLPClassifier(hidden_size=10, learning_rate=0.01, early_stopping=True), X, Y
    )
    assert len(stopped.validation_scores_) == stopped.n_iter_


# ------------------------------------------------------------------ the same weights as sklearn


@pytest.mark.parametrize("activation", sorted(HIDDEN))
@pytest.mark.parametrize("target", ["binary", "multiclass", "multilabel"])
def test_predict_proba_equals_sklearn_with_the_same_weights(activation, target, multilabel):
    X, Y = multilabel
    y = {"binary": Y[:, 0], "multiclass": Y[:, 0] + 2 * Y[:, 1], "multilabel": Y}[target]
    ours = fit_quietly(
        ScratchMLPClassifier(hidden_size=(7, 5), activation=activation, epochs=5), X, y
    )
    sk = fit_quietly(
        MLPClassifier(hidden_layer_sizes=(7, 5), activation=SKLEARN_ACTIVATION[activation],
                      max_iter=1),
        X, y,
    )  # fmt: skip
    sk.coefs_, sk.intercepts_ = ours.coefs_, ours.intercepts_
    np.testing.assert_allclose(ours.predict_proba(X), sk.predict_proba(X), rtol=1e-10, atol=1e-15)
    np.testing.assert_array_equal(ours.predict(X), sk.predict(X))
    logits = _logits(ours, X)
    if target == "multiclass":
        probabilities = softmax(logits, axis=1)
    elif target == "binary":
        probabilities = np.hstack([1 - expit(logits), expit(logits)])
    else:
        probabilities = expit(logits)
    np.testing.assert_allclose(ours.predict_proba(X), probabilities, rtol=1e-10, atol=1e-15)


@pytest.mark.parametrize("loss", ["squared_error", "poisson"])
def test_regressor_predict_equals_sklearn_with_the_same_weights(loss):
    X, y = load_diabetes(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    ours = fit_quietly(ScratchMLPRegressor((6, 4), "tanh", loss=loss, epochs=5), X, y)
    sk = fit_quietly(
        MLPRegressor(hidden_layer_sizes=(6, 4), activation="tanh", loss=loss, max_iter=1), X, y
    )
    sk.coefs_, sk.intercepts_ = ours.coefs_, ours.intercepts_
    np.testing.assert_allclose(ours.predict(X), sk.predict(X), rtol=1e-12)
    link = np.exp if loss == "poisson" else (lambda z: z)
    np.testing.assert_allclose(ours.predict(X), link(_logits(ours, X)).ravel(), rtol=1e-12)


# --------------------------------------------------------------------- multi-output regression


def test_multi_output_regression_shapes(two_targets):
    X, Y = two_targets
    reg = fit_quietly(
        ScratchMLPRegressor(hidden_size=16, learning_rate=0.01, random_state=0), X, Y
    )
    assert reg.n_outputs_ == 2 and reg.out_activation_ == "identity"
    assert reg.predict(X).shape == (250, 2)
    np.testing.assert_allclose(reg.predict(X), _logits(reg, X), rtol=1e-12)
    with pytest.warns(DataConversionWarning, match="column-vector y"):
        single = fit_quietly(ScratchMLPRegressor(hidden_size=4, epochs=5), X, Y[:, :1])
    assert single.n_outputs_ == 1
    assert single.predict(X).shape == (250,)


def test_multi_output_loss_is_the_mean_over_entries_and_matches_sklearn(two_targets):
    X, Y = two_targets
    reg = ScratchMLPRegressor(
        hidden_size=8, solver="sgd", learning_rate=0.05, batch_size=50, alpha=0.0,
        shuffle=False, epochs=15, random_state=0,
    )  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ours, sk, scale = fit_twins(reg, X, Y)
    np.testing.assert_allclose(ours.loss_curve_, scale * np.asarray(sk.loss_curve_), rtol=1e-9)
    np.testing.assert_allclose(ours.predict(X), sk.predict(X), rtol=1e-8, atol=1e-10)


def test_multi_output_without_hidden_layer_is_ridge(two_targets):
    X, Y = two_targets
    alpha = 4.0
    reg = ScratchMLPRegressor(
        hidden_size=(), solver="lbfgs", alpha=alpha, tol=1e-10, random_state=0
    ).fit(X, Y)
    # mean over n * k entries of (y - p)**2 + alpha/2 |W|^2 / n is, per target, Ridge with
    # penalty alpha * k / 2
    ridge = Ridge(alpha=alpha * Y.shape[1] / 2).fit(X, Y)
    np.testing.assert_allclose(reg.coefs_[0], ridge.coef_.T, atol=1e-4)
    np.testing.assert_allclose(reg.intercepts_[0], ridge.intercept_, atol=1e-4)


# ------------------------------------------------------------------ labels and probabilities


def test_iris_multiclass_uses_softmax():
    X, y = load_iris(return_X_y=True)
    clf = fit_quietly(ScratchMLPClassifier(hidden_size=5, epochs=5), X, y)
    assert clf.out_activation_ == "softmax"
    np.testing.assert_allclose(clf.predict_proba(X).sum(axis=1), 1, rtol=1e-12)


@pytest.mark.parametrize(
    "labels",
    [np.array(["setosa", "versicolor", "virginica"]), np.array([-3, 0, 7]),
     np.array([2.0, -1.0, 10.0]), np.array(["no", "yes", "yes"])],
    ids=["strings", "negative-ints", "floats", "binary-strings"],
)  # fmt: skip
def test_labels_of_any_type_round_trip(iris, labels):
    # a model fitted on labels is the model fitted on their codes (the positions of the
    # labels in the sorted classes_), predicting classes_[code]
    X, y = iris
    y_labels = labels[y]
    params = dict(hidden_size=16, learning_rate=0.01, epochs=60, random_state=0)
    model = fit_quietly(ScratchMLPClassifier(**params), X, y_labels)
    classes, codes = np.unique(y_labels, return_inverse=True)
    by_code = fit_quietly(ScratchMLPClassifier(**params), X, codes)
    np.testing.assert_array_equal(model.classes_, classes)
    assert model.classes_.dtype == y_labels.dtype
    assert max_weight_diff(model, by_code) == 0
    predicted = model.predict(X)
    assert predicted.dtype == y_labels.dtype
    np.testing.assert_array_equal(predicted, classes[by_code.predict(X)])
    np.testing.assert_array_equal(model.predict_proba(X), by_code.predict_proba(X))
    assert model.predict_proba(X).shape == (len(X), len(classes))
    assert model.score(X, y_labels) == by_code.score(X, codes)


@pytest.mark.parametrize(
    "y",
    [np.array([3, 1, 2, 1]), np.array([0.0, 1.0, 1.0]), np.array([True, False, True]),
     np.array([5, 5, 7], dtype=np.int8), np.array([2, 0, 1], dtype=np.uint16)],
    ids=["ints", "floats", "bools", "int8", "uint16"],
)  # fmt: skip
def test_numeric_labels_get_the_label_binarizers_fitted_state(y):
    """Numeric 1-d labels skip ``LabelBinarizer.fit`` (its checks repeat the estimator's) and
    must leave the binarizer exactly as ``fit`` would: same attributes, classes and dtype,
    the same encoding and decoding."""
    X = np.arange(len(y), dtype=float)[:, None]
    model = fit_quietly(ScratchMLPClassifier(hidden_size=2, epochs=1, random_state=0), X, y)
    fitted = LabelBinarizer().fit(y)
    ours = model._label_binarizer
    assert vars(ours).keys() == vars(fitted).keys()
    assert ours.y_type_ == fitted.y_type_ and ours.sparse_input_ == fitted.sparse_input_
    assert ours.classes_.dtype == fitted.classes_.dtype
    np.testing.assert_array_equal(ours.classes_, fitted.classes_)
    np.testing.assert_array_equal(ours.transform(y), fitted.transform(y))
    assert model.predict(X).dtype == y.dtype


def test_predict_proba_is_a_distribution_strictly_inside_0_1(iris_raw):
    X, y = iris_raw
    params = dict(hidden_size=16, learning_rate=0.5, epochs=60, random_state=0)
    model = fit_quietly(ScratchMLPClassifier(**params), X * 100, y)
    proba = model.predict_proba(X * 100)
    assert np.all((proba > 0) & (proba < 1))
    np.testing.assert_allclose(proba.sum(axis=1), 1, atol=1e-12)
    assert np.isfinite(model.predict_log_proba(X * 100)).all()
