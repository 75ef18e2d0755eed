"""What ``fit`` or ``partial_fit`` would train on, built for a look inside the network.

:func:`check_gradients <sknn_scratch.check_gradients>` and :func:`trace_step
<sknn_scratch.trace_step>` read the data, build the network and its loss exactly as ``fit``
does (an unfitted estimator) or ``partial_fit`` does (a fitted one), with the estimator's own
helpers, on a deep copy of it: the estimator itself is never changed. Both then run the
core's :class:`~.core.Backpropagation`, keeping every hidden layer's ``z`` to look at.
"""

import copy
import dataclasses

import numpy as np
from sklearn import config_context

from ._base import BaseScratchMLP, _FitCall, _to_host
from .core import NUMPY, Backpropagation, Batch, NetworkSpec, Parameters


@dataclasses.dataclass
class _Problem:
    """What ``fit`` would train on, built by the estimator's own helpers on a copy of it."""

    model: BaseScratchMLP  # the working copy (its validation and encoding set attributes)
    call: _FitCall
    X: object
    Y: np.ndarray
    sample_weight: np.ndarray | None
    spec: NetworkSpec
    params: Parameters  # the starting parameters (unfitted) or the fitted ones
    rng: np.random.RandomState  # the estimator's random state, past the initial draws
    fitted: bool


def _build_problem(estimator, X, y, sample_weight) -> _Problem:
    """Validate, encode and build as ``fit`` (unfitted) or ``partial_fit`` (fitted) would,
    on a deep copy of ``estimator``, with NumPy."""
    model = _working_copy(estimator)
    fitted = hasattr(model, "coefs_")
    call = _continuing_call(model) if fitted else _FitCall.fit(model)
    with config_context(array_api_dispatch=False):
        X, _, data, weight_scale = model._prepare_data(
            _to_host(X), _to_host(y), _to_host(sample_weight), call, NUMPY
        )
    spec, rng, params = model._starting_network(X, data, weight_scale, call, NUMPY)
    Y = data.targets_in(params.flat.dtype, NUMPY)  # a classifier's are kept compact in a fit
    return _Problem(model, call, data.X, Y, data.sample_weight, spec, params, rng, fitted)


def _working_copy(estimator) -> BaseScratchMLP:
    """A deep copy of ``estimator``, its parameters validated; a network fitted in another
    array library is brought to the host, to be inspected with NumPy."""
    if not isinstance(estimator, BaseScratchMLP):
        raise TypeError(
            "Expected a ScratchMLPClassifier or ScratchMLPRegressor, got "
            f"{type(estimator).__name__}."
        )
    model = copy.deepcopy(estimator)
    model._validate_params()
    if hasattr(model, "coefs_"):
        model.coefs_ = [NUMPY.asarray(c) for c in model.coefs_]
        model.intercepts_ = [NUMPY.asarray(b) for b in model.intercepts_]
    return model


def _continuing_call(model) -> _FitCall:
    """How a fitted network reads ``(X, y)``: as ``partial_fit`` does (``y`` may hold some of
    the classes only), or, with ``class_weight="balanced"``, which needs the frequency of
    every class, as a warm-started ``fit`` does."""
    if getattr(model, "class_weight", None) == "balanced":
        return _FitCall("fit", reset=False, epochs=model.epochs)
    return _FitCall.partial_fit(model)


def _inspecting_backpropagation(params, spec, n_rows, rng=None) -> Backpropagation:
    """The core's :class:`~.core.Backpropagation`, keeping every hidden layer's ``z``.

    The core keeps ``z`` only for the activations whose derivative needs it; here it is kept
    for every activation, to be shown (``trace_step``) or to see a relu unit cross its kink
    (``check_gradients``). What the network computes does not change.
    """
    return Backpropagation(params, spec, n_rows, rng, keep_pre_activations=True)


def _filled_batch(backprop, n_rows) -> Batch:
    """The :class:`~.core.Batch` of ``n_rows`` rows that ``backprop`` last filled.

    With NumPy a batch's arrays are its workspace's buffers, filled in place (see
    :class:`~.core.Batch`): the workspace hands the same buffers out again, holding the
    last pass's numbers.
    """
    return backprop.workspace.batch(backprop.spec.hidden_activation, n_rows)


def _estimator_name(estimator) -> str:
    """The estimator's repr on one line, its changed parameters only (scikit-learn's)."""
    return " ".join(repr(estimator).split())
