"""What each unit of a hidden layer responds to, over the plane of two input features:
:class:`HiddenUnitsDisplay`."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.base import is_classifier
from sklearn.utils import check_array
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

# the range of the bounded hidden activations: their maps' colour scale, whatever the weights
_ACTIVATION_RANGES = {"sigmoid": (0.0, 1.0), "tanh": (-1.0, 1.0)}


def _class_color(k: int) -> str:
    """The colour of class ``k`` of several: matplotlib's cycle without its first two colours,
    the blue and orange that the maps use for values."""
    return f"C{(k + 2) % 10}"


# ---------------------------------------------------------------------------------------------
# What from_estimator checks
# ---------------------------------------------------------------------------------------------


def _check_draws(estimator) -> None:
    """Raise a clear error unless ``estimator`` is one of this package's networks, whose
    hidden layers can be read."""
    if not hasattr(estimator, "_forward"):
        raise TypeError(
            "HiddenUnitsDisplay draws ScratchMLPClassifier and ScratchMLPRegressor "
            f"networks, got {type(estimator).__name__}."
        )


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


def _feature_index(feature, names, n_features: int) -> int:
    """The column index of one ``feature`` (an index, or a name when the estimator was
    fitted on a DataFrame with the columns ``names``), or a clear error."""
    if isinstance(feature, str):
        if names is None or feature not in list(names):
            known = (
                "it was fitted without feature names"
                if names is None
                else (f"its features are {list(names)}")
            )
            raise ValueError(f"Unknown feature {feature!r}: {known}.")
        return list(names).index(feature)
    if isinstance(feature, (int, np.integer)) and not isinstance(feature, bool):
        if not -n_features <= feature < n_features:
            raise ValueError(
                f"Feature index {feature} is out of range: the network has {n_features} "
                f"input features (indices 0 to {n_features - 1})."
            )
        return int(feature) % n_features
    raise ValueError(f"A feature is an int index or a name, got {feature!r}.")


def _feature_indices(features, estimator) -> tuple[int, int]:
    """The column indices of the two ``features`` (indices, or names when the estimator was
    fitted on a DataFrame), or a clear error."""
    n_features = estimator.n_features_in_
    names = getattr(estimator, "feature_names_in_", None)
    if isinstance(features, str) or len(features) != 2:
        raise ValueError(f"features must be a pair of features, got {features!r}.")
    indices = [_feature_index(feature, names, n_features) for feature in features]
    if indices[0] == indices[1]:
        raise ValueError(f"features must be two different features, got {features!r}.")
    return indices[0], indices[1]


def _checked_data(X, estimator) -> np.ndarray:
    """``X`` as a float64 NumPy array, or an error when its features are not the network's."""
    values = check_array(_to_host(X), dtype=np.float64)
    if values.shape[1] != estimator.n_features_in_:
        raise ValueError(
            f"X has {values.shape[1]} features, but {type(estimator).__name__} was fitted "
            f"with {estimator.n_features_in_}."
        )
    return values


def _checked_point_values(y, n_samples: int) -> np.ndarray | None:
    """``y`` as a NumPy array of one value per sample (None without ``y``), or an error."""
    if y is None:
        return None
    point_values = np.asarray(_to_host(y))
    if point_values.ndim != 1 or len(point_values) != n_samples:
        raise ValueError(
            f"y must be 1-D with one value per row of X ({n_samples}), got shape "
            f"{point_values.shape}."
        )
    return point_values


def _checked_request(estimator, X, layer, features, grid_resolution: int):
    """What :meth:`HiddenUnitsDisplay.from_estimator` is asked to draw, checked: the hidden
    layer's index from 0, the two features' column indices and ``X`` as a float64 array."""
    _check_draws(estimator)
    layer = _hidden_layer_index(layer, len(estimator.coefs_) - 1)
    pair = _feature_indices(features, estimator)
    if grid_resolution < 2:
        raise ValueError(f"grid_resolution must be >= 2, got {grid_resolution}.")
    return layer, pair, _checked_data(X, estimator)


# ---------------------------------------------------------------------------------------------
# What from_estimator computes: the grid, the units' responses and the network's outputs
# ---------------------------------------------------------------------------------------------


def _response_grid(values: np.ndarray, f0: int, f1: int, grid_resolution: int, margin: float):
    """The grid over the two features, spanning the data with a ``margin`` on each side,
    as ``np.meshgrid`` gives it, and its points as rows of inputs, the other features held
    at their medians."""
    pair = values[:, [f0, f1]]
    low, high = pair.min(axis=0), pair.max(axis=0)
    pad = np.where(high > low, margin * (high - low), 0.5)
    xx0, xx1 = np.meshgrid(
        np.linspace(low[0] - pad[0], high[0] + pad[0], grid_resolution),
        np.linspace(low[1] - pad[1], high[1] + pad[1], grid_resolution),
    )
    rows = np.tile(np.median(values, axis=0), (xx0.size, 1))
    rows[:, f0], rows[:, f1] = xx0.ravel(), xx1.ravel()
    return xx0, xx1, rows


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


def _as_network_input(estimator, rows: np.ndarray):
    """``rows`` as the network takes them: a DataFrame with the fitted feature names (so
    that no name check warns), else in the array library of its weights."""
    names = getattr(estimator, "feature_names_in_", None)
    if names is not None:
        import pandas as pd

        return pd.DataFrame(rows, columns=names)
    return _in_library_of_network(estimator, rows)


def _unit_responses(estimator, grid, layer: int, shape: tuple) -> np.ndarray:
    """Each unit's activation over the grid, of shape ``(n_units, *shape)``."""
    method = "HiddenUnitsDisplay.from_estimator"
    activations = _to_host(estimator._forward(grid, method, layer=layer))
    return np.asarray(activations, dtype=float).T.reshape(-1, *shape)


def _network_outputs(estimator, grid, shape: tuple, classifier: bool) -> np.ndarray:
    """The class probabilities or predictions over the grid, of shape ``(*shape, -1)``."""
    if classifier:
        outputs = _to_host(estimator.predict_proba(grid))
    else:
        outputs = _to_host(estimator.predict(grid))
    return np.asarray(outputs, dtype=float).reshape(*shape, -1)


def _feature_pair_names(estimator, f0: int, f1: int) -> tuple[str, str]:
    """The two features' names, or ``x<index>`` without fitted names."""
    names = getattr(estimator, "feature_names_in_", None)
    return (f"x{f0}", f"x{f1}") if names is None else (str(names[f0]), str(names[f1]))


def _layer_title(estimator, layer: int, n_units: int, n_features: int) -> str:
    """The display's title: which layer of which network, its units, and what happens to
    the features outside the plane."""
    activation = getattr(estimator, "activation", None)
    units = _count(n_units, f"{activation} unit" if activation else "unit")
    title = f"Hidden {layer + 1} of {type(estimator).__name__}: {units}"
    held = n_features - 2
    if held:
        title += f"\nother {held} feature{'s' if held > 1 else ''} at their medians"
    return title


# ---------------------------------------------------------------------------------------------
# How plot lays the panels out
# ---------------------------------------------------------------------------------------------


def _data_activation_range(shown: np.ndarray) -> tuple[float, float]:
    """The colour scale's ends from the activations drawn: signed activations centred on 0;
    non-negative ones (relu...) from 0 (orange) to their largest value (blue), so that the
    whole scale is used."""
    largest = float(np.abs(shown).max(initial=0.0)) or 1.0
    return (-largest if shown.min(initial=0.0) < 0 else 0.0, largest)


def _hide_frame(ax) -> None:
    """No ticks, background or spines: ``ax`` only lends its area to the panels."""
    ax.set_xticks([])
    ax.set_yticks([])
    ax.patch.set_visible(False)
    _hide_spines(ax)


@dataclass(frozen=True)
class _PanelGrid:
    """Where the panels lie, as insets of one axes, row by row: ``n_rows`` by ``n_cols``,
    apart by ``gap`` (a fraction of a cell), with a title above each when ``titled`` (up to
    16 panels; beyond, a small label inside the panel)."""

    n_cols: int
    n_rows: int
    gap: float
    titled: bool

    @classmethod
    def for_panels(cls, n_panels: int, n_cols: int | None) -> _PanelGrid:
        """The grid of ``n_panels`` panels: all in one row for up to 4 panels, else about a
        square, unless ``n_cols`` is given."""
        if n_cols is None:
            n_cols = n_panels if n_panels <= 4 else int(np.ceil(np.sqrt(n_panels)))
        n_rows = int(np.ceil(n_panels / n_cols))
        titled = n_panels <= 16
        return cls(n_cols, n_rows, 0.06 if titled else 0.03, titled)

    @property
    def figsize(self) -> tuple[float, float]:
        """The size of a new figure for the grid, in inches, room for a colour bar below."""
        return (min(2.2 * self.n_cols, 12), min(2.2 * self.n_rows, 12) + 1.2)

    def inset(self, ax, index: int):
        """The panel number ``index`` of the grid, as an inset of ``ax`` without ticks."""
        row, col = divmod(index, self.n_cols)
        gap = self.gap
        bounds = [
            (col + gap / 2) / self.n_cols,
            1 - (row + 1 - gap / 2) / self.n_rows,
            (1 - gap) / self.n_cols,
            (1 - gap - (0.12 if self.titled else 0)) / self.n_rows,
        ]
        inset = ax.inset_axes(bounds)
        inset.set_xticks([])
        inset.set_yticks([])
        return inset

    def label(self, inset, text: str) -> None:
        """Name a panel: a title above it, or a small label in its top-left corner."""
        if self.titled:
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
        if predicted is not None and len(self.classes) > 2:
            self.decision_surface_ = self._draw_likeliest_classes(ax, values, predicted)
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

    def _draw_likeliest_classes(self, ax, probabilities, predicted):
        """Each grid point in the colour of its predicted class, paler where that class is
        less likely (its probability nearer to that of a guess among the classes)."""
        from matplotlib.colors import ListedColormap

        n_classes = len(self.classes)
        sureness = np.clip((probabilities - 1 / n_classes) / (1 - 1 / n_classes), 0, 1)
        return ax.pcolormesh(
            self.xx0,
            self.xx1,
            predicted,
            cmap=ListedColormap([_class_color(k) for k in range(n_classes)]),
            vmin=-0.5,
            vmax=n_classes - 0.5,
            alpha=0.15 + 0.85 * sureness,
            shading="auto",
        )

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
        from matplotlib.colors import Normalize

        responses = self._validated_responses(max_units)
        n_drawn = min(responses.shape[0], max_units)
        grid = _PanelGrid.for_panels(n_drawn + 1, n_cols)
        if ax is None:
            _, ax = plt.subplots(figsize=grid.figsize, layout="constrained")
        cmap = _playground_cmap(cmap)
        if activation_range is None:
            activation_range = _data_activation_range(responses[:n_drawn])
        self.norm_ = Normalize(*activation_range)
        decision = self._decision()
        self.decision_values_ = decision[0]
        # the panels are insets of ``ax``, so they follow it into any figure or layout
        _hide_frame(ax)
        draw_points = self._points_drawer(cmap, decision, grid.titled, scatter_kwargs)
        self._draw_unit_maps(ax, grid, responses[:n_drawn], cmap, draw_points)
        self._draw_decision_panel(ax, grid, n_drawn, cmap, decision, draw_points)
        self._label_features(ax)
        _set_title_if_any(ax, self._title(n_drawn, responses.shape[0]))
        self.n_units_drawn_ = n_drawn
        self.colorbar_ = None
        if colorbar:
            self.colorbar_ = _draw_colorbar(ax, self.norm_, cmap, "activation")
        self.ax_ = ax
        self.figure_ = ax.figure
        return self

    def _validated_responses(self, max_units: int) -> np.ndarray:
        """``responses`` as a float array, or an error when it does not match the grid or
        ``max_units`` is out of range."""
        responses = np.asarray(self.responses, dtype=float)
        if responses.ndim != 3 or responses.shape[1:] != np.shape(self.xx0):
            raise ValueError(
                f"responses must have shape (n_units, *xx0.shape), got {responses.shape} "
                f"with a grid of shape {np.shape(self.xx0)}."
            )
        if max_units < 1:
            raise ValueError(f"max_units must be >= 1, got {max_units}.")
        return responses

    def _points_drawer(self, cmap, decision, titled: bool, scatter_kwargs: dict | None):
        """A function that draws the data's points on a panel (nothing without ``points``),
        coloured on the scale of the output's panel (``decision``), and keeps them in
        ``points_``."""
        from matplotlib.colors import Normalize

        scatter = {"s": 12 if titled else 5, "linewidths": 0.5, "edgecolors": "black"}
        scatter.update(scatter_kwargs or {})
        points = None if self.points is None else np.asarray(self.points, dtype=float)
        _, _, (low, high), _ = decision
        colors = self._point_colors(cmap, Normalize(low, high))
        self.points_ = []

        def draw_points(inset) -> None:
            if points is not None:
                self.points_.append(inset.scatter(points[:, 0], points[:, 1], c=colors, **scatter))

        return draw_points

    def _draw_unit_maps(self, ax, grid: _PanelGrid, responses, cmap, draw_points) -> None:
        """One panel per unit drawn: its activation over the grid, and the points."""
        axes, self.maps_ = [], []
        for unit, response in enumerate(responses):
            inset = grid.inset(ax, unit)
            self.maps_.append(
                inset.pcolormesh(
                    self.xx0, self.xx1, response, cmap=cmap, norm=self.norm_, shading="auto"
                )
            )
            draw_points(inset)
            grid.label(inset, f"unit {unit}")
            axes.append(inset)
        self.axes_ = np.array(axes, dtype=object)

    def _draw_decision_panel(
        self, ax, grid: _PanelGrid, index: int, cmap, decision, draw_points
    ) -> None:
        """The last panel, number ``index``: the network's output over the grid
        (``decision``, as :meth:`_decision` gives it), and the points."""
        from matplotlib.colors import Normalize

        values, output_name, (low, high), predicted = decision
        self.decision_ax_ = grid.inset(ax, index)
        self._draw_output(self.decision_ax_, cmap, Normalize(low, high), values, predicted)
        draw_points(self.decision_ax_)
        grid.label(self.decision_ax_, output_name)

    def _label_features(self, ax) -> None:
        """The two features' names and ranges, along the shared area's axes."""
        first, second = self.feature_names or ("x0", "x1")
        ax.set_xlabel(f"{first}: {np.min(self.xx0):.3g} to {np.max(self.xx0):.3g}")
        ax.set_ylabel(f"{second}: {np.min(self.xx1):.3g} to {np.max(self.xx1):.3g}")

    def _title(self, n_drawn: int, n_units: int) -> str:
        """The title: ``name``, and how many units have a map when not all of them do."""
        title = self.name or ""
        if n_drawn < n_units:
            title = f"{title}\n(first {n_drawn} of {n_units} units)".strip()
        return title

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
        _import_pyplot("HiddenUnitsDisplay.from_estimator")
        check_is_fitted(estimator)
        layer, (f0, f1), values = _checked_request(estimator, X, layer, features, grid_resolution)
        xx0, xx1, rows = _response_grid(values, f0, f1, grid_resolution, margin)
        grid = _as_network_input(estimator, rows)
        responses = _unit_responses(estimator, grid, layer, xx0.shape)
        classifier = is_classifier(estimator)
        outputs = _network_outputs(estimator, grid, xx0.shape, classifier)
        display = cls(
            xx0=xx0,
            xx1=xx1,
            responses=responses,
            outputs=outputs if classifier else outputs[..., 0],
            points=values[:, [f0, f1]],
            point_values=_checked_point_values(y, len(values)),
            classes=estimator.classes_ if classifier else None,
            feature_names=_feature_pair_names(estimator, f0, f1),
            name=_layer_title(estimator, layer, responses.shape[0], values.shape[1]),
        )
        return display.plot(
            ax=ax,
            max_units=max_units,
            n_cols=n_cols,
            activation_range=_ACTIVATION_RANGES.get(getattr(estimator, "activation", None)),
            cmap=cmap,
            colorbar=colorbar,
            scatter_kwargs=scatter_kwargs,
        )
