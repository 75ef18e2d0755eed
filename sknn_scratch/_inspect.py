"""A window into the network: its gradients checked, and one training step traced by hand.

:func:`check_gradients` holds the fast core's backpropagation (the gradient ``fit`` descends)
to centred finite differences of the same loss, entry by entry, and judges the agreement
with the relative error of the cs231n notes ("Gradient checks", CS231n: Convolutional Neural
Networks for Visual Recognition, Stanford). :func:`trace_step` runs one step of training on
a few rows and keeps every number of it, printed in the tutorial's notation
(``z1 = X · W1 + b1``, ``a1 = σ(z1)``, ...), so that the step can be followed by hand next to
the tutorial.

Both read the data, build the network and its loss exactly as ``fit`` does, with the
estimator's own helpers, on a copy of it: the estimator itself is never changed.
"""

import copy
import dataclasses
import html
import math
import warnings
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from numpy.typing import ArrayLike
from sklearn import config_context
from sklearn.utils import check_random_state

from ._base import BaseScratchMLP, _FitCall, _hidden_layer_sizes, _to_host
from ._classifier import ScratchMLPClassifier
from ._regressor import ScratchMLPRegressor
from .core import Adam, Backpropagation, Parameters, TrainingHistory, Workspace
from .core.kernels import NUMPY

__all__ = ["GradientCheck", "StepTrace", "check_gradients", "trace_step"]

# --------------------------------------------------------------------------- shared plumbing


class _RecordingWorkspace(Workspace):
    """A :class:`~.core.Workspace` whose batches keep every hidden layer's ``z``, and which
    remembers the last batch it handed out.

    The core keeps ``z`` only for the activations whose derivative needs it; here it is kept
    for every activation, to be shown (``trace_step``) or to see a relu unit cross its kink
    (``check_gradients``). What the network computes does not change: the derivative still
    reads the layer's output where the core's does.
    """

    last = None

    def pre_activation_rows(self, hidden_activation, n_rows):
        if self.pre_activations is None:
            widths = self.hidden_widths
            self.pre_activations = [np.empty((self.n_rows, w), self.dtype) for w in widths]
        return [z[:n_rows] for z in self.pre_activations]

    def batch(self, hidden_activation, n_rows):
        self.last = super().batch(hidden_activation, n_rows)
        return self.last


def _recording_backpropagation(params, spec, n_rows, rng=None) -> Backpropagation:
    """The core's :class:`~.core.Backpropagation`, with a :class:`_RecordingWorkspace`."""
    backprop = Backpropagation(params, spec, n_rows, rng)
    backprop.workspace = _RecordingWorkspace(spec.layer_sizes, n_rows, params.flat.dtype)
    return backprop


@dataclasses.dataclass
class _Problem:
    """What ``fit`` would train on, built by the estimator's own helpers on a copy of it."""

    model: BaseScratchMLP  # the working copy (its validation and encoding set attributes)
    call: _FitCall
    X: object
    Y: np.ndarray
    sample_weight: np.ndarray | None
    spec: object
    params: Parameters  # the starting parameters (unfitted) or the fitted ones
    rng: np.random.RandomState  # the estimator's random state, past the initial draws
    fitted: bool


def _continuing_call(model) -> _FitCall:
    """How a fitted network reads ``(X, y)``: as ``partial_fit`` does (``y`` may hold some of
    the classes only), or, with ``class_weight="balanced"``, which needs the frequency of
    every class, as a warm-started ``fit`` does."""
    if getattr(model, "class_weight", None) == "balanced":
        return _FitCall("fit", reset=False, epochs=model.epochs)
    return _FitCall.partial_fit(model)


def _problem(estimator, X, y, sample_weight) -> _Problem:
    """Validate, encode and build as ``fit`` (unfitted) or ``partial_fit`` (fitted) would,
    on a deep copy of ``estimator``, with NumPy."""
    if not isinstance(estimator, BaseScratchMLP):
        raise TypeError(
            "Expected a ScratchMLPClassifier or ScratchMLPRegressor, got "
            f"{type(estimator).__name__}."
        )
    model = copy.deepcopy(estimator)
    model._validate_params()
    fitted = hasattr(model, "coefs_")
    if fitted:  # a network fitted in another array library is inspected on the host
        model.coefs_ = [NUMPY.asarray(c) for c in model.coefs_]
        model.intercepts_ = [NUMPY.asarray(b) for b in model.intercepts_]
    call = _continuing_call(model) if fitted else _FitCall.fit(model)
    with config_context(array_api_dispatch=False):
        X, _, data, weight_scale = model._prepare_data(
            _to_host(X), _to_host(y), _to_host(sample_weight), call, NUMPY
        )
    hidden = _hidden_layer_sizes(model.hidden_size)
    spec = model._network_spec((X.shape[1], *hidden, data.Y.shape[1]), weight_scale)
    rng = check_random_state(model.random_state)
    params = model._starting_parameters(spec, call.reset, rng, X.dtype, NUMPY)
    return _Problem(model, call, data.X, data.Y, data.sample_weight, spec, params, rng, fitted)


def _parameter_names(n_layers):
    """``(name, tutorial name)`` of every parameter array, in the flat vector's order."""
    coefs = [(f"coefs_[{i}]", f"W{i + 1}") for i in range(n_layers)]
    intercepts = [(f"intercepts_[{i}]", f"b{i + 1}") for i in range(n_layers)]
    return coefs + intercepts


def _estimator_name(estimator) -> str:
    """The estimator's repr on one line, its changed parameters only (scikit-learn's)."""
    return " ".join(repr(estimator).split())


# --------------------------------------------------------------------------- check_gradients

_CS231N_BANDS = (
    (1e-7, "happy", "1e-7 and less you should be happy"),
    (
        1e-4,
        "ok for kinks",
        "1e-4 > relative error is usually okay for objectives with kinks. But if there are no "
        "kinks (e.g. use of tanh nonlinearities and softmax), then 1e-4 is too high",
    ),
    (1e-2, "uncomfortable", "1e-2 > relative error > 1e-4 should make you feel uncomfortable"),
    (
        math.inf,
        "probably wrong",
        "relative error > 1e-2 usually means the gradient is probably wrong",
    ),
)
"""cs231n's reading of a relative error: ``(upper bound, verdict, the notes' words)``."""

_KINKED_ACTIVATIONS = frozenset({"relu", "leaky_relu"})
"""Hidden activations with a kink (no derivative) at ``z = 0``."""

_KINKED_LOSSES = frozenset({"absolute_error", "quantile"})
"""Losses with a kink where the output equals the target."""

_CHECK_EVERY_ENTRY_UP_TO = 5000
"""``n_entries=None`` checks every entry of networks with up to this many parameters..."""

_SAMPLED_ENTRIES = 200
"""...and this many entries per array of larger ones."""

TOLERANCE = 1e-6
"""The largest relative error a passing check may have: ten times cs231n's "happy"."""

_ROUND_OFF_FLOOR = 1e8
"""The relative error's denominator is at least this many times the finite differences'
resolution (see :class:`GradientCheck`): a discrepancy at the round-off level then reads as
a relative error of 1e-8, below cs231n's "happy"."""


@dataclasses.dataclass(frozen=True)
class ArrayCheck:
    """The check of one parameter array (an entry of :attr:`GradientCheck.arrays`).

    Attributes
    ----------
    name : str
        ``"coefs_[0]"``, ``"intercepts_[0]"``, ...
    tutorial_name : str
        The tutorial's name for it: ``"W1"``, ``"b1"``, ...
    shape : tuple of int
    indices : ndarray of shape (n_checked,)
        The checked entries, as indices into the flattened array (row-major).
    analytic, numerical : ndarray of shape (n_checked,)
        Backpropagation's gradient and the centred difference, at those entries.
    relative_errors : ndarray of shape (n_checked,)
        Their relative error (see :class:`GradientCheck`).
    kinked : ndarray of bool, shape (n_checked,)
        Whether the entry's finite difference crossed a kink.
    """

    name: str
    tutorial_name: str
    shape: tuple
    indices: np.ndarray
    analytic: np.ndarray
    numerical: np.ndarray
    relative_errors: np.ndarray
    kinked: np.ndarray

    @property
    def max_relative_error(self) -> float:
        """The largest relative error of the entries that crossed no kink (0 if none)."""
        errors = self.relative_errors[~self.kinked]
        return float(errors.max()) if errors.size else 0.0

    @property
    def worst(self) -> int | None:
        """Position (in :attr:`indices`) of the worst entry that crossed no kink, or None."""
        if not (~self.kinked).any():
            return None
        return int(np.argmax(np.where(self.kinked, -1.0, self.relative_errors)))


@dataclasses.dataclass(frozen=True, repr=False)
class GradientCheck:
    """The result of :func:`check_gradients`: backpropagation against finite differences.

    For every checked entry, the analytic gradient ``a`` (the core's backpropagation) and the
    numerical one ``n`` (the centred difference ``(L(θ + eps) - L(θ - eps)) / (2 eps)`` of the
    same loss) are compared by cs231n's relative error ``|a - n| / (|a| + |n|)``, 0 when both
    are 0. Centred differences cannot resolve a derivative much below their round-off,
    ``resolution = machine epsilon * max(1, |L|) / eps`` (about 2e-10 with ``eps=1e-6``): a
    fitted network's near-zero gradients would read as relative errors near 1 by round-off
    alone. So the denominator is at least ``floor = 1e8 * resolution`` (about 0.02): an
    agreement to the round-off level reads as 1e-8, and a larger entry is judged exactly as
    cs231n does.

    An entry whose finite difference crossed a kink (a relu or leaky_relu unit whose ``z``
    changed sign between ``θ + eps`` and ``θ - eps``, or, for the absolute-error and quantile
    losses, an output that crossed its target) has no derivative there to compare with: it
    is counted in :attr:`kinks` and left out of the maxima and of :attr:`passed`.

    Attributes
    ----------
    relative_errors : dict of str to float
        The largest relative error of each parameter array: ``"coefs_[0]"``,
        ``"intercepts_[0]"``, ``"coefs_[1]"``, ... (entries that crossed a kink left out).
    max_relative_error : float
        The largest of them.
    tolerance : float
        The largest :attr:`max_relative_error` that passes (1e-6).
    passed : bool
        ``max_relative_error <= tolerance``.
    kinks : int
        How many checked entries crossed a kink.
    verdict : str
        cs231n's reading of :attr:`max_relative_error`: ``"happy"`` (below 1e-7), ``"ok for
        kinks"`` (below 1e-4), ``"uncomfortable"`` (below 1e-2) or ``"probably wrong"``.
    arrays : dict of str to ArrayCheck
        Every checked entry of each array: indices, both gradients, relative errors, kinks.
    eps : float
        The finite differences' step.
    resolution, floor : float
        The round-off level of the finite differences and the relative error's least
        denominator (see above).
    loss : float
        The loss at the checked parameters.
    where : str
        Which parameters were checked (those ``fit`` starts from, or the fitted ones).
    notes : tuple of str
        What else to know: a float32 model checked in float64, dropout's fixed mask,
        sampled entries.
    estimator : str
        The estimator checked, as its repr.
    n_rows : int
        Rows of data the loss was computed on.
    kinked_objective : bool
        Whether the loss has kinks at all (a relu or leaky_relu hidden layer, the absolute
        error or quantile loss), which cs231n's reading takes into account.
    """

    relative_errors: dict
    max_relative_error: float
    tolerance: float
    passed: bool
    kinks: int
    arrays: dict
    eps: float
    resolution: float
    floor: float
    loss: float
    where: str
    notes: tuple
    estimator: str
    n_rows: int
    kinked_objective: bool

    @property
    def verdict(self) -> str:
        """cs231n's word for :attr:`max_relative_error` (see :attr:`cs231n_says`)."""
        return _band(self.max_relative_error)[1]

    @property
    def cs231n_says(self) -> str:
        """What the cs231n notes say of a relative error as large as this check's."""
        return _band(self.max_relative_error)[2] + "."

    def __repr__(self):
        return (
            f"GradientCheck(max_relative_error={self.max_relative_error:.3g}, "
            f"passed={self.passed}, verdict={self.verdict!r}, kinks={self.kinks})"
        )

    def _rows(self):
        """The table's header and rows, as strings."""
        header = ("parameter", "shape", "checked", "kinks", "max rel. error", "analytic",
                  "numerical")  # fmt: skip
        rows = []
        for check in self.arrays.values():
            worst = check.worst
            a, n = ("-", "-") if worst is None else (
                f"{check.analytic[worst]: .6e}", f"{check.numerical[worst]: .6e}"
            )  # fmt: skip
            rows.append((
                f"{check.name} ({check.tutorial_name})",
                "x".join(str(s) for s in check.shape),
                f"{check.indices.size}/{math.prod(check.shape)}",
                str(int(check.kinked.sum())),
                f"{check.max_relative_error:.2e}",
                a,
                n,
            ))  # fmt: skip
        return header, rows

    def _summary(self):
        """The lines under the table: the result, cs231n's reading, the notes."""
        outcome = "passed" if self.passed else "FAILED"
        relation = "<=" if self.passed else ">"
        lines = [
            f"max relative error {self.max_relative_error:.2e} {relation} tolerance "
            f"{self.tolerance:.0e}: {outcome} ({self.verdict})",
            f'cs231n: "{self.cs231n_says}"',
        ]
        if self.verdict == "ok for kinks" and not self.kinked_objective:
            lines.append("This objective has no kinks: for it, cs231n would find this too high.")
        if self.kinks:
            lines.append(
                f"{self.kinks} entries crossed a kink between θ - eps and θ + eps: their finite "
                "differences are no derivative, and are left out of the maxima."
            )
        return lines + list(self.notes)

    def __str__(self):
        header, rows = self._rows()
        widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
        line = "  ".join
        table = [line(h.ljust(w) for h, w in zip(header, widths))]
        table.append(line("-" * w for w in widths))
        table += [line(c.ljust(w) for c, w in zip(row, widths)) for row in rows]
        title = [
            f"Gradient check of {self.estimator}",
            f"{self.where}; loss {self.loss:.6g} on {self.n_rows} rows; centred differences, "
            f"eps={self.eps:g}, float64",
            "(analytic and numerical: the gradients at each array's worst entry)",
        ]
        return "\n".join([*title, "", *(t.rstrip() for t in table), "", *self._summary()])

    def _repr_html_(self):
        header, rows = self._rows()
        esc = html.escape
        head = "".join(f"<th>{esc(h)}</th>" for h in header)
        body = "".join(
            "<tr>" + "".join(f"<td><code>{esc(c)}</code></td>" for c in row) + "</tr>"
            for row in rows
        )
        colour = "#1a7f37" if self.passed else "#cf222e"
        summary = self._summary()
        return (
            f"<div><p><b>Gradient check</b> of <code>{esc(self.estimator)}</code><br>"
            f"{esc(self.where)}; loss {self.loss:.6g} on {self.n_rows} rows; centred "
            f"differences, eps={self.eps:g}, float64</p>"
            f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
            f'<p style="color:{colour}"><b>{esc(summary[0])}</b></p>'
            + "".join(f"<p>{esc(s)}</p>" for s in summary[1:])
            + "</div>"
        )


def _band(relative_error):
    for upper, verdict, words in _CS231N_BANDS:
        if relative_error < upper:
            return upper, verdict, words
    return _CS231N_BANDS[-1]  # NaN


def _relative_errors(analytic, numerical, floor):
    """cs231n's ``|a - n| / (|a| + |n|)``, the denominator at least ``floor``; 0 where
    ``a == n`` (both 0 included)."""
    difference = np.abs(analytic - numerical)
    scale = np.maximum(np.abs(analytic) + np.abs(numerical), floor)
    return np.where(difference == 0, 0.0, difference / scale)


def _sides(batch, Y, spec):
    """Which side of its kink every relu-like unit and kinked output is on (a list of boolean
    arrays, empty when the objective has no kink)."""
    sides = []
    if spec.hidden_activation in _KINKED_ACTIVATIONS:
        sides += [z > 0 for z in batch.pre_activations]
    if spec.loss.name in _KINKED_LOSSES:
        sides.append(batch.activations[-1] > Y)
    return sides


def _centred_differences(loss_at, sides, flat, flat_indices, eps):
    """``(L(θ + eps) - L(θ - eps)) / (2 eps)`` for each entry of ``flat`` at ``flat_indices``
    (moved in place and put back), and whether ``sides()`` changed between the two: a kink
    crossed."""
    numerical = np.empty(flat_indices.size)
    kinked = np.zeros(flat_indices.size, dtype=bool)
    for j, i in enumerate(flat_indices):
        saved = flat[i]
        flat[i] = saved + eps
        loss_plus, sides_plus = loss_at(), sides()
        flat[i] = saved - eps
        loss_minus, sides_minus = loss_at(), sides()
        flat[i] = saved
        numerical[j] = (loss_plus - loss_minus) / (2 * eps)
        kinked[j] = any((p != m).any() for p, m in zip(sides_plus, sides_minus))
    return numerical, kinked


def _checked_entries(sizes, n_entries, rng):
    """For each array of ``sizes`` entries, the (sorted) flat indices to check."""
    if n_entries is None:
        n_entries = math.inf if sum(sizes) <= _CHECK_EVERY_ENTRY_UP_TO else _SAMPLED_ENTRIES
    chosen = []
    for size in sizes:
        if size <= n_entries:
            chosen.append(np.arange(size))
        else:
            chosen.append(np.sort(rng.choice(size, size=int(n_entries), replace=False)))
    return chosen


def check_gradients(
    estimator: ScratchMLPClassifier | ScratchMLPRegressor,
    X: ArrayLike,
    y: ArrayLike,
    *,
    sample_weight: ArrayLike | None = None,
    eps: float = 1e-6,
    n_entries: int | None = None,
    random_state: int | np.random.RandomState | None = None,
) -> GradientCheck:
    """Check backpropagation's gradient against centred finite differences of the loss.

    The loss is the one ``fit`` minimises on ``(X, y)``: the estimator's loss, output layer,
    class and sample weights and L2 term, on every row given. An unfitted estimator is
    checked at the parameters ``fit`` would start from (drawn from its ``random_state``,
    exactly as ``fit`` draws them, without training); a fitted one at its parameters. The
    analytic gradient is the fast core's (:class:`~sknn_scratch.core.Backpropagation`, what
    ``fit`` descends), the numerical one the centred difference of the same loss, entry by
    entry; both are computed in float64, whatever the model's dtype. The estimator is not
    changed.

    Parameters
    ----------
    estimator : ScratchMLPClassifier or ScratchMLPRegressor
        Fitted or not.
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
        The data. Each checked entry costs two loss evaluations on all of it: a few dozen
        rows are enough.
    y : array-like of shape (n_samples,) or (n_samples, n_outputs)
        Labels or targets. For a fitted classifier, ``y`` may hold some of its classes only
        (every class with ``class_weight="balanced"``).
    sample_weight : array-like of shape (n_samples,), default=None
        Weights of the samples in the loss.
    eps : float, default=1e-6
        Step of the finite differences.
    n_entries : int or None, default=None
        Entries checked per parameter array, drawn at random (without replacement) from
        those of larger arrays. None checks every entry of networks of up to 5000
        parameters, and 200 per array of larger ones.
    random_state : int, RandomState instance or None, default=None
        Draws the sampled entries and, when the estimator has ``dropout > 0``, the one
        dropout mask that every evaluation of the loss then uses (the network is checked
        with that mask held fixed, which the result's notes say).

    Returns
    -------
    check : GradientCheck
        Relative errors per parameter array, their maximum, the tolerance, whether the check
        passed, how many finite differences crossed a kink, cs231n's verdict and a table
        (``print(check)``, or displayed in a notebook).

    See Also
    --------
    trace_step : Every number of one training step, in the tutorial's notation.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sknn_scratch import ScratchMLPClassifier, check_gradients
    >>> X, y = load_iris(return_X_y=True)
    >>> model = ScratchMLPClassifier(hidden_size=5, random_state=0)
    >>> check = check_gradients(model, X[::5], y[::5])
    >>> check.passed, check.verdict
    (True, 'happy')
    >>> sorted(check.relative_errors)
    ['coefs_[0]', 'coefs_[1]', 'intercepts_[0]', 'intercepts_[1]']
    >>> print(check)  # doctest: +ELLIPSIS
    Gradient check of ScratchMLPClassifier(hidden_size=5, random_state=0)
    at the parameters fit would start from; loss ... on 30 rows; centred differences, ...
    ...
    parameter          shape  checked  kinks  max rel. error  analytic        numerical
    ...
    coefs_[0] (W1)     4x5    20/20    0      ...
    ...
    """
    if not (isinstance(eps, Real) and 0 < eps < 1):
        raise ValueError(f"eps must be a number in (0, 1), got {eps!r}.")
    if n_entries is not None and not (isinstance(n_entries, Integral) and n_entries > 0):
        raise ValueError(f"n_entries must be a positive int or None, got {n_entries!r}.")
    problem = _problem(estimator, X, y, sample_weight)
    spec, model_dtype = problem.spec, problem.params.flat.dtype
    params = Parameters.from_arrays(
        problem.params.coefs, problem.params.intercepts, dtype=np.float64
    )
    X = problem.X.astype(np.float64)
    Y = problem.Y.astype(np.float64)
    w = None if problem.sample_weight is None else problem.sample_weight.astype(np.float64)
    rng = check_random_state(random_state)
    n_rows = Y.shape[0]
    notes = []
    if model_dtype != np.float64:
        notes.append(f"The model computes in {model_dtype}; it was checked in float64.")

    backprop = _recording_backpropagation(params, spec, n_rows, rng)
    masks = None
    if backprop.dropout is not None:
        masks = backprop.dropout.draw(n_rows)  # drawn once, then held fixed
        notes.append(
            f"dropout={spec.dropout}: checked with one dropout mask, drawn from "
            "random_state and held fixed for every evaluation of the loss."
        )

    def loss_at():
        return float(backprop.loss_and_gradient(X, Y, w, masks))

    def sides():  # which side of its kink each relu-like unit and kinked output is on
        return _sides(backprop.workspace.last, Y, spec)

    with np.errstate(over="ignore", invalid="ignore"):
        loss = loss_at()
        analytic = backprop.grads.flat.copy()
        names = _parameter_names(spec.n_layers)
        shapes = [c.shape for c in params.coefs] + [b.shape for b in params.intercepts]
        sizes = [math.prod(s) for s in shapes]
        chosen = _checked_entries(sizes, n_entries, rng)
        offsets = np.cumsum([0, *sizes[:-1]])
        flat_indices = np.concatenate([o + i for o, i in zip(offsets, chosen)])
        numerical, kinked = _centred_differences(loss_at, sides, params.flat, flat_indices, eps)

    resolution = np.finfo(np.float64).eps * max(1.0, abs(loss)) / eps
    floor = _ROUND_OFF_FLOOR * resolution
    arrays, start = {}, 0
    for (name, tutorial_name), shape, offset, indices in zip(names, shapes, offsets, chosen):
        stop = start + indices.size
        a = analytic[offset + indices]
        n = numerical[start:stop]
        arrays[name] = ArrayCheck(
            name, tutorial_name, tuple(shape), indices, a, n,
            _relative_errors(a, n, floor), kinked[start:stop],
        )  # fmt: skip
        start = stop
    layer_order = [
        f"{kind}[{i}]" for i in range(spec.n_layers) for kind in ("coefs_", "intercepts_")
    ]
    arrays = {name: arrays[name] for name in layer_order}  # W1, b1, W2, b2, ...
    if any(c.indices.size < math.prod(c.shape) for c in arrays.values()):
        notes.append(
            f"Sampled: {', '.join(f'{c.indices.size}' for c in arrays.values())} entries of the "
            "arrays, drawn from random_state."
        )
    relative_errors = {name: c.max_relative_error for name, c in arrays.items()}
    max_error = float(np.max(list(relative_errors.values())))  # NaN, if any, propagates
    kinked_objective = (
        spec.hidden_activation in _KINKED_ACTIVATIONS and spec.n_layers > 1
    ) or spec.loss.name in _KINKED_LOSSES
    where = "at its fitted parameters" if problem.fitted else (
        "at the parameters fit would start from"
    )  # fmt: skip
    return GradientCheck(
        relative_errors=relative_errors,
        max_relative_error=max_error,
        tolerance=TOLERANCE,
        passed=bool(max_error <= TOLERANCE),
        kinks=int(kinked.sum()),
        arrays=arrays,
        eps=float(eps),
        resolution=float(resolution),
        floor=float(floor),
        loss=loss,
        where=where,
        notes=tuple(notes),
        estimator=_estimator_name(estimator),
        n_rows=n_rows,
        kinked_objective=kinked_objective,
    )


# --------------------------------------------------------------------------- trace_step

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
        n_layers = len(self.layers)
        dropout = any(layer.mask is not None for layer in self.layers)

        def passed_on(i):  # what layer i + 1 received from layer i
            if i == 0:
                return "X"
            return f"(a{i} ⊙ mask{i})" if dropout else f"a{i}"

        data = [("X", self.X), ("Y", self.Y)]
        if self.sample_weight is not None:
            data.append(("sample_weight", self.sample_weight))
        forward = []
        for layer in self.layers:
            i = layer.index
            forward += [
                (f"W{i}  (coefs_[{i - 1}])", layer.W),
                (f"b{i}  (intercepts_[{i - 1}])", layer.b),
            ]
            forward.append((f"z{i} = {passed_on(i - 1)} · W{i} + b{i}", layer.z))
            if i < n_layers:
                forward.append((f"a{i} = {_SIGMA}(z{i}),  {_SIGMA} = {layer.activation}", layer.a))
                if layer.mask is not None:
                    forward.append((f"mask{i}  (dropout: 0, or 1 / (1 - dropout))", layer.mask))
            else:
                forward.append((f"a{i} = {layer.activation}(z{i}),  the output", layer.a))
        loss = [(f"L = {self.loss:.10g},  {self.loss_description}", None)]
        backward = []
        l2 = f" + {self.l2_scale:.6g} · W{{i}}" if self.l2_scale else ""
        top = self.layers[-1]
        backward.append((f"delta{n_layers} = ∂L/∂z{n_layers} = {self.output_delta}", top.delta))
        for layer in reversed(self.layers):
            i = layer.index
            if i < n_layers:
                masked = f" ⊙ mask{i}" if layer.mask is not None else ""
                backward.append(
                    (
                        f"delta{i} = (delta{i + 1} · W{i + 1}ᵀ){masked} ⊙ {_SIGMA}'(z{i})",
                        layer.delta,
                    )
                )
            backward.append((f"dW{i} = {passed_on(i - 1)}ᵀ · delta{i}" + l2.format(i=i), layer.dW))
            backward.append((f"db{i} = Σ over the rows of delta{i}", layer.db))
        update = [(self.update_rule, None)]
        if self.learning_rate is not None:
            for layer in self.layers:
                i = layer.index
                update.append((f"ΔW{i}  (W{i} ← W{i} + ΔW{i})", layer.W_update))
                update.append((f"Δb{i}  (b{i} ← b{i} + Δb{i})", layer.b_update))
        return [
            ("The rows", data),
            ("Step 4, forward propagation", forward),
            ("Step 5, the loss", loss),
            ("Step 6, backpropagation", backward),
            (f"Step 7, the update ({self.solver})", update),
        ]

    def __str__(self):
        lines = [f"One training step of {self.estimator}", *self.notes]
        with np.printoptions(precision=4, threshold=200, edgeitems=3,
                             linewidth=95):  # fmt: skip
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
        with np.printoptions(precision=4, threshold=200, edgeitems=3,
                             linewidth=95):  # fmt: skip
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
    problem = _problem(estimator, X, y, sample_weight)
    model, spec, params, call = problem.model, problem.spec, problem.params, problem.call
    n_given = problem.Y.shape[0]
    n_rows = min(int(max_rows), n_given)
    X = NUMPY.slice_rows(problem.X, 0, n_rows)
    Y = problem.Y[:n_rows]
    w = None if problem.sample_weight is None else problem.sample_weight[:n_rows]

    backprop = _recording_backpropagation(params, spec, n_rows, problem.rng)
    loss = float(backprop.loss_and_gradient(X, Y, w))
    batch, grads = backprop.workspace.last, backprop.grads
    masks = None if backprop.dropout is None else backprop.dropout.masks
    zs = [*batch.pre_activations, batch.logits]
    layers = [  # copied before the step moves the parameters
        dict(
            index=i + 1,
            activation=spec.hidden_activation if i < spec.n_layers - 1 else spec.output_activation,
            W=params.coefs[i].copy(),
            b=params.intercepts[i].copy(),
            z=zs[i].copy(),
            a=batch.activations[i].copy(),
            mask=np.array(masks[i]) if masks is not None and i < spec.n_layers - 1 else None,
            delta=batch.deltas[i].copy(),
            dW=grads.coefs[i].copy(),
            db=grads.intercepts[i].copy(),
        )
        for i in range(spec.n_layers)
    ]
    if problem.fitted and call.method == "fit":
        notes = ["The first step of a warm-started fit on these rows (class_weight='balanced')."]
    elif problem.fitted:
        notes = ["The next step of partial_fit on these rows, from the fitted parameters."]
    else:
        notes = ["The first step of fit, from the parameters it starts from."]
    if n_rows < n_given:
        notes.append(f"The first {n_rows} of {n_given} rows, as one batch.")
    if masks is not None:
        notes.append(
            f"dropout={spec.dropout}: each hidden unit of each row is kept with probability "
            f"{1 - spec.dropout:g}; the masks are drawn from random_state."
        )
    learning_rate, updates, rule = _solver_step(problem, grads.flat.copy(), n_rows, notes)
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
        solver=model.solver,
        learning_rate=learning_rate,
        update_rule=rule,
        notes=tuple(notes),
        estimator=_estimator_name(estimator),
        loss_description=_loss_description(spec, w is not None, spec.alpha / total),
        output_delta=_output_delta_formula(spec, Y.shape[1], n_rows, w is not None),
        l2_scale=spec.alpha / total,
    )


def _solver_step(problem, gradient, n_rows, notes):
    """The solver's step from ``problem.params`` (which it moves) along ``gradient``, as the
    first epoch of the call ``fit`` or ``partial_fit`` would take it: ``(learning rate, [(ΔW,
    Δb) per layer], the rule in words)``. L-BFGS has none. Adds what shaped it to ``notes``."""
    model, params, call = problem.model, problem.params, problem.call
    if model.solver == "lbfgs":
        rule = (
            "L-BFGS-B has no single step: it searches along a direction built from the "
            "gradients of past iterations. The gradient above is what it is given."
        )
        return None, [(None, None)] * problem.spec.n_layers, rule
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
    norm = float(np.linalg.norm(gradient))
    if model.max_grad_norm is not None and norm > model.max_grad_norm:
        notes.append(
            f"The gradient's norm, {norm:.6g}, is above max_grad_norm={model.max_grad_norm}: "
            "the step takes it scaled down to that norm."
        )
    start = params.flat.copy()
    params.assign(optimizer.update(params.flat, gradient))  # the gradient may be clipped
    step = Parameters(params.layer_sizes, params.flat.dtype, flat=params.flat - start)
    return (
        learning_rate,
        list(zip(step.coefs, step.intercepts)),
        _update_rule(optimizer, learning_rate),
    )


def _loss_description(spec, weighted, l2_scale) -> str:
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
