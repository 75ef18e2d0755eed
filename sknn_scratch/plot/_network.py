"""The network drawn the way TensorFlow Playground draws it: :class:`NetworkDisplay`."""

from __future__ import annotations

import numpy as np
from sklearn.utils.validation import check_is_fitted

from .._base import _to_host
from ._common import (
    _count,
    _draw_colorbar,
    _hide_spines,
    _import_pyplot,
    _playground_cmap,
    _set_title_if_any,
)


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


def _layer_sizes(coefs: list) -> list:
    """The number of units of each layer, the input first, from the weight matrices."""
    return [coefs[0].shape[0]] + [c.shape[1] for c in coefs]


def _caption(title: str, n_units: int, kind: str | None = None, noun: str = "unit") -> str:
    """A column's caption, one short line each: its title, its number of units, and their
    activation when known (``Hidden 1``, ``2 units``, ``relu``)."""
    return "\n".join([title, _count(n_units, noun), *([kind] if kind else [])])


def _default_captions(sizes: list) -> list:
    """The columns' captions when no names are given: "Input", "Hidden 1", ..., "Output",
    each with its number of units."""
    hidden = [_caption(f"Hidden {i}", n) for i, n in enumerate(sizes[1:-1], start=1)]
    return [_caption("Input", sizes[0]), *hidden, _caption("Output", sizes[-1])]


def _estimator_captions(estimator, sizes: list) -> list:
    """The columns' captions of a fitted network: its features, then each layer's units
    and their activation."""
    hidden = getattr(estimator, "activation", None)
    output = getattr(estimator, "out_activation_", None)
    return [
        _caption("Input", sizes[0], noun="feature"),
        *(_caption(f"Hidden {i}", n, hidden) for i, n in enumerate(sizes[1:-1], start=1)),
        _caption("Output", sizes[-1], output),
    ]


def _column_positions(n_units: int, max_units: int) -> tuple[np.ndarray, float]:
    """Heights of a column's units, top to bottom and centred on 0, and their spacing: 1, or
    less for a column of more than ``max_units`` units, squeezed to ``max_units``' height."""
    spacing = 1.0 if n_units <= max_units else (max_units - 1) / (n_units - 1)
    return ((n_units - 1) / 2 - np.arange(n_units)) * spacing, spacing


def _largest_magnitude(arrays) -> float:
    """The largest ``|value|`` over every array, 0 when they are all empty."""
    return max(float(np.abs(a).max(initial=0.0)) for a in arrays)


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


def _drawn_weights(coef: np.ndarray, top_k: int | None) -> tuple[np.ndarray, np.ndarray]:
    """The ``(i, j)`` indices and values of the weights drawn, the weakest first (so that the
    strongest lie on top): all of them, or the ``top_k`` strongest per unit of the wider
    layer when ``top_k`` is given."""
    if top_k is not None:
        pairs = _strongest_connections(coef, top_k)
    else:
        pairs = np.argwhere(np.ones(coef.shape, dtype=bool))
    weights = coef[pairs[:, 0], pairs[:, 1]]
    order = np.argsort(np.abs(weights), kind="stable")
    return pairs[order], weights[order]


def _line_widths(weights, largest_weight: float, linewidths, spacing: float) -> np.ndarray:
    """Each weight's line width, from the thinnest for 0 to the widest for the largest
    ``|w|``; between squeezed columns (``spacing`` under 1) the widest is narrower, so that
    the lines do not merge into a block."""
    thinnest, widest = linewidths
    wide = max(2 * thinnest, widest * spacing)
    return thinnest + (wide - thinnest) * np.abs(weights) / largest_weight


def _unit_circles(ax, positions: np.ndarray, diameter: float, facecolors):
    """The circles of a column's units, round whatever the axes' aspect."""
    from matplotlib.collections import EllipseCollection

    return EllipseCollection(
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


def _name_end_columns(ax, inputs, outputs, first, last) -> None:
    """The inputs' names left of the first column and the outputs' right of the last, as
    tick labels, so that layouts make room for them."""
    ax.set_yticks(first, inputs)
    ax.tick_params(axis="y", length=0)
    right = ax.secondary_yaxis("right")
    right.set_yticks(last, outputs)
    right.tick_params(axis="y", length=0)
    right.spines["right"].set_visible(False)


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
        coefs, intercepts = self._validated_layers(max_units, top_k)
        sizes = _layer_sizes(coefs)
        if ax is None:
            _, ax = plt.subplots(layout="constrained")
        cmap = _playground_cmap(cmap)
        largest_weight = self._set_norm(coefs, intercepts)
        spacings = self._place_units(sizes, max_units)
        self._draw_weights(ax, coefs, spacings, cmap, largest_weight, linewidths, max_units, top_k)
        self._draw_units(ax, intercepts, spacings, cmap)
        self._frame_columns(ax, sizes)
        self._name_inputs_and_outputs(ax, sizes, max_units)
        _set_title_if_any(ax, self._title(name, max_units, top_k))
        self.colorbar_ = None
        if colorbar:
            self.colorbar_ = _draw_colorbar(ax, self.norm_, cmap, "weight (lines), bias (units)")
        self.ax_ = ax
        self.figure_ = ax.figure
        return self

    def _validated_layers(self, max_units: int, top_k: int) -> tuple[list, list]:
        """The weights and biases as float arrays, or an error when their shapes do not
        make a network or ``max_units`` and ``top_k`` are out of range."""
        coefs = [np.asarray(c, dtype=float) for c in self.coefs]
        intercepts = [np.asarray(b, dtype=float).ravel() for b in self.intercepts]
        if not coefs or any(c.ndim != 2 for c in coefs):
            raise ValueError("coefs must be a non-empty list of 2-D weight matrices.")
        sizes = _layer_sizes(coefs)
        if [b.size for b in intercepts] != sizes[1:]:
            raise ValueError(
                f"intercepts have sizes {[b.size for b in intercepts]}, but the weight "
                f"matrices give layers of {sizes[1:]} units."
            )
        if max_units < 2 or top_k < 1:
            raise ValueError(f"max_units must be >= 2 and top_k >= 1, got {max_units}, {top_k}.")
        return coefs, intercepts

    def _set_norm(self, coefs: list, intercepts: list) -> float:
        """Set ``norm_``, one scale symmetric around 0 for weights and biases, and return
        the largest ``|w|`` (1 when every weight is 0), which sets the lines' widths."""
        from matplotlib.colors import Normalize

        largest_weight = _largest_magnitude(coefs) or 1.0
        largest = max(largest_weight, *(float(np.abs(b).max(initial=0.0)) for b in intercepts))
        self.norm_ = Normalize(-largest, largest)
        return largest_weight

    def _place_units(self, sizes: list, max_units: int) -> list:
        """Set ``unit_positions_``, one column per layer, and return each column's spacing."""
        self.unit_positions_, spacings = [], []
        for column, n_units in enumerate(sizes):
            heights, spacing = _column_positions(n_units, max_units)
            self.unit_positions_.append(np.column_stack([np.full(n_units, column), heights]))
            spacings.append(spacing)
        return spacings

    def _draw_weights(
        self, ax, coefs, spacings, cmap, largest_weight, linewidths, max_units, top_k
    ) -> None:
        """One line per weight drawn, one collection per weight matrix; a matrix touching a
        layer over ``max_units`` units keeps its ``top_k`` strongest weights per unit."""
        from matplotlib.collections import LineCollection

        self.lines_, self.weights_, self.connections_, self.summarised_ = [], [], [], []
        for layer, coef in enumerate(coefs):
            summarised = max(coef.shape) > max_units and top_k < min(coef.shape)
            pairs, weights = _drawn_weights(coef, top_k if summarised else None)
            starts = self.unit_positions_[layer][pairs[:, 0]]
            ends = self.unit_positions_[layer + 1][pairs[:, 1]]
            spacing = min(spacings[layer], spacings[layer + 1])
            lines = LineCollection(
                np.stack([starts, ends], axis=1),
                linewidths=_line_widths(weights, largest_weight, linewidths, spacing),
                colors=cmap(self.norm_(weights)),
                capstyle="round",
                zorder=1,
            )
            ax.add_collection(lines)
            self.lines_.append(lines)
            self.weights_.append(weights)
            self.connections_.append(pairs)
            self.summarised_.append(bool(summarised))

    def _draw_units(self, ax, intercepts, spacings, cmap) -> None:
        """The circles of each column, white for the inputs, else filled with the bias."""
        self.units_ = []
        for column, (positions, spacing) in enumerate(zip(self.unit_positions_, spacings)):
            if column == 0:
                facecolors = "white"
            else:
                facecolors = cmap(self.norm_(intercepts[column - 1]))
            circles = _unit_circles(ax, positions, min(0.5, 0.6 * spacing), facecolors)
            ax.add_collection(circles)
            self.units_.append(circles)

    def _frame_columns(self, ax, sizes: list) -> None:
        """The axes' limits around the columns, no frame, and each column's caption."""
        half_height = max(positions[:, 1].max() for positions in self.unit_positions_)
        ax.set_xlim(-0.35, len(sizes) - 0.65)
        ax.set_ylim(-half_height - 0.5, half_height + 0.5)
        _hide_spines(ax)
        layer_names = self.layer_names
        if layer_names is None:
            layer_names = _default_captions(sizes)
        ax.set_xticks(range(len(sizes)), layer_names)
        ax.tick_params(axis="x", length=0)

    def _name_inputs_and_outputs(self, ax, sizes: list, max_units: int) -> None:
        """The names of the inputs and outputs beside their units; none for a column over
        ``max_units`` units, too many to read (its caption gives the count instead)."""
        inputs = _unit_names(self.input_names, sizes[0], "x")
        outputs = _unit_names(self.output_names, sizes[-1], "y")
        first, last = self.unit_positions_[0][:, 1], self.unit_positions_[-1][:, 1]
        if sizes[0] > max_units:
            first, inputs = [], []
        if sizes[-1] > max_units:
            last, outputs = [], []
        _name_end_columns(ax, inputs, outputs, first, last)

    def _title(self, name: str | None, max_units: int, top_k: int) -> str | None:
        """The title: ``name`` or the estimator's, and a note where layers are summarised."""
        title = self.estimator_name if name is None else name
        if any(self.summarised_):
            note = f"strongest {top_k} weights per unit of layers over {max_units} units"
            title = f"{title}\n({note})" if title else f"({note})"
        return title

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
        _import_pyplot("NetworkDisplay.from_estimator")
        check_is_fitted(estimator)
        # NumPy copies of networks fitted in another array library (torch, CuPy...)
        coefs = [np.asarray(_to_host(c)) for c in estimator.coefs_]
        intercepts = [np.asarray(_to_host(b)) for b in estimator.intercepts_]
        names_in = getattr(estimator, "feature_names_in_", None)
        display = cls(
            coefs=coefs,
            intercepts=intercepts,
            input_names=None if names_in is None else list(names_in),
            output_names=_output_names(estimator),
            layer_names=_estimator_captions(estimator, _layer_sizes(coefs)),
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
