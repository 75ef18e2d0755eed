"""What the classifier and the regressor share: parameters, validation and the fit plumbing.

The data path reads in one direction::

    fit -> validate and encode (sklearn utilities) -> core training loop -> fitted attributes

Everything numerical happens in :mod:`sknn_scratch.core`; this module only translates
between scikit-learn's conventions and the core's.
"""

import math
import warnings
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from numpy.typing import ArrayLike
from sklearn.base import BaseEstimator, ClassNamePrefixFeaturesOutMixin, TransformerMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, Options, StrOptions
from sklearn.utils.validation import (
    _check_sample_weight,
    check_is_fitted,
    column_or_1d,
    validate_data,
)

from .core import (
    LearningRateSchedule,
    NetworkSpec,
    Parameters,
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


class TrainingDivergedWarning(ConvergenceWarning):
    """Training diverged, and early stopping kept the best validated parameters instead.

    A :class:`~sklearn.exceptions.ConvergenceWarning`: the fit returned a usable model, but
    it stopped because the run blew up, not because it converged.
    """


class BaseScratchMLP(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator):
    """Base class of :class:`ScratchMLPClassifier` and :class:`ScratchMLPRegressor`.

    Not meant to be used directly. Subclasses provide ``__init__`` (scikit-learn reads the
    parameter names from its signature, so each estimator spells out its own), the target
    encoding (``_encode_y``), the output layer (``_output_activation``) and the validation
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

    def _encode_y(self, y, *, reset, incremental, classes=None):
        """Validate ``y`` and return it as a 2-D float array of network targets."""
        raise NotImplementedError

    def _output_activation(self) -> str:
        raise NotImplementedError

    def _loss_parameter(self):
        """The loss's parameter (see ``NetworkSpec.loss_parameter``), or None."""
        return None

    def _score_outputs(self, y_true, outputs, sample_weight) -> float:
        """Accuracy or R² of the network's ``outputs`` (for early stopping)."""
        raise NotImplementedError

    def _extra_sample_weight(self, y, incremental):
        """Per-sample weights implied by other parameters (``class_weight``), or None."""
        return None

    def _stratify(self, y):
        """Labels to stratify the early-stopping split by, or None."""
        return None

    # ------------------------------------------------------------------ fitting

    def _validate_X_y(self, X, y, reset):
        X, y = validate_data(
            self,
            X,
            y,
            accept_sparse=["csr", "csc"],
            dtype=(np.float64, np.float32),
            multi_output=True,
            y_numeric=self._numeric_target,
            reset=reset,
        )
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)  # one target (or label) per sample, as a vector
        return (X.tocsr() if sp.issparse(X) else X), y

    def _combined_sample_weight(self, X, y, sample_weight, incremental):
        """``sample_weight`` times any class weights, and the power of two they were divided by.

        None (and 1) when every weight is one. Weights whose total is far outside float range
        are divided by a power of two, which is exact: the loss is their weighted mean and the
        L2 term is ``alpha / total``, so dividing ``alpha`` by the same number (see
        ``_network_spec``) leaves the model and its loss unchanged.
        """
        extra = self._extra_sample_weight(y, incremental)
        if sample_weight is None and extra is None:
            return None, 1.0
        sample_weight = _check_sample_weight(
            sample_weight, X, dtype=X.dtype, ensure_non_negative=True, copy=True
        )
        if extra is not None:
            sample_weight *= extra
        with np.errstate(over="ignore"):
            total = float(sample_weight.sum(dtype=np.float64))
        if not np.isfinite(total):
            raise ValueError(
                f"The sample weights sum to {total} in {X.dtype}: the loss is their weighted "
                "mean and cannot be computed. Divide sample_weight (or class_weight) by a "
                "constant; only their ratios matter, apart from alpha's scale."
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
            warnings.warn(
                f"batch_size={self.batch_size} is larger than the number of samples "
                f"({n_samples}); it is clipped to {n_samples}.",
                UserWarning,
                stacklevel=6,
            )
        return min(self.batch_size, n_samples)

    def _network_spec(self, layer_sizes, weight_scale=1.0) -> NetworkSpec:
        return NetworkSpec(
            layer_sizes=tuple(layer_sizes),
            hidden_activation=self.activation,
            output_activation=self._output_activation(),
            loss=self.loss,
            loss_parameter=self._loss_parameter(),
            alpha=float(self.alpha) / weight_scale,
            dropout=float(self.dropout),
        )

    def _starting_parameters(self, spec, reset, rng, dtype) -> Parameters:
        if reset:
            return initialize_parameters(spec.layer_sizes, self.init, rng, self.activation, dtype)
        params = Parameters.from_arrays(self.coefs_, self.intercepts_, dtype=dtype)
        if params.layer_sizes != spec.layer_sizes:
            raise ValueError(
                f"The fitted network has layer sizes {params.layer_sizes}, but the current "
                f"parameters and data give {spec.layer_sizes}. warm_start and partial_fit "
                "continue training the same network: keep hidden_size and the number of "
                "features and outputs, or set warm_start=False."
            )
        return params

    def _fit(self, X, y, sample_weight=None, *, incremental=False, classes=None):
        """Fit, or leave the estimator as it was: a failed call changes nothing.

        The one exception is a training run that diverges in ``fit`` (or in the first
        ``partial_fit``): the estimator then holds the new network as it was at the start
        of the failing epoch (see :class:`TrainingDivergedError`). A divergence in a later
        ``partial_fit`` leaves the estimator, optimizer state included, as before the call.
        """
        before = self.__dict__.copy()
        continuing = incremental and hasattr(self, "coefs_")
        try:
            return self._fit_or_raise(X, y, sample_weight, incremental, classes)
        except TrainingDivergedError:
            if continuing:
                self._restore(before)
            raise
        except BaseException:
            self._restore(before)
            raise

    def _restore(self, state):
        self.__dict__.clear()
        self.__dict__.update(state)

    def _fit_or_raise(self, X, y, sample_weight, incremental, classes):
        if incremental:
            # scikit-learn validates the parameters only on the first partial_fit; a
            # set_params between calls must not slip through (it costs microseconds)
            self._validate_params()
        reset = not hasattr(self, "coefs_") or not (self.warm_start or incremental)
        if self.solver == "lbfgs" and self.dropout > 0:
            raise ValueError(
                f"dropout={self.dropout} needs a stochastic solver: L-BFGS-B minimises one "
                "fixed function, and dropout draws new masks for every batch. Use "
                "solver='adam' or 'sgd', or dropout=0."
            )
        if incremental and self.early_stopping:
            raise ValueError(
                "partial_fit does not support early_stopping=True: there is no held-out set "
                "to stop on. Use fit, or set early_stopping=False."
            )
        X, y, Y, sample_weight, weight_scale = self._prepare_data(
            X, y, sample_weight, reset, incremental, classes
        )
        hidden = _hidden_layer_sizes(self.hidden_size)
        spec = self._network_spec((X.shape[1], *hidden, Y.shape[1]), weight_scale)
        rng = check_random_state(self.random_state)
        params = self._starting_parameters(spec, reset, rng, X.dtype)
        history = TrainingHistory() if reset else self._history.copy()
        epochs_before = history.n_iter

        optimizer = divergence = None
        try:
            if self.solver == "lbfgs":
                converged = train_lbfgs(
                    params, spec, X, Y, sample_weight, history,
                    max_iter=self.epochs, max_fun=self.max_fun, tol=self.tol,
                    verbose=self.verbose,
                )  # fmt: skip
            else:
                optimizer = self._optimizer_for(params, incremental, history)
                converged = self._fit_stochastic(
                    params, spec, X, y, Y, sample_weight, history, optimizer, rng, incremental
                )
        except TrainingDivergedError as error:
            divergence = error

        # After a divergence the core has put back finite parameters and the optimizer's
        # matching state: they are kept with the curves so far, to inspect or continue.
        self._set_fitted_attributes(params, spec, history, optimizer, epochs_before)
        if divergence is not None:
            if not divergence.recovered:
                raise divergence
            warnings.warn(str(divergence), TrainingDivergedWarning, stacklevel=5)
        elif not converged and not incremental:
            self._warn_not_converged(history, epochs_before)
        return self

    def _prepare_data(self, X, y, sample_weight, reset, incremental, classes):
        """Validated ``X`` and ``y``, the encoded targets ``Y`` and the combined weights.

        Samples of weight zero are removed (exactly what a zero weight means). Returns
        ``X, y, Y, sample_weight, weight_scale`` (see ``_combined_sample_weight``).
        """
        X, y = self._validate_X_y(X, y, reset)
        if not reset and X.dtype != self.coefs_[0].dtype:
            # a network keeps the dtype it was initialised in (and its optimizer's state)
            X = X.astype(self.coefs_[0].dtype)
        Y = self._encode_y(y, reset=reset, incremental=incremental, classes=classes)
        Y = Y.astype(X.dtype, copy=False)
        sample_weight, weight_scale = self._combined_sample_weight(
            X, y, sample_weight, incremental
        )
        if sample_weight is not None:
            kept = sample_weight > 0
            if not kept.all():
                X, y, Y, sample_weight = X[kept], y[kept], Y[kept], sample_weight[kept]
        return X, y, Y, sample_weight, weight_scale

    def _optimizer_for(self, params, incremental, history):
        """The optimizer built from the current parameters; ``partial_fit`` carries the state.

        Built anew on every call, so that a ``set_params`` between two ``partial_fit`` calls
        takes effect; its velocity or moments are copied from the previous call's optimizer,
        which stays untouched until this call succeeds. A ``fit`` (warm-started or not) runs
        its learning-rate schedule over its own ``epochs``; ``partial_fit`` calls share one.
        """
        schedule = LearningRateSchedule(
            kind=self.learning_rate_schedule,
            power_t=float(self.power_t),
            epochs=self.epochs,
            warmup_epochs=self.warmup_epochs,
            first_epoch=0 if incremental else history.n_iter,
        )
        optimizer = make_optimizer(
            self.solver,
            params.flat.size,
            params.flat.dtype,
            learning_rate=self.learning_rate,
            schedule=schedule,
            max_grad_norm=self.max_grad_norm,
            momentum=self.momentum,
            nesterov=self.nesterovs_momentum,
            beta_1=self.beta_1,
            beta_2=self.beta_2,
            epsilon=self.epsilon,
        )
        previous = getattr(self, "_optimizer", None)
        if incremental and type(previous) is type(optimizer) and previous.fits(params.flat):
            optimizer.resume_from(previous)
        if incremental:  # the rate of the epoch this call runs, where the schedule stands
            optimizer.end_epoch(history.n_iter, history.t)
        return optimizer

    def _fit_stochastic(
        self, params, spec, X, y, Y, sample_weight, history, optimizer, rng, incremental
    ):
        validation = None
        if self.early_stopping:
            X, Y, sample_weight, validation = self._split_validation(X, y, Y, sample_weight, rng)
        return train_stochastic(
            params,
            spec,
            X,
            Y,
            sample_weight,
            optimizer,
            history,
            epochs=1 if incremental else self.epochs,
            batch_size=self._batch_size(Y.shape[0]),
            shuffle=self.shuffle,
            rng=rng,
            tol=self.tol,
            n_iter_no_change=self.n_iter_no_change,
            validation=validation,
            verbose=bool(self.verbose),
            incremental=incremental,
        )

    def _split_validation(self, X, y, Y, sample_weight, rng):
        """Hold out ``validation_fraction`` of the data (stratified for classifiers)."""
        arrays = [X, y, Y] + ([] if sample_weight is None else [sample_weight])
        parts = train_test_split(
            *arrays,
            test_size=self.validation_fraction,
            random_state=rng,
            stratify=self._stratify(y),
        )
        X_train, X_val, _, y_val, Y_train, Y_val = parts[:6]
        w_train, w_val = parts[6:] if sample_weight is not None else (None, None)
        if Y_val.shape[0] < 2:
            raise ValueError(
                f"The validation set is too small ({Y_val.shape[0]} sample): increase "
                "validation_fraction or the size of the data set."
            )

        def score(outputs):
            return self._score_outputs(y_val, outputs, w_val)

        return X_train, Y_train, w_train, Validation(X_val, Y_val, w_val, score)

    def _set_fitted_attributes(self, params, spec, history, optimizer, epochs_before):
        self._history = history
        self._optimizer = optimizer  # carried into the next partial_fit (None for L-BFGS)
        self.coefs_ = params.coefs
        self.intercepts_ = params.intercepts
        self.n_layers_ = spec.n_layers + 1
        self.n_outputs_ = spec.layer_sizes[-1]
        self.out_activation_ = spec.output_activation
        # scikit-learn's convention: epochs (iterations) of this call only; t_ and the
        # curves cover the whole history carried by warm_start and partial_fit
        self.n_iter_ = history.n_iter - epochs_before
        self.t_ = history.t
        self.loss_curve_ = history.loss_curve
        if history.loss_curve:
            self.loss_ = history.loss_curve[-1]
        else:  # L-BFGS-B can stop before its first iteration (a starting gradient below tol)
            self.loss_ = history.best_loss if np.isfinite(history.best_loss) else None
        if self.early_stopping and self.solver != "lbfgs":
            self.best_loss_ = None
            self.validation_scores_ = history.validation_scores
            self.validation_loss_curve_ = history.validation_loss_curve
            self.best_validation_score_ = history.best_validation_score
        else:
            self.best_loss_ = history.best_loss
            self.validation_scores_ = None
            self.validation_loss_curve_ = None
            self.best_validation_score_ = None

    def _warn_not_converged(self, history, epochs_before):
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
        warnings.warn(message, ConvergenceWarning, stacklevel=6)

    # ------------------------------------------------------------------ prediction

    def _forward(self, X, layer=-1):
        """Validate ``X`` and return the activations of ``layer`` (the outputs by default)."""
        check_is_fitted(self)
        X = validate_data(
            self, X, accept_sparse=["csr", "csc"], dtype=(np.float64, np.float32), reset=False
        )
        if sp.issparse(X):
            X = X.tocsr()
        params = Parameters.from_arrays(self.coefs_, self.intercepts_)
        return predict(params, self._network_spec(params.layer_sizes), X, layer=layer)

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
        check_is_fitted(self)
        if len(self.coefs_) < 2:
            raise ValueError(
                "transform returns the last hidden layer's activations, and this network has "
                "no hidden layer (hidden_size=()). Fit it with at least one hidden layer."
            )
        return self._forward(X, layer=-2)

    @property
    def _n_features_out(self):
        """Width of the last hidden layer, for ``get_feature_names_out``."""
        return self.coefs_[-1].shape[0]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags
