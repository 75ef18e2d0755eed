"""Plots of fitted networks, in scikit-learn's ``Display`` style.

matplotlib is an optional dependency: this package imports it only when something is drawn,
so ``import sknn_scratch.plot`` works without it.

- :class:`LossCurveDisplay`: the learning curves (``_loss_curve``).
- :class:`NetworkDisplay`: the units and weights, as TensorFlow Playground draws them
  (``_network``).
- :class:`HiddenUnitsDisplay`: what each hidden unit responds to, over two input features
  (``_hidden_units``).
- :class:`LayerMonitorDisplay`: each layer's health over the epochs, as a
  :class:`~sknn_scratch.LayerMonitor` recorded it (``_layer_monitor``).

What they share (matplotlib's import, the Playground's colours) is in ``_common``.
"""

from ._hidden_units import HiddenUnitsDisplay
from ._layer_monitor import UPDATE_RATIO_REFERENCE as UPDATE_RATIO_REFERENCE
from ._layer_monitor import LayerMonitorDisplay
from ._loss_curve import LossCurveDisplay
from ._network import NetworkDisplay

__all__ = ["HiddenUnitsDisplay", "LayerMonitorDisplay", "LossCurveDisplay", "NetworkDisplay"]
