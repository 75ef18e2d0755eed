"""The network: its parameters, the forward pass and backpropagation (tutorial steps 4 and 6).

The tutorial keeps ``W1, b1, W2, b2`` in a dict. Here all weights and biases live in one flat
vector, and ``coefs[i]`` / ``intercepts[i]`` are views into it (``coefs[0]`` is the tutorial's
``W1``). Layer by layer the code reads like the tutorial; the flat vector lets an optimizer
update every parameter with a few whole-array operations, and lets SciPy's L-BFGS see the
network as one vector. The weights come first and the biases after them, so the L2 penalty,
which applies to weights only, is one contiguous slice.

``forward`` is the only forward pass: training, prediction and validation all call it, for
every array library. Where NumPy and the other libraries differ (in-place buffers, sparse
input, compiled loops), the code asks the parameters' kernels (:mod:`.kernels`); everything
else is plain arithmetic that reads the same for all.
"""

import functools
import math
from dataclasses import dataclass

import numpy as np

from .activations import DERIVATIVE_TAKES_Z, GROWTH_BOUNDS
from .kernels import NUMPY
from .losses import Loss


@dataclass(frozen=True)
class NetworkSpec:
    """What a network computes, apart from its parameters.

    Parameters
    ----------
    layer_sizes : tuple of int
        Units per layer, input first: ``(n_features, *hidden, n_outputs)``.
    hidden_activation : str
        Activation of every hidden layer (a key of ``ACTIVATIONS``).
    loss : Loss
        The loss, with its output link (``loss.link``, the output layer's activation) and
        its parameter (see :mod:`.losses`).
    alpha : float
        Strength of the L2 penalty ``alpha / 2 * sum(W**2)``, divided by the batch's total
        sample weight as the data term is.
    dropout : float
        Fraction of hidden units dropped in each training batch (see :class:`Dropout`);
        prediction always uses every unit.
    """

    layer_sizes: tuple
    hidden_activation: str
    loss: Loss
    alpha: float = 0.0
    dropout: float = 0.0

    @property
    def output_activation(self) -> str:
        """The output layer's activation: the loss's link."""
        return self.loss.link

    @property
    def n_layers(self) -> int:
        """Number of weight layers (hidden layers + 1)."""
        return len(self.layer_sizes) - 1


class Parameters:
    """All weights and biases in one flat vector, with a view per layer.

    Parameters
    ----------
    layer_sizes : sequence of int
        Units per layer, input first.
    dtype : dtype
        Floating point type of every parameter (of the kernels' array library).
    flat : array, optional
        Existing storage of the right size to view (it is not copied); zeros if omitted.
    kernels : NumpyKernels or ArrayAPIKernels, default=NUMPY
        The array library (and device) the parameters live in, and its operations.
    """

    def __init__(self, layer_sizes, dtype=np.float64, flat=None, kernels=NUMPY):
        self.layer_sizes = tuple(int(n) for n in layer_sizes)
        self.kernels = kernels
        self.shapes = list(zip(self.layer_sizes[:-1], self.layer_sizes[1:]))
        self.n_weights = sum(n_in * n_out for n_in, n_out in self.shapes)
        size = self.n_weights + sum(self.layer_sizes[1:])
        if flat is None:
            flat = kernels.zeros(size, dtype)
        elif tuple(flat.shape) != (size,):
            raise ValueError(f"flat has shape {tuple(flat.shape)}, expected ({size},).")
        self._view(flat)

    def _view(self, flat):
        """Point ``flat``, ``coefs`` and ``intercepts`` at the vector ``flat``."""
        reshape = self.kernels.xp.reshape
        self.flat = flat
        self.coefs, self.intercepts = [], []
        start = 0
        for n_in, n_out in self.shapes:
            self.coefs.append(reshape(flat[start : start + n_in * n_out], (n_in, n_out)))
            start += n_in * n_out
        for _, n_out in self.shapes:
            self.intercepts.append(flat[start : start + n_out])
            start += n_out

    @property
    def weights(self):
        """Every weight (not bias), as one contiguous slice of ``flat``."""
        return self.flat[: self.n_weights]

    def assign(self, flat) -> None:
        """Make ``flat`` the parameters' values.

        NumPy copies it into the existing vector, so the per-layer views (and a fitted
        estimator's ``coefs_``) follow; the functional kernels take the new vector as it is.
        """
        flat = self.kernels.assign(self.flat, flat)
        if flat is not self.flat:
            self._view(flat)

    def assign_layers(self, coefs, intercepts) -> None:
        """Make per-layer arrays (the results of kernels on :attr:`coefs` and
        :attr:`intercepts`) the parameters' values."""
        flat = self.kernels.flat_from_layers(self.flat, coefs, intercepts)
        if flat is not self.flat:  # NumPy's kernels wrote into the views: nothing to do
            self._view(flat)

    def assign_weights(self, weights) -> None:
        """Make ``weights`` (the result of a kernel on :attr:`weights`) every weight's value,
        the biases unchanged."""
        flat = self.kernels.with_weights(self.flat, weights, self.n_weights)
        if flat is not self.flat:  # NumPy's kernels wrote into the slice: nothing to do
            self._view(flat)

    @classmethod
    def from_arrays(cls, coefs, intercepts, dtype=None, kernels=NUMPY) -> "Parameters":
        """Copy per-layer arrays (such as a fitted ``coefs_`` / ``intercepts_``) into one."""
        dtype = coefs[0].dtype if dtype is None else dtype
        layer_sizes = [coefs[0].shape[0]] + [c.shape[1] for c in coefs]
        params = cls(layer_sizes, dtype, kernels=kernels)
        reshape = kernels.xp.reshape
        parts = [reshape(kernels.asarray(c, dtype), (-1,)) for c in coefs]
        parts += [kernels.asarray(b, dtype) for b in intercepts]
        params.assign(kernels.concat(parts))
        return params

    def zeros_like(self) -> "Parameters":
        """A zero vector with the same layout, e.g. to hold gradients."""
        return Parameters(self.layer_sizes, self.flat.dtype, kernels=self.kernels)

    def copy(self) -> "Parameters":
        """An independent copy."""
        flat = self.kernels.copy(self.flat)
        return Parameters(self.layer_sizes, flat.dtype, flat=flat, kernels=self.kernels)


def output_layer_array(n_rows, n_outputs, dtype, kernels=NUMPY):
    """An empty ``(n_rows, n_outputs)`` buffer for the output layer, stored column by column.

    The output layer is narrow (a few classes) and its softmax and log-loss reduce across each
    row; NumPy combines a few contiguous columns faster than it reduces many short rows, so
    these buffers use Fortran (column-major) order. Their values and every result are the
    same either way.
    """
    return kernels.empty((n_rows, n_outputs), dtype, order="F")


@dataclass
class Batch:
    """One batch's values, filled in by :func:`forward` and :func:`backward`.

    ``activations[i]`` is the output of layer ``i + 1`` (the last is the network's
    prediction), ``logits`` the output layer's input ``z``, ``pre_activations[i]`` hidden
    layer ``i + 1``'s input ``z`` (kept only for the activations whose derivative needs it,
    or by a workspace asked to keep it; otherwise ``pre_activations`` is None) and
    ``deltas[i]`` the gradient of the loss with respect to layer ``i + 1``'s input (in
    training, possibly written over the outputs of the layer above once the backward pass is
    done with them, see :meth:`Workspace._hidden_delta_buffer`). With
    NumPy they start as the workspace's buffers and are filled in place; with the functional
    kernels they start as None and receive new arrays. ``normalizer`` is what a softmax
    output divided each row by (see :meth:`.NumpyKernels.output_layer`), for the log-loss.
    """

    activations: list
    logits: object
    pre_activations: list | None
    deltas: list
    normalizer: tuple | None = None


class Workspace:
    """Reusable arrays for the forward and backward passes of batches of up to ``n_rows``.

    With NumPy it allocates every buffer a batch needs once (see :class:`Batch`);
    ``weights_scratch`` (for the L2 gradient, where the kernels' form needs one) spares the
    backward pass any allocation, and
    ``pre_activations``, only for the few activations whose derivative needs it, keeps the
    hidden layers' ``z`` (see :meth:`pre_activation_rows`). The functional kernels of other
    array libraries allocate as they go: there, every buffer is None (``kernels.empty``).

    Parameters
    ----------
    layer_sizes : tuple of int
        Units per layer, input first.
    n_rows : int
        The largest batch.
    dtype : dtype
    with_deltas : bool, default=True
        Whether the batches are for training (backpropagation's deltas and the L2 scratch
        buffer) or for prediction only.
    kernels : NumpyKernels or ArrayAPIKernels, default=NUMPY
    keep_pre_activations : bool, default=False
        Keep every hidden layer's ``z``, whatever the activation, to be read after the pass
        (``sknn_scratch.trace_step`` shows it; ``check_gradients`` watches relu units cross
        their kink). What the network computes does not change: derivatives read ``z`` or
        ``a`` as they otherwise would. False, the default, is the training path: ``z`` is
        kept only where a derivative needs it.
    """

    def __init__(
        self,
        layer_sizes,
        n_rows,
        dtype,
        with_deltas=True,
        kernels=NUMPY,
        keep_pre_activations=False,
    ):
        self.n_hidden = len(layer_sizes) - 2
        self.n_rows, self.dtype = n_rows, dtype
        self.with_deltas = with_deltas
        self.keep_pre_activations = keep_pre_activations
        self.kernels = k = kernels
        self.pre_activations = None  # allocated by pre_activation_rows, when first needed
        *hidden, n_outputs = layer_sizes[1:]
        self.hidden_widths = hidden
        self.activations = [k.empty((n_rows, w), dtype) for w in hidden]
        self.activations.append(output_layer_array(n_rows, n_outputs, dtype, k))
        self.logits = output_layer_array(n_rows, n_outputs, dtype, k)
        self.deltas, self.weights_scratch = [], None
        if with_deltas:
            self.deltas = [self._hidden_delta_buffer(h) for h in range(len(hidden))]
            self.deltas.append(output_layer_array(n_rows, n_outputs, dtype, k))
            n_weights = int(np.dot(layer_sizes[:-1], layer_sizes[1:]))  # sum of n_in * n_out
            self.weights_scratch = k.add_scaled_scratch(n_weights, dtype)  # the L2 gradient's

    def _hidden_delta_buffer(self, h):
        """Where the backward pass computes hidden layer ``h``'s delta.

        :func:`backward` is done with the outputs of the layer above (``activations[h +
        1]``) before it computes this delta: they fed the weight gradient of the layer
        above them, and the derivative of their own delta, which come first. So in a
        training workspace (NumPy, and ``z`` not kept for display) the delta is written over
        them, when they are at least as wide, and a network with several hidden layers needs
        one buffer less. Otherwise the delta gets a buffer of its own.
        """
        k, n_rows, widths = self.kernels, self.n_rows, self.hidden_widths
        width = widths[h]
        reuse = k.in_place and not self.keep_pre_activations
        if reuse and h + 1 < len(widths) and widths[h + 1] >= width:
            above = self.activations[h + 1].reshape(-1)  # its storage, viewed afresh
            return above[: n_rows * width].reshape(n_rows, width)
        return k.empty((n_rows, width), self.dtype)

    def rows(self, n_rows):
        """The first ``n_rows`` rows of every array (for a last, shorter batch)."""
        if n_rows == self.n_rows:  # every batch but an epoch's last: the arrays themselves
            return list(self.activations), self.logits, list(self.deltas)
        k = self.kernels
        return (
            [k.rows_of(a, 0, n_rows) for a in self.activations],
            k.rows_of(self.logits, 0, n_rows),
            [k.rows_of(d, 0, n_rows) for d in self.deltas],
        )

    def pre_activation_rows(self, hidden_activation, n_rows):
        """Where the forward pass keeps every hidden layer's ``z``, or None.

        Most derivatives are written in terms of a layer's output ``a``, and the forward
        pass activates hidden layers in place, overwriting ``z``. The derivatives of the
        activations in :data:`.activations.DERIVATIVE_TAKES_Z` need ``z`` itself: for these
        alone, and only in a workspace for training (``with_deltas``), or for every
        activation in a workspace built with ``keep_pre_activations=True``, this returns one
        ``(n_rows, width)`` array per hidden layer (allocated on the first call), or a list
        of None for the functional kernels to fill. Otherwise it returns None, and nothing
        extra is allocated.
        """
        if (
            hidden_activation not in DERIVATIVE_TAKES_Z or not self.with_deltas
        ) and not self.keep_pre_activations:
            return None
        k = self.kernels
        if self.pre_activations is None:
            widths = self.hidden_widths
            self.pre_activations = [k.empty((self.n_rows, w), self.dtype) for w in widths]
        return [k.rows_of(z, 0, n_rows) for z in self.pre_activations]

    def batch(self, hidden_activation, n_rows) -> Batch:
        """The :class:`Batch` of ``n_rows`` rows that a forward pass fills."""
        activations, logits, deltas = self.rows(n_rows)
        pre_activations = self.pre_activation_rows(hidden_activation, n_rows)
        return Batch(activations, logits, pre_activations, deltas)


class Dropout:
    """The hidden units dropped in a training batch (inverted dropout).

    For each batch, :meth:`draw` keeps each hidden unit of each sample with probability
    ``1 - rate``: ``masks[i]`` holds ``1 / (1 - rate)`` for a kept unit and 0 for a dropped
    one, so that a layer's expected output is the same as without dropout and prediction
    needs no rescaling. The forward pass hands ``outputs[i] = activations[i] * masks[i]`` to
    the next layer, keeping the unmasked ``activations[i]`` for the derivative; the backward
    pass multiplies that layer's delta by the same mask.

    Parameters
    ----------
    rate : float
        Fraction of units dropped, in [0, 1).
    layer_sizes : tuple of int
        The network's layer sizes; only the hidden layers are masked.
    n_rows : int
        Largest batch.
    dtype : numpy dtype
    rng : numpy.random.RandomState
        Source of the draws (the estimator's ``random_state``), so runs are reproducible.
        The masks are drawn on the host and moved to the device for other array libraries,
        so that every library drops the same units.
    kernels : NumpyKernels or ArrayAPIKernels, default=NUMPY
    """

    def __init__(self, rate, layer_sizes, n_rows, dtype, rng, kernels=NUMPY):
        self.rate, self.rng, self.kernels = rate, rng, kernels
        self.scale = np.dtype(dtype).type(1.0 / (1.0 - rate))
        hidden = layer_sizes[1:-1]
        self.all_masks = [np.empty((n_rows, w), dtype=dtype) for w in hidden]  # on the host
        self.all_outputs = [kernels.empty((n_rows, w), dtype) for w in hidden]
        self.masks, self.outputs = self.all_masks, self.all_outputs

    def draw(self, n_rows) -> "Dropout":
        """New masks for a batch of ``n_rows`` rows; returns self, sized to the batch."""
        masks = [m[:n_rows] for m in self.all_masks]
        for mask in masks:
            kept = self.rng.random_sample(mask.shape) >= self.rate
            np.multiply(kept, self.scale, out=mask)
        self.masks = [self.kernels.from_host(m) for m in masks]
        self.outputs = [self.kernels.rows_of(o, 0, n_rows) for o in self.all_outputs]
        return self


def forward(params, spec, X, batch, dropout=None):
    """Propagate ``X`` through the network (the tutorial's ``forward_propagation``).

    Layer ``i`` computes ``z = a_prev @ W_i + b_i`` and ``a = f(z)``. With NumPy, hidden
    layers are activated in place, unless ``batch.pre_activations`` asks to keep their
    ``z``; the output layer keeps its logits ``z`` in ``batch.logits`` (the losses use them),
    its activation in ``batch.activations[-1]`` and, for a softmax, what it divided each row
    by in ``batch.normalizer`` (the log-loss reuses it).

    Parameters
    ----------
    params : Parameters
    spec : NetworkSpec
    X : array or sparse matrix of shape (n_rows, n_features)
    batch : Batch
        Filled in: every layer's activations, the logits and (where kept) the hidden
        layers' inputs.
    dropout : Dropout, optional
        In training with dropout, the batch's masks: each hidden layer passes on its output
        times its mask (see :class:`Dropout`).

    Returns
    -------
    outputs : array of shape (n_rows, n_outputs)
        The network's output, ``batch.activations[-1]``.
    """
    k, coefs, intercepts = params.kernels, params.coefs, params.intercepts
    kept = batch.pre_activations  # None: each hidden z is activated where it was computed
    a = X
    for i in range(spec.n_layers - 1):  # the hidden layers
        z_buffer = batch.activations[i] if kept is None else kept[i]
        z, a = k.layer(
            spec.hidden_activation, a, coefs[i], intercepts[i], z_buffer, batch.activations[i]
        )
        batch.activations[i] = a
        if kept is not None:
            kept[i] = z
        if dropout is not None:  # the next layer sees the masked output
            a = dropout.outputs[i] = k.multiply(a, dropout.masks[i], out=dropout.outputs[i])
    batch.logits, batch.activations[-1], batch.normalizer = k.output_layer(
        spec.output_activation, a, coefs[-1], intercepts[-1], batch.logits, batch.activations[-1]
    )
    return batch.activations[-1]


def backward(params, spec, X, batch, grads, dropout=None):
    """Backpropagate the output layer's ``batch.deltas[-1]`` (``backward_propagation``).

    For each layer from the last down: the weight gradient is ``a_prev.T @ delta``, the bias
    gradient is the column sum of ``delta``, and the previous layer's delta is
    ``(delta @ W.T) * f'(z_prev)``. The first layer's delta with respect to the input is
    never needed and never computed. The L2 term is not added here (see
    ``add_penalty_gradient``).

    ``f'`` is computed from the hidden layers' outputs, or, for the activations in
    :data:`.activations.DERIVATIVE_TAKES_Z`, from the ``pre_activations`` that
    :func:`forward` kept. With ``dropout``, the next layer saw each hidden layer's masked
    output, so that is what its weight gradient uses, and the mask multiplies the hidden
    layer's delta.
    """
    k = params.kernels
    takes_z = spec.hidden_activation in DERIVATIVE_TAKES_Z
    derivative_inputs = batch.pre_activations if takes_z else batch.activations
    passed_on = batch.activations if dropout is None else dropout.outputs  # what each saw
    deltas = batch.deltas
    coef_grads, intercept_grads = list(grads.coefs), list(grads.intercepts)
    for i in range(spec.n_layers - 1, -1, -1):
        a_prev = X if i == 0 else passed_on[i - 1]
        coef_grads[i] = k.matmul(a_prev.T, deltas[i], out=grads.coefs[i])
        intercept_grads[i] = k.column_sums(deltas[i], out=grads.intercepts[i])
        if i > 0:
            delta = k.dense_matmul(deltas[i], params.coefs[i].T, out=deltas[i - 1])
            if dropout is not None:
                delta = k.multiply(delta, dropout.masks[i - 1], out=delta)
            deltas[i - 1] = k.derivative(spec.hidden_activation, derivative_inputs[i - 1], delta)
    grads.assign_layers(coef_grads, intercept_grads)


def penalty(params, spec, total_weight):
    """The L2 term of the loss: ``alpha / 2 * sum(W**2) / total_weight``."""
    if spec.alpha == 0:
        return 0.0
    w = params.weights
    return 0.5 * spec.alpha * params.kernels.scalar(w @ w) / total_weight


def add_penalty_gradient(params, spec, grads, total_weight, scratch=None) -> None:
    """Add the L2 term's gradient, ``alpha * W / total_weight``, to the weight gradients
    (``scratch``: a buffer as long as the weights, for the NumPy form)."""
    if spec.alpha == 0:
        return
    scale = spec.alpha / total_weight
    weights = params.kernels.add_scaled(grads.weights, params.weights, scale, scratch)
    grads.assign_weights(weights)


def total_weight(n_rows, sample_weight, kernels):
    """The batch's total sample weight (its number of rows when unweighted)."""
    return n_rows if sample_weight is None else kernels.scalar(kernels.total(sample_weight))


class Backpropagation:
    """A batch's loss and its gradient (the tutorial's forward, loss and backward steps),
    with what they need built once per fit: the buffers for batches of up to ``n_rows``
    rows (a :class:`Workspace`), the gradient vector ``grads`` and, when ``spec.dropout``
    is set, the :class:`Dropout` masks drawn from ``rng``.

    Parameters
    ----------
    params : Parameters
    spec : NetworkSpec
    n_rows : int
        The largest batch.
    rng : numpy.random.RandomState, optional
        Source of the dropout masks.
    keep_pre_activations : bool, default=False
        Keep every hidden layer's ``z`` in the workspace's batches (see :class:`Workspace`),
        for inspection; training leaves it False.
    """

    def __init__(self, params, spec, n_rows, rng=None, keep_pre_activations=False):
        k, dtype = params.kernels, params.flat.dtype
        self.params, self.spec = params, spec
        self.workspace = Workspace(
            spec.layer_sizes, n_rows, dtype, kernels=k, keep_pre_activations=keep_pre_activations
        )
        self.grads = params.zeros_like()
        self.dropout = None
        if spec.dropout > 0:  # the masks are drawn on the host
            self.dropout = Dropout(
                spec.dropout, spec.layer_sizes, n_rows, k.host_dtype(dtype), rng, k
            )

    def loss_and_gradient(self, X, Y, sample_weight=None, dropout=None):
        """Forward pass, loss and backward pass for one batch; fills :attr:`grads`.

        Returns the batch's loss (weighted mean of the data term plus the L2 term; a Python
        float with NumPy, a 0-d array on the device with other libraries); :attr:`grads`
        receives its exact gradient with respect to every parameter. With dropout, for
        the masks ``dropout`` gives, or else for masks drawn afresh.
        """
        params, spec, k = self.params, self.spec, self.params.kernels
        if dropout is None and self.dropout is not None:
            dropout = self.dropout.draw(Y.shape[0])
        batch = self.workspace.batch(spec.hidden_activation, Y.shape[0])
        outputs = forward(params, spec, X, batch, dropout)
        weight = total_weight(Y.shape[0], sample_weight, k)
        loss = spec.loss.value(k, Y, batch.logits, outputs, sample_weight, batch.normalizer)
        batch.deltas[-1] = spec.loss.output_delta(k, Y, outputs, sample_weight, batch.deltas[-1])
        backward(params, spec, X, batch, self.grads, dropout)
        # the L2 term's gradient and value, one after the other: both read every weight, and
        # the second finds them in cache
        add_penalty_gradient(params, spec, self.grads, weight, self.workspace.weights_scratch)
        return loss + penalty(params, spec, weight)


def logit_bound(params, spec, x_max) -> float:
    """An upper bound on ``|z|`` in every layer, for inputs with every ``|x| <= x_max``.

    Layer by layer, ``|z_j| <= max|a_prev| * sum_i |W_ij| + |b_j|``, and then the hidden
    activation's entry ``(c, m)`` in :data:`.activations.GROWTH_BOUNDS` gives
    ``|a| <= min(|z| + c, m)``: at most 1 after a sigmoid or tanh layer, at most
    ``|z| + log 2`` after softplus, and so on. The largest of the layers' bounds is
    returned. Computed from a pass over the parameters (about one optimizer step), it
    proves in most cases that the forward pass cannot overflow without running it. It is
    infinite when the parameters are too large for such a proof.
    """
    k = params.kernels
    offset, cap = GROWTH_BOUNDS[spec.hidden_activation]
    largest_input = float(x_max)  # a bound on |a_prev|
    largest_z = 0.0
    with np.errstate(over="ignore", invalid="ignore"):
        for W, b in zip(params.coefs, params.intercepts):
            z_bound = largest_input * k.largest_abs_column_sum(W) + k.max_abs(b)
            largest_z = max(largest_z, z_bound)
            largest_input = min(z_bound + offset, cap)
    return largest_z if math.isfinite(largest_z) else math.inf


def coarse_logit_bound(spec, x_max, largest_parameter) -> float:
    """An upper bound on ``|z|`` in every layer, from the largest ``|parameter|`` alone.

    Each of a layer's ``fan_in`` weights and its bias is at most ``p = largest_parameter``,
    so ``|z_j| <= max|a_prev| * fan_in * p + p``, and the activation bounds ``|a|`` as in
    :func:`logit_bound`. Looser than that bound, but pure arithmetic on the layer sizes:
    the check after each epoch finds ``p`` anyway, to know that every parameter is finite.
    """
    offset, cap = GROWTH_BOUNDS[spec.hidden_activation]
    largest_input, largest_z = float(x_max), 0.0
    for fan_in in spec.layer_sizes[:-1]:
        z_bound = largest_input * fan_in * largest_parameter + largest_parameter
        largest_z = max(largest_z, z_bound)
        largest_input = min(z_bound + offset, cap)
    return largest_z


def forward_is_finite(params, spec, X, x_max, largest_parameter=None) -> bool:
    """Whether the forward pass on every row of ``X`` (``|X| <= x_max``) stays finite.

    Every layer counts, not only the outputs: a sigmoid turns an overflowed ``z`` back into
    a finite 1, but such a network is broken (its gradients would be NaN). When a bound on
    every layer's input leaves a margin of 2 below the dtype's largest number, no sum can
    overflow and the answer is yes without a forward pass: first the free
    :func:`coarse_logit_bound` (given the ``largest_parameter``), then :func:`logit_bound`;
    otherwise :func:`predict_if_finite` runs the forward pass.
    """
    largest = _largest_number(params.kernels.xp, params.flat.dtype)
    if largest_parameter is not None:
        if coarse_logit_bound(spec, x_max, largest_parameter) < largest / 2:
            return True
    if logit_bound(params, spec, x_max) < largest / 2:
        return True
    return predict_if_finite(params, spec, X) is not None


@functools.cache
def _largest_number(xp, dtype) -> float:
    """The largest finite number of ``dtype`` (looked up once per dtype: the check after
    every epoch asks for it)."""
    return float(xp.finfo(dtype).max)


def predict_if_finite(params, spec, X, return_logits=False):
    """:func:`predict`, or None if any layer overflows or an output is not finite.

    With NumPy the forward pass runs with floating-point overflow made an error, so that a
    layer whose overflow the next activation would hide (a sigmoid of ``inf`` is 1) is
    caught too; libraries without floating-point traps are judged by their outputs.
    """
    k = params.kernels
    result = k.overflow_checked(lambda: predict(params, spec, X, return_logits=return_logits))
    if result is None:
        return None
    outputs = result[0] if return_logits else result
    return result if k.all_finite(outputs) else None


def chunk_rows(layer_sizes, n_rows, budget_bytes=2**23, itemsize=8) -> int:
    """How many rows to push through at once so that each layer's buffer stays in budget."""
    widest = max(layer_sizes[1:])
    return int(max(1, min(n_rows, budget_bytes // (itemsize * widest))))


def predict(params, spec, X, batch_rows=None, return_logits=False, layer=-1):
    """The network's output for every row of ``X``, computed chunk by chunk.

    Extra memory is bounded by one chunk's hidden activations, whatever the size of ``X``;
    with NumPy, the layer returned writes straight into the result.

    Parameters
    ----------
    layer : int, default=-1
        Which layer's activations to return, indexed as ``batch.activations`` in
        :func:`forward`: -1 is the output, -2 the last hidden layer (the estimators'
        ``transform``).

    Returns
    -------
    outputs : array of shape (n_samples, n_outputs)
        The activations of ``layer`` (the output's width, by default).
    logits : array of shape (n_samples, n_outputs)
        The output layer's input, only when ``return_logits`` is true.
    """
    k = params.kernels
    n_rows = X.shape[0]
    dtype = params.flat.dtype
    if batch_rows is None:
        itemsize = 4 if dtype == k.xp.float32 else 8
        batch_rows = chunk_rows(spec.layer_sizes, n_rows, itemsize=itemsize)
    workspace = Workspace(spec.layer_sizes, max(batch_rows, 1), dtype, False, kernels=k)
    width = spec.layer_sizes[1:][layer]
    # NumPy computes each chunk into its rows of the results; the logits of every row are
    # kept only when asked for (otherwise one chunk's suffice). Other libraries join chunks.
    outputs = k.empty((n_rows, width), dtype)
    logits = k.empty((n_rows, spec.layer_sizes[-1]), dtype) if return_logits else None
    output_chunks, logit_chunks = [], []
    for start in range(0, n_rows, batch_rows):
        stop = min(start + batch_rows, n_rows)
        batch = workspace.batch(spec.hidden_activation, stop - start)
        batch.activations[layer] = k.rows_of(outputs, start, stop)
        if return_logits:
            batch.logits = k.rows_of(logits, start, stop)
        forward(params, spec, k.slice_rows(X, start, stop), batch)
        output_chunks.append(batch.activations[layer])
        logit_chunks.append(batch.logits)
    outputs = k.joined_rows(outputs, output_chunks)
    if not return_logits:
        return outputs
    return outputs, k.joined_rows(logits, logit_chunks)
