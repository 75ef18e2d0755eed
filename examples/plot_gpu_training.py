"""
==============================
Training on a GPU with PyTorch
==============================

The estimators train on the arrays they are given. With scikit-learn's Array API dispatch
switched on, a network fitted on PyTorch tensors trains in PyTorch, on the tensors' device:
a GPU when there is one. Nothing else changes: the same estimator, the same parameters, and
the same model as a NumPy fit, to rounding. This example runs on the GPU when PyTorch finds
one and on the CPU otherwise, so it also runs where this site is built. See :ref:`gpu` for
the details.
"""

# %%
# The two switches
# ----------------
# scikit-learn's Array API support builds on SciPy's, which reads the environment variable
# ``SCIPY_ARRAY_API`` once, when SciPy is first imported. It is therefore set before any
# other import (scikit-learn imports SciPy). The second switch, ``array_api_dispatch``, is
# scikit-learn's and is turned on below, only around the code that uses it.

import os

os.environ["SCIPY_ARRAY_API"] = "1"  # before SciPy (and so scikit-learn) is first imported

import matplotlib.pyplot as plt
import numpy as np
import sklearn
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from sknn_scratch import ScratchMLPClassifier

try:
    import torch
except ImportError as error:
    raise ImportError(
        "This example trains on PyTorch tensors: install PyTorch first (pip install torch)."
    ) from error

device = "cuda" if torch.cuda.is_available() else "cpu"
print(f"training on: {device}")

# %%
# Data
# ----
# The 8x8 images of handwritten digits: 1797 samples, 64 features, 10 classes. The pixels
# are standardised with NumPy; the tensors are made from the result.

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, stratify=y, random_state=0)
scaler = StandardScaler().fit(X_train)
X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)

network = dict(
    hidden_size=(256, 256),
    activation="relu",
    batch_size=256,
    epochs=100,
    random_state=0,
)

# %%
# Fitting on tensors
# ------------------
# Inside ``sklearn.config_context(array_api_dispatch=True)``, the array library follows
# ``X``: the estimator trains in PyTorch, on ``X``'s device, and in ``X``'s dtype (here
# float32, as a GPU prefers). ``y`` may be a tensor or a NumPy array; it is moved to where
# ``X`` is. The weights, the biases and every prediction come back as tensors on that
# device; ``classes_`` stays a NumPy array and ``score`` a Python float.

X_train_t = torch.asarray(X_train, dtype=torch.float32, device=device)
X_test_t = torch.asarray(X_test, dtype=torch.float32, device=device)
y_train_t = torch.asarray(y_train, device=device)
y_test_t = torch.asarray(y_test, device=device)

with sklearn.config_context(array_api_dispatch=True):
    clf_torch = ScratchMLPClassifier(**network).fit(X_train_t, y_train_t)
    proba = clf_torch.predict_proba(X_test_t)
    accuracy_torch = clf_torch.score(X_test_t, y_test_t)

first_weights = clf_torch.coefs_[0]
print(
    f"coefs_[0]:       {type(first_weights).__name__}, {first_weights.dtype}, "
    f"on {first_weights.device}, shape {tuple(first_weights.shape)}"
)
print(f"predict_proba:   {type(proba).__name__}, {proba.dtype}, on {proba.device}")
print(f"classes_:        {type(clf_torch.classes_).__name__}")
print(f"test accuracy:   {accuracy_torch:.3f} ({type(accuracy_torch).__name__})")

# %%
# The same model as NumPy's
# -------------------------
# NumPy's random generator, seeded by ``random_state``, draws the initial weights, the
# shuffles of the mini-batches (and the dropout masks) on the host for every array library.
# Trained in float64 on both sides, the NumPy fit and the PyTorch fit are the same model:
# they differ by the rounding of the matrix products, which each library orders in its own
# way.

clf_numpy = ScratchMLPClassifier(**network).fit(X_train, y_train)
with sklearn.config_context(array_api_dispatch=True):
    clf_torch64 = ScratchMLPClassifier(**network).fit(
        torch.asarray(X_train, device=device), torch.asarray(y_train, device=device)
    )
    X_test_t64 = torch.asarray(X_test, device=device)
    proba_torch64 = clf_torch64.predict_proba(X_test_t64)
    accuracy_torch64 = clf_torch64.score(X_test_t64, y_test_t)

weights_gap = max(
    np.abs(ours.cpu().numpy() - reference).max()
    for ours, reference in zip(clf_torch64.coefs_, clf_numpy.coefs_)
)
proba_gap = np.abs(proba_torch64.cpu().numpy() - clf_numpy.predict_proba(X_test)).max()
print(
    f"float64, largest difference from the NumPy fit: weights {weights_gap:.1e}, "
    f"probabilities {proba_gap:.1e}"
)
print(
    f"test accuracy: NumPy float64 {clf_numpy.score(X_test, y_test):.3f}, "
    f"PyTorch float64 {accuracy_torch64:.3f}, PyTorch float32 {accuracy_torch:.3f}"
)

# %%
# Their learning curves coincide, epoch for epoch. The float32 run's rounding errors are some
# nine orders of magnitude larger than float64's, yet at the scale of the figure its curve
# lies on theirs as well.

fig, ax = plt.subplots(figsize=(7, 4.5), layout="constrained")
curves = [
    (clf_numpy, "NumPy, float64", dict(lw=4, alpha=0.4)),
    (clf_torch64, f"PyTorch, float64 ({device})", dict(ls="--", color="black")),
    (clf_torch, f"PyTorch, float32 ({device})", dict(ls=":", color="tab:red")),
]
for clf, label, style in curves:
    epochs = np.arange(1, len(clf.loss_curve_) + 1)
    ax.plot(epochs, clf.loss_curve_, label=label, **style)
ax.set_yscale("log")
ax.set_xlabel("epoch")
ax.set_ylabel("training loss")
ax.set_title("The same network trained in NumPy and in PyTorch")
ax.legend()
plt.show()

# %%
# Predicting
# ----------
# A fitted network predicts on arrays of the library and device it was fitted on (with the
# dispatch switched on): NumPy input to the network above raises scikit-learn's "must use the
# same namespace" ``ValueError``. To use it with NumPy, convert the test data, or move the
# network (see :ref:`gpu`).

with sklearn.config_context(array_api_dispatch=True):
    try:
        clf_torch.predict(X_test)
    except ValueError as error:
        print(str(error).split(". ")[0] + ".")
