"""
==========================================
Successive halving over epochs
==========================================

A grid search trains every candidate for the full number of epochs, although a few epochs
are often enough to see that a candidate will not win. Successive halving
(:class:`~sklearn.model_selection.HalvingGridSearchCV`) gives every candidate a small budget
first, keeps the better half, doubles their budget, and so on until one is left. With
``resource="epochs"`` the budget is the number of epochs each candidate is trained for. This
example runs it next to the full :class:`~sklearn.model_selection.GridSearchCV` on the same
grid and data.
"""

# %%
# The data, the model and the grid
# --------------------------------
# Handwritten digits (8x8 images, 10 classes), a scaler and a network in a
# :class:`~sklearn.pipeline.Pipeline`, as in
# :ref:`sphx_glr_auto_examples_plot_grid_search.py`. The grid has eight candidates: four
# widths of the hidden layer and two learning rates.

import time
import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.experimental import enable_halving_search_cv  # noqa: F401
from sklearn.model_selection import GridSearchCV, HalvingGridSearchCV, train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from sknn_scratch import ScratchMLPClassifier

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, stratify=y, random_state=0)

EPOCHS = 80
model = Pipeline(
    [
        ("scale", StandardScaler()),
        ("mlp", ScratchMLPClassifier(epochs=EPOCHS, random_state=0)),
    ]
)
grid = {"mlp__hidden_size": [4, 16, 64, 128], "mlp__learning_rate": [1e-3, 1e-2]}

# %%
# The two searches
# ----------------
# The full search trains each of the 8 candidates for 80 epochs on each of 3 folds. The
# halving search starts them all with 10 epochs (``min_resources``) and, with ``factor=2``,
# keeps the better half at every iteration while doubling the epochs: 8 candidates with 10
# epochs, 4 with 20, 2 with 40, and 1 with 80 (``max_resources``). In a Pipeline the resource
# is named like any other parameter of a step, ``mlp__epochs``; on the bare estimator it is
# ``resource="epochs"``. Both searches then refit their best candidate on the whole training
# set, with 80 epochs.

full = GridSearchCV(model, grid, cv=3)
halving = HalvingGridSearchCV(
    model,
    grid,
    resource="mlp__epochs",
    min_resources=10,
    max_resources=EPOCHS,
    factor=2,
    cv=3,
)

wall_times = {}
with warnings.catch_warnings():
    # few epochs are a deliberate budget: most candidates stop before converging
    warnings.simplefilter("ignore", ConvergenceWarning)
    for name, search in [("GridSearchCV", full), ("HalvingGridSearchCV", halving)]:
        start = time.perf_counter()
        search.fit(X_train, y_train)
        wall_times[name] = time.perf_counter() - start

for name, search in [("GridSearchCV", full), ("HalvingGridSearchCV", halving)]:
    print(f"{name}:")
    print("  best parameters:", search.best_params_)
    print(f"  cross-validated accuracy: {search.best_score_:.3f}")
    print(f"  test accuracy of the refitted best model: {search.score(X_test, y_test):.3f}")
    print(f"  wall time (search and refit): {wall_times[name]:.1f} s")
print("halving: candidates per iteration", list(halving.n_candidates_))
print("halving: epochs per iteration    ", list(halving.n_resources_))
kept = {key: value for key, value in halving.best_params_.items() if key != "mlp__epochs"}
print(
    f"the full search's accuracy of the candidate halving kept: "
    f"{full.cv_results_['mean_test_score'][full.cv_results_['params'].index(kept)]:.3f}"
)

# %%
# Per fold, the halving search trains 8 x 10 + 4 x 20 + 2 x 40 + 1 x 80 = 320 epochs, half
# the full search's 8 x 80 = 640. The wall time falls by less than half: the halving search
# makes more fits (15 against 8 per fold), each with a fixed cost besides its epochs, and
# both searches end with the same refit. The halving search refits its best candidate with
# the epochs of its last iteration, so its ``best_params_`` include ``mlp__epochs``.
#
# The two searches need not keep the same candidate: halving ranks the candidates by their
# scores after fewer epochs, and two that are level there can finish in the other order
# with all 80. The last line above gives the full search's score of the candidate that
# halving kept, to compare with the full search's best.
#
# The candidates, iteration by iteration
# --------------------------------------
# ``cv_results_`` of the halving search has a row per candidate and iteration, with the
# epochs it was trained for in ``param_mlp__epochs``. On the left, each line follows one
# candidate through the iterations it survived; the crosses at 80 epochs are the scores of
# the full search. On the right, the wall times of the two searches and the test accuracy
# of the models they refitted.


def candidate_name(params):
    return f"{params['mlp__hidden_size']} units, lr={params['mlp__learning_rate']:g}"


results = halving.cv_results_
fig, (left, right) = plt.subplots(
    1, 2, figsize=(11, 4.5), layout="constrained", gridspec_kw={"width_ratios": [2, 1]}
)
colors = dict(zip(map(candidate_name, full.cv_results_["params"]), plt.cm.tab10.colors))
for name, color in colors.items():
    rows = [i for i, p in enumerate(results["params"]) if candidate_name(p) == name]
    left.plot(
        results["param_mlp__epochs"][rows].astype(int),
        results["mean_test_score"][rows],
        "o-",
        color=color,
        label=name,
    )
full_scores = full.cv_results_["mean_test_score"]
left.scatter(
    np.full(len(full_scores), EPOCHS),
    full_scores,
    marker="x",
    s=80,
    c=list(colors.values()),
    zorder=3,
    label=f"full search ({EPOCHS} epochs)",
)
left.set_xscale("log", base=2)
left.set_xticks(halving.n_resources_, [str(r) for r in halving.n_resources_])
left.set_xlabel("epochs")
left.set_ylabel("mean cross-validated accuracy")
left.set_title("Successive halving: the candidates of each iteration")
left.legend(fontsize="small", loc="lower center")

names = list(wall_times)
bars = right.bar(names, [wall_times[name] for name in names], color=["0.35", "0.55"])
for bar, search in zip(bars, [full, halving]):
    right.annotate(
        f"test accuracy\n{search.score(X_test, y_test):.3f}",
        (bar.get_x() + bar.get_width() / 2, bar.get_height()),
        ha="center",
        va="top",
        xytext=(0, -6),
        textcoords="offset points",
        color="white",
    )
right.set_ylabel("wall time (s)")
right.set_title("Wall time of the two searches")
plt.show()

# %%
# Successive halving saves the epochs that the full search spends on candidates that are
# clearly behind after a few epochs: here the narrow layers and the small learning rate.
# It can be misled when the ranking after a few epochs differs from the ranking at the end,
# for example when a small learning rate starts slowly but catches up; a larger
# ``min_resources`` makes the first comparison fairer at a higher cost. With
# ``min_resources="exhaust"`` scikit-learn chooses the first budget so that the last
# iteration uses as much of ``max_resources`` as it can. The same search runs on a Dask
# cluster under joblib's ``dask`` backend (:ref:`scaling`).
