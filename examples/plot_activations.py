"""
=======================================
Decision boundaries of each activation
=======================================

The hidden-layer ``activation`` shapes the functions a network can draw. This example fits
the same network (one hidden layer of 16 units, trained by L-BFGS) with each of the four
activations on two classic two-dimensional data sets, and draws the predicted probability
of the red class over the plane, with the training points on top. The number in each
corner is the accuracy on held-out points (40% of each data set, not drawn).
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
activations = ["identity", "sigmoid", "tanh", "relu"]
colors = np.array(["#2166ac", "#b2182b"])  # class 0 blue, class 1 red

# %%
# Fit and draw
# ------------
# Everything but ``activation`` stays the same. ``alpha=1`` adds an L2 penalty on the
# weights: without it, 16 units trained to convergence would bend the boundary around
# single noisy points.

fig, axes = plt.subplots(
    len(datasets),
    len(activations),
    figsize=(12, 6.4),
    sharex="row",
    sharey="row",
    layout="constrained",
)
for row, (data_name, (X, y)) in zip(axes, datasets.items()):
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.4, random_state=0)
    for ax, activation in zip(row, activations):
        model = make_pipeline(
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
#
# See :ref:`choosing` for when to pick which.
