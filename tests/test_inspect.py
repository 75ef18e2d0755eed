"""The window into the network: ``check_gradients`` and ``trace_step``.

``check_gradients`` passes for every activation, loss (with each of its targets), L2 and
sample weights, fitted or not, in float64 for float32 models too; it fails, and says so, when
a derivative of the core is broken; it counts the finite differences that cross relu's kink;
it samples entries reproducibly. ``trace_step`` is the step ``fit`` and ``partial_fit`` take
(the weights move by the traced update, to 1e-12) and its numbers are the reference's
(``core/reference.py``). Neither changes the estimator.
"""

import pickle
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning

from sknn_scratch import ScratchMLPClassifier, ScratchMLPRegressor, check_gradients, trace_step
from sknn_scratch.core import reference as ref
from sknn_scratch.core.activations import HIDDEN_ACTIVATIONS
from sknn_scratch.core.kernels import NUMPY

N_ROWS = 12
SIGMA = "\N{GREEK SMALL LETTER SIGMA}"  # the tutorial's name for the hidden activation

# every loss with each of its output layers: (estimator, its parameters, the kind of target)
TARGETS = {
    "binary-log_loss": (ScratchMLPClassifier, {}, "binary"),
    "multiclass-log_loss": (ScratchMLPClassifier, {}, "multiclass"),
    "multilabel-log_loss": (ScratchMLPClassifier, {}, "multilabel"),
    "binary-squared_error": (ScratchMLPClassifier, dict(loss="squared_error"), "binary"),
    "multiclass-squared_error": (ScratchMLPClassifier, dict(loss="squared_error"), "multiclass"),
    "multilabel-squared_error": (ScratchMLPClassifier, dict(loss="squared_error"), "multilabel"),
    "squared_error": (ScratchMLPRegressor, {}, "regression"),
    "poisson": (ScratchMLPRegressor, dict(loss="poisson"), "counts"),
    "absolute_error": (ScratchMLPRegressor, dict(loss="absolute_error"), "regression"),
    "huber": (ScratchMLPRegressor, dict(loss="huber", huber_delta=0.5), "regression"),
    "quantile": (ScratchMLPRegressor, dict(loss="quantile", quantile=0.3), "regression"),
}
SMALL = dict(hidden_size=(4, 3), random_state=0)


def _data(kind, n_rows=N_ROWS, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n_rows, 3))
    y = {
        "binary": lambda: np.arange(n_rows) % 2,
        "multiclass": lambda: np.arange(n_rows) % 3,
        "multilabel": lambda: rng.randint(2, size=(n_rows, 3)),
        "regression": lambda: rng.normal(size=(n_rows, 2)),
        "counts": lambda: rng.poisson(2.0, size=(n_rows, 2)),
    }[kind]()
    return X, y, rng.uniform(0.5, 2.0, size=n_rows)


def _fit(estimator, X, y, **fit_params):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return estimator.fit(X, y, **fit_params)


def _state(estimator):
    return pickle.dumps(estimator.__dict__)


# ------------------------------------------------------------------ check_gradients passes


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("activation", HIDDEN_ACTIVATIONS)
def test_check_passes_for_every_activation_loss_alpha_and_weights_fitted_or_not(
    activation, target
):
    Estimator, params, kind = TARGETS[target]
    X, y, weights = _data(kind)
    estimator = Estimator(activation=activation, alpha=0.3, **SMALL, **params)
    fitted = _fit(clone(estimator).set_params(epochs=30, learning_rate=0.05, tol=0), X, y)
    # alpha, sample weights and fitted or not, each pair of them both ways
    for model, alpha, sample_weight in [
        (estimator, 0.0, None),
        (estimator, 0.3, weights),
        (fitted, 0.3, None),
        (fitted, 0.0, weights),  # the fitted parameters, checked for another loss
    ]:
        model = model.set_params(alpha=alpha)
        check = check_gradients(model, X, y, sample_weight=sample_weight)
        assert check.passed, str(check)
        assert check.max_relative_error < 1e-6
        assert check.max_relative_error == max(check.relative_errors.values())


def test_the_relative_errors_name_every_parameter_array_and_check_every_entry():
    X, y, _ = _data("regression")
    estimator = ScratchMLPRegressor(hidden_size=(4, 3), init="normal", random_state=0)
    check = check_gradients(estimator, X, 3 * y)
    names = ["coefs_[0]", "intercepts_[0]", "coefs_[1]", "intercepts_[1]"]
    assert list(check.relative_errors) == [*names, "coefs_[2]", "intercepts_[2]"]
    sizes = [12, 4, 12, 3, 6, 2]
    assert [c.indices.size for c in check.arrays.values()] == sizes
    assert check.tolerance == 1e-6 and check.kinks == 0 and check.verdict == "happy"
    for array in check.arrays.values():
        a, n = array.analytic, array.numerical
        # cs231n's relative error, with the denominator at least the floor
        expected = np.abs(a - n) / np.maximum(np.abs(a) + np.abs(n), check.floor)
        np.testing.assert_allclose(array.relative_errors, expected, rtol=1e-12)
        assert array.max_relative_error == array.relative_errors.max()
    # entries well above the floor are judged exactly as cs231n does
    W3 = check.arrays["coefs_[2]"]
    big = np.abs(W3.analytic) > check.floor
    assert big.sum() >= 3
    exact = np.abs(W3.analytic - W3.numerical) / (np.abs(W3.analytic) + np.abs(W3.numerical))
    np.testing.assert_array_equal(W3.relative_errors[big], exact[big])


def test_a_converged_networks_tiny_gradients_do_not_read_as_errors():
    X, y, _ = _data("multiclass")
    converged = ScratchMLPClassifier(solver="lbfgs", epochs=1000, **SMALL)
    check = check_gradients(_fit(converged, X, y), X, y)
    largest = max(np.abs(array.analytic).max() for array in check.arrays.values())
    assert largest < 1e-3  # every gradient is small...
    # ...so that round-off alone gives cs231n's bare ratio more than the tolerance...
    bare = max(
        (np.abs(c.analytic - c.numerical) / (np.abs(c.analytic) + np.abs(c.numerical))).max()
        for c in check.arrays.values()
    )
    assert bare > check.tolerance
    # ...while measured against the finite differences' resolution, the check passes
    assert check.passed and check.verdict == "happy"
    assert check.floor == pytest.approx(1e8 * np.finfo(float).eps / 1e-6)


def test_the_check_is_at_the_parameters_fit_starts_from_or_the_fitted_ones():
    X, y, _ = _data("multiclass")
    estimator = ScratchMLPClassifier(hidden_size=4, random_state=3, solver="sgd", epochs=1)
    start = check_gradients(estimator, X, y)
    started = _fit(clone(estimator).set_params(learning_rate=1e-300), X, y)  # one tiny step
    at_start = check_gradients(started, X, y)
    assert start.where.startswith("at the parameters fit would start from")
    assert at_start.where == "at its fitted parameters"
    assert at_start.loss == pytest.approx(start.loss, rel=1e-14)
    for name, array in start.arrays.items():
        np.testing.assert_allclose(array.analytic, at_start.arrays[name].analytic, rtol=1e-12)


def test_a_float32_model_is_checked_in_float64():
    X, y, weights = _data("multiclass")
    X32 = X.astype(np.float32)
    for estimator in (ScratchMLPClassifier(activation="tanh", **SMALL),
                      _fit(ScratchMLPClassifier(activation="tanh", **SMALL), X32, y)):  # fmt: skip
        check = check_gradients(estimator, X32, y, sample_weight=weights)
        assert check.passed and check.max_relative_error < 1e-7
        assert any("float32" in note and "float64" in note for note in check.notes)
        assert all(c.analytic.dtype == np.float64 for c in check.arrays.values())
    assert estimator.coefs_[0].dtype == np.float32


def test_sparse_input_and_class_weights_are_checked():
    X, y, _ = _data("multiclass")
    estimator = ScratchMLPClassifier(class_weight="balanced", **SMALL)
    assert check_gradients(estimator, sp.csr_matrix(X), y.tolist()).passed
    fitted = _fit(ScratchMLPClassifier(class_weight={0: 3.0}, **SMALL), X, y)
    assert check_gradients(fitted, sp.csr_matrix(X), y).passed


def test_dropout_is_checked_with_one_fixed_mask():
    X, y, _ = _data("multiclass")
    estimator = ScratchMLPClassifier(dropout=0.4, activation="tanh", **SMALL)
    check = check_gradients(estimator, X, y, random_state=0)
    assert check.passed
    assert any("dropout=0.4" in note and "fixed" in note for note in check.notes)
    # the mask is part of the loss checked: another mask, another gradient
    other = check_gradients(estimator, X, y, random_state=1)
    assert not np.allclose(check.arrays["coefs_[1]"].analytic, other.arrays["coefs_[1]"].analytic)


# ------------------------------------------------------------------ check_gradients fails


def test_the_check_fails_on_a_broken_derivative(monkeypatch):
    def tanh_derivative_missing_a_square(a, delta):  # 1 - a instead of 1 - a**2
        delta *= 1 - a

    X, y, _ = _data("multiclass")
    estimator = ScratchMLPClassifier(activation="tanh", **SMALL)
    assert check_gradients(estimator, X, y).passed
    monkeypatch.setitem(NUMPY._derivatives, "tanh", tanh_derivative_missing_a_square)
    check = check_gradients(estimator, X, y)
    assert not check.passed
    assert check.verdict == "probably wrong" and check.max_relative_error > 1e-2
    # the output layer does not use the hidden derivative; the layers below it do
    assert check.relative_errors["coefs_[2]"] < 1e-6
    assert check.relative_errors["coefs_[0]"] > 1e-2
    text = str(check)
    assert "FAILED" in text and "probably wrong" in text
    assert "FAILED" in check._repr_html_()


def test_the_check_fails_on_a_broken_output_delta(monkeypatch):
    from sknn_scratch.core.losses import Huber

    def clipped_twice_as_far(self, kernels, residual, outputs, n_outputs):
        return kernels.clip(residual, -2 * self.parameter, 2 * self.parameter), 1 / n_outputs

    X, y, _ = _data("regression")
    X = 3 * X  # residuals beyond delta
    monkeypatch.setattr(Huber, "_from_residual", clipped_twice_as_far)
    check = check_gradients(ScratchMLPRegressor(loss="huber", huber_delta=0.1, **SMALL), X, y)
    assert not check.passed and check.verdict in ("uncomfortable", "probably wrong")


# ------------------------------------------------------------------ kinks


def test_finite_differences_across_relus_kink_are_counted_and_left_out():
    X, y, _ = _data("multiclass")
    X[0] = 0.0  # with zero biases (fit's start), every first-layer unit sits on its kink there
    estimator = ScratchMLPClassifier(hidden_size=5, activation="relu", random_state=0)
    check = check_gradients(estimator, X, y)
    biases = check.arrays["intercepts_[0]"]
    assert biases.kinked.all()  # moving b1 by -eps and +eps crosses 0 in row 0
    assert check.kinks == 5 == biases.kinked.sum()
    # their finite differences are no derivative (a half-slope at the kink)...
    assert biases.relative_errors.max() > 1e-3
    # ...and are left out: the rest passes
    assert check.passed and check.relative_errors["intercepts_[0]"] == 0.0
    assert "5 entries crossed a kink" in str(check)


def test_the_absolute_errors_kink_is_counted():
    X, y, _ = _data("regression")
    estimator = ScratchMLPRegressor(loss="absolute_error", hidden_size=3, random_state=0)
    start = _fit(clone(estimator).set_params(epochs=1, learning_rate=1e-300), X, y)
    y = y.copy()
    y[0] = start.predict(X[:1])[0]  # row 0 predicted exactly: the loss's kink
    check = check_gradients(start, X, y)
    assert check.kinks > 0 and check.passed


def test_smooth_networks_cross_no_kink():
    X, y, _ = _data("multiclass")
    X[0] = 0.0
    check = check_gradients(ScratchMLPClassifier(activation="softplus", **SMALL), X, y)
    assert check.kinks == 0 and check.passed


# ------------------------------------------------------------------ sampling


def test_large_arrays_are_sampled_reproducibly():
    X, y, _ = _data("multiclass", n_rows=6)
    X = np.tile(X, (1, 20))  # 60 features
    estimator = ScratchMLPClassifier(hidden_size=100, random_state=0)  # 6403 parameters
    by_default = check_gradients(estimator, X, y, random_state=0)
    sizes = {"coefs_[0]": 200, "intercepts_[0]": 100, "coefs_[1]": 200, "intercepts_[1]": 3}
    assert {k: c.indices.size for k, c in by_default.arrays.items()} == sizes
    assert any(note.startswith("Sampled") for note in by_default.notes)

    seven = check_gradients(estimator, X, y, n_entries=7, random_state=0)
    again = check_gradients(estimator, X, y, n_entries=7, random_state=0)
    other = check_gradients(estimator, X, y, n_entries=7, random_state=1)
    assert [c.indices.size for c in seven.arrays.values()] == [7, 7, 7, 3]
    for name, array in seven.arrays.items():
        assert len(np.unique(array.indices)) == array.indices.size
        np.testing.assert_array_equal(array.indices, again.arrays[name].indices)
        np.testing.assert_array_equal(array.numerical, again.arrays[name].numerical)
    assert not np.array_equal(seven.arrays["coefs_[0]"].indices, other.arrays["coefs_[0]"].indices)
    assert seven.passed and other.passed


def test_small_networks_are_checked_entirely():
    X, y, _ = _data("binary")
    check = check_gradients(ScratchMLPClassifier(hidden_size=50, random_state=0), X, y)
    assert all(c.indices.size == np.prod(c.shape) for c in check.arrays.values())
    assert not any(note.startswith("Sampled") for note in check.notes)


# ------------------------------------------------------------------ the estimator is untouched


@pytest.mark.parametrize("inspect", [check_gradients, trace_step])
def test_the_estimator_is_not_changed(inspect):
    X, y, weights = _data("multiclass")
    unfitted = ScratchMLPClassifier(
        class_weight="balanced", dropout=0.2, random_state=np.random.RandomState(0)
    )
    fitted = ScratchMLPClassifier(hidden_size=4, random_state=0, epochs=3)
    _fit(fitted, X, y)
    fitted.partial_fit(X, y)
    for estimator in (unfitted, fitted):
        before = _state(estimator)
        inspect(estimator, X, y, sample_weight=weights)
        assert _state(estimator) == before
    assert not hasattr(unfitted, "n_features_in_") and not hasattr(unfitted, "classes_")


def test_bad_arguments_are_refused():
    X, y, _ = _data("binary")
    with pytest.raises(TypeError, match="ScratchMLPClassifier or ScratchMLPRegressor"):
        check_gradients(object(), X, y)
    with pytest.raises(ValueError, match="eps"):
        check_gradients(ScratchMLPClassifier(), X, y, eps=0)
    with pytest.raises(ValueError, match="n_entries"):
        check_gradients(ScratchMLPClassifier(), X, y, n_entries=0)
    with pytest.raises(ValueError, match="max_rows"):
        trace_step(ScratchMLPClassifier(), X, y, max_rows=0)


def test_the_check_prints_a_table():
    X, y, _ = _data("multiclass")
    check = check_gradients(ScratchMLPClassifier(hidden_size=3, random_state=0), X, y)
    text = str(check)
    assert text.startswith("Gradient check of ScratchMLPClassifier(hidden_size=3")
    for name in ("coefs_[0] (W1)", "intercepts_[0] (b1)", "coefs_[1] (W2)", "intercepts_[1] (b2)"):
        assert name in text and name in check._repr_html_()
    assert "passed (happy)" in text and 'cs231n: "1e-7 and less you should be happy."' in text
    assert repr(check).startswith("GradientCheck(max_relative_error=")


# ------------------------------------------------------------------ trace_step

SOLVERS = {
    "sgd": dict(solver="sgd", momentum=0.0, learning_rate=0.3),
    "momentum": dict(solver="sgd", momentum=0.9, nesterovs_momentum=False, learning_rate=0.3),
    "nesterov": dict(solver="sgd", momentum=0.9, learning_rate=0.3),
    "adam": dict(solver="adam", learning_rate=0.05),
    "clipped-adam": dict(solver="adam", learning_rate=0.05, max_grad_norm=0.01),
    "invscaling": dict(solver="sgd", learning_rate=0.3, learning_rate_schedule="invscaling"),
    "cosine": dict(solver="adam", learning_rate_schedule="cosine", warmup_epochs=2, epochs=5),
}
ONE_BATCH = dict(batch_size=None, shuffle=False, tol=0.0)


def _moved_by_the_trace(trace, estimator):
    """The estimator's parameters are the traced ones plus the traced update."""
    for layer, W, b in zip(trace.layers, estimator.coefs_, estimator.intercepts_):
        np.testing.assert_allclose(W - layer.W, layer.W_update, rtol=0, atol=1e-12)
        np.testing.assert_allclose(b - layer.b, layer.b_update, rtol=0, atol=1e-12)
        np.testing.assert_allclose(W, layer.W + layer.W_update, rtol=0, atol=1e-12)
        assert np.abs(layer.W_update).max() > 1e-6  # the step went somewhere


@pytest.mark.parametrize("solver", SOLVERS)
def test_the_traced_step_is_fits_first_step(solver):
    X, y, weights = _data("multiclass")
    X5, y5, w5 = X[:5], y[:5], weights[:5]
    estimator = ScratchMLPClassifier(
        activation="tanh", dropout=0.3 if solver == "nesterov" else 0.0,
        **SMALL, **ONE_BATCH, **SOLVERS[solver],
    )  # fmt: skip
    trace = trace_step(estimator, X, y, sample_weight=weights)
    assert trace.notes[0] == "The first step of fit, from the parameters it starts from."
    # partial_fit's first call is fit's first epoch, one batch here
    _moved_by_the_trace(trace, clone(estimator).partial_fit(X5, y5, [0, 1, 2], w5))
    if solver != "cosine":  # (whose schedule depends on epochs)
        _moved_by_the_trace(trace, _fit(estimator.set_params(epochs=1), X5, y5, sample_weight=w5))


@pytest.mark.parametrize("solver", ["sgd", "nesterov", "adam", "cosine"])
def test_the_traced_step_is_partial_fits_next_step(solver):
    X, y, _ = _data("regression")
    estimator = ScratchMLPRegressor(activation="relu", **SMALL, **ONE_BATCH, **SOLVERS[solver])
    for _ in range(3):
        estimator.partial_fit(X, y)
    trace = trace_step(estimator, X, y)  # the first 5 rows
    assert trace.X.shape == (5, 3) and "The first 5 of 12 rows, as one batch." in trace.notes
    assert trace.notes[0].startswith("The next step of partial_fit")
    _moved_by_the_trace(trace, estimator.partial_fit(X[:5], y[:5]))


def test_an_unfitted_classifiers_trace_is_partial_fits_first_step_with_every_class():
    X, y, _ = _data("multiclass")
    estimator = ScratchMLPClassifier(solver="adam", **SMALL)
    trace = trace_step(estimator, X, y, max_rows=2)  # two rows, of classes 0 and 1
    assert trace.Y.shape == (2, 3)  # the classes come from all of y
    _moved_by_the_trace(trace, estimator.partial_fit(X[:2], y[:2], classes=[0, 1, 2]))


def _reference_spec(estimator, link):
    p = estimator.get_params()
    parameter = {"huber": p.get("huber_delta"), "quantile": p.get("quantile")}.get(p["loss"])
    return ref.Spec(p["activation"], p["loss"], link, parameter, p["alpha"])


@pytest.mark.parametrize(
    "target", ["multiclass-log_loss", "binary-squared_error", "poisson", "huber", "quantile"]
)
@pytest.mark.parametrize("activation", ["sigmoid", "relu", "gelu"])
def test_the_traced_numbers_are_the_references(activation, target):
    Estimator, params, kind = TARGETS[target]
    X, y, weights = _data(kind)
    estimator = Estimator(activation=activation, alpha=0.2, **SMALL, **params)
    for model in (estimator, _fit(clone(estimator).set_params(epochs=5), X, y)):
        trace = trace_step(model, X, y, sample_weight=weights)
        network = {"W": [layer.W for layer in trace.layers],
                   "b": [layer.b for layer in trace.layers]}  # fmt: skip
        spec = _reference_spec(model, trace.layers[-1].activation)
        _, cache = ref.forward_propagation(network, trace.X, spec)
        Y, w = trace.Y, trace.sample_weight
        gradients = ref.backward_propagation(network, cache, trace.X, Y, spec, w)
        assert trace.loss == pytest.approx(ref.compute_loss(network, cache, Y, spec, w), 1e-12)
        for i, layer in enumerate(trace.layers):
            np.testing.assert_allclose(layer.z, cache["z"][i], rtol=1e-12, atol=1e-12)
            np.testing.assert_allclose(layer.a, cache["a"][i], rtol=1e-12, atol=1e-12)
            np.testing.assert_allclose(layer.dW, gradients["dW"][i], rtol=1e-10, atol=1e-12)
            np.testing.assert_allclose(layer.db, gradients["db"][i], rtol=1e-10, atol=1e-12)
            np.testing.assert_allclose(layer.delta.sum(axis=0), layer.db, rtol=1e-12, atol=1e-14)
        top = ref._output_delta(Y, cache["a"][-1], spec) * (w / w.sum())[:, None]
        np.testing.assert_allclose(trace.layers[-1].delta, top, rtol=1e-12, atol=1e-14)


def test_the_trace_reads_like_the_tutorial():
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]])
    y = np.array([0, 1, 1, 0])
    tutorial = ScratchMLPClassifier(
        hidden_size=2, loss="squared_error", solver="sgd", momentum=0.0, learning_rate=0.2,
        alpha=0.0, init="normal", random_state=42,
    )  # fmt: skip
    trace = trace_step(tutorial, X, y)
    text = str(trace)
    for line in ("z1 = X · W1 + b1", f"a1 = {SIGMA}(z1),  {SIGMA} = sigmoid", "z2 = a1 · W2 + b2",
                 "a2 = sigmoid(z2),  the output", f"delta1 = (delta2 · W2ᵀ) ⊙ {SIGMA}'(z1)",
                 "dW2 = a1ᵀ · delta2", "db2 = Σ over the rows of delta2", "dW1 = Xᵀ · delta1",
                 "ΔW1  (W1 ← W1 + ΔW1)", "the tutorial's step"):  # fmt: skip
        assert line in text, line
    sections = ("Step 4, forward propagation", "Step 5, the loss", "Step 6, backpropagation")
    assert all(s in text for s in sections)
    html = trace._repr_html_()
    assert all(s in html for s in sections) and "<table>" in html
    # the tutorial's network: W1 is np.random.seed(42)'s first draws
    np.testing.assert_array_equal(trace.layers[0].W, np.random.RandomState(42).randn(2, 2))


def test_lbfgs_has_no_single_step_to_trace():
    X, y, _ = _data("regression")
    estimator = ScratchMLPRegressor(solver="lbfgs", **SMALL)
    for model in (estimator, _fit(clone(estimator).set_params(epochs=3), X, y)):
        trace = trace_step(model, X, y)
        assert trace.learning_rate is None
        assert all(layer.W_update is None and layer.dW is not None for layer in trace.layers)
        assert "L-BFGS-B has no single step" in str(trace)


def test_a_float32_model_is_traced_in_float32():
    X, y, _ = _data("binary")
    estimator = ScratchMLPClassifier(solver="sgd", **SMALL, **ONE_BATCH, epochs=1)
    trace = trace_step(estimator, X.astype(np.float32), y)
    assert trace.layers[0].dW.dtype == np.float32
    _moved_by_the_trace(trace, _fit(estimator, X[:5].astype(np.float32), y[:5]))


def test_a_classifier_with_dropout_shows_its_masks():
    X, y, _ = _data("multiclass")
    trace = trace_step(ScratchMLPClassifier(dropout=0.5, **SMALL), X, y)
    masks = [layer.mask for layer in trace.layers]
    assert masks[-1] is None and all(set(np.unique(m)) <= {0.0, 2.0} for m in masks[:-1])
    text = str(trace)
    assert "mask1" in text and "dW2 = (a1 ⊙ mask1)ᵀ · delta2" in text
