"""partial_fit (one epoch over a chunk, continuing the same optimizer) and warm_start."""

import numpy as np
import pytest
from _helpers import fit_quietly
from _sklearn_twin import initial_weights, max_weight_diff, sklearn_from_weights
from sklearn.datasets import load_diabetes, load_digits
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier
from sklearn.preprocessing import StandardScaler

from sknn_scratch import ScratchMLPClassifier, ScratchMLPRegressor


def test_partial_fit_over_chunks_reaches_the_accuracy_of_fit():
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X / 16, y, random_state=0, stratify=y)
    params = dict(hidden_size=32, learning_rate=0.01, random_state=0)
    fitted = fit_quietly(ScratchMLPClassifier(epochs=15, **params), X_train, y_train)

    streamed = ScratchMLPClassifier(**params)
    chunks = np.array_split(np.arange(len(y_train)), 6)
    for _ in range(15):
        for chunk in chunks:
            streamed.partial_fit(X_train[chunk], y_train[chunk], classes=np.arange(10))

    fit_accuracy = fitted.score(X_test, y_test)
    assert fit_accuracy > 0.93
    assert streamed.score(X_test, y_test) >= fit_accuracy - 0.02
    assert streamed.n_iter_ == 1  # one epoch per call
    assert len(streamed.loss_curve_) == 15 * 6 and streamed.t_ == 15 * len(y_train)


@pytest.mark.parametrize("solver", ["sgd", "adam"])
@pytest.mark.parametrize("Estimator", [ScratchMLPClassifier, ScratchMLPRegressor])
def test_partial_fit_over_chunks_is_fit_without_shuffling(iris, Estimator, solver):
    # one partial_fit call per chunk continues the same optimizer, so passes over the chunks
    # are the epochs of a fit whose batches are the chunks
    X, y = iris
    if Estimator is ScratchMLPRegressor:
        X, y = load_diabetes(return_X_y=True)
        X, y = StandardScaler().fit_transform(X)[:150], y[:150] / 100
    params = dict(
        hidden_size=5, solver=solver, learning_rate=0.02, batch_size=30, shuffle=False, tol=0.0,
        random_state=0,
    )  # fmt: skip
    fitted = fit_quietly(Estimator(epochs=4, **params), X, y)
    streamed = Estimator(**params)
    extra = {"classes": np.unique(y)} if Estimator is ScratchMLPClassifier else {}
    for _ in range(4):
        for start in range(0, len(y), 30):
            streamed.partial_fit(X[start : start + 30], y[start : start + 30], **extra)
    assert max_weight_diff(fitted, streamed) < 1e-12


def test_partial_fit_matches_sklearn(iris):
    X, y = iris
    ours = ScratchMLPClassifier(
        hidden_size=6, solver="sgd", learning_rate=0.05, momentum=0.8, shuffle=False,
        random_state=0,
    )  # fmt: skip
    order = np.random.RandomState(0).permutation(len(y))
    chunks = np.array_split(order, 5)
    ours.partial_fit(X[chunks[0]], y[chunks[0]], classes=[0, 1, 2])
    coefs, intercepts, _ = initial_weights(ours, [4, 6, 3])
    sk, _ = sklearn_from_weights(ours, X, y, coefs, intercepts, random_state=0)
    sk.partial_fit(X[chunks[0]], y[chunks[0]])
    for chunk in chunks[1:] * 3:
        ours.partial_fit(X[chunk], y[chunk])
        sk.partial_fit(X[chunk], y[chunk])
    assert max_weight_diff(ours, sk) < 1e-12


def test_partial_fit_continues_a_fit(iris):
    X, y = iris
    params = dict(hidden_size=5, solver="adam", batch_size=50, shuffle=False, tol=0.0)
    longer = fit_quietly(ScratchMLPClassifier(epochs=6, random_state=0, **params), X, y)
    continued = fit_quietly(ScratchMLPClassifier(epochs=5, random_state=0, **params), X, y)
    continued.partial_fit(X, y)
    assert max_weight_diff(longer, continued) < 1e-12
    assert continued.n_iter_ == 1
    assert continued.loss_curve_ == pytest.approx(longer.loss_curve_)


def test_partial_fit_first_chunk_need_not_hold_every_class(iris):
    X, y = iris
    clf = ScratchMLPClassifier(hidden_size=5, learning_rate=0.05, random_state=0)
    first = y < 2
    clf.partial_fit(X[first], y[first], classes=[0, 1, 2])
    assert clf.classes_.tolist() == [0, 1, 2]
    assert clf.predict_proba(X).shape == (150, 3)
    for _ in range(80):
        clf.partial_fit(X, y)
    assert clf.score(X, y) > 0.9


def test_partial_fit_classes_errors(iris):
    X, y = iris
    with pytest.raises(ValueError, match="classes must be passed on the first call"):
        ScratchMLPClassifier().partial_fit(X, y)
    with pytest.raises(ValueError, match=r"labels \[2\] that are not in classes_ \[0, 1\]"):
        ScratchMLPClassifier().partial_fit(X, y, classes=[0, 1])
    clf = ScratchMLPClassifier(hidden_size=3).partial_fit(X, y, classes=[0, 1, 2])
    with pytest.raises(ValueError, match=r"labels \[5\] that are not in classes_"):
        clf.partial_fit(X[:3], [0, 1, 5])
    with pytest.raises(ValueError, match="differs from classes_"):
        clf.partial_fit(X, y, classes=[0, 1, 2, 3])
    clf.partial_fit(X, y, classes=[2, 1, 0])  # the same classes in another order are fine


def test_partial_fit_unavailable_for_lbfgs_and_early_stopping(iris):
    X, y = iris
    assert not hasattr(ScratchMLPClassifier(solver="lbfgs"), "partial_fit")
    assert not hasattr(ScratchMLPRegressor(solver="lbfgs"), "partial_fit")
    with pytest.raises(ValueError, match="partial_fit does not support early_stopping"):
        ScratchMLPClassifier(early_stopping=True).partial_fit(X, y, classes=[0, 1, 2])


@pytest.mark.parametrize("Estimator", [ScratchMLPClassifier, ScratchMLPRegressor])
def test_warm_start_continues_where_the_last_fit_stopped(iris, Estimator):
    # plain full-batch gradient descent has no optimizer state, so two warm fits of k
    # epochs are one fit of 2k epochs
    X, y = iris
    params = dict(hidden_size=5, solver="sgd", momentum=0.0, batch_size=None, tol=0.0)
    params.update(learning_rate=0.1, random_state=0)
    once = fit_quietly(Estimator(epochs=10, **params), X, y)
    twice = Estimator(epochs=5, warm_start=True, **params)
    fit_quietly(twice, X, y)
    fit_quietly(twice, X, y)
    assert max_weight_diff(once, twice) < 1e-12
    assert twice.n_iter_ == 5 and twice.t_ == 10 * len(y)  # n_iter_ counts the last fit
    assert twice.loss_curve_ == pytest.approx(once.loss_curve_)


def test_without_warm_start_fit_starts_again(iris):
    X, y = iris
    params = dict(hidden_size=5, epochs=5, learning_rate=0.01, random_state=0)
    clf = fit_quietly(ScratchMLPClassifier(**params), X, y)
    first = [c.copy() for c in clf.coefs_]
    fit_quietly(clf, X, y)
    assert all(np.array_equal(a, b) for a, b in zip(first, clf.coefs_))
    assert clf.n_iter_ == len(clf.loss_curve_) == 5


def test_warm_start_keeps_the_network_shape(iris):
    X, y = iris
    clf = fit_quietly(ScratchMLPClassifier(hidden_size=3, epochs=2, warm_start=True), X, y)
    clf.set_params(hidden_size=4)
    with pytest.raises(ValueError, match="layer sizes"):
        clf.fit(X, y)
    clf.set_params(hidden_size=3)
    with pytest.raises(ValueError, match=r"had \[0, 1, 2\], y has \[1, 2, 3\]"):
        clf.fit(X, y + 1)


def test_n_iter_counts_the_last_call_as_in_sklearn(iris):
    X, y = iris
    ours = ScratchMLPClassifier(hidden_size=3, solver="sgd", epochs=4, tol=0.0, warm_start=True)
    sk = MLPClassifier(hidden_layer_sizes=3, solver="sgd", max_iter=4, tol=0.0, warm_start=True)
    for est in (ours, sk):
        fit_quietly(est, X, y)
        fit_quietly(est.set_params(**{"epochs" if est is ours else "max_iter": 6}), X, y)
    assert ours.n_iter_ == sk.n_iter_ == 6
    assert ours.t_ == sk.t_ == 10 * len(y)
    assert len(ours.loss_curve_) == len(sk.loss_curve_) == 10
    ours.partial_fit(X, y)
    sk.partial_fit(X, y)
    assert ours.n_iter_ == sk.n_iter_ == 1
