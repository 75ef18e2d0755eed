"""
================================================
Grid search over hidden_size and learning_rate
================================================

The width of the hidden layer and the learning rate are the two parameters that matter most
for a small network, and they interact: how far a network gets in a given number of epochs
depends on both. :class:`~sklearn.model_selection.GridSearchCV` tries every pair with
cross-validation; this example draws the result as a heatmap.
"""

# %%
# The search
# ----------
# Handwritten digits (8x8 images, 10 classes), a scaler and a network in a
# :class:`~sklearn.pipeline.Pipeline`. The network gets a budget of 30 epochs, so the
# search finds the settings that learn fastest as well as best. Parameters of a pipeline step
# are named ``<step>__<parameter>``, and sknn_scratch calls them ``hidden_size`` and
# ``learning_rate`` (scikit-learn's ``hidden_layer_sizes`` and ``learning_rate_init``).

import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from sknn_scratch import ScratchMLPClassifier

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, stratify=y, random_state=0)

model = Pipeline(
    [
        ("scale", StandardScaler()),
        ("mlp", ScratchMLPClassifier(epochs=30, random_state=0)),
    ]
)
hidden_sizes = [2, 8, 32, 128]
learning_rates = [1e-4, 1e-3, 1e-2, 1e-1]
search = GridSearchCV(
    model,
    {"mlp__hidden_size": hidden_sizes, "mlp__learning_rate": learning_rates},
    cv=3,
)
with warnings.catch_warnings():
    # 30 epochs are a deliberate budget: most candidates stop before converging
    warnings.simplefilter("ignore", ConvergenceWarning)
    search.fit(X_train, y_train)

print("best parameters:", search.best_params_)
print(f"cross-validated accuracy: {search.best_score_:.3f}")
print(f"test accuracy of the refitted best model: {search.score(X_test, y_test):.3f}")

# %%
# The heatmap
# -----------
# ``cv_results_`` lists the candidates in the order of the grid: ``hidden_size`` in the
# outer loop, ``learning_rate`` in the inner one (the keys in alphabetical order), so the
# mean scores reshape into a table with one row per hidden size.

scores = search.cv_results_["mean_test_score"].reshape(len(hidden_sizes), len(learning_rates))
fit_times = search.cv_results_["mean_fit_time"].reshape(scores.shape)

fig, axes = plt.subplots(1, 2, figsize=(11, 4.5), layout="constrained")
for ax, values, title, fmt, cmap in [
    (axes[0], scores, "Mean cross-validated accuracy", "{:.2f}", "viridis"),
    (axes[1], fit_times, "Mean fit time (s)", "{:.2f}", "magma"),
]:
    image = ax.imshow(values, cmap=cmap, origin="lower", aspect="auto")
    for (i, j), value in np.ndenumerate(values):
        light = value < values.min() + 0.5 * np.ptp(values)
        ax.text(
            j, i, fmt.format(value), ha="center", va="center", color="white" if light else "black"
        )
    ax.set_xticks(range(len(learning_rates)), [f"{lr:g}" for lr in learning_rates])
    ax.set_yticks(range(len(hidden_sizes)), hidden_sizes)
    ax.set_xlabel("learning_rate")
    ax.set_ylabel("hidden_size")
    ax.set_title(title)
    fig.colorbar(image, ax=ax)
plt.show()

# %%
# With the smallest learning rate, 30 epochs are too few to get far, and only the widest
# network learns much. With a larger one, wider layers score better, up to a plateau. Two
# hidden units are too few for ten classes at any learning rate. Every candidate runs all 30
# epochs, so the fit time grows with the width (each epoch costs more) and hardly depends on
# the learning rate. The best cell is a good starting point for this data set; give it more
# epochs (with ``early_stopping=True``) for the final model.
