"""
==========================================
Learning curves and early stopping
==========================================

A large network trained for long enough learns the noise of its training data. This shows
first on held-out data: the training loss keeps falling while the validation loss turns
and rises. With ``early_stopping=True`` the estimator holds out part of the training data,
scores it after every epoch, stops once the score stops improving and keeps the weights of
its best epoch. :class:`~sknn_scratch.plot.LossCurveDisplay` draws the curves it records.
"""

# %%
# A noisy problem and a large network
# -----------------------------------
# 1000 samples with 20 features, of which 6 are informative, and 10% of the labels flipped
# at random. A hidden layer of 128 ReLU units without any L2 penalty can memorise that
# noise.

import time
import warnings

import matplotlib.pyplot as plt
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import log_loss
from sklearn.model_selection import train_test_split

from sknn_scratch import ScratchMLPClassifier
from sknn_scratch.plot import LossCurveDisplay

X, y = make_classification(
    n_samples=1000, n_features=20, n_informative=6, flip_y=0.1, random_state=0
)
X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)

network = dict(
    hidden_size=128,
    activation="relu",
    learning_rate=0.01,
    alpha=0.0,
    epochs=300,
    validation_fraction=0.2,
    random_state=0,
)

# %%
# Watching the validation curves
# ------------------------------
# ``early_stopping=True`` records the validation loss and score at every epoch. The first
# network is made patient (``n_iter_no_change=300``, ``tol=0``) so that it runs all 300
# epochs and the curves show what happens after the best epoch; the second uses the default
# patience of 10 epochs and stops shortly after its best one.

patient = ScratchMLPClassifier(early_stopping=True, n_iter_no_change=300, tol=0.0, **network)
with warnings.catch_warnings():
    # running every epoch is the point here: silence "has not converged"
    warnings.simplefilter("ignore", ConvergenceWarning)
    patient.fit(X_train, y_train)
stopped = ScratchMLPClassifier(early_stopping=True, **network).fit(X_train, y_train)

# one panel above the other, each as wide as the page, and one legend under both
fig, (top, bottom) = plt.subplots(2, 1, figsize=(7.5, 8.5), layout="constrained")
full_run = LossCurveDisplay.from_estimator(patient, ax=top, name="All 300 epochs")
short_run = LossCurveDisplay.from_estimator(stopped, ax=bottom, name="Early stopping")
for run in (full_run, short_run):
    # the losses in the lower part of each panel, the score (right axis) above them, so that
    # the two scales' lines do not cross
    run.ax_.set_ylim(0, 2.2)
    run.score_ax_.set_ylim(0.62, 0.84)
    # the right axis in the colour of the line it measures
    run.score_ax_.set_ylabel("Validation accuracy", color=run.score_line_.get_color())
    run.score_ax_.tick_params(axis="y", colors=run.score_line_.get_color())
    run.ax_.get_legend().remove()
bottom.set_xlim(top.get_xlim())  # the same epochs in both panels
top.set_xlabel("")
full_run.score_line_.set_label("Validation accuracy (right axis)")
full_run.best_epoch_line_.set_label("Best epoch: its weights are kept")
fig.legend(
    handles=[
        full_run.loss_line_,
        full_run.validation_loss_line_,
        full_run.score_line_,
        full_run.best_epoch_line_,
    ],
    loc="outside lower center",
    ncol=2,
    frameon=False,
)
plt.show()

# %%
# The validation loss is lowest within the first few dozen epochs and then climbs, while
# the training loss heads to zero: the network grows more and more confident, on the
# training points and on its mistakes. The validation accuracy (right axis) stops improving
# at about the same time. In both runs the dotted line marks the epoch whose weights the
# estimator kept.
#
# What it buys
# ------------
# The same network without early stopping trains on all the training data for 300 epochs.
# Compare both on the test set, which neither has seen:

started = time.perf_counter()
with warnings.catch_warnings():
    warnings.simplefilter("ignore", ConvergenceWarning)
    full = ScratchMLPClassifier(early_stopping=False, tol=0.0, **network).fit(X_train, y_train)
full_time = time.perf_counter() - started
started = time.perf_counter()
stopped = ScratchMLPClassifier(early_stopping=True, **network).fit(X_train, y_train)
stopped_time = time.perf_counter() - started

print(f"{'':22s} {'epochs':>6s} {'fit time':>9s} {'accuracy':>9s} {'log-loss':>9s}")
for name, clf, seconds in [
    ("no early stopping", full, full_time),
    ("early stopping", stopped, stopped_time),
]:
    accuracy = clf.score(X_test, y_test)
    loss = log_loss(y_test, clf.predict_proba(X_test))
    print(f"{name:22s} {clf.n_iter_:6d} {seconds:8.2f}s {accuracy:9.3f} {loss:9.3f}")

# %%
# The accuracies are close, but the overtrained network's probabilities are far too
# confident, which its test log-loss shows; the early-stopped one also trained for a tenth
# of the epochs. An L2 penalty (``alpha``) is the other remedy; a grid search can pick it
# (:ref:`sphx_glr_auto_examples_plot_grid_search.py`).
