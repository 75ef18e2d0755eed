"""The fitted network as scikit-learn's own ``MLPClassifier`` / ``MLPRegressor``.

scikit-learn's MLP computes the same forward pass, so a network whose hidden activation and
output layer it knows is carried over weight for weight and predicts the same. Its training
settings are carried where scikit-learn has them; a further ``fit`` or ``partial_fit`` of
the copy then follows scikit-learn's rules (its loss, no dropout, its schedules).
"""

import numpy as np
from sklearn.neural_network import MLPClassifier, MLPRegressor

from .core.kernels import to_numpy

# our hidden activation -> scikit-learn's name for it
SKLEARN_ACTIVATIONS = {
    "identity": "identity",
    "sigmoid": "logistic",
    "tanh": "tanh",
    "relu": "relu",
}
# our output layer -> scikit-learn's name for it
SKLEARN_OUTPUTS = {
    "sigmoid": "logistic",
    "softmax": "softmax",
    "identity": "identity",
    "exp": "exp",
}
SKLEARN_SCHEDULES = ("constant", "invscaling", "adaptive")


def _parameters(model) -> dict:
    """Our training settings under scikit-learn's names, where it has them."""
    schedule = model.learning_rate_schedule
    batch_size = model.batch_size
    return dict(
        hidden_layer_sizes=tuple(int(n) for n in np.atleast_1d(model.hidden_size)),
        activation=SKLEARN_ACTIVATIONS[model.activation],
        solver=model.solver,
        alpha=model.alpha,
        batch_size="auto" if batch_size is None else batch_size,
        learning_rate=schedule if schedule in SKLEARN_SCHEDULES else "constant",
        learning_rate_init=model.learning_rate,
        power_t=model.power_t,
        max_iter=model.epochs,
        shuffle=model.shuffle,
        random_state=model.random_state,
        tol=model.tol,
        momentum=model.momentum,
        nesterovs_momentum=model.nesterovs_momentum,
        early_stopping=model.early_stopping,
        validation_fraction=model.validation_fraction,
        beta_1=model.beta_1,
        beta_2=model.beta_2,
        epsilon=model.epsilon,
        n_iter_no_change=model.n_iter_no_change,
        max_fun=model.max_fun,
    )


def _check_representable(model) -> None:
    problems = []
    if model.activation not in SKLEARN_ACTIVATIONS:
        problems.append(
            f"activation={model.activation!r} (scikit-learn's MLP has "
            f"{sorted(SKLEARN_ACTIVATIONS)})"
        )
    if model.out_activation_ not in SKLEARN_OUTPUTS:
        problems.append(f"an output layer {model.out_activation_!r}")
    if problems:
        raise ValueError(
            f"{type(model).__name__} cannot be represented by scikit-learn's MLP: it has no "
            f"{' and no '.join(problems)}. Fit with one of those activations to export it."
        )


def to_sklearn_mlp(model):
    """An ``MLPClassifier`` / ``MLPRegressor`` with ``model``'s weights and fitted state."""
    _check_representable(model)
    params = _parameters(model)
    if hasattr(model, "classes_"):
        sk = MLPClassifier(**params)
        sk.classes_ = model.classes_
        sk._label_binarizer = model._label_binarizer
    else:
        sk = MLPRegressor(loss="poisson" if model.loss == "poisson" else "squared_error", **params)
    sk.coefs_ = [to_numpy(c, None).copy() for c in model.coefs_]
    sk.intercepts_ = [to_numpy(b, None).copy() for b in model.intercepts_]
    sk.n_layers_ = model.n_layers_
    sk.n_outputs_ = model.n_outputs_
    sk.out_activation_ = SKLEARN_OUTPUTS[model.out_activation_]
    sk.n_features_in_ = model.n_features_in_
    if hasattr(model, "feature_names_in_"):
        sk.feature_names_in_ = model.feature_names_in_
    sk.n_iter_, sk.t_ = model.n_iter_, model.t_
    sk.loss_, sk.loss_curve_ = model.loss_, list(model.loss_curve_)
    sk.best_loss_ = model.best_loss_
    sk.validation_scores_ = model.validation_scores_
    sk.best_validation_score_ = model.best_validation_score_
    sk._no_improvement_count = 0  # what scikit-learn's partial_fit counts on
    return sk
