"""ScratchMLPClassifier: labels in, labels and probabilities out."""

import numpy as np
from sklearn.base import ClassifierMixin, _fit_context
from sklearn.metrics import accuracy_score
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.class_weight import compute_sample_weight
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import type_of_target, unique_labels
from sklearn.utils.validation import column_or_1d

from ._base import BaseScratchMLP


class ScratchMLPClassifier(ClassifierMixin, BaseScratchMLP):
    """Multilayer perceptron classifier, written from scratch in NumPy.

    Binary and multiclass targets (labels of any type) and multilabel indicator matrices.
    The output layer is one sigmoid unit for binary targets, a softmax over the classes for
    multiclass targets and one sigmoid per label for multilabel targets.

    Parameters
    ----------
    hidden_size : int or tuple of int, default=100
        Width of the hidden layer; a tuple gives one hidden layer per entry (the tutorial's
        ``hidden_size``). An empty tuple gives no hidden layer (logistic regression).
    activation : {"sigmoid", "tanh", "relu", "identity"}, default="sigmoid"
        Activation of the hidden layers (the tutorial uses the sigmoid).
    loss : {"log_loss", "squared_error"}, default="log_loss"
        ``"squared_error"`` is ``mean((y - p) ** 2)`` over all entries, the tutorial's MSE.
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
        Hold out ``validation_fraction`` of the training data (stratified), stop when its
        accuracy stops improving, and keep the best weights seen.
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
    class_weight : dict, "balanced" or None, default=None
        Weights per class, multiplied into ``sample_weight``. ``"balanced"`` weights each
        class by ``n_samples / (n_classes * count)``.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels (for multilabel targets, ``arange(n_labels)``).
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
        Epochs run (iterations for ``"lbfgs"``).
    t_ : int
        Training samples seen by the solver.
    n_layers_ : int
        Number of layers, input and output included.
    n_outputs_ : int
        Number of output units.
    out_activation_ : str
        Output activation: ``"sigmoid"`` or ``"softmax"``.
    loss_ : float
        Loss at the last epoch.
    best_loss_ : float or None
        Lowest training loss seen (None with early stopping).
    loss_curve_ : list of float
        Training loss at every epoch (every iteration for ``"lbfgs"``).
    validation_scores_ : list of float or None
        Accuracy on the held-out data at every epoch, with early stopping.
    validation_loss_curve_ : list of float or None
        Loss on the held-out data at every epoch, with early stopping.
    best_validation_score_ : float or None
        Best of ``validation_scores_``.

    See Also
    --------
    ScratchMLPRegressor : The same network for regression.
    sklearn.neural_network.MLPClassifier : scikit-learn's multilayer perceptron.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sknn_scratch import ScratchMLPClassifier
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = ScratchMLPClassifier(hidden_size=16, learning_rate=0.01, random_state=0)
    >>> clf.fit(X, y).score(X, y) > 0.95
    True
    >>> clf.predict_proba(X[:1]).shape
    (1, 3)
    """

    _parameter_constraints: dict = {
        **BaseScratchMLP._parameter_constraints,
        "loss": [StrOptions({"log_loss", "squared_error"})],
        "class_weight": [dict, StrOptions({"balanced"}), None],
    }

    def __init__(
        self,
        hidden_size=100,
        activation="sigmoid",
        *,
        loss="log_loss",
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
        class_weight=None,
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
        self.class_weight = class_weight

    # ------------------------------------------------------------------ fitting

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit the network to data ``X`` and labels ``y``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data; float32 data is trained in float32.
        y : array-like of shape (n_samples,) or (n_samples, n_labels)
            Class labels, or a multilabel indicator matrix.
        sample_weight : array-like of shape (n_samples,), default=None
            Weight of each sample in the loss (a weighted mean); a zero weight drops its
            sample and an integer weight ``k`` counts it ``k`` times.

        Returns
        -------
        self : ScratchMLPClassifier
            The fitted classifier.
        """
        return self._fit(X, y, sample_weight)

    @available_if(lambda est: est.solver != "lbfgs")
    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, classes=None, sample_weight=None):
        """Train for one epoch over ``(X, y)``, continuing from the current weights.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            A chunk of training data.
        y : array-like of shape (n_samples,) or (n_samples, n_labels)
            Its labels.
        classes : array-like of shape (n_classes,), default=None
            Every class that will ever be seen. Required on the first call, since a chunk
            need not contain them all; ignored afterwards.
        sample_weight : array-like of shape (n_samples,), default=None
            Weight of each sample in the loss.

        Returns
        -------
        self : ScratchMLPClassifier
            The updated classifier.
        """
        if not hasattr(self, "coefs_") and classes is None:
            raise ValueError(
                "classes must be passed on the first call to partial_fit, since a chunk need "
                "not contain every class: pass classes=np.unique(y_all)."
            )
        if hasattr(self, "coefs_") and classes is not None:
            if not np.array_equal(unique_labels(classes), self.classes_):
                raise ValueError(
                    f"classes={list(classes)} differs from classes_={self.classes_.tolist()} "
                    "set by the first call to partial_fit."
                )
        return self._fit(X, y, sample_weight, incremental=True, classes=classes)

    def _encode_y(self, y, *, reset, classes=None):
        y_type = type_of_target(y, input_name="y")
        if y_type not in ("binary", "multiclass", "multilabel-indicator"):
            raise ValueError(
                f"Unknown label type: {y_type!r}. ScratchMLPClassifier handles binary, "
                "multiclass and multilabel-indicator targets; for a continuous target use "
                "ScratchMLPRegressor."
            )
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        if reset:
            self._fit_label_binarizer(y, classes)
        else:
            self._check_known_labels(y)
        return self._label_binarizer.transform(y)

    def _fit_label_binarizer(self, y, classes):
        multilabel = type_of_target(y) == "multilabel-indicator"
        binarizer = LabelBinarizer().fit(y if classes is None or multilabel else classes)
        if len(binarizer.classes_) < 2:
            raise ValueError(
                f"The target y has only one class ({binarizer.classes_[0]!r}); a classifier "
                "needs samples of at least 2 classes."
            )
        self._label_binarizer = binarizer
        self.classes_ = binarizer.classes_
        if classes is not None:
            self._check_known_labels(y)

    def _check_known_labels(self, y):
        if self._label_binarizer.y_type_ == "multilabel-indicator":
            if y.ndim != 2 or y.shape[1] != len(self.classes_):
                raise ValueError(
                    f"y must be an indicator matrix with {len(self.classes_)} columns, like "
                    "the one the classifier was first fitted on."
                )
            return
        unknown = np.setdiff1d(unique_labels(y), self.classes_)
        if len(unknown):
            raise ValueError(
                f"y contains labels {unknown.tolist()} that are not in classes_ "
                f"{self.classes_.tolist()}. Pass every class to the first partial_fit call "
                "(classes=...), or refit with warm_start=False."
            )

    def _output_activation(self):
        return "softmax" if self._label_binarizer.y_type_ == "multiclass" else "sigmoid"

    def _extra_sample_weight(self, y, incremental):
        if self.class_weight is None:
            return None
        if incremental and self.class_weight == "balanced":
            raise ValueError(
                "class_weight='balanced' needs the class frequencies of the whole training "
                "set, which partial_fit never sees. Compute them once with "
                "sklearn.utils.class_weight.compute_class_weight('balanced', classes=classes, "
                "y=y_all) and pass the resulting dict as class_weight."
            )
        return compute_sample_weight(self.class_weight, y)

    def _stratify(self, y):
        return y if self._label_binarizer.y_type_ != "multilabel-indicator" else None

    def _score_outputs(self, y_true, outputs, sample_weight):
        return accuracy_score(y_true, self._decode(outputs), sample_weight=sample_weight)

    # ------------------------------------------------------------------ prediction

    def _decode(self, outputs):
        """Labels from network outputs (argmax, or a 0.5 threshold for sigmoid units)."""
        return self._label_binarizer.inverse_transform(outputs)

    def predict(self, X):
        """Predict class labels for ``X``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The data.

        Returns
        -------
        y : ndarray of shape (n_samples,) or (n_samples, n_labels)
            Predicted labels (an indicator matrix for multilabel targets).
        """
        return self._decode(self._forward(X))

    def predict_proba(self, X):
        """Probability of each class for each sample of ``X``.

        Probabilities are kept strictly between 0 and 1 (by at least the dtype's machine
        epsilon), so their logarithms are finite.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The data.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Columns follow ``classes_``. For multilabel targets, the probability of each
            label independently.
        """
        outputs = self._forward(X)
        if self._label_binarizer.y_type_ == "binary":
            outputs = np.hstack([1 - outputs, outputs])
        eps = np.finfo(outputs.dtype).eps
        return np.clip(outputs, eps, 1 - eps, out=outputs)

    def predict_log_proba(self, X):
        """Logarithm of :meth:`predict_proba`.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The data.

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
            Log-probabilities, columns following ``classes_``.
        """
        return np.log(self.predict_proba(X))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags
