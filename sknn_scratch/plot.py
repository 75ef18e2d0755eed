"""Plots of fitted networks, in scikit-learn's ``Display`` style.

matplotlib is an optional dependency: this module imports it only when something is drawn,
so ``import sknn_scratch.plot`` works without it.
"""

from __future__ import annotations

import numpy as np
from sklearn.utils.validation import check_is_fitted

__all__ = ["HiddenUnitsDisplay", "LayerMonitorDisplay", "LossCurveDisplay", "NetworkDisplay"]


def _import_pyplot(caller: str):
    """Import ``matplotlib.pyplot``, or say how to install it."""
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise ImportError(
            f"{caller} requires matplotlib, which is not installed. Install it with "
            "`pip install matplotlib` (or `pip install sknn-scratch[docs]`)."
        ) from exc
    return plt


def _as_curve(values, name: str) -> np.ndarray | None:
    """``values`` as a 1-D float array, or None when there is nothing to draw."""
    if values is None:
        return None
    curve = np.asarray(values, dtype=float)
    if curve.ndim != 1:
        raise ValueError(f"{name} must be a 1-D sequence of numbers, got shape {curve.shape}.")
    return curve if curve.size else None


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
        loss = _as_curve(self.loss_curve, "loss_curve")
        if loss is None:
            raise ValueError("loss_curve is empty: there is nothing to plot.")
        validation_loss = _as_curve(self.validation_loss_curve, "validation_loss_curve")
        scores = _as_curve(self.validation_scores, "validation_scores")
        if ax is None:
            _, ax = plt.subplots()

        epochs = np.arange(1, loss.size + 1)
        (self.loss_line_,) = ax.plot(
            epochs, loss, **{"color": "C0", "label": "Training loss", **(loss_kwargs or {})}
        )
        self.validation_loss_line_ = None
        if validation_loss is not None:
            (self.validation_loss_line_,) = ax.plot(
                np.arange(1, validation_loss.size + 1),
                validation_loss,
                **{"color": "C1", "label": "Validation loss", **(validation_loss_kwargs or {})},
            )
        if log_scale:
            ax.set_yscale("log")
        ax.set_xlabel(self.xlabel)
        ax.set_ylabel("Loss")

        self.score_ax_ = self.score_line_ = self.best_epoch_line_ = None
        # every labelled line of the axes, so that curves drawn by earlier calls on the same
        # axes (to compare networks) stay in the legend
        lines = [line for line in ax.get_lines() if not line.get_label().startswith("_")]
        if scores is not None:
            self.score_ax_ = ax.twinx()
            (self.score_line_,) = self.score_ax_.plot(
                np.arange(1, scores.size + 1),
                scores,
                **{"color": "C2", "label": "Validation score", **(score_kwargs or {})},
            )
            self.score_ax_.set_ylabel("Validation score")
            best = int(np.argmax(scores)) + 1
            self.best_epoch_line_ = ax.axvline(
                best, color="0.4", linestyle=":", label=f"Best score (epoch {best})"
            )
            lines += [self.score_line_, self.best_epoch_line_]
        ax.legend(lines, [line.get_label() for line in lines], loc="best")

        title = self.estimator_name if name is None else name
        if title:
            ax.set_title(title)
        self.ax_ = ax
        self.figure_ = ax.figure
        return self

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
        if getattr(estimator, "loss_curve_", None) is None:
            raise ValueError(
                f"{type(estimator).__name__} has no loss_curve_ to plot. LossCurveDisplay "
                "draws networks trained by gradient descent, such as ScratchMLPClassifier "
                "and ScratchMLPRegressor."
            )
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


# ---------------------------------------------------------------------------------------------
# Pictures of each layer: the network as TensorFlow Playground draws it, and its hidden units
# ---------------------------------------------------------------------------------------------

# TensorFlow Playground's colours (its ``colorScale``, domain [-1, 0, 1]): orange for negative
# values, blue for positive ones, a light grey for zero. Its grey (#e8eaeb) is a little blue;
# a neutral one keeps every negative value on the orange side, however small.
_PLAYGROUND_COLORS = ("#f59322", "#e9e9e9", "#0877bd")


def _playground_cmap(cmap=None):
    """``cmap`` as a colormap; the Playground's orange-grey-blue one when None."""
    from matplotlib.colors import LinearSegmentedColormap

    if cmap is None:
        return LinearSegmentedColormap.from_list("playground", _PLAYGROUND_COLORS)
    import matplotlib

    return matplotlib.colormaps[cmap] if isinstance(cmap, str) else cmap


def _unit_names(names, n_units: int, prefix: str) -> list:
    """``names`` as a list of strings, or ``prefix0, prefix1, ...`` when None."""
    if names is None:
        return [f"{prefix}{i}" for i in range(n_units)]
    names = [str(name) for name in names]
    if len(names) != n_units:
        raise ValueError(f"Expected {n_units} names, got {len(names)}: {names}.")
    return names


def _output_names(estimator) -> list:
    """Names of the output units: the classes a classifier's units stand for, or y."""
    n_outputs = estimator.coefs_[-1].shape[1]
    classes = getattr(estimator, "classes_", None)
    if classes is not None:
        # one sigmoid unit for a binary target: the probability of the second class
        shown = classes[1:] if n_outputs == 1 and len(classes) == 2 else classes
        if len(shown) == n_outputs:
            return [f"P({c})" for c in shown]
    return ["y"] if n_outputs == 1 else [f"y{i}" for i in range(n_outputs)]


def _strongest_connections(coef: np.ndarray, top_k: int) -> np.ndarray:
    """Indices ``(i, j)`` of the ``top_k`` largest ``|coef[i, j]|`` of each unit of the wider
    of the two layers (its incoming weights if it is the later layer, else its outgoing ones).

    Every weight joins one unit of each layer, so no weight is kept twice.
    """
    n_in, n_out = coef.shape
    strength = np.abs(coef)
    if n_out >= n_in:  # per unit j of the later layer: its strongest incoming weights
        k = min(top_k, n_in)
        rows = np.argsort(-strength, axis=0, kind="stable")[:k]  # (k, n_out)
        cols = np.broadcast_to(np.arange(n_out), rows.shape)
    else:  # per unit i of the earlier layer: its strongest outgoing weights
        k = min(top_k, n_out)
        cols = np.argsort(-strength, axis=1, kind="stable")[:, :k]  # (n_in, k)
        rows = np.broadcast_to(np.arange(n_in)[:, None], cols.shape)
    return np.column_stack([rows.ravel(), cols.ravel()])


def _count(n: int, noun: str) -> str:
    """``"1 unit"``, ``"2 units"``."""
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _caption(title: str, n_units: int, kind: str | None = None, noun: str = "unit") -> str:
    """A column's caption, one short line each: its title, its number of units, and their
    activation when known (``Hidden 1``, ``2 units``, ``relu``)."""
    return "\n".join([title, _count(n_units, noun), *([kind] if kind else [])])


def _column_positions(n_units: int, max_units: int) -> tuple[np.ndarray, float]:
    """Heights of a column's units, top to bottom and centred on 0, and their spacing: 1, or
    less for a column of more than ``max_units`` units, squeezed to ``max_units``' height."""
    spacing = 1.0 if n_units <= max_units else (max_units - 1) / (n_units - 1)
    return ((n_units - 1) / 2 - np.arange(n_units)) * spacing, spacing


class NetworkDisplay:
    """The network drawn the way TensorFlow Playground draws it: units and weights.

    Units are circles in columns, the input on the left, then each hidden layer, then the
    output. One line joins two units for each weight; its width grows with ``|w|`` (in
    proportion to ``|w| / max|w|`` over the whole network, above a minimum width) and its
    colour gives the sign, orange for negative and blue for positive as in the Playground.
    A unit's fill colour is its bias, on the same colour scale as the weights.

    A layer wider than ``max_units`` units would be a solid block of lines: there, each unit
    of the wider of the two layers a weight matrix joins keeps only its ``top_k`` strongest
    weights (largest ``|w|``), and the title says so.

    Build it with :meth:`from_estimator`; create the object directly to draw weights you
    hold yourself. Calling :meth:`plot` (which :meth:`from_estimator` does) sets the
    attributes below.

    Parameters
    ----------
    coefs : list of array-like of shape (n_units_in, n_units_out)
        Weight matrix of each layer (``coefs_``).
    intercepts : list of array-like of shape (n_units_out,)
        Biases of each layer (``intercepts_``).
    input_names : list of str, default=None
        Names of the inputs; ``x0, x1, ...`` when None.
    output_names : list of str, default=None
        Names of the outputs; ``y0, y1, ...`` when None.
    layer_names : list of str, default=None
        Caption of each column (input, hidden layers, output); "Input", "Hidden 1", ...,
        "Output" with the number of units when None.
    estimator_name : str, default=None
        Title of the axes.

    Attributes
    ----------
    lines_ : list of matplotlib.collections.LineCollection
        One collection per weight layer, one segment per weight drawn, weakest first (so the
        strongest lie on top).
    weights_ : list of ndarray of shape (n_drawn,)
        The weight each segment of ``lines_[l]`` stands for, in the segments' order.
    connections_ : list of ndarray of shape (n_drawn, 2)
        The ``(i, j)`` index of each drawn weight in ``coefs[l]``, in the segments' order.
    summarised_ : list of bool
        Whether each weight layer is drawn with only its strongest weights per unit.
    units_ : list of matplotlib.collections.EllipseCollection
        The circles of each column, input first; the fill colour of the later columns is
        the units' bias.
    unit_positions_ : list of ndarray of shape (n_units, 2)
        Where each column's units are, in data coordinates.
    norm_ : matplotlib.colors.Normalize
        The colour scale of weights and biases, symmetric around 0.
    colorbar_ : matplotlib.colorbar.Colorbar or None
        The colour bar of weights and biases, if one was drawn.
    ax_ : matplotlib.axes.Axes
        The axes of the picture.
    figure_ : matplotlib.figure.Figure
        The figure holding the axes.

    See Also
    --------
    HiddenUnitsDisplay : What each hidden unit responds to, over two input features.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from sklearn.datasets import load_iris
    >>> from sknn_scratch import ScratchMLPClassifier
    >>> from sknn_scratch.plot import NetworkDisplay
    >>> X, y = load_iris(return_X_y=True, as_frame=True)
    >>> clf = ScratchMLPClassifier(hidden_size=3, epochs=1000, random_state=0).fit(X, y)
    >>> display = NetworkDisplay.from_estimator(clf)
    >>> [len(w) for w in display.weights_]  # 4 x 3 and 3 x 3 weights
    [12, 9]
    >>> display.ax_.get_yticklabels()[0].get_text()
    'sepal length (cm)'
    """

    def __init__(
        self,
        *,
        coefs,
        intercepts,
        input_names=None,
        output_names=None,
        layer_names=None,
        estimator_name: str | None = None,
    ):
        self.coefs = coefs
        self.intercepts = intercepts
        self.input_names = input_names
        self.output_names = output_names
        self.layer_names = layer_names
        self.estimator_name = estimator_name

    def plot(
        self,
        ax=None,
        *,
        name: str | None = None,
        max_units: int = 16,
        top_k: int = 3,
        linewidths: tuple[float, float] = (0.5, 6.0),
        cmap=None,
        colorbar: bool = True,
    ) -> NetworkDisplay:
        """Draw the network.

        Parameters
        ----------
        ax : matplotlib.axes.Axes, default=None
            Axes to draw on; a new figure and axes are created when None.
        name : str, default=None
            Title of the axes; ``estimator_name`` when None.
        max_units : int, default=16
            Widest layer drawn with all its weights. A weight matrix touching a wider layer
            is drawn with the ``top_k`` strongest weights of each unit of its wider layer,
            and its column is squeezed to the height of ``max_units`` units.
        top_k : int, default=3
            Weights kept per unit where a layer is summarised.
        linewidths : (float, float), default=(0.5, 6.0)
            Width in points of the line of a zero weight and of the largest ``|w|``. Next
            to a squeezed column the widest line is narrower, in proportion to the column's
            spacing (down to twice the thinnest), so that the lines stay apart.
        cmap : str or matplotlib.colors.Colormap, default=None
            Diverging colormap of weights and biases; TensorFlow Playground's orange (for
            negative), grey and blue (for positive) when None.
        colorbar : bool, default=True
            Draw a colour bar of weights and biases under the axes.

        Returns
        -------
        display : NetworkDisplay
            This object, with the attributes set.
        """
        plt = _import_pyplot("NetworkDisplay.plot")
        from matplotlib.cm import ScalarMappable
        from matplotlib.collections import EllipseCollection, LineCollection
        from matplotlib.colors import Normalize

        coefs = [np.asarray(c, dtype=float) for c in self.coefs]
        intercepts = [np.asarray(b, dtype=float).ravel() for b in self.intercepts]
        if not coefs or any(c.ndim != 2 for c in coefs):
            raise ValueError("coefs must be a non-empty list of 2-D weight matrices.")
        sizes = [coefs[0].shape[0]] + [c.shape[1] for c in coefs]
        if [b.size for b in intercepts] != sizes[1:]:
            raise ValueError(
                f"intercepts have sizes {[b.size for b in intercepts]}, but the weight "
                f"matrices give layers of {sizes[1:]} units."
            )
        if max_units < 2 or top_k < 1:
            raise ValueError(f"max_units must be >= 2 and top_k >= 1, got {max_units}, {top_k}.")
        if ax is None:
            _, ax = plt.subplots(layout="constrained")
        cmap = _playground_cmap(cmap)
        largest_weight = max(float(np.abs(c).max(initial=0.0)) for c in coefs) or 1.0
        largest = max(largest_weight, *(float(np.abs(b).max(initial=0.0)) for b in intercepts))
        self.norm_ = Normalize(-largest, largest)

        self.unit_positions_, spacings = [], []
        for column, n_units in enumerate(sizes):
            heights, spacing = _column_positions(n_units, max_units)
            self.unit_positions_.append(np.column_stack([np.full(n_units, column), heights]))
            spacings.append(spacing)

        self.lines_, self.weights_, self.connections_, self.summarised_ = [], [], [], []
        thinnest, widest = linewidths
        for layer, coef in enumerate(coefs):
            summarised = max(coef.shape) > max_units and top_k < min(coef.shape)
            if summarised:
                pairs = _strongest_connections(coef, top_k)
            else:
                pairs = np.argwhere(np.ones(coef.shape, dtype=bool))
            weights = coef[pairs[:, 0], pairs[:, 1]]
            order = np.argsort(np.abs(weights), kind="stable")  # the strongest drawn last
            pairs, weights = pairs[order], weights[order]
            starts = self.unit_positions_[layer][pairs[:, 0]]
            ends = self.unit_positions_[layer + 1][pairs[:, 1]]
            # between squeezed columns, thinner lines, so that they do not merge into a block
            crowded = min(spacings[layer], spacings[layer + 1])
            wide = max(2 * thinnest, widest * crowded)
            lines = LineCollection(
                np.stack([starts, ends], axis=1),
                linewidths=thinnest + (wide - thinnest) * np.abs(weights) / largest_weight,
                colors=cmap(self.norm_(weights)),
                capstyle="round",
                zorder=1,
            )
            ax.add_collection(lines)
            self.lines_.append(lines)
            self.weights_.append(weights)
            self.connections_.append(pairs)
            self.summarised_.append(bool(summarised))

        self.units_ = []
        for column, (positions, spacing) in enumerate(zip(self.unit_positions_, spacings)):
            diameter = min(0.5, 0.6 * spacing)
            if column == 0:
                facecolors = "white"
            else:
                facecolors = cmap(self.norm_(intercepts[column - 1]))
            circles = EllipseCollection(
                diameter,
                diameter,
                0.0,
                units="y",  # circles whatever the axes' aspect
                offsets=positions,
                offset_transform=ax.transData,
                facecolors=facecolors,
                edgecolors="0.25",
                linewidths=0.8,
                zorder=2,
            )
            ax.add_collection(circles)
            self.units_.append(circles)

        half_height = max(positions[:, 1].max() for positions in self.unit_positions_)
        ax.set_xlim(-0.35, len(sizes) - 0.65)
        ax.set_ylim(-half_height - 0.5, half_height + 0.5)
        for spine in ax.spines.values():
            spine.set_visible(False)
        layer_names = self.layer_names
        if layer_names is None:
            hidden = [_caption(f"Hidden {i}", n) for i, n in enumerate(sizes[1:-1], start=1)]
            layer_names = [_caption("Input", sizes[0]), *hidden, _caption("Output", sizes[-1])]
        ax.set_xticks(range(len(sizes)), layer_names)
        ax.tick_params(axis="x", length=0)
        # names of inputs and outputs as tick labels, so that layouts make room for them
        # (too many to read beyond max_units: the caption gives the count instead)
        inputs = _unit_names(self.input_names, sizes[0], "x")
        outputs = _unit_names(self.output_names, sizes[-1], "y")
        first, last = self.unit_positions_[0][:, 1], self.unit_positions_[-1][:, 1]
        if sizes[0] > max_units:
            first, inputs = [], []
        if sizes[-1] > max_units:
            last, outputs = [], []
        ax.set_yticks(first, inputs)
        ax.tick_params(axis="y", length=0)
        right = ax.secondary_yaxis("right")
        right.set_yticks(last, outputs)
        right.tick_params(axis="y", length=0)
        right.spines["right"].set_visible(False)

        title = self.estimator_name if name is None else name
        if any(self.summarised_):
            note = f"strongest {top_k} weights per unit of layers over {max_units} units"
            title = f"{title}\n({note})" if title else f"({note})"
        if title:
            ax.set_title(title)
        self.colorbar_ = None
        if colorbar:
            self.colorbar_ = ax.figure.colorbar(
                ScalarMappable(self.norm_, cmap),
                ax=ax,
                location="bottom",
                shrink=0.6,
                aspect=30,
                label="weight (lines), bias (units)",
            )
        self.ax_ = ax
        self.figure_ = ax.figure
        return self

    @classmethod
    def from_estimator(
        cls,
        estimator,
        *,
        ax=None,
        name: str | None = None,
        max_units: int = 16,
        top_k: int = 3,
        linewidths: tuple[float, float] = (0.5, 6.0),
        cmap=None,
        colorbar: bool = True,
    ) -> NetworkDisplay:
        """Draw the units and weights of a fitted network.

        Parameters
        ----------
        estimator : ScratchMLPClassifier or ScratchMLPRegressor
            A fitted network (anything with ``coefs_`` and ``intercepts_``, such as
            scikit-learn's MLP, works too). The inputs are named by ``feature_names_in_``
            when it was fitted on a DataFrame, the outputs by a classifier's classes.
        ax : matplotlib.axes.Axes, default=None
            Axes to draw on; a new figure and axes are created when None.
        name : str, default=None
            Title of the axes; the estimator's class name when None.
        max_units : int, default=16
            Widest layer drawn with all its weights (see :meth:`plot`).
        top_k : int, default=3
            Weights kept per unit where a layer is summarised.
        linewidths : (float, float), default=(0.5, 6.0)
            Width in points of the line of a zero weight and of the largest ``|w|``.
        cmap : str or matplotlib.colors.Colormap, default=None
            Diverging colormap of weights and biases; TensorFlow Playground's when None.
        colorbar : bool, default=True
            Draw a colour bar of weights and biases under the axes.

        Returns
        -------
        display : NetworkDisplay
            The display, already drawn.
        """
        from ._base import _to_host

        _import_pyplot("NetworkDisplay.from_estimator")
        check_is_fitted(estimator)
        # NumPy copies of networks fitted in another array library (torch, CuPy...)
        coefs = [np.asarray(_to_host(c)) for c in estimator.coefs_]
        intercepts = [np.asarray(_to_host(b)) for b in estimator.intercepts_]
        hidden = getattr(estimator, "activation", None)
        output = getattr(estimator, "out_activation_", None)
        sizes = [coefs[0].shape[0]] + [c.shape[1] for c in coefs]
        layer_names = [
            _caption("Input", sizes[0], noun="feature"),
            *(_caption(f"Hidden {i}", n, hidden) for i, n in enumerate(sizes[1:-1], start=1)),
            _caption("Output", sizes[-1], output),
        ]
        names_in = getattr(estimator, "feature_names_in_", None)
        display = cls(
            coefs=coefs,
            intercepts=intercepts,
            input_names=None if names_in is None else list(names_in),
            output_names=_output_names(estimator),
            layer_names=layer_names,
            estimator_name=type(estimator).__name__ if name is None else name,
        )
        return display.plot(
            ax=ax,
            max_units=max_units,
            top_k=top_k,
            linewidths=linewidths,
            cmap=cmap,
            colorbar=colorbar,
        )


# the range of the bounded hidden activations: their maps' colour scale, whatever the weights
_ACTIVATION_RANGES = {"sigmoid": (0.0, 1.0), "tanh": (-1.0, 1.0)}


def _in_library_of_network(estimator, rows: np.ndarray):
    """``rows`` in the array library and on the device of the network's weights where
    scikit-learn's array API dispatch is on (inputs must then match ``fit``'s); as they are
    otherwise (a network fitted in torch takes NumPy input to the host)."""
    from sklearn import get_config
    from sklearn.utils._array_api import get_namespace_and_device

    weights = estimator.coefs_[0]
    if isinstance(weights, np.ndarray) or not get_config()["array_api_dispatch"]:
        return rows
    xp, _, device = get_namespace_and_device(weights)
    return xp.asarray(rows, dtype=weights.dtype, device=device)


def _class_color(k: int) -> str:
    """The colour of class ``k`` of several: matplotlib's cycle without its first two colours,
    the blue and orange that the maps use for values."""
    return f"C{(k + 2) % 10}"


def _hidden_layer_index(layer, n_hidden: int) -> int:
    """``layer`` as an index from 0 among the ``n_hidden`` hidden layers, or a clear error."""
    if n_hidden == 0:
        raise ValueError(
            "This network has no hidden layer (hidden_size=()): there are no hidden units "
            "to draw. Fit it with at least one hidden layer."
        )
    if isinstance(layer, bool) or not isinstance(layer, (int, np.integer)):
        raise ValueError(f"layer must be an int, got {layer!r}.")
    if not -n_hidden <= layer < n_hidden:
        raise ValueError(
            f"layer={layer} is out of range: the network has {n_hidden} hidden layer"
            f"{'s' if n_hidden > 1 else ''}, layer must be in [{-n_hidden}, {n_hidden - 1}] "
            "(0 is the first hidden layer)."
        )
    return int(layer) % n_hidden


def _feature_indices(features, estimator) -> tuple[int, int]:
    """The column indices of the two ``features`` (indices, or names when the estimator was
    fitted on a DataFrame), or a clear error."""
    n_features = estimator.n_features_in_
    names = getattr(estimator, "feature_names_in_", None)
    if isinstance(features, str) or len(features) != 2:
        raise ValueError(f"features must be a pair of features, got {features!r}.")
    indices = []
    for feature in features:
        if isinstance(feature, str):
            if names is None or feature not in list(names):
                known = (
                    "it was fitted without feature names"
                    if names is None
                    else (f"its features are {list(names)}")
                )
                raise ValueError(f"Unknown feature {feature!r}: {known}.")
            indices.append(list(names).index(feature))
        elif isinstance(feature, (int, np.integer)) and not isinstance(feature, bool):
            if not -n_features <= feature < n_features:
                raise ValueError(
                    f"Feature index {feature} is out of range: the network has {n_features} "
                    f"input features (indices 0 to {n_features - 1})."
                )
            indices.append(int(feature) % n_features)
        else:
            raise ValueError(f"A feature is an int index or a name, got {feature!r}.")
    if indices[0] == indices[1]:
        raise ValueError(f"features must be two different features, got {features!r}.")
    return indices[0], indices[1]


class HiddenUnitsDisplay:
    """What each unit of a hidden layer responds to, over the plane of two input features.

    One small map per unit of the layer shows its activation over a grid spanning the data
    in the two chosen features, the other features held at their medians; one more panel
    shows the network's output over the same grid (the probability of the positive class
    for a binary classifier, of the most likely class otherwise, or the regression's
    prediction). The data's points lie on top of every map, coloured by their class when
    the classes are given. This is TensorFlow Playground's picture of its neurons.

    Build it with :meth:`from_estimator`; create the object directly to draw maps you
    computed yourself. Calling :meth:`plot` (which :meth:`from_estimator` does) sets the
    attributes below.

    Parameters
    ----------
    xx0, xx1 : ndarray of shape (grid_resolution, grid_resolution)
        The grid, as :func:`numpy.meshgrid` gives it: the first and the second feature.
    responses : ndarray of shape (n_units, grid_resolution, grid_resolution)
        Each unit's activation at each grid point.
    outputs : ndarray of shape (grid_resolution, grid_resolution) or \
            (grid_resolution, grid_resolution, n_classes)
        The network's output at each grid point: the class probabilities when ``classes``
        is given, else the prediction.
    points : ndarray of shape (n_samples, 2), default=None
        The data in the two features, drawn on every map.
    point_values : ndarray of shape (n_samples,), default=None
        The points' labels (classes from ``classes``) or targets, which colour them.
    classes : ndarray of shape (n_classes,), default=None
        A classifier's classes (the columns of ``outputs``); None for a regressor.
    feature_names : (str, str), default=None
        Names of the two features; ``x0`` and ``x1`` when None.
    name : str, default=None
        Title of the whole display.

    Attributes
    ----------
    axes_ : ndarray of matplotlib.axes.Axes
        The axes of the units' maps, in the order of the units drawn.
    maps_ : list of matplotlib.collections.QuadMesh
        Each unit's map; its ``get_array()`` is that unit's row of ``responses``.
    decision_ax_ : matplotlib.axes.Axes
        The axes of the output's panel.
    decision_surface_ : matplotlib.collections.QuadMesh
        The output's map.
    decision_values_ : ndarray of shape (grid_resolution, grid_resolution)
        What the output's map shows.
    boundary_ : matplotlib.contour.QuadContourSet or None
        The lines between predicted classes (a classifier only).
    points_ : list of matplotlib.collections.PathCollection
        The points drawn on each map (empty without ``points``).
    n_units_drawn_ : int
        How many units have a map (the first ones, up to ``max_units``).
    norm_ : matplotlib.colors.Normalize
        The colour scale shared by the units' maps (see ``activation_range`` in
        :meth:`plot`).
    colorbar_ : matplotlib.colorbar.Colorbar or None
        The colour bar of the units' activations, if one was drawn.
    ax_ : matplotlib.axes.Axes
        The axes whose area the panels share: it carries the title and the features'
        names, and has no frame of its own.
    figure_ : matplotlib.figure.Figure
        The figure holding the axes.

    See Also
    --------
    NetworkDisplay : The units and weights of the whole network.
    sklearn.inspection.DecisionBoundaryDisplay : The output alone, in more detail.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from sklearn.datasets import make_moons
    >>> from sknn_scratch import ScratchMLPClassifier
    >>> from sknn_scratch.plot import HiddenUnitsDisplay
    >>> X, y = make_moons(n_samples=100, noise=0.2, random_state=0)
    >>> clf = ScratchMLPClassifier(hidden_size=4, activation="tanh", epochs=1000,
    ...                            learning_rate=0.05, random_state=0).fit(X, y)
    >>> display = HiddenUnitsDisplay.from_estimator(clf, X, y=y, grid_resolution=50)
    >>> len(display.maps_), display.responses.shape
    (4, (4, 50, 50))
    >>> display.decision_ax_.get_title()
    'P(1)'
    """

    def __init__(
        self,
        *,
        xx0,
        xx1,
        responses,
        outputs,
        points=None,
        point_values=None,
        classes=None,
        feature_names=None,
        name: str | None = None,
    ):
        self.xx0 = xx0
        self.xx1 = xx1
        self.responses = responses
        self.outputs = outputs
        self.points = points
        self.point_values = point_values
        self.classes = classes
        self.feature_names = feature_names
        self.name = name

    def _decision(self):
        """What the output panel shows, its title, its colour scale and predicted classes."""
        outputs = np.asarray(self.outputs, dtype=float)
        if self.classes is None:
            values = outputs if outputs.ndim == 2 else outputs[..., 0]
            return values, "prediction", (values.min(), values.max()), None
        if outputs.shape[-1] == 2:  # binary: the probability of the second class
            predicted = (outputs[..., 1] >= 0.5).astype(int)
            return outputs[..., 1], f"P({self.classes[1]})", (0.0, 1.0), predicted
        # several classes: the most likely one, and its probability
        return outputs.max(axis=-1), "most likely class", (0.0, 1.0), outputs.argmax(axis=-1)

    def _point_colors(self, cmap, output_norm):
        """The points' colours: their class (binary: the ends of the output's scale) or
        their target (on the output's scale); black without ``point_values``."""
        if self.points is None or self.point_values is None:
            return "black"
        point_values = np.asarray(self.point_values)
        if self.classes is None:
            return cmap(output_norm(point_values.astype(float)))
        index = np.searchsorted(self.classes, point_values)
        if len(self.classes) == 2:
            return cmap(np.where(index == 1, 1.0, 0.0))
        return [_class_color(i) for i in index]

    def _draw_output(self, ax, cmap, output_norm, values, predicted) -> None:
        """The output's panel: its values (or, for several classes, each grid point in its
        predicted class's colour, paler where that class is less likely) and the lines
        between predicted classes."""
        from matplotlib.colors import ListedColormap

        if predicted is not None and len(self.classes) > 2:
            n_classes = len(self.classes)
            sureness = np.clip((values - 1 / n_classes) / (1 - 1 / n_classes), 0, 1)
            self.decision_surface_ = ax.pcolormesh(
                self.xx0,
                self.xx1,
                predicted,
                cmap=ListedColormap([_class_color(k) for k in range(n_classes)]),
                vmin=-0.5,
                vmax=n_classes - 0.5,
                alpha=0.15 + 0.85 * sureness,
                shading="auto",
            )
        else:
            self.decision_surface_ = ax.pcolormesh(
                self.xx0, self.xx1, values, cmap=cmap, norm=output_norm, shading="auto"
            )
        self.boundary_ = None
        if predicted is not None and np.ptp(predicted) > 0:
            self.boundary_ = ax.contour(
                self.xx0,
                self.xx1,
                predicted.astype(float),
                levels=np.arange(predicted.max()) + 0.5,
                colors="black",
                linewidths=1.0,
            )
        for spine in ax.spines.values():
            spine.set_linewidth(1.5)

    def plot(
        self,
        ax=None,
        *,
        max_units: int = 64,
        n_cols: int | None = None,
        activation_range: tuple[float, float] | None = None,
        cmap=None,
        colorbar: bool = True,
        scatter_kwargs: dict | None = None,
    ) -> HiddenUnitsDisplay:
        """Draw one map per unit and the output's panel.

        Parameters
        ----------
        ax : matplotlib.axes.Axes, default=None
            Axes whose area the panels share (its frame and ticks are hidden); a new figure
            is created when None.
        max_units : int, default=64
            Most maps drawn: the first ``max_units`` units have one, and the title says
            how many units the layer has.
        n_cols : int, default=None
            Panels per row; all in one row for up to 4 panels, else about a square grid.
        activation_range : (float, float), default=None
            The activations at the two ends of the colour scale, shared by every unit's map.
            When None, from the data: symmetric around 0 when an activation is negative
            somewhere, else from 0 to the largest activation.
        cmap : str or matplotlib.colors.Colormap, default=None
            Diverging colormap of the activations (see ``norm_``) and of the output of a
            binary classifier or a regressor; TensorFlow Playground's orange, grey and blue
            when None. The classes of a multiclass classifier have colours of their own.
        colorbar : bool, default=True
            Draw a colour bar of the units' activations under the panels.
        scatter_kwargs : dict, default=None
            Keyword arguments passed to ``scatter`` for the points.

        Returns
        -------
        display : HiddenUnitsDisplay
            This object, with the attributes set.
        """
        plt = _import_pyplot("HiddenUnitsDisplay.plot")
        from matplotlib.cm import ScalarMappable
        from matplotlib.colors import Normalize

        responses = np.asarray(self.responses, dtype=float)
        if responses.ndim != 3 or responses.shape[1:] != np.shape(self.xx0):
            raise ValueError(
                f"responses must have shape (n_units, *xx0.shape), got {responses.shape} "
                f"with a grid of shape {np.shape(self.xx0)}."
            )
        if max_units < 1:
            raise ValueError(f"max_units must be >= 1, got {max_units}.")
        n_units = responses.shape[0]
        n_drawn = min(n_units, max_units)
        n_panels = n_drawn + 1
        if n_cols is None:
            n_cols = n_panels if n_panels <= 4 else int(np.ceil(np.sqrt(n_panels)))
        n_rows = int(np.ceil(n_panels / n_cols))
        if ax is None:
            size = (min(2.2 * n_cols, 12), min(2.2 * n_rows, 12) + 1.2)
            _, ax = plt.subplots(figsize=size, layout="constrained")
        cmap = _playground_cmap(cmap)
        if activation_range is None:
            shown = responses[:n_drawn]
            largest = float(np.abs(shown).max(initial=0.0)) or 1.0
            # signed activations centred on 0; non-negative ones (relu...) from 0 (orange)
            # to their largest value (blue), so that the whole scale is used
            activation_range = (-largest if shown.min(initial=0.0) < 0 else 0.0, largest)
        self.norm_ = Normalize(*activation_range)
        values, output_name, (low, high), predicted = self._decision()
        self.decision_values_ = values

        # the panels are insets of ``ax``, so they follow it into any figure or layout
        ax.set_xticks([])
        ax.set_yticks([])
        ax.patch.set_visible(False)
        for spine in ax.spines.values():
            spine.set_visible(False)
        gap = 0.06 if n_panels <= 16 else 0.03
        titled = n_panels <= 16

        def panel(index):
            row, col = divmod(index, n_cols)
            bounds = [
                (col + gap / 2) / n_cols,
                1 - (row + 1 - gap / 2) / n_rows,
                (1 - gap) / n_cols,
                (1 - gap - (0.12 if titled else 0)) / n_rows,
            ]
            inset = ax.inset_axes(bounds)
            inset.set_xticks([])
            inset.set_yticks([])
            return inset

        def label(inset, text):
            if titled:
                inset.set_title(text, fontsize="small", pad=2)
            else:
                inset.text(
                    0.03,
                    0.97,
                    text,
                    transform=inset.transAxes,
                    fontsize="x-small",
                    va="top",
                    bbox=dict(boxstyle="round,pad=0.1", fc="white", alpha=0.7),
                )

        scatter = {"s": 12 if titled else 5, "linewidths": 0.5, "edgecolors": "black"}
        scatter.update(scatter_kwargs or {})
        points = None if self.points is None else np.asarray(self.points, dtype=float)
        point_colors = self._point_colors(cmap, Normalize(low, high))
        self.points_ = []

        def draw_points(inset):
            if points is not None:
                self.points_.append(
                    inset.scatter(points[:, 0], points[:, 1], c=point_colors, **scatter)
                )

        axes, self.maps_ = [], []
        for unit in range(n_drawn):
            inset = panel(unit)
            self.maps_.append(
                inset.pcolormesh(
                    self.xx0, self.xx1, responses[unit], cmap=cmap, norm=self.norm_, shading="auto"
                )
            )
            draw_points(inset)
            label(inset, f"unit {unit}")
            axes.append(inset)
        self.axes_ = np.array(axes, dtype=object)

        self.decision_ax_ = panel(n_drawn)
        self._draw_output(self.decision_ax_, cmap, Normalize(low, high), values, predicted)
        draw_points(self.decision_ax_)
        label(self.decision_ax_, output_name)

        first, second = self.feature_names or ("x0", "x1")
        ax.set_xlabel(f"{first}: {np.min(self.xx0):.3g} to {np.max(self.xx0):.3g}")
        ax.set_ylabel(f"{second}: {np.min(self.xx1):.3g} to {np.max(self.xx1):.3g}")
        title = self.name or ""
        if n_drawn < n_units:
            title = f"{title}\n(first {n_drawn} of {n_units} units)".strip()
        if title:
            ax.set_title(title)
        self.n_units_drawn_ = n_drawn
        self.colorbar_ = None
        if colorbar:
            self.colorbar_ = ax.figure.colorbar(
                ScalarMappable(self.norm_, cmap),
                ax=ax,
                location="bottom",
                shrink=0.6,
                aspect=30,
                label="activation",
            )
        self.ax_ = ax
        self.figure_ = ax.figure
        return self

    @classmethod
    def from_estimator(
        cls,
        estimator,
        X,
        *,
        y=None,
        layer: int = 0,
        features=(0, 1),
        grid_resolution: int = 100,
        margin: float = 0.05,
        ax=None,
        max_units: int = 64,
        n_cols: int | None = None,
        cmap=None,
        colorbar: bool = True,
        scatter_kwargs: dict | None = None,
    ) -> HiddenUnitsDisplay:
        """Draw the response of each unit of a hidden layer over two features of ``X``.

        Parameters
        ----------
        estimator : ScratchMLPClassifier or ScratchMLPRegressor
            A fitted network with at least one hidden layer.
        X : array-like of shape (n_samples, n_features)
            Data that set the grid's range in the two features (with a ``margin``) and the
            values of the other features (their medians); drawn as points on every map.
        y : array-like of shape (n_samples,), default=None
            Labels (classifier) or targets (regressor) of ``X``, which colour its points.
        layer : int, default=0
            Which hidden layer: 0 is the first, -1 the last.
        features : (int or str, int or str), default=(0, 1)
            The two features of the plane, by index or by name (a network fitted on a
            DataFrame).
        grid_resolution : int, default=100
            Grid points along each feature.
        margin : float, default=0.05
            Fraction of the data's range added on each side of the grid.
        ax : matplotlib.axes.Axes, default=None
            Axes whose area the panels share; a new figure is created when None.
        max_units : int, default=64
            Most maps drawn (the first units). The maps of sigmoid units range over 0 to 1
            and those of tanh units over -1 to 1; other activations' from the data (see
            :meth:`plot`).
        n_cols : int, default=None
            Panels per row.
        cmap : str or matplotlib.colors.Colormap, default=None
            Diverging colormap; TensorFlow Playground's when None.
        colorbar : bool, default=True
            Draw a colour bar of the units' activations.
        scatter_kwargs : dict, default=None
            Keyword arguments passed to ``scatter`` for the points.

        Returns
        -------
        display : HiddenUnitsDisplay
            The display, already drawn.
        """
        from sklearn.base import is_classifier
        from sklearn.utils import check_array

        from ._base import _to_host

        _import_pyplot("HiddenUnitsDisplay.from_estimator")
        check_is_fitted(estimator)
        if not hasattr(estimator, "_forward"):
            raise TypeError(
                "HiddenUnitsDisplay draws ScratchMLPClassifier and ScratchMLPRegressor "
                f"networks, got {type(estimator).__name__}."
            )
        n_hidden = len(estimator.coefs_) - 1
        layer = _hidden_layer_index(layer, n_hidden)
        f0, f1 = _feature_indices(features, estimator)
        if grid_resolution < 2:
            raise ValueError(f"grid_resolution must be >= 2, got {grid_resolution}.")
        values = check_array(_to_host(X), dtype=np.float64)
        if values.shape[1] != estimator.n_features_in_:
            raise ValueError(
                f"X has {values.shape[1]} features, but {type(estimator).__name__} was fitted "
                f"with {estimator.n_features_in_}."
            )

        pair = values[:, [f0, f1]]
        low, high = pair.min(axis=0), pair.max(axis=0)
        pad = np.where(high > low, margin * (high - low), 0.5)
        xx0, xx1 = np.meshgrid(
            np.linspace(low[0] - pad[0], high[0] + pad[0], grid_resolution),
            np.linspace(low[1] - pad[1], high[1] + pad[1], grid_resolution),
        )
        grid = np.tile(np.median(values, axis=0), (xx0.size, 1))
        grid[:, f0], grid[:, f1] = xx0.ravel(), xx1.ravel()
        names = getattr(estimator, "feature_names_in_", None)
        if names is not None:  # as the network was fitted, so that no name check warns
            import pandas as pd

            grid = pd.DataFrame(grid, columns=names)
        else:
            grid = _in_library_of_network(estimator, grid)

        method = "HiddenUnitsDisplay.from_estimator"
        activations = _to_host(estimator._forward(grid, method, layer=layer))
        responses = np.asarray(activations, dtype=float).T.reshape(-1, *xx0.shape)
        classifier = is_classifier(estimator)
        if classifier:
            outputs = _to_host(estimator.predict_proba(grid))
        else:
            outputs = _to_host(estimator.predict(grid))
        outputs = np.asarray(outputs, dtype=float).reshape(*xx0.shape, -1)

        point_values = None
        if y is not None:
            point_values = np.asarray(_to_host(y))
            if point_values.ndim != 1 or len(point_values) != len(values):
                raise ValueError(
                    f"y must be 1-D with one value per row of X ({len(values)}), got shape "
                    f"{point_values.shape}."
                )
        feature_names = (f"x{f0}", f"x{f1}") if names is None else (str(names[f0]), str(names[f1]))
        n_units = responses.shape[0]
        activation = getattr(estimator, "activation", None)
        units = _count(n_units, f"{activation} unit" if activation else "unit")
        title = f"Hidden {layer + 1} of {type(estimator).__name__}: {units}"
        held = values.shape[1] - 2
        if held:
            title += f"\nother {held} feature{'s' if held > 1 else ''} at their medians"
        display = cls(
            xx0=xx0,
            xx1=xx1,
            responses=responses,
            outputs=outputs if classifier else outputs[..., 0],
            points=pair,
            point_values=point_values,
            classes=estimator.classes_ if classifier else None,
            feature_names=feature_names,
            name=title,
        )
        return display.plot(
            ax=ax,
            max_units=max_units,
            n_cols=n_cols,
            activation_range=_ACTIVATION_RANGES.get(activation),
            cmap=cmap,
            colorbar=colorbar,
            scatter_kwargs=scatter_kwargs,
        )


# ---------------------------------------------------------------------------------------------
# Each layer's health over the epochs, as a LayerMonitor recorded it
# ---------------------------------------------------------------------------------------------

_MONITOR_PANELS = {
    "saturated_fraction": "Saturated outputs (fraction)",
    "dead_fraction": "Dead units (fraction)",
    "gradient_std": "Gradient std (log scale)",
    "update_ratio": "Update ratio (log10)",
    "activation_mean": "Mean output",
    "activation_std": "Output std",
    "weight_norm": "Weight norm",
}
"""The quantities a LayerMonitorDisplay can draw, and each panel's title."""

_FRACTIONS = ("saturated_fraction", "dead_fraction")
_LOG_SCALED = ("gradient_std",)

UPDATE_RATIO_REFERENCE = -3.0
"""Where the update ratio's reference line is drawn: log10(1e-3), a healthy step size."""


def _layer_label(layer: int, activation: str, is_output: bool) -> str:
    kind = f"output, {activation}" if is_output else activation
    return f"layer {layer} ({kind})"


class _LayerCurves:
    """One layer's rows as curves: its legend label, activation, epochs and the values of
    every quantity."""

    def __init__(self, label: str, activation: str, epochs: np.ndarray, values: dict):
        self.label, self.activation, self.epochs, self.values = label, activation, epochs, values


class LayerMonitorDisplay:
    """Each layer's health over the epochs, as a :class:`~sknn_scratch.LayerMonitor`
    recorded it: one small panel per quantity, one line per layer.

    By default the panels show the fraction of saturated outputs (sigmoid, tanh and softmax
    layers), the fraction of dead units (ReLU layers), the spread of the loss gradient (on
    a log scale: a gradient that vanishes towards the first layers shows as lines far
    below the others) and the update ratio, in log10, against its reference line at -3
    (steps of a thousandth of the weights). A panel whose quantity no layer defines (dead
    units in a sigmoid network) says so.

    Build it with :meth:`from_monitor`; create the object directly only to draw rows that
    you stored yourself. Calling :meth:`plot` (which :meth:`from_monitor` does) sets the
    attributes below.

    Parameters
    ----------
    rows : list of dict
        The monitor's rows of one fit (``get_logs().data``, filtered to one
        ``parent_task_id_path``), each with ``epoch``, ``layer``, ``activation`` and the
        quantities drawn.
    quantities : sequence of str, default=("saturated_fraction", "dead_fraction", \
"gradient_std", "update_ratio")
        The columns to draw, one panel each; also ``"activation_mean"``,
        ``"activation_std"`` and ``"weight_norm"``.
    xlabel : str, default="Epoch"
        Label of the x axes (``"Iteration"`` suits the ``"lbfgs"`` solver).

    Attributes
    ----------
    lines_ : dict of str to list of matplotlib.lines.Line2D
        For each quantity, its lines, one per layer, first layer first.
    reference_line_ : matplotlib.lines.Line2D or None
        The update ratio's reference line at -3, when the update ratio is drawn.
    ax_ : ndarray of matplotlib.axes.Axes
        The panels, one per quantity, in the order of ``quantities``.
    figure_ : matplotlib.figure.Figure
        The figure holding the panels.

    See Also
    --------
    LossCurveDisplay : The loss over the epochs.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from sklearn.datasets import load_iris
    >>> from sknn_scratch import LayerMonitor, ScratchMLPClassifier
    >>> from sknn_scratch.plot import LayerMonitorDisplay
    >>> X, y = load_iris(return_X_y=True)
    >>> monitor = LayerMonitor()
    >>> clf = ScratchMLPClassifier(hidden_size=(8, 8), activation="relu", epochs=300,
    ...                            random_state=0).set_callbacks(monitor).fit(X, y)
    >>> display = LayerMonitorDisplay.from_monitor(monitor)
    >>> [len(display.lines_[q]) for q in display.quantities]  # one line per layer
    [3, 3, 3, 3]
    >>> display.reference_line_.get_ydata()[0]
    -3.0
    """

    def __init__(
        self,
        *,
        rows,
        quantities=("saturated_fraction", "dead_fraction", "gradient_std", "update_ratio"),
        xlabel: str = "Epoch",
    ):
        self.rows = rows
        self.quantities = tuple(quantities)
        self.xlabel = xlabel

    def _curves(self):
        """Per layer, from the first: its curves."""
        unknown = [q for q in self.quantities if q not in _MONITOR_PANELS]
        if unknown:
            raise ValueError(
                f"Unknown quantities {unknown}: LayerMonitorDisplay draws {list(_MONITOR_PANELS)}."
            )
        rows = sorted(self.rows, key=lambda row: (row["layer"], row["epoch"]))
        if not rows:
            raise ValueError("rows is empty: there is nothing to plot.")
        last = rows[-1]["layer"]
        curves = []
        for layer in sorted({row["layer"] for row in rows}):
            of_layer = [row for row in rows if row["layer"] == layer]
            activation = of_layer[0]["activation"]
            values = {q: np.array([row[q] for row in of_layer], float) for q in _MONITOR_PANELS}
            curves.append(
                _LayerCurves(
                    _layer_label(layer, activation, layer == last),
                    activation,
                    np.array([row["epoch"] for row in of_layer]),
                    values,
                )
            )
        return curves

    def plot(
        self, ax=None, *, title: str | None = None, line_kwargs: dict | None = None
    ) -> LayerMonitorDisplay:
        """Draw the panels.

        Parameters
        ----------
        ax : sequence of matplotlib.axes.Axes, default=None
            One axes per quantity (a single axes when there is one quantity); a new figure,
            with the panels two by two and one legend below them, is created when None.
        title : str, default=None
            Title of the figure.
        line_kwargs : dict, default=None
            Keyword arguments passed to ``plot`` for every layer's line.

        Returns
        -------
        display : LayerMonitorDisplay
            This object, with the ``lines_``, ``reference_line_``, ``ax_`` and ``figure_``
            attributes set.
        """
        plt = _import_pyplot("LayerMonitorDisplay.plot")
        curves = self._curves()
        n_panels = len(self.quantities)
        own_figure = ax is None
        n_cols = min(n_panels, 2) if own_figure else n_panels
        if own_figure:  # two panels a row, sharing the epochs
            n_rows = -(-n_panels // 2)
            _, grid = plt.subplots(
                n_rows,
                n_cols,
                figsize=(7.0, 0.6 + 2.2 * n_rows),
                sharex=True,
                layout="constrained",
                squeeze=False,
            )
            for spare in grid.ravel()[n_panels:]:  # 3 panels leave a cell of 2 x 2 empty
                spare.remove()
            axes = grid.ravel()[:n_panels]
        else:
            axes = np.ravel(np.asarray(ax, dtype=object))
            if axes.size != n_panels:
                raise ValueError(
                    f"ax has {axes.size} axes for {n_panels} quantities {self.quantities}: "
                    "pass one axes per quantity."
                )

        kwargs = line_kwargs or {}
        self.lines_, self.reference_line_ = {}, None
        for quantity, panel in zip(self.quantities, axes):
            self.lines_[quantity] = [
                panel.plot(layer.epochs, layer.values[quantity], label=layer.label, **kwargs)[0]
                for layer in curves
            ]
            panel.set_title(_MONITOR_PANELS[quantity], fontsize="medium")
            if quantity in _FRACTIONS:
                panel.set_ylim(-0.03, 1.03)
            if quantity in _LOG_SCALED:
                panel.set_yscale("log")
            if quantity == "update_ratio":
                self.reference_line_ = panel.axhline(
                    UPDATE_RATIO_REFERENCE, color="0.4", linestyle="--", linewidth=1,
                    label="1e-3 (reference)",
                )  # fmt: skip
            if all(np.isnan(layer.values[quantity]).all() for layer in curves):
                activations = sorted({layer.activation for layer in curves})
                panel.text(
                    0.5, 0.5, f"not defined for\n{', '.join(activations)} units",
                    transform=panel.transAxes, ha="center", va="center", color="0.4",
                )  # fmt: skip
        for i, panel in enumerate(axes):
            panel.grid(True, alpha=0.3)
            if i + n_cols >= n_panels:  # no panel below this one
                panel.set_xlabel(self.xlabel)
                panel.xaxis.set_tick_params(labelbottom=True)

        handles = list(self.lines_[self.quantities[0]])
        if self.reference_line_ is not None:
            handles.append(self.reference_line_)
        labels = [handle.get_label() for handle in handles]
        figure = axes[0].figure
        if own_figure:
            figure.legend(handles, labels, loc="outside lower center", ncols=min(len(labels), 3))
        else:
            axes[0].legend(handles, labels, fontsize="small")
        if title:
            figure.suptitle(title)
        self.ax_ = axes
        self.figure_ = figure
        return self

    @classmethod
    def from_monitor(
        cls,
        monitor,
        *,
        fit: tuple | None = None,
        quantities=("saturated_fraction", "dead_fraction", "gradient_std", "update_ratio"),
        ax=None,
        title: str | None = None,
        xlabel: str = "Epoch",
        line_kwargs: dict | None = None,
    ) -> LayerMonitorDisplay:
        """Draw what a :class:`~sknn_scratch.LayerMonitor` recorded during one fit.

        Parameters
        ----------
        monitor : LayerMonitor
            A monitor that has watched at least one fit.
        fit : tuple of int, default=None
            Which fit of the monitor's most recent run to draw: the ``parent_task_id_path``
            of its rows. When None, the run's last fit (in a ``GridSearchCV``, the refit).
        quantities : sequence of str, default=("saturated_fraction", "dead_fraction", \
"gradient_std", "update_ratio")
            The columns to draw, one panel each.
        ax : sequence of matplotlib.axes.Axes, default=None
            One axes per quantity; a new figure is created when None.
        title : str, default=None
            Title of the figure.
        xlabel : str, default="Epoch"
            Label of the x axes.
        line_kwargs : dict, default=None
            Keyword arguments passed to ``plot`` for every layer's line.

        Returns
        -------
        display : LayerMonitorDisplay
            The display, already drawn.
        """
        _import_pyplot("LayerMonitorDisplay.from_monitor")
        data = monitor.get_logs().data
        fits = sorted({row["parent_task_id_path"] for row in data})
        chosen = fits[-1] if fit is None else tuple(fit)
        if chosen not in fits:
            raise ValueError(
                f"The monitor's most recent run has no fit {chosen}; its fits are {fits} (the "
                "parent_task_id_path of their rows)."
            )
        display = cls(
            rows=[row for row in data if row["parent_task_id_path"] == chosen],
            quantities=quantities,
            xlabel=xlabel,
        )
        return display.plot(ax=ax, title=title, line_kwargs=line_kwargs)
