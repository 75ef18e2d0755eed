"""sample_weight and class_weight: the loss is the weighted mean over the samples.

So an integer weight ``k`` is the same as ``k`` copies of the row (exactly, for full-batch
training), a zero weight is the same as leaving the row out, scaling every weight changes
nothing, and ``class_weight`` is one more factor in each sample's weight. Every check of the
two parameters is here: what they compute, and which values are refused.
"""

import math
import warnings

import numpy as np
import pytest
from _helpers import PROPERTY_SETTINGS, fit_quietly, property_data, snapshot
from _sklearn_twin import fit_twins, max_weight_diff
from hypothesis import given
from hypothesis import strategies as st
from sklearn.datasets import load_diabetes, make_classification
from sklearn.exceptions import ConvergenceWarning, DataConversionWarning
from sklearn.metrics import log_loss
from sklearn.preprocessing import StandardScaler
from sklearn.utils.class_weight import compute_sample_weight

from sknn_scratch import ScratchMLPClassifier, ScratchMLPRegressor


@pytest.fixture(scope="module")
def small_diabetes():
    """The first 200 rows of diabetes, standardised features, targets divided by 100."""
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
def test_integer_sample_weight_equals_repeated_rows(iris, small_diabetes, Estimator, solver):
    X, y = iris if Estimator is ScratchMLPClassifier else small_diabetes
    weights = _integer_weights(len(y))
    params = dict(hidden_size=6, alpha=1e-2, epochs=40, tol=0.0, random_state=0)
    params.update(FULL_BATCH[solver])
    weighted = fit_quietly(Estimator(**params), X, y, sample_weight=weights)
    repeated = fit_quietly(
        Estimator(**params), np.repeat(X, weights, axis=0), np.repeat(y, weights)
    )
    assert max_weight_diff(weighted, repeated) < 1e-7
    np.testing.assert_allclose(weighted.loss_curve_, repeated.loss_curve_, rtol=1e-9)


def test_poisson_integer_sample_weight_equals_repeated_rows(small_diabetes):
    X, y = small_diabetes
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
def test_weighted_minibatch_training_matches_sklearn(iris, small_diabetes, Estimator):
    X, y = iris if Estimator is ScratchMLPClassifier else small_diabetes
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
    # the plain and the balanced fit, each against scikit-learn's MLP trained from the same
    # weights, the balanced one with scikit-learn's own balanced sample weights; shuffle=False
    # so that the two visit the same batches in every epoch (see _sklearn_twin)
    X, y = imbalanced
    params = {**CLASS_PARAMS, "epochs": 60, "learning_rate": 0.02, "shuffle": False}
    balanced = fit_quietly(ScratchMLPClassifier(class_weight="balanced", **params), X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        plain, sk_plain, _ = fit_twins(ScratchMLPClassifier(**params), X, y)
        balanced_weights = compute_sample_weight("balanced", y)
        weighted, sk_balanced, _ = fit_twins(
            ScratchMLPClassifier(**params), X, y, sample_weight=balanced_weights
        )
    assert max_weight_diff(balanced, weighted) < 1e-15
    assert max_weight_diff(plain, sk_plain) < 1e-12
    assert max_weight_diff(balanced, sk_balanced) < 1e-12
    for ours, sk in [(plain, sk_plain), (balanced, sk_balanced)]:
        np.testing.assert_array_equal(ours.predict(X), sk.predict(X))

    def minority_recall(clf):
        return np.mean(clf.predict(X[y == "c"]) == "c")

    # of the 25 samples of the rarest class, the plain networks find 19, the balanced ones 21
    assert np.sum(y == "c") == 25
    assert minority_recall(plain) == 19 / 25
    assert minority_recall(balanced) == 21 / 25


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


def test_class_weight_for_a_class_that_does_not_occur_is_an_error(imbalanced, iris):
    X, y = imbalanced
    with pytest.raises(ValueError, match=r"weights for \['z'\], which are not classes of y"):
        ScratchMLPClassifier(class_weight={"a": 1.0, "z": 2.0}).fit(X, y)
    X, y = iris
    with pytest.raises(ValueError, match=r"weights for \[5\], which are not classes of y"):
        ScratchMLPClassifier(class_weight={5: 2.0}, epochs=1).fit(X, y)


def test_balanced_class_weight_is_refused_in_partial_fit(iris):
    X, y = iris
    with pytest.raises(ValueError, match="class_weight='balanced' needs the class frequencies"):
        ScratchMLPClassifier(class_weight="balanced").partial_fit(X, y, classes=[0, 1, 2])


def test_class_weight_dict_with_multilabel_targets():
    rng = np.random.RandomState(0)
    X, Y = rng.standard_normal((40, 3)), (rng.uniform(size=(40, 3)) > 0.5).astype(int)
    with pytest.raises(ValueError, match="for a multilabel indicator y use class_weight='bal"):
        ScratchMLPClassifier(class_weight={0: 1.0, 1: 2.0}).fit(X, Y)
    fit_quietly(ScratchMLPClassifier(class_weight="balanced", epochs=2), X, Y)


def test_column_vector_y_with_dict_class_weight_fits_like_a_1d_y(iris):
    X, y = iris
    params = dict(hidden_size=3, epochs=5, class_weight={0: 3.0}, random_state=0)
    flat = fit_quietly(ScratchMLPClassifier(**params), X, y)
    with pytest.warns(DataConversionWarning):
        column = fit_quietly(ScratchMLPClassifier(**params), X, y.reshape(-1, 1))
    assert all(np.array_equal(a, b) for a, b in zip(flat.coefs_, column.coefs_))


@pytest.mark.parametrize(
    "class_weight",
    [{0: -1.0}, {0: np.nan}, {0: np.inf}, {0: "heavy"}, {0: True}, {1: None}, {0: [1.0]}],
    ids=["negative", "nan", "inf", "text", "bool", "none", "list"],
)
@pytest.mark.parametrize("method", ["fit", "partial_fit"])
def test_invalid_class_weight_values_are_refused(iris, class_weight, method):
    X, y = iris
    clf = ScratchMLPClassifier(hidden_size=3, epochs=2, class_weight=class_weight)
    kwargs = {"classes": np.unique(y)} if method == "partial_fit" else {}
    with pytest.raises(ValueError, match=r"class_weight\["):
        getattr(clf, method)(X, y, **kwargs)
    assert not hasattr(clf, "coefs_")


_CLASS_WEIGHT_VALUES = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(-5, 5),
    st.booleans(),
    st.text(max_size=3),
    st.none(),
)


def _valid_class_weight(value):
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and np.isfinite(value)
        and value >= 0
    )


@PROPERTY_SETTINGS
@given(weight=_CLASS_WEIGHT_VALUES, label=st.sampled_from([0, 1, 2]))
def test_class_weight_is_accepted_exactly_when_finite_and_non_negative(weight, label):
    X, y, _ = property_data(0)
    clf = ScratchMLPClassifier(hidden_size=2, epochs=1, class_weight={label: weight})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        if _valid_class_weight(weight) and math.isfinite(weight * int(np.sum(y == label))):
            clf.fit(X, y)
            assert np.isfinite(clf.predict_proba(X)).all()
        elif _valid_class_weight(weight):  # valid, but the weights' total overflows
            with pytest.raises(ValueError, match="sample weights sum to inf"):
                clf.fit(X, y)
        else:
            with pytest.raises(ValueError, match=r"class_weight\["):
                clf.fit(X, y)
            assert not hasattr(clf, "coefs_")


def test_class_weight_list_is_refused_in_partial_fit_of_a_fitted_model(iris):
    X, y = iris
    clf = ScratchMLPClassifier(hidden_size=3).partial_fit(X, y, classes=np.unique(y))
    before = snapshot(clf)
    clf.set_params(class_weight=[1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="'class_weight' parameter"):
        clf.partial_fit(X, y)
    clf.set_params(class_weight=None)
    assert snapshot(clf) == before


# ---------------------------------------------------------------------------- refused weights


def test_bad_sample_weight(iris):
    X, y = iris
    cases = [
        (-np.ones(len(y)), "Negative values"),
        (np.zeros(len(y)), "at least one non-zero"),
        (np.ones(3), r"sample_weight.shape == \(3,\), expected \(150,\)"),
        (np.full(len(y), np.nan), "sample_weight contains NaN"),
    ]
    for weights, match in cases:
        with pytest.raises(ValueError, match=match):
            ScratchMLPClassifier(epochs=1).fit(X, y, sample_weight=weights)


def test_sample_weights_summing_to_infinity_are_refused(iris):
    X, y = iris
    weights = np.full(len(y), 1e307)
    with pytest.raises(ValueError, match="sample weights sum to inf"):
        ScratchMLPClassifier(hidden_size=3).fit(X, y, sample_weight=weights)


@pytest.mark.parametrize("exponent", [-200, 200, 1000])
def test_huge_or_tiny_sample_weights_fit_as_their_ratios_say(iris, exponent):
    # the loss is a weighted mean plus alpha / total_weight * |W|^2 / 2: weights and alpha
    # multiplied by the same power of two describe the same model, bit for bit
    X, y = iris
    params = dict(hidden_size=3, epochs=5, random_state=0, class_weight={0: 3.0})
    reference = fit_quietly(ScratchMLPClassifier(alpha=1e-3, **params), X, y)
    weights = np.ldexp(np.ones(len(y)), exponent)
    scaled = fit_quietly(
        ScratchMLPClassifier(alpha=float(np.ldexp(1e-3, exponent)), **params),
        X, y, sample_weight=weights,
    )  # fmt: skip
    assert scaled.loss_curve_ == reference.loss_curve_
    assert all(np.array_equal(a, b) for a, b in zip(scaled.coefs_, reference.coefs_))
