"""What the classifier and the regressor share: parameters, validation and the fit plumbing.

The data path reads in one direction::

    fit -> validate and encode (sklearn utilities) -> build spec, loss, optimizer
        -> core training loop -> fitted attributes

Everything numerical happens in :mod:`sknn_scratch.core`; this module only translates
between scikit-learn's conventions and the core's. The array library follows ``X``: with
``sklearn.set_config(array_api_dispatch=True)``, torch, CuPy or ``array_api_strict`` input
trains in that library, on its device, and the targets and weights are moved there.
"""

import contextvars
import dataclasses
import functools
import math
import warnings
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from numpy.typing import ArrayLike
from sklearn import config_context
from sklearn.base import BaseEstimator, ClassNamePrefixFeaturesOutMixin, TransformerMixin
from sklearn.callback import CallbackSupportMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state
from sklearn.utils._array_api import (
    _is_numpy_namespace,
    check_same_namespace,
    get_namespace,
    get_namespace_and_device,
)
from sklearn.utils._param_validation import Interval, Options, StrOptions
from sklearn.utils.validation import (
    _check_sample_weight,
    check_is_fitted,
    column_or_1d,
    validate_data,
)

from ._callbacks import EpochCallbacks
from ._to_sklearn import to_sklearn_mlp
from .core import (
    Ending,
    EpochPlan,
    LearningRateSchedule,
    NetworkSpec,
    NoImprovement,
    Optimizer,
    Parameters,
    PrintEpochs,
    TrainingData,
    TrainingDivergedError,
    TrainingHistory,
    Validation,
    initialize_parameters,
    make_optimizer,
    predict,
    train_lbfgs,
    train_stochastic,
)
from .core.activations import HIDDEN_ACTIVATIONS
from .core.kernels import NUMPY, kernels_for, to_numpy


def _hidden_layer_sizes(hidden_size) -> tuple:
    """``hidden_size`` as a tuple of positive ints (an int is one hidden layer)."""
    sizes = (hidden_size,) if isinstance(hidden_size, Integral) else tuple(hidden_size)
    if not all(isinstance(n, Integral) and n > 0 for n in sizes):
        raise ValueError(
            "hidden_size must be a positive int or a tuple of positive ints (one per hidden "
            f"layer), got {hidden_size!r}."
        )
    return tuple(int(n) for n in sizes)


def _ended_above_best(curve, tol) -> bool:
    """Whether a loss curve's last value is above its best by more than ``tol``."""
    return len(curve) > 1 and curve[-1] > min(curve) + tol


def _exponent_of_two_near(mean_weight) -> int:
    """0 for a mean sample weight within 2**±60 of 1, else ``k`` with ``2**k`` nearest to it."""
    if 2.0**-60 <= mean_weight <= 2.0**60:
        return 0
    return min(round(math.log2(mean_weight)), 1023)


def _kernels_of(X):
    """The array library (and device) of ``X``, as the core's kernels.

    NumPy arrays, sparse matrices and anything else that is not an Array API array (lists,
    DataFrames) train with NumPy; so does every input while scikit-learn's
    ``array_api_dispatch`` is off.
    """
    xp, _, device = get_namespace_and_device(X)
    if "sparse" in str(getattr(X, "layout", "")).lower():  # torch's sparse layouts
        raise ValueError(
            f"X is a sparse {type(X).__name__} ({X.layout}): sparse input trains with NumPy "
            "only. Pass a scipy.sparse matrix, or a dense array (e.g. X.to_dense())."
        )
    return kernels_for(xp, device, is_numpy=_is_numpy_namespace(xp))


def _is_complex(values) -> bool:
    """Whether ``values`` hold complex numbers: an array of any library, a DataFrame or a list."""
    if values is None:
        return False
    dtype = getattr(values, "dtype", None)
    if dtype is None and hasattr(values, "dtypes"):  # a DataFrame: one dtype per column
        return any(np.dtype(d).kind == "c" for d in values.dtypes if isinstance(d, np.dtype))
    if dtype is None:  # a list, or another array-like without a dtype
        try:
            return np.iscomplexobj(np.asarray(values))
        except (TypeError, ValueError):
            return False  # ragged or odd input: scikit-learn's validation says what is wrong
    if isinstance(dtype, np.dtype):
        return dtype.kind == "c"
    return "complex" in str(dtype).lower()  # torch.complex64, and other libraries' dtypes


def _refuse_complex(**inputs) -> None:
    """Refuse complex input, from any array library, with one message.

    scikit-learn refuses complex NumPy arrays (its message begins the same way), but another
    library's complex tensor would be cast to a real dtype, its imaginary part dropped with at
    most a warning.
    """
    for name, values in inputs.items():
        if _is_complex(values):
            raise ValueError(
                f"Complex data not supported: {name} holds complex numbers "
                f"({getattr(values, 'dtype', 'complex')}), which a network of real weights "
                "cannot take. Pass their real part "
                f"({name}.real) or their magnitude (abs({name}))"
                + (", or both as separate features." if name == "X" else ".")
            )


def _library_of(array) -> str:
    """The array library of ``array`` as a user names it ("numpy", "torch"...), with its
    device when it is not NumPy."""
    if isinstance(array, np.ndarray) or sp.issparse(array):
        return "numpy"
    library = type(array).__module__.split(".")[0]
    device = getattr(array, "device", None)
    return library if device is None else f"{library} (device {device})"


_PENDING_WARNINGS = contextvars.ContextVar("sknn_scratch_pending_warnings", default=None)


def _warn(message, category) -> None:
    """Warn about the public call running now: the warning is raised from that method (see
    :func:`_all_or_nothing`), so that it points at the user's line whatever the depth of
    the helper that noticed it."""
    pending = _PENDING_WARNINGS.get()
    if pending is None:
        warnings.warn(message, category, stacklevel=2)
    else:
        pending.append((message, category))


def _all_or_nothing(method):
    """Run a public fitting method so that a failed call leaves the estimator as it was.

    It wraps scikit-learn's fit context, so that an exception raised anywhere in the call
    (validation, training, a callback at any hook, the callbacks' teardown) reaches the
    caller unchanged, with the estimator's state put back. The one exception is a training
    run that diverges in ``fit`` (or in the first ``partial_fit``): the estimator then holds
    the new network as it was at the start of the failing epoch (see
    :class:`TrainingDivergedError`). A divergence in a later ``partial_fit`` leaves the
    estimator, optimizer state included, as before the call.
    """

    @functools.wraps(method)
    def call(self, *args, **kwargs):
        before = self.__dict__.copy()
        continuing = method.__name__ == "partial_fit" and hasattr(self, "coefs_")
        token = _PENDING_WARNINGS.set([])
        try:
            return method(self, *args, **kwargs)
        except TrainingDivergedError:
            if continuing:
                self._restore(before)
            raise
        except BaseException:
            self._restore(before)
            raise
        finally:
            pending = _PENDING_WARNINGS.get()
            _PENDING_WARNINGS.reset(token)
            for message, category in pending:  # raised here: they point at the user's call
                warnings.warn(message, category, stacklevel=2)

    return call


def outputs_namespace(outputs):
    """The Array API namespace of the network's ``outputs`` (NumPy's, for NumPy arrays)."""
    return get_namespace(outputs)[0]


def _to_host(array):
    """``array`` as a NumPy array when it is another library's (torch, CuPy...); as it is
    otherwise (lists, DataFrames, sparse matrices and NumPy arrays)."""
    if array is None or isinstance(array, np.ndarray) or sp.issparse(array):
        return array
    if not hasattr(array, "__dlpack__") or type(array).__module__.startswith("pandas"):
        return array
    return to_numpy(array, get_namespace(array)[0])


def _labels_for(y, kernels):
    """Host labels or targets ``y`` in the kernels' library and device (for the callbacks,
    and the classifier's ``predict``); labels that are not numbers stay a NumPy array."""
    return y if y.dtype.kind not in "biuf" else kernels.from_host(y)


def _kernels_holding(array):
    """The kernels of the library ``array`` lives in, whatever the dispatch setting (a
    network fitted in torch stays in torch when dispatch is switched off)."""
    if isinstance(array, np.ndarray):
        return NUMPY
    with config_context(array_api_dispatch=True):
        return _kernels_of(array)


@dataclasses.dataclass(frozen=True)
class _FitCall:
    """What one public call asks of training, decided once, where the call is known.

    ``fit`` runs up to ``epochs`` epochs over the data: a new network unless ``warm_start``
    continues the fitted one (``reset`` is False then), with a fresh optimizer and its own
    learning-rate schedule. ``partial_fit`` runs one epoch over a ``chunk`` of a stream: it
    continues the network, the optimizer's state and one schedule that all its calls share;
    a chunk may hold some of the classes only (the first call names them all, ``classes``),
    its class frequencies are not the data's, and running out of its one epoch says nothing
    about convergence.
    """

    method: str
    reset: bool
    epochs: int
    chunk: bool = False
    classes: object = None

    @classmethod
    def fit(cls, estimator) -> "_FitCall":
        fitted = hasattr(estimator, "coefs_")
        return cls("fit", not (fitted and estimator.warm_start), estimator.epochs)

    @classmethod
    def partial_fit(cls, estimator, classes=None) -> "_FitCall":
        reset = not hasattr(estimator, "coefs_")
        return cls("partial_fit", reset, epochs=1, chunk=True, classes=classes)


@dataclasses.dataclass
class _Run:
    """What one call trains: the network (``params``, ``spec``), the encoded data and the
    host labels or targets ``y`` (for the early-stopping split), the history it extends,
    the random state and the optimizer (None for L-BFGS)."""

    params: Parameters
    spec: NetworkSpec
    data: TrainingData
    y: object
    history: TrainingHistory
    rng: object
    optimizer: object


class TrainingDivergedWarning(ConvergenceWarning):
    """Training diverged, and early stopping kept the best validated parameters instead.

    A :class:`~sklearn.exceptions.ConvergenceWarning`: the fit returned a usable model, but
    it stopped because the run blew up, not because it converged.
    """


class BaseScratchMLP(
    CallbackSupportMixin, ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator
):
    """Base class of :class:`ScratchMLPClassifier` and :class:`ScratchMLPRegressor`.

    Not meant to be used directly. Subclasses provide ``__init__`` (scikit-learn reads the
    parameter names from its signature, so each estimator spells out its own), the target
    encoding (``_encode_y``), the loss with its output link (``_get_loss``) and the validation
    score (``_score_outputs``).
    """

    _numeric_target = False

    _parameter_constraints: dict = {
        "hidden_size": ["array-like", Interval(Integral, 1, None, closed="left")],
        "activation": [StrOptions(set(HIDDEN_ACTIVATIONS))],
        "solver": [StrOptions({"sgd", "adam", "lbfgs"})],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "batch_size": [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left"), None],
        "learning_rate": [Interval(Real, 0, None, closed="neither")],
        "learning_rate_schedule": [StrOptions({"constant", "invscaling", "adaptive", "cosine"})],
        "warmup_epochs": [Interval(Integral, 0, None, closed="left")],
        "max_grad_norm": [Interval(Real, 0, None, closed="neither"), None],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "power_t": [Interval(Real, 0, None, closed="left")],
        "epochs": [Interval(Integral, 1, None, closed="left")],
        "shuffle": ["boolean"],
        "random_state": ["random_state"],
        "tol": [Interval(Real, 0, None, closed="left")],
        "verbose": ["verbose"],
        "warm_start": ["boolean"],
        "momentum": [Interval(Real, 0, 1, closed="both")],
        "nesterovs_momentum": ["boolean"],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "beta_1": [Interval(Real, 0, 1, closed="left")],
        "beta_2": [Interval(Real, 0, 1, closed="left")],
        "epsilon": [Interval(Real, 0, None, closed="neither")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left"), Options(Real, {np.inf})],
        "max_fun": [Interval(Integral, 1, None, closed="left")],
        "init": [StrOptions({"glorot", "normal", "he"})],
    }

    # ------------------------------------------------------------------ hooks for subclasses

    def _encode_y(self, y, call):
        """Validate ``y`` and return it as a 2-D float array of network targets."""
        raise NotImplementedError

    def _get_loss(self):
        """The loss object (:mod:`.core.losses`), which owns the output layer's activation."""
        raise NotImplementedError

    def _target_dtype(self, X_dtype, kernels):
        """The dtype the encoded targets are kept in during a fit: the network's."""
        return kernels.host_dtype(X_dtype)

    def _score_outputs(self, y_true, outputs, sample_weight) -> float:
        """Accuracy or R² of the network's ``outputs`` (for early stopping)."""
        raise NotImplementedError

    def _extra_sample_weight(self, y, call):
        """Per-sample weights implied by other parameters (``class_weight``), or None."""
        return None

    def _stratify(self, y):
        """Labels to stratify the early-stopping split by, or None."""
        return None

    # ------------------------------------------------------------------ fitting

    def _validate_X_y(self, X, y, reset, kernels):
        """``X`` in its library and float dtype; ``y`` on the host, where it is encoded."""
        _refuse_complex(X=X, y=y)
        X, y = validate_data(
            self,
            X,
            _to_host(y),
            accept_sparse=["csr", "csc"],
            dtype=kernels.float_dtypes(),
            multi_output=True,
            y_numeric=self._numeric_target,
            reset=reset,
        )
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)  # one target (or label) per sample, as a vector
        return (X.tocsr() if sp.issparse(X) else X), y

    def _combined_sample_weight(self, X, y, sample_weight, call, kernels):
        """``sample_weight`` times any class weights, and the power of two they were divided by.

        None (and 1) when every weight is one. Weights whose total is far outside float range
        are divided by a power of two, which is exact: the loss is their weighted mean and the
        L2 term is ``alpha / total``, so dividing ``alpha`` by the same number (see
        ``_network_spec``) leaves the model and its loss unchanged.
        """
        _refuse_complex(sample_weight=sample_weight)
        extra = self._extra_sample_weight(y, call)
        if sample_weight is None and extra is None:
            return None, 1.0
        # weights are combined on the host, with the labels; the rows of X stand in for X
        dtype = kernels.host_dtype(X.dtype).type
        host_rows = np.empty((X.shape[0], 0), dtype=dtype)
        sample_weight = _check_sample_weight(
            _to_host(sample_weight), host_rows, dtype=dtype, ensure_non_negative=True, copy=True
        )
        if extra is not None:
            sample_weight *= extra
        with np.errstate(over="ignore"):
            total = float(sample_weight.sum(dtype=np.float64))
        if not np.isfinite(total):
            raise ValueError(
                f"The sample weights sum to {total} in {dtype.__name__}: the loss is their "
                "weighted mean and cannot be computed. Divide sample_weight (or class_weight) by "
                "a constant; only their ratios matter, apart from alpha's scale."
            )
        if total == 0:
            raise ValueError(
                "Every sample has weight zero (sample_weight times class_weight): there is "
                "nothing to fit."
            )
        exponent = _exponent_of_two_near(total / len(sample_weight))
        if exponent:
            np.ldexp(sample_weight, -exponent, out=sample_weight)  # divides by 2**exponent
        return sample_weight, 2.0**exponent

    def _batch_size(self, n_samples) -> int:
        if self.batch_size is None:
            return n_samples
        if self.batch_size == "auto":
            return min(200, n_samples)
        if self.batch_size > n_samples:
            _warn(
                f"batch_size={self.batch_size} is larger than the number of samples "
                f"({n_samples}); it is clipped to {n_samples}.",
                UserWarning,
            )
        return min(self.batch_size, n_samples)

    def _network_spec(self, layer_sizes, weight_scale=1.0) -> NetworkSpec:
        return NetworkSpec(
            layer_sizes=tuple(layer_sizes),
            hidden_activation=self.activation,
            loss=self._get_loss(),
            alpha=float(self.alpha) / weight_scale,
            dropout=float(self.dropout),
        )

    def _starting_network(self, X, data, weight_scale, call, kernels):
        """``(spec, rng, params)``: the network a call starts from (new, or the fitted one
        continued) and the random state, past the initial weights' draws."""
        hidden = _hidden_layer_sizes(self.hidden_size)
        spec = self._network_spec((X.shape[1], *hidden, data.Y.shape[1]), weight_scale)
        rng = check_random_state(self.random_state)
        params = self._starting_parameters(spec, call.reset, rng, X.dtype, kernels)
        return spec, rng, params

    def _starting_parameters(self, spec, reset, rng, dtype, kernels) -> Parameters:
        if reset:
            params = initialize_parameters(
                spec.layer_sizes, self.init, rng, self.activation, kernels.host_dtype(dtype)
            )
            # drawn on the host, so that every array library starts from the same weights
            return Parameters.from_arrays(params.coefs, params.intercepts, dtype, kernels)
        params = Parameters.from_arrays(self.coefs_, self.intercepts_, dtype, kernels)
        if params.layer_sizes != spec.layer_sizes:
            raise ValueError(
                f"The fitted network has layer sizes {params.layer_sizes}, but the current "
                f"parameters and data give {spec.layer_sizes}. warm_start and partial_fit "
                "continue training the same network: keep hidden_size and the number of "
                "features and outputs, or set warm_start=False."
            )
        return params

    def _restore(self, state):
        """Put back the attributes a failed call started from (see :func:`_all_or_nothing`)."""
        self.__dict__.clear()
        self.__dict__.update(state)

    def _fit(self, X, y, sample_weight, call: _FitCall):
        """Train as ``call`` asks; the public methods wrap it in :func:`_all_or_nothing`,
        which puts the estimator back when it raises."""
        self._check_call(call)
        kernels = _kernels_of(X)
        if not call.reset:
            self._check_continues_in_its_library(X, kernels, call.method)
        X, y, data, weight_scale = self._prepare_data(X, y, sample_weight, call, kernels)
        spec, rng, params = self._starting_network(X, data, weight_scale, call, kernels)
        history = TrainingHistory() if call.reset else self._history.copy()
        history.call_start = history.n_iter
        history.validated = self.early_stopping and self.solver != "lbfgs"
        optimizer = None if self.solver == "lbfgs" else self._optimizer_for(params, call)
        run = _Run(params, spec, data, y, history, rng, optimizer)
        max_epochs = call.epochs + (self.solver == "lbfgs")  # L-BFGS opens one more sub-task
        labels = _labels_for(y, kernels)
        callbacks = EpochCallbacks.for_fit(self, X, labels, max_epochs, params=params)
        ending = divergence = None
        try:
            ending = self._train(run, call, [] if callbacks is None else [callbacks])
        except TrainingDivergedError as error:
            divergence = error
        except BaseException:
            if callbacks is not None:
                callbacks.close_after_error()
            raise
        # After a divergence the core has put back finite parameters and the optimizer's
        # matching state: they are kept with the curves so far, to inspect or continue.
        self._set_fitted_attributes(params, spec, history, optimizer)
        if callbacks is not None:
            callbacks.close(self if divergence is None or divergence.recovered else None)
        self._report(ending, divergence, history, call)
        return self

    def _check_call(self, call):
        """Refuse what the parameters cannot do in this call, before anything changes."""
        if call.chunk:
            # scikit-learn validates the parameters only on the first partial_fit; a
            # set_params between calls must not slip through (it costs microseconds)
            self._validate_params()
        if self.solver == "lbfgs" and self.dropout > 0:
            raise ValueError(
                f"dropout={self.dropout} needs a stochastic solver: L-BFGS-B minimises one "
                "fixed function, and dropout draws new masks for every batch. Use "
                "solver='adam' or 'sgd', or dropout=0."
            )
        if call.chunk and self.early_stopping:
            raise ValueError(
                "partial_fit does not support early_stopping=True: there is no held-out set "
                "to stop on. Use fit, or set early_stopping=False."
            )

    def _train(self, run, call, hooks) -> Ending:
        """Run the core's training loop on ``run``; why it ended."""
        if self.solver == "lbfgs":
            return train_lbfgs(
                run.params, run.spec, run.data, run.history,
                max_iter=self.epochs, max_fun=self.max_fun, tol=self.tol,
                verbose=self.verbose, hooks=hooks,
            )  # fmt: skip
        data, validation = run.data, None
        if self.early_stopping:
            data, validation = self._split_validation(data, run.y, run.rng, run.params.kernels)
        plan = self._epoch_plan(data.n_samples, run.rng, run.history, call)
        hooks = ([PrintEpochs()] if self.verbose else []) + hooks
        return train_stochastic(
            run.params, run.spec, data, run.optimizer, run.history, plan, validation, hooks
        )

    def _report(self, ending, divergence, history, call):
        """Raise a divergence that kept no validated model; warn about the others, about an
        interrupted run, and about a fit that ran out of epochs before converging."""
        if divergence is not None:
            if not divergence.recovered:
                raise divergence
            _warn(str(divergence), TrainingDivergedWarning)
        elif ending is Ending.INTERRUPTED:  # it did not run out of epochs: no other warning
            _warn(
                f"Training interrupted by the user during epoch {history.n_iter + 1}; the "
                "parameters reached so far are kept.",
                UserWarning,
            )
        elif ending is Ending.RAN_OUT and not call.chunk:
            self._warn_not_converged(history)

    def _check_continues_in_its_library(self, X, kernels, method):
        """Training continues in the array library (and on the device) the network lives in.

        A warm-started ``fit`` or a ``partial_fit`` updates the fitted weights (and the
        optimizer's state) in place; data of another library cannot, so it is refused, as
        ``predict`` refuses such data while scikit-learn's Array API dispatch is on.
        """
        weights = self.coefs_[0]
        if _kernels_holding(weights) == kernels:
            return
        raise ValueError(
            f"This network lives in {_library_of(weights)}, and {method} got X in "
            f"{_library_of(X)}: {method} continues training the fitted network, in its own "
            "array library and on its own device. Pass X in the network's library, move the "
            "network first with sklearn.utils._array_api.move_estimator_to(estimator, xp, "
            "device) (inside sklearn.config_context(array_api_dispatch=True)), or fit anew "
            "with warm_start=False."
        )

    def _prepare_data(self, X, y, sample_weight, call, kernels):
        """Validated ``X`` and ``y``, and the :class:`TrainingData` the core trains on.

        The targets are encoded, and the weights combined, on the host; both then go to
        ``X``'s library and device. Samples of weight zero are removed (exactly what a zero
        weight means). Returns ``X, y, data, weight_scale`` (see
        ``_combined_sample_weight``).
        """
        X, y = self._validate_X_y(X, y, call.reset, kernels)
        if not call.reset and X.dtype != self.coefs_[0].dtype:
            # a network keeps the dtype it was initialised in (and its optimizer's state)
            X = kernels.astype(X, self.coefs_[0].dtype)
        Y = self._encode_y(y, call)
        Y = Y.astype(self._target_dtype(X.dtype, kernels), copy=False)
        sample_weight, weight_scale = self._combined_sample_weight(
            X, y, sample_weight, call, kernels
        )
        if sample_weight is not None:
            kept = sample_weight > 0
            if not kept.all():
                X = kernels.take(X, kernels.row_index(np.flatnonzero(kept)))
                y, Y, sample_weight = y[kept], Y[kept], sample_weight[kept]
            sample_weight = kernels.from_host(sample_weight)
        data = TrainingData(X, kernels.from_host(Y), sample_weight)
        return X, y, data, weight_scale

    def _optimizer_for(self, params, call):
        """The optimizer built from the current parameters; ``partial_fit`` carries the state.

        Built anew on every call, so that a ``set_params`` between two ``partial_fit`` calls
        takes effect; its velocity or moments are copied from the previous call's optimizer,
        which stays untouched until this call succeeds.
        """
        optimizer = make_optimizer(
            self.solver,
            params.flat.shape[0],
            params.flat.dtype,
            params.kernels,
            max_grad_norm=self.max_grad_norm,
            momentum=self.momentum,
            nesterov=self.nesterovs_momentum,
            beta_1=self.beta_1,
            beta_2=self.beta_2,
            epsilon=self.epsilon,
        )
        previous = getattr(self, "_optimizer", None)
        if call.chunk and type(previous) is type(optimizer) and previous.fits(params):
            optimizer.resume_from(previous)
        return optimizer

    def _epoch_plan(self, n_samples, rng, history, call) -> EpochPlan:
        """How this call's epochs run. A ``fit`` (warm-started or not) runs its learning-rate
        schedule over its own ``epochs``; ``partial_fit`` calls share one."""
        schedule = LearningRateSchedule(
            learning_rate=float(self.learning_rate),
            kind=self.learning_rate_schedule,
            power_t=float(self.power_t),
            epochs=self.epochs,
            warmup_epochs=self.warmup_epochs,
        )
        return EpochPlan(
            epochs=call.epochs,
            batch_size=self._batch_size(n_samples),
            shuffle=self.shuffle,
            rng=rng,
            schedule=schedule,
            stopping=NoImprovement(self.tol, self.n_iter_no_change),
            schedule_start=0 if call.chunk else history.n_iter,
        )

    def _split_validation(self, data, y, rng, kernels):
        """Hold out ``validation_fraction`` of the data (stratified for classifiers).

        The split is drawn on the host, over the sample indices, and each array is then
        cut in its own library.
        """
        train, held_out = train_test_split(
            np.arange(data.n_samples),
            test_size=self.validation_fraction,
            random_state=rng,
            stratify=self._stratify(y),
        )
        if len(held_out) < 2:
            raise ValueError(
                f"The validation set is too small ({len(held_out)} sample): increase "
                "validation_fraction or the size of the data set."
            )
        parts = []
        for rows in (train, held_out):
            index = kernels.row_index(rows)
            w = data.sample_weight
            parts.append(
                TrainingData(
                    kernels.take(data.X, index),
                    kernels.take(data.Y, index),
                    None if w is None else kernels.take(w, index),
                )
            )
        y_val = y[held_out]
        w_val = None if data.sample_weight is None else kernels.to_numpy(parts[1].sample_weight)

        def score(outputs):
            return self._score_outputs(y_val, kernels.to_numpy(outputs), w_val)

        held = parts[1]
        Y_val = held.targets_in(held.X.dtype, kernels)  # the validation loss needs floats
        return parts[0], Validation(held.X, Y_val, held.sample_weight, score)

    def _set_fitted_attributes(self, params, spec, history, optimizer):
        """The one place a fit sets its state; everything else is derived from it."""
        self._history = history
        self._optimizer = optimizer  # carried into the next partial_fit (None for L-BFGS)
        self.coefs_ = params.coefs
        self.intercepts_ = params.intercepts
        self.out_activation_ = spec.output_activation

    # ------------------------------------------------------------------ saving

    def __getstate__(self):
        """The state to pickle (or to save with skops): plain numbers, lists and arrays.

        The training history and the optimizer's state (what ``partial_fit`` continues
        from) are saved as dicts, not as objects of this package, so that a loader such as
        ``skops.io`` has no type of ours to trust but the estimator's own.
        """
        state = dict(super().__getstate__())
        if isinstance(state.get("_history"), TrainingHistory):
            state["_history"] = dataclasses.asdict(state["_history"])
        optimizer = state.get("_optimizer")
        if isinstance(optimizer, Optimizer):
            # a network moved to NumPy (move_estimator_to) takes its optimizer along
            state["_optimizer"] = optimizer.to_dict(on_host=isinstance(self.coefs_[0], np.ndarray))
        return state

    def __setstate__(self, state):
        state = dict(state)
        if isinstance(state.get("_history"), dict):
            state["_history"] = TrainingHistory(**state["_history"])
        if isinstance(state.get("_optimizer"), dict):
            state["_optimizer"] = Optimizer.from_dict(state["_optimizer"])
        super().__setstate__(state)

    # ------------------------------------------------------------------ derived attributes

    @property
    def n_layers_(self) -> int:
        """Number of layers, input and output included."""
        return len(self.coefs_) + 1

    @property
    def n_outputs_(self) -> int:
        """Number of output units."""
        return self.coefs_[-1].shape[1]

    @property
    def n_iter_(self) -> int:
        """Epochs (L-BFGS iterations) run by the last ``fit`` or ``partial_fit`` call only,
        scikit-learn's convention; ``t_`` and the curves cover the whole history."""
        return self._history.n_iter - self._history.call_start

    @property
    def t_(self) -> int:
        """Training samples seen, over every epoch of the history."""
        return self._history.t

    @property
    def loss_curve_(self) -> list:
        """The training loss after each epoch."""
        return self._history.loss_curve

    @property
    def loss_(self) -> float | None:
        """The last training loss."""
        history = self._history
        if history.loss_curve:
            return history.loss_curve[-1]
        # L-BFGS-B can stop before its first iteration (a starting gradient below tol)
        return history.best_loss if np.isfinite(history.best_loss) else None

    @property
    def best_loss_(self) -> float | None:
        """The lowest training loss (None with early stopping, which scores held-out data)."""
        return None if self._history.validated else self._history.best_loss

    @property
    def validation_scores_(self) -> list | None:
        """The held-out score after each epoch (early stopping only)."""
        return self._history.validation_scores if self._history.validated else None

    @property
    def validation_loss_curve_(self) -> list | None:
        """The held-out loss after each epoch (early stopping only)."""
        return self._history.validation_loss_curve if self._history.validated else None

    @property
    def best_validation_score_(self) -> float | None:
        """The best held-out score (early stopping only)."""
        return self._history.best_validation_score if self._history.validated else None

    def _warn_not_converged(self, history):
        epochs_before = history.call_start
        if self.solver == "lbfgs":
            message = (
                f"L-BFGS-B stopped at epochs={self.epochs} iterations or max_fun="
                f"{self.max_fun} loss evaluations before the gradient fell below tol="
                f"{self.tol}. Increase epochs or max_fun, or scale the data."
            )
        elif not self.early_stopping and _ended_above_best(
            history.loss_curve[epochs_before:], self.tol
        ):
            curve = history.loss_curve[epochs_before:]
            best = int(np.argmin(curve))
            message = (
                f"The {self.solver} optimizer ran all epochs={self.epochs} and has not "
                f"converged: the training loss ended at {curve[-1]:.6g}, above its best of "
                f"{curve[best]:.6g} (epoch {epochs_before + best + 1}). Use a smaller "
                "learning_rate, or scale the data."
            )
        else:
            message = (
                f"The {self.solver} optimizer ran all epochs={self.epochs} and the "
                f"{'validation score' if self.early_stopping else 'training loss'} was still "
                f"improving by more than tol={self.tol} within n_iter_no_change="
                f"{self.n_iter_no_change} epochs: it has not converged yet. Increase epochs "
                "or learning_rate, or scale the data."
            )
        _warn(message, ConvergenceWarning)

    # ------------------------------------------------------------------ prediction

    def _forward(self, X, method, layer=-1):
        """Validate ``X`` and return the activations of ``layer`` (the outputs by default).

        ``method`` names the public method (for the error when ``X``'s array library or
        device differs from the one the network was fitted in).
        """
        check_is_fitted(self)
        _refuse_complex(X=X)
        check_same_namespace(X, self, attribute="_first_weights", method=method)
        kernels = _kernels_of(X)
        X = validate_data(
            self, X, accept_sparse=["csr", "csc"], dtype=kernels.float_dtypes(), reset=False
        )
        if sp.issparse(X):
            X = X.tocsr()
        # in X's library: NumPy input to a network fitted in torch takes it to the host
        coefs = [kernels.asarray(c) for c in self.coefs_]
        intercepts = [kernels.asarray(b) for b in self.intercepts_]
        params = Parameters.from_arrays(coefs, intercepts, kernels=kernels)
        X = kernels.for_product_with(X, params.flat.dtype)
        return predict(params, self._network_spec(params.layer_sizes), X, layer=layer)

    @property
    def _first_weights(self):
        """The first layer's weights: the array whose library and device inputs must share."""
        return self.coefs_[0]

    def to_sklearn(self):
        """The same network as scikit-learn's ``MLPClassifier`` / ``MLPRegressor``.

        The copy has this network's weights and fitted attributes, and predicts the same
        (up to rounding). Its parameters carry this estimator's training settings where
        scikit-learn has them, so a further ``fit`` or ``partial_fit`` of the copy follows
        scikit-learn's rules: its losses (half the squared error; no robust losses), no
        dropout, no cosine schedule or gradient clipping. The loss values it carries
        (``loss_``, ``loss_curve_``) are this estimator's.

        Returns
        -------
        mlp : MLPClassifier or MLPRegressor
            A fitted scikit-learn estimator.

        Raises
        ------
        ValueError
            When scikit-learn's MLP has no such network: a hidden activation other than
            identity, sigmoid (its "logistic"), tanh or relu.
        """
        check_is_fitted(self)
        return to_sklearn_mlp(self)

    def transform(self, X: ArrayLike) -> np.ndarray:
        """The last hidden layer's activations: the features the network learnt.

        A fitted network can then feed another estimator in a Pipeline; with
        ``set_output(transform="pandas")`` the result is a DataFrame whose columns are
        :meth:`get_feature_names_out`. A network without hidden layers has no such features
        and raises a ``ValueError``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The data.

        Returns
        -------
        X_new : ndarray of shape (n_samples, hidden_size[-1])
            The activations of the last hidden layer, in the network's dtype.
        """
        self._check_has_hidden_layer()
        return self._forward(X, "transform", layer=-2)

    def get_feature_names_out(self, input_features: ArrayLike | None = None) -> np.ndarray:
        """Names of the features :meth:`transform` returns: the last hidden layer's units.

        Parameters
        ----------
        input_features : array-like of str or None, default=None
            Only checked against ``feature_names_in_``; the output names are the estimator's
            lowercased class name followed by the unit's index.

        Returns
        -------
        feature_names_out : ndarray of str objects
            One name per unit of the last hidden layer. A network without hidden layers
            has no such features and raises a ``ValueError``, as :meth:`transform` does.
        """
        self._check_has_hidden_layer()
        return super().get_feature_names_out(input_features)

    def _check_has_hidden_layer(self):
        check_is_fitted(self)
        if len(self.coefs_) < 2:
            raise ValueError(
                "This network has no hidden layer (hidden_size=()), and transform and "
                "get_feature_names_out are about the last hidden layer's activations. Fit it "
                "with at least one hidden layer."
            )

    @property
    def _n_features_out(self):
        """Width of the last hidden layer, for ``get_feature_names_out``."""
        return self.coefs_[-1].shape[0]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.array_api_support = True  # the array library follows X (see _kernels_of)
        return tags
