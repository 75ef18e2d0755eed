"""Early stopping: the held-out split, the curves recorded on it, and the weights kept.

A run that diverges under early stopping is checked with the other divergences, in
``test_training.py``.
"""

import warnings

import numpy as np
import pytest
from _helpers import fit_quietly
from _sklearn_twin import fit_twins, initial_weights, max_weight_diff
from sklearn.datasets import load_diabetes, load_iris, make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import accuracy_score, log_loss, mean_squared_error
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from sknn_scratch import ScratchMLPClassifier, ScratchMLPRegressor


@pytest.fixture(scope="module")
def imbalanced():
    X, y = make_classification(
        n_samples=300, n_features=8, n_informative=5, n_classes=3, weights=[0.7, 0.2, 0.1],
        flip_y=0.05, random_state=0,
    )  # fmt: skip
    return StandardScaler().fit_transform(X), y


def _early_stopping_classifier(**params):
    defaults = dict(
        hidden_size=8, solver="sgd", learning_rate=0.2, batch_size=32, shuffle=False,
        early_stopping=True, validation_fraction=0.2, n_iter_no_change=5, tol=1e-3, epochs=200,
        random_state=1,
    )  # fmt: skip
    return ScratchMLPClassifier(**{**defaults, **params})


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "sample_weight"])
def test_classifier_early_stopping_matches_sklearn(weighted):
    # binary, so that scikit-learn's stratification (on its 0/1 column) orders the classes as
    # ours (on the labels) does and draws the same split; with several classes it stratifies
    # on one-hot rows sorted as strings, another order of the same classes
    X, y = make_classification(
        n_samples=300, n_features=8, n_informative=5, weights=[0.75], flip_y=0.05,
        random_state=0,
    )  # fmt: skip
    sample_weight = np.random.RandomState(0).uniform(0.5, 2, len(y)) if weighted else None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ours, sk, _ = fit_twins(_early_stopping_classifier(), X, y, sample_weight)

    # same stratified split, same score at every epoch, same stopping epoch, same kept weights
    assert ours.n_iter_ == sk.n_iter_ < 200
    np.testing.assert_allclose(ours.validation_scores_, sk.validation_scores_, atol=1e-12)
    assert ours.best_validation_score_ == sk.best_validation_score_
    assert max_weight_diff(ours, sk) < 1e-9
    if not weighted:
        # with weights, scikit-learn averages its batch losses by batch size rather than by
        # batch weight, so its epoch loss is not the weighted mean that ours is
        np.testing.assert_allclose(ours.loss_curve_, sk.loss_curve_, rtol=1e-9)


def test_regressor_early_stopping_matches_sklearn():
    X, y = load_diabetes(return_X_y=True)
    X, y = StandardScaler().fit_transform(X), (y - y.mean()) / y.std()
    reg = ScratchMLPRegressor(
        hidden_size=10, activation="relu", solver="adam", learning_rate=0.01, batch_size=50,
        shuffle=False, early_stopping=True, validation_fraction=0.15, n_iter_no_change=4,
        epochs=200, random_state=2,
    )  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ours, sk, _ = fit_twins(reg, X, y)
    assert ours.n_iter_ == sk.n_iter_ < 200
    np.testing.assert_allclose(ours.validation_scores_, sk.validation_scores_, rtol=1e-9)
    np.testing.assert_allclose(ours.predict(X), sk.predict(X), rtol=1e-8, atol=1e-10)


def _held_out(estimator, X, y, stratify):
    """The split a fresh fit of ``estimator`` holds out (drawn after the initial weights)."""
    layer_sizes = [X.shape[1]] + [c.shape[1] for c in estimator.coefs_]
    _, _, rng = initial_weights(estimator, layer_sizes)
    return train_test_split(
        X, y, test_size=estimator.validation_fraction, random_state=rng,
        stratify=y if stratify else None,
    )  # fmt: skip


def test_held_out_split_is_stratified_and_best_weights_are_kept(imbalanced):
    X, y = imbalanced
    clf = fit_quietly(_early_stopping_classifier(), X, y)
    _, X_val, _, y_val = _held_out(clf, X, y, stratify=True)

    # the validation classes are in the proportions of the whole set
    expected = np.bincount(y) * clf.validation_fraction
    assert np.all(np.abs(np.bincount(y_val) - expected) <= 1)
    # the weights kept are those of the best epoch: their held-out accuracy and loss are the
    # ones recorded at that (first best) epoch, not at the last one
    best = int(np.argmax(clf.validation_scores_))
    assert best < clf.n_iter_ - 1
    assert clf.best_validation_score_ == max(clf.validation_scores_)
    assert accuracy_score(y_val, clf.predict(X_val)) == clf.validation_scores_[best]
    assert log_loss(y_val, clf.predict_proba(X_val)) == pytest.approx(
        clf.validation_loss_curve_[best], rel=1e-10
    )


def test_regressor_validation_loss_curve_is_held_out_squared_error():
    X, y = load_diabetes(return_X_y=True)
    X, y = StandardScaler().fit_transform(X), (y - y.mean()) / y.std()
    reg = fit_quietly(
        ScratchMLPRegressor(
            hidden_size=6, solver="sgd", learning_rate=0.05, early_stopping=True, epochs=100,
            n_iter_no_change=3, random_state=0,
        ),
        X, y,
    )  # fmt: skip
    _, X_val, _, y_val = _held_out(reg, X, y, stratify=False)
    best = int(np.argmax(reg.validation_scores_))
    assert reg.score(X_val, y_val) == pytest.approx(reg.best_validation_score_, rel=1e-12)
    assert mean_squared_error(y_val, reg.predict(X_val)) == pytest.approx(
        reg.validation_loss_curve_[best], rel=1e-10
    )


def _validation_stopping_epoch(scores, tol, n_iter_no_change):
    """The epoch at which scikit-learn's rule stops on these validation scores, or None."""
    best, count = -np.inf, 0
    for epoch, score in enumerate(scores, start=1):
        count = count + 1 if score < best + tol else 0
        best = max(best, score)
        if count > n_iter_no_change:
            return epoch
    return None


@pytest.mark.parametrize("n_iter_no_change", [2, 6])
def test_stops_when_the_validation_score_stops_improving(imbalanced, n_iter_no_change):
    X, y = imbalanced
    clf = fit_quietly(
        _early_stopping_classifier(n_iter_no_change=n_iter_no_change, tol=1e-4), X, y
    )
    assert clf.n_iter_ == _validation_stopping_epoch(
        clf.validation_scores_, clf.tol, n_iter_no_change
    )


def test_curves_have_one_entry_per_epoch(imbalanced):
    X, y = imbalanced
    clf = fit_quietly(_early_stopping_classifier(), X, y)
    n = clf.n_iter_
    assert len(clf.loss_curve_) == len(clf.validation_scores_) == n
    assert len(clf.validation_loss_curve_) == n
    assert clf.best_loss_ is None
    assert all(np.isfinite(clf.validation_loss_curve_))
    # without early stopping none of the validation attributes is set
    plain = fit_quietly(_early_stopping_classifier(early_stopping=False), X, y)
    assert plain.validation_scores_ is None and plain.validation_loss_curve_ is None
    assert plain.best_validation_score_ is None
    assert plain.best_loss_ == min(plain.loss_curve_)


def test_multilabel_split_is_not_stratified():
    rng = np.random.RandomState(0)
    X = rng.standard_normal((200, 6))
    Y = (X[:, :3] + 0.3 * rng.standard_normal((200, 3)) > 0).astype(int)
    clf = fit_quietly(_early_stopping_classifier(validation_fraction=0.25), X, Y)
    _, X_val, _, Y_val = _held_out(clf, X, Y, stratify=False)
    best = int(np.argmax(clf.validation_scores_))
    assert accuracy_score(Y_val, clf.predict(X_val)) == clf.validation_scores_[best]


def test_lbfgs_ignores_early_stopping():
    X, y = load_iris(return_X_y=True)
    params = dict(hidden_size=5, solver="lbfgs", epochs=30, random_state=0)
    with_es = fit_quietly(ScratchMLPClassifier(early_stopping=True, **params), X, y)
    without = fit_quietly(ScratchMLPClassifier(**params), X, y)
    assert max_weight_diff(with_es, without) == 0
    assert with_es.validation_scores_ is None and with_es.validation_loss_curve_ is None


def test_validation_set_too_small(iris):
    X, _ = iris
    with pytest.raises(ValueError, match=r"validation set is too small .* validation_fraction"):
        ScratchMLPRegressor(early_stopping=True).fit(X[:10], X[:10, 0])
