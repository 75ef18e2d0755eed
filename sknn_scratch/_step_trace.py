"""One training step traced by hand: every number of it, in the tutorial's notation.

:func:`trace_step` runs one step of training on a few rows and keeps every number of it,
printed in the tutorial's notation (``z1 = X · W1 + b1``, ``a1 = σ(z1)``, ...), so that the
step can be followed by hand next to the tutorial. It reads the data, builds the network and
its loss exactly as ``fit`` or ``partial_fit`` does (see :mod:`._problem`), on a copy of the
estimator: the estimator itself is never changed.
"""

import dataclasses
import html
import warnings
from numbers import Integral

import numpy as np
import scipy.sparse as sp
from numpy.typing import ArrayLike

from ._classifier import ScratchMLPClassifier
from ._problem import (
    _build_problem,
    _estimator_name,
    _filled_batch,
    _inspecting_backpropagation,
)
from ._regressor import ScratchMLPRegressor
from .core import NUMPY, Adam, Parameters, TrainingHistory

__all__ = ["StepTrace", "trace_step"]

TRACE_ROWS = 5
"""How many rows :func:`trace_step` traces, by default: the first five."""

_SIGMA = "\N{GREEK SMALL LETTER SIGMA}"  # the tutorial's name for the hidden activation

_OUTPUT_DELTAS = {
    ("log_loss", "sigmoid"): "a{L} - Y",
    ("log_loss", "softmax"): "a{L} - Y",
    ("poisson", "exp"): "(a{L} - Y) / {k}",
    ("squared_error", "identity"): "2 (a{L} - Y) / {k}",
    ("squared_error", "sigmoid"): "2 (a{L} - Y) ⊙ a{L} ⊙ (1 - a{L}) / {k}",
    ("squared_error", "softmax"): "softmax's Jacobian at z{L} times 2 (a{L} - Y) / {k}",
    ("absolute_error", "identity"): "sign(a{L} - Y) / {k}",
    ("huber", "identity"): "clip(a{L} - Y, -delta, delta) / {k}",
    ("quantile", "identity"): "(1[a{L} > Y] - q) / {k}",
}
"""Each row's ``∂loss/∂z`` at the output layer, by loss and link (``k`` outputs)."""

_PRINT_OPTIONS = dict(precision=4, threshold=200, edgeitems=3, linewidth=95)
"""How the arrays of a :class:`StepTrace` are printed."""


@dataclasses.dataclass(frozen=True, repr=False)
class LayerTrace:
    """One layer of a :class:`StepTrace`, in the tutorial's names (layer ``i`` from 1).

    Attributes
    ----------
    index : int
        The layer's number: 1 for ``W1, b1, z1, a1``.
    activation : str
        Its activation: the hidden activation, or the output layer's link.
    W, b : ndarray
        Its weights and biases before the step (``coefs_[index - 1]``,
        ``intercepts_[index - 1]``).
    z, a : ndarray of shape (n_rows, width)
        Its input ``z = a_prev · W + b`` and output ``a = f(z)``.
    mask : ndarray of shape (n_rows, width) or None
        Its dropout mask (hidden layers with ``dropout > 0``): the next layer sees
        ``a * mask``.
    delta : ndarray of shape (n_rows, width)
        ``∂L/∂z``.
    dW, db : ndarray
        The loss's gradient with respect to ``W`` and ``b``.
    W_update, b_update : ndarray or None
        What the solver's step adds to ``W`` and ``b`` (None for L-BFGS).
    """

    index: int
    activation: str
    W: np.ndarray
    b: np.ndarray
    z: np.ndarray
    a: np.ndarray
    mask: np.ndarray | None
    delta: np.ndarray
    dW: np.ndarray
    db: np.ndarray
    W_update: np.ndarray | None
    b_update: np.ndarray | None

    def __repr__(self):
        return f"LayerTrace(index={self.index}, activation={self.activation!r})"


@dataclasses.dataclass(frozen=True, repr=False)
class StepTrace:
    """The result of :func:`trace_step`: every number of one training step.

    ``print(trace)`` (or a notebook's display) writes it out in the tutorial's notation:
    the forward pass (step 4), the loss (step 5), backpropagation (step 6) and the update
    (step 7).

    Attributes
    ----------
    layers : list of LayerTrace
        Layer by layer, from the first: ``z``, ``a``, ``delta``, ``dW``, ``db`` and the
        update.
    X : ndarray of shape (n_rows, n_features)
        The rows traced.
    Y : ndarray of shape (n_rows, n_outputs)
        Their targets as the network sees them (one-hot or 0/1 columns for a classifier).
    sample_weight : ndarray of shape (n_rows,) or None
        Their weights (with any class weights), None when all are equal.
    loss : float
        The loss on these rows, the L2 term included.
    solver : str
    learning_rate : float or None
        The learning rate of the step (its schedule's value), None for L-BFGS.
    update_rule : str
        How the solver turns the gradient into the update.
    notes : tuple of str
        Where the step stands (the first of ``fit``, or the next of ``partial_fit``) and
        what else shaped it (dropout, clipping, rows left out).
    estimator : str
        The estimator traced, as its repr.
    loss_description, output_delta : str
        The loss and its gradient at the output layer, in words and in the tutorial's names.
    l2_scale : float
        The L2 term's gradient is ``l2_scale * W``: ``alpha`` over the rows' total weight.
    """

    layers: list
    X: np.ndarray
    Y: np.ndarray
    sample_weight: np.ndarray | None
    loss: float
    solver: str
    learning_rate: float | None
    update_rule: str
    notes: tuple
    estimator: str
    loss_description: str
    output_delta: str
    l2_scale: float

    def __repr__(self):
        return (
            f"StepTrace(n_rows={self.X.shape[0]}, n_layers={len(self.layers)}, "
            f"loss={self.loss:.6g}, solver={self.solver!r})"
        )

    def _sections(self):
        """``(title, [(formula, array or None), ...])`` for each step of the tutorial."""
        return [
            ("The rows", self._rows_section()),
            ("Step 4, forward propagation", self._forward_section()),
            ("Step 5, the loss", [(f"L = {self.loss:.10g},  {self.loss_description}", None)]),
            ("Step 6, backpropagation", self._backward_section()),
            (f"Step 7, the update ({self.solver})", self._update_section()),
        ]

    def _passed_on(self, i):
        """The name of what layer ``i + 1`` received from layer ``i`` (``X`` for ``i = 0``)."""
        if i == 0:
            return "X"
        dropout = any(layer.mask is not None for layer in self.layers)
        return f"(a{i} ⊙ mask{i})" if dropout else f"a{i}"

    def _rows_section(self):
        """The rows traced: ``X``, ``Y`` and their weights."""
        data = [("X", self.X), ("Y", self.Y)]
        if self.sample_weight is not None:
            data.append(("sample_weight", self.sample_weight))
        return data

    def _forward_section(self):
        """Step 4: each layer's ``W``, ``b``, ``z``, ``a`` (and dropout mask), from the first."""
        return [entry for layer in self.layers for entry in self._forward_of(layer)]

    def _forward_of(self, layer):
        """One layer's entries of the forward pass."""
        i = layer.index
        entries = [
            (f"W{i}  (coefs_[{i - 1}])", layer.W),
            (f"b{i}  (intercepts_[{i - 1}])", layer.b),
            (f"z{i} = {self._passed_on(i - 1)} · W{i} + b{i}", layer.z),
        ]
        if i == len(self.layers):
            return [*entries, (f"a{i} = {layer.activation}(z{i}),  the output", layer.a)]
        entries.append((f"a{i} = {_SIGMA}(z{i}),  {_SIGMA} = {layer.activation}", layer.a))
        if layer.mask is not None:
            entries.append((f"mask{i}  (dropout: 0, or 1 / (1 - dropout))", layer.mask))
        return entries

    def _backward_section(self):
        """Step 6: the output layer's delta, then each layer's delta and gradients, from the
        last."""
        n_layers = len(self.layers)
        output_delta = (
            f"delta{n_layers} = ∂L/∂z{n_layers} = {self.output_delta}",
            self.layers[-1].delta,
        )
        return [output_delta] + [
            entry for layer in reversed(self.layers) for entry in self._backward_of(layer)
        ]

    def _backward_of(self, layer):
        """One layer's entries of backpropagation: its delta (below the output layer),
        ``dW`` and ``db``."""
        i = layer.index
        entries = []
        if i < len(self.layers):
            masked = f" ⊙ mask{i}" if layer.mask is not None else ""
            formula = f"delta{i} = (delta{i + 1} · W{i + 1}ᵀ){masked} ⊙ {_SIGMA}'(z{i})"
            entries.append((formula, layer.delta))
        l2 = f" + {self.l2_scale:.6g} · W{i}" if self.l2_scale else ""
        entries.append((f"dW{i} = {self._passed_on(i - 1)}ᵀ · delta{i}{l2}", layer.dW))
        entries.append((f"db{i} = Σ over the rows of delta{i}", layer.db))
        return entries

    def _update_section(self):
        """Step 7: the solver's rule, and each layer's update (none for L-BFGS)."""
        update = [(self.update_rule, None)]
        if self.learning_rate is None:
            return update
        for layer in self.layers:
            i = layer.index
            update.append((f"ΔW{i}  (W{i} ← W{i} + ΔW{i})", layer.W_update))
            update.append((f"Δb{i}  (b{i} ← b{i} + Δb{i})", layer.b_update))
        return update

    def __str__(self):
        lines = [f"One training step of {self.estimator}", *self.notes]
        with np.printoptions(**_PRINT_OPTIONS):
            for title, entries in self._sections():
                lines += ["", title, "-" * len(title)]
                for formula, value in entries:
                    lines.append(formula)
                    if value is not None:
                        lines += ["    " + row for row in str(np.asarray(value)).splitlines()]
        return "\n".join(lines)

    def _repr_html_(self):
        esc = html.escape
        parts = [f"<div><p><b>One training step</b> of <code>{esc(self.estimator)}</code></p>"]
        parts += [f"<p>{esc(note)}</p>" for note in self.notes]
        with np.printoptions(**_PRINT_OPTIONS):
            for title, entries in self._sections():
                parts.append(f"<h4>{esc(title)}</h4><table>")
                for formula, value in entries:
                    shown = "" if value is None else f"<pre>{esc(str(np.asarray(value)))}</pre>"
                    parts.append(
                        f"<tr><td style='text-align:left'><code>{esc(formula)}</code></td>"
                        f"<td style='text-align:left'>{shown}</td></tr>"
                    )
                parts.append("</table>")
        return "".join(parts) + "</div>"


def _update_rule(optimizer, learning_rate) -> str:
    """The solver's rule, in the tutorial's terms, with its numbers."""
    lr = f"learning_rate = {learning_rate:.6g}"
    if isinstance(optimizer, Adam):
        t = optimizer.t  # after the step
        return (
            f"Adam, {lr}, step t = {t}: m ← {optimizer.beta_1:g} m + {1 - optimizer.beta_1:g} dW, "
            f"v ← {optimizer.beta_2:g} v + {1 - optimizer.beta_2:g} dW², and ΔW = -lr_t · m / "
            f"(√v + {optimizer.epsilon:g}) with lr_t = learning_rate · √(1 - β2^t) / (1 - β1^t)"
        )
    if optimizer.momentum == 0:
        return f"gradient descent, {lr}: ΔW = -learning_rate · dW (the tutorial's step)"
    mu = f"{optimizer.momentum:g}"
    rule = f"velocity ← {mu} · velocity - learning_rate · dW, "
    if optimizer.nesterov:
        return (
            f"SGD with Nesterov's momentum, {lr}: {rule}ΔW = {mu} · velocity - learning_rate · dW"
        )
    return f"SGD with momentum, {lr}: {rule}ΔW = velocity"


def trace_step(
    estimator: ScratchMLPClassifier | ScratchMLPRegressor,
    X: ArrayLike,
    y: ArrayLike,
    *,
    sample_weight: ArrayLike | None = None,
    max_rows: int = TRACE_ROWS,
) -> StepTrace:
    """Trace one training step on the first few rows: every layer's numbers, by hand.

    The first ``max_rows`` rows (5) of ``X`` form one batch, and the step is the one ``fit``
    would take on that batch: the forward pass (every layer's ``z`` and ``a``), the loss,
    backpropagation (every ``delta`` and the gradients ``dW``, ``db``) and the solver's
    update, with the estimator's learning rate. For an unfitted estimator it is the first
    step of ``fit`` (from the parameters ``fit`` starts from, with a fresh optimizer); for a
    fitted one, the next step of ``partial_fit``: it continues the optimizer's state (Adam's
    moments, SGD's velocity) and schedule. ``solver="lbfgs"`` has no single step (L-BFGS-B
    searches along a direction built from past gradients): its trace stops at the gradient.
    The numbers are computed by the fast core, in the model's dtype, as ``fit`` computes
    them; the estimator is not changed.

    Parameters
    ----------
    estimator : ScratchMLPClassifier or ScratchMLPRegressor
        Fitted or not.
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
        The data; the first ``max_rows`` rows are traced.
    y : array-like of shape (n_samples,) or (n_samples, n_outputs)
        Labels or targets. All of ``y`` is read to know the classes (and the balanced class
        weights), as ``fit`` on all of it would.
    sample_weight : array-like of shape (n_samples,), default=None
        Weights of the samples (rows of weight zero are left out, as ``fit`` leaves them).
    max_rows : int, default=5
        How many of the first rows to trace.

    Returns
    -------
    trace : StepTrace
        ``trace.layers[i]`` holds layer ``i + 1``'s ``z``, ``a``, ``delta``, ``dW``, ``db``
        and update; ``print(trace)`` writes the step out in the tutorial's notation.

    See Also
    --------
    check_gradients : Backpropagation held to finite differences.

    Notes
    -----
    The batch is the rows given, whatever ``batch_size`` says, and is not shuffled. With
    ``dropout > 0`` the masks are those ``fit`` draws from ``random_state`` for a first batch
    of these rows. ``early_stopping`` holds no rows out here.

    Examples
    --------
    >>> import numpy as np
    >>> from sknn_scratch import ScratchMLPClassifier, trace_step
    >>> X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]])
    >>> y = np.array([0, 1, 1, 0])
    >>> tutorial = ScratchMLPClassifier(hidden_size=2, loss="squared_error", solver="sgd",
    ...                                 momentum=0.0, learning_rate=0.2, alpha=0.0,
    ...                                 init="normal", random_state=42)
    >>> trace = trace_step(tutorial, X, y)
    >>> [layer.z.shape for layer in trace.layers]
    [(4, 2), (4, 1)]
    >>> print(trace)  # doctest: +ELLIPSIS
    One training step of ScratchMLPClassifier(...)
    The first step of fit, from the parameters it starts from.
    ...
    z1 = X · W1 + b1
        [[ 0.      0.    ]
         [ 0.6477  1.523 ]
         [ 0.4967 -0.1383]
         [ 1.1444  1.3848]]
    a1 = σ(z1),  σ = sigmoid
        [[0.5    0.5   ]
         [0.6565 0.821 ]
         [0.6217 0.4655]
         [0.7585 0.7998]]
    ...
    Step 6, backpropagation
    -----------------------
    delta2 = ∂L/∂z2 = [2 (a2 - Y) ⊙ a2 ⊙ (1 - a2)], each row / 4
    ...
    dW1 = Xᵀ · delta1
        [[0.0017 0.0022]
         [0.0016 0.0006]]
    ...
    Step 7, the update (sgd)
    ------------------------
    gradient descent, learning_rate = 0.2: ΔW = -learning_rate · dW (the tutorial's step)
    ΔW1  (W1 ← W1 + ΔW1)
    ...
    """
    if not (isinstance(max_rows, Integral) and max_rows > 0):
        raise ValueError(f"max_rows must be a positive int, got {max_rows!r}.")
    problem = _build_problem(estimator, X, y, sample_weight)
    spec = problem.spec
    X, Y, w = _first_rows(problem, int(max_rows))
    n_rows = Y.shape[0]
    backprop = _inspecting_backpropagation(problem.params, spec, n_rows, problem.rng)
    loss = float(backprop.loss_and_gradient(X, Y, w))
    layers = _layer_numbers(backprop, n_rows)  # copied before the step moves the parameters
    notes = _step_notes(problem, n_rows, backprop.dropout)
    learning_rate, updates, rule = _solver_step(problem, backprop.grads.flat.copy(), n_rows, notes)
    total = n_rows if w is None else float(np.sum(w, dtype=np.float64))
    return StepTrace(
        layers=[
            LayerTrace(**layer, W_update=dW, b_update=db)
            for layer, (dW, db) in zip(layers, updates)
        ],
        X=X.toarray() if sp.issparse(X) else np.asarray(X),
        Y=np.asarray(Y),
        sample_weight=None if w is None else np.asarray(w),
        loss=loss,
        solver=problem.model.solver,
        learning_rate=learning_rate,
        update_rule=rule,
        notes=tuple(notes),
        estimator=_estimator_name(estimator),
        loss_description=_loss_description(spec, w is not None, spec.alpha / total),
        output_delta=_output_delta_formula(spec, Y.shape[1], n_rows, w is not None),
        l2_scale=spec.alpha / total,
    )


def _first_rows(problem, max_rows):
    """The first ``max_rows`` rows of the problem's data (all, if fewer):
    ``(X, Y, sample_weight)``."""
    n_rows = min(max_rows, problem.Y.shape[0])
    w = problem.sample_weight
    X = NUMPY.slice_rows(problem.X, 0, n_rows)
    return X, problem.Y[:n_rows], None if w is None else w[:n_rows]


def _layer_numbers(backprop, n_rows):
    """Every layer's numbers in the pass ``backprop`` just made on ``n_rows`` rows, as
    :class:`LayerTrace`'s arguments (all but the update), copied."""
    spec, params, grads = backprop.spec, backprop.params, backprop.grads
    batch = _filled_batch(backprop, n_rows)
    masks = None if backprop.dropout is None else backprop.dropout.masks
    zs = [*batch.pre_activations, batch.logits]
    n_hidden = spec.n_layers - 1
    return [
        dict(
            index=i + 1,
            activation=spec.hidden_activation if i < n_hidden else spec.output_activation,
            W=params.coefs[i].copy(),
            b=params.intercepts[i].copy(),
            z=zs[i].copy(),
            a=batch.activations[i].copy(),
            mask=np.array(masks[i]) if masks is not None and i < n_hidden else None,
            delta=batch.deltas[i].copy(),
            dW=grads.coefs[i].copy(),
            db=grads.intercepts[i].copy(),
        )
        for i in range(spec.n_layers)
    ]


def _step_notes(problem, n_rows, dropout):
    """Where the step stands (the first of ``fit``, or the next of ``partial_fit``), and
    what else shaped it: rows left out, dropout."""
    notes = [_which_step(problem)]
    n_given = problem.Y.shape[0]
    if n_rows < n_given:
        notes.append(f"The first {n_rows} of {n_given} rows, as one batch.")
    if dropout is not None:
        notes.append(
            f"dropout={problem.spec.dropout}: each hidden unit of each row is kept with "
            f"probability {1 - problem.spec.dropout:g}; the masks are drawn from random_state."
        )
    return notes


def _which_step(problem) -> str:
    """Which call's step is traced, in words."""
    if problem.fitted and problem.call.method == "fit":
        return "The first step of a warm-started fit on these rows (class_weight='balanced')."
    if problem.fitted:
        return "The next step of partial_fit on these rows, from the fitted parameters."
    return "The first step of fit, from the parameters it starts from."


_LBFGS_RULE = (
    "L-BFGS-B has no single step: it searches along a direction built from the "
    "gradients of past iterations. The gradient above is what it is given."
)
"""What :class:`StepTrace` says of L-BFGS's update."""


def _solver_step(problem, gradient, n_rows, notes):
    """The solver's step from ``problem.params`` (which it moves) along ``gradient``, as the
    first epoch of the call ``fit`` or ``partial_fit`` would take it: ``(learning rate, [(ΔW,
    Δb) per layer], the rule in words)``. L-BFGS has none. Adds what shaped it to ``notes``."""
    if problem.model.solver == "lbfgs":
        return None, [(None, None)] * problem.spec.n_layers, _LBFGS_RULE
    learning_rate, optimizer = _first_epochs_optimizer(problem, n_rows, notes)
    max_grad_norm = problem.model.max_grad_norm
    norm = float(np.linalg.norm(gradient))
    if max_grad_norm is not None and norm > max_grad_norm:
        notes.append(
            f"The gradient's norm, {norm:.6g}, is above max_grad_norm={max_grad_norm}: "
            "the step takes it scaled down to that norm."
        )
    updates = _take_step(problem.params, optimizer, gradient)
    return learning_rate, updates, _update_rule(optimizer, learning_rate)


def _first_epochs_optimizer(problem, n_rows, notes):
    """The optimizer of the call's first epoch, with that epoch's learning rate:
    ``(learning rate, optimizer)``. Notes when it is a fresh one for a fitted network."""
    model, params, call = problem.model, problem.params, problem.call
    history = TrainingHistory() if call.reset else model._history.copy()
    history.call_start = history.n_iter
    with warnings.catch_warnings():  # about batch_size, which a one-batch step ignores
        warnings.simplefilter("ignore")
        plan = model._epoch_plan(n_rows, problem.rng, history, call)
    previous = getattr(model, "_optimizer", None)
    optimizer = model._optimizer_for(params, call)
    if problem.fitted and not (
        call.chunk and type(previous) is type(optimizer) and previous.fits(params)
    ):
        notes.append("A fresh optimizer: partial_fit would not continue the last one.")
    learning_rate = optimizer.learning_rate = plan.learning_rate(history)
    return learning_rate, optimizer


def _take_step(params, optimizer, gradient):
    """Move ``params`` by the optimizer's update along ``gradient`` (which it may clip);
    return the step, per layer: ``[(ΔW, Δb), ...]``."""
    start = params.flat.copy()
    params.assign(optimizer.update(params.flat, gradient))
    step = Parameters(params.layer_sizes, params.flat.dtype, flat=params.flat - start)
    return list(zip(step.coefs, step.intercepts))


def _loss_description(spec, weighted, l2_scale) -> str:
    """The loss, in words: its name, the output layer, how rows are averaged, the L2 term."""
    weighting = "mean weighted by sample_weight" if weighted else "mean over the rows"
    description = f"{spec.loss.name} of the {spec.output_activation} output, {weighting}"
    if l2_scale:
        description += f", + {l2_scale / 2:.6g} · Σ W²  (alpha / 2 / Σw)"
    return description


def _output_delta_formula(spec, n_outputs, n_rows, weighted) -> str:
    """``∂L/∂z`` at the output layer, in the tutorial's names."""
    formula = _OUTPUT_DELTAS[spec.loss.name, spec.output_activation]
    if n_outputs == 1:  # nothing to divide by
        formula = formula.replace(" / {k}", "")
    formula = formula.format(L=spec.n_layers, k=n_outputs)
    return f"[{formula}], each row {'· w / Σw' if weighted else f'/ {n_rows}'}"
