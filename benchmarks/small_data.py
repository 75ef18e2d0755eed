"""Small data, where per-batch and per-fit overhead decides: XOR, small sets, a grid search.

1. The tutorial's XOR run (4 samples, 10 000 full-batch epochs) three ways: the tutorial's own
   code (*Implementing a Neural Network from Scratch in Python*, steps 2 to 9, as
   ``tests/_tutorial.py`` copies it, printing into a buffer), our ``ScratchMLPClassifier``
   with the parameters that reproduce the tutorial's numbers (those of ``examples/xor.py``),
   and scikit-learn's ``MLPClassifier`` with the closest settings (full batch, plain SGD,
   sigmoid hidden units; its log-loss output is not the tutorial's, so only its time is
   comparable).
2. Digits (1797 x 64) and breast cancer (569 x 30), standardised: one hidden layer of 10 or
   100 relu units, adam, batches of 200, 100 epochs (``tol=0``, so every epoch runs), ours
   against scikit-learn's ``MLPClassifier`` with the same settings; a batch of 200 rows is
   small enough that the fixed cost of each NumPy call, not arithmetic, takes most of it.
   The *floor* is the time of the matrix products alone on arrays of the same shapes
   (``throughput.py``'s floor).
3. ``GridSearchCV`` (3-fold, 8 candidates) on scikit-learn's digits with our MLP and with
   scikit-learn's, same grid, same epochs.

Each is timed in interleaved rounds (the order rotates) and the tables give medians. BLAS
threads are limited with threadpoolctl (``--threads``, default 1; see ``throughput.py``).

Usage::

    python benchmarks/small_data.py                       # writes results/small_data.md
    python benchmarks/small_data.py --out small_data_mine    # results/small_data_mine.md
    python benchmarks/small_data.py --quick               # fewer rounds, prints only
"""

import argparse
import contextlib
import io
import itertools
import shlex
import statistics
import sys
import time
import warnings
from pathlib import Path

import numpy as np
from sklearn.datasets import load_breast_cancer, load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.neural_network import MLPClassifier
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from _environment import header, load_average, publish
from _tutorial import predict, train_network  # the tutorial's code, as it is printed

from sknn_scratch import ScratchMLPClassifier

# ---------------------------------------------------------------------- XOR

X_XOR = np.array([[0, 0], [0, 1], [1, 0], [1, 1]])
Y_XOR = np.array([[0], [1], [1], [0]])


def xor_tutorial():
    with contextlib.redirect_stdout(io.StringIO()):
        network = train_network(X_XOR, Y_XOR, 2, 2, 1, epochs=10000, learning_rate=0.1)
    return predict(network, X_XOR)[:, 0]


def xor_ours():
    model = ScratchMLPClassifier(
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
    return model.fit(X_XOR, Y_XOR.ravel()).predict_proba(X_XOR)[:, 1]


def xor_sklearn():
    model = MLPClassifier(
        hidden_layer_sizes=(2,),
        activation="logistic",
        solver="sgd",
        batch_size=4,
        momentum=0.0,
        learning_rate_init=0.2,
        max_iter=10000,
        alpha=0.0,
        tol=0.0,
        n_iter_no_change=10001,
        shuffle=False,
        random_state=42,
    )
    return model.fit(X_XOR, Y_XOR.ravel()).predict_proba(X_XOR)[:, 1]


def interleaved(runs, rounds):
    """Median seconds of each callable over ``rounds`` rounds, rotating the order."""
    names = list(runs)
    times = {name: [] for name in names}
    outputs = {}
    for r in range(rounds):
        for name in names[r % len(names) :] + names[: r % len(names)]:
            started = time.perf_counter()
            outputs[name] = runs[name]()
            times[name].append(time.perf_counter() - started)
    return {k: statistics.median(v) for k, v in times.items()}, outputs


def xor_table(rounds):
    runs = {"tutorial": xor_tutorial, "ours": xor_ours, "sklearn": xor_sklearn}
    times, outputs = interleaved(runs, rounds)
    gap = np.max(np.abs(outputs["ours"] - outputs["tutorial"]))
    lines = [
        "| implementation | 10 000 epochs | per epoch | time / tutorial's |"
        " max abs difference of the predictions from the tutorial's |",
        "|---|---|---|---|---|",
    ]
    for name in runs:
        diff = "-" if name == "sklearn" else f"{gap:.1e}" if name == "ours" else "0"
        lines.append(
            f"| {name} | {times[name]:.3f} s | {times[name] / 1e4 * 1e6:.1f} µs "
            f"| **{times[name] / times['tutorial']:.2f}** | {diff} |"
        )
    return "\n".join(lines)


# ---------------------------------------------------------------------- small data sets


SMALL_SETS = {"digits": load_digits, "breast cancer": load_breast_cancer}
SMALL_WIDTHS = (10, 100)
SMALL_EPOCHS = 100


def small_fit(estimator, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return estimator.fit(X, y)


def product_floor(layer_sizes, n_samples, batch_size, epochs, seed=0):
    """The matrix products alone of ``epochs`` epochs of mini-batches (per batch: one forward
    product per layer, one weight-gradient product per layer, one delta product per layer
    but the first), on arrays of the network's shapes: what no implementation calling the
    same BLAS can go below (``throughput.py``'s floor, for these shapes)."""
    rng = np.random.default_rng(seed)
    acts = [rng.standard_normal((batch_size, n)) for n in layer_sizes]
    deltas = [np.empty_like(a) for a in acts]
    deltas[-1][...] = acts[-1]
    weights = [rng.standard_normal((i, o)) for i, o in itertools.pairwise(layer_sizes)]
    grads = [np.empty_like(w) for w in weights]
    batch_rows = [min(batch_size, n_samples - s) for s in range(0, n_samples, batch_size)]
    for _epoch in range(epochs):
        for rows in batch_rows:
            for i, w in enumerate(weights):
                np.matmul(acts[i][:rows], w, out=acts[i + 1][:rows])
            for i in range(len(weights) - 1, -1, -1):
                np.matmul(acts[i][:rows].T, deltas[i + 1][:rows], out=grads[i])
                if i > 0:
                    np.matmul(deltas[i + 1][:rows], weights[i].T, out=deltas[i][:rows])


def small_data_table(rounds):
    """One hidden layer of 10 or 100 relu units, adam, batches of 200, 100 epochs (every
    epoch runs: tol=0), on standardised digits and breast cancer, ours against sklearn's,
    and the floor: the time of the matrix products alone."""
    lines = [
        "| data set | samples x features | hidden | batches per epoch | floor | ours | sklearn "
        "| speed-up vs sklearn | ours train acc. | sklearn train acc. |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, load in SMALL_SETS.items():
        X, y = load(return_X_y=True)
        X = StandardScaler().fit_transform(X)
        for width in SMALL_WIDTHS:
            common = {"batch_size": 200, "tol": 0.0, "random_state": 0}
            ours = ScratchMLPClassifier(
                hidden_size=(width,), activation="relu", solver="adam", learning_rate=1e-3,
                epochs=SMALL_EPOCHS, **common,
            )  # fmt: skip
            theirs = MLPClassifier(
                hidden_layer_sizes=(width,), activation="relu", solver="adam",
                learning_rate_init=1e-3, max_iter=SMALL_EPOCHS,
                n_iter_no_change=SMALL_EPOCHS + 1, **common,
            )  # fmt: skip
            n_outputs = 1 if len(np.unique(y)) == 2 else len(np.unique(y))
            sizes = (X.shape[1], width, n_outputs)
            runs = {
                "ours": lambda est=ours, X=X, y=y: small_fit(est, X, y),
                "sklearn": lambda est=theirs, X=X, y=y: small_fit(est, X, y),
                "floor": lambda s=sizes, n=X.shape[0]: product_floor(s, n, 200, SMALL_EPOCHS),
            }
            times, fitted = interleaved(runs, rounds)
            n_batches = -(-X.shape[0] // 200)
            lines.append(
                f"| {name} | {X.shape[0]} x {X.shape[1]} | ({width},) | {n_batches} "
                f"| {times['floor'] * 1e3:.1f} ms "
                f"| {times['ours'] * 1e3:.1f} ms | {times['sklearn'] * 1e3:.1f} ms "
                f"| **{times['sklearn'] / times['ours']:.2f}x** "
                f"| {fitted['ours'].score(X, y):.3f} | {fitted['sklearn'].score(X, y):.3f} |"
            )
    return "\n".join(lines)


# ---------------------------------------------------------------------- grid search on digits


def digits_search(estimator, grid, X, y):
    search = GridSearchCV(estimator, grid, cv=3, n_jobs=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return search.fit(X, y)


def grid_table(rounds, epochs):
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X / 16.0, y, test_size=0.25, stratify=y, random_state=0
    )
    common = {"activation": "relu", "solver": "adam", "random_state": 0}
    ours = ScratchMLPClassifier(epochs=epochs, **common)
    theirs = MLPClassifier(max_iter=epochs, **common)
    grid = {"alpha": [1e-4, 1e-2], "learning_rate": [1e-3, 1e-2]}
    ours_grid = {"hidden_size": [(32,), (64,)], **grid}
    theirs_grid = {"hidden_layer_sizes": [(32,), (64,)], "alpha": grid["alpha"]}
    theirs_grid["learning_rate_init"] = grid["learning_rate"]
    runs = {
        "ours": lambda: digits_search(ours, ours_grid, X_train, y_train),
        "sklearn": lambda: digits_search(theirs, theirs_grid, X_train, y_train),
    }
    times, searches = interleaved(runs, rounds)
    lines = [
        "| implementation | GridSearchCV time | time / sklearn's | best CV accuracy "
        "| test accuracy of the best |",
        "|---|---|---|---|---|",
    ]
    for name in runs:
        s = searches[name]
        lines.append(
            f"| {name} | {times[name]:.2f} s | **{times[name] / times['sklearn']:.2f}** "
            f"| {s.best_score_:.4f} | {s.score(X_test, y_test):.4f} |"
        )
    return "\n".join(lines)


def plural(rounds):
    return f"{rounds} round{'s' if rounds != 1 else ''}"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds, print only")
    parser.add_argument("--rounds", type=int, default=None)
    parser.add_argument("--threads", type=int, default=1, help="BLAS threads")
    parser.add_argument("--out", default=None, help="results/<out>.md (default small_data)")
    args = parser.parse_args(argv)
    rounds = args.rounds or (1 if args.quick else 5)
    out = args.out or (None if args.quick else "small_data")
    epochs = 30

    warnings.filterwarnings("ignore", category=ConvergenceWarning)
    started = time.perf_counter()
    load_at_start = load_average()
    with threadpool_limits(limits=args.threads):
        xor = xor_table(rounds)
        print(xor, flush=True)
        small = small_data_table(rounds)
        print(small, flush=True)
        search = grid_table(max(1, rounds // 2), epochs)
        print(search, flush=True)
    elapsed = time.perf_counter() - started

    # what was run, never where: the command as typed from the repository root
    command = shlex.join(["python", "benchmarks/small_data.py", *(argv or sys.argv[1:])])
    text = "\n\n".join(
        [
            "# Small data: the tutorial's XOR, small data sets and a grid search",
            f"Measured with `{command}` on {time.strftime('%Y-%m-%d', time.gmtime())}, in "
            f"{elapsed / 60:.1f} min. Times are medians over interleaved rounds.",
            "\n".join(header(args.threads, load_at_start)),
            f"## The tutorial's XOR: 4 samples, 10 000 full-batch epochs ({plural(rounds)})",
            xor,
            f"## Digits and breast cancer: one hidden layer, adam, batches of 200, "
            f"{SMALL_EPOCHS} epochs ({plural(rounds)})",
            small,
            f"## GridSearchCV on digits: 3 folds x 8 candidates, {epochs} epochs of adam, relu "
            f"({plural(max(1, rounds // 2))})",
            search,
        ]
    )
    publish(text, out)


if __name__ == "__main__":
    main()
