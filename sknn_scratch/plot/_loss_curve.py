"""The learning curves of a fitted network: :class:`LossCurveDisplay`."""

from __future__ import annotations

import numpy as np
from sklearn.utils.validation import check_is_fitted

from ._common import _import_pyplot, _set_title_if_any


def _as_curve(values, name: str) -> np.ndarray | None:
    """``values`` as a 1-D float array, or None when there is nothing to draw."""
    if values is None:
        return None
    curve = np.asarray(values, dtype=float)
    if curve.ndim != 1:
        raise ValueError(f"{name} must be a 1-D sequence of numbers, got shape {curve.shape}.")
    return curve if curve.size else None


def _epochs(curve: np.ndarray) -> np.ndarray:
    """The epochs of a curve's values, from 1."""
    return np.arange(1, curve.size + 1)


def _check_has_loss_curve(estimator) -> None:
    """Raise a clear error unless ``estimator`` recorded a ``loss_curve_``."""
    if getattr(estimator, "loss_curve_", None) is None:
        raise ValueError(
            f"{type(estimator).__name__} has no loss_curve_ to plot. LossCurveDisplay "
            "draws networks trained by gradient descent, such as ScratchMLPClassifier "
            "and ScratchMLPRegressor."
        )


class LossCurveDisplay:
    """Learning curves of a fitted network: training loss, and validation loss and score.

    The training loss is drawn against the epoch on the left axis. When the network was
    fitted with ``early_stopping=True``, the loss on the held-out data is drawn on the same
    axis, the validation score (accuracy or R²) on a second axis at the right, and a dotted
    vertical line marks the epoch with the best score, whose weights the estimator kept.

    Build it with :meth:`from_estimator`; create the object directly only to draw curves
    that you stored yourself. Calling :meth:`plot` (which :meth:`from_estimator` does) sets
    the attributes below.

    Parameters
    ----------
    loss_curve : array-like of shape (n_epochs,)
        Training loss at each epoch (``loss_curve_``).
    validation_loss_curve : array-like of shape (n_epochs,), default=None
        Loss on the held-out data at each epoch (``validation_loss_curve_``).
    validation_scores : array-like of shape (n_epochs,), default=None
        Score on the held-out data at each epoch (``validation_scores_``).
    estimator_name : str, default=None
        Name used in the title of the axes.
    xlabel : str, default="Epoch"
        Label of the x axis (``"Iteration"`` suits the ``"lbfgs"`` solver).

    Attributes
    ----------
    loss_line_ : matplotlib.lines.Line2D
        The training loss curve.
    validation_loss_line_ : matplotlib.lines.Line2D or None
        The validation loss curve, if there is one.
    score_line_ : matplotlib.lines.Line2D or None
        The validation score curve, if there is one.
    best_epoch_line_ : matplotlib.lines.Line2D or None
        The vertical line at the best validation score, if there are scores.
    ax_ : matplotlib.axes.Axes
        The axes of the loss curves.
    score_ax_ : matplotlib.axes.Axes or None
        The right-hand axes of the validation score, sharing ``ax_``'s x axis.
    figure_ : matplotlib.figure.Figure
        The figure holding the axes.

    See Also
    --------
    sklearn.model_selection.LearningCurveDisplay : Scores against the training-set size.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from sklearn.datasets import load_iris
    >>> from sknn_scratch import ScratchMLPClassifier
    >>> from sknn_scratch.plot import LossCurveDisplay
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = ScratchMLPClassifier(hidden_size=16, learning_rate=0.01, early_stopping=True,
    ...                            random_state=0).fit(X, y)
    >>> display = LossCurveDisplay.from_estimator(clf)
    >>> len(display.loss_line_.get_xdata()) == clf.n_iter_
    True
    >>> display.score_ax_.get_ylabel()
    'Validation score'
    """

    def __init__(
        self,
        *,
        loss_curve,
        validation_loss_curve=None,
        validation_scores=None,
        estimator_name: str | None = None,
        xlabel: str = "Epoch",
    ):
        self.loss_curve = loss_curve
        self.validation_loss_curve = validation_loss_curve
        self.validation_scores = validation_scores
        self.estimator_name = estimator_name
        self.xlabel = xlabel

    def plot(
        self,
        ax=None,
        *,
        name: str | None = None,
        log_scale: bool = False,
        loss_kwargs: dict | None = None,
        validation_loss_kwargs: dict | None = None,
        score_kwargs: dict | None = None,
    ) -> LossCurveDisplay:
        """Draw the curves.

        Parameters
        ----------
        ax : matplotlib.axes.Axes, default=None
            Axes to draw on; a new figure and axes are created when None.
        name : str, default=None
            Title of the axes; ``estimator_name`` when None.
        log_scale : bool, default=False
            Draw the losses on a logarithmic y axis.
        loss_kwargs : dict, default=None
            Keyword arguments passed to ``ax.plot`` for the training loss.
        validation_loss_kwargs : dict, default=None
            Keyword arguments passed to ``ax.plot`` for the validation loss.
        score_kwargs : dict, default=None
            Keyword arguments passed to ``plot`` for the validation score.

        Returns
        -------
        display : LossCurveDisplay
            This object, with the ``*_line_``, ``ax_``, ``score_ax_`` and ``figure_``
            attributes set.
        """
        plt = _import_pyplot("LossCurveDisplay.plot")
        loss, validation_loss, scores = self._validated_curves()
        if ax is None:
            _, ax = plt.subplots()
        self._draw_losses(
            ax, loss, validation_loss, log_scale, loss_kwargs, validation_loss_kwargs
        )
        # every labelled line of the axes, so that curves drawn by earlier calls on the same
        # axes (to compare networks) stay in the legend
        lines = [line for line in ax.get_lines() if not line.get_label().startswith("_")]
        self.score_ax_ = self.score_line_ = self.best_epoch_line_ = None
        if scores is not None:
            self._draw_scores(ax, scores, score_kwargs)
            lines += [self.score_line_, self.best_epoch_line_]
        ax.legend(lines, [line.get_label() for line in lines], loc="best")
        _set_title_if_any(ax, self.estimator_name if name is None else name)
        self.ax_ = ax
        self.figure_ = ax.figure
        return self

    def _validated_curves(self):
        """The training loss, validation loss and scores as 1-D arrays (the last two None
        when absent), or an error when there is no training loss to draw."""
        loss = _as_curve(self.loss_curve, "loss_curve")
        if loss is None:
            raise ValueError("loss_curve is empty: there is nothing to plot.")
        validation_loss = _as_curve(self.validation_loss_curve, "validation_loss_curve")
        scores = _as_curve(self.validation_scores, "validation_scores")
        return loss, validation_loss, scores

    def _draw_losses(
        self, ax, loss, validation_loss, log_scale, loss_kwargs, validation_loss_kwargs
    ) -> None:
        """The training and validation losses against the epoch, on the left axis."""
        (self.loss_line_,) = ax.plot(
            _epochs(loss),
            loss,
            **{"color": "C0", "label": "Training loss", **(loss_kwargs or {})},
        )
        self.validation_loss_line_ = None
        if validation_loss is not None:
            (self.validation_loss_line_,) = ax.plot(
                _epochs(validation_loss),
                validation_loss,
                **{"color": "C1", "label": "Validation loss", **(validation_loss_kwargs or {})},
            )
        if log_scale:
            ax.set_yscale("log")
        ax.set_xlabel(self.xlabel)
        ax.set_ylabel("Loss")

    def _draw_scores(self, ax, scores, score_kwargs) -> None:
        """The validation score on a second axis at the right, and a dotted line at the
        epoch of the best score."""
        self.score_ax_ = ax.twinx()
        (self.score_line_,) = self.score_ax_.plot(
            _epochs(scores),
            scores,
            **{"color": "C2", "label": "Validation score", **(score_kwargs or {})},
        )
        self.score_ax_.set_ylabel("Validation score")
        best = int(np.argmax(scores)) + 1
        self.best_epoch_line_ = ax.axvline(
            best, color="0.4", linestyle=":", label=f"Best score (epoch {best})"
        )

    @classmethod
    def from_estimator(
        cls,
        estimator,
        *,
        ax=None,
        name: str | None = None,
        log_scale: bool = False,
        loss_kwargs: dict | None = None,
        validation_loss_kwargs: dict | None = None,
        score_kwargs: dict | None = None,
    ) -> LossCurveDisplay:
        """Draw the learning curves of a fitted network.

        Parameters
        ----------
        estimator : ScratchMLPClassifier or ScratchMLPRegressor
            A fitted network (anything with a ``loss_curve_``, such as scikit-learn's MLP,
            works too).
        ax : matplotlib.axes.Axes, default=None
            Axes to draw on; a new figure and axes are created when None.
        name : str, default=None
            Title of the axes; the estimator's class name when None.
        log_scale : bool, default=False
            Draw the losses on a logarithmic y axis.
        loss_kwargs : dict, default=None
            Keyword arguments passed to ``ax.plot`` for the training loss.
        validation_loss_kwargs : dict, default=None
            Keyword arguments passed to ``ax.plot`` for the validation loss.
        score_kwargs : dict, default=None
            Keyword arguments passed to ``plot`` for the validation score.

        Returns
        -------
        display : LossCurveDisplay
            The display, already drawn.
        """
        _import_pyplot("LossCurveDisplay.from_estimator")
        check_is_fitted(estimator)
        _check_has_loss_curve(estimator)
        lbfgs = getattr(estimator, "solver", None) == "lbfgs"
        display = cls(
            loss_curve=estimator.loss_curve_,
            validation_loss_curve=getattr(estimator, "validation_loss_curve_", None),
            validation_scores=getattr(estimator, "validation_scores_", None),
            estimator_name=type(estimator).__name__ if name is None else name,
            xlabel="Iteration" if lbfgs else "Epoch",
        )
        return display.plot(
            ax=ax,
            log_scale=log_scale,
            loss_kwargs=loss_kwargs,
            validation_loss_kwargs=validation_loss_kwargs,
            score_kwargs=score_kwargs,
        )
