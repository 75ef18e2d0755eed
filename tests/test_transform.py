"""``transform``: the last hidden layer's activations, as features for other estimators."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from _helpers import fit_quietly
from scipy.special import expit
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

from sknn_scratch import ScratchMLPClassifier, ScratchMLPRegressor

HIDDEN = {"relu": lambda z: np.maximum(z, 0), "tanh": np.tanh, "sigmoid": expit}


@pytest.mark.parametrize("activation", sorted(HIDDEN))
@pytest.mark.parametrize("Estimator", [ScratchMLPClassifier, ScratchMLPRegressor])
def test_transform_is_the_last_hidden_layer(iris, Estimator, activation):
    X, y = iris
    est = fit_quietly(
        Estimator(hidden_size=(6, 4), activation=activation, epochs=5, random_state=0), X, y
    )
    f = HIDDEN[activation]
    a = X
    for W, b in zip(est.coefs_[:-1], est.intercepts_[:-1]):  # written out, independently
        a = f(a @ W + b)
    features = est.transform(X)
    assert features.shape == (len(X), 4)
    np.testing.assert_allclose(features, a, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(est.transform(sp.csr_matrix(X)), a, rtol=1e-12, atol=1e-14)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        refitted = est.fit_transform(X, y)
    np.testing.assert_allclose(refitted, est.transform(X))


def test_transform_keeps_float32_and_names_its_features(iris):
    X, y = iris
    clf = fit_quietly(ScratchMLPClassifier(hidden_size=3, epochs=5, random_state=0), X, y)
    assert clf.get_feature_names_out().tolist() == [
        "scratchmlpclassifier0", "scratchmlpclassifier1", "scratchmlpclassifier2",
    ]  # fmt: skip
    clf32 = fit_quietly(ScratchMLPClassifier(hidden_size=3, epochs=5), X.astype(np.float32), y)
    assert clf32.transform(X.astype(np.float32)).dtype == np.float32
    pd = pytest.importorskip("pandas")
    frame = clf.set_output(transform="pandas").transform(X)
    assert isinstance(frame, pd.DataFrame)
    assert frame.columns.tolist() == clf.get_feature_names_out().tolist()


def test_learnt_features_feed_another_estimator(iris):
    X, y = iris
    network = ScratchMLPClassifier(hidden_size=8, activation="tanh", epochs=300, random_state=0)
    pipeline = fit_quietly(make_pipeline(network, LogisticRegression()), X, y)
    assert pipeline.score(X, y) > 0.9


def test_transform_needs_a_fitted_network_with_a_hidden_layer(iris):
    X, y = iris
    with pytest.raises(NotFittedError):
        ScratchMLPClassifier().transform(X)
    linear = fit_quietly(ScratchMLPClassifier(hidden_size=(), epochs=5), X, y)
    with pytest.raises(ValueError, match="no hidden layer"):
        linear.transform(X)


@pytest.mark.parametrize("Estimator", [ScratchMLPClassifier, ScratchMLPRegressor])
def test_feature_names_and_transform_refuse_a_network_without_hidden_layers_alike(
    iris, Estimator
):
    X, y = iris
    linear = fit_quietly(Estimator(hidden_size=(), epochs=5, random_state=0), X, y)
    with pytest.raises(ValueError, match="no hidden layer") as transform_error:
        linear.transform(X)
    with pytest.raises(ValueError, match="no hidden layer") as names_error:
        linear.get_feature_names_out()
    assert str(names_error.value) == str(transform_error.value)
    with pytest.raises(NotFittedError):
        Estimator(hidden_size=()).get_feature_names_out()
