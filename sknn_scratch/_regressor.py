"""ScratchMLPRegressor: real-valued (or count) targets, one or several per sample."""

from numbers import Real

import numpy as np
from numpy.typing import ArrayLike
from sklearn.base import RegressorMixin, _fit_context
from sklearn.metrics import d2_absolute_error_score, d2_pinball_score, r2_score
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.metaestimators import available_if

from ._base import BaseScratchMLP, _all_or_nothing, _FitCall, outputs_namespace
from ._docs import estimator_docstring
from .core import make_loss

_LOSS_DOC = """\
    loss : {"squared_error", "poisson", "absolute_error", "huber", "quantile"}, \
default="squared_error"
        The loss decides what ``predict`` estimates; the network's output is that estimate.
        With ``r = y - p`` (``p`` the prediction), averaged over all entries:

        - ``"squared_error"``: ``r ** 2`` (the tutorial's MSE); the conditional mean.
        - ``"poisson"``: the half Poisson deviance with a log link, for counts and rates;
          the conditional mean, always positive.
        - ``"absolute_error"``: ``|r|``; the conditional median.
        - ``"huber"``: ``r ** 2 / 2`` where ``|r| <= huber_delta``, else
          ``huber_delta * (|r| - huber_delta / 2)``; a robust mean, which the outliers
          (residuals beyond ``huber_delta``) move little.
        - ``"quantile"``: the pinball loss ``max(quantile * r, (quantile - 1) * r)``; the
          conditional quantile ``quantile``, below which lies that share of the targets.

        The last three have a linear output layer and resist outliers in ``y``. With early
        stopping they are scored by D² of the absolute error (of the pinball loss for
        ``"quantile"``; see scikit-learn's ``d2_pinball_score``) rather than R², which
        outliers dominate and which rewards the mean rather than a quantile.
    huber_delta : float, default=1.0
        Where the ``"huber"`` loss turns from squared to linear, in the units of ``y``.
        Used by ``loss="huber"`` only.
    quantile : float, default=0.5
        The quantile, in ``(0, 1)``, that ``loss="quantile"`` estimates (0.5: the median,
        as ``"absolute_error"``, whose loss is twice the pinball loss). Used by
        ``loss="quantile"`` only.
"""


class ScratchMLPRegressor(RegressorMixin, BaseScratchMLP):
    __doc__ = estimator_docstring(
        """Multilayer perceptron regressor, written from scratch in NumPy.

    The output layer is linear (``loss="squared_error"`` and the robust losses
    ``"absolute_error"``, ``"huber"`` and ``"quantile"``) or the exponential of a linear
    layer (``loss="poisson"``, a log link, so every prediction is positive). The prediction
    is the mean, the median, a robust mean or a quantile of the target given ``X``, as the
    loss decides. Several targets per sample are fitted by one network with one output unit
    each.

    Parameters
    ----------
{parameters}
    Attributes
    ----------
{attributes}    See Also
    --------
    ScratchMLPClassifier : The same network for classification.
    sklearn.neural_network.MLPRegressor : scikit-learn's multilayer perceptron.

    Examples
    --------
    >>> import numpy as np
    >>> from sknn_scratch import ScratchMLPRegressor
    >>> rng = np.random.RandomState(0)
    >>> X = rng.uniform(-1, 1, size=(200, 2))
    >>> y = X[:, 0] ** 2 + X[:, 1]
    >>> reg = ScratchMLPRegressor(hidden_size=20, activation="tanh", solver="lbfgs",
    ...                           random_state=0).fit(X, y)
    >>> reg.score(X, y) > 0.99
    True
    """,
        no_hidden_model="linear regression",
        stratified="",
        score="R² (D² for the robust losses, see ``loss``)",
        score_cap="R² (D² for the robust losses, see ``loss``)",
        n_outputs="Number of targets.",
        out_activations='``"identity"`` or ``"exp"``',
        loss=_LOSS_DOC,
    )

    _parameter_constraints: dict = {
        **BaseScratchMLP._parameter_constraints,
        "loss": [StrOptions({"squared_error", "poisson", "absolute_error", "huber", "quantile"})],
        "huber_delta": [Interval(Real, 0, None, closed="neither")],
        "quantile": [Interval(Real, 0, 1, closed="neither")],
    }
    _numeric_target = True

    def __init__(
        self,
        hidden_size: int | tuple[int, ...] = 100,
        activation: str = "sigmoid",
        *,
        loss: str = "squared_error",
        solver: str = "adam",
        alpha: float = 1e-4,
        batch_size: int | str | None = "auto",
        learning_rate: float = 0.01,
        learning_rate_schedule: str = "constant",
        power_t: float = 0.5,
        epochs: int = 200,
        shuffle: bool = True,
        random_state: int | np.random.RandomState | None = None,
        tol: float = 1e-4,
        verbose: bool | int = False,
        warm_start: bool = False,
        momentum: float = 0.9,
        nesterovs_momentum: bool = True,
        early_stopping: bool = False,
        validation_fraction: float = 0.1,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-8,
        n_iter_no_change: int | float = 10,
        max_fun: int = 15000,
        init: str = "glorot",
        huber_delta: float = 1.0,
        quantile: float = 0.5,
        warmup_epochs: int = 0,
        max_grad_norm: float | None = None,
        dropout: float = 0.0,
    ) -> None:
        self.hidden_size = hidden_size
        self.activation = activation
        self.loss = loss
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.learning_rate_schedule = learning_rate_schedule
        self.power_t = power_t
        self.epochs = epochs
        self.shuffle = shuffle
        self.random_state = random_state
        self.tol = tol
        self.verbose = verbose
        self.warm_start = warm_start
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.n_iter_no_change = n_iter_no_change
        self.max_fun = max_fun
        self.init = init
        self.huber_delta = huber_delta
        self.quantile = quantile
        self.warmup_epochs = warmup_epochs
        self.max_grad_norm = max_grad_norm
        self.dropout = dropout

    @_all_or_nothing
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(
        self, X: ArrayLike, y: ArrayLike, sample_weight: ArrayLike | None = None
    ) -> "ScratchMLPRegressor":
        """Fit the network to data ``X`` and targets ``y``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data; float32 data is trained in float32.
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
            Target values (non-negative for ``loss="poisson"``).
        sample_weight : array-like of shape (n_samples,), default=None
            Weight of each sample in the loss (a weighted mean); a zero weight drops its
            sample and an integer weight ``k`` counts it ``k`` times.

        Returns
        -------
        self : ScratchMLPRegressor
            The fitted regressor.
        """
        return self._fit(X, y, sample_weight, _FitCall.fit(self))

    @available_if(lambda est: est.solver != "lbfgs")
    @_all_or_nothing
    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(
        self, X: ArrayLike, y: ArrayLike, sample_weight: ArrayLike | None = None
    ) -> "ScratchMLPRegressor":
        """Train for one epoch over ``(X, y)``, continuing from the current weights.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            A chunk of training data.
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
            Its targets.
        sample_weight : array-like of shape (n_samples,), default=None
            Weight of each sample in the loss.

        Returns
        -------
        self : ScratchMLPRegressor
            The updated regressor.
        """
        return self._fit(X, y, sample_weight, _FitCall.partial_fit(self))

    def _encode_y(self, y, call):
        y = np.asarray(y, dtype=np.float64)
        if self.loss == "poisson" and (np.any(y < 0) or np.sum(y) <= 0):
            raise ValueError(
                "loss='poisson' needs non-negative targets with a positive sum; "
                "use loss='squared_error' for targets that can be negative."
            )
        return y.reshape(len(y), -1)

    def _get_loss(self):
        """The loss with its own link (``exp`` for Poisson, the identity otherwise) and its
        parameter: ``huber_delta`` or ``quantile``."""
        parameter = {"huber": self.huber_delta, "quantile": self.quantile}.get(self.loss)
        return make_loss(self.loss, parameter=None if parameter is None else float(parameter))

    def _score_outputs(self, y_true, outputs, sample_weight):
        if y_true.ndim == 1:
            outputs = outputs.ravel()
        # The early-stopping score. R² measures a mean, and outliers dominate it: with it, a
        # quantile network stopped near the mean and a Huber one near the outliers' pull.
        if self.loss in ("absolute_error", "huber"):
            return d2_absolute_error_score(y_true, outputs, sample_weight=sample_weight)
        if self.loss == "quantile":
            return d2_pinball_score(
                y_true, outputs, sample_weight=sample_weight, alpha=float(self.quantile)
            )
        return r2_score(y_true, outputs, sample_weight=sample_weight)

    def predict(self, X: ArrayLike) -> np.ndarray:
        """Predict targets for ``X``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The data.

        Returns
        -------
        y : ndarray of shape (n_samples,) or (n_samples, n_targets)
            Predicted values, one column per target when fitted on several.
        """
        outputs = self._forward(X, "predict")
        if self.n_outputs_ > 1:
            return outputs
        return outputs_namespace(outputs).reshape(outputs, (-1,))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        tags.target_tags.single_output = True
        tags.target_tags.positive_only = self.loss == "poisson"
        return tags
