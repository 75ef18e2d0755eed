"""
The tutorial's XOR run, reproduced, and three ways out of its trap
==================================================================

The tutorial trains a 2-2-1 sigmoid network with the mean squared error and full-batch
gradient descent on XOR for 10 000 epochs. Its run gets stuck: the loss levels off near
0.128 and two of the four cases are predicted near 0.5. Both hidden units learn a large
weight on the second input, so whenever it is 1 both saturate near 1: the inputs (0, 1) and
(1, 1) look alike to the output unit, whose best answer for targets 1 and 0 is 0.5 for both.
The saturated sigmoids' derivatives, a(1 - a) ~ 0.003, leave too small a gradient to escape:
after 10 000 epochs the loss still falls, by only 5e-7 per epoch. This script reproduces
that run exactly with the parameters README gives for it, then shows settings that solve XOR.

Run it with ``python examples/xor.py``.
"""

import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from sknn_scratch import ScratchMLPClassifier

X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]])
y = np.array([0, 1, 1, 0])

# The tutorial's network: its learning rate 0.1 on summed, halved gradients is 0.2 on the
# gradient of the mean loss (0.1 * 4 samples / 2).
tutorial = dict(
    hidden_size=2,
    activation="sigmoid",
    loss="squared_error",
    solver="sgd",
    batch_size=None,
    momentum=0.0,
    learning_rate=0.2,
    epochs=10000,
    alpha=0.0,
    init="normal",
    tol=0.0,
    random_state=42,
)

runs = {
    "the tutorial (stuck)": tutorial,
    "the tutorial, 8 hidden units": {**tutorial, "hidden_size": 8},
    "4 tanh units, log-loss, L-BFGS": dict(
        hidden_size=4, activation="tanh", solver="lbfgs", random_state=42
    ),
    "8 relu units, Adam (lr 0.01)": dict(
        hidden_size=8, activation="relu", learning_rate=0.01, epochs=500, random_state=42
    ),
}

print(f"{'run':<36} {'epochs':>6} {'loss':>8}  predict_proba(X)[:, 1]   accuracy")
for name, params in runs.items():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = ScratchMLPClassifier(**params).fit(X, y)
    proba = model.predict_proba(X)[:, 1]
    print(
        f"{name:<36} {model.n_iter_:>6} {model.loss_:>8.4f}  {np.round(proba, 3)!s:<24} "
        f"{model.score(X, y):.2f}"
    )
