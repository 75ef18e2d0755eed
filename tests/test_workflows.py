"""The estimators inside everyday scikit-learn workflows, on real data.

Each workflow's scores are computed a second way: fold by fold by hand, and by scikit-learn's
own MLP trained from the same weights on the same folds (``_sklearn_twin``), so that a score
checks the numbers of a real computation rather than a lower bound a broken model could pass.
"""

import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
from _helpers import fit_quietly
from _sklearn_twin import fit_twins
from sklearn.base import clone
from sklearn.datasets import load_breast_cancer
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import r2_score
from sklearn.model_selection import GridSearchCV, KFold, StratifiedKFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sknn_scratch import ScratchMLPClassifier, ScratchMLPRegressor

FAST = dict(hidden_size=16, learning_rate=0.01, epochs=60, random_state=0)


def _folds_by_hand(network, X, y, cv):
    """Per fold: standardise on the training part, then fit ``network`` (ours) and its
    scikit-learn twin from the same weights; the test part's scaled features and both fits."""
    for train, test in cv.split(X, y):
        scaler = StandardScaler().fit(X[train])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            ours, sk, _ = fit_twins(clone(network), scaler.transform(X[train]), y[train])
        yield scaler.transform(X[test]), y[test], ours, sk


def test_pipeline_with_standard_scaler_learns_breast_cancer():
    # shuffle=False: scikit-learn's MLP then visits the same batches in every epoch (the
    # first epoch's shuffle alone is shared, see _sklearn_twin), so the two fits of a fold
    # agree to rounding error (5e-16 in the weights) and predict the same labels
    X, y = load_breast_cancer(return_X_y=True)
    network = ScratchMLPClassifier(**FAST, shuffle=False)
    cv = StratifiedKFold(3, shuffle=True, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        scores = cross_val_score(make_pipeline(StandardScaler(), network), X, y, cv=cv)
    by_hand, sklearn_scores = [], []
    for X_test, y_test, ours, sk in _folds_by_hand(network, X, y, cv):
        np.testing.assert_allclose(ours.predict_proba(X_test), sk.predict_proba(X_test),
                                   rtol=0, atol=1e-12)  # fmt: skip
        by_hand.append(ours.score(X_test, y_test))
        sklearn_scores.append(sk.score(X_test, y_test))
    np.testing.assert_array_equal(scores, by_hand)  # the same computation, bit for bit
    np.testing.assert_array_equal(scores, sklearn_scores)
    # 183 / 190, 187 / 190, 186 / 189: what both networks predict on the held-out folds
    np.testing.assert_array_equal(scores, [183 / 190, 187 / 190, 186 / 189])


def test_grid_search_over_hidden_size_and_learning_rate(iris_raw):
    X, y = iris_raw
    pipe = make_pipeline(StandardScaler(), ScratchMLPClassifier(**FAST))
    grid = {
        "scratchmlpclassifier__hidden_size": [4, (8,), (8, 4)],
        "scratchmlpclassifier__learning_rate": [1e-4, 5e-2],
    }
    cv = StratifiedKFold(3, shuffle=True, random_state=0)
    search = GridSearchCV(pipe, grid, cv=cv)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        search.fit(X, y)
    assert len(search.cv_results_["params"]) == 6
    # every candidate's mean score is the mean of its folds, each fitted and scored by hand
    for params, mean_score in zip(search.cv_results_["params"],
                                  search.cv_results_["mean_test_score"]):  # fmt: skip
        fold_scores = [
            fit_quietly(clone(pipe).set_params(**params), X[train], y[train]).score(
                X[test], y[test]
            )
            for train, test in cv.split(X, y)
        ]
        assert mean_score == pytest.approx(np.mean(fold_scores), rel=1e-15)
    assert search.best_score_ == max(search.cv_results_["mean_test_score"])
    # 60 epochs at 1e-4 barely move the weights; 5e-2 learns iris
    assert search.best_params_["scratchmlpclassifier__learning_rate"] == 5e-2
    best_hidden = np.atleast_1d(search.best_params_["scratchmlpclassifier__hidden_size"])
    best_net = search.best_estimator_[-1]
    assert [w.shape[1] for w in best_net.coefs_[:-1]] == list(best_hidden)


def test_cross_val_score_regressor_on_diabetes(diabetes_raw):
    X, y = diabetes_raw
    y = (y - y.mean()) / y.std()
    # 25 L-BFGS iterations: rounding differences between the two fits grow along the L-BFGS
    # path (test_lbfgs.py) and stay below 1e-12 in the weights over 25 of them
    network = ScratchMLPRegressor(
        solver="lbfgs", hidden_size=8, alpha=1.0, epochs=25, random_state=0
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        scores = cross_val_score(
            make_pipeline(StandardScaler(), network), X, y, cv=3, scoring="r2"
        )
    by_hand, sklearn_scores = [], []
    for X_test, y_test, ours, sk in _folds_by_hand(network, X, y, KFold(3)):
        assert ours.n_iter_ == sk.n_iter_ == 25
        by_hand.append(r2_score(y_test, ours.predict(X_test)))
        sklearn_scores.append(r2_score(y_test, sk.predict(X_test)))
    np.testing.assert_array_equal(scores, by_hand)  # the same computation, bit for bit
    np.testing.assert_allclose(scores, sklearn_scores, rtol=1e-10)


def test_clone_keeps_parameters_and_drops_fitted_state(iris_raw):
    X, y = iris_raw
    model = fit_quietly(ScratchMLPClassifier(**FAST, alpha=0.5, init="normal"), X, y)
    copy = clone(model)
    assert copy.get_params() == model.get_params()
    assert not hasattr(copy, "coefs_")
    fit_quietly(copy, X, y)
    for a, b in zip(copy.coefs_, model.coefs_):
        np.testing.assert_array_equal(a, b)


def test_pickled_model_predicts_the_same(iris_raw):
    X, y = iris_raw
    model = fit_quietly(ScratchMLPClassifier(**FAST), X, y)
    restored = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(restored.predict_proba(X), model.predict_proba(X))


def test_feature_names_are_kept_from_a_dataframe(iris_raw):
    X, y = iris_raw
    frame = pd.DataFrame(X, columns=["sepal_l", "sepal_w", "petal_l", "petal_w"])
    model = fit_quietly(ScratchMLPClassifier(**FAST), frame, y)
    assert list(model.feature_names_in_) == list(frame.columns)
    assert model.n_features_in_ == 4
    with pytest.warns(UserWarning, match="feature names"):
        model.predict(X)
