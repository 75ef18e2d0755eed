"""Training in any Array API library: torch (and array_api_strict), on the input's device.

With ``array_api_dispatch`` on, the array library follows ``X``. A float64 fit in torch must
be the NumPy fit (the same initial weights, shuffles and dropout masks are drawn on the
host), the work must really run in torch, and nothing may go through NumPy on the way.
scikit-learn's own array-API checks run in ``test_sklearn_checks.py``.
"""

import pickle
import subprocess
import sys
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
import sklearn
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sknn_scratch import ScratchMLPClassifier, ScratchMLPRegressor, TrainingDivergedError

torch = pytest.importorskip("torch", reason="the Array API tests train in torch")
TorchFunctionMode = pytest.importorskip("torch.overrides").TorchFunctionMode

if not __import__("scipy._lib._array_api", fromlist=["SCIPY_ARRAY_API"]).SCIPY_ARRAY_API:
    pytest.skip("SCIPY_ARRAY_API=1 was not set before SciPy was imported", allow_module_level=True)

TOL = 1e-10


@pytest.fixture(autouse=True)
def array_api_dispatch():
    with sklearn.config_context(array_api_dispatch=True), warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        yield


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return StandardScaler().fit_transform(X[:300]), y[:300]


@pytest.fixture(scope="module")
def regression(digits):
    X, _ = digits
    rng = np.random.RandomState(0)
    Y = np.column_stack([X[:, 20] + 0.1 * rng.normal(size=len(X)), X[:, 30] - X[:, 40]])
    return X, Y


def _numpy(array):
    return array.detach().cpu().numpy() if isinstance(array, torch.Tensor) else array


def _assert_same_model(ours, theirs, X_np, X_torch, methods):
    """Weights, biases, curves and every prediction method agree to TOL."""
    assert ours.n_iter_ == theirs.n_iter_ and ours.t_ == theirs.t_
    np.testing.assert_allclose(ours.loss_curve_, theirs.loss_curve_, rtol=TOL, atol=TOL)
    for a, b in zip(ours.coefs_ + ours.intercepts_, theirs.coefs_ + theirs.intercepts_):
        assert isinstance(b, torch.Tensor) and b.dtype == torch.float64
        np.testing.assert_allclose(_numpy(b), a, rtol=0, atol=TOL)
    for method in methods:
        expected = getattr(ours, method)(X_np)
        actual = getattr(theirs, method)(X_torch)
        assert isinstance(actual, torch.Tensor), method
        np.testing.assert_allclose(_numpy(actual), expected, rtol=0, atol=TOL, err_msg=method)


CLASSIFIER_CASES = {
    "adam": dict(),
    "sgd-nesterov": dict(solver="sgd", learning_rate=0.05),
    "sgd-plain-invscaling": dict(
        solver="sgd", momentum=0.0, learning_rate=0.5, learning_rate_schedule="invscaling"
    ),
    "lbfgs": dict(solver="lbfgs", epochs=40),
    "early-stopping": dict(early_stopping=True, epochs=15, n_iter_no_change=3),
    "dropout-relu": dict(dropout=0.3, activation="relu"),
    "gelu-cosine-clipped": dict(
        activation="gelu", learning_rate_schedule="cosine", warmup_epochs=2, max_grad_norm=0.5
    ),
    "silu-squared-error-alpha": dict(activation="silu", loss="squared_error", alpha=0.3),
    "elu-balanced": dict(activation="elu", class_weight="balanced"),
    "softplus-adaptive": dict(
        activation="softplus",
        solver="sgd",
        learning_rate_schedule="adaptive",
        n_iter_no_change=1,
        tol=0.5,
    ),
    "leaky-relu-two-layers": dict(activation="leaky_relu", hidden_size=(12, 8)),
}


@pytest.mark.parametrize("params", CLASSIFIER_CASES.values(), ids=CLASSIFIER_CASES.keys())
def test_a_float64_torch_fit_is_the_numpy_fit(digits, params):
    X, y = digits
    params = dict(dict(hidden_size=16, epochs=8, batch_size=64, random_state=0), **params)
    weights = np.random.RandomState(1).uniform(0.5, 2.0, size=len(y))
    ours = ScratchMLPClassifier(**params).fit(X, y, sample_weight=weights)
    theirs = ScratchMLPClassifier(**params).fit(
        torch.asarray(X), torch.asarray(y), sample_weight=torch.asarray(weights)
    )
    methods = ["predict", "predict_proba", "predict_log_proba", "transform"]
    _assert_same_model(ours, theirs, X, torch.asarray(X), methods)
    # scikit-learn scores torch labels in float32
    assert ours.score(X, y) == pytest.approx(theirs.score(torch.asarray(X), torch.asarray(y)))


REGRESSOR_CASES = {
    "squared-error": dict(),
    "huber": dict(loss="huber", huber_delta=0.5),
    "quantile-early-stopping": dict(loss="quantile", quantile=0.8, early_stopping=True),
    "absolute-error-sgd": dict(loss="absolute_error", solver="sgd"),
    "lbfgs-tanh": dict(solver="lbfgs", activation="tanh", epochs=30),
}


@pytest.mark.parametrize("params", REGRESSOR_CASES.values(), ids=REGRESSOR_CASES.keys())
def test_a_float64_torch_regression_is_the_numpy_regression(regression, params):
    X, Y = regression
    params = dict(dict(hidden_size=10, epochs=8, random_state=0), **params)
    ours = ScratchMLPRegressor(**params).fit(X, Y)
    theirs = ScratchMLPRegressor(**params).fit(torch.asarray(X), torch.asarray(Y))
    _assert_same_model(ours, theirs, X, torch.asarray(X), ["predict", "transform"])


def test_poisson_and_one_target_on_torch(regression):
    X, Y = regression
    y = np.exp(Y[:, 0])
    params = dict(hidden_size=6, loss="poisson", epochs=6, random_state=0)
    ours = ScratchMLPRegressor(**params).fit(X, y)
    theirs = ScratchMLPRegressor(**params).fit(torch.asarray(X), torch.asarray(y))
    _assert_same_model(ours, theirs, X, torch.asarray(X), ["predict"])
    assert theirs.predict(torch.asarray(X)).shape == (len(y),)


def test_partial_fit_and_warm_start_continue_in_torch(digits):
    X, y = digits
    X_t, y_t = torch.asarray(X), torch.asarray(y)
    ours = ScratchMLPClassifier(hidden_size=8, random_state=0)
    theirs = ScratchMLPClassifier(hidden_size=8, random_state=0)
    for chunk in np.array_split(np.arange(len(y)), 3):
        ours.partial_fit(X[chunk], y[chunk], classes=np.arange(10))
        theirs.partial_fit(X_t[chunk], y_t[chunk], classes=np.arange(10))
    _assert_same_model(ours, theirs, X, X_t, ["predict_proba"])

    params = dict(hidden_size=8, epochs=3, warm_start=True, random_state=0)
    ours, theirs = ScratchMLPClassifier(**params), ScratchMLPClassifier(**params)
    for _ in range(2):
        ours.fit(X, y)
        theirs.fit(X_t, y_t)
    _assert_same_model(ours, theirs, X, X_t, ["predict_proba"])


class _MatmulCounter(TorchFunctionMode):
    """Counts the matrix products torch runs."""

    def __init__(self):
        super().__init__()
        self.count = 0

    def __torch_function__(self, func, types, args=(), kwargs=None):
        if func in (torch.matmul, torch.Tensor.__matmul__, torch.Tensor.matmul):
            self.count += 1
        return func(*args, **(kwargs or {}))


def _no_numpy_conversion(*args, **kwargs):
    raise AssertionError("a tensor was converted to a NumPy array")


def test_training_and_prediction_run_in_torch_and_never_through_numpy(digits, monkeypatch):
    X, y = digits
    X_t, y_t = torch.asarray(X), torch.asarray(y)
    epochs, batch_size = 3, 50
    clf = ScratchMLPClassifier(hidden_size=16, epochs=epochs, batch_size=batch_size, tol=0)
    monkeypatch.setattr(torch.Tensor, "__array__", _no_numpy_conversion)
    with _MatmulCounter() as counter:
        clf.fit(X_t, y_t)
    # per batch: a product per layer forward, a weight gradient per layer, one delta
    assert counter.count >= epochs * (len(y) // batch_size) * 5
    with _MatmulCounter() as counter:
        proba = clf.predict_proba(X_t)
    assert counter.count == 2 and isinstance(proba, torch.Tensor)
    for method in ("predict", "transform"):
        assert isinstance(getattr(clf, method)(X_t), torch.Tensor)
    monkeypatch.undo()
    with pytest.raises(AssertionError, match="NumPy"):  # the guard itself works
        monkeypatch.setattr(torch.Tensor, "__array__", _no_numpy_conversion)
        np.asarray(X_t)


def test_float32_trains_in_float32(digits):
    X, y = digits
    clf = ScratchMLPClassifier(hidden_size=8, epochs=5, random_state=0)
    clf.fit(torch.asarray(X, dtype=torch.float32), torch.asarray(y))
    assert all(c.dtype == torch.float32 for c in clf.coefs_ + clf.intercepts_)
    assert clf.predict_proba(torch.asarray(X, dtype=torch.float32)).dtype == torch.float32
    reference = ScratchMLPClassifier(hidden_size=8, epochs=5, random_state=0)
    reference.fit(X.astype(np.float32), y)
    np.testing.assert_allclose(clf.loss_curve_, reference.loss_curve_, rtol=1e-4)


def test_targets_and_weights_follow_X(digits):
    """Mixed inputs: y and sample_weight from NumPy (or lists) go to X's library."""
    X, y = digits
    weights = np.linspace(0.5, 1.5, len(y))
    clf = ScratchMLPClassifier(hidden_size=8, epochs=3, random_state=0)
    clf.fit(torch.asarray(X), y.tolist(), sample_weight=weights)
    reference = ScratchMLPClassifier(hidden_size=8, epochs=3, random_state=0)
    reference.fit(X, y, sample_weight=weights)
    _assert_same_model(reference, clf, X, torch.asarray(X), ["predict_proba"])


def test_predicting_in_another_library_than_fit_says_so(digits):
    X, y = digits
    clf = ScratchMLPClassifier(hidden_size=4, epochs=2).fit(torch.asarray(X), torch.asarray(y))
    with pytest.raises(ValueError, match=r"ScratchMLPClassifier.predict\(\) must use the same"):
        clf.predict(X)
    numpy_fit = ScratchMLPClassifier(hidden_size=4, epochs=2).fit(X, y)
    with pytest.raises(ValueError, match=r"predict_proba\(\) must use the same namespace"):
        numpy_fit.predict_proba(torch.asarray(X))


@pytest.mark.parametrize("method", ["fit", "partial_fit"])
@pytest.mark.parametrize("fitted_in", ["torch", "numpy"])
@pytest.mark.parametrize("dispatch", [True, False])
def test_continuing_training_in_another_library_says_so_and_changes_nothing(
    digits, method, fitted_in, dispatch
):
    X, y = digits
    inputs = {"numpy": X, "torch": torch.asarray(X)}
    other = "numpy" if fitted_in == "torch" else "torch"
    if other == "torch" and not dispatch:
        pytest.skip("without dispatch a tensor is NumPy data: continuing in NumPy is allowed")
    clf = ScratchMLPClassifier(hidden_size=4, epochs=2, warm_start=True, random_state=0)
    clf.fit(inputs[fitted_in], y)
    before = pickle.dumps(clf.__dict__)
    with sklearn.config_context(array_api_dispatch=dispatch):
        with pytest.raises(ValueError) as error:
            getattr(clf, method)(inputs[other], y)
    message = str(error.value)
    assert f"network lives in {fitted_in}" in message
    assert f"{method} got X in {other}" in message
    assert "move_estimator_to" in message and "warm_start=False" in message
    assert pickle.dumps(clf.__dict__) == before
    getattr(clf, method)(inputs[fitted_in], y)  # in its own library it trains on
    assert clf.n_iter_ >= 1


COMPLEX_INPUTS = {
    "torch": lambda X: torch.asarray(X) * (1 + 1j),
    "numpy": lambda X: X * (1 + 1j),
    "list": lambda X: (X * (1 + 1j)).tolist(),
    "scipy.sparse": lambda X: sp.csr_matrix(X * (1 + 1j)),
}


@pytest.mark.parametrize("kind", COMPLEX_INPUTS)
@pytest.mark.parametrize("dispatch", [True, False])
def test_complex_input_is_refused_from_every_library_with_one_message(digits, kind, dispatch):
    X, y = digits
    X_complex = COMPLEX_INPUTS[kind](X[:40])
    message = r"^Complex data not supported: X holds complex numbers \(.*complex.*\), which"
    fitted = ScratchMLPRegressor(hidden_size=3, epochs=2, random_state=0).fit(X[:40], y[:40])
    with sklearn.config_context(array_api_dispatch=dispatch):
        for estimator in (ScratchMLPClassifier(epochs=2), ScratchMLPRegressor(epochs=2)):
            with pytest.raises(ValueError, match=message):
                estimator.fit(X_complex, y[:40])
            assert not hasattr(estimator, "coefs_")
        with pytest.raises(ValueError, match=message):
            fitted.predict(X_complex)


@pytest.mark.parametrize("name", ["y", "sample_weight"])
@pytest.mark.parametrize("library", ["torch", "numpy"])
def test_complex_targets_and_weights_are_refused_by_name(digits, name, library):
    X, y = digits
    values = {"y": y[:40].astype(float), "sample_weight": np.ones(40)}[name] * (1 + 1j)
    values = torch.asarray(values) if library == "torch" else values
    arguments = {"y": y[:40].astype(float), name: values}
    X = torch.asarray(X[:40]) if library == "torch" else X[:40]
    with pytest.raises(ValueError, match=rf"^Complex data not supported: {name} holds"):
        ScratchMLPRegressor(epochs=2).fit(X, **arguments)


def test_sparse_input_trains_with_numpy_and_torch_sparse_is_refused(digits):
    X, y = digits
    X_sparse = sp.csr_matrix(np.where(np.abs(X) > 1, X, 0.0))
    clf = ScratchMLPClassifier(hidden_size=4, epochs=2, random_state=0).fit(X_sparse, y)
    assert isinstance(clf.coefs_[0], np.ndarray)
    with pytest.raises(ValueError, match="sparse input trains with NumPy only"):
        clf.fit(torch.asarray(X).to_sparse(), torch.asarray(y))


def test_gelu_without_a_normal_cdf_in_the_library_says_why(digits):
    xp = pytest.importorskip("array_api_strict")
    X, y = digits
    clf = ScratchMLPClassifier(hidden_size=4, activation="gelu", epochs=2)
    with pytest.raises(ValueError, match="normal distribution's CDF"):
        clf.fit(xp.asarray(X), xp.asarray(y))
    assert not hasattr(clf, "coefs_")  # a failed fit leaves the estimator as it was


def test_array_api_strict_on_its_second_device_stays_there(digits):
    xp = pytest.importorskip("array_api_strict")
    X, y = digits
    device = xp.Device("device1")
    X_d, y_d = xp.asarray(X, device=device), xp.asarray(y, device=device)
    for params in (dict(epochs=4), dict(solver="lbfgs", epochs=10), dict(early_stopping=True)):
        params = dict(dict(hidden_size=6, epochs=4, random_state=0), **params)
        clf = ScratchMLPClassifier(**params).fit(X_d, y_d)
        assert all(c.device == device for c in clf.coefs_ + clf.intercepts_)
        for method in ("predict", "predict_proba", "transform"):
            assert getattr(clf, method)(X_d).device == device, method
        reference = ScratchMLPClassifier(**params).fit(X, y)
        proba = np.asarray(xp.asarray(clf.predict_proba(X_d), device=xp.Device("CPU_DEVICE")))
        np.testing.assert_allclose(proba, reference.predict_proba(X), atol=TOL)


def test_a_diverging_torch_fit_keeps_finite_weights_as_numpy_does(digits):
    X, y = digits
    params = dict(hidden_size=10, activation="relu", solver="sgd", learning_rate=1e30)
    reference = ScratchMLPClassifier(random_state=0, **params)
    with pytest.raises(TrainingDivergedError) as numpy_error:
        reference.fit(X, y)
    clf = ScratchMLPClassifier(random_state=0, **params)
    with pytest.raises(TrainingDivergedError) as torch_error:
        clf.fit(torch.asarray(X), torch.asarray(y))
    assert torch_error.value.epoch == numpy_error.value.epoch
    for a, b in zip(reference.coefs_, clf.coefs_):
        assert bool(torch.isfinite(b).all())
        np.testing.assert_allclose(_numpy(b), a, atol=TOL)


def test_a_pickled_torch_model_predicts_and_continues_training(digits):
    X, y = digits
    X_t, y_t = torch.asarray(X), torch.asarray(y)
    clf = ScratchMLPClassifier(hidden_size=6, epochs=2, random_state=0).fit(X_t, y_t)
    copy = pickle.loads(pickle.dumps(clf))
    assert torch.equal(copy.predict_proba(X_t), clf.predict_proba(X_t))
    copy.partial_fit(X_t, y_t)
    clf.partial_fit(X_t, y_t)
    assert torch.equal(copy.coefs_[0], clf.coefs_[0])


def test_a_pipeline_of_array_api_steps_stays_in_torch(digits):
    X, y = digits
    pipe = make_pipeline(
        StandardScaler(), ScratchMLPClassifier(hidden_size=8, epochs=20, random_state=0)
    )
    pipe.fit(torch.asarray(X), torch.asarray(y))
    assert isinstance(pipe.predict(torch.asarray(X)), torch.Tensor)
    assert pipe.score(torch.asarray(X), torch.asarray(y)) > 0.5


def test_without_dispatch_tensors_train_in_numpy(digits):
    X, y = digits
    with sklearn.config_context(array_api_dispatch=False):
        clf = ScratchMLPClassifier(hidden_size=4, epochs=2, random_state=0)
        clf.fit(torch.asarray(X), torch.asarray(y))
    assert isinstance(clf.coefs_[0], np.ndarray)


def test_the_package_never_imports_torch_itself():
    code = (
        "import sys, numpy as np\n"
        "from sknn_scratch import ScratchMLPClassifier\n"
        "X = np.random.RandomState(0).normal(size=(40, 3)); y = (X[:, 0] > 0).astype(int)\n"
        "ScratchMLPClassifier(hidden_size=3, epochs=2).fit(X, y).predict(X)\n"
        "assert 'torch' not in sys.modules, 'torch was imported'\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_a_moved_network_predicts_and_partial_fit_carries_the_optimizer_over(digits):
    from sklearn.utils._array_api import move_estimator_to

    X, y = digits
    params = dict(hidden_size=6, epochs=3, random_state=0)
    on_torch = ScratchMLPClassifier(**params).fit(torch.asarray(X), torch.asarray(y))
    reference = ScratchMLPClassifier(**params).fit(X, y)
    moved = move_estimator_to(on_torch, np, "cpu")
    assert isinstance(moved.coefs_[0], np.ndarray)
    np.testing.assert_allclose(moved.predict_proba(X), reference.predict_proba(X), atol=TOL)
    moved.partial_fit(X, y)
    reference.partial_fit(X, y)  # Adam's moments continue: the same step as NumPy's
    np.testing.assert_allclose(moved.coefs_[0], reference.coefs_[0], atol=TOL)


def test_with_dispatch_off_a_torch_network_predicts_numpy_input(digits):
    X, y = digits
    clf = ScratchMLPClassifier(hidden_size=6, epochs=3, random_state=0)
    clf.fit(torch.asarray(X), torch.asarray(y))
    expected = _numpy(clf.predict_proba(torch.asarray(X)))
    with sklearn.config_context(array_api_dispatch=False):
        np.testing.assert_allclose(clf.predict_proba(X), expected, atol=TOL)


@pytest.mark.parametrize(
    "grad",
    [[3.0, 4.0], [1e200, -1e200, 3.0], [np.nan, 1.0], [0.0, 0.0], [0.1, -0.1]],
    ids=["clipped", "squares-overflow", "nan", "zero", "within"],
)
def test_gradient_clipping_on_the_device_matches_numpy(grad):
    from sknn_scratch.core.kernels import NUMPY, ArrayAPIKernels
    from sknn_scratch.core.optimizers import clip_by_global_norm

    grad = np.array(grad)
    xp, _, device = sklearn.utils._array_api.get_namespace_and_device(torch.asarray(grad))
    on_device = clip_by_global_norm(torch.asarray(grad), 1.0, ArrayAPIKernels(xp, device))
    expected = clip_by_global_norm(grad.copy(), 1.0, NUMPY)
    np.testing.assert_allclose(_numpy(on_device), expected, rtol=1e-15)
