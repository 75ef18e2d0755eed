"""
==========================================
Progress bars and per-epoch scores
==========================================

Both estimators take scikit-learn's callbacks (``sklearn.callback``), set with
``set_callbacks``. For the callbacks a fit is one task with one sub-task per epoch, so a
:class:`~sklearn.callback.ProgressBar` advances epoch by epoch, also when the network is
fitted inside a grid search, and a :class:`~sklearn.callback.ScoringMonitor` scores the
network as it is after every epoch. This example shows both; :ref:`monitoring` has the
details, and how a callback of your own stops training.
"""

# %%
# A progress bar over a grid search
# ---------------------------------
# Handwritten digits (8x8 images with pixel values 0-16, scaled to 0-1) and a small grid:
# two hidden sizes times two learning rates, with 3-fold cross-validation, 20 epochs per
# fit. Set on the ``GridSearchCV``, the progress bar reaches the networks it fits: the
# search has one bar per cross-validation fit and one for the final refit, and each
# of those bars runs over the network's epochs.
#
# The bars need `rich <https://rich.readthedocs.io>`_, which the ``progress`` extra installs
# (``pip install ".[progress]"`` from the source directory). In a terminal they are redrawn
# as training goes on; here the output is captured, and shows the bars once, at the end.
# rich draws them as wide as the terminal, and 80 columns without one: ``COLUMNS`` asks for
# a width that fits the nested names.

import os
import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.callback import ProgressBar, ScoringMonitor
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, train_test_split

from sknn_scratch import ScratchMLPClassifier

X, y = load_digits(return_X_y=True)
X = X / 16
X_train, X_test, y_train, y_test = train_test_split(X, y, stratify=y, random_state=0)

search = GridSearchCV(
    ScratchMLPClassifier(epochs=20, random_state=0),
    {"hidden_size": [16, 32], "learning_rate": [0.003, 0.03]},
    cv=3,
)
try:
    progress = ProgressBar()
except ImportError:  # scikit-learn raises it when rich is missing
    print('rich is not installed: pip install ".[progress]" shows the bars.')
else:
    os.environ.setdefault("COLUMNS", "100")
    search.set_callbacks(progress)
with warnings.catch_warnings():
    # 20 epochs are a deliberate budget: most candidates stop before converging
    warnings.simplefilter("ignore", ConvergenceWarning)
    search.fit(X_train, y_train)
print("best parameters:", search.best_params_)

# %%
# Training accuracy next to the validation score
# ----------------------------------------------
# With ``early_stopping=True`` the estimator holds out a tenth of the training data and
# records its accuracy after every epoch in ``validation_scores_``. A ``ScoringMonitor``
# adds the curve to compare it with: the accuracy on the data given to ``fit`` (the
# held-out tenth included), scored after every epoch. A second monitor scores the test set,
# with a scoring function that ignores the data it is handed. Neither changes the training:
# the fit is the same, bit for bit, as one without callbacks.
#
# The patience is raised to 30 epochs so that the curves go on for a while after the best
# epoch.

on_fit_data = ScoringMonitor(scoring="accuracy")
on_test_data = ScoringMonitor(scoring={"test": lambda model, X, y: model.score(X_test, y_test)})
clf = ScratchMLPClassifier(
    hidden_size=64,
    learning_rate=0.01,
    early_stopping=True,
    n_iter_no_change=30,
    random_state=0,
)
clf.set_callbacks(on_fit_data, on_test_data)
clf.fit(X_train, y_train)

# %%
# ``get_logs().data_as_pandas`` has one row for the whole fit, whose ``task_id_path`` is
# ``(0,)``, and one per epoch, ``(0, k)`` for the ``k``-th epoch counted from 0. The fit's
# row scores the model the estimator kept: the weights of the epoch with the best
# validation score.

logs = on_fit_data.get_logs().data_as_pandas
per_epoch = logs[logs["task_id_path"] != (0,)]
whole_fit = logs[logs["task_id_path"] == (0,)]
test_logs = on_test_data.get_logs().data_as_pandas
test_per_epoch = test_logs[test_logs["task_id_path"] != (0,)]
print(per_epoch[["task_id_path", "task_name", "accuracy"]].head(3).to_string(index=False))
print(f"epochs run: {clf.n_iter_}, rows per epoch: {len(per_epoch)}")
print(f"fit's row: {whole_fit['accuracy'].item():.4f}")
print(f"clf.score(X_train, y_train): {clf.score(X_train, y_train):.4f}")

epochs = np.arange(1, clf.n_iter_ + 1)
best_epoch = int(np.argmax(clf.validation_scores_)) + 1

fig, ax = plt.subplots(figsize=(7.5, 4.5), layout="constrained")
ax.plot(epochs, per_epoch["accuracy"], label="data given to fit (ScoringMonitor)")
ax.plot(epochs, clf.validation_scores_, label="held-out tenth (validation_scores_)")
ax.plot(epochs, test_per_epoch["test"], label="test set (ScoringMonitor)")
ax.axvline(best_epoch, color="gray", linestyle=":", label=f"weights kept (epoch {best_epoch})")
ax.set_xlabel("epoch")
ax.set_ylabel("accuracy")
ax.set_ylim(0.8, 1.005)
ax.set_title("Accuracy after every epoch")
ax.legend(loc="lower right")
plt.show()

# %%
# The network fits its training data best: the curve of the data given to ``fit`` (nine
# tenths of which it trains on) stays above the others and approaches 1. The held-out tenth
# is small (135 images, one of them is 0.7% of the accuracy), so its curve is the noisiest;
# the test curve, over 450 images, shows the same levelling off more smoothly. Early
# stopping stops about 30 epochs after the best held-out score and keeps that epoch's
# weights. ``loss_curve_`` and ``validation_loss_curve_`` hold the matching losses, which
# :class:`~sknn_scratch.plot.LossCurveDisplay` draws
# (:ref:`sphx_glr_auto_examples_plot_early_stopping.py`).
