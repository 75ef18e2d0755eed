"""The network: its parameters, the forward pass and backpropagation (tutorial steps 4 and 6).

The tutorial keeps ``W1, b1, W2, b2`` in a dict. Here all weights and biases live in one flat
vector, and ``coefs[i]`` / ``intercepts[i]`` are views into it (``coefs[0]`` is the tutorial's
``W1``). Layer by layer the code reads like the tutorial; the flat vector lets an optimizer
update every parameter with a few whole-array operations, and lets SciPy's L-BFGS see the
network as one vector. The weights come first and the biases after them, so the L2 penalty,
which applies to weights only, is one contiguous slice.

``forward`` is the only forward pass: training, prediction and validation all call it.
"""

import math
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from . import fused
from .activations import ACTIVATIONS, DERIVATIVE_TAKES_Z, DERIVATIVES, GROWTH_BOUNDS
from .losses import OUTPUT_ACTIVATIONS, loss_value, output_delta, resolve_loss_parameter


@dataclass(frozen=True)
class NetworkSpec:
    """What a network computes, apart from its parameters.

    Parameters
    ----------
    layer_sizes : tuple of int
        Units per layer, input first: ``(n_features, *hidden, n_outputs)``.
    hidden_activation : str
        Activation of every hidden layer (a key of ``ACTIVATIONS``).
    output_activation : str
        Activation of the output layer: ``"sigmoid"``, ``"softmax"``, ``"identity"`` or
        ``"exp"``.
    loss : str
        ``"squared_error"``, ``"log_loss"``, ``"poisson"``, or one of the robust regression
        losses ``"absolute_error"``, ``"huber"`` and ``"quantile"``.
    alpha : float
        Strength of the L2 penalty ``alpha / 2 * sum(W**2)``, divided by the batch's total
        sample weight as the data term is.
    loss_parameter : float or None
        The loss's parameter: ``delta`` (> 0) for ``"huber"``, the quantile ``q`` (in (0, 1))
        for ``"quantile"``; None for the other losses. Left at None for ``"huber"`` or
        ``"quantile"``, it is set to the default, 1.0 or 0.5 (see ``LOSS_PARAMETERS``).
    dropout : float
        Fraction of hidden units dropped in each training batch (see :class:`Dropout`);
        prediction always uses every unit.
    """

    layer_sizes: tuple
    hidden_activation: str
    output_activation: str
    loss: str
    alpha: float = 0.0
    loss_parameter: float | None = None
    dropout: float = 0.0

    def __post_init__(self):
        if self.output_activation not in OUTPUT_ACTIVATIONS[self.loss]:
            raise ValueError(
                f"The {self.loss!r} loss cannot be used with a {self.output_activation!r} "
                f"output layer; use one of {OUTPUT_ACTIVATIONS[self.loss]}."
            )
        parameter = resolve_loss_parameter(self.loss, self.loss_parameter)
        object.__setattr__(self, "loss_parameter", parameter)  # frozen: set once, here

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
    dtype : numpy dtype
        Floating point type of every parameter.
    flat : ndarray, optional
        Existing storage of the right size to view (it is not copied); zeros if omitted.
    """

    def __init__(self, layer_sizes, dtype=np.float64, flat=None):
        self.layer_sizes = tuple(int(n) for n in layer_sizes)
        shapes = list(zip(self.layer_sizes[:-1], self.layer_sizes[1:]))
        self.n_weights = sum(n_in * n_out for n_in, n_out in shapes)
        size = self.n_weights + sum(self.layer_sizes[1:])
        if flat is None:
            flat = np.zeros(size, dtype=dtype)
        elif flat.shape != (size,):
            raise ValueError(f"flat has shape {flat.shape}, expected ({size},).")
        self.flat = flat
        self.coefs, self.intercepts = [], []
        start = 0
        for n_in, n_out in shapes:
            self.coefs.append(flat[start : start + n_in * n_out].reshape(n_in, n_out))
            start += n_in * n_out
        for _, n_out in shapes:
            self.intercepts.append(flat[start : start + n_out])
            start += n_out

    @property
    def weights(self) -> np.ndarray:
        """Every weight (not bias), as one contiguous slice of ``flat``."""
        return self.flat[: self.n_weights]

    @classmethod
    def from_arrays(cls, coefs, intercepts, dtype=None) -> "Parameters":
        """Copy per-layer arrays (such as a fitted ``coefs_`` / ``intercepts_``) into one."""
        dtype = coefs[0].dtype if dtype is None else dtype
        layer_sizes = [coefs[0].shape[0]] + [c.shape[1] for c in coefs]
        params = cls(layer_sizes, dtype)
        for view, array in zip(params.coefs + params.intercepts, list(coefs) + list(intercepts)):
            view[...] = array
        return params

    def zeros_like(self) -> "Parameters":
        """A zero vector with the same layout, e.g. to hold gradients."""
        return Parameters(self.layer_sizes, self.flat.dtype)

    def copy(self) -> "Parameters":
        """An independent copy."""
        return Parameters(self.layer_sizes, flat=self.flat.copy())


def output_layer_array(n_rows, n_outputs, dtype):
    """An empty ``(n_rows, n_outputs)`` array for the output layer, stored column by column.

    The output layer is narrow (a few classes) and its softmax and log-loss reduce across each
    row. NumPy reduces a row of 10 contiguous numbers about 10 times slower than it combines 10
    contiguous columns, so these arrays use Fortran (column-major) order. Their values and
    every result are the same either way.
    """
    return np.empty((n_rows, n_outputs), dtype=dtype, order="F")


class Workspace:
    """Reusable arrays for the forward and backward passes of batches of up to ``n_rows``.

    ``activations[i]`` holds the output of layer ``i + 1`` (the last is the network's
    prediction), ``logits`` the output layer's input ``z`` and ``deltas[i]`` the gradient of
    the loss with respect to layer ``i + 1``'s input. ``ones`` (for the bias gradients) and
    ``weights_scratch`` (for the L2 gradient) spare the backward pass any allocation.
    ``pre_activations[i]``, only for the few activations whose derivative needs it, keeps
    hidden layer ``i + 1``'s input ``z`` (see :meth:`pre_activation_rows`).
    """

    def __init__(self, layer_sizes, n_rows, dtype, with_deltas=True):
        self.n_rows = n_rows
        self.with_deltas = with_deltas
        self.pre_activations = None  # allocated by pre_activation_rows, when first needed
        *hidden, n_outputs = layer_sizes[1:]
        self.activations = [np.empty((n_rows, w), dtype=dtype) for w in hidden]
        self.activations.append(output_layer_array(n_rows, n_outputs, dtype))
        self.logits = output_layer_array(n_rows, n_outputs, dtype)
        self.deltas = []
        if with_deltas:
            self.deltas = [np.empty((n_rows, w), dtype=dtype) for w in hidden]
            self.deltas.append(output_layer_array(n_rows, n_outputs, dtype))
            n_weights = int(np.dot(layer_sizes[:-1], layer_sizes[1:]))  # sum of n_in * n_out
            self.weights_scratch = np.empty(n_weights, dtype=dtype)  # for the L2 gradient
        self.ones = np.ones(n_rows, dtype=dtype)

    def rows(self, n_rows):
        """The first ``n_rows`` rows of every array (for a last, shorter batch)."""
        if n_rows == self.n_rows:
            return self.activations, self.logits, self.deltas
        return (
            [a[:n_rows] for a in self.activations],
            self.logits[:n_rows],
            [d[:n_rows] for d in self.deltas],
        )

    def pre_activation_rows(self, hidden_activation, n_rows):
        """Arrays in which the forward pass keeps every hidden layer's ``z``, or None.

        Most derivatives are written in terms of a layer's output ``a``, and the forward
        pass activates hidden layers in place, overwriting ``z``. The derivatives of the
        activations in :data:`.activations.DERIVATIVE_TAKES_Z` need ``z`` itself: for these
        alone, and only in a workspace for training (``with_deltas``), this returns one
        ``(n_rows, width)`` array per hidden layer, allocated on the first call. Otherwise
        it returns None, and nothing extra is allocated.
        """
        if hidden_activation not in DERIVATIVE_TAKES_Z or not self.with_deltas:
            return None
        if self.pre_activations is None:
            self.pre_activations = [np.empty_like(a) for a in self.activations[:-1]]
        if n_rows == self.n_rows:
            return self.pre_activations
        return [z[:n_rows] for z in self.pre_activations]

    def column_sums(self, delta, out):
        """``out = delta.sum(axis=0)``, computed as the product ``ones @ delta``.

        The product runs in BLAS and was measured 2 to 3 times faster than ``np.sum(axis=0)``
        on a batch of 256 rows.
        """
        np.matmul(self.ones[: delta.shape[0]], delta, out=out)


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
    """

    def __init__(self, rate, layer_sizes, n_rows, dtype, rng):
        self.rate, self.rng = rate, rng
        self.scale = np.dtype(dtype).type(1.0 / (1.0 - rate))
        hidden = layer_sizes[1:-1]
        self.all_masks = [np.empty((n_rows, w), dtype=dtype) for w in hidden]
        self.all_outputs = [np.empty((n_rows, w), dtype=dtype) for w in hidden]
        self.masks, self.outputs = self.all_masks, self.all_outputs

    def draw(self, n_rows) -> "Dropout":
        """New masks for a batch of ``n_rows`` rows; returns self, sized to the batch."""
        self.masks = [m[:n_rows] for m in self.all_masks]
        self.outputs = [o[:n_rows] for o in self.all_outputs]
        for mask in self.masks:
            kept = self.rng.random_sample(mask.shape) >= self.rate
            np.multiply(kept, self.scale, out=mask)
        return self


def _product(a, b, out):
    """``out = a @ b`` for a dense or sparse ``a``, writing into ``out``."""
    if sp.issparse(a):
        out[...] = a @ b
    else:
        np.matmul(a, b, out=out)


def forward(params, spec, X, activations, logits, pre_activations=None, dropout=None):
    """Propagate ``X`` through the network (the tutorial's ``forward_propagation``).

    Layer ``i`` computes ``z = a_prev @ W_i + b_i`` and ``a = f(z)``. Hidden layers are
    activated in place, unless ``pre_activations`` is given to keep their ``z``; the output
    layer keeps its logits ``z`` in ``logits`` (the losses use them) and writes its
    activation into ``activations[-1]``.

    Parameters
    ----------
    params : Parameters
    spec : NetworkSpec
    X : ndarray or sparse matrix of shape (n_rows, n_features)
    activations : list of ndarray
        One ``(n_rows, width)`` array per layer, filled in.
    logits : ndarray of shape (n_rows, n_outputs)
        Filled with the output layer's input.
    pre_activations : list of ndarray, optional
        One ``(n_rows, width)`` array per hidden layer, filled with its input ``z``, for the
        backward pass of an activation whose derivative needs it
        (:meth:`Workspace.pre_activation_rows`). None (prediction, and every other
        activation) activates the hidden layers in place.
    dropout : Dropout, optional
        In training with dropout, the batch's masks: each hidden layer passes on its output
        times its mask (see :class:`Dropout`).

    Returns
    -------
    prob : ndarray of shape (n_rows, n_outputs)
        The network's output, ``activations[-1]``.
    """
    last = spec.n_layers - 1
    hidden_z = activations if pre_activations is None else pre_activations
    a_prev = X
    for i, (W, b) in enumerate(zip(params.coefs, params.intercepts)):
        z = logits if i == last else hidden_z[i]
        _product(a_prev, W, out=z)
        name = spec.output_activation if i == last else spec.hidden_activation
        _add_bias_and_activate(name, z, b, out=activations[i])
        a_prev = activations[i]
        if dropout is not None and i < last:
            a_prev = np.multiply(a_prev, dropout.masks[i], out=dropout.outputs[i])
    return activations[-1]


def _add_bias_and_activate(name, z, bias, out):
    """``z += bias``, then ``out = f(z)``: a relu layer activated in place takes one pass.

    ``out`` is ``z`` itself for a layer activated in place, another array where ``z`` is kept.
    """
    if name == "relu" and out is z and fused.ENABLED:
        fused.add_bias_relu(z, bias)
    else:
        z += bias
        ACTIVATIONS[name](z, out=out)


def backward(
    params, spec, X, activations, deltas, grads, workspace, pre_activations=None, dropout=None
):
    """Backpropagate the output layer's ``deltas[-1]`` (the tutorial's ``backward_propagation``).

    For each layer from the last down: the weight gradient is ``a_prev.T @ delta``, the bias
    gradient is the column sum of ``delta``, and the previous layer's delta is
    ``(delta @ W.T) * f'(z_prev)``. The first layer's delta with respect to the input is
    never needed and never computed. The L2 term is not added here (see
    ``add_penalty_gradient``).

    ``f'`` is computed from the hidden layers' outputs ``activations``, or, for the
    activations in :data:`.activations.DERIVATIVE_TAKES_Z`, from the ``pre_activations``
    that :func:`forward` kept. With ``dropout``, the next layer saw each hidden layer's
    masked output, so that is what its weight gradient uses, and the mask multiplies the
    hidden layer's delta.
    """
    derivative = DERIVATIVES[spec.hidden_activation]
    takes_z = spec.hidden_activation in DERIVATIVE_TAKES_Z
    derivative_inputs = pre_activations if takes_z else activations
    passed_on = activations if dropout is None else dropout.outputs  # what each layer saw
    for i in range(spec.n_layers - 1, -1, -1):
        a_prev = X if i == 0 else passed_on[i - 1]
        _product(a_prev.T, deltas[i], out=grads.coefs[i])
        workspace.column_sums(deltas[i], out=grads.intercepts[i])
        if i > 0:
            np.matmul(deltas[i], params.coefs[i].T, out=deltas[i - 1])
            if dropout is not None:
                deltas[i - 1] *= dropout.masks[i - 1]
            derivative(derivative_inputs[i - 1], deltas[i - 1])


def penalty(params, spec, total_weight) -> float:
    """The L2 term of the loss: ``alpha / 2 * sum(W**2) / total_weight``."""
    if spec.alpha == 0:
        return 0.0
    w = params.weights
    return 0.5 * spec.alpha * float(w @ w) / total_weight


def add_penalty_gradient(params, spec, grads, total_weight, workspace) -> None:
    """Add the L2 term's gradient, ``alpha * W / total_weight``, to the weight gradients."""
    if spec.alpha == 0:
        return
    scale = spec.alpha / total_weight
    if fused.ENABLED:
        fused.add_scaled(grads.weights, params.weights, params.flat.dtype.type(scale))
    else:
        scaled_weights = workspace.weights_scratch
        np.multiply(params.weights, scale, out=scaled_weights)
        grads.weights[...] += scaled_weights


def loss_and_gradient(params, spec, X, Y, sample_weight, workspace, grads, dropout=None) -> float:
    """Forward pass, loss, and backward pass for one batch; fills ``grads``.

    Returns the batch's loss (weighted mean of the data term plus the L2 term); ``grads``
    receives its exact gradient with respect to every parameter (for the batch's dropout
    masks, when ``dropout`` is given).
    """
    activations, logits, deltas = workspace.rows(Y.shape[0])
    pre_activations = workspace.pre_activation_rows(spec.hidden_activation, Y.shape[0])
    prob = forward(params, spec, X, activations, logits, pre_activations, dropout)
    total_weight = Y.shape[0] if sample_weight is None else float(sample_weight.sum())
    loss = loss_value(
        spec.loss, spec.output_activation, Y, logits, prob, sample_weight, spec.loss_parameter
    )
    output_delta(
        spec.loss,
        spec.output_activation,
        Y,
        prob,
        sample_weight,
        out=deltas[-1],
        loss_parameter=spec.loss_parameter,
    )
    backward(params, spec, X, activations, deltas, grads, workspace, pre_activations, dropout)
    # the L2 term's gradient and value, one after the other: both read every weight, and the
    # second finds them in cache
    add_penalty_gradient(params, spec, grads, total_weight, workspace)
    return loss + penalty(params, spec, total_weight)


def logit_bound(params, spec, x_max) -> float:
    """An upper bound on ``|z|`` in every layer, for inputs with every ``|x| <= x_max``.

    Layer by layer, ``|z_j| <= max|a_prev| * sum_i |W_ij| + |b_j|``, and then the hidden
    activation's entry ``(c, m)`` in :data:`.activations.GROWTH_BOUNDS` gives
    ``|a| <= min(|z| + c, m)``: at most 1 after a sigmoid or tanh layer, at most
    ``|z| + log 2`` after softplus, and so on. The largest of the layers' bounds is
    returned. Computed in float64 from a pass over the parameters (about one optimizer
    step), it proves in most cases that the forward pass cannot overflow without running
    it. It is infinite when the parameters are too large for such a proof.
    """
    offset, cap = GROWTH_BOUNDS[spec.hidden_activation]
    largest_input = float(x_max)  # a bound on |a_prev|
    largest_z = 0.0
    with np.errstate(over="ignore", invalid="ignore"):
        for W, b in zip(params.coefs, params.intercepts):
            largest_column = float(np.abs(W).sum(axis=0, dtype=np.float64).max(initial=0.0))
            z_bound = largest_input * largest_column + float(np.abs(b).max(initial=0.0))
            largest_z = max(largest_z, z_bound)
            largest_input = min(z_bound + offset, cap)
    return largest_z if math.isfinite(largest_z) else math.inf


def forward_is_finite(params, spec, X, x_max) -> bool:
    """Whether the forward pass on every row of ``X`` (``|X| <= x_max``) stays finite.

    Every layer counts, not only the outputs: a sigmoid turns an overflowed ``z`` back into
    a finite 1, but such a network is broken (its gradients would be NaN). When
    :func:`logit_bound` leaves a margin of 2 below the dtype's largest number, no sum can
    overflow and the answer is yes without a forward pass; otherwise
    :func:`predict_if_finite` runs it.
    """
    if logit_bound(params, spec, x_max) < float(np.finfo(params.flat.dtype).max) / 2:
        return True
    return predict_if_finite(params, spec, X) is not None


def predict_if_finite(params, spec, X, return_logits=False):
    """:func:`predict`, or None if any layer overflows or an output is not finite.

    The forward pass runs with floating-point overflow made an error, so that a layer whose
    overflow the next activation would hide (a sigmoid of ``inf`` is 1) is caught too.
    """
    with np.errstate(over="raise", invalid="raise"):
        try:
            result = predict(params, spec, X, return_logits=return_logits)
        except FloatingPointError:
            return None
    outputs = result[0] if return_logits else result
    return result if np.isfinite(outputs).all() else None


def chunk_rows(layer_sizes, n_rows, budget_bytes=2**23, itemsize=8) -> int:
    """How many rows to push through at once so that each layer's buffer stays in budget."""
    widest = max(layer_sizes[1:])
    return int(max(1, min(n_rows, budget_bytes // (itemsize * widest))))


def predict(params, spec, X, batch_rows=None, return_logits=False, layer=-1):
    """The network's output for every row of ``X``, computed chunk by chunk.

    Extra memory is bounded by one chunk's hidden activations, whatever the size of ``X``:
    the layer returned writes straight into the result.

    Parameters
    ----------
    layer : int, default=-1
        Which layer's activations to return, indexed as ``activations`` in :func:`forward`:
        -1 is the output, -2 the last hidden layer (the estimators' ``transform``).

    Returns
    -------
    outputs : ndarray of shape (n_samples, n_outputs)
        The activations of ``layer`` (the output's width, by default).
    logits : ndarray of shape (n_samples, n_outputs)
        The output layer's input, only when ``return_logits`` is true.
    """
    n_rows = X.shape[0]
    dtype = params.flat.dtype
    if batch_rows is None:
        batch_rows = chunk_rows(spec.layer_sizes, n_rows, itemsize=dtype.itemsize)
    width = spec.layer_sizes[1:][layer]
    n_outputs = spec.layer_sizes[-1]
    outputs = np.empty((n_rows, width), dtype=dtype)
    # the logits of every row are kept only when asked for; otherwise one chunk's suffice
    logits = np.empty((n_rows, n_outputs), dtype=dtype) if return_logits else None
    workspace = Workspace(spec.layer_sizes, max(batch_rows, 1), dtype, with_deltas=False)
    for start in range(0, n_rows, batch_rows):
        stop = min(start + batch_rows, n_rows)
        activations, chunk_logits, _ = workspace.rows(stop - start)
        activations = list(activations)
        activations[layer] = outputs[start:stop]
        if return_logits:
            chunk_logits = logits[start:stop]
        forward(params, spec, X[start:stop], activations, chunk_logits)
    return (outputs, logits) if return_logits else outputs
