"""ScratchMLPRegressor: real-valued (or count) targets, one or several per sample."""

import numpy as np
from sklearn.base import RegressorMixin, _fit_context
from sklearn.metrics import r2_score
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import column_or_1d

from ._base import BaseScratchMLP


class ScratchMLPRegressor(RegressorMixin, BaseScratchMLP):
    """Multilayer perceptron regressor, written from scratch in NumPy.

    The output layer is linear (``loss="squared_error"``) or the exponential of a linear
    layer (``loss="poisson"``, a log link, so every prediction is positive). Several targets
    per sample are fitted by one network with one output unit each.

    Parameters
    ----------
    hidden_size : int or tuple of int, default=100
        Width of the hidden layer; a tuple gives one hidden layer per entry (the tutorial's
        ``hidden_size``). An empty tuple gives no hidden layer (linear regression).
    activation : {"sigmoid", "tanh", "relu", "identity"}, default="sigmoid"
        Activation of the hidden layers (the tutorial uses the sigmoid).
    loss : {"squared_error", "poisson"}, default="squared_error"
        ``"squared_error"`` is ``mean((y - p) ** 2)`` over all entries (the tutorial's MSE);
        ``"poisson"`` is the half Poisson deviance with a log link, for counts and rates.
    solver : {"adam", "sgd", "lbfgs"}, default="adam"
        ``"sgd"`` with ``momentum=0`` and ``batch_size=None`` is the tutorial's full-batch
        gradient descent; ``"lbfgs"`` is SciPy's L-BFGS-B on all parameters at once.
    alpha : float, default=1e-4
        L2 penalty ``alpha / 2 * sum(W ** 2)``, divided by the batch's total sample weight.
    batch_size : int, "auto" or None, default="auto"
        Samples per mini-batch. ``"auto"`` is ``min(200, n_samples)``; ``None`` uses the whole
        training set as one batch (the tutorial). Ignored by ``"lbfgs"``.
    learning_rate : float, default=0.001
        Step size (the tutorial's ``learning_rate``; scikit-learn's ``learning_rate_init``).
    learning_rate_schedule : {"constant", "invscaling", "adaptive"}, default="constant"
        How ``"sgd"`` changes the step size (scikit-learn's ``learning_rate``).
    power_t : float, default=0.5
        Exponent of the ``"invscaling"`` schedule.
    epochs : int, default=200
        Passes over the training data (the tutorial's ``epochs``); for ``"lbfgs"`` the cap on
        iterations (scikit-learn's ``max_iter``).
    shuffle : bool, default=True
        Visit the samples in a new random order at each epoch (mini-batch solvers).
    random_state : int, RandomState instance or None, default=None
        Seeds the initial weights, the early-stopping split and the shuffling.
    tol : float, default=1e-4
        Training stops once the loss (or the validation score, with early stopping) has not
        improved by ``tol`` for ``n_iter_no_change`` consecutive epochs.
    verbose : bool, default=False
        Print the loss (and validation loss and score) and the time of every epoch.
    warm_start : bool, default=False
        Continue from the fitted weights at the next ``fit`` instead of starting again.
    momentum : float, default=0.9
        Momentum of ``"sgd"``.
    nesterovs_momentum : bool, default=True
        Use Nesterov's momentum with ``"sgd"``.
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the training data, stop when its R² stops
        improving, and keep the best weights seen.
    validation_fraction : float, default=0.1
        Share of the training data held out for early stopping.
    beta_1, beta_2 : float, default=0.9, 0.999
        Decay rates of Adam's moment estimates.
    epsilon : float, default=1e-8
        Numerical stability term of Adam.
    n_iter_no_change : int, default=10
        Epochs without improvement by ``tol`` before stopping.
    max_fun : int, default=15000
        Cap on loss evaluations for ``"lbfgs"``.
    init : {"glorot", "normal"}, default="glorot"
        Initial weights: Glorot uniform, or the tutorial's standard normal.

    Attributes
    ----------
    coefs_ : list of ndarray
        ``coefs_[i]`` is the ``(n_in, n_out)`` weight matrix of layer ``i + 1``.
    intercepts_ : list of ndarray
        ``intercepts_[i]`` is the bias vector of layer ``i + 1``.
    n_features_in_ : int
        Number of features seen in ``fit``.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of the features seen in ``fit``, when ``X`` had string column names.
    n_iter_ : int
        Epochs run (iterations for ``"lbfgs"``).
    t_ : int
        Training samples seen by the solver.
    n_layers_ : int
        Number of layers, input and output included.
    n_outputs_ : int
        Number of targets.
    out_activation_ : str
        Output activation: ``"identity"`` or ``"exp"``.
    loss_ : float
        Loss at the last epoch.
    best_loss_ : float or None
        Lowest training loss seen (None with early stopping).
    loss_curve_ : list of float
        Training loss at every epoch (every iteration for ``"lbfgs"``).
    validation_scores_ : list of float or None
        R² on the held-out data at every epoch, with early stopping.
    validation_loss_curve_ : list of float or None
        Loss on the held-out data at every epoch, with early stopping.
    best_validation_score_ : float or None
        Best of ``validation_scores_``.

    See Also
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
    """

    _parameter_constraints: dict = {
        **BaseScratchMLP._parameter_constraints,
        "loss": [StrOptions({"squared_error", "poisson"})],
    }
    _numeric_target = True

    def __init__(
        self,
        hidden_size=100,
        activation="sigmoid",
        *,
        loss="squared_error",
        solver="adam",
        alpha=1e-4,
        batch_size="auto",
        learning_rate=0.001,
        learning_rate_schedule="constant",
        power_t=0.5,
        epochs=200,
        shuffle=True,
        random_state=None,
        tol=1e-4,
        verbose=False,
        warm_start=False,
        momentum=0.9,
        nesterovs_momentum=True,
        early_stopping=False,
        validation_fraction=0.1,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        n_iter_no_change=10,
        max_fun=15000,
        init="glorot",
    ):
        super().__init__(
            hidden_size=hidden_size,
            activation=activation,
            solver=solver,
            alpha=alpha,
            batch_size=batch_size,
            learning_rate=learning_rate,
            learning_rate_schedule=learning_rate_schedule,
            power_t=power_t,
            epochs=epochs,
            shuffle=shuffle,
            random_state=random_state,
            tol=tol,
            verbose=verbose,
            warm_start=warm_start,
            momentum=momentum,
            nesterovs_momentum=nesterovs_momentum,
            early_stopping=early_stopping,
            validation_fraction=validation_fraction,
            beta_1=beta_1,
            beta_2=beta_2,
            epsilon=epsilon,
            n_iter_no_change=n_iter_no_change,
            max_fun=max_fun,
            init=init,
        )
        self.loss = loss

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
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
        return self._fit(X, y, sample_weight)

    @available_if(lambda est: est.solver != "lbfgs")
    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, sample_weight=None):
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
        return self._fit(X, y, sample_weight, incremental=True)

    def _encode_y(self, y, *, reset, classes=None):
        y = np.asarray(y, dtype=np.float64)
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        if self.loss == "poisson" and (np.any(y < 0) or np.sum(y) <= 0):
            raise ValueError(
                "loss='poisson' needs non-negative targets with a positive sum; "
                "use loss='squared_error' for targets that can be negative."
            )
        return y.reshape(len(y), -1)

    def _output_activation(self):
        return "exp" if self.loss == "poisson" else "identity"

    def _score_outputs(self, y_true, outputs, sample_weight):
        if y_true.ndim == 1:
            outputs = outputs.ravel()
        return r2_score(y_true, outputs, sample_weight=sample_weight)

    def predict(self, X):
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
        outputs = self._forward(X)
        return outputs.ravel() if self.n_outputs_ == 1 else outputs

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        tags.target_tags.single_output = True
        tags.target_tags.positive_only = self.loss == "poisson"
        return tags
