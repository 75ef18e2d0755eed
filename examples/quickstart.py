"""
Quick start: a grid-searched ScratchMLPClassifier next to scikit-learn's models
===============================================================================

Fits :class:`~sknn_scratch.ScratchMLPClassifier` in a ``Pipeline`` with a
``StandardScaler``, tuned by ``GridSearchCV`` over ``hidden_size`` and ``learning_rate``, on
scikit-learn's bundled digits data (8x8 images of handwritten digits, 10 classes), and
compares it with scikit-learn's ``MLPClassifier`` and ``LogisticRegression`` on the same
held-out test set. Prints a table of test accuracy and fit time.

Run it with ``python examples/quickstart.py`` (well under a minute on 2 cores).
"""

import time
import warnings

from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sknn_scratch import ScratchMLPClassifier

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.25, stratify=y, random_state=0
)

ours = GridSearchCV(
    make_pipeline(StandardScaler(), ScratchMLPClassifier(random_state=0)),
    param_grid={
        "scratchmlpclassifier__hidden_size": [32, 64, (64, 32)],
        "scratchmlpclassifier__learning_rate": [0.001, 0.01],
    },
    cv=3,
)
models = {
    "ScratchMLPClassifier (grid search)": ours,
    "sklearn MLPClassifier": make_pipeline(StandardScaler(), MLPClassifier(random_state=0)),
    "sklearn LogisticRegression": make_pipeline(
        StandardScaler(), LogisticRegression(max_iter=1000)
    ),
}

rows = []
for name, model in models.items():
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X_train, y_train)
    seconds = time.perf_counter() - start
    rows.append((name, model.score(X_test, y_test), seconds))

print(f"digits: {len(X_train)} training and {len(X_test)} test images\n")
print(f"| {'model':<36} | test accuracy | fit time (s) |")
print(f"|{'-' * 38}|---------------|--------------|")
for name, accuracy, seconds in rows:
    print(f"| {name:<36} | {accuracy:>13.4f} | {seconds:>12.2f} |")
print(
    f"\nbest grid point: {ours.best_params_} (CV accuracy {ours.best_score_:.4f}, "
    f"{len(ours.cv_results_['params'])} candidates x 3 folds)"
)
