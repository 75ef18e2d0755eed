"""
=======================================
Decision boundaries of each activation
=======================================

The hidden-layer ``activation`` shapes the functions a network can draw. This example fits
the same network (one hidden layer of 16 units, trained by L-BFGS) with each activation on
two classic two-dimensional data sets, and draws the predicted probability of the red class
over the plane, with the training points on top. The number in each corner is the accuracy
on held-out points (40% of each data set, not drawn). The first figure compares the four
classic activations; the next two add the five smooth or leaky variants of the relu.
"""

# %%
# Data
# ----
# Two interleaving half-moons and two nested circles, with some noise. Neither can be
# separated by a straight line.

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import make_circles, make_moons
from sklearn.inspection import DecisionBoundaryDisplay
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sknn_scratch import ScratchMLPClassifier

datasets = {
    "moons": make_moons(n_samples=300, noise=0.25, random_state=0),
    "circles": make_circles(n_samples=300, noise=0.15, factor=0.5, random_state=0),
}
splits = {
    name: train_test_split(X, y, test_size=0.4, random_state=0)
    for name, (X, y) in datasets.items()
}
colors = np.array(["#2166ac", "#b2182b"])  # class 0 blue, class 1 red


def fit(X_train, y_train, activation):
    """The network with ``activation``, fitted; only ``activation`` changes between them."""
    return make_pipeline(
        StandardScaler(),
        ScratchMLPClassifier(
            hidden_size=16,
            activation=activation,
            solver="lbfgs",
            alpha=1.0,
            epochs=1000,
            random_state=0,
        ),
    ).fit(X_train, y_train)


fitted = {}  # each network is fitted once, and drawn in every figure that shows it


def draw(ax, data_name, activation):
    """Draw the network with ``activation`` fitted on ``data_name`` on ``ax``."""
    X, _ = datasets[data_name]
    X_train, X_test, y_train, y_test = splits[data_name]
    if (data_name, activation) not in fitted:
        fitted[data_name, activation] = fit(X_train, y_train, activation)
    model = fitted[data_name, activation]
    DecisionBoundaryDisplay.from_estimator(
        model,
        X,
        response_method="predict_proba",
        cmap="RdBu_r",
        alpha=0.6,
        eps=0.3,
        vmin=0,
        vmax=1,
        levels=11,
        ax=ax,
    )
    ax.scatter(*X_train.T, c=colors[y_train], edgecolors="k", linewidths=0.5, s=18)
    ax.text(
        0.97,
        0.03,
        f"{model.score(X_test, y_test):.2f}",
        transform=ax.transAxes,
        ha="right",
        va="bottom",
        fontsize=13,
        bbox=dict(fc="white", alpha=0.8),
    )
    ax.set(xticks=[], yticks=[], xlabel="", ylabel="")


# %%
# The four classic activations
# ----------------------------
# Everything but ``activation`` stays the same. ``alpha=1`` adds an L2 penalty on the
# weights: without it, 16 units trained to convergence would bend the boundary around
# single noisy points.

activations = ["identity", "sigmoid", "tanh", "relu"]
fig, axes = plt.subplots(
    len(datasets),
    len(activations),
    figsize=(12, 6.4),
    sharex="row",
    sharey="row",
    layout="constrained",
)
for row, data_name in zip(axes, datasets):
    for ax, activation in zip(row, activations):
        draw(ax, data_name, activation)
        if data_name == "moons":
            ax.set_title(f'activation="{activation}"')
    row[0].set_ylabel(data_name, fontsize=13)
plt.show()

# %%
# What the pictures show
# ----------------------
# - ``"identity"`` makes the whole network linear, however many units it has: its boundary
#   is a straight line, which cannot follow the moons and fails completely on the circles.
# - ``"sigmoid"`` suffers most from the penalty. Since ``tanh(z) = 2 * sigmoid(2 * z) - 1``, a
#   sigmoid unit needs weights twice as large, going in and coming out, to draw the same
#   curve as a tanh unit, and the L2 penalty makes such weights expensive: on the moons the
#   sigmoid network stays almost linear. With less penalty (smaller ``alpha``) it bends too.
# - ``"tanh"`` draws smooth curves that follow both data sets.
# - ``"relu"`` builds its boundary from straight pieces, with a corner wherever one of its
#   units switches on or off: the circle becomes a polygon.

# %%
# All nine activations
# --------------------
# The same network again, with the relu and its five relatives added: ``"leaky_relu"``
# (slope 0.01 below zero), ``"elu"``, ``"gelu"``, ``"softplus"`` and ``"silu"``. One figure
# per data set, the classic four in the first row and a half.

all_activations = [
    "identity", "sigmoid", "tanh",
    "relu", "leaky_relu", "elu",
    "gelu", "softplus", "silu",
]  # fmt: skip
for data_name in datasets:
    fig, axes = plt.subplots(
        3, 3, figsize=(9, 9.6), sharex=True, sharey=True, layout="constrained"
    )
    for ax, activation in zip(axes.flat, all_activations):
        draw(ax, data_name, activation)
        ax.set_title(f'"{activation}"')
    fig.suptitle(f"{data_name}: every hidden activation", fontsize=14)
    plt.show()

# %%
# What the nine show
# ------------------
# - ``"leaky_relu"`` draws nearly the same polygon as ``"relu"``: its slope of 0.01 below zero
#   changes the boundary very little, but keeps a gradient flowing through units that
#   would otherwise be switched off for every sample.
# - ``"elu"``, ``"gelu"`` and ``"silu"`` behave like the relu for large inputs but are
#   smooth near zero: their boundaries follow the moons as closely as the relu's, without
#   the corners, and round off the polygon on the circles.
# - ``"softplus"``, ``log(1 + exp(z))``, is the integral of the sigmoid, and on the moons it
#   behaves like it: under this strong penalty its network stays almost linear (0.84). With
#   ``alpha=0.1`` it bends and scores 1.00 on the same held-out points, and the sigmoid
#   0.99.
# - On the circles every non-linear activation scores 0.94 or 0.95: the differences are in
#   the shape of the boundary, not in the accuracy.
#
# See :ref:`choosing` for when to pick which.
