"""Property-based tests (hypothesis) of the fault paths, over randomised and hostile inputs.

Each property holds for every example hypothesis draws: whatever the scale of the data, the
learning rate, the solver or the dtype, a fit ends with finite outputs on its training data
or raises TrainingDivergedError; a diverging partial_fit changes nothing; class weights are
accepted exactly when they are finite numbers >= 0; a refused refit leaves the model whole.
"""

import math
import pickle
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, event, example, given, settings
from hypothesis import strategies as st
from sklearn.exceptions import ConvergenceWarning

from sknn_scratch import ScratchMLPClassifier, ScratchMLPRegressor, TrainingDivergedError
from sknn_scratch.core.activations import HIDDEN_ACTIVATIONS, exp

# the number of examples comes from the profile loaded in conftest.py
PROPERTY_SETTINGS = settings(suppress_health_check=[HealthCheck.too_slow])


def _data(seed, n_samples=40, n_features=3):
    rng = np.random.RandomState(seed)
    X = rng.standard_normal((n_samples, n_features))
    y_class = (X[:, 0] + X[:, 1] > 0).astype(int) + (X[:, 2] > 1)
    y_count = rng.poisson(np.exp(0.5 * X[:, 0]))
    return X, y_class, y_count.astype(float) + (y_count.sum() == 0)


def _outputs(estimator, X):
    if isinstance(estimator, ScratchMLPClassifier):
        return estimator.predict_proba(X)
    return estimator.predict(X)


def _snapshot(estimator):
    return pickle.dumps(estimator.__dict__)


@PROPERTY_SETTINGS
@given(
    seed=st.integers(0, 2**16),
    classifier=st.booleans(),
    loss_choice=st.booleans(),
    activation=st.sampled_from(HIDDEN_ACTIVATIONS),
    solver=st.sampled_from(["sgd", "adam", "lbfgs"]),
    dtype=st.sampled_from([np.float64, np.float32]),
    input_exponent=st.integers(0, 30),
    rate_exponent=st.integers(-3, 8),
    batch_size=st.sampled_from([None, 4, 16]),
)
# found by hypothesis: the first layer overflowed in float32 behind a sigmoid, which turned
# it back into finite outputs; predict then warned of an overflow
@example(
    seed=0, classifier=True, loss_choice=False, activation="sigmoid", solver="sgd",
    dtype=np.float32, input_exponent=25, rate_exponent=6, batch_size=16,
)  # fmt: skip
def test_every_fit_ends_with_finite_outputs_on_its_training_data(
    seed, classifier, loss_choice, activation, solver, dtype, input_exponent, rate_exponent,
    batch_size,
):  # fmt: skip
    X, y_class, y_count = _data(seed)
    X = (X * 10.0**input_exponent).astype(dtype)
    Estimator = ScratchMLPClassifier if classifier else ScratchMLPRegressor
    losses = ("log_loss", "squared_error") if classifier else ("squared_error", "poisson")
    estimator = Estimator(
        hidden_size=5, activation=activation, solver=solver, loss=losses[loss_choice],
        learning_rate=10.0**rate_exponent, batch_size=batch_size, epochs=5, random_state=seed,
    )  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # no overflow leaks out either
        warnings.simplefilter("ignore", ConvergenceWarning)
        try:
            estimator.fit(X, y_class if classifier else y_count)
        except TrainingDivergedError as error:
            assert "Training diverged at epoch" in str(error)
            assert ("learning_rate" in str(error)) == (solver != "lbfgs")
        outputs = _outputs(estimator, X)
    assert all(np.isfinite(w).all() for w in estimator.coefs_ + estimator.intercepts_)
    assert np.isfinite(outputs).all()
    assert estimator.n_iter_ <= len(estimator.loss_curve_) or solver == "lbfgs"


@PROPERTY_SETTINGS
@given(
    seed=st.integers(0, 2**16),
    solver=st.sampled_from(["sgd", "adam"]),
    momentum=st.sampled_from([0.0, 0.5, 0.9]),
    warm_up_calls=st.integers(1, 3),
    bad_rate_exponent=st.integers(60, 200),
)
def test_a_diverging_partial_fit_changes_nothing(
    seed, solver, momentum, warm_up_calls, bad_rate_exponent
):
    X, _, y = _data(seed)
    reg = ScratchMLPRegressor(
        hidden_size=4, activation="identity", solver=solver, momentum=momentum, batch_size=8,
        random_state=seed,
    )  # fmt: skip
    for _ in range(warm_up_calls):
        reg.partial_fit(X, y)
    before = _snapshot(reg)
    reg.set_params(learning_rate=10.0**bad_rate_exponent)
    with pytest.raises(TrainingDivergedError):
        reg.partial_fit(X * 1e100, y)
    reg.set_params(learning_rate=0.01)
    assert _snapshot(reg) == before
    reg.partial_fit(X, y)
    assert len(reg.loss_curve_) == warm_up_calls + 1


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
    X, y, _ = _data(0)
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


def _bad_refits(X, y):
    """Ways to call fit / partial_fit that must be refused, each with the estimator's
    parameters it needs (a call may fail in validation, encoding or network building)."""
    nan_X = X.copy()
    nan_X[0, 0] = np.nan
    return {
        "NaN in X": ({}, (nan_X, y), {}),
        "one class": ({}, (X, np.zeros_like(y)), {}),
        "continuous y": ({}, (X, y + 0.5), {}),
        "mismatched lengths": ({}, (X, y[:-1]), {}),
        "negative sample_weight": ({}, (X, y), {"sample_weight": -np.ones(len(y))}),
        "zero sample_weight": ({}, (X, y), {"sample_weight": np.zeros(len(y))}),
        "bad hidden_size": ({"hidden_size": (3, 0)}, (X, y), {}),
        "unknown class in class_weight": ({"class_weight": {7: 1.0}}, (X, y), {}),
        "negative class_weight": ({"class_weight": {0: -2.0}}, (X, y), {}),
        "other classes": ({}, (X, np.where(y == 0, 5, y)), {}),
        "fewer features": ({}, (X[:, :2], y), {}),
        "empty X": ({}, (X[:0], y[:0]), {}),
        "complex X": ({}, (X * (1 + 1j), y), {}),
        "complex sample_weight": ({}, (X, y), {"sample_weight": np.ones(len(y)) * 1j}),
        "dropout out of range": ({"dropout": 1.0}, (X, y), {}),
        "unknown activation": ({"activation": "swish"}, (X, y), {}),
        "zero max_grad_norm": ({"max_grad_norm": 0.0}, (X, y), {}),
        "negative warmup_epochs": ({"warmup_epochs": -1}, (X, y), {}),
        "unknown schedule": ({"learning_rate_schedule": "step"}, (X, y), {}),
    }


@PROPERTY_SETTINGS
@given(
    seed=st.integers(0, 2**16),
    failure=st.sampled_from(sorted(_bad_refits(*_data(0)[:2]))),
    method=st.sampled_from(["fit", "partial_fit"]),
    warm_start=st.booleans(),
)
def test_a_refused_refit_leaves_the_model_whole(seed, failure, method, warm_start):
    # a fresh fit may change the classes and the features: that is no failure
    fresh_fit = method == "fit" and not warm_start
    assume(not (fresh_fit and failure in ("other classes", "fewer features")))
    assume(not (method == "partial_fit" and failure == "one class"))  # a chunk may hold one
    X, y, _ = _data(seed)
    clf = ScratchMLPClassifier(hidden_size=3, epochs=3, warm_start=warm_start, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X, y)
    before, outputs = _snapshot(clf), clf.predict_proba(X)
    params, args, kwargs = _bad_refits(X, y)[failure]
    original = clf.get_params()
    clf.set_params(**params)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(ValueError):
            getattr(clf, method)(*args, **kwargs)
    clf.set_params(**original)
    assert _snapshot(clf) == before
    assert np.array_equal(clf.predict_proba(X), outputs)


@PROPERTY_SETTINGS
@given(
    z=st.lists(st.floats(allow_nan=False, width=64), min_size=1, max_size=8),
    dtype=st.sampled_from([np.float32, np.float64]),
)
def test_the_poisson_link_is_finite_in_its_dtype(z, dtype):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # float64 -> float32 cast of huge z
        logits = np.array(z).astype(dtype)
    out = np.empty_like(logits)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        exp(logits, out)
    assert np.isfinite(out).all() and (out >= 0).all()


@PROPERTY_SETTINGS
@given(seed=st.integers(0, 2**16), offset=st.integers(1, 7), dtype=st.sampled_from([4, 8]))
def test_misaligned_input_trains_exactly_as_aligned(seed, offset, dtype):
    X, _, y = _data(seed)
    X = X.astype(np.float32 if dtype == 4 else np.float64)
    buffer = np.zeros(X.nbytes + offset, dtype=np.uint8)
    misaligned = np.frombuffer(buffer[offset:].data, dtype=X.dtype).reshape(X.shape)
    misaligned[...] = X
    params = dict(hidden_size=3, batch_size=8, random_state=seed)
    a = ScratchMLPRegressor(**params).partial_fit(X, y)
    b = ScratchMLPRegressor(**params).partial_fit(misaligned, y)
    assert all(
        np.array_equal(u, v) for u, v in zip(a.coefs_ + a.intercepts_, b.coefs_ + b.intercepts_)
    )


class _CallbackError(Exception):
    pass


class _RaiseAt:
    """A callback that raises at the ``n``-th call of one hook (``"setup"``, ``"begin"``,
    ``"end"`` or ``"teardown"``, over the fit's task and its epochs alike)."""

    def __init__(self, hook, n):
        self.hook, self.n, self.calls = hook, n, 0
        self.error = _CallbackError(f"{hook} #{n}")

    def _hear(self, hook):
        if hook == self.hook:
            self.calls += 1
            if self.calls == self.n:
                raise self.error

    def setup(self, estimator, context):
        self._hear("setup")

    def on_fit_task_begin(self, estimator, context, **kwargs):
        self._hear("begin")

    def on_fit_task_end(self, estimator, context, **kwargs):
        self._hear("end")
        return False

    def teardown(self, estimator, context):
        self._hear("teardown")


_FEATURES = {
    "plain": {},
    "dropout": {"dropout": 0.3},
    "early stopping": {"early_stopping": True, "validation_fraction": 0.25},
    "cosine and clipping": {"learning_rate_schedule": "cosine", "max_grad_norm": 0.5},
    "adaptive": {"learning_rate_schedule": "adaptive", "solver": "sgd"},
    "class weights": {"class_weight": {0: 2.0, 1: 0.5}},
}


def _state(estimator):
    return pickle.dumps({k: v for k, v in estimator.__dict__.items() if k != "_skl_callbacks"})


@PROPERTY_SETTINGS
@given(
    seed=st.integers(0, 2**16),
    hook=st.sampled_from(["setup", "begin", "end", "teardown"]),
    n=st.integers(1, 6),
    solver=st.sampled_from(["sgd", "adam", "lbfgs"]),
    method=st.sampled_from(["fit", "partial_fit"]),
    fitted=st.booleans(),
    feature=st.sampled_from(sorted(_FEATURES)),
    classifier=st.booleans(),
)
def test_a_callback_raising_at_any_hook_and_epoch_reaches_the_caller_and_changes_nothing(
    seed, hook, n, solver, method, fitted, feature, classifier
):
    params = dict(_FEATURES[feature])
    solver = params.pop("solver", solver)
    assume(not (method == "partial_fit" and solver == "lbfgs"))  # L-BFGS has no partial_fit
    assume(not (method == "partial_fit" and params.get("early_stopping")))
    assume(not (solver == "lbfgs" and params.get("dropout")))
    assume(classifier or "class_weight" not in params)
    X, y_class, y_count = _data(seed)
    y = y_class if classifier else y_count
    if classifier and params.get("early_stopping"):  # a stratified split needs 2 per class
        assume(np.bincount(y).min() >= 3)
    Estimator = ScratchMLPClassifier if classifier else ScratchMLPRegressor
    estimator = Estimator(
        hidden_size=4, solver=solver, epochs=4, tol=0, warm_start=True, random_state=seed,
        **params,
    )  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        if fitted:
            estimator.fit(X, y)
        before = _state(estimator)
        raiser = _RaiseAt(hook, n)
        estimator.set_callbacks(raiser)
        extra = {"classes": np.unique(y)} if classifier and method == "partial_fit" else {}
        try:
            getattr(estimator, method)(X[::-1], y[::-1], **extra)
        except _CallbackError as error:
            assert error is raiser.error  # the callback's own exception, unchanged
            assert _state(estimator) == before
            event("the callback raised")
            return
    assert raiser.calls < n  # the hook never came round n times: the call went through


@PROPERTY_SETTINGS
@given(
    seed=st.integers(0, 2**16),
    hidden_size=st.sampled_from([(), 3, (4, 2)]),
    classifier=st.booleans(),
)
def test_transform_and_feature_names_agree_on_any_network(seed, hidden_size, classifier):
    X, y_class, y_count = _data(seed)
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


_LABEL_SETS = st.one_of(
    st.lists(st.integers(-(2**63), 2**63 - 1), min_size=2, max_size=3, unique=True),
    st.lists(st.integers(-(2**40), 2**40).map(float), min_size=2, max_size=3, unique=True),
    st.just([False, True]),
    st.lists(st.text(min_size=1, max_size=4), min_size=2, max_size=3, unique=True),
)


@settings(PROPERTY_SETTINGS, max_examples=25)
@given(seed=st.integers(0, 2**16), labels=_LABEL_SETS)
def test_an_onnx_graph_returns_the_labels_predict_returns(seed, labels):
    ort = pytest.importorskip("onnxruntime")
    pytest.importorskip("skl2onnx")
    from sknn_scratch import to_onnx

    X = _data(seed, n_samples=30)[0]
    y = np.array(labels)[np.arange(30) % len(labels)]
    clf = ScratchMLPClassifier(hidden_size=3, epochs=3, random_state=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X, y)
    session = ort.InferenceSession(to_onnx(clf, X[:2]).SerializeToString())
    graph_labels = session.run(None, {session.get_inputs()[0].name: X.astype(np.float32)})[0]
    predicted = clf.predict(X)
    assert graph_labels.tolist() == predicted.tolist()
