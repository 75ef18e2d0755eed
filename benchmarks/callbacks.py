"""What scikit-learn's callbacks cost a fit, and what their support costs a fit without any.

The same fit (``ScratchMLPClassifier``, Adam, batches of 200, float64) is timed with:

* no callback: the bridge to scikit-learn's callbacks is never built;
* a callback that does nothing: the cost of the task tree itself (a sub-task per epoch);
* ``ProgressBar()`` (when rich is installed), its output thrown away;
* ``ScoringMonitor(scoring="accuracy")`` on the training data: a prediction over the
  training data after every epoch, the price of a per-epoch score;
* with ``--baseline DIR``: the same fit with the package found in ``DIR`` (another checkout
  of the package), timed in the same rounds.

Each round fits every variant once, in an order that rotates between rounds; the table gives
the median time per epoch over the rounds and its ratio to the fit without callbacks, so that
the figures compare side by side in one run. Every variant must give the same weights to
the last bit (``ScoringMonitor`` and the rest only watch), which the script checks.

Usage::

    python benchmarks/callbacks.py                      # results/callbacks.md, ~2 min
    python benchmarks/callbacks.py --baseline DIR       # adds the package in DIR
    python benchmarks/callbacks.py --quick              # fewer rounds, printed only
"""

import argparse
import contextlib
import importlib.util
import io
import shlex
import statistics
import sys
import time
import warnings
from pathlib import Path

import numpy as np
from sklearn.callback import ScoringMonitor
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning
from threadpoolctl import threadpool_limits

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from _environment import header, load_average, publish

from sknn_scratch import ScratchMLPClassifier

PARAMS = dict(hidden_size=(64, 64), activation="relu", batch_size=200, tol=0, random_state=0)


class DoNothing:
    """A callback that only listens: the task tree's own cost."""

    def setup(self, estimator, context):
        pass

    def on_fit_task_begin(self, estimator, context, **kwargs):
        pass

    def on_fit_task_end(self, estimator, context, **kwargs):
        return False

    def teardown(self, estimator, context):
        pass


def load_baseline(directory):
    """The ``ScratchMLPClassifier`` of the package in ``directory``, as its own module."""
    init = Path(directory) / "sknn_scratch" / "__init__.py"
    spec = importlib.util.spec_from_file_location(
        "sknn_scratch_baseline", init, submodule_search_locations=[str(init.parent)]
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module.ScratchMLPClassifier


def variants(baseline):
    """Name -> a function building the estimator to time."""
    found = {
        "no callback": lambda epochs: ScratchMLPClassifier(epochs=epochs, **PARAMS),
        "a callback that does nothing": lambda epochs: ScratchMLPClassifier(
            epochs=epochs, **PARAMS
        ).set_callbacks(DoNothing()),
        "ScoringMonitor (accuracy, training data)": lambda epochs: ScratchMLPClassifier(
            epochs=epochs, **PARAMS
        ).set_callbacks(ScoringMonitor(scoring="accuracy")),
    }
    try:
        import rich  # noqa: F401  (ProgressBar draws with it)
        from sklearn.callback import ProgressBar

        found["ProgressBar"] = lambda epochs: ScratchMLPClassifier(
            epochs=epochs, **PARAMS
        ).set_callbacks(ProgressBar())
    except ImportError:
        pass
    if baseline is not None:
        found["the package in DIR, no callback"] = lambda epochs: baseline(epochs=epochs, **PARAMS)
    return found


def timed_fit(make, epochs, X, y):
    model = make(epochs)
    with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        started = time.perf_counter()
        model.fit(X, y)
        seconds = time.perf_counter() - started
    return seconds / epochs, model


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--n-samples", type=int, default=10000)
    parser.add_argument("--baseline", help="a checkout of the package to compare with")
    parser.add_argument("--quick", action="store_true", help="3 rounds, print only")
    parser.add_argument("--out", default="callbacks", help="results/<out>.md")
    args = parser.parse_args()
    rounds = 3 if args.quick else args.rounds
    baseline = load_baseline(args.baseline) if args.baseline else None

    X, y = make_classification(
        n_samples=args.n_samples, n_features=50, n_informative=30, n_classes=5,
        random_state=0,
    )  # fmt: skip
    load_at_start = load_average()
    started = time.perf_counter()
    found = variants(baseline)
    names = list(found)
    times = {name: [] for name in names}
    weights = {}
    with threadpool_limits(limits=1, user_api="blas"):
        timed_fit(found["no callback"], 1, X, y)  # one-off costs (Numba loading) first
        for r in range(rounds):
            for name in names[r % len(names) :] + names[: r % len(names)]:
                seconds, model = timed_fit(found[name], args.epochs, X, y)
                times[name].append(seconds)
                weights[name] = np.concatenate([c.ravel() for c in model.coefs_])
    reference = weights["no callback"]
    for name, flat in weights.items():
        assert flat.tobytes() == reference.tobytes(), f"{name} changed the weights"

    none = statistics.median(times["no callback"])
    lines = [
        "# What callbacks cost a fit",
        "",
        f"`python benchmarks/callbacks.py{_arguments(args)}`, "
        f"{time.strftime('%Y-%m-%d')}, {time.perf_counter() - started:.0f} s",
        "",
        *header(1, load_at_start),
        f"- Fit: {args.n_samples} x 50, 5 classes, hidden (64, 64) relu, Adam, batches of "
        f"200, {args.epochs} epochs, float64; median over {rounds} rounds",
        "- Every variant gave the same weights, bit for bit.",
        "",
        "## Time per epoch",
        "",
        "| variant | ms/epoch | vs no callback |",
        "|---|---:|---:|",
    ]
    for name in names:
        median = statistics.median(times[name])
        lines.append(f"| {name} | {1000 * median:.1f} | {median / none:.3f} |")
    publish("\n".join(lines), None if args.quick else args.out)


def _arguments(args) -> str:
    """The command line as typed, without the baseline's path (a machine's path)."""
    shown = []
    for word in sys.argv[1:]:
        shown.append("DIR" if args.baseline and word == args.baseline else shlex.quote(word))
    return "".join(" " + word for word in shown)


if __name__ == "__main__":
    main()
