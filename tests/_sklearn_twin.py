"""scikit-learn's MLP trained from our starting point: an independent run to compare with ours.

A fresh fit of one of our estimators draws its initial weights from
``check_random_state(random_state)`` and then, from the same random state, its early-stopping
split and its shuffles. :func:`fit_twins` fits ours, draws the same initial weights again,
puts them into scikit-learn's ``MLPClassifier`` / ``MLPRegressor`` and hands it the random
state as it is after those draws. scikit-learn then splits and shuffles exactly as we do, so
when the semantics match, every epoch of the two runs matches to rounding error.

Our losses and scikit-learn's differ only by documented constants, absorbed here:

* log-loss (classifier) and Poisson deviance (one output): identical.
* squared error: ours is ``mean((y - p) ** 2)`` over all entries, scikit-learn's is half of
  that, and scikit-learn's gradient is the one of ``sum_k (y_k - p_k) ** 2 / 2`` per sample.
  With ``k`` outputs our gradient is ``2 / k`` times scikit-learn's with ``alpha k / 2``, so
  our SGD run equals scikit-learn's with ``learning_rate_init = 2 lr / k`` and our Adam run
  (blind to the gradient's scale but for epsilon) the one with ``epsilon k / 2``. Our
  reported loss is then twice scikit-learn's (exactly for one output, and for several
  outputs when ``alpha == 0``).
"""

import warnings

import numpy as np
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.utils import check_random_state

from sknn_scratch import ScratchMLPClassifier
from sknn_scratch.core import initialize_parameters

SKLEARN_ACTIVATION = {
    "sigmoid": "logistic",
    "tanh": "tanh",
    "relu": "relu",
    "identity": "identity",
}


def _sklearn_params(ours, n_outputs, n_samples):
    params = ours.get_params()
    hidden = params["hidden_size"]
    batch_size = params["batch_size"]
    sk_params = dict(
        hidden_layer_sizes=(hidden,) if np.ndim(hidden) == 0 else tuple(hidden),
        activation=SKLEARN_ACTIVATION[params["activation"]],
        solver=params["solver"],
        alpha=params["alpha"],
        batch_size=n_samples if batch_size is None else batch_size,
        learning_rate=params["learning_rate_schedule"],
        learning_rate_init=params["learning_rate"],
        power_t=params["power_t"],
        max_iter=params["epochs"],
        shuffle=params["shuffle"],
        tol=params["tol"],
        momentum=params["momentum"],
        nesterovs_momentum=params["nesterovs_momentum"],
        early_stopping=params["early_stopping"],
        validation_fraction=params["validation_fraction"],
        beta_1=params["beta_1"],
        beta_2=params["beta_2"],
        epsilon=params["epsilon"],
        n_iter_no_change=params["n_iter_no_change"],
        max_fun=params["max_fun"],
    )
    if isinstance(ours, ScratchMLPClassifier):
        assert params["loss"] == "log_loss", "scikit-learn's classifier has only the log-loss"
        return MLPClassifier(**sk_params), 1.0
    if params["loss"] == "squared_error":
        # our gradient is (2 / k) times scikit-learn's with alpha k / 2; Adam's steps do not
        # depend on the gradient's scale, except through epsilon
        factor = 2.0 / n_outputs
        sk_params["alpha"] /= factor
        if params["solver"] == "adam":
            sk_params["epsilon"] /= factor
        else:
            sk_params["learning_rate_init"] *= factor
        return MLPRegressor(**sk_params), 2.0
    return MLPRegressor(loss="poisson", **sk_params), 1.0


def initial_weights(ours, layer_sizes, dtype=np.float64):
    """The weights a fresh fit of ``ours`` starts from, and its random state after drawing them."""
    rng = check_random_state(ours.random_state)
    params = initialize_parameters(layer_sizes, ours.init, rng, ours.activation, dtype)
    return [c.copy() for c in params.coefs], [b.copy() for b in params.intercepts], rng


def sklearn_from_weights(ours, X, y, coefs, intercepts, random_state):
    """scikit-learn's twin of ``ours``, ready to continue from ``coefs`` and ``intercepts``.

    Returns the unfitted-looking twin (fit or partial_fit it next) and the factor between our
    reported loss and scikit-learn's.
    """
    n_outputs = coefs[-1].shape[1]
    sk, loss_scale = _sklearn_params(ours, n_outputs, X.shape[0])
    max_iter = sk.max_iter
    # one throw-away iteration builds the label binarizer and the layer shapes
    sk.set_params(max_iter=1, warm_start=True, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sk.fit(X, y)
    sk.coefs_ = [c.astype(X.dtype) for c in coefs]
    sk.intercepts_ = [b.astype(X.dtype) for b in intercepts]
    sk.n_iter_, sk.t_, sk.loss_curve_, sk._no_improvement_count = 0, 0, [], 0
    if sk.early_stopping:
        sk.validation_scores_, sk.best_validation_score_, sk.best_loss_ = [], -np.inf, None
    else:
        sk.best_loss_ = np.inf
    sk.__dict__.pop("_optimizer", None)
    sk.set_params(max_iter=max_iter, random_state=random_state)
    return sk, loss_scale


def fit_twins(ours, X, y, sample_weight=None):
    """Fit ``ours`` and scikit-learn's MLP from the same weights and random state.

    Returns ``(ours, sk, loss_scale)``: our reported losses are ``loss_scale`` times
    scikit-learn's.
    """
    ours.fit(X, y, sample_weight=sample_weight)
    layer_sizes = [ours.coefs_[0].shape[0]] + [c.shape[1] for c in ours.coefs_]
    coefs, intercepts, rng = initial_weights(ours, layer_sizes)
    sk, loss_scale = sklearn_from_weights(ours, X, y, coefs, intercepts, rng)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sk.fit(X, y, sample_weight=sample_weight)
    return ours, sk, loss_scale


def max_weight_diff(a, b):
    """Largest absolute difference between the weights and biases of two fitted MLPs."""
    pairs = zip(list(a.coefs_) + list(a.intercepts_), list(b.coefs_) + list(b.intercepts_))
    return max(float(np.max(np.abs(np.subtract(p, q, dtype=float)))) for p, q in pairs)
