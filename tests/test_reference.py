"""The reference (``sknn_scratch.core.reference``) is the oracle every fast path is held to.

Two grids, one on each side of the oracle:

* the finite-difference grid checks the reference's ``backward_propagation`` against centred
  differences of its own ``compute_loss``, for every hidden activation, every loss with each
  of its links, with and without L2, sample weights and a dropout mask. It imports nothing
  but the reference: the one gradient check of the package, independent of the fast core.
* the oracle grid fits the public estimators (NumPy with Numba and without, torch and
  array_api_strict under scikit-learn's Array API dispatch) and ``train_network`` from the
  same starting weights, with the same dropout masks and shuffles, and holds ``coefs_``,
  ``intercepts_``, ``loss_curve_`` and the predictions to the reference's, to 1e-10 in
  float64: every activation with every solver, every loss with its links and targets, and
  each option (L2, sample and class weights, dropout, mini-batches, schedules, clipping,
  depth, sparse input, partial_fit).

The reference itself is tied to the tutorial's own code (its XOR run) and its initialisation
to the package's.
"""

import warnings
from dataclasses import dataclass, field

import numpy as np
import pytest
import scipy.sparse as sp
import sklearn
from _helpers import finite_difference_gradient
from _tutorial import tutorial_run
from sklearn.base import is_classifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state

from sknn_scratch import ScratchMLPClassifier, ScratchMLPRegressor
from sknn_scratch.core import reference as ref
from sknn_scratch.core.activations import HIDDEN_ACTIVATIONS
from sknn_scratch.core.init import initialize_parameters
from sknn_scratch.core.losses import OUTPUT_ACTIVATIONS


def _fit_with_numpy_kernels(compiled, fit):
    """``fit()`` with NumPy's compiled (Numba) kernels or its plain NumPy passes.

    This file's one reach into the core's internals: every NumPy fit uses the one kernels
    object ``sknn_scratch.core.kernels.NUMPY`` (wherever it is imported from), which is set
    up again, compiled or not, for the duration of ``fit``; the fitted model's optimizer
    shows which kernels it ran with.
    """
    from sknn_scratch.core import fused
    from sknn_scratch.core.kernels import NUMPY

    if compiled and not fused.ENABLED:
        pytest.skip("the compiled kernels need Numba (and SKNN_SCRATCH_NUMBA unset)")
    default = NUMPY.compiled
    NUMPY.__init__(compiled=compiled)
    try:
        model = fit()
        assert model._optimizer.kernels is NUMPY and NUMPY.compiled is compiled
    finally:
        NUMPY.__init__(compiled=default)
    return model


TOL = 1e-10


# ------------------------------------------------------------------ the reference's coverage


def test_the_reference_has_every_activation_and_every_loss_with_its_links():
    assert set(ref.ACTIVATIONS) == set(HIDDEN_ACTIVATIONS)
    assert set(LOSS_LINKS.values()) >= {(loss, link) for loss, links in
                                        OUTPUT_ACTIVATIONS.items() for link in links}  # fmt: skip
    assert set(ref.LINKS) == {link for links in OUTPUT_ACTIVATIONS.values() for link in links}


@pytest.mark.parametrize("activation", ["sigmoid", "relu"])
@pytest.mark.parametrize("method", ["normal", "glorot", "he"])
def test_the_reference_initialises_as_the_package_does(method, activation):
    sizes = (4, 6, 5, 3)
    expected = initialize_parameters(sizes, method, np.random.RandomState(3), activation)
    network = ref.initialize_parameters(sizes, np.random.RandomState(3), method, activation)
    for ours, theirs in zip(network["W"] + network["b"], expected.coefs + expected.intercepts):
        np.testing.assert_array_equal(ours, theirs)


def test_the_reference_reproduces_the_tutorials_xor_run():
    X, y = np.array([[0, 0], [0, 1], [1, 0], [1, 1]]), np.array([[0], [1], [1], [0]])
    losses, predictions = tutorial_run(X, y, epochs=2000)
    network = ref.initialize_parameters([2, 2, 1], np.random.RandomState(42))
    # the tutorial sums its gradient over the 4 samples and drops the 2 of d(e**2)/de: its
    # learning rate 0.1 is 0.2 here (API.md)
    trained, curve = ref.train_network(network, X, y, optimizer=ref.Optimizer(learning_rate=0.2),
                                       epochs=2000)  # fmt: skip
    np.testing.assert_allclose(curve, losses, rtol=0, atol=TOL)
    np.testing.assert_allclose(ref.predict(trained, X).ravel(), predictions, rtol=0, atol=TOL)


# ------------------------------------------------------------------ finite differences

N_SAMPLES, N_FEATURES, N_OUTPUTS = 7, 3, 3
LOSS_LINKS = {
    "squared_error-identity": ("squared_error", "identity"),
    "squared_error-sigmoid": ("squared_error", "sigmoid"),
    "squared_error-softmax": ("squared_error", "softmax"),
    "log_loss-sigmoid": ("log_loss", "sigmoid"),
    "log_loss-softmax": ("log_loss", "softmax"),
    "poisson-exp": ("poisson", "exp"),
    "absolute_error": ("absolute_error", "identity"),
    "huber": ("huber", "identity"),
    "quantile": ("quantile", "identity"),
}
# a Huber delta and a quantile that put residuals on both sides of their kinks
PARAMETERS = {"huber": 0.5, "quantile": 0.2}


def _targets(loss, link, rng, n_samples=N_SAMPLES):
    """Targets of the kind each output layer predicts."""
    if link == "softmax":
        return np.eye(N_OUTPUTS)[rng.randint(N_OUTPUTS, size=n_samples)]
    if link == "sigmoid":
        return rng.randint(2, size=(n_samples, N_OUTPUTS)).astype(float)
    if loss == "poisson":
        return rng.poisson(2.0, size=(n_samples, N_OUTPUTS)).astype(float)
    return rng.normal(size=(n_samples, N_OUTPUTS))


def _backprop_error(activation, loss, link, hidden, alpha, weighted, masked, seed=0):
    """The relative error of ``backward_propagation`` against finite differences."""
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(N_SAMPLES, N_FEATURES))
    Y = _targets(loss, link, rng)
    w = rng.uniform(0.2, 3.0, size=N_SAMPLES) if weighted else None
    spec = ref.Spec(activation, loss, link, PARAMETERS.get(loss), alpha)
    network = ref.initialize_parameters([N_FEATURES, *hidden, N_OUTPUTS], rng)
    # moderate pre-activations, no saturated units, and biases off zero: a sample whose units
    # are all dropped must not sit on relu's kink
    network = {"W": [0.7 * W for W in network["W"]],
               "b": [rng.normal(scale=0.35, size=b.shape) for b in network["b"]]}  # fmt: skip
    masks = None
    if masked:
        masks = [(rng.random_sample((N_SAMPLES, n)) >= 0.4) / 0.6 for n in hidden]
        assert all((m == 0).any() for m in masks)  # some units are really dropped

    def loss_value():
        _, cache = ref.forward_propagation(network, X, spec, masks)
        return ref.compute_loss(network, cache, Y, spec, w)

    _, cache = ref.forward_propagation(network, X, spec, masks)
    gradients = ref.backward_propagation(network, cache, X, Y, spec, w, masks)
    analytic = np.concatenate([g.ravel() for g in gradients["dW"] + gradients["db"]])
    numeric = finite_difference_gradient(loss_value, *network["W"], *network["b"])
    return np.linalg.norm(analytic - numeric) / np.linalg.norm(analytic + numeric)


@pytest.mark.parametrize("masked", [False, True], ids=["", "dropout"])
@pytest.mark.parametrize("weighted", [False, True], ids=["", "sample_weight"])
@pytest.mark.parametrize("alpha", [0.0, 0.3], ids=["", "alpha"])
@pytest.mark.parametrize("loss, link", LOSS_LINKS.values(), ids=LOSS_LINKS.keys())
@pytest.mark.parametrize("activation", HIDDEN_ACTIVATIONS)
def test_backpropagation_matches_finite_differences(
    activation, loss, link, alpha, weighted, masked
):
    assert _backprop_error(activation, loss, link, (5, 4), alpha, weighted, masked) < 1e-6


@pytest.mark.parametrize("hidden", [(), (5,), (4, 5, 3)], ids=["depth0", "depth1", "depth3"])
@pytest.mark.parametrize("activation", HIDDEN_ACTIVATIONS)
def test_backpropagation_matches_finite_differences_at_every_depth(activation, hidden):
    for loss, link in [("log_loss", "softmax"), ("squared_error", "identity")]:
        assert _backprop_error(activation, loss, link, hidden, 0.3, True, True, seed=1) < 1e-6


@pytest.mark.parametrize("loss, link", [p for p in LOSS_LINKS.values() if p[1] != "exp"])
def test_the_reference_is_finite_and_silent_for_extreme_logits(loss, link):
    """Huge weights saturate every unit; the loss and its gradient stay finite, no warning."""
    rng = np.random.RandomState(2)
    X, Y = rng.normal(size=(N_SAMPLES, N_FEATURES)) * 1e3, _targets(loss, link, rng)
    network = ref.initialize_parameters([N_FEATURES, 4, N_OUTPUTS], rng)
    network["W"] = [1e3 * W for W in network["W"]]
    for activation in ref.ACTIVATIONS:
        spec = ref.Spec(activation, loss, link, PARAMETERS.get(loss))
        with np.errstate(over="raise", invalid="raise", divide="raise"):
            _, cache = ref.forward_propagation(network, X, spec)
            value = ref.compute_loss(network, cache, Y, spec)
            gradients = ref.backward_propagation(network, cache, X, Y, spec)
        assert np.isfinite(value), activation
        assert all(np.isfinite(g).all() for g in gradients["dW"] + gradients["db"]), activation


# ------------------------------------------------------------------ the oracle grid

N_ROWS = 24


@dataclass(frozen=True)
class Case:
    """One fit: the target ``kind``, the estimator's parameters, and how it is called."""

    kind: str
    params: dict = field(default_factory=dict)
    weighted: bool = True
    partial_fits: int = 0  # 0: fit; otherwise that many partial_fit calls (one epoch each)
    sparse: bool = False


SOLVERS = {
    "sgd": dict(solver="sgd", learning_rate=0.1, momentum=0.0),
    "momentum": dict(solver="sgd", learning_rate=0.1, momentum=0.9, nesterovs_momentum=False),
    "nesterov": dict(solver="sgd", learning_rate=0.1, momentum=0.9, nesterovs_momentum=True),
    "adam": dict(solver="adam", learning_rate=0.01),
}
SGD, MOMENTUM, NESTEROV, ADAM = SOLVERS.values()

# every loss with each of its links, on the targets it is for
TARGETS = {
    "multiclass-log_loss": ("multiclass", {}),
    "binary-log_loss": ("binary", {}),
    "multilabel-log_loss": ("multilabel", {}),
    "binary-squared_error": ("binary", dict(loss="squared_error")),
    "multiclass-squared_error": ("multiclass", dict(loss="squared_error")),
    "multilabel-squared_error": ("multilabel", dict(loss="squared_error")),
    "regression-squared_error": ("regression", {}),
    "one-target-squared_error": ("one-target", {}),
    "poisson": ("counts", dict(loss="poisson")),
    "absolute_error": ("regression", dict(loss="absolute_error")),
    "huber": ("regression", dict(loss="huber", huber_delta=0.5)),
    "quantile": ("regression", dict(loss="quantile", quantile=0.8)),
}
# Every activation with every solver; activation i with solver j fits target i + j, so that
# each activation meets four targets and each target one to four activations and solvers.
CASES = {}
for i, activation in enumerate(HIDDEN_ACTIVATIONS):
    for j, (solver_name, solver) in enumerate(SOLVERS.items()):
        target, (kind, loss) = list(TARGETS.items())[(i + j) % len(TARGETS)]
        params = dict(activation=activation, **solver, **loss)
        CASES[f"{activation}-{solver_name}-{target}"] = Case(kind, params)
CASES.update({
    # the options
    "unweighted-no-alpha": Case("multiclass", dict(alpha=0.0, **NESTEROV), weighted=False),
    "class_weight": Case("multiclass", dict(class_weight={0: 2.0, 2: 0.5}, **ADAM)),
    "dropout": Case("multiclass", dict(dropout=0.3, activation="relu", **ADAM)),
    "dropout-shuffled-batches": Case(
        "regression", dict(dropout=0.3, batch_size=10, shuffle=True, **NESTEROV)
    ),
    "batches-in-order": Case("multiclass", dict(batch_size=10, shuffle=False, **MOMENTUM)),
    "shuffled-batches": Case("binary", dict(batch_size=7, shuffle=True, **ADAM)),
    "invscaling": Case(
        "multiclass", dict(SGD, learning_rate=0.5, learning_rate_schedule="invscaling")
    ),
    "cosine-warmup": Case(
        "multiclass", dict(ADAM, learning_rate_schedule="cosine", warmup_epochs=2, epochs=6)
    ),
    "cosine-batches": Case(
        "regression", dict(NESTEROV, learning_rate_schedule="cosine", batch_size=10)
    ),
    "clipped-sgd": Case("multiclass", dict(max_grad_norm=0.05, **NESTEROV)),
    "clipped-adam": Case("regression", dict(max_grad_norm=0.05, **ADAM)),
    "adam-large-epsilon": Case(
        "multiclass", dict(ADAM, epsilon=1e-3, beta_1=0.8, beta_2=0.99)
    ),
    "no-hidden-layer": Case("multiclass", dict(hidden_size=(), **NESTEROV)),
    "one-hidden-layer": Case("regression", dict(hidden_size=(6,), **SGD)),
    "three-hidden-layers": Case("regression", dict(hidden_size=(4, 5, 3), **ADAM)),
    "tutorial-init": Case("binary", dict(init="normal", activation="sigmoid", **SGD)),
    "he-init": Case("multiclass", dict(init="he", activation="relu", **SGD)),
    "sparse-input": Case("multiclass", dict(activation="relu", **ADAM), sparse=True),
    "partial_fit-adam": Case("multiclass", ADAM, partial_fits=3),
    "partial_fit-nesterov": Case("regression", NESTEROV, partial_fits=3),
})  # fmt: skip
PATHS = ["numpy-numba", "numpy", "array_api_strict", "torch"]
BASE = dict(hidden_size=(5, 4), activation="tanh", alpha=0.05, epochs=4, batch_size=None,
            tol=0.0, random_state=0)  # fmt: skip


def _data(kind):
    """``X``, the labels or targets ``y``, the network's targets ``Y`` and sample weights."""
    rng = np.random.RandomState(7)
    X = rng.normal(size=(N_ROWS, 3))
    y = {
        "binary": lambda: rng.randint(2, size=N_ROWS),
        "multiclass": lambda: rng.permutation(np.arange(N_ROWS) % 3),
        "multilabel": lambda: rng.randint(2, size=(N_ROWS, 3)),
        "regression": lambda: rng.normal(size=(N_ROWS, 2)),
        "one-target": lambda: rng.normal(size=N_ROWS),
        "counts": lambda: rng.poisson(2.0, size=(N_ROWS, 2)),
    }[kind]()
    Y = np.eye(3)[y] if kind == "multiclass" else y.reshape(N_ROWS, -1).astype(float)
    return X, y, Y, rng.uniform(0.5, 2.0, size=N_ROWS)


def _reference_fit(estimator, kind, X, y, Y, weights, epochs):
    """``train_network`` with the estimator's parameters, from the weights it starts from."""
    p = estimator.get_params()
    link = {"multiclass": "softmax", "binary": "sigmoid", "multilabel": "sigmoid"}.get(
        kind, "exp" if p["loss"] == "poisson" else "identity"
    )
    parameter = {"huber": p.get("huber_delta"), "quantile": p.get("quantile")}.get(p["loss"])
    spec = ref.Spec(p["activation"], p["loss"], link, parameter, p["alpha"])
    optimizer = ref.Optimizer(
        p["solver"], p["learning_rate"], p["momentum"], p["nesterovs_momentum"], p["beta_1"],
        p["beta_2"], p["epsilon"], p["learning_rate_schedule"], p["power_t"],
        p["warmup_epochs"], p["max_grad_norm"],
    )  # fmt: skip
    if p.get("class_weight"):
        weights = weights * np.array([p["class_weight"].get(c, 1.0) for c in y])
    # the starting weights and the random draws after them, as the estimator makes them
    rng = check_random_state(p["random_state"])
    sizes = (X.shape[1], *p["hidden_size"], Y.shape[1])
    start = initialize_parameters(sizes, p["init"], rng, p["activation"])
    network = {"W": [W.copy() for W in start.coefs], "b": [b.copy() for b in start.intercepts]}
    trained, curve = ref.train_network(
        network, X, Y, spec, optimizer, epochs=epochs, batch_size=p["batch_size"],
        sample_weight=weights, dropout=p["dropout"], shuffle=p["shuffle"], rng=rng,
    )  # fmt: skip
    return network, trained, curve, ref.predict(trained, X, spec)


def _numpy(array):
    array = array.detach().cpu() if hasattr(array, "detach") else array
    return np.asarray(array, dtype=np.float64)


def _outputs(estimator, X):
    """The network's outputs, as ``reference.predict`` gives them."""
    if not is_classifier(estimator):
        return _numpy(estimator.predict(X)).reshape(X.shape[0], -1)
    proba = _numpy(estimator.predict_proba(X))
    return proba[:, 1:] if len(estimator.classes_) == 2 and proba.ndim == 2 else proba


def _fit_in(path, case, estimator, X, y, weights):
    """Fit ``estimator`` in ``path``'s array library; its coefs, intercepts, loss curve and
    outputs, as NumPy arrays."""

    def fit(X, y, w):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            if not case.partial_fits:
                return estimator.fit(X, y, sample_weight=w)
            classes = {"classes": np.unique(y)} if is_classifier(estimator) else {}
            for _ in range(case.partial_fits):
                estimator.partial_fit(X, y, sample_weight=w, **classes)
            return estimator

    def results(model, X):
        arrays = [[_numpy(a) for a in arrays] for arrays in (model.coefs_, model.intercepts_)]
        return (*arrays, model.loss_curve_, _outputs(model, X))

    w = weights if case.weighted else None
    if path.startswith("numpy"):
        X = sp.csr_matrix(X) if case.sparse else X
        return results(_fit_with_numpy_kernels(path == "numpy-numba", lambda: fit(X, y, w)), X)
    if case.sparse:
        pytest.skip("sparse input trains with NumPy only")
    if not __import__("scipy._lib._array_api", fromlist=["x"]).SCIPY_ARRAY_API:
        pytest.skip("SCIPY_ARRAY_API=1 was not set before SciPy was imported")
    xp = pytest.importorskip(path)
    if path == "array_api_strict" and estimator.activation == "gelu":
        pytest.skip("array_api_strict has no normal CDF, which gelu needs")
    with sklearn.config_context(array_api_dispatch=True):
        arrays = [None if a is None else xp.asarray(a) for a in (X, y, w)]
        return results(fit(*arrays), arrays[0])


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_every_fast_path_fits_what_the_reference_computes(case, path):
    X, y, Y, weights = _data(case.kind)
    Estimator = ScratchMLPRegressor if case.kind in ("regression", "one-target", "counts") else (
        ScratchMLPClassifier
    )  # fmt: skip
    params = {**BASE, **case.params}
    if case.partial_fits:
        params["epochs"] = case.partial_fits  # what a cosine schedule would run over
    estimator = Estimator(**params)
    epochs = case.partial_fits or params["epochs"]
    start, trained, curve, outputs = _reference_fit(
        estimator, case.kind, X, y, Y, weights if case.weighted else None, epochs
    )
    coefs, intercepts, loss_curve, fitted_outputs = _fit_in(path, case, estimator, X, y, weights)

    moved = max(np.abs(a - b).max() for a, b in zip(trained["W"], start["W"]))
    assert moved > 1e-3  # training went somewhere: the comparison means something
    np.testing.assert_allclose(loss_curve, curve, rtol=TOL, atol=TOL)
    for ours, theirs in zip(coefs + intercepts, trained["W"] + trained["b"]):
        np.testing.assert_allclose(ours, theirs, rtol=TOL, atol=TOL)
    np.testing.assert_allclose(fitted_outputs, outputs, rtol=TOL, atol=TOL)
