"""ScratchMLPClassifier: labels in, labels and probabilities out."""

import math
from numbers import Real

import numpy as np
from numpy.typing import ArrayLike
from sklearn.base import ClassifierMixin, _fit_context
from sklearn.metrics import accuracy_score
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.class_weight import compute_sample_weight
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import type_of_target, unique_labels

from ._base import (
    BaseScratchMLP,
    _all_or_nothing,
    _FitCall,
    _kernels_of,
    _labels_for,
    outputs_namespace,
)
from ._docs import estimator_docstring
from .core import make_loss

_LOSS_DOC = """\
    loss : {"log_loss", "squared_error"}, default="log_loss"
        ``"squared_error"`` is ``mean((y - p) ** 2)`` over all entries, the tutorial's MSE.
"""


def _check_class_weight_value(label, weight) -> None:
    """A class weight must be a finite number >= 0 (0 drops the class from the loss)."""
    is_number = isinstance(weight, Real) and not isinstance(weight, bool | np.bool_)
    if not (is_number and math.isfinite(weight) and weight >= 0):
        raise ValueError(
            f"class_weight[{label!r}] = {weight!r} is not a valid class weight: class_weight "
            "values must be finite numbers >= 0 (a weight multiplies the loss of the samples "
            "of its class)."
        )


class ScratchMLPClassifier(ClassifierMixin, BaseScratchMLP):
    __doc__ = estimator_docstring(
        """Multilayer perceptron classifier, written from scratch in NumPy.

    Binary and multiclass targets (labels of any type) and multilabel indicator matrices.
    The output layer is one sigmoid unit for binary targets, a softmax over the classes for
    multiclass targets and one sigmoid per label for multilabel targets.

    Parameters
    ----------
{parameters}    class_weight : dict, "balanced" or None, default=None
        Weights per class, multiplied into ``sample_weight``: finite numbers ``>= 0``; a
        class missing from the dict has weight 1. ``"balanced"`` weights each class by
        ``n_samples / (n_classes * count)`` (for multilabel targets, the product of each
        label's balanced weight; it needs the whole training set, so ``partial_fit`` takes a
        dict only).

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels (for multilabel targets, ``arange(n_labels)``).
{attributes}    See Also
    --------
    ScratchMLPRegressor : The same network for regression.
    sklearn.neural_network.MLPClassifier : scikit-learn's multilayer perceptron.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sknn_scratch import ScratchMLPClassifier
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = ScratchMLPClassifier(hidden_size=16, epochs=500, random_state=0)
    >>> clf.fit(X, y).score(X, y) > 0.95
    True
    >>> clf.predict_proba(X[:1]).shape
    (1, 3)
    """,
        no_hidden_model="logistic regression",
        stratified=" (stratified)",
        score="accuracy",
        score_cap="Accuracy",
        n_outputs="Number of output units.",
        out_activations='``"sigmoid"`` or ``"softmax"``',
        loss=_LOSS_DOC,
    )

    _parameter_constraints: dict = {
        **BaseScratchMLP._parameter_constraints,
        "loss": [StrOptions({"log_loss", "squared_error"})],
        "class_weight": [dict, StrOptions({"balanced"}), None],
    }

    def __init__(
        self,
        hidden_size: int | tuple[int, ...] = 100,
        activation: str = "sigmoid",
        *,
        loss: str = "log_loss",
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
        class_weight: dict | str | None = None,
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
        self.class_weight = class_weight
        self.warmup_epochs = warmup_epochs
        self.max_grad_norm = max_grad_norm
        self.dropout = dropout

    # ------------------------------------------------------------------ fitting

    @_all_or_nothing
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(
        self, X: ArrayLike, y: ArrayLike, sample_weight: ArrayLike | None = None
    ) -> "ScratchMLPClassifier":
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
        return self._fit(X, y, sample_weight, _FitCall.fit(self))

    @available_if(lambda est: est.solver != "lbfgs")
    @_all_or_nothing
    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(
        self,
        X: ArrayLike,
        y: ArrayLike,
        classes: ArrayLike | None = None,
        sample_weight: ArrayLike | None = None,
    ) -> "ScratchMLPClassifier":
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
        return self._fit(X, y, sample_weight, _FitCall.partial_fit(self, classes))

    def _encode_y(self, y, call):
        y_type = type_of_target(y, input_name="y")
        if y_type not in ("binary", "multiclass", "multilabel-indicator"):
            raise ValueError(
                f"Unknown label type: {y_type!r}. ScratchMLPClassifier handles binary, "
                "multiclass and multilabel-indicator targets; for a continuous target use "
                "ScratchMLPRegressor."
            )
        if call.reset:
            self._fit_label_binarizer(y, call.classes, y_type)
        elif call.chunk:
            self._check_known_labels(y)  # a chunk may hold a subset of the classes
        else:
            self._check_same_classes(y)
        return self._indicator_columns(y)

    def _indicator_columns(self, y):
        """The label binarizer's encoding of ``y``: a 0/1 column per class (one column, the
        second class's, for binary targets).

        Labels in a plain 1-d array are looked up among the sorted ``classes_`` directly,
        which gives the binarizer's result without its repeated checks of the target (most
        of a small fit's fixed cost); anything else goes through the binarizer.
        """
        binarizer, classes = self._label_binarizer, self.classes_
        if binarizer.y_type_ == "multilabel-indicator" or y.ndim != 1 or y.dtype == object:
            return binarizer.transform(y)
        column = np.searchsorted(classes, y).clip(0, len(classes) - 1)
        if not np.array_equal(classes[column], y):  # an unknown label: the binarizer says so
            return binarizer.transform(y)
        if len(classes) == 2:
            return column[:, np.newaxis]
        indicators = np.zeros((len(y), len(classes)), dtype=column.dtype)
        indicators[np.arange(len(y)), column] = 1
        return indicators

    def _target_dtype(self, X_dtype, kernels):
        """0/1 indicator columns are kept as bytes with NumPy, an eighth of float64's memory
        (each batch gets them in the network's dtype, see :class:`.core.TrainingData`)."""
        return np.uint8 if kernels.in_place else super()._target_dtype(X_dtype, kernels)

    def _fit_label_binarizer(self, y, classes, y_type):
        multilabel = y_type == "multilabel-indicator"
        if classes is None and _plain_numeric_labels(y):
            binarizer = _fitted_label_binarizer(np.unique(y), y_type)
        else:
            binarizer = LabelBinarizer().fit(y if classes is None or multilabel else classes)
        if len(binarizer.classes_) < 2:
            raise ValueError(
                f"The target y has only one class ({binarizer.classes_[0]}); a classifier "
                "needs samples of at least 2 classes."
            )
        self._label_binarizer = binarizer
        self.classes_ = binarizer.classes_
        if classes is not None:
            self._check_known_labels(y)

    def _check_same_classes(self, y):
        """A warm-started fit continues the same output layer: the same classes, all of them."""
        if self._label_binarizer.y_type_ == "multilabel-indicator":
            self._check_known_labels(y)
            return
        present = unique_labels(y)
        if not np.array_equal(present, self.classes_):
            raise ValueError(
                "warm_start=True continues the previous fit, so y must have the same classes "
                f"as before: the previous fit had {self.classes_.tolist()}, y has "
                f"{present.tolist()}. Set warm_start=False to fit from scratch, or use "
                "partial_fit, which accepts a subset of the classes."
            )

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

    def _get_loss(self):
        """The loss for the target's kind: a softmax output for multiclass targets (categorical
        log-loss), one sigmoid unit per label otherwise (binary log-loss)."""
        multiclass = self._label_binarizer.y_type_ == "multiclass"
        return make_loss(self.loss, "softmax" if multiclass else "sigmoid")

    def _extra_sample_weight(self, y, call):
        if self.class_weight is None:
            return None
        if call.chunk and self.class_weight == "balanced":
            raise ValueError(
                "class_weight='balanced' needs the class frequencies of the whole training "
                "set, which partial_fit never sees. Compute them once with "
                "sklearn.utils.class_weight.compute_class_weight('balanced', classes=classes, "
                "y=y_all) and pass the resulting dict as class_weight."
            )
        if self.class_weight == "balanced":
            return compute_sample_weight("balanced", y)
        if y.ndim == 2:
            raise ValueError(
                "class_weight as a dict weights the classes of a binary or multiclass target; "
                "for a multilabel indicator y use class_weight='balanced' or pass "
                "sample_weight."
            )
        return self._class_weight_of(y)

    def _class_weight_of(self, y):
        """The weight ``class_weight`` gives each label of ``y`` (1 for classes it omits).

        Looked up against ``classes_`` rather than the labels present in ``y``, so that a
        partial_fit chunk that lacks some weighted class is still weighted correctly.
        """
        unknown = [c for c in self.class_weight if c not in set(self.classes_.tolist())]
        if unknown:
            raise ValueError(
                f"class_weight has weights for {unknown}, which are not classes of y "
                f"({self.classes_.tolist()}). Give weights only for classes that occur."
            )
        for label, weight in self.class_weight.items():
            _check_class_weight_value(label, weight)
        per_class = np.array([self.class_weight.get(c, 1.0) for c in self.classes_.tolist()])
        return per_class[np.searchsorted(self.classes_, y)]

    def _stratify(self, y):
        return y if self._label_binarizer.y_type_ != "multilabel-indicator" else None

    def _score_outputs(self, y_true, outputs, sample_weight):
        return accuracy_score(y_true, self._decode(outputs), sample_weight=sample_weight)

    # ------------------------------------------------------------------ prediction

    def _decode(self, outputs):
        """Labels from network outputs (argmax, or a 0.5 threshold for sigmoid units)."""
        return self._label_binarizer.inverse_transform(outputs)

    def predict(self, X: ArrayLike) -> np.ndarray:
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
        outputs = self._forward(X, "predict")
        kernels = _kernels_of(outputs)  # labels are decoded on the host, then go back
        return _labels_for(self._decode(kernels.to_numpy(outputs)), kernels)

    def predict_proba(self, X: ArrayLike) -> np.ndarray:
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
        return self._probabilities(X, "predict_proba")

    def _probabilities(self, X, method):
        outputs = self._forward(X, method)
        xp = outputs_namespace(outputs)
        if self._label_binarizer.y_type_ == "binary":  # one sigmoid unit: P(second class)
            outputs = xp.concat([1 - outputs, outputs], axis=1)
        eps = float(xp.finfo(outputs.dtype).eps)
        return xp.clip(outputs, min=eps, max=1 - eps)

    def predict_log_proba(self, X: ArrayLike) -> np.ndarray:
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
        proba = self._probabilities(X, "predict_log_proba")
        return outputs_namespace(proba).log(proba)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags


def _plain_numeric_labels(y) -> bool:
    """Whether ``y`` is a 1-d array of numbers (or booleans): labels whose classes are
    ``np.unique(y)``, what the label binarizer finds."""
    return isinstance(y, np.ndarray) and y.ndim == 1 and y.dtype.kind in "biuf"


def _fitted_label_binarizer(classes, y_type):
    """A ``LabelBinarizer`` as ``fit`` leaves it for dense 1-d labels of ``y_type`` (already
    checked) with these sorted ``classes``: ``fit`` would check the target twice more, which
    is a fifth of a small fit's fixed cost."""
    binarizer = LabelBinarizer()
    binarizer.classes_, binarizer.y_type_, binarizer.sparse_input_ = classes, y_type, False
    return binarizer
