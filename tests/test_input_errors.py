"""Bad parameters and bad data raise a ValueError that says what is wrong."""

import numpy as np
import pytest
from sklearn.datasets import load_iris
from sklearn.exceptions import NotFittedError
from sklearn.utils._param_validation import InvalidParameterError

from sknn_scratch import ScratchMLPClassifier, ScratchMLPRegressor

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.fixture(scope="module")
def iris():
    return load_iris(return_X_y=True)


@pytest.fixture(scope="module")
def fitted(iris):
    X, y = iris
    clf = ScratchMLPClassifier(hidden_size=3, epochs=1).fit(X, y)
    reg = ScratchMLPRegressor(hidden_size=3, epochs=1).fit(X, X[:, 0])
    return clf, reg


@pytest.mark.parametrize(
    "params, match",
    [
        (dict(hidden_size=(0,)), r"hidden_size must be a positive int .* got \(0,\)"),
        (dict(hidden_size=(5, -1)), r"positive int or a tuple of positive ints"),
        (dict(hidden_size=(5.5,)), r"positive int or a tuple of positive ints"),
        (dict(hidden_size=0), r"'hidden_size' parameter"),
        (dict(hidden_size="wide"), r"'hidden_size' parameter"),
        (dict(activation="softmax"), r"'activation' parameter .* among"),
        (dict(solver="newton"), r"'solver' parameter"),
        (dict(learning_rate=0), r"'learning_rate' parameter .* range \(0.0, inf\)"),
        (dict(learning_rate_schedule="linear"), r"'learning_rate_schedule' parameter"),
        (dict(batch_size=0), r"'batch_size' parameter"),
        (dict(epochs=0), r"'epochs' parameter"),
        (dict(alpha=-1.0), r"'alpha' parameter"),
        (dict(momentum=1.5), r"'momentum' parameter"),
        (dict(validation_fraction=1.0), r"'validation_fraction' parameter"),
        (dict(n_iter_no_change=0), r"'n_iter_no_change' parameter"),
        (dict(beta_2=1.0), r"'beta_2' parameter"),
        (dict(init="xavier"), r"'init' parameter"),
        (dict(max_fun=0), r"'max_fun' parameter"),
        (dict(loss="hinge"), r"'loss' parameter"),
        (dict(class_weight="auto"), r"'class_weight' parameter"),
    ],
)
def test_bad_parameters_are_named(iris, params, match):
    X, y = iris
    with pytest.raises(ValueError, match=match) as error:
        ScratchMLPClassifier(epochs=params.pop("epochs", 1), **params).fit(X, y)
    # scikit-learn's InvalidParameterError is a ValueError; both kinds say what to do
    assert isinstance(error.value, ValueError)


def test_regressor_rejects_classifier_losses(iris):
    X, y = iris
    with pytest.raises(InvalidParameterError, match="'loss' parameter"):
        ScratchMLPRegressor(loss="log_loss").fit(X, y)


@pytest.mark.parametrize("method", ["predict", "predict_proba", "predict_log_proba"])
def test_wrong_number_of_features_at_predict(fitted, iris, method):
    X, _ = iris
    with pytest.raises(ValueError, match=r"X has 3 features, but .* is expecting 4 features"):
        getattr(fitted[0], method)(X[:, :3])
    with pytest.raises(ValueError, match="X has 5 features"):
        fitted[1].predict(np.hstack([X, X[:, :1]]))


@pytest.mark.parametrize("value", [np.nan, np.inf])
def test_non_finite_input(fitted, iris, value):
    X, y = iris
    bad = X.copy()
    bad[3, 1] = value
    word = "NaN" if np.isnan(value) else "infinity"
    with pytest.raises(ValueError, match=f"Input X contains {word}"):
        ScratchMLPClassifier(epochs=1).fit(bad, y)
    with pytest.raises(ValueError, match=f"Input X contains {word}"):
        fitted[0].predict(bad)
    with pytest.raises(ValueError, match=f"Input y contains {word}"):
        ScratchMLPRegressor(epochs=1).fit(X, np.where(y == 2, value, y))


def test_unknown_labels(iris):
    X, y = iris
    clf = ScratchMLPClassifier(hidden_size=3).partial_fit(X, y, classes=[0, 1, 2])
    with pytest.raises(ValueError, match=r"labels \[7\] that are not in classes_ \[0, 1, 2\]"):
        clf.partial_fit(X[:2], [0, 7])
    warm = ScratchMLPClassifier(hidden_size=3, epochs=1, warm_start=True).fit(X, y)
    with pytest.raises(ValueError, match=r"had \[0, 1, 2\], y has \[1, 2, 3\]"):
        warm.fit(X, y + 1)


def test_partial_fit_without_classes(iris):
    X, y = iris
    with pytest.raises(ValueError, match=r"classes must be passed on the first call.*np.unique"):
        ScratchMLPClassifier().partial_fit(X, y)


def test_classifier_target_errors(iris):
    X, y = iris
    with pytest.raises(ValueError, match=r"Unknown label type: 'continuous'.*ScratchMLPRegressor"):
        ScratchMLPClassifier(epochs=1).fit(X, X[:, 0])
    with pytest.raises(ValueError, match=r"only one class \(0\); a classifier needs .* 2"):
        ScratchMLPClassifier(epochs=1).fit(X, np.zeros(len(y), dtype=int))
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        ScratchMLPClassifier(epochs=1).fit(X, y[:-1])
    multilabel = ScratchMLPClassifier(hidden_size=3).partial_fit(X, np.eye(3)[y], classes=[0, 1])
    with pytest.raises(ValueError, match="indicator matrix with 3 columns"):
        multilabel.partial_fit(X, np.eye(4)[y])


def test_poisson_with_negative_targets(iris):
    X, _ = iris
    for y in (X[:, 0] - 6, np.zeros(len(X))):
        with pytest.raises(ValueError, match="loss='poisson' needs non-negative targets"):
            ScratchMLPRegressor(loss="poisson").fit(X, y)


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


def test_class_weight_errors(iris):
    X, y = iris
    with pytest.raises(ValueError, match="class_weight='balanced' needs the class frequencies"):
        ScratchMLPClassifier(class_weight="balanced").partial_fit(X, y, classes=[0, 1, 2])
    with pytest.raises(ValueError, match=r"weights for \[5\], which are not classes of y"):
        ScratchMLPClassifier(class_weight={5: 2.0}, epochs=1).fit(X, y)


def test_validation_set_too_small(iris):
    X, _ = iris
    with pytest.raises(ValueError, match=r"validation set is too small .* validation_fraction"):
        ScratchMLPRegressor(early_stopping=True).fit(X[:10], X[:10, 0])


def test_partial_fit_early_stopping_and_lbfgs(iris):
    X, _ = iris
    with pytest.raises(ValueError, match="partial_fit does not support early_stopping=True"):
        ScratchMLPRegressor(early_stopping=True).partial_fit(X, X[:, 0])
    with pytest.raises(AttributeError, match="has no attribute 'partial_fit'"):
        ScratchMLPRegressor(solver="lbfgs").partial_fit(X, X[:, 0])


def test_network_shape_must_stay_for_warm_start(iris):
    X, _ = iris
    reg = ScratchMLPRegressor(hidden_size=3, epochs=1, warm_start=True).fit(X, X[:, :2])
    with pytest.raises(ValueError, match=r"layer sizes \(4, 3, 2\).*give \(4, 3, 1\)"):
        reg.fit(X, X[:, 0])
    with pytest.raises(ValueError, match="X has 3 features"):
        reg.fit(X[:, :3], X[:, :2])


def test_bad_arrays(iris):
    X, y = iris
    with pytest.raises(ValueError, match="0 sample"):
        ScratchMLPClassifier().fit(X[:0], y[:0])
    with pytest.raises(ValueError, match="dim 3"):
        ScratchMLPClassifier().fit(X[:, :, None], y)
    with pytest.raises(ValueError, match="could not convert string to float"):
        ScratchMLPRegressor().fit([["a"]] * 4, [1.0, 2.0, 3.0, 4.0])


def test_predict_before_fit():
    with pytest.raises(NotFittedError, match="not fitted yet"):
        ScratchMLPClassifier().predict(np.ones((2, 2)))


def test_no_hidden_layer_is_allowed(iris):
    X, y = iris
    clf = ScratchMLPClassifier(hidden_size=(), solver="lbfgs").fit(X, y)
    assert clf.n_layers_ == 2 and clf.coefs_[0].shape == (4, 3)


def test_class_weight_dict_with_multilabel_targets():
    rng = np.random.RandomState(0)
    X, Y = rng.standard_normal((40, 3)), (rng.uniform(size=(40, 3)) > 0.5).astype(int)
    with pytest.raises(ValueError, match="for a multilabel indicator y use class_weight='bal"):
        ScratchMLPClassifier(class_weight={0: 1.0, 1: 2.0}).fit(X, Y)
    ScratchMLPClassifier(class_weight="balanced", epochs=2).fit(X, Y)
