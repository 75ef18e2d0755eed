"""The few operations that differ between array libraries, chosen once per namespace.

The network, the losses, the optimizers and the training loop are written once. What they
ask of the arrays is either plain Array API arithmetic (``a @ W``, ``delta * a``), which every
library shares, or one of the operations below, where NumPy and the others part ways:

* :class:`NumpyKernels` works in place, into buffers allocated once per fit (``out=``), takes
  sparse matrices, and uses the loops that Numba compiles (:mod:`.fused`) when it is
  installed. This is the path the benchmarks measure.
* :class:`ArrayAPIKernels` computes the same mathematics in functional form, new arrays in
  and out, with the Array API standard's functions only: it serves torch (CPU or CUDA), CuPy
  and ``array_api_strict``, on the device the data is on.

Every kernel returns its result, so a call site reads the same for both: ``z = k.matmul(a,
W, out=buffer)`` fills ``buffer`` and returns it with NumPy, and returns a new array
elsewhere (``out`` is then None). A kernel never branches on whether Numba is there: that is
decided once, when the kernels are built.

NumPy's random generator stays the single source of randomness for every library (shuffles,
dropout masks, initial weights), drawn on the host and moved to the device, so a fit gives
the same model whatever library its arrays are in.
"""

import importlib
import math

import numpy as np
import scipy.sparse as sp

from . import fused
from .activations import (
    ACTIVATIONS,
    DERIVATIVES,
    FUNCTIONAL_ACTIVATIONS,
    FUNCTIONAL_DERIVATIVES,
    relu_derivative_numpy,
    softmax,
)

# --------------------------------------------------------------------------------------------
# NumPy: the readable in-place forms, each next to the fused loop that replaces it


def add_bias_relu_numpy(z, bias):
    """``z = max(z + bias, 0)`` in place (:func:`.fused.add_bias_relu` in one pass)."""
    z += bias
    np.maximum(z, 0, out=z)


def add_scaled_numpy(out, x, scale, scratch):
    """``out += x * scale`` (:func:`.fused.add_scaled`), with ``scratch`` for the product."""
    np.multiply(x, scale, out=scratch)
    out += scratch


def sgd_update_numpy(params, grad, velocity, learning_rate, momentum, nesterov):
    """SGD with momentum in place (:func:`.fused.sgd_update` makes the same operations).

    Every operation is in place, and the spent gradient serves as scratch space.
    """
    grad *= learning_rate  # grad now holds lr * grad
    velocity *= momentum
    velocity -= grad  # velocity = momentum * velocity - lr * grad
    if nesterov:  # params += momentum * velocity - lr * grad
        params -= grad
        np.multiply(velocity, momentum, out=grad)
        params += grad
    else:
        params += velocity


def largest_abs_numpy(values):
    """The largest ``|x|`` (0 if empty, NaN if any is NaN) in two passes, a max and a min
    (:func:`.fused.largest_abs` in one)."""
    if values.size == 0:
        return 0.0
    return max(float(values.max()), -float(values.min()))


def adam_update_numpy(params, grad, m_scaled, v_scaled, beta_1, beta_2, eps_scaled, step_scale):
    """Adam's step in ten whole-array passes (:func:`.fused.adam_update` makes them in one)."""
    m_scaled *= beta_1
    m_scaled += grad
    grad *= grad
    v_scaled *= beta_2
    v_scaled += grad
    step = grad  # grad is spent: it holds the step, so no scratch vector is needed
    np.sqrt(v_scaled, out=step)
    step += eps_scaled
    np.divide(m_scaled, step, out=step)
    step *= step_scale
    params -= step


class NumpyKernels:
    """In place, into preallocated buffers; compiled loops when ``compiled`` is true.

    Parameters
    ----------
    compiled : bool, default=fused.ENABLED
        Use the loops of :mod:`.fused` (Numba); False gives the NumPy forms above, which
        compute the same numbers to the last bit.
    """

    in_place = True
    xp = np
    device = None

    def __init__(self, compiled=fused.ENABLED):
        self.compiled = compiled
        self._ones = {}  # dtype -> a read-only vector of ones, for column_sums
        self._add_bias_relu = fused.add_bias_relu if compiled else add_bias_relu_numpy
        self._relu_derivative = fused.relu_derivative if compiled else relu_derivative_numpy
        self._sgd = fused.sgd_update if compiled else sgd_update_numpy
        self._adam = fused.adam_update if compiled else adam_update_numpy
        self._add_scaled = self._fused_add_scaled if compiled else add_scaled_numpy
        self._largest_abs = fused.largest_abs if compiled else largest_abs_numpy
        self._derivatives = {**DERIVATIVES, "relu": self._relu_derivative}
        if compiled:
            self._derivatives["sigmoid"] = self._fused_sigmoid_derivative
        self._bias_and_activation_in_place = {"relu": self._add_bias_relu}
        self._bias_and_output_link = {"softmax": self._fused_bias_and_softmax} if compiled else {}

    def __repr__(self):
        return f"NumpyKernels(compiled={self.compiled})"

    def __eq__(self, other):  # the same library (and host): compiled or not, they agree
        return isinstance(other, NumpyKernels)

    def __hash__(self):
        return hash(NumpyKernels)

    def __reduce__(self):
        # unpickled as the NumPy kernels of the process that loads it, with its own
        # compiled loops, or none where Numba is not installed
        return (_default_numpy_kernels, ())

    # ---------------------------------------------------------------- moving data
    def asarray(self, array, dtype=None):
        """``array`` as an ndarray (of ``dtype``); another library's array comes to the host."""
        if not isinstance(array, np.ndarray):
            array = to_numpy(array, None)
        return np.asarray(array, dtype=dtype)

    def astype(self, X, dtype):
        """``X`` (an array or a sparse matrix) converted to ``dtype``."""
        return X.astype(dtype)

    def for_product_with(self, X, dtype):
        """``X`` ready for products with parameters of ``dtype``: as it is, since NumPy's
        products of mixed precisions compute in the wider one."""
        return X

    def float_dtypes(self):
        """The floating dtypes a fit keeps (others are converted to the first)."""
        return (np.float64, np.float32)

    # ---------------------------------------------------------------- buffers
    def empty(self, shape, dtype, order="C"):
        """A buffer to compute into, allocated once and reused."""
        return np.empty(shape, dtype=dtype, order=order)

    def row_buffer(self, array, n_rows, dtype=None, order=None):
        """A buffer for ``n_rows`` rows of the dense ``array``, in ``order`` (the array's
        memory order by default) and in ``dtype`` (the array's by default); None for a
        sparse matrix, whose rows are gathered into a new matrix."""
        if sp.issparse(array):
            return None
        if order is None:
            order = "F" if _column_major(array) else "C"
        dtype = array.dtype if dtype is None else dtype
        return np.empty((n_rows, array.shape[1]), dtype=dtype, order=order)

    def rows_of(self, buffer, start, stop):
        """Rows ``start:stop`` of a buffer (all of it without a copy, when that is all)."""
        if start == 0 and stop == buffer.shape[0]:
            return buffer
        return buffer[start:stop]

    def joined_rows(self, buffer, chunks):
        """The result whose rows the chunks were computed into: the buffer itself."""
        return buffer

    def flat_from_layers(self, flat, coefs, intercepts):
        """The flat parameter vector after per-layer kernels wrote into its views: ``flat``."""
        return flat

    def with_weights(self, flat, weights, n_weights):
        """The flat vector after a kernel wrote ``weights`` into its weight slice: ``flat``."""
        return flat

    def to_numpy(self, array):
        return array

    def host_dtype(self, dtype):
        """The NumPy dtype of ``dtype`` (for what is drawn on the host)."""
        return np.dtype(dtype)

    def zeros(self, n, dtype):
        return np.zeros(n, dtype=dtype)

    def copy(self, array):
        return array.copy()

    def snapshot(self, value):
        """A copy of ``value`` that later in-place updates leave alone."""
        return value.copy() if isinstance(value, np.ndarray) else value

    def assign(self, target, value):
        """Copy ``value`` into ``target`` and return ``target`` (views of it stay valid)."""
        if value is not target:
            target[...] = value
        return target

    def concat(self, arrays):
        return np.concatenate(arrays)

    # ---------------------------------------------------------------- the network
    def matmul(self, a, b, out):
        """``out = a @ b`` for a dense or sparse ``a``."""
        if not isinstance(a, np.ndarray) and sp.issparse(a):
            out[...] = a @ b
            return out
        return np.matmul(a, b, out=out)

    def dense_matmul(self, a, b, out):
        """``out = a @ b`` for dense arrays (the backward pass's deltas)."""
        return np.matmul(a, b, out=out)

    def layer(self, activation, a_prev, W, b, z_out, a_out):
        """``z = a_prev @ W + b`` into ``z_out``, ``a = f(z)`` into ``a_out`` (maybe ``z_out``).

        A relu layer activated in place takes one pass for the bias and the activation.
        """
        z = self.matmul(a_prev, W, out=z_out)
        fused_in_place = self._bias_and_activation_in_place.get(activation)
        if fused_in_place is not None and a_out is z:
            fused_in_place(z, b)
        else:
            z += b
            ACTIVATIONS[activation](z, out=a_out)
        return z, a_out

    def output_layer(self, link, a_prev, W, b, z_out, a_out):
        """The output layer, as :meth:`layer`, returning ``(z, a, normalizer)``.

        ``normalizer`` is what a softmax divided each row by (its maxima and sums, see
        :func:`.activations.softmax`), which the log-loss reuses; None for the other links.
        """
        z = self.matmul(a_prev, W, out=z_out)
        fused_with_bias = self._bias_and_output_link.get(link)
        if fused_with_bias is not None:
            return z, a_out, fused_with_bias(z, b, a_out)
        z += b
        return z, a_out, ACTIVATIONS[link](z, out=a_out)

    def derivative(self, activation, inputs, delta):
        """``delta *= f'(z)`` in place (``inputs`` is the layer's ``a``, or ``z``)."""
        self._derivatives[activation](inputs, delta)
        return delta

    def multiply(self, a, b, out):
        return np.multiply(a, b, out=out)

    def subtract(self, a, b, out):
        return np.subtract(a, b, out=out)

    def scale(self, a, factor):
        a *= factor
        return a

    def scaled_difference(self, a, b, factor, out):
        """``out = (a - b) * factor`` (a new array when ``out`` is None): the output layer's
        delta where the loss's and the link's derivatives cancel."""
        if self.compiled and out is not None:
            fused.scaled_difference(a, b, out.dtype.type(factor), out)
            return out
        out = np.subtract(a, b, out=out)
        out *= factor
        return out

    def add(self, a, value):
        a += value
        return a

    def sign(self, a):
        return np.sign(a, out=a)

    def exp(self, a):
        return np.exp(a, out=a)

    def clip(self, a, low, high):
        return np.clip(a, low, high, out=a)

    def softplus(self, z):
        """``log(1 + exp(z))`` without overflow: ``logaddexp(0, z)``."""
        return np.logaddexp(0, z)

    def row_dot(self, a, b):
        """``sum_k a_k b_k`` for each row, with no temporary product (a single column's is
        its product: NumPy's einsum would only add it to 0)."""
        if a.shape[1] == 1:
            return np.multiply(a[:, 0], b[:, 0])
        return np.einsum("ij,ij->i", a, b)

    # reductions as ndarray methods: NumPy's functions add a few microseconds per call, which
    # a small network's batch notices
    def total(self, a):
        return a.sum()

    def row_sums(self, a):
        return a[:, 0] if a.shape[1] == 1 else a.sum(axis=1)  # one column: its values

    def row_max(self, a):
        return a.max(axis=1)

    def column_sums(self, delta, out):
        """``delta.sum(axis=0)`` into ``out``, computed as the product ``ones @ delta``.

        The product runs in BLAS, which sums a tall batch's columns faster than
        ``np.sum(axis=0)`` does.
        """
        n_rows = delta.shape[0]
        ones = self._ones.get(delta.dtype)  # the longest seen, for each dtype
        if ones is None or ones.shape[0] < n_rows:
            ones = self._ones[delta.dtype] = np.ones(n_rows, dtype=delta.dtype)
            ones.flags.writeable = False
        return np.matmul(ones[:n_rows], delta, out=out)

    def add_scaled_scratch(self, n, dtype):
        """The buffer :meth:`add_scaled` needs for vectors of ``n`` numbers: one for the
        NumPy form's product, none for the compiled loop."""
        return None if self.compiled else np.empty(n, dtype=dtype)

    def add_scaled(self, out, x, scale, scratch):
        """``out += x * scale`` in place: the L2 term's gradient."""
        self._add_scaled(out, x, out.dtype.type(scale), scratch)
        return out

    @staticmethod
    def _fused_sigmoid_derivative(a, delta):
        fused.sigmoid_derivative(a, delta, delta.dtype.type(1))

    @staticmethod
    def _fused_bias_and_softmax(z, b, out):
        """``z += b``, then :func:`.activations.softmax`, with the passes before and after
        NumPy's ``exp`` compiled. NumPy sums the rows of an array stored column by column (and
        of two rows or more) from the first column to the last, as the loop does; elsewhere it
        sums in another order, and the NumPy form runs, so the numbers are always the same."""
        n_rows = out.shape[0]
        if n_rows < 2 or out.strides[0] != out.itemsize:
            z += b
            return softmax(z, out)
        row_max = np.empty((n_rows, 1), dtype=out.dtype)
        row_sum = np.empty((n_rows, 1), dtype=out.dtype)
        fused.add_bias_shift_by_row_max(z, b, out, row_max[:, 0])
        np.exp(out, out=out)
        fused.divide_by_row_sum(out, row_sum[:, 0])
        return row_max, row_sum

    @staticmethod
    def _fused_add_scaled(out, x, scale, scratch):
        fused.add_scaled(out, x, scale)

    # ---------------------------------------------------------------- checks
    def scalar(self, value) -> float:
        """A reduction's result as a Python float."""
        return float(value)

    def known_finite(self, loss) -> bool:
        """Whether a batch's loss is finite: checked at once, to stop a diverging epoch."""
        return math.isfinite(loss)

    def all_finite(self, array) -> bool:
        if array.ndim == 1:  # the parameters and the optimizer's state, after every epoch
            return math.isfinite(self._largest_abs(array))
        return bool(np.isfinite(array).all())

    def max_abs(self, array) -> float:
        """The largest ``|x|`` (0 for an empty array; NaN if any is NaN), without an
        ``|array|`` temporary."""
        sparse = not isinstance(array, np.ndarray) and sp.issparse(array)
        values = array.data if sparse else array
        if values.ndim == 1:
            return float(self._largest_abs(values))
        return largest_abs_numpy(values)

    def largest_abs_column_sum(self, W) -> float:
        return float(np.abs(W).sum(axis=0, dtype=np.float64).max(initial=0.0))

    def overflow_checked(self, compute):
        """``compute()``, or None if a floating-point overflow happens on the way.

        Overflow is made an error, so that a layer whose overflow the next activation hides
        (a sigmoid of ``inf`` is 1) is caught too.
        """
        with np.errstate(over="raise", invalid="raise"):
            try:
                return compute()
            except FloatingPointError:
                return None

    # ---------------------------------------------------------------- batches
    def row_index(self, order):
        return order

    def take_rows(self, array, index, out):
        """Rows ``index`` of ``array``: into ``out`` when dense, a new matrix when sparse.

        ``mode="clip"`` skips the bounds check, which the indices (a permutation) do not
        need and which makes NumPy gather into a temporary copy first. A column-major array
        (a DataFrame's values often are) is gathered as the columns of its transpose, along
        its memory rather than across it. The compiled loop gathers a row-major matrix and
        converts it in one pass.
        """
        if not isinstance(array, np.ndarray) and sp.issparse(array):
            return array[index]
        out = out[: len(index)]
        if self.compiled and array.ndim == 2 and array.flags.c_contiguous:
            fused.take_rows(array, index, out)
        elif out.dtype != array.dtype:  # compact 0/1 targets, converted to the network's dtype
            np.copyto(out, np.take(array, index, axis=0, mode="clip"))
        elif _column_major(array):
            np.take(array.T, index, axis=1, out=out.T, mode="clip")
        else:
            np.take(array, index, axis=0, out=out, mode="clip")
        return out

    def from_host(self, array):
        return array

    def take(self, array, index):
        """Elements (or rows) ``index`` of ``array``."""
        return array[index]

    def slice_rows(self, array, start, stop):
        """Rows ``start:stop`` of an array or sparse matrix."""
        return array[start:stop]

    # ---------------------------------------------------------------- optimizers
    def clip_to_norm(self, grad, max_norm):
        """``grad`` scaled in place to an L2 norm of at most ``max_norm``."""
        with np.errstate(over="ignore"):
            norm = math.sqrt(float(grad @ grad))
        if math.isinf(norm):  # the squares overflowed: measure the gradient over its max
            largest = self.max_abs(grad)
            if math.isfinite(largest):
                scaled = grad / largest
                norm = largest * math.sqrt(float(scaled @ scaled))
        if norm > max_norm:  # False for a NaN norm
            grad *= max_norm / norm
        return grad

    def sgd_update(self, params, grad, velocity, learning_rate, momentum, nesterov):
        """One SGD step with momentum; returns ``(params, velocity)``, updated in place."""
        cast = params.dtype.type  # the arithmetic stays in the parameters' dtype
        self._sgd(params, grad, velocity, cast(learning_rate), cast(momentum), nesterov)
        return params, velocity

    def adam_update(self, params, grad, m_scaled, v_scaled, beta_1, beta_2, eps, step_scale):
        """One Adam step; returns ``(params, m_scaled, v_scaled)``, updated in place."""
        cast = params.dtype.type
        self._adam(
            params, grad, m_scaled, v_scaled,
            cast(beta_1), cast(beta_2), cast(eps), cast(step_scale),
        )  # fmt: skip
        return params, m_scaled, v_scaled

    def plain_sgd_update(self, params, grad, learning_rate):
        """``params -= lr * grad``: the tutorial's ``update_parameters``."""
        grad *= learning_rate
        params -= grad
        return params


def _column_major(array):
    return array.flags.f_contiguous and not array.flags.c_contiguous


# --------------------------------------------------------------------------------------------
# Any other Array API library: functional forms


class ArrayAPIKernels:
    """Functional forms for an Array API namespace ``xp`` (torch, CuPy, array_api_strict).

    Parameters
    ----------
    xp : module
        The namespace, as ``array_api_compat`` gives it (``array_namespace(X)``).
    device : object
        The device the data is on; every array made here goes there.
    """

    in_place = False

    def __init__(self, xp, device):
        self.xp, self.device = xp, device

    def __repr__(self):
        return f"ArrayAPIKernels({getattr(self.xp, '__name__', self.xp)}, device={self.device})"

    def __eq__(self, other):
        return (
            type(other) is type(self) and other.xp is self.xp and other.device == self.device
        )

    def __hash__(self):
        return hash((type(self), id(self.xp)))

    def __reduce__(self):
        # a module cannot be pickled: the namespace travels by name and is imported back
        return (_array_api_kernels, (self.xp.__name__, self.device))

    # ---------------------------------------------------------------- moving data
    def asarray(self, array, dtype=None):
        return self.xp.asarray(array, dtype=dtype, device=self.device)

    def from_host(self, array):
        """A NumPy array moved to the device (shuffles and dropout masks are drawn there)."""
        return self.xp.asarray(array, device=self.device)

    def to_numpy(self, array):
        """A NumPy copy of ``array`` (L-BFGS hands SciPy a NumPy vector)."""
        return to_numpy(array, self.xp)

    def host_dtype(self, dtype):
        return np.dtype(np.float32 if dtype == self.xp.float32 else np.float64)

    def astype(self, X, dtype):
        return self.xp.asarray(X, dtype=dtype, device=self.device)

    def for_product_with(self, X, dtype):
        """``X`` in ``dtype``: the standard defines no products of mixed precisions."""
        return X if X.dtype == dtype else self.astype(X, dtype)

    def float_dtypes(self):
        """The floating dtypes the device supports, float64 first (float16 is left out)."""
        available = self.xp.__array_namespace_info__().dtypes(
            kind="real floating", device=self.device
        )
        return tuple(available[name] for name in ("float64", "float32") if name in available)

    # ---------------------------------------------------------------- buffers: none, every
    # kernel returns a new array
    def empty(self, shape, dtype, order="C"):
        return None

    def row_buffer(self, array, n_rows, dtype=None, order=None):
        return None

    def rows_of(self, buffer, start, stop):
        return None

    def joined_rows(self, buffer, chunks):
        return chunks[0] if len(chunks) == 1 else self.xp.concat(chunks)

    def flat_from_layers(self, flat, coefs, intercepts):
        reshape = self.xp.reshape
        return self.xp.concat([reshape(c, (-1,)) for c in coefs] + list(intercepts))

    def with_weights(self, flat, weights, n_weights):
        return self.xp.concat([weights, flat[n_weights:]])

    def zeros(self, n, dtype):
        return self.xp.zeros(n, dtype=dtype, device=self.device)

    def copy(self, array):
        return self.xp.asarray(array, copy=True)

    def snapshot(self, value):
        """``value`` itself: the functional kernels never modify an array."""
        return value

    def assign(self, target, value):
        return value

    def concat(self, arrays):
        return self.xp.concat(arrays)

    # ---------------------------------------------------------------- the network
    def matmul(self, a, b, out):
        return a @ b

    dense_matmul = matmul

    def layer(self, activation, a_prev, W, b, z_out, a_out):
        z = a_prev @ W + b
        return z, FUNCTIONAL_ACTIVATIONS[activation](self.xp, z)

    def output_layer(self, link, a_prev, W, b, z_out, a_out):
        return (*self.layer(link, a_prev, W, b, z_out, a_out), None)  # the loss sums itself

    def derivative(self, activation, inputs, delta):
        return FUNCTIONAL_DERIVATIVES[activation](self.xp, inputs, delta)

    def multiply(self, a, b, out):
        return a * b

    def subtract(self, a, b, out):
        return a - b

    def scale(self, a, factor):
        return a * factor

    def scaled_difference(self, a, b, factor, out):
        return (a - b) * factor

    def add(self, a, value):
        return a + value

    def sign(self, a):
        return self.xp.sign(a)

    def exp(self, a):
        return self.xp.exp(a)

    def clip(self, a, low, high):
        return self.xp.clip(a, min=low, max=high)

    def softplus(self, z):
        xp = self.xp
        return xp.logaddexp(xp.zeros_like(z), z)

    def row_dot(self, a, b):
        return self.xp.sum(a * b, axis=1)

    def total(self, a):
        return self.xp.sum(a)

    def row_sums(self, a):
        return self.xp.sum(a, axis=1)

    def row_max(self, a):
        return self.xp.max(a, axis=1)

    def column_sums(self, delta, out):
        return self.xp.sum(delta, axis=0)

    def add_scaled_scratch(self, n, dtype):
        return None

    def add_scaled(self, out, x, scale, scratch):
        return out + x * scale

    # ---------------------------------------------------------------- checks
    def scalar(self, value):
        """A reduction's result left on the device as a 0-d array: turning it into a Python
        number would make the host wait for the device after every batch."""
        return value

    def known_finite(self, loss) -> bool:
        """True: a batch's loss stays on the device and is checked with the epoch's sum (a
        NaN anywhere makes it NaN), so that no batch waits for the host."""
        return True

    def all_finite(self, array) -> bool:
        return bool(self.xp.all(self.xp.isfinite(array)))

    def max_abs(self, array) -> float:
        if math.prod(array.shape) == 0:
            return 0.0
        return float(self.xp.max(self.xp.abs(array)))

    def largest_abs_column_sum(self, W) -> float:
        if math.prod(W.shape) == 0:
            return 0.0
        return float(self.xp.max(self.xp.sum(self.xp.abs(W), axis=0)))

    def overflow_checked(self, compute):
        """``compute()``: these libraries have no floating-point traps; the caller checks
        the result for infinities and NaNs."""
        return compute()

    # ---------------------------------------------------------------- batches
    def row_index(self, order):
        """A host permutation as an index array on the device."""
        return self.xp.asarray(order, device=self.device)

    def take_rows(self, array, index, out):
        return self.xp.take(array, index, axis=0)

    def take(self, array, index):
        return self.xp.take(array, index, axis=0)

    def slice_rows(self, array, start, stop):
        return array[start:stop, ...]  # the standard wants every axis indexed

    # ---------------------------------------------------------------- optimizers
    def clip_to_norm(self, grad, max_norm):
        """The same clipping, computed on the device: the norm (measured over the largest
        entry where the squares overflow) never becomes a Python number."""
        xp = self.xp
        norm = xp.sqrt(xp.sum(grad * grad))
        largest = xp.max(xp.abs(grad))
        norm = xp.where(xp.isinf(norm), largest * xp.sqrt(xp.sum((grad / largest) ** 2)), norm)
        return grad * xp.where(norm > max_norm, max_norm / norm, xp.ones_like(norm))

    def sgd_update(self, params, grad, velocity, learning_rate, momentum, nesterov):
        step = grad * learning_rate
        velocity = velocity * momentum - step
        if nesterov:
            return (params - step) + velocity * momentum, velocity
        return params + velocity, velocity

    def adam_update(self, params, grad, m_scaled, v_scaled, beta_1, beta_2, eps, step_scale):
        m_scaled = m_scaled * beta_1 + grad
        v_scaled = v_scaled * beta_2 + grad * grad
        params = params - m_scaled / (self.xp.sqrt(v_scaled) + eps) * step_scale
        return params, m_scaled, v_scaled

    def plain_sgd_update(self, params, grad, learning_rate):
        return params - grad * learning_rate


def _default_numpy_kernels():
    return NUMPY


def _array_api_kernels(namespace_name, device):
    """The kernels of a pickled estimator or optimizer (see ``ArrayAPIKernels.__reduce__``)."""
    return ArrayAPIKernels(importlib.import_module(namespace_name), device)


def to_numpy(array, xp):
    """A NumPy copy of an array of any library, on any device."""
    library = type(array).__module__.split(".")[0]
    if library == "cupy":
        return array.get()
    if library == "torch":  # on any device
        return array.detach().cpu().numpy()
    name = getattr(xp, "__name__", "")
    if "array_api_strict" in name:  # its other devices refuse __array__ on purpose
        return np.asarray(xp.asarray(array, device=xp.Device("CPU_DEVICE")))
    return np.asarray(array)


NUMPY = NumpyKernels()
"""The kernels every NumPy array and sparse matrix trains with."""


def kernels_for(xp, device, is_numpy) -> "NumpyKernels | ArrayAPIKernels":
    """The kernels for arrays of namespace ``xp`` on ``device`` (``is_numpy``: NumPy's)."""
    return NUMPY if is_numpy else ArrayAPIKernels(xp, device)
