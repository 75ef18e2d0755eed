"""The activations (``core/activations.py``): the hidden ones, their derivatives, the exp link.

Each activation is checked against its textbook formula evaluated independently, each
derivative against central finite differences of its activation, and both at the extremes
(``|z|`` up to the dtype's largest number, and the infinities) for silence, finiteness and
dtype. The whole network's backpropagation with every hidden activation, at every depth,
with and without sample weights, L2 and dropout, is checked in ``test_reference.py``, which
parametrises over :data:`HIDDEN_ACTIVATIONS`; the tests here check the pieces around it: the
``z`` kept for GELU and SiLU, the forward pass and the estimators with each activation, and
the Poisson loss's ``exp`` link. Their growth bounds feed ``logit_bound``
(``test_network.py``); ``init="he"`` is checked in ``test_init.py``.
"""

import math
import warnings

import numpy as np
import pytest
from _helpers import PROPERTY_SETTINGS
from hypothesis import given
from hypothesis import strategies as st
from scipy.special import erfc
from test_network import N_FEATURES, N_SAMPLES, _spec, _targets

from sknn_scratch import ScratchMLPClassifier, ScratchMLPRegressor
from sknn_scratch.core import Backpropagation, Workspace, initialize_parameters
from sknn_scratch.core.activations import (
    ACTIVATIONS,
    DERIVATIVE_TAKES_Z,
    DERIVATIVES,
    ELU_ALPHA,
    GROWTH_BOUNDS,
    HIDDEN_ACTIVATIONS,
    LEAKY_RELU_SLOPE,
    exp,
)
from sknn_scratch.core.network import predict

NEW_ACTIVATIONS = ("leaky_relu", "elu", "gelu", "softplus", "silu")
DTYPES = (np.float32, np.float64)


def _gelu_reference(z):
    # z * Phi(z) with Phi(z) = erfc(-z / sqrt(2)) / 2, one element at a time with the math
    # module: another implementation than SciPy's ndtr
    values = [x * 0.5 * math.erfc(-x / math.sqrt(2.0)) for x in z.ravel()]
    return np.array(values).reshape(z.shape)


def _reference(name, z):
    """``f(z)`` from its textbook formula, in long double where that helps."""
    x = z.astype(np.longdouble)
    reference = {
        "identity": lambda: x,
        "sigmoid": lambda: 1 / (1 + np.exp(-x)),
        "tanh": lambda: np.tanh(x),
        "relu": lambda: np.where(x > 0, x, 0),
        "leaky_relu": lambda: np.where(x > 0, x, np.longdouble(LEAKY_RELU_SLOPE) * x),
        "elu": lambda: np.where(x > 0, x, ELU_ALPHA * np.expm1(x)),
        "gelu": lambda: _gelu_reference(z),
        "softplus": lambda: np.log1p(np.exp(x)),
        "silu": lambda: x / (1 + np.exp(-x)),
    }[name]()
    return np.asarray(reference, dtype=np.float64)


def _activate(name, z):
    out = np.empty_like(z)
    ACTIVATIONS[name](z, out=out)
    return out


def _derivative(name, z):
    """``f'(z)``, from ``z`` or from ``a = f(z)`` as the derivative takes it."""
    delta = np.ones_like(z)
    DERIVATIVES[name](z if name in DERIVATIVE_TAKES_Z else _activate(name, z), delta)
    return delta


def _ordinary_inputs(dtype=np.float64):
    """A 2-D array of moderate inputs, none of them 0 (where relu and leaky_relu kink)."""
    rng = np.random.RandomState(0)
    grid = np.linspace(-8, 8, 160)  # an even number of points: 0 is not one of them
    return np.concatenate([grid, 3 * rng.standard_normal(80)]).reshape(8, 30).astype(dtype)


def test_the_new_activations_are_hidden_activations_with_their_tables():
    # which makes them valid activation= values and puts them in test_reference.py's grids
    for name in NEW_ACTIVATIONS:
        assert name in HIDDEN_ACTIVATIONS
    for name in HIDDEN_ACTIVATIONS:
        assert name in ACTIVATIONS and name in DERIVATIVES and name in GROWTH_BOUNDS
    assert DERIVATIVE_TAKES_Z == {"gelu", "silu"}


@pytest.mark.parametrize("name", HIDDEN_ACTIVATIONS)
def test_activation_matches_its_formula(name):
    z = _ordinary_inputs()
    np.testing.assert_allclose(_activate(name, z), _reference(name, z), rtol=1e-13, atol=1e-300)
    # float32: the same values, to float32's precision
    z32 = z.astype(np.float32)
    np.testing.assert_allclose(
        _activate(name, z32), _reference(name, z32.astype(np.float64)), rtol=3e-7, atol=1e-37
    )


def test_gelu_reference_agrees_with_scipy_erfc():
    # the reference itself, against a third form of Phi
    z = _ordinary_inputs()
    np.testing.assert_allclose(_gelu_reference(z), z * 0.5 * erfc(-z / np.sqrt(2)), rtol=1e-14)


@pytest.mark.parametrize("name", HIDDEN_ACTIVATIONS)
def test_activation_in_place_equals_activation_into_another_array(name):
    # the forward pass activates in place, except where it keeps z (gelu, silu)
    for dtype in DTYPES:
        z = _ordinary_inputs(dtype)
        in_place = z.copy()
        ACTIVATIONS[name](in_place, out=in_place)
        np.testing.assert_array_equal(in_place, _activate(name, z))


@pytest.mark.parametrize("name", HIDDEN_ACTIVATIONS)
def test_derivative_matches_central_finite_differences(name):
    z = _ordinary_inputs()
    h = 1e-5
    numeric = (_activate(name, z + h) - _activate(name, z - h)) / (2 * h)
    np.testing.assert_allclose(_derivative(name, z), numeric, rtol=1e-8, atol=1e-9)
    # float32: the same derivative, to float32's precision
    z32 = z.astype(np.float32)
    np.testing.assert_allclose(
        _derivative(name, z32), _derivative(name, z32.astype(np.float64)), rtol=1e-5, atol=1e-6
    )


# f(-inf), f(inf), f'(-inf), f'(inf): the limits
LIMITS = {
    "identity": (-np.inf, np.inf, 1, 1),
    "sigmoid": (0, 1, 0, 0),
    "tanh": (-1, 1, 0, 0),
    "relu": (0, np.inf, 0, 1),
    "leaky_relu": (-np.inf, np.inf, LEAKY_RELU_SLOPE, 1),
    "elu": (-ELU_ALPHA, np.inf, 0, 1),
    "gelu": (0, np.inf, 0, 1),
    "softplus": (0, np.inf, 0, 1),
    "silu": (0, np.inf, 0, 1),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", HIDDEN_ACTIVATIONS)
def test_extreme_inputs_are_silent_finite_and_keep_the_dtype(name, dtype):
    info = np.finfo(dtype)
    big = 1e38 if dtype == np.float32 else 1e300
    finite = [info.min, -big, -1e5, -800, -50, -1, -info.tiny, 0, info.tiny, 1, 50, 800, 1e5]
    z = np.array([[*finite, big, info.max], [-np.inf] * 15, [np.inf] * 15], dtype=dtype)
    with warnings.catch_warnings(), np.errstate(over="warn", invalid="warn", divide="warn"):
        warnings.simplefilter("error")  # any RuntimeWarning fails the test
        a = _activate(name, z)
        slope = _derivative(name, z)
    assert a.dtype == dtype and slope.dtype == dtype
    assert np.isfinite(a[0]).all() and np.isfinite(slope).all()
    at_minus_inf, at_inf, slope_at_minus_inf, slope_at_inf = LIMITS[name]
    np.testing.assert_allclose(a[1], at_minus_inf, rtol=1e-6)
    np.testing.assert_allclose(a[2], at_inf, rtol=1e-6)
    np.testing.assert_allclose(slope[1], slope_at_minus_inf, rtol=1e-6)
    np.testing.assert_allclose(slope[2], slope_at_inf, rtol=1e-6)


@pytest.mark.parametrize("name", HIDDEN_ACTIVATIONS)
def test_growth_bound_holds(name):
    offset, cap = GROWTH_BOUNDS[name]
    z = np.concatenate([_ordinary_inputs().ravel(), np.geomspace(1e-8, 1e300, 200)])
    z = np.concatenate([z, -z, [0.0]])[np.newaxis]
    assert (np.abs(_activate(name, z)) <= np.minimum(np.abs(z) + offset, cap)).all()


def test_workspace_keeps_z_only_for_derivatives_that_need_it():
    for name in HIDDEN_ACTIVATIONS:
        training = Workspace((3, 5, 4, 2), 10, np.float32)
        prediction = Workspace((3, 5, 4, 2), 10, np.float32, with_deltas=False)
        assert prediction.pre_activation_rows(name, 10) is None
        kept = training.pre_activation_rows(name, 7)
        if name not in DERIVATIVE_TAKES_Z:
            assert kept is None and training.pre_activations is None
            continue
        assert [z.shape for z in kept] == [(7, 5), (7, 4)]
        assert all(z.dtype == np.float32 for z in kept)
        full = training.pre_activation_rows(name, 10)
        assert all(z is kept for z, kept in zip(full, training.pre_activations))  # reused


@pytest.mark.parametrize("name", NEW_ACTIVATIONS)
def test_a_shorter_batch_gets_the_same_loss_and_gradient(name):
    # the last mini-batch of an epoch uses the first rows of every array of the workspace,
    # the kept z included
    rng = np.random.RandomState(3)
    X = rng.normal(size=(N_SAMPLES, N_FEATURES))
    Y = _targets("log_loss", "softmax", rng)
    spec = _spec(name, hidden=(5, 4, 3), loss="log_loss", output_activation="softmax")
    params = initialize_parameters(spec.layer_sizes, "he", rng, name)
    results = []
    for n_rows in (N_SAMPLES, N_SAMPLES + 5):
        backprop = Backpropagation(params, spec, n_rows)
        loss = backprop.loss_and_gradient(X, Y)
        results.append((loss, backprop.grads.flat))
    assert results[0][0] == pytest.approx(results[1][0], rel=1e-14)
    np.testing.assert_allclose(results[0][1], results[1][1], rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", NEW_ACTIVATIONS)
def test_prediction_is_the_forward_pass_of_the_formulas(name, dtype):
    # predict activates in place (Workspace(..., with_deltas=False)); training keeps z for
    # gelu and silu: both give the textbook network's outputs
    rng = np.random.RandomState(4)
    X = rng.normal(size=(50, N_FEATURES)).astype(dtype)
    spec = _spec(name, hidden=(6, 5))
    params = initialize_parameters(spec.layer_sizes, "he", rng, name, dtype)
    params.flat[params.n_weights :] = rng.normal(size=params.flat.size - params.n_weights)

    a = X.astype(np.float64)
    for i, (W, b) in enumerate(zip(params.coefs, params.intercepts)):
        z = a @ W.astype(np.float64) + b
        a = z if i == spec.n_layers - 1 else _reference(name, z)
    rtol = 1e-5 if dtype == np.float32 else 1e-12
    outputs = predict(params, spec, X, batch_rows=16)  # chunks, the last one shorter
    assert outputs.dtype == dtype
    np.testing.assert_allclose(outputs, a, rtol=rtol, atol=rtol)

    backprop = Backpropagation(params, spec, 50)
    backprop.loss_and_gradient(X, a.astype(dtype))
    np.testing.assert_allclose(
        backprop.workspace.activations[-1], outputs, rtol=1e-12, atol=1e-12
    )


@pytest.mark.parametrize("solver", ["adam", "lbfgs"])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", NEW_ACTIVATIONS)
def test_estimators_accept_and_learn_with_the_new_activations(name, dtype, solver, iris):
    X, y = iris[0].astype(dtype), iris[1]
    clf = ScratchMLPClassifier(
        hidden_size=8, activation=name, solver=solver, epochs=300, random_state=0
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=Warning)  # a ConvergenceWarning is fine here
        clf.fit(X, y)
    assert clf.coefs_[0].dtype == dtype
    assert clf.score(X, y) > 0.9
    reg = ScratchMLPRegressor(hidden_size=8, activation=name, solver=solver, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=Warning)
        reg.fit(X, iris[0][:, 0])
    assert np.isfinite(reg.predict(X)).all()


# ------------------------------------------------------------------ the exp link (Poisson)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_exp_output_is_finite_for_any_logit(dtype):
    z = np.array([-np.inf, -1e30, 0.0, 88.0, 88.8, 709.0, 710.0, 1e30], dtype=dtype)
    out = np.empty_like(z)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        exp(z, out)
    assert np.isfinite(out).all() and out.dtype == dtype
    assert out[-1] == out.max() > np.finfo(dtype).max / 2


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
