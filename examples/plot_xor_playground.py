"""
==========================================================
The tutorial's XOR network, seen the Playground's way
==========================================================

TensorFlow Playground draws a network as a column of circles per layer joined by one line
per weight, and shows inside each hidden unit what it responds to over the input plane.
:class:`~sknn_scratch.plot.NetworkDisplay` and
:class:`~sknn_scratch.plot.HiddenUnitsDisplay` draw the same two pictures of a fitted
network.

This example draws them for the tutorial's XOR network (two sigmoid hidden units, 10,000
epochs of full-batch gradient descent, seed 42), once after its first epoch and once at
the end of training, and reads from them why that run gets stuck (see
:ref:`sphx_glr_auto_examples_plot_xor.py`).
"""

# %%
# The data and the tutorial's network
# -----------------------------------
# The inputs are named ``x1`` and ``x2`` as in the tutorial: fitted on a DataFrame, the
# network keeps the names (``feature_names_in_``) and the pictures use them.

import warnings

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from sklearn.exceptions import ConvergenceWarning

from sknn_scratch import ScratchMLPClassifier
from sknn_scratch.plot import HiddenUnitsDisplay, NetworkDisplay

X = pd.DataFrame({"x1": [0, 1, 0, 1], "x2": [0, 0, 1, 1]}, dtype=float)
y = np.array([0, 1, 1, 0])

tutorial = dict(
    hidden_size=2,
    activation="sigmoid",
    loss="squared_error",
    solver="sgd",
    batch_size=None,
    momentum=0.0,
    learning_rate=0.2,
    epochs=10_000,
    alpha=0.0,
    init="normal",
    tol=0.0,
    random_state=42,
)

with warnings.catch_warnings():
    # tol=0 runs every epoch on purpose, so the "not converged" warning is expected
    warnings.simplefilter("ignore", ConvergenceWarning)
    first_epoch = ScratchMLPClassifier(**{**tutorial, "epochs": 1}).fit(X, y)
    trained = ScratchMLPClassifier(**tutorial).fit(X, y)

for name, clf in [("after 1 epoch", first_epoch), ("after 10,000", trained)]:
    print(f"{name:14s} P(y=1) = {np.round(clf.predict_proba(X)[:, 1], 3)}")


# %%
# Both pictures, side by side
# ---------------------------
# On the left, the network: a line per weight, wider for a larger ``|w|``, orange when
# negative and blue when positive; each unit's fill is its bias on the same scale. On the
# right, one map per hidden unit (its activation over the plane of ``x1`` and ``x2``, from
# 0 in orange to 1 in blue) and, framed, the network's output: the probability of class 1,
# with the 0.5 line. The four points are coloured by their class.


def draw(clf, title):
    fig, (left, right) = plt.subplots(
        1, 2, figsize=(7.2, 3.1), width_ratios=[1, 1.4], layout="constrained"
    )
    NetworkDisplay.from_estimator(clf, ax=left, name="")
    HiddenUnitsDisplay.from_estimator(
        clf, X, y=y, grid_resolution=80, ax=right, scatter_kwargs={"s": 40}
    )
    right.set_title("")
    fig.suptitle(title)
    return fig


# %%
# After the first epoch
# ~~~~~~~~~~~~~~~~~~~~~
# One step of gradient descent leaves the weights practically where ``init="normal"`` drew
# them (the biases, which start at 0, have barely moved: every unit is grey). Unit 0 leans a
# little on both inputs and unit 1 mostly on ``x2`` (the widest line, 1.5), so their maps
# are soft ramps from 0.5 at the origin. The two output weights are small and both
# negative (about -0.23): the output is a little below 0.5 for all four points, and its
# map is a flat light orange.

draw(first_epoch, "The tutorial's network after 1 epoch")
plt.show()

# %%
# After 10,000 epochs
# ~~~~~~~~~~~~~~~~~~~
# Both hidden units have grown a large positive weight from ``x2`` (the two widest blue
# lines), and opposite weights from ``x1``: unit 0 is low only near ``(0, 0)`` and unit 1
# only near ``(1, 0)``. Where ``x2 = 1`` (the top of each map) both units are saturated at
# about 1, whatever ``x1``: the output sees the same two numbers for ``(0, 1)`` and
# ``(1, 1)``, and its weights of opposite signs (about +4.8 and -4.8) cancel, so it answers
# about 0.5 for both; the 0.5 line wanders through that grey top half. Only the bottom of
# the plane, ``x2 = 0``, is split the right way. This is the local minimum the loss curve
# of :ref:`sphx_glr_auto_examples_plot_xor.py` ends in: saturated units pass back almost no
# gradient, so the top half stays as it is.

draw(trained, "The tutorial's network after 10,000 epochs: stuck")
plt.show()

print("hidden weights W1:\n", np.round(trained.coefs_[0], 2))
print("output weights W2:", np.round(trained.coefs_[1].ravel(), 2))
