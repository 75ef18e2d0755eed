"""The loops compiled by Numba compute exactly what their NumPy forms compute.

``sknn_scratch.core.fused`` replaces a few element-wise NumPy passes by one compiled loop each.
Each loop promises the same operations in the same order, so these tests ask for equality to
the last bit: kernel by kernel on awkward values, and for whole fits. The rest of the suite
(gradient check, tutorial, scikit-learn comparisons) runs with the loops on whenever Numba is
installed, as in CI.
"""

import itertools
import os
import pickle
import subprocess
import sys

import numpy as np
import pytest
from _helpers import fit_quietly
from sklearn.datasets import load_digits

from sknn_scratch import ScratchMLPClassifier
from sknn_scratch.core import fused
from sknn_scratch.core import kernels as kernels_module
from sknn_scratch.core.activations import relu_derivative_numpy, sigmoid_derivative, softmax
from sknn_scratch.core.kernels import (
    NumpyKernels,
    add_bias_relu_numpy,
    add_scaled_numpy,
    largest_abs_numpy,
)
from sknn_scratch.core.optimizers import SGD, Adam

pytest.importorskip("numba", reason="the compiled loops need Numba (the 'fast' extra)")

DTYPES = [np.float64, np.float32]


def _awkward(rng, shape, dtype):
    """Values over many magnitudes, both signs, signed zeros, an inf and a NaN."""
    values = rng.standard_normal(shape) * 10.0 ** rng.integers(-20, 20, shape)
    flat = values.reshape(-1)
    flat[:5] = [0.0, -0.0, np.inf, -np.inf, np.nan]
    return values.astype(dtype)


def _same_bits(a, b):
    """Equal as bit patterns: the same numbers, signed zeros and NaNs included."""
    return a.dtype == b.dtype and a.tobytes() == b.tobytes()


def _with_rate(optimizer, learning_rate):
    """``optimizer`` with the rate the training loop would set from its schedule."""
    optimizer.learning_rate = learning_rate
    return optimizer


def _run_both(function):
    """``function(kernels)`` with the compiled loops, then with NumPy's passes."""
    return [function(NumpyKernels(compiled=compiled)) for compiled in (True, False)]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(
    "make_optimizer",
    [
        lambda n, dtype, k: _with_rate(Adam(n, dtype, kernels=k), 1e-3),
        lambda n, dtype, k: _with_rate(SGD(n, dtype, kernels=k, momentum=0.9), 0.05),
        lambda n, dtype, k: _with_rate(SGD(n, dtype, kernels=k, momentum=0.5, nesterov=0), 0.05),
    ],
    ids=["adam", "sgd-nesterov", "sgd-momentum"],
)
def test_optimizer_update_is_bitwise_equal(make_optimizer, dtype):
    rng = np.random.default_rng(0)
    n = 5000
    start = rng.standard_normal(n).astype(dtype)
    gradients = [_awkward(rng, n, dtype) for _ in range(10)]

    def ten_steps(kernels):
        optimizer, params = make_optimizer(n, dtype, kernels), start.copy()
        for grad in gradients:
            assert optimizer.step(params, grad.copy()) is params  # updated in place
        return params

    with np.errstate(all="ignore"):
        compiled, numpy_only = _run_both(ten_steps)
    assert np.isnan(compiled).any() and np.isfinite(compiled).any()  # the odd values got in
    assert _same_bits(compiled, numpy_only)


@pytest.mark.parametrize("dtype", DTYPES)
def test_relu_kernels_are_bitwise_equal(dtype):
    rng = np.random.default_rng(1)
    z, bias = _awkward(rng, (64, 33), dtype), _awkward(rng, 33, dtype)
    with np.errstate(all="ignore"):
        expected = z.copy()
        add_bias_relu_numpy(expected, bias)
        compiled = z.copy()
        fused.add_bias_relu(compiled, bias)
        assert _same_bits(compiled, expected)
        assert np.isnan(compiled).any()  # a diverging layer still shows its NaN

        delta = _awkward(rng, (64, 33), dtype)
        expected = delta.copy()
        relu_derivative_numpy(compiled, expected)
        fused.relu_derivative(compiled, delta)
        assert _same_bits(delta, expected)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("order", ["C", "F"])  # hidden layers, and the output layer's buffers
def test_sigmoid_derivative_is_bitwise_equal(dtype, order):
    rng = np.random.default_rng(3)
    a = np.asarray(rng.random((64, 33)), dtype=dtype, order=order)  # a sigmoid's outputs
    a.flat[:3] = [0.0, 1.0, np.nan]
    delta = np.asarray(_awkward(rng, (64, 33), dtype), order=order)
    with np.errstate(all="ignore"):
        expected = delta.copy(order="K")
        sigmoid_derivative(a, expected)
        fused.sigmoid_derivative(a, delta, dtype(1))
    assert _same_bits(delta, expected)


@pytest.mark.parametrize("dtype", DTYPES)
def test_largest_abs_matches_numpy(dtype):
    rng = np.random.default_rng(4)
    values = (rng.standard_normal(1000) * 1e3).astype(dtype)
    assert fused.largest_abs(values) == largest_abs_numpy(values) == np.abs(values).max()
    assert fused.largest_abs(values[:0]) == largest_abs_numpy(values[:0]) == 0.0
    for odd in (np.inf, -np.inf, np.nan):
        spoilt = values.copy()
        spoilt[500] = odd
        both = [fused.largest_abs(spoilt), largest_abs_numpy(spoilt)]
        np.testing.assert_array_equal(both, [abs(odd)] * 2)  # inf, or NaN for NaN


@pytest.mark.parametrize("dtype", DTYPES)
def test_l2_gradient_kernel_is_bitwise_equal(dtype):
    rng = np.random.default_rng(2)
    grad, weights = _awkward(rng, 1000, dtype), _awkward(rng, 1000, dtype)
    scale = dtype(1e-4 / 256)
    with np.errstate(all="ignore"):
        expected = grad.copy()
        add_scaled_numpy(expected, weights, scale, np.empty_like(weights))
        fused.add_scaled(grad, weights, scale)
    assert _same_bits(grad, expected)


@pytest.mark.parametrize("dtype", DTYPES)
def test_softmax_is_bitwise_equal(dtype):
    """The compiled bias and softmax (NumPy's exp between two loops) against the NumPy form,
    on the output layer's column-major buffers and on the short last batch's rows of them,
    with extreme logits, infinities and a NaN: the same logits and probabilities to the last
    bit, and the same row maxima and sums, so the log-loss that reuses them is the same too."""
    rng = np.random.default_rng(6)
    fused_with_bias = NumpyKernels(compiled=True)._bias_and_output_link["softmax"]
    for n_columns, moderate in itertools.product([*range(1, 12), 17, 40, 100], [False, True]):
        if moderate:  # many terms of each row's sum count, so its order shows
            buffer = np.asfortranarray(rng.standard_normal((64, n_columns)) * 3, dtype=dtype)
        else:
            buffer = np.asfortranarray(_awkward(rng, (64, n_columns), dtype) / 1e15)
            buffer[5, 0], buffer[9, :] = np.inf, -np.inf  # a row of NaN, and one of 0/0
        bias = rng.standard_normal(n_columns).astype(dtype)
        for n_rows in (64, 37, 2, 1):
            # the rows of whole buffers, as a short batch sees them
            z, logits = buffer.copy(order="F")[:n_rows], buffer.copy(order="F")[:n_rows]
            expected, compiled = (np.empty_like(buffer)[:n_rows] for _ in range(2))
            with np.errstate(all="ignore"):
                z += bias
                expected_terms = softmax(z, expected)
                terms = fused_with_bias(logits, bias, compiled)
            assert _same_bits(logits, z) and _same_bits(compiled, expected), (n_columns, n_rows)
            for ours, numpys in zip(terms, expected_terms):
                np.testing.assert_array_equal(ours, numpys)  # equal (NaN in NaN's place)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("order", ["C", "F"])
def test_output_delta_is_bitwise_equal(dtype, order):
    """``(p - y) * c / n`` in one loop, against NumPy's difference then product."""
    rng = np.random.default_rng(7)
    p = np.asarray(_awkward(rng, (64, 5), dtype), order=order)
    y = np.asarray((rng.random((64, 5)) < 0.5).astype(dtype), order=order)
    factor = 1.0 / 3 / 64  # a Python float, as the losses pass it
    with np.errstate(all="ignore"):
        compiled = NumpyKernels(compiled=True).scaled_difference(p, y, factor, np.empty_like(p))
        expected = NumpyKernels(compiled=False).scaled_difference(p, y, factor, None)
    assert _same_bits(np.asarray(compiled, order=order), np.asarray(expected, order=order))


@pytest.mark.parametrize("target_dtype", [np.uint8, np.float32, np.float64])
@pytest.mark.parametrize("out_order", ["C", "F"])
def test_row_gather_matches_numpy_take(target_dtype, out_order):
    """A batch's rows, gathered and converted in one loop (a classifier's 0/1 targets are
    kept as bytes), are exactly NumPy's gather followed by the conversion."""
    rng = np.random.default_rng(5)
    if target_dtype == np.uint8:
        source = (rng.random((300, 7)) < 0.3).astype(np.uint8)
    else:
        source = _awkward(rng, (300, 7), target_dtype)
    order = rng.permutation(300)  # machine-word indices, as an epoch's order
    for dtype, n_rows in itertools.product(DTYPES, [200, 123]):  # a whole batch, a short one
        rows = order[:n_rows]
        out = np.full((200, 7), np.nan, dtype=dtype, order=out_order)
        with np.errstate(all="ignore"):
            gathered = NumpyKernels(compiled=True).take_rows(source, rows, out)
            expected = np.take(source, rows, axis=0).astype(dtype)
        assert np.shares_memory(gathered, out) and gathered.shape == expected.shape
        assert _same_bits(np.ascontiguousarray(gathered), expected)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(
    "params",
    [
        dict(solver="adam", learning_rate=0.01),
        dict(solver="sgd", learning_rate=0.1, momentum=0.9),
        dict(solver="sgd", learning_rate=0.1, momentum=0.9, nesterovs_momentum=False),
    ],
    ids=["adam", "sgd-nesterov", "sgd-momentum"],
)
@pytest.mark.parametrize("activation", ["relu", "sigmoid"])
def test_fit_is_bitwise_equal_with_and_without_numba(monkeypatch, params, dtype, activation):
    X, y = load_digits(return_X_y=True)
    X = (X[:600] / 16).astype(dtype)

    def fit(kernels):
        monkeypatch.setattr(kernels_module, "NUMPY", kernels)  # what every NumPy fit uses
        model = ScratchMLPClassifier(
            hidden_size=(32, 16), activation=activation, alpha=1e-3, batch_size=50, epochs=5,
            random_state=0, **params,
        )  # fmt: skip
        return fit_quietly(model, X, y[:600])

    compiled, numpy_only = _run_both(fit)
    assert compiled.coefs_[0].dtype == dtype
    assert compiled.loss_curve_ == numpy_only.loss_curve_
    for ours, theirs in zip(
        compiled.coefs_ + compiled.intercepts_, numpy_only.coefs_ + numpy_only.intercepts_
    ):
        assert _same_bits(ours, theirs)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("target", ["multiclass", "binary"])
@pytest.mark.parametrize("n_rows, batch_size", [(601, 50), (60, 1)])
def test_fit_is_bitwise_equal_on_one_row_batches(monkeypatch, dtype, target, n_rows, batch_size):
    """A last batch of one row (a strided view of the buffers) and batches of one row (whole
    buffers): the compiled softmax hands over to NumPy's, which sums a single row in another
    order; binary targets take the single-column loss and its delta."""
    X, y = load_digits(return_X_y=True)
    X, y = (X[:n_rows] / 16).astype(dtype), y[:n_rows]
    y = y % 2 if target == "binary" else y

    def fit(kernels):
        monkeypatch.setattr(kernels_module, "NUMPY", kernels)
        model = ScratchMLPClassifier(hidden_size=16, activation="relu", solver="adam",
                                     batch_size=batch_size, epochs=4, random_state=0)  # fmt: skip
        return fit_quietly(model, X, y)

    compiled, numpy_only = _run_both(fit)
    assert compiled.loss_curve_ == numpy_only.loss_curve_
    for ours, theirs in zip(
        compiled.coefs_ + compiled.intercepts_, numpy_only.coefs_ + numpy_only.intercepts_
    ):
        assert _same_bits(ours, theirs)


def _assert_runs_in_fresh_python(code, **environment):
    """Run ``code`` in a new interpreter (``fused`` reads its settings at import) and check
    that it succeeds."""
    env = dict(os.environ, **environment)
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_loops_compile_and_run_where_numba_cannot_cache():
    # a read-only install with no writable home makes Numba refuse to cache; the loops must
    # then compile in memory instead of failing (simulated with a cache locator that fails)
    code = (
        "import numpy as np\n"
        "from sknn_scratch.core import fused\n"
        "params = np.zeros(3); fused.add_scaled(params, np.ones(3), 0.5)\n"
        "assert fused.ENABLED and params.tolist() == [0.5, 0.5, 0.5]\n"
    )
    _assert_runs_in_fresh_python(code, NUMBA_CACHE_LOCATOR_CLASSES="no_such_module.NoLocator")


def test_environment_variable_switches_the_loops_off():
    code = (
        "import sys\n"
        "from sknn_scratch.core import fused\n"
        "assert not fused.ENABLED and 'numba' not in sys.modules\n"
    )
    _assert_runs_in_fresh_python(code, SKNN_SCRATCH_NUMBA="0")


def test_a_model_pickled_with_numba_trains_on_where_numba_is_off(tmp_path):
    X, y = load_digits(return_X_y=True)
    model = fit_quietly(ScratchMLPClassifier(hidden_size=8, epochs=2, random_state=0), X, y)
    path = tmp_path / "model.pkl"
    path.write_bytes(pickle.dumps(model))
    code = (
        "import pickle, sys\n"
        "from sklearn.datasets import load_digits\n"
        "from sknn_scratch.core import fused\n"
        f"model = pickle.loads(open({str(path)!r}, 'rb').read())\n"
        "assert not model._optimizer.kernels.compiled and not fused.ENABLED\n"
        "X, y = load_digits(return_X_y=True)\n"
        "model.partial_fit(X, y)\n"
        "assert 'numba' not in sys.modules\n"
    )
    _assert_runs_in_fresh_python(code, SKNN_SCRATCH_NUMBA="0")
