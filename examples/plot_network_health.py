"""
======================
Is my network healthy?
======================

A loss curve tells you *that* a deep network trains badly, rarely *why*. The reason is
usually visible layer by layer: units pinned at the bounds of a sigmoid (saturated), ReLU
units that output zero for every input (dead), gradients that shrink on their way down to
the first layer, or steps out of proportion to the weights they change.
:class:`~sknn_scratch.LayerMonitor` records these quantities for every layer after every
epoch, and :class:`~sknn_scratch.plot.LayerMonitorDisplay` draws them, one panel per
quantity and one line per layer.

This example trains two deep networks on the same digits with the same optimizer: one of
sigmoid units with Glorot weights, one of ReLU units with He weights. Both are unhealthy,
in different ways.
"""

# %%
# Two deep networks, one data set
# -------------------------------
# Handwritten digits (8x8 images, pixel values scaled to 0-1), three quarters for training.
# Both networks have five hidden layers of 64 units and train for at most 40 epochs with
# Adam, batches of 64 images and a step size of 0.03, large for a network this deep. The
# monitor is set like any scikit-learn callback; with no ``X`` it watches 256 training
# images, the same for every epoch.

import warnings

import matplotlib.pyplot as plt
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split

from sknn_scratch import LayerMonitor, ScratchMLPClassifier
from sknn_scratch.plot import LayerMonitorDisplay

X, y = load_digits(return_X_y=True)
X = X / 16
X_train, X_test, y_train, y_test = train_test_split(X, y, stratify=y, random_state=0)


def fit_watched(activation, init, learning_rate):
    """A five-layer network fitted with a LayerMonitor; the network and the monitor."""
    monitor = LayerMonitor()
    network = ScratchMLPClassifier(
        hidden_size=(64,) * 5,
        activation=activation,
        init=init,
        learning_rate=learning_rate,
        batch_size=64,
        epochs=40,
        random_state=0,
    ).set_callbacks(monitor)
    with warnings.catch_warnings():
        # 40 epochs are a budget, not a promise of convergence
        warnings.simplefilter("ignore", ConvergenceWarning)
        network.fit(X_train, y_train)
    print(
        f"{activation} ({init}), learning_rate={learning_rate}: {network.n_iter_} epochs, "
        f"test accuracy {network.score(X_test, y_test):.3f}"
    )
    return network, monitor


sigmoid, sigmoid_monitor = fit_watched("sigmoid", "glorot", 0.03)
relu, relu_monitor = fit_watched("relu", "he", 0.03)

# %%
# ``get_logs().data_as_pandas`` has one row per epoch and layer; ``layer`` indexes
# ``coefs_``, and the last layer is the softmax output. Here is the sigmoid network after
# its first epoch:

logs = sigmoid_monitor.get_logs().data_as_pandas
columns = ["layer", "activation", "saturated_fraction", "gradient_std"]
print(logs.loc[logs["epoch"] == 1, columns].to_string(index=False))

# %%
# The sigmoid network: saturation and vanishing gradients
# -------------------------------------------------------
# After a single epoch, most outputs of two hidden layers sit below 0.01 or above 0.99,
# where a sigmoid is flat: their derivative is nearly zero, and so is the gradient that
# passes through them. The gradient panel shows the result: the gradient's spread shrinks
# from the output layer down to the first, whose gradient is about a thousand times
# smaller (the lines are stacked in the order of the layers). Adam divides every step by
# the gradient's running size, so the first layer still takes steps as large as the
# learning rate: its update ratio stays near 0, steps as large as its weights, driven by a
# gradient that is mostly noise. Later a burst of large steps shakes the network: the
# gradients grow, but saturation spreads to every hidden layer, and most hidden outputs
# stay at their bounds from then on. The test accuracy shows how little the network
# learnt.

LayerMonitorDisplay.from_monitor(sigmoid_monitor, title="Sigmoid units, Glorot weights")
plt.show()

# %%
# The ReLU network: dead units
# ----------------------------
# He's initialisation keeps the gradient's spread about the same from layer to layer, and
# ReLU units have no bound to saturate at (only the softmax output has, and its saturated
# outputs are confident predictions, which the log-loss's gradient ``p - y`` does not
# stall). But the first steps are large: in the first epoch, many units are pushed to a
# negative input for every image, output 0 and receive no gradient again. Most of the first
# layer dies this way, and stays dead; the network learns with the units it has left.

LayerMonitorDisplay.from_monitor(relu_monitor, title="ReLU units, He weights")
plt.show()

# %%
# A healthier run
# ---------------
# Both networks take steps of about a tenth of their weights, a hundred times the
# reference line's 1e-3 (an update ratio around -1). With a step size ten times smaller,
# the same ReLU network keeps most of its units alive, its update ratio falls towards the
# reference as training settles, and it generalises better. (Its softmax outputs saturate
# as its predictions grow confident, which is what a classifier should do.)

calm_relu, calm_monitor = fit_watched("relu", "he", 0.003)
LayerMonitorDisplay.from_monitor(calm_monitor, title="ReLU units, learning_rate=0.003")
plt.show()

# %%
# To watch the network on rows of your own, for instance held-out ones, pass them as
# ``LayerMonitor(X=...)``. The monitor also works in a ``GridSearchCV`` (with any
# ``n_jobs``): each fit's rows share a ``parent_task_id_path``, and
# ``LayerMonitorDisplay.from_monitor(monitor, fit=...)`` draws one of them.
