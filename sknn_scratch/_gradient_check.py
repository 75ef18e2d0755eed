"""Backpropagation's gradient held to centred finite differences of the same loss.

:func:`check_gradients` holds the fast core's backpropagation (the gradient ``fit`` descends)
to centred finite differences of the same loss, entry by entry, and judges the agreement
with the relative error of the cs231n notes ("Gradient checks", CS231n: Convolutional Neural
Networks for Visual Recognition, Stanford). It reads the data, builds the network and its
loss exactly as ``fit`` does (see :mod:`._problem`), on a copy of the estimator: the
estimator itself is never changed.
"""

import dataclasses
import html
import math
from numbers import Integral, Real

import numpy as np
from numpy.typing import ArrayLike
from sklearn.utils import check_random_state

from ._classifier import ScratchMLPClassifier
from ._problem import (
    _build_problem,
    _estimator_name,
    _filled_batch,
    _inspecting_backpropagation,
)
from ._regressor import ScratchMLPRegressor
from .core import Parameters

__all__ = ["GradientCheck", "check_gradients"]

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
    _check_arguments(eps, n_entries)
    problem = _build_problem(estimator, X, y, sample_weight)
    rng = check_random_state(random_state)
    objective = _Objective(problem, rng)  # draws the dropout mask, before the sampled entries
    layout = _parameter_arrays(objective.params)
    with np.errstate(over="ignore", invalid="ignore"):
        loss = objective.value()
        analytic = objective.backprop.grads.flat.copy()
        chosen = _checked_entries([math.prod(shape) for *_, shape in layout], n_entries, rng)
        numerical, kinked = _centred_differences(
            objective.value, objective.sides, objective.params.flat,
            _flat_indices(layout, chosen), eps,
        )  # fmt: skip
    resolution = np.finfo(np.float64).eps * max(1.0, abs(loss)) / eps
    floor = _ROUND_OFF_FLOOR * resolution
    arrays = _array_checks(layout, chosen, analytic, numerical, kinked, floor)
    relative_errors = {name: c.max_relative_error for name, c in arrays.items()}
    max_error = float(np.max(list(relative_errors.values())))  # NaN, if any, propagates
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
        where=_where(problem),
        notes=(*objective.notes, *_sampling_notes(arrays)),
        estimator=_estimator_name(estimator),
        n_rows=objective.n_rows,
        kinked_objective=_has_kinks(problem.spec),
    )


def _check_arguments(eps, n_entries):
    """Refuse an ``eps`` outside (0, 1) and an ``n_entries`` that is not a positive int."""
    if not (isinstance(eps, Real) and 0 < eps < 1):
        raise ValueError(f"eps must be a number in (0, 1), got {eps!r}.")
    if n_entries is not None and not (isinstance(n_entries, Integral) and n_entries > 0):
        raise ValueError(f"n_entries must be a positive int or None, got {n_entries!r}.")


class _Objective:
    """The loss ``fit`` minimises on the problem's rows, in float64, as a function of
    :attr:`params` (whose flat vector the finite differences move in place).

    Parameters
    ----------
    problem : _Problem
        The data, network and parameters, as ``fit`` or ``partial_fit`` would build them.
    rng : numpy.random.RandomState
        Draws the one dropout mask that every evaluation then uses (with ``dropout > 0``).

    Attributes
    ----------
    params : Parameters
        A float64 copy of the problem's parameters.
    backprop : Backpropagation
        Its ``grads`` hold the analytic gradient at the last evaluation.
    notes : list of str
        What the check's result says of the objective: a float32 model checked in float64,
        the dropout mask held fixed.
    """

    def __init__(self, problem, rng):
        self.spec = problem.spec
        self.params = Parameters.from_arrays(
            problem.params.coefs, problem.params.intercepts, dtype=np.float64
        )
        self.X = problem.X.astype(np.float64)
        self.Y = problem.Y.astype(np.float64)
        weight = problem.sample_weight
        self.sample_weight = None if weight is None else weight.astype(np.float64)
        self.notes = []
        model_dtype = problem.params.flat.dtype
        if model_dtype != np.float64:
            self.notes.append(f"The model computes in {model_dtype}; it was checked in float64.")
        self.backprop = _inspecting_backpropagation(self.params, self.spec, self.n_rows, rng)
        self.masks = self._fixed_dropout_masks()

    @property
    def n_rows(self) -> int:
        """Rows of data the loss is computed on."""
        return self.Y.shape[0]

    def _fixed_dropout_masks(self):
        """The dropout masks of every evaluation, drawn once (None without dropout)."""
        if self.backprop.dropout is None:
            return None
        self.notes.append(
            f"dropout={self.spec.dropout}: checked with one dropout mask, drawn from "
            "random_state and held fixed for every evaluation of the loss."
        )
        return self.backprop.dropout.draw(self.n_rows)

    def value(self) -> float:
        """The loss at the parameters as they are now (``backprop.grads`` its gradient)."""
        X, Y, weight = self.X, self.Y, self.sample_weight
        return float(self.backprop.loss_and_gradient(X, Y, weight, self.masks))

    def sides(self) -> list:
        """Which side of its kink each relu-like unit and kinked output was on, in the last
        evaluation (see :func:`_sides`)."""
        return _sides(_filled_batch(self.backprop, self.n_rows), self.Y, self.spec)


def _parameter_names(n_layers):
    """``(name, tutorial name)`` of every parameter array, in the flat vector's order."""
    coefs = [(f"coefs_[{i}]", f"W{i + 1}") for i in range(n_layers)]
    intercepts = [(f"intercepts_[{i}]", f"b{i + 1}") for i in range(n_layers)]
    return coefs + intercepts


def _parameter_arrays(params):
    """``(name, tutorial name, shape)`` of every parameter array, in the flat vector's order
    (every weight, then every bias)."""
    names = _parameter_names(len(params.coefs))
    shapes = [c.shape for c in params.coefs] + [b.shape for b in params.intercepts]
    return [(*names_of_one, tuple(shape)) for names_of_one, shape in zip(names, shapes)]


def _offsets(layout):
    """Where each array of ``layout`` starts in the flat vector."""
    return np.cumsum([0, *(math.prod(shape) for *_, shape in layout[:-1])])


def _flat_indices(layout, chosen):
    """The checked entries of every array (``chosen``, per array), as indices into the flat
    vector."""
    return np.concatenate([o + i for o, i in zip(_offsets(layout), chosen)])


def _array_checks(layout, chosen, analytic, numerical, kinked, floor):
    """One :class:`ArrayCheck` per parameter array, in the layers' order: W1, b1, W2, b2, ...

    ``analytic`` is the whole flat gradient; ``numerical`` and ``kinked`` hold the checked
    entries, array after array, in the flat vector's order."""
    checks, start = {}, 0
    for (name, tutorial_name, shape), offset, indices in zip(layout, _offsets(layout), chosen):
        stop = start + indices.size
        a = analytic[offset + indices]
        n = numerical[start:stop]
        checks[name] = ArrayCheck(
            name, tutorial_name, shape, indices, a, n,
            _relative_errors(a, n, floor), kinked[start:stop],
        )  # fmt: skip
        start = stop
    n_layers = len(layout) // 2
    layer_order = [f"{kind}[{i}]" for i in range(n_layers) for kind in ("coefs_", "intercepts_")]
    return {name: checks[name] for name in layer_order}


def _sampling_notes(arrays):
    """A note saying how many entries of each array were checked, if not all of them."""
    if all(c.indices.size == math.prod(c.shape) for c in arrays.values()):
        return []
    counts = ", ".join(f"{c.indices.size}" for c in arrays.values())
    return [f"Sampled: {counts} entries of the arrays, drawn from random_state."]


def _has_kinks(spec) -> bool:
    """Whether the loss has kinks at all: a relu or leaky_relu hidden layer, the absolute
    error or quantile loss."""
    has_hidden_kinks = spec.hidden_activation in _KINKED_ACTIVATIONS and spec.n_layers > 1
    return has_hidden_kinks or spec.loss.name in _KINKED_LOSSES


def _where(problem) -> str:
    """Which parameters were checked, in words."""
    if problem.fitted:
        return "at its fitted parameters"
    return "at the parameters fit would start from"
