"""sample_weight and class_weight: the loss is the weighted mean over the samples.

So an integer weight ``k`` is the same as ``k`` copies of the row (exactly, for full-batch
training), a zero weight is the same as leaving the row out, scaling every weight changes
nothing, and ``class_weight`` is one more factor in each sample's weight.
"""

import warnings

import numpy as np
import pytest
from _helpers import fit_quietly
from _sklearn_twin import fit_twins, max_weight_diff
from sklearn.datasets import load_diabetes, make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import log_loss
from sklearn.preprocessing import StandardScaler

from sknn_scratch import ScratchMLPClassifier, ScratchMLPRegressor


@pytest.fixture(scope="module")
def diabetes():
    X, y = load_diabetes(return_X_y=True)
    return StandardScaler().fit_transform(X)[:200], y[:200] / 100


def _integer_weights(n, seed=0):
    return np.random.RandomState(seed).randint(0, 4, size=n)  # zeros included


FULL_BATCH = {
    "sgd": dict(solver="sgd", batch_size=None, learning_rate=0.1, momentum=0.9),
    "adam": dict(solver="adam", batch_size=None, learning_rate=0.01),
    # rounding differences (rows summed in another order) grow along the L-BFGS path: 1e-8
    # after 40 iterations on iris, 2e-11 after 25
    "lbfgs": dict(solver="lbfgs", epochs=25),
}


@pytest.mark.parametrize("solver", FULL_BATCH)
@pytest.mark.parametrize("Estimator", [ScratchMLPClassifier, ScratchMLPRegressor])
def test_integer_sample_weight_equals_repeated_rows(iris, diabetes, Estimator, solver):
    X, y = iris if Estimator is ScratchMLPClassifier else diabetes
    weights = _integer_weights(len(y))
    params = dict(hidden_size=6, alpha=1e-2, epochs=40, tol=0.0, random_state=0)
    params.update(FULL_BATCH[solver])
    weighted = fit_quietly(Estimator(**params), X, y, sample_weight=weights)
    repeated = fit_quietly(
        Estimator(**params), np.repeat(X, weights, axis=0), np.repeat(y, weights)
    )
    assert max_weight_diff(weighted, repeated) < 1e-7
    np.testing.assert_allclose(weighted.loss_curve_, repeated.loss_curve_, rtol=1e-9)


def test_poisson_integer_sample_weight_equals_repeated_rows(diabetes):
    X, y = diabetes
    weights = _integer_weights(len(y), seed=1)
    params = dict(hidden_size=5, loss="poisson", solver="lbfgs", epochs=30, tol=0.0)
    weighted = fit_quietly(
        ScratchMLPRegressor(**params, random_state=0), X, y, sample_weight=weights
    )
    repeated = fit_quietly(
        ScratchMLPRegressor(**params, random_state=0),
        np.repeat(X, weights, axis=0),
        np.repeat(y, weights),
    )
    assert max_weight_diff(weighted, repeated) < 1e-7


@pytest.mark.parametrize("early_stopping", [False, True])
def test_zero_weight_drops_the_sample(iris, early_stopping):
    X, y = iris
    weights = np.ones(len(y))
    weights[::7] = 0
    kept = weights > 0
    params = dict(
        hidden_size=6, learning_rate=0.01, batch_size=20, epochs=15, early_stopping=early_stopping,
        random_state=0,
    )  # fmt: skip
    weighted = fit_quietly(ScratchMLPClassifier(**params), X, y, sample_weight=weights)
    dropped = fit_quietly(ScratchMLPClassifier(**params), X[kept], y[kept])
    assert max_weight_diff(weighted, dropped) < 1e-12


def test_scaling_every_weight_only_rescales_the_penalty(iris):
    # the data term is a weighted mean (blind to the scale of the weights); the L2 term is
    # divided by the total weight, like the repeated rows it stands for
    X, y = iris
    weights = np.random.RandomState(0).uniform(0.2, 3.0, len(y))
    params = dict(hidden_size=6, solver="sgd", learning_rate=0.1, batch_size=30, epochs=10)

    def fit(alpha, sample_weight):
        clf = ScratchMLPClassifier(alpha=alpha, random_state=0, **params)
        return fit_quietly(clf, X, y, sample_weight=sample_weight)

    assert max_weight_diff(fit(0.0, weights), fit(0.0, weights * 37.5)) < 1e-12
    assert max_weight_diff(fit(0.3, weights * 37.5), fit(0.3 / 37.5, weights)) < 1e-12
    assert max_weight_diff(fit(0.3, weights * 37.5), fit(0.3, weights)) > 1e-6


def test_loss_is_the_weighted_mean(iris):
    X, y = iris
    weights = np.random.RandomState(0).uniform(0.2, 3.0, len(y))
    clf = fit_quietly(
        ScratchMLPClassifier(hidden_size=5, solver="lbfgs", alpha=0.1, epochs=30, random_state=0),
        X, y, sample_weight=weights,
    )  # fmt: skip
    penalty = 0.5 * clf.alpha * sum(np.sum(W**2) for W in clf.coefs_) / weights.sum()
    expected = log_loss(y, clf.predict_proba(X), sample_weight=weights) + penalty
    assert clf.loss_ == pytest.approx(expected, rel=1e-10)


@pytest.mark.parametrize("Estimator", [ScratchMLPClassifier, ScratchMLPRegressor])
def test_weighted_minibatch_training_matches_sklearn(iris, diabetes, Estimator):
    X, y = iris if Estimator is ScratchMLPClassifier else diabetes
    weights = np.random.RandomState(1).uniform(0.1, 4.0, len(y))
    est = Estimator(
        hidden_size=6, solver="sgd", learning_rate=0.02, batch_size=32, shuffle=False, alpha=0.01,
        epochs=15, random_state=0,
    )  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ours, sk, _ = fit_twins(est, X, y, sample_weight=weights)
    assert max_weight_diff(ours, sk) < 1e-10


# ---------------------------------------------------------------------------- class_weight


@pytest.fixture(scope="module")
def imbalanced():
    X, y = make_classification(
        n_samples=240, n_features=6, n_classes=3, n_informative=4, weights=[0.6, 0.3, 0.1],
        random_state=0,
    )  # fmt: skip
    return StandardScaler().fit_transform(X), np.array(["a", "b", "c"])[y]


CLASS_PARAMS = dict(hidden_size=5, learning_rate=0.01, batch_size=32, epochs=10, random_state=0)


def test_class_weight_dict_equals_the_matching_sample_weight(imbalanced):
    X, y = imbalanced
    class_weight = {"a": 0.5, "b": 2.0}  # "c" is absent: weight 1
    per_sample = np.array([class_weight.get(label, 1.0) for label in y])
    by_class = fit_quietly(ScratchMLPClassifier(class_weight=class_weight, **CLASS_PARAMS), X, y)
    by_sample = fit_quietly(ScratchMLPClassifier(**CLASS_PARAMS), X, y, sample_weight=per_sample)
    assert max_weight_diff(by_class, by_sample) == 0


def test_class_weight_multiplies_sample_weight(imbalanced):
    X, y = imbalanced
    class_weight = {"a": 0.5, "b": 2.0, "c": 4.0}
    sample_weight = np.random.RandomState(0).uniform(0.5, 2.0, len(y))
    product = sample_weight * np.array([class_weight[label] for label in y])
    both = fit_quietly(
        ScratchMLPClassifier(class_weight=class_weight, **CLASS_PARAMS),
        X, y, sample_weight=sample_weight,
    )  # fmt: skip
    manual = fit_quietly(ScratchMLPClassifier(**CLASS_PARAMS), X, y, sample_weight=product)
    assert max_weight_diff(both, manual) < 1e-12


def test_balanced_class_weight_is_n_samples_over_n_classes_times_count(imbalanced):
    X, y = imbalanced
    labels, counts = np.unique(y, return_counts=True)
    balanced = dict(zip(labels, len(y) / (len(labels) * counts)))
    auto = fit_quietly(ScratchMLPClassifier(class_weight="balanced", **CLASS_PARAMS), X, y)
    manual = fit_quietly(ScratchMLPClassifier(class_weight=balanced, **CLASS_PARAMS), X, y)
    assert max_weight_diff(auto, manual) < 1e-12


def test_balanced_class_weight_raises_minority_recall(imbalanced):
    X, y = imbalanced
    params = {**CLASS_PARAMS, "epochs": 60, "learning_rate": 0.02}
    plain = fit_quietly(ScratchMLPClassifier(**params), X, y)
    balanced = fit_quietly(ScratchMLPClassifier(class_weight="balanced", **params), X, y)

    def minority_recall(clf):
        return np.mean(clf.predict(X[y == "c"]) == "c")

    assert minority_recall(balanced) > minority_recall(plain)


def test_partial_fit_sample_weight_and_class_weight(imbalanced):
    X, y = imbalanced
    classes = np.unique(y)
    weights = _integer_weights(len(y), seed=2)
    params = dict(hidden_size=5, solver="sgd", batch_size=None, learning_rate=0.1, random_state=0)
    weighted = ScratchMLPClassifier(**params)
    repeated = ScratchMLPClassifier(**params)
    by_class = ScratchMLPClassifier(class_weight={"a": 1.0, "b": 3.0, "c": 2.0}, **params)
    by_sample = ScratchMLPClassifier(**params)
    class_factor = np.array([{"a": 1.0, "b": 3.0, "c": 2.0}[label] for label in y])
    for chunk in np.array_split(np.arange(len(y)), 4):
        Xc, yc, wc = X[chunk], y[chunk], weights[chunk]
        weighted.partial_fit(Xc, yc, classes=classes, sample_weight=wc)
        repeated.partial_fit(np.repeat(Xc, wc, axis=0), np.repeat(yc, wc), classes=classes)
        by_class.partial_fit(Xc, yc, classes=classes)
        by_sample.partial_fit(Xc, yc, classes=classes, sample_weight=class_factor[chunk])
    assert max_weight_diff(weighted, repeated) < 1e-12
    assert max_weight_diff(by_class, by_sample) == 0


def test_class_weight_in_a_chunk_that_lacks_a_weighted_class(imbalanced):
    # the weights come from classes_, not from the labels present in the chunk
    X, y = imbalanced
    class_weight = {"a": 0.5, "c": 3.0}
    chunks = [np.flatnonzero(y != "c"), np.flatnonzero(y != "a"), np.arange(len(y))]
    by_class = ScratchMLPClassifier(class_weight=class_weight, hidden_size=4, random_state=0)
    by_sample = ScratchMLPClassifier(hidden_size=4, random_state=0)
    for chunk in chunks:
        by_class.partial_fit(X[chunk], y[chunk], classes=["a", "b", "c"])
        weights = [class_weight.get(label, 1.0) for label in y[chunk]]
        by_sample.partial_fit(X[chunk], y[chunk], classes=["a", "b", "c"], sample_weight=weights)
    assert max_weight_diff(by_class, by_sample) == 0


def test_class_weight_for_a_class_that_does_not_occur_is_an_error(imbalanced):
    X, y = imbalanced
    with pytest.raises(ValueError, match=r"weights for \['z'\], which are not classes of y"):
        ScratchMLPClassifier(class_weight={"a": 1.0, "z": 2.0}).fit(X, y)
