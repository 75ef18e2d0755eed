"""
================================================
XOR: the tutorial's stuck run and solved ones
================================================

The tutorial that sknn_scratch grew from trains a network with two sigmoid hidden units on
XOR, with 10,000 epochs of full-batch gradient descent. With its random seed (42) the run
ends in a local minimum: two of the four points are classified confidently, and the network
answers 0.5 for the other two.

This example trains that network and three variants, and draws the probability of class 1
that each one predicts over the plane. The page :ref:`xor_stuck` explains what traps the
tutorial's run.
"""

# %%
# The data and the tutorial's network
# -----------------------------------
# These parameters make :class:`~sknn_scratch.ScratchMLPClassifier` the tutorial's network
# and training loop. ``learning_rate=0.2`` is the tutorial's 0.1 in our convention (see
# :ref:`learning_rate_conversion`).

import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.inspection import DecisionBoundaryDisplay

from sknn_scratch import ScratchMLPClassifier
from sknn_scratch.plot import LossCurveDisplay

X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]])
y = np.array([0, 1, 1, 0])

tutorial = dict(
    hidden_size=2,
    activation="sigmoid",
    loss="squared_error",
    solver="sgd",
    momentum=0.0,
    batch_size=None,
    learning_rate=0.2,
    epochs=10_000,
    alpha=0.0,
    tol=0.0,
    init="normal",
    random_state=42,
)

# %%
# Four runs
# ---------
# The same network started from another seed, the same run with three hidden units instead
# of two, and a network set up the way one would today (eight ``tanh`` units, the log-loss,
# Adam) that needs only 300 epochs.

runs = {
    "Tutorial (seed 42): stuck": tutorial,
    "Tutorial, seed 1": {**tutorial, "random_state": 1},
    "Tutorial, 3 hidden units": {**tutorial, "hidden_size": 3},
    "8 tanh units, log-loss, Adam": dict(
        hidden_size=8,
        activation="tanh",
        solver="adam",
        learning_rate=0.05,
        batch_size=None,
        epochs=300,
        alpha=0.0,
        tol=0.0,
        random_state=42,
    ),
}

fitted = {}
with warnings.catch_warnings():
    # tol=0 runs every epoch on purpose, so the "not converged" warning is expected
    warnings.simplefilter("ignore", ConvergenceWarning)
    for name, params in runs.items():
        fitted[name] = ScratchMLPClassifier(**params).fit(X, y)

for name, clf in fitted.items():
    proba = clf.predict_proba(X)[:, 1]
    print(f"{name:30s} P(y=1) = {np.round(proba, 3)}, loss = {clf.loss_:.4f}")

# %%
# Decision surfaces
# -----------------
# Colour is the predicted probability of class 1, the black line the 0.5 boundary. The
# stuck network separates ``(0, 0)`` from ``(1, 0)`` but gives the same answer, 0.5, to
# ``(0, 1)`` and ``(1, 1)``: for ``x2 = 1`` both of its hidden units are saturated and the
# network cannot tell ``x1`` apart.

fig, axes = plt.subplots(2, 2, figsize=(9, 8), sharex=True, sharey=True, layout="constrained")
for ax, (name, clf) in zip(axes.ravel(), fitted.items()):
    display = DecisionBoundaryDisplay.from_estimator(
        clf,
        X,
        response_method="predict_proba",
        grid_resolution=200,
        eps=0.5,
        cmap="RdBu_r",
        vmin=0,
        vmax=1,
        levels=np.linspace(0, 1, 11),
        ax=ax,
    )
    DecisionBoundaryDisplay.from_estimator(
        clf,
        X,
        response_method="predict_proba",
        plot_method="contour",
        grid_resolution=200,
        eps=0.5,
        levels=[0.5],
        colors="black",
        ax=ax,
    )
    ax.scatter(X[:, 0], X[:, 1], c=y, cmap="RdBu_r", vmin=0, vmax=1, s=120, edgecolors="k")
    for point, p in zip(X, clf.predict_proba(X)[:, 1]):
        ax.annotate(
            f"{p:.2f}",
            point,
            xytext=(9, 9),
            textcoords="offset points",
            fontsize=10,
            bbox=dict(boxstyle="round,pad=0.2", fc="white", alpha=0.8),
        )
    ax.set(title=name, xlabel="x1", ylabel="x2")
    ax.label_outer()
fig.colorbar(display.surface_, ax=axes, shrink=0.6, label="P(y = 1)")
plt.show()

# %%
# Loss curves
# -----------
# The three runs of the tutorial's kind reach, within their first hundred epochs, a plateau
# where every prediction is about 0.5: a squared error of ``0.5 ** 2 = 0.25`` (the dotted
# line). The stuck run leaves it, then ends at the loss printed above, 0.128, just above
# the dashed line at 0.125, the loss of two points right and two at 0.5. The run with seed
# 1 lingers near that level for a while before it escapes; the run with three hidden units
# passes straight through it. The Adam network's loss is the log-loss (0.69 for a
# prediction of 0.5), so its scale differs.

fig, ax = plt.subplots(figsize=(8, 4.5), layout="constrained")
for i, (name, clf) in enumerate(fitted.items()):
    LossCurveDisplay.from_estimator(
        clf, ax=ax, name="", log_scale=True, loss_kwargs={"label": name, "color": f"C{i}"}
    )
ax.axhline(0.25, color="0.5", linestyle=":", linewidth=1.5, label="0.25: every prediction 0.5")
ax.axhline(0.125, color="0.5", linestyle="--", linewidth=1, label="0.125: two right, two at 0.5")
# where the stuck run ends, written next to the end of its curve
stuck = fitted["Tutorial (seed 42): stuck"]
ax.annotate(
    f"{stuck.loss_:.3f}",
    (stuck.n_iter_, stuck.loss_),
    xytext=(6, 4),
    textcoords="offset points",
    color="C0",
    fontweight="bold",
)
ax.set_xscale("log")
ax.set_xlim(right=3 * stuck.n_iter_)  # room for that label
# labelled ticks at the levels the text discusses: the plateau (0.25) and the log-loss of a
# prediction of 0.5 (log 2 = 0.69)
ticks = [0.001, 0.01, 0.1, 0.25, np.log(2)]
ax.set_yticks(ticks, [f"{t:.2g}" for t in ticks])
ax.legend()
ax.set_title("Training loss")
plt.show()
