"""The estimators inside everyday scikit-learn workflows, on real data."""

import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
from _helpers import fit_quietly
from sklearn.base import clone
from sklearn.datasets import load_breast_cancer, load_diabetes, load_iris
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, StratifiedKFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sknn_scratch import ScratchMLPClassifier, ScratchMLPRegressor

FAST = dict(hidden_size=16, learning_rate=0.01, epochs=60, random_state=0)


@pytest.fixture(scope="module")
def iris():
    return load_iris(return_X_y=True)


def test_pipeline_with_standard_scaler_learns_breast_cancer():
    X, y = load_breast_cancer(return_X_y=True)
    pipe = make_pipeline(StandardScaler(), ScratchMLPClassifier(**FAST))
    scores = cross_val_score(pipe, X, y, cv=StratifiedKFold(3, shuffle=True, random_state=0))
    assert scores.mean() > 0.95


def test_grid_search_over_hidden_size_and_learning_rate(iris):
    X, y = iris
    pipe = make_pipeline(StandardScaler(), ScratchMLPClassifier(**FAST))
    grid = {
        "scratchmlpclassifier__hidden_size": [4, (8,), (8, 4)],
        "scratchmlpclassifier__learning_rate": [1e-4, 5e-2],
    }
    search = GridSearchCV(pipe, grid, cv=StratifiedKFold(3, shuffle=True, random_state=0))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        search.fit(X, y)
    assert len(search.cv_results_["params"]) == 6
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()
    # 60 epochs at 1e-4 barely move the weights; 5e-2 learns iris
    assert search.best_params_["scratchmlpclassifier__learning_rate"] == 5e-2
    assert search.best_score_ > 0.9
    best_hidden = np.atleast_1d(search.best_params_["scratchmlpclassifier__hidden_size"])
    best_net = search.best_estimator_[-1]
    assert [w.shape[1] for w in best_net.coefs_[:-1]] == list(best_hidden)


def test_cross_val_score_regressor_on_diabetes():
    X, y = load_diabetes(return_X_y=True)
    y = (y - y.mean()) / y.std()
    model = make_pipeline(
        StandardScaler(),
        ScratchMLPRegressor(solver="lbfgs", hidden_size=8, alpha=1.0, random_state=0),
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        scores = cross_val_score(model, X, y, cv=3, scoring="r2")
    assert scores.mean() > 0.35


def test_clone_keeps_parameters_and_drops_fitted_state(iris):
    X, y = iris
    model = fit_quietly(ScratchMLPClassifier(**FAST, alpha=0.5, init="normal"), X, y)
    copy = clone(model)
    assert copy.get_params() == model.get_params()
    assert not hasattr(copy, "coefs_")
    fit_quietly(copy, X, y)
    for a, b in zip(copy.coefs_, model.coefs_):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize(
    "labels",
    [np.array(["setosa", "versicolor", "virginica"]), np.array([-3, 0, 7]),
     np.array([2.0, -1.0, 10.0]), np.array(["no", "yes", "yes"])],
    ids=["strings", "negative-ints", "floats", "binary-strings"],
)  # fmt: skip
def test_labels_of_any_type_round_trip(iris, labels):
    X, y = iris
    X = StandardScaler().fit_transform(X)
    y_labels = labels[y]
    model = fit_quietly(ScratchMLPClassifier(**FAST), X, y_labels)
    assert set(model.classes_) == set(labels)
    predicted = model.predict(X)
    assert predicted.dtype == y_labels.dtype
    assert set(predicted) <= set(labels)
    assert np.mean(predicted == y_labels) > 0.9
    assert model.predict_proba(X).shape == (len(X), len(model.classes_))


def test_pickled_model_predicts_the_same(iris):
    X, y = iris
    model = fit_quietly(ScratchMLPClassifier(**FAST), X, y)
    restored = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(restored.predict_proba(X), model.predict_proba(X))


def test_feature_names_are_kept_from_a_dataframe(iris):
    X, y = iris
    frame = pd.DataFrame(X, columns=["sepal_l", "sepal_w", "petal_l", "petal_w"])
    model = fit_quietly(ScratchMLPClassifier(**FAST), frame, y)
    assert list(model.feature_names_in_) == list(frame.columns)
    assert model.n_features_in_ == 4
    with pytest.warns(UserWarning, match="feature names"):
        model.predict(X)


@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_column_major_input_trains_as_row_major(iris, solver):
    # a DataFrame's values are often column-major; mini-batches gather its rows differently
    X, y = iris
    params = dict(FAST, solver=solver, batch_size=32)
    row_major = fit_quietly(ScratchMLPClassifier(**params), np.ascontiguousarray(X), y)
    column_major = fit_quietly(ScratchMLPClassifier(**params), np.asfortranarray(X), y)
    assert row_major.loss_curve_ == column_major.loss_curve_
    for a, b in zip(row_major.coefs_, column_major.coefs_):
        np.testing.assert_array_equal(a, b)


def test_convergence_warning_when_epochs_run_out(iris):
    X, y = iris
    with pytest.warns(ConvergenceWarning, match="epochs=3"):
        ScratchMLPClassifier(epochs=3, random_state=0).fit(X, y)


def test_no_convergence_warning_once_converged(iris):
    X, y = iris
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        model = ScratchMLPClassifier(**{**FAST, "epochs": 2000}, tol=1e-3).fit(X, y)
    assert model.n_iter_ < 2000


def test_predict_proba_is_a_distribution_strictly_inside_0_1(iris):
    X, y = iris
    model = fit_quietly(ScratchMLPClassifier(**{**FAST, "learning_rate": 0.5}), X * 100, y)
    proba = model.predict_proba(X * 100)
    assert np.all((proba > 0) & (proba < 1))
    np.testing.assert_allclose(proba.sum(axis=1), 1, atol=1e-12)
    assert np.isfinite(model.predict_log_proba(X * 100)).all()
