"""LayerMonitor: each layer's health after every epoch, as a scikit-learn callback.

A network that trains badly often shows it layer by layer before the loss says why: sigmoid
or tanh units pinned at their bounds (saturated, their gradient nearly zero), ReLU units
that output zero for every input (dead, they never learn again), gradients that shrink from
the output down to the first layer, or steps far too large or too small for the weights
they change (the update ratio, about 1e-3 in a healthy run, Karpathy's rule of thumb in
cs231n's "Babysitting the learning process").

The monitor watches a fixed set of rows, the probe, and after every epoch (L-BFGS
iteration) records one row per layer. It hears the epochs through the estimators' bridge to
scikit-learn's callbacks (:mod:`._callbacks`), which hands it the network an epoch started
from and the one it left; the rows reach the process that created the monitor over
scikit-learn's callback transport, as ``ScoringMonitor``'s scores do, so that it works in a
``GridSearchCV`` with ``n_jobs`` too.
"""

import dataclasses
import uuid

import numpy as np
from sklearn.callback._callback_context import get_context_path
from sklearn.callback._transport import can_reuse_listener, open_listener, send
from sklearn.utils._optional_dependencies import check_pandas_support
from sklearn.utils._param_validation import StrOptions, validate_params
from sklearn.utils.validation import validate_data

from ._base import BaseScratchMLP, _FitCall, _to_host
from .core import Backpropagation, Parameters, Workspace, forward

PROBE_SIZE = 256
"""The most training rows the monitor watches (drawn once per fit)."""

PROBE_SEED = 0
"""The seed the probe's rows are drawn with: the same rows for the same training data."""

SATURATION_MARGIN = 0.01
"""How close to a bound a unit's output counts as saturated (sigmoid, softmax: below 0.01
or above 0.99; tanh: beyond -0.99 or 0.99)."""


def _near_zero_or_one(a: np.ndarray) -> np.ndarray:
    return (a < SATURATION_MARGIN) | (a > 1 - SATURATION_MARGIN)


def _near_minus_one_or_one(a: np.ndarray) -> np.ndarray:
    return np.abs(a) > 1 - SATURATION_MARGIN


SATURATION = {
    "sigmoid": _near_zero_or_one,
    "softmax": _near_zero_or_one,
    "tanh": _near_minus_one_or_one,
}
"""The bounded activations, and which outputs count as at their bounds; the others (ReLU,
identity, ...) have no bounds to saturate at, and their ``saturated_fraction`` is NaN."""

DEAD_ZONES = frozenset({"relu"})
"""Activations that are exactly 0, with a zero gradient, on a half-line: a unit of these
that outputs 0 for every probe row learns nothing from them (dead). Elsewhere (leaky ReLU,
ELU, sigmoid...) a unit always passes some gradient, and ``dead_fraction`` is NaN."""

COLUMNS = (
    "epoch",
    "layer",
    "activation",
    "activation_mean",
    "activation_std",
    "saturated_fraction",
    "dead_fraction",
    "weight_norm",
    "gradient_std",
    "update_ratio",
)
"""The monitor's own columns, after the task columns ``task_id_path`` and
``parent_task_id_path``."""


@dataclasses.dataclass
class LayerMonitorLog:
    """What a :class:`LayerMonitor` recorded during one run.

    A run is one call to the outermost ``fit``: the network's own, or that of the
    meta-estimator (``GridSearchCV``) that fits it, then once per fitted network.

    Attributes
    ----------
    run_id : uuid.UUID
        The run's identifier.
    estimator_name : str
        The name of the outermost estimator of the run.
    timestamp : str
        When the run started (UTC).
    data : list of dict
        One dict per epoch and layer (see :class:`LayerMonitor` for the columns), sorted
        by fit, epoch and layer.
    """

    run_id: uuid.UUID
    estimator_name: str
    timestamp: str
    data: list

    @property
    def data_as_pandas(self):
        """``data`` as a pandas DataFrame (pandas is needed)."""
        pd = check_pandas_support("LayerMonitorLog.data_as_pandas")
        return pd.DataFrame(self.data, columns=["task_id_path", "parent_task_id_path", *COLUMNS])

    def __repr__(self) -> str:
        return (
            f"LayerMonitorLog(run_id={self.run_id}, estimator_name={self.estimator_name}, "
            f"timestamp={self.timestamp}, rows={len(self.data)})"
        )


_CONTINUING = _FitCall("partial_fit", reset=False, epochs=1, chunk=True)


@dataclasses.dataclass
class _Probe:
    """The rows one fit is watched on: ``X`` for the activations, and training rows with
    their encoded targets for the gradient (which needs targets)."""

    X: object
    X_train: object
    Y_train: np.ndarray

    @classmethod
    def draw(cls, estimator, X, y, given=None) -> "_Probe":
        """At most :data:`PROBE_SIZE` rows of the training data ``X, y`` (as the bridge
        hands them to the callbacks), drawn with :data:`PROBE_SEED`; ``given``, the
        monitor's own ``X``, replaces them for the activations."""
        X, y = _to_host(X), _to_host(y)
        n_samples = X.shape[0]
        rows = np.arange(n_samples)
        if n_samples > PROBE_SIZE:
            rng = np.random.RandomState(PROBE_SEED)
            rows = np.sort(rng.choice(n_samples, PROBE_SIZE, replace=False))
        # encoded as a chunk of the network being fitted: with the classes it knows, and
        # nothing set on the estimator
        Y = estimator._encode_y(np.asarray(y), _CONTINUING)
        X_train = X[rows]
        if given is None:
            return cls(X_train, X_train, Y[rows])
        given = validate_data(estimator, given, accept_sparse=["csr"], dtype=X.dtype, reset=False)
        return cls(given, X_train, Y[rows])


def _host_arrays(arrays) -> list:
    return [np.asarray(_to_host(a)) for a in arrays]


def _activations(params, spec, X) -> list:
    """Every layer's output for the rows of ``X``, hidden layers first, in one pass."""
    n_rows = X.shape[0]
    workspace = Workspace(spec.layer_sizes, n_rows, params.flat.dtype, with_deltas=False)
    batch = workspace.batch(spec.hidden_activation, n_rows)
    forward(params, spec, X, batch)
    return batch.activations


def _weight_gradients(params, spec, X, Y) -> list:
    """The gradient of the loss (its L2 term included) over the rows ``X, Y``, unweighted,
    with respect to each layer's weights."""
    backprop = Backpropagation(params, spec, X.shape[0])
    backprop.loss_and_gradient(X, Y)
    return backprop.grads.coefs


def _saturated_fraction(activation: str, a: np.ndarray) -> float:
    at_bound = SATURATION.get(activation)
    return np.nan if at_bound is None else float(np.mean(at_bound(a)))


def _dead_fraction(activation: str, a: np.ndarray) -> float:
    if activation not in DEAD_ZONES:
        return np.nan
    return float(np.mean(np.all(a == 0, axis=0)))


def _update_ratio(before, after) -> float:
    """``log10(std(after - before) / std(before))``; NaN when ``before`` is unknown."""
    if before is None:
        return np.nan
    with np.errstate(divide="ignore", invalid="ignore"):
        return float(np.log10(np.std(after - before) / np.std(before)))


def layer_rows(estimator, coefs, intercepts, probe, coefs_before=None) -> list:
    """The monitor's statistics of the network ``coefs, intercepts`` of ``estimator``, one
    dict per layer (see :class:`LayerMonitor`), without the task columns.

    The network is evaluated on the host, in its own dtype, as it predicts: without
    dropout. ``coefs_before`` are the weights the epoch started from, or None.
    """
    params = Parameters.from_arrays(_host_arrays(coefs), _host_arrays(intercepts))
    spec = dataclasses.replace(estimator._network_spec(params.layer_sizes), dropout=0.0)
    dtype = params.flat.dtype
    X = probe.X.astype(dtype, copy=False)
    X_train = probe.X_train.astype(dtype, copy=False)
    with np.errstate(over="ignore", under="ignore"):
        activations = _activations(params, spec, X)
        gradients = _weight_gradients(params, spec, X_train, probe.Y_train.astype(dtype))
    names = [spec.hidden_activation] * (spec.n_layers - 1) + [spec.output_activation]
    before = [None] * spec.n_layers if coefs_before is None else coefs_before
    rows = []
    for layer, (name, a, W, gradient, W_before) in enumerate(
        zip(names, activations, params.coefs, gradients, before)
    ):
        rows.append(
            {
                "layer": layer,
                "activation": name,
                "activation_mean": float(np.mean(a, dtype=np.float64)),
                "activation_std": float(np.std(a, dtype=np.float64)),
                "saturated_fraction": _saturated_fraction(name, a),
                "dead_fraction": _dead_fraction(name, a),
                "weight_norm": float(np.linalg.norm(W)),
                "gradient_std": float(np.std(gradient, dtype=np.float64)),
                "update_ratio": _update_ratio(W_before, W),
            }
        )
    return rows


class LayerMonitor:
    """Callback that records each layer's health after every epoch of a network's fit.

    Set it with ``set_callbacks`` on a :class:`~sknn_scratch.ScratchMLPClassifier` or
    :class:`~sknn_scratch.ScratchMLPRegressor` (also inside a ``GridSearchCV``, with any
    ``n_jobs``). After every epoch (every L-BFGS iteration) it evaluates the network on a
    fixed set of rows, the probe, and records one row per layer, hidden layers and output
    layer; :meth:`get_logs` returns them. Without a monitor, nothing of this is computed.

    Parameters
    ----------
    X : {array-like, sparse matrix} of shape (n_probe, n_features), default=None
        The rows the activations are measured on. When None, the probe is at most
        :data:`PROBE_SIZE` (256) rows of the training data, drawn once per fit with a fixed
        seed (:data:`PROBE_SEED`). The gradient needs targets: it is always measured on
        those training rows.

    Notes
    -----
    Each row of the logs has the task columns ``task_id_path`` (the epoch's place in the
    task tree) and ``parent_task_id_path`` (its fit: rows of one fit share it), then

    - ``epoch``: the epoch (L-BFGS iteration) of the fit call, from 1;
    - ``layer``: the layer, from 0, as it indexes ``coefs_``: its weights are
      ``coefs_[layer]``; the last is the output layer;
    - ``activation``: the layer's activation (the output layer's is the loss's link);
    - ``activation_mean``, ``activation_std``: of the layer's outputs, over the probe rows
      and the units;
    - ``saturated_fraction``: the fraction of outputs at a bound, for bounded activations
      (below 0.01 or above 0.99 for sigmoid and softmax, beyond ±0.99 for tanh); NaN for
      the others, which have no bound to saturate at;
    - ``dead_fraction``: for ReLU layers, the fraction of units whose output is 0 for
      every probe row; NaN for other activations, whose units always pass some gradient;
    - ``weight_norm``: the Frobenius norm of ``coefs_[layer]`` (biases excluded);
    - ``gradient_std``: the standard deviation of the gradient of the training loss (L2
      term included, sample weights and dropout left out) with respect to
      ``coefs_[layer]``, over the training rows of the probe;
    - ``update_ratio``: ``log10(std(W_after - W_before) / std(W_before))`` for the layer's
      weights ``W`` before and after the epoch: about -3 in a healthy run; much lower, the
      layer barely learns; near 0 or above, steps as large as the weights.

    The statistics are those of the network as it predicts (no dropout), computed on the
    host in the network's dtype.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sknn_scratch import LayerMonitor, ScratchMLPClassifier
    >>> X, y = load_iris(return_X_y=True)
    >>> monitor = LayerMonitor()
    >>> clf = ScratchMLPClassifier(hidden_size=(8, 8), activation="relu", epochs=300,
    ...                            random_state=0).set_callbacks(monitor).fit(X, y)
    >>> logs = monitor.get_logs().data_as_pandas
    >>> len(logs) == clf.n_iter_ * 3  # epochs x layers
    True
    >>> last_epoch = logs[logs["epoch"] == clf.n_iter_]
    >>> columns = ["layer", "activation", "dead_fraction", "update_ratio"]
    >>> print(last_epoch[columns].round(1).to_string(index=False))
     layer activation  dead_fraction  update_ratio
         0       relu            0.2          -3.0
         1       relu            0.2          -3.0
         2    softmax            NaN          -2.6
    """

    def __init__(self, X=None):
        self.X = X
        self._log = []
        self._fits = {}  # the root context of a fit in progress -> its _Probe
        self._starts = {}  # the context of an epoch in progress -> its starting weights
        # opened eagerly, as ScoringMonitor's: a copy pickled to a worker sends it its rows
        self._listener_handle = open_listener(self._log.append, owner=self)

    def setup(self, estimator, context) -> None:
        if not isinstance(estimator, BaseScratchMLP):
            raise TypeError(
                f"LayerMonitor watches the layers of ScratchMLPClassifier and "
                f"ScratchMLPRegressor, not {type(estimator).__name__}. Set it on the network "
                "itself (set_callbacks), also when a meta-estimator fits it."
            )

    def teardown(self, estimator, context) -> None:
        self._fits.pop(context, None)

    def on_fit_task_begin(self, estimator, context, *, X=None, y=None, fitted_estimator=None):
        if context.task_name != "epoch":  # the fit itself: draw its probe
            self._fits[context] = _Probe.draw(estimator, X, y, self.X)
            return
        start = None if fitted_estimator is None else _host_arrays(fitted_estimator.coefs_)
        self._starts[context] = start

    def on_fit_task_end(self, estimator, context, *, fitted_estimator=None) -> bool:
        if context.task_name != "epoch":
            self._fits.pop(context, None)
            return False
        start = self._starts.pop(context, None)
        if fitted_estimator is None:  # an epoch opened and never run (L-BFGS, an error)
            return False
        probe = self._fits[context.parent]
        rows = layer_rows(
            fitted_estimator,
            fitted_estimator.coefs_,
            fitted_estimator.intercepts_,
            probe,
            start,
        )
        path = get_context_path(context)
        task_id_path = tuple(ctx.task_id for ctx in path)
        task = {
            "task_id_path": task_id_path,
            "parent_task_id_path": task_id_path[:-1],
            "epoch": context.task_id + 1,
        }
        run = {
            "timestamp": path[0].init_time.strftime("UTC%Y-%m-%d-%H:%M:%S.%f"),
            "estimator_name": path[0].estimator_name,
        }
        send(self._listener_handle, (path[0].root_uuid, run, [task | row for row in rows]))
        return False

    def __getstate__(self):
        # the log is grown by the listener's thread: never pickle the live list; a fit in
        # progress is not carried over
        return {**self.__dict__, "_log": list(self._log), "_fits": {}, "_starts": {}}

    def __setstate__(self, state):
        self.__dict__.update(state)
        if not can_reuse_listener(self._listener_handle):
            self._listener_handle = open_listener(self._log.append, owner=self)

    @validate_params(
        {"select": [StrOptions({"all", "most_recent"})]}, prefer_skip_nested_validation=True
    )
    def get_logs(self, select: str = "most_recent") -> "LayerMonitorLog | list":
        """The recorded rows, grouped by run.

        Parameters
        ----------
        select : {"most_recent", "all"}, default="most_recent"
            The most recent run's log, or a list of every run's, oldest first.

        Returns
        -------
        logs : LayerMonitorLog or list of LayerMonitorLog
            Each with ``data`` (a list of dicts, one per epoch and layer) and
            ``data_as_pandas`` (the same as a DataFrame).
        """
        if not self._log:
            raise ValueError(
                "No logs to retrieve: the monitor has seen no epoch yet. Fit an estimator "
                "whose callbacks include it."
            )
        runs = {}
        for run_id, run, rows in list(self._log):
            runs.setdefault(run_id, {"run_id": run_id, **run, "data": []})["data"] += rows
        logs = []
        for run in runs.values():
            run["data"].sort(key=lambda row: (row["task_id_path"], row["layer"]))
            logs.append(LayerMonitorLog(**run))
        logs.sort(key=lambda log: (log.timestamp, log.estimator_name))
        return logs[-1] if select == "most_recent" else logs
