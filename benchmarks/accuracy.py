"""Accuracy of the default parameters, next to scikit-learn's MLP defaults.

Each of scikit-learn's bundled data sets is cross-validated (5 folds, shuffled, fixed seed;
stratified for the classification sets) with two pipelines that differ only in the model::

    StandardScaler() -> ScratchMLPClassifier()   vs   StandardScaler() -> MLPClassifier()

The regression set (diabetes) has its target standardised inside each fold with
``TransformedTargetRegressor(transformer=StandardScaler())``; R² does not change under that
affine map, so the score is the R² on the original target.

Both models see the same folds and the same ``random_state`` per fold, and their fits are
interleaved (the order alternates from fold to fold), so that a slow moment of the machine
does not land on one side only. BLAS runs single-threaded (``OPENBLAS_NUM_THREADS=1`` and
friends, set before NumPy is imported, unless already set in the environment).
ConvergenceWarnings are silenced but counted.

The results file gives, for each data set, both models' scores and their difference, then
their fit times, the ratio of the two, the epochs run and the ConvergenceWarnings; its header
gives the setup, the package versions and the machine type.

Usage::

    python benchmarks/accuracy.py                      # current defaults -> results/accuracy.md
    python benchmarks/accuracy.py --quick              # smoke run -> results/accuracy_quick.md
    python benchmarks/accuracy.py --params '{"activation": "relu"}' --output \
        benchmarks/results/accuracy_relu.md            # a candidate set of defaults
"""

import os

# Single-threaded BLAS for both models, before NumPy is imported (see the module docstring).
for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import shlex  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import scipy  # noqa: E402
import sklearn  # noqa: E402
from sklearn.compose import TransformedTargetRegressor  # noqa: E402
from sklearn.datasets import (  # noqa: E402
    load_breast_cancer,
    load_diabetes,
    load_digits,
    load_iris,
    load_wine,
)
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.model_selection import RepeatedKFold, RepeatedStratifiedKFold  # noqa: E402
from sklearn.neural_network import MLPClassifier, MLPRegressor  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parent.parent
# Benchmark the package of this checkout, not whichever copy is installed.
sys.path.insert(0, str(REPO_ROOT))

import sknn_scratch  # noqa: E402
from sknn_scratch import ScratchMLPClassifier, ScratchMLPRegressor  # noqa: E402

RESULTS_DIR = REPO_ROOT / "benchmarks" / "results"

# name -> (loader, task); the order is the order of the table
DATASETS = {
    "digits": (load_digits, "classification"),
    "breast_cancer": (load_breast_cancer, "classification"),
    "wine": (load_wine, "classification"),
    "iris": (load_iris, "classification"),
    "diabetes": (load_diabetes, "regression"),
}

METRIC = {"classification": "accuracy", "regression": "R²"}


@dataclass
class Runs:
    """Per-fold measurements of one model on one data set."""

    scores: list = field(default_factory=list)
    fit_seconds: list = field(default_factory=list)
    n_iter: list = field(default_factory=list)
    convergence_warnings: int = 0


@dataclass
class Comparison:
    name: str
    task: str
    shape: tuple
    ours: Runs
    theirs: Runs

    @property
    def score_difference(self) -> float:
        return float(np.mean(self.ours.scores) - np.mean(self.theirs.scores))


def make_model(task, ours, params, random_state):
    """The pipeline to cross-validate: scaling, the MLP, and target scaling for regression."""
    if ours:
        estimator = ScratchMLPClassifier if task == "classification" else ScratchMLPRegressor
    else:
        estimator = MLPClassifier if task == "classification" else MLPRegressor
    pipeline = make_pipeline(StandardScaler(), estimator(random_state=random_state, **params))
    if task == "regression":
        return TransformedTargetRegressor(regressor=pipeline, transformer=StandardScaler())
    return pipeline


def fitted_mlp(model):
    """The fitted MLP inside ``model`` (to read ``n_iter_``)."""
    pipeline = model.regressor_ if isinstance(model, TransformedTargetRegressor) else model
    return pipeline[-1]


def fit_and_score(model, X_train, y_train, X_test, y_test, runs):
    """Fit ``model`` (timed, warnings counted) and record its test score in ``runs``."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        start = time.perf_counter()
        model.fit(X_train, y_train)
        runs.fit_seconds.append(time.perf_counter() - start)
    runs.convergence_warnings += sum(issubclass(w.category, ConvergenceWarning) for w in caught)
    runs.n_iter.append(fitted_mlp(model).n_iter_)
    runs.scores.append(model.score(X_test, y_test))


def load(name, max_samples, seed):
    loader, task = DATASETS[name]
    X, y = loader(return_X_y=True)
    if max_samples is not None and X.shape[0] > max_samples:
        keep = np.random.RandomState(seed).permutation(X.shape[0])[:max_samples]
        X, y = X[keep], y[keep]
    return X, y, task


def compare(name, ours_params, sklearn_params, n_splits, n_repeats, seed, max_samples):
    """Cross-validate both models on one data set, fold by fold, alternating who goes first."""
    X, y, task = load(name, max_samples, seed)
    splitter_class = RepeatedStratifiedKFold if task == "classification" else RepeatedKFold
    splitter = splitter_class(n_splits=n_splits, n_repeats=n_repeats, random_state=seed)
    ours, theirs = Runs(), Runs()
    for fold, (train, test) in enumerate(splitter.split(X, y)):
        data = (X[train], y[train], X[test], y[test])
        sides = [(True, ours_params, ours), (False, sklearn_params, theirs)]
        for is_ours, params, runs in sides if fold % 2 == 0 else sides[::-1]:
            fit_and_score(make_model(task, is_ours, params, seed + fold), *data, runs)
    return Comparison(name, task, X.shape, ours, theirs)


# ---------------------------------------------------------------------- report


def mean_std(values, digits=3):
    return f"{np.mean(values):.{digits}f} ± {np.std(values):.{digits}f}"


# Two tables of six columns, so that a page of ordinary width shows every column.


def score_table(comparisons) -> list:
    lines = [
        "| data set | n x d | metric | ours | sklearn | ours - sklearn |",
        "|---|---|---|---|---|---|",
    ]
    lines += [
        f"| {c.name} | {c.shape[0]}x{c.shape[1]} | {METRIC[c.task]} "
        f"| {mean_std(c.ours.scores)} | {mean_std(c.theirs.scores)} "
        f"| {c.score_difference:+.3f} |"
        for c in comparisons
    ]
    return lines


def time_table(comparisons) -> list:
    lines = [
        "| data set | ours fit s/fold | sklearn fit s/fold | time ratio | epochs ours / sklearn "
        "| ConvergenceWarnings ours / sklearn |",
        "|---|---|---|---|---|---|",
    ]
    for c in comparisons:
        ours_time, their_time = np.mean(c.ours.fit_seconds), np.mean(c.theirs.fit_seconds)
        lines.append(
            f"| {c.name} | {ours_time:.3f} | {their_time:.3f} | {ours_time / their_time:.2f} "
            f"| {np.mean(c.ours.n_iter):.0f} / {np.mean(c.theirs.n_iter):.0f} "
            f"| {c.ours.convergence_warnings} / {c.theirs.convergence_warnings} |"
        )
    ours_total = sum(sum(c.ours.fit_seconds) for c in comparisons)
    their_total = sum(sum(c.theirs.fit_seconds) for c in comparisons)
    lines.append(
        f"| **total fit time (s, all folds)** | {ours_total:.2f} | {their_total:.2f} "
        f"| {ours_total / their_total:.2f} | | |"
    )
    return lines


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip() + ", "
    except OSError:
        pass
    return ""


def environment_lines() -> list:
    """Package versions and the machine's type: nothing about its files or the checkout."""
    threads = ", ".join(
        f"{v}={os.environ[v]}"
        for v in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
    )
    return [
        f"- Packages: sknn_scratch {sknn_scratch.__version__}, Python "
        f"{platform.python_version()}, NumPy {np.__version__}, SciPy {scipy.__version__}, "
        f"scikit-learn {sklearn.__version__}",
        f"- Machine: {cpu_name()}{platform.machine()}, {os.cpu_count()} logical CPUs, "
        f"{platform.system()}; threads: {threads}",
    ]


def command_line(argv) -> str:
    """The command as typed from the repository root, without ``--output`` (where it went)."""
    kept, skip = [], False
    for arg in argv:
        if skip:
            skip = False
        elif arg == "--output":
            skip = True
        elif not arg.startswith("--output="):
            kept.append(arg)
    return shlex.join(["python", "benchmarks/accuracy.py", *kept])


def report(comparisons, args, ours_params, sklearn_params, seconds, argv) -> str:
    title = "Accuracy of the defaults against scikit-learn's MLP defaults"
    if args.quick:
        title += " (smoke run: --quick, not a measurement)"
    ours_text = json.dumps(ours_params) if ours_params else "its default parameters"
    lines = [
        f"# {title}",
        "",
        f"Measured with `{command_line(argv)}` on "
        f"{time.strftime('%Y-%m-%d', time.gmtime())}, in {seconds:.0f} s.",
        "",
        f"- ours: `Pipeline(StandardScaler(), ScratchMLP*(...))` with {ours_text}",
        f"- sklearn: `Pipeline(StandardScaler(), MLP*(...))` with "
        f"{json.dumps(sklearn_params) if sklearn_params else 'its default parameters'}",
        f"- {args.folds}-fold CV repeated {args.repeats} times with new shuffles "
        "(RepeatedStratifiedKFold for classification, RepeatedKFold for regression), "
        f"seed {args.seed}; fold k (of {args.folds * args.repeats}) uses "
        f"`random_state={args.seed} + k` for both models; fits interleaved, the order "
        "alternating by fold",
        "- diabetes: target standardised in each fold (`TransformedTargetRegressor` with "
        "`StandardScaler`); its score is R², the others accuracy",
        "- scores: mean ± std over all folds; fit time: mean seconds per fold, pipeline `fit` "
        "(scaling included); time ratio = ours / sklearn (below 1: ours is faster)",
        *environment_lines(),
        "",
        "## Scores per data set",
        "",
        *score_table(comparisons),
        "",
        "## Fit times per data set",
        "",
        *time_table(comparisons),
        "",
    ]
    return "\n".join(lines)


# ---------------------------------------------------------------------- command line


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--params",
        type=json.loads,
        default={},
        help='JSON object of parameters for our estimators, e.g. \'{"activation": "relu"}\' '
        "(a candidate set of defaults); default: none, i.e. our current defaults",
    )
    parser.add_argument(
        "--sklearn-params",
        type=json.loads,
        default={},
        help="JSON object of parameters for scikit-learn's MLP; default: none (its defaults)",
    )
    parser.add_argument("--folds", type=int, default=5, help="number of CV folds (default 5)")
    parser.add_argument(
        "--repeats",
        type=int,
        default=3,
        help="repetitions of the CV, each with a new shuffle (default 3: the small data sets "
        "are noisy, one iris sample is 0.0067 accuracy)",
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the folds and models")
    parser.add_argument(
        "--datasets",
        nargs="+",
        choices=list(DATASETS),
        default=list(DATASETS),
        help="data sets to run (default: all)",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="smoke run: 2 folds, 1 repeat, at most 300 samples per data set, 20 epochs for "
        "both models",
    )
    parser.add_argument(
        "--output",
        type=Path,
        default=None,
        help="markdown file to write (default: benchmarks/results/accuracy.md, or "
        "accuracy_quick.md with --quick)",
    )
    args = parser.parse_args(argv)
    for option in ("params", "sklearn_params"):
        if not isinstance(getattr(args, option), dict):
            parser.error(f"--{option.replace('_', '-')} must be a JSON object, e.g. '{{}}'.")
    if args.quick:
        args.folds, args.repeats = 2, 1
    if args.output is None:
        args.output = RESULTS_DIR / ("accuracy_quick.md" if args.quick else "accuracy.md")
    return args


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    ours_params, sklearn_params = dict(args.params), dict(args.sklearn_params)
    max_samples = None
    if args.quick:
        max_samples = 300
        ours_params.setdefault("epochs", 20)
        sklearn_params.setdefault("max_iter", 20)
    start = time.perf_counter()
    comparisons = []
    for name in args.datasets:
        comparisons.append(
            compare(
                name, ours_params, sklearn_params, args.folds, args.repeats, args.seed, max_samples
            )
        )
        print(f"{name}: done ({time.perf_counter() - start:.0f} s)", file=sys.stderr)
    seconds = time.perf_counter() - start
    text = report(comparisons, args, ours_params, sklearn_params, seconds, argv)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text)
    print(text)
    print(f"Written to {args.output}", file=sys.stderr)


if __name__ == "__main__":
    main()
