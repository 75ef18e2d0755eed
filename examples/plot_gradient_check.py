"""
=====================================================
Checking gradients: backpropagation against the slope
=====================================================

Backpropagation (the tutorial's step 6) is the part of a network that is easiest to get
subtly wrong: a network with a wrong gradient still trains, only worse. A gradient check
compares it with the slope of the loss measured directly, by centred finite differences
``(L(θ + eps) - L(θ - eps)) / (2 eps)``, one parameter at a time, and reads the agreement
with the relative error of Stanford's cs231n notes.

This example checks a small network with :func:`sknn_scratch.check_gradients`, prints the
table it gives, then breaks one derivative inside the package on purpose to show what a
failing check looks like.
"""

# %%
# A small network, checked before and after training
# ---------------------------------------------------
# Thirty rows of iris are plenty: each parameter costs two evaluations of the loss on all
# of them. An unfitted estimator is checked at the weights ``fit`` would start from (drawn
# from its ``random_state``); a fitted one at its trained weights.

import warnings
from contextlib import contextmanager

import matplotlib.pyplot as plt
import numpy as np
from scipy.special import expit
from sklearn.datasets import load_iris
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import StandardScaler

from sknn_scratch import ScratchMLPClassifier, check_gradients

X, y = load_iris(return_X_y=True)
X = StandardScaler().fit_transform(X)[::5]
y = y[::5]

model = ScratchMLPClassifier(hidden_size=(6, 4), activation="sigmoid", random_state=0)
before_training = check_gradients(model, X, y)
print(before_training)

# %%
# Every array agrees to about ``1e-8`` or better: cs231n's "happy". After training, the
# gradients are much smaller (the network sits near a minimum); the check still compares
# them with the finite differences' own precision, and passes.

with warnings.catch_warnings():
    warnings.simplefilter("ignore", ConvergenceWarning)
    fitted = ScratchMLPClassifier(**model.get_params()).set_params(epochs=300).fit(X, y)
after_training = check_gradients(fitted, X, y)
print(after_training)

# %%
# A broken derivative
# -------------------
# The tutorial writes the sigmoid's derivative in terms of the unit's *output*
# ``a = sigmoid(z)``: ``sigmoid_derivative(a) = a * (1 - a)``. A classic slip is to use the
# form written for the *input*, ``sigmoid(z) * (1 - sigmoid(z))``, on the output, which
# applies the sigmoid twice. The context manager below swaps that slip into the package's
# table of derivatives (``NUMPY._derivatives``, a private detail, touched here for the
# demonstration only) and puts the right one back on the way out.

from sknn_scratch.core.kernels import NUMPY


def sigmoid_derivative_of_the_wrong_variable(a, delta):
    """``sigmoid'(z)`` evaluated at ``a`` instead of ``z``: the bug."""
    delta *= expit(a) * (1 - expit(a))


@contextmanager
def broken_derivative(activation, wrong):
    """Use ``wrong`` as ``activation``'s derivative inside the ``with`` block."""
    right = NUMPY._derivatives[activation]
    NUMPY._derivatives[activation] = wrong
    try:
        yield
    finally:
        NUMPY._derivatives[activation] = right


with broken_derivative("sigmoid", sigmoid_derivative_of_the_wrong_variable):
    broken = check_gradients(model, X, y)
print(broken)

# %%
# The output layer's weights ``W3`` do not go through the hidden activation's derivative,
# so they still agree; every array below them reads above cs231n's 1e-2, "probably wrong",
# and the check fails. Outside the ``with`` block the package is whole again:

print(check_gradients(model, X, y).passed)

# %%
# The relative errors, array by array
# -----------------------------------
# The bars show each array's largest relative error on a log scale, over cs231n's bands.

bands = [  # (lower, upper, cs231n's reading, colour)
    (1e-12, 1e-7, "happy", "#d8f0d8"),
    (1e-7, 1e-4, "ok for kinks", "#f0f0d0"),
    (1e-4, 1e-2, "uncomfortable", "#f8e0c0"),
    (1e-2, 1e1, "probably wrong", "#f4c8c8"),
]
checks = {
    "before training": before_training,
    "after training": after_training,
    "broken derivative": broken,
}
names = [f"{c.tutorial_name}\n{c.name}" for c in before_training.arrays.values()]
positions = np.arange(len(names))
width = 0.8 / len(checks)

fig, ax = plt.subplots(figsize=(8, 4.5), layout="constrained")
for low, high, label, colour in bands:
    ax.axhspan(low, high, color=colour, zorder=0)
    ax.text(len(names) + 0.5, np.sqrt(low * high), label, ha="right", va="center", fontsize=9)
for k, (label, check) in enumerate(checks.items()):
    errors = np.maximum(list(check.relative_errors.values()), 1e-12)  # 0 cannot be drawn
    ax.bar(positions + (k - 1) * width, errors, width, label=label, zorder=2)
ax.axhline(before_training.tolerance, color="k", linestyle="--", linewidth=1, zorder=3)
ax.annotate("tolerance", (-0.45, before_training.tolerance), xytext=(0, 3),
            textcoords="offset points", fontsize=9)  # fmt: skip
ax.set_yscale("log")
ax.set_ylim(1e-12, 10)
ax.set_xlim(-0.5, len(names) + 0.55)  # room on the right for the bands' names
ax.set_xticks(positions, names)
ax.set_ylabel("largest relative error")
ax.set_title("Backpropagation against centred differences")
ax.legend(loc="upper left")
plt.show()

# %%
# Two things the check takes care of. A relu unit whose input crosses zero between
# ``θ - eps`` and ``θ + eps`` sits on a kink, where the finite difference is no derivative:
# such entries are counted in ``check.kinks`` and left out of the verdict. And a network
# with dropout is checked with one dropout mask held fixed, so that the loss is one
# function of the weights. To follow one training step number by number instead, in the
# tutorial's notation, see :func:`sknn_scratch.trace_step`.
