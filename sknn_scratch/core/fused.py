"""Element-wise passes fused into single loops, compiled by Numba when it is installed.

Apart from its matrix products, a training step is a handful of element-wise operations, and
NumPy runs each as one or more whole-array passes: Adam's update is ten passes over the
parameter vector and its two moments, a relu layer is a pass to add the bias and another to
clip, its derivative a pass to compare and another to multiply. Every pass streams its arrays
through memory again. The loops below do the same arithmetic element by element, in one pass
each. The softmax keeps NumPy's ``exp`` (a compiled exponential would differ in the last
bit): its two loops are the passes before and after it. ``benchmarks/throughput.py``
measures what that is worth on a whole epoch: its ``ours`` column runs these loops and its
``ours-numpy`` column the NumPy forms, side by side in one run
(``benchmarks/results/throughput.md``).

Numba is optional (the ``fast`` extra: ``pip install ".[fast]"``). Without it, or with
``SKNN_SCRATCH_NUMBA=0`` in the environment, :data:`ENABLED` is False and the callers run
their NumPy form, which stays next to each call as the readable reference. Each loop makes the
same floating-point operations in the same order as that form, with every constant in the
array's dtype, and Numba neither reorders nor fuses them (no ``fastmath``), so both give the
same numbers to the last bit (``tests/test_fused.py`` checks it).
"""

import os

import numpy as np

numba = None
if os.environ.get("SKNN_SCRATCH_NUMBA", "1") != "0":
    try:
        import numba
    except ImportError:  # Numba is not installed, or does not support this NumPy
        pass

ENABLED = numba is not None
"""Whether the training loop uses the compiled loops below."""


def _compiled(function):
    """Compile ``function`` with Numba, or leave it as it is when Numba is absent.

    ``error_model="numpy"`` makes a division by zero give inf or NaN, as in NumPy, instead of
    raising; ``nogil`` lets fits in several threads run at once; ``cache`` keeps the machine
    code on disk, so only the first run on a machine pays the compilation (each loop is
    compiled for the dtypes and memory layouts it meets: about 1.5 s for a first fit, 4 s
    for every loop a classifier uses in both dtypes); where nothing is writable, every
    process compiles them.
    """
    if numba is None:
        return function
    options = dict(error_model="numpy", nogil=True)
    try:
        return numba.njit(cache=True, **options)(function)
    except RuntimeError:  # nowhere to keep the machine code: compile it in every process
        return numba.njit(**options)(function)


@_compiled
def adam_update(params, grad, m_scaled, v_scaled, beta_1, beta_2, eps_scaled, step_scale):
    """One Adam step over every parameter, with the moments stored as in :class:`.Adam`.

    Per parameter: ``m = beta_1 m + g``, ``v = beta_2 v + g**2`` and
    ``params -= step_scale * m / (sqrt(v) + eps_scaled)``. ``grad`` is left as it is.
    """
    for i in range(params.shape[0]):
        g = grad[i]
        m = m_scaled[i] * beta_1 + g
        v = v_scaled[i] * beta_2 + g * g
        m_scaled[i] = m
        v_scaled[i] = v
        params[i] -= m / (np.sqrt(v) + eps_scaled) * step_scale


@_compiled
def sgd_update(params, grad, velocity, learning_rate, momentum, nesterov):
    """One step of SGD with momentum over every parameter, as in :class:`.SGD`.

    Per parameter: ``velocity = momentum * velocity - lr * g``; then
    ``params += momentum * velocity - lr * g`` with Nesterov's momentum, ``params += velocity``
    without. ``grad`` is left as it is.
    """
    for i in range(params.shape[0]):
        step = grad[i] * learning_rate
        v = velocity[i] * momentum - step
        velocity[i] = v
        if nesterov:
            params[i] = (params[i] - step) + v * momentum
        else:
            params[i] += v


@_compiled
def add_scaled(out, x, scale):
    """``out += x * scale``: the L2 term's gradient added to the weights' gradient."""
    for i in range(out.shape[0]):
        out[i] += x[i] * scale


@_compiled
def largest_abs(values):
    """The largest ``|x|`` of a 1-d array (0 if empty), or NaN as soon as one is NaN.

    One pass, where NumPy's ``max`` and ``min`` make two: the training loop asks it of the
    parameters and of the optimizer's state after every epoch, to know they are finite.
    """
    largest = 0.0
    for i in range(values.shape[0]):
        size = abs(values[i])
        if size != size:
            return size
        if size > largest:
            largest = size
    return largest


@_compiled
def add_bias_relu(z, bias):
    """``z = max(z + bias, 0)`` in place, row by row: a relu layer's bias and activation.

    A NaN stays NaN, as with ``np.maximum``, so a diverging run is still detected.
    """
    for i in range(z.shape[0]):
        for j in range(z.shape[1]):
            value = z[i, j] + bias[j]
            z[i, j] = value if value > 0 or value != value else 0


@_compiled
def relu_derivative(a, delta):
    """``delta *= (a > 0)`` in place: the relu's derivative, from its output ``a``."""
    for i in range(a.shape[0]):
        for j in range(a.shape[1]):
            delta[i, j] *= a[i, j] > 0


@_compiled
def sigmoid_derivative(a, delta, one):
    """``delta *= a * (1 - a)`` in place, as ``(delta * a) * (1 - a)``: the sigmoid's derivative
    from its output ``a`` (``one`` is 1 in the arrays' dtype)."""
    for i in range(a.shape[0]):
        for j in range(a.shape[1]):
            delta[i, j] = delta[i, j] * a[i, j] * (one - a[i, j])


@_compiled
def take_rows(source, rows, out):
    """``out[i] = source[rows[i]]`` for each ``i``: a batch's rows gathered in one loop,
    converted to ``out``'s dtype on the way (a classifier's compact 0/1 targets)."""
    for i in range(rows.shape[0]):
        row = rows[i]
        for j in range(source.shape[1]):
            out[i, j] = source[row, j]


@_compiled
def add_bias_shift_by_row_max(z, bias, out, row_max):
    """``z += bias``, ``row_max[i] = max_j z[i, j]`` and ``out = z - row_max`` row by row: a
    softmax output layer's bias and the softmax's first steps, one loop for NumPy's three
    passes. A NaN in a row makes its maximum NaN, as with ``np.max``. Visits the arrays
    column by column, the output layer's memory order."""
    n_rows, n_columns = z.shape
    for j in range(n_columns):
        for i in range(n_rows):
            z[i, j] += bias[j]
    for i in range(n_rows):
        row_max[i] = z[i, 0]
    for j in range(1, n_columns):
        for i in range(n_rows):
            value = z[i, j]
            if value > row_max[i] or value != value:
                row_max[i] = value
    for j in range(n_columns):
        for i in range(n_rows):
            out[i, j] = z[i, j] - row_max[i]


@_compiled
def divide_by_row_sum(out, row_sum):
    """``row_sum[i] = sum_j out[i, j]`` and ``out /= row_sum`` row by row: the softmax's last
    steps. Each row is summed from its first column to its last, the order in which NumPy
    sums the rows of an array stored column by column (of two rows or more)."""
    n_rows, n_columns = out.shape
    for i in range(n_rows):
        row_sum[i] = out[i, 0]
    for j in range(1, n_columns):
        for i in range(n_rows):
            row_sum[i] += out[i, j]
    for j in range(n_columns):
        for i in range(n_rows):
            out[i, j] /= row_sum[i]


@_compiled
def scaled_difference(a, b, factor, out):
    """``out = (a - b) * factor``, column by column: the output layer's delta
    ``c (p - y) / n_rows`` where the loss's and the link's derivatives cancel."""
    for j in range(out.shape[1]):
        for i in range(out.shape[0]):
            out[i, j] = (a[i, j] - b[i, j]) * factor
