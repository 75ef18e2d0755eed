"""``transform``: the last hidden layer's activations, as features for other estimators."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from _helpers import PROPERTY_SETTINGS, fit_quietly, property_data
from _sklearn_twin import max_weight_diff
from hypothesis import given
from hypothesis import strategies as st
from scipy.special import expit
from sklearn.base import clone
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
    # the pipeline is the network fitted alone, its transform, and a logistic regression
    # fitted on those features, done by hand: the same numbers, bit for bit
    X, y = iris
    network = ScratchMLPClassifier(hidden_size=8, activation="tanh", epochs=300, random_state=0)
    pipeline = fit_quietly(make_pipeline(network, LogisticRegression()), X, y)
    alone = fit_quietly(clone(network), X, y)
    features = alone.transform(X)
    by_hand = LogisticRegression().fit(features, y)
    assert max_weight_diff(pipeline[0], alone) == 0
    np.testing.assert_array_equal(pipeline[:-1].transform(X), features)
    np.testing.assert_array_equal(pipeline[-1].coef_, by_hand.coef_)
    np.testing.assert_array_equal(pipeline.predict_proba(X), by_hand.predict_proba(features))
    assert pipeline.score(X, y) == by_hand.score(features, y)


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


@PROPERTY_SETTINGS
@given(
    seed=st.integers(0, 2**16),
    hidden_size=st.sampled_from([(), 3, (4, 2)]),
    classifier=st.booleans(),
)
def test_transform_and_feature_names_agree_on_any_network(seed, hidden_size, classifier):
    X, y_class, y_count = property_data(seed)
    Estimator = ScratchMLPClassifier if classifier else ScratchMLPRegressor
    estimator = Estimator(hidden_size=hidden_size, epochs=2, random_state=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        estimator.fit(X, y_class if classifier else y_count)
    outcomes = []
    for call in (
        lambda: estimator.transform(X).shape[1],
        lambda: len(estimator.get_feature_names_out()),
    ):
        try:
            outcomes.append(call())
        except ValueError as error:
            outcomes.append(str(error))
    assert outcomes[0] == outcomes[1]
    assert isinstance(outcomes[0], str) == (hidden_size == ())
