"""Each layer's health over the epochs, as a :class:`~sknn_scratch.LayerMonitor` recorded it:
:class:`LayerMonitorDisplay`."""

from __future__ import annotations

import numpy as np

from ._common import _import_pyplot

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
    """A layer's name in the legend: ``layer 1 (relu)``, ``layer 2 (output, softmax)``."""
    kind = f"output, {activation}" if is_output else activation
    return f"layer {layer} ({kind})"


class _LayerCurves:
    """One layer's rows as curves: its legend label, activation, epochs and the values of
    every quantity."""

    def __init__(self, label: str, activation: str, epochs: np.ndarray, values: dict):
        self.label, self.activation, self.epochs, self.values = label, activation, epochs, values

    @classmethod
    def from_rows(cls, rows: list, is_output: bool) -> _LayerCurves:
        """The curves of one layer's rows, sorted by epoch."""
        layer, activation = rows[0]["layer"], rows[0]["activation"]
        return cls(
            _layer_label(layer, activation, is_output),
            activation,
            np.array([row["epoch"] for row in rows]),
            {q: np.array([row[q] for row in rows], float) for q in _MONITOR_PANELS},
        )


def _rows_of_fit(data: list, fit) -> list:
    """The rows of one fit of the monitor's run (its last one when ``fit`` is None), or an
    error naming the fits there are."""
    fits = sorted({row["parent_task_id_path"] for row in data})
    chosen = fits[-1] if fit is None else tuple(fit)
    if chosen not in fits:
        raise ValueError(
            f"The monitor's most recent run has no fit {chosen}; its fits are {fits} (the "
            "parent_task_id_path of their rows)."
        )
    return [row for row in data if row["parent_task_id_path"] == chosen]


def _new_panels(plt, n_panels: int) -> np.ndarray:
    """A new figure of ``n_panels`` panels, two a row, sharing the epochs."""
    n_rows = -(-n_panels // 2)
    _, grid = plt.subplots(
        n_rows,
        min(n_panels, 2),
        figsize=(7.0, 0.6 + 2.2 * n_rows),
        sharex=True,
        layout="constrained",
        squeeze=False,
    )
    for spare in grid.ravel()[n_panels:]:  # 3 panels leave a cell of 2 x 2 empty
        spare.remove()
    return grid.ravel()[:n_panels]


def _note_undefined(panel, curves: list) -> None:
    """Say, in the middle of an empty panel, which units its quantity is not defined for."""
    activations = sorted({layer.activation for layer in curves})
    panel.text(
        0.5, 0.5, f"not defined for\n{', '.join(activations)} units",
        transform=panel.transAxes, ha="center", va="center", color="0.4",
    )  # fmt: skip


def _label_bottom_panels(axes, n_cols: int, xlabel: str) -> None:
    """A light grid on every panel; the x axis' label and ticks on those with no panel
    below them."""
    n_panels = len(axes)
    for i, panel in enumerate(axes):
        panel.grid(True, alpha=0.3)
        if i + n_cols >= n_panels:  # no panel below this one
            panel.set_xlabel(xlabel)
            panel.xaxis.set_tick_params(labelbottom=True)


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
        layers = sorted({row["layer"] for row in rows})
        return [
            _LayerCurves.from_rows([row for row in rows if row["layer"] == layer], layer == last)
            for layer in layers
        ]

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
        if own_figure:
            axes, n_cols = _new_panels(plt, n_panels), min(n_panels, 2)
        else:
            axes, n_cols = self._given_panels(ax), n_panels
        self.lines_, self.reference_line_ = {}, None
        for quantity, panel in zip(self.quantities, axes):
            self._draw_panel(panel, quantity, curves, line_kwargs or {})
        _label_bottom_panels(axes, n_cols, self.xlabel)
        figure = axes[0].figure
        self._draw_legend(figure, axes[0], own_figure)
        if title:
            figure.suptitle(title)
        self.ax_ = axes
        self.figure_ = figure
        return self

    def _given_panels(self, ax) -> np.ndarray:
        """``ax`` as a flat array of axes, or an error unless there is one per quantity."""
        axes = np.ravel(np.asarray(ax, dtype=object))
        if axes.size != len(self.quantities):
            raise ValueError(
                f"ax has {axes.size} axes for {len(self.quantities)} quantities "
                f"{self.quantities}: pass one axes per quantity."
            )
        return axes

    def _draw_panel(self, panel, quantity: str, curves: list, line_kwargs: dict) -> None:
        """One quantity's panel: a line per layer, its title and scale, the reference line
        of the update ratio, and a note where no layer defines the quantity."""
        self.lines_[quantity] = [
            panel.plot(layer.epochs, layer.values[quantity], label=layer.label, **line_kwargs)[0]
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
            _note_undefined(panel, curves)

    def _draw_legend(self, figure, first_panel, own_figure: bool) -> None:
        """One legend of the layers (and the reference line): below the panels of a new
        figure, else in the first panel."""
        handles = list(self.lines_[self.quantities[0]])
        if self.reference_line_ is not None:
            handles.append(self.reference_line_)
        labels = [handle.get_label() for handle in handles]
        if own_figure:
            figure.legend(handles, labels, loc="outside lower center", ncols=min(len(labels), 3))
        else:
            first_panel.legend(handles, labels, fontsize="small")

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
        display = cls(
            rows=_rows_of_fit(monitor.get_logs().data, fit),
            quantities=quantities,
            xlabel=xlabel,
        )
        return display.plot(ax=ax, title=title, line_kwargs=line_kwargs)
