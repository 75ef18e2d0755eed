"""Parameter and attribute descriptions shared by both estimators' docstrings.

Written once, so that a default or a meaning changed here is changed in both. Each estimator's
docstring marks where the shared sections go (``{parameters}``, ``{attributes}``) and gives
the few words that differ (its loss, its score) to :func:`estimator_docstring`.
"""

SHARED_PARAMETERS = """\
    hidden_size : int or tuple of int, default=100
        Width of the hidden layer; a tuple gives one hidden layer per entry (the tutorial's
        ``hidden_size``). An empty tuple gives no hidden layer ({no_hidden_model}).
    activation : str, default="sigmoid"
        Activation of the hidden layers (the tutorial uses the sigmoid): ``"sigmoid"``,
        ``"tanh"``, ``"relu"``, ``"identity"``, ``"leaky_relu"`` (slope 0.01 below zero),
        ``"elu"`` (``alpha=1``), ``"gelu"`` (the exact ``z * Phi(z)``, ``Phi`` the standard
        normal CDF), ``"softplus"`` (``log(1 + exp(z))``) or ``"silu"`` (``z * sigmoid(z)``).
{loss}    solver : {"adam", "sgd", "lbfgs"}, default="adam"
        ``"sgd"`` with ``momentum=0`` and ``batch_size=None`` is the tutorial's full-batch
        gradient descent; ``"lbfgs"`` is SciPy's L-BFGS-B on all parameters at once.
    alpha : float, default=1e-4
        L2 penalty ``alpha / 2 * sum(W ** 2)``, divided by the batch's total sample weight.
    batch_size : int, "auto" or None, default="auto"
        Samples per mini-batch. ``"auto"`` is ``min(200, n_samples)``; ``None`` uses the whole
        training set as one batch (the tutorial). Ignored by ``"lbfgs"``.
    learning_rate : float, default=0.01
        Step size (the tutorial's ``learning_rate``; scikit-learn's ``learning_rate_init``).
    learning_rate_schedule : {"constant", "invscaling", "adaptive", "cosine"}, default="constant"
        How ``"sgd"`` and ``"adam"`` change the step size between epochs (scikit-learn's
        ``learning_rate``, which applies to ``"sgd"`` only). ``"invscaling"``: divided by
        ``(t + 1) ** power_t``, ``t`` the samples seen; ``"adaptive"``: divided by 5 each
        time the loss stops improving; ``"cosine"``: a linear warm-up over
        ``warmup_epochs``, then a cosine decay to zero at ``epochs``.
    power_t : float, default=0.5
        Exponent of the ``"invscaling"`` schedule.
    warmup_epochs : int, default=0
        Epochs of linear warm-up of the ``"cosine"`` schedule (ignored by the others).
    max_grad_norm : float or None, default=None
        Clip each mini-batch's gradient to this L2 norm, taken over all parameters at once,
        before the ``"sgd"`` or ``"adam"`` update: a batch with an exploding gradient then
        moves the weights by a bounded step. None: no clipping.
    dropout : float, default=0.0
        Fraction of hidden units dropped at random in each training batch (``"sgd"`` and
        ``"adam"``), drawn from ``random_state``; kept units are scaled by
        ``1 / (1 - dropout)``, so prediction uses every unit with no rescaling. A regulariser
        for large networks on small data.
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
        Hold out ``validation_fraction`` of the training data{stratified}, stop when its
        {score} stops improving, and keep the best weights seen.
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
    init : {"glorot", "normal", "he"}, default="glorot"
        Initial weights: Glorot uniform, the tutorial's standard normal, or He normal
        (standard deviation ``sqrt(2 / fan_in)``, for relu-like activations); biases zero.
"""

SHARED_ATTRIBUTES = """\
    coefs_ : list of ndarray
        ``coefs_[i]`` is the ``(n_in, n_out)`` weight matrix of layer ``i + 1``; ``coefs_[0]``
        is the tutorial's ``W1``.
    intercepts_ : list of ndarray
        ``intercepts_[i]`` is the bias vector of layer ``i + 1``.
    n_features_in_ : int
        Number of features seen in ``fit``.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of the features seen in ``fit``, when ``X`` had string column names.
    n_iter_ : int
        Epochs (iterations for ``"lbfgs"``) run by the last call to ``fit`` or
        ``partial_fit``, as in scikit-learn; ``loss_curve_`` and ``t_`` keep counting across
        ``warm_start`` fits and ``partial_fit`` calls.
    t_ : int
        Training samples seen by the solver.
    n_layers_ : int
        Number of layers, input and output included.
    n_outputs_ : int
        {n_outputs}
    out_activation_ : str
        Output activation: {out_activations}.
    loss_ : float
        Loss at the last epoch.
    best_loss_ : float or None
        Lowest training loss seen (None with early stopping).
    loss_curve_ : list of float
        Training loss at every epoch (every iteration for ``"lbfgs"``).
    validation_scores_ : list of float or None
        {score_cap} on the held-out data at every epoch, with early stopping.
    validation_loss_curve_ : list of float or None
        Loss on the held-out data at every epoch, with early stopping.
    best_validation_score_ : float or None
        Best of ``validation_scores_``.

"""


def estimator_docstring(template: str, **words: str) -> str:
    """``template`` with the shared sections put in and their ``{name}`` slots filled.

    Plain replacement rather than ``str.format``, since the descriptions contain braces.
    """
    text = template.replace("{parameters}", SHARED_PARAMETERS)
    text = text.replace("{attributes}", SHARED_ATTRIBUTES)
    for name, value in words.items():
        text = text.replace("{" + name + "}", value)
    return text
