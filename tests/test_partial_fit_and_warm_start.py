"""partial_fit (one epoch over a chunk, continuing the same optimizer) and warm_start.

What they continue (weights, optimizer state, learning rate, counters, against a longer fit
and against scikit-learn's MLP), and what they refuse: a first partial_fit without classes,
labels outside the classes, another network shape or other classes for warm_start.
"""

import numpy as np
import pytest
from _helpers import fit_quietly, snapshot
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


def test_partial_fit_still_accepts_a_subset_of_its_classes(iris):
    X, y = iris
    clf = ScratchMLPClassifier(hidden_size=4).partial_fit(X, y, classes=np.unique(y))
    subset = y < 2
    clf.partial_fit(X[subset], y[subset])
    assert clf.classes_.tolist() == [0, 1, 2] and clf.n_iter_ == 1


def test_partial_fit_classes_errors(iris):
    X, y = iris
    with pytest.raises(ValueError, match=r"classes must be passed on the first call.*np.unique"):
        ScratchMLPClassifier().partial_fit(X, y)
    with pytest.raises(ValueError, match=r"labels \[2\] that are not in classes_ \[0, 1\]"):
        ScratchMLPClassifier().partial_fit(X, y, classes=[0, 1])
    clf = ScratchMLPClassifier(hidden_size=3).partial_fit(X, y, classes=[0, 1, 2])
    with pytest.raises(ValueError, match=r"labels \[5\] that are not in classes_ \[0, 1, 2\]"):
        clf.partial_fit(X[:3], [0, 1, 5])
    with pytest.raises(ValueError, match="differs from classes_"):
        clf.partial_fit(X, y, classes=[0, 1, 2, 3])
    clf.partial_fit(X, y, classes=[2, 1, 0])  # the same classes in another order are fine


def test_partial_fit_unavailable_for_lbfgs_and_early_stopping(iris):
    X, y = iris
    assert not hasattr(ScratchMLPClassifier(solver="lbfgs"), "partial_fit")
    assert not hasattr(ScratchMLPRegressor(solver="lbfgs"), "partial_fit")
    with pytest.raises(AttributeError, match="has no attribute 'partial_fit'"):
        ScratchMLPRegressor(solver="lbfgs").partial_fit(X, X[:, 0])
    with pytest.raises(ValueError, match="partial_fit does not support early_stopping=True"):
        ScratchMLPClassifier(early_stopping=True).partial_fit(X, y, classes=[0, 1, 2])
    with pytest.raises(ValueError, match="partial_fit does not support early_stopping=True"):
        ScratchMLPRegressor(early_stopping=True).partial_fit(X, X[:, 0])


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
    reg = fit_quietly(ScratchMLPRegressor(hidden_size=3, epochs=1, warm_start=True), X, X[:, :2])
    with pytest.raises(ValueError, match=r"layer sizes \(4, 3, 2\).*give \(4, 3, 1\)"):
        reg.fit(X, X[:, 0])
    with pytest.raises(ValueError, match="X has 3 features"):
        reg.fit(X[:, :3], X[:, :2])


@pytest.mark.parametrize("new_classes", [[0, 1], [0, 1, 2, 3], [1, 2, 3]])
def test_warm_start_with_other_classes_names_both_sets(iris, new_classes):
    X, y = iris
    clf = fit_quietly(ScratchMLPClassifier(hidden_size=4, epochs=3, warm_start=True), X, y)
    before = snapshot(clf)
    y_new = np.resize(np.array(new_classes), len(y))
    expected = r"had \[0, 1, 2\], y has \[" + ", ".join(map(str, new_classes)) + r"\]"
    with pytest.raises(ValueError, match=expected):
        clf.fit(X, y_new)
    assert snapshot(clf) == before


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
