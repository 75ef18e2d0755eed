"""Training throughput of ScratchMLPClassifier next to scikit-learn's MLP, PyTorch and the floor.

The *floor* is the time of exactly the matrix products one epoch needs (per batch: one forward
product per layer, one weight-gradient product per layer and one delta product per layer but
the first), run with NumPy's BLAS on arrays of the same shapes, in the same rounds as the fits.
No implementation that computes these products with the same BLAS can beat it, so
``floor / time`` ("share of the floor") says how much of an epoch is spent on anything else.

Every configuration is measured in several rounds; inside a round each implementation fits the
same data from scratch for the same number of epochs (the order rotates between rounds), and the
floor is timed in the same round. The tables give medians over rounds.

* s/epoch: wall time of ``fit`` (validation, initialisation and all) divided by the epochs.
  Before any timing, every implementation fits small data once in each dtype, so that one-off
  costs (Numba loading its compiled loops, PyTorch's start-up) are not counted as throughput.
* ours-numpy (when Numba is installed): ours with the fused loops of
  ``sknn_scratch/core/fused.py`` switched off, i.e. what a NumPy-only install runs.
* speedup: scikit-learn's s/epoch divided by ours.
* accuracy: on held-out data after the timed epochs (same epochs, same data for all).
* peak MB: the peak of memory traced by ``tracemalloc`` during one extra, untimed ``fit`` (NumPy
  reports its array allocations to tracemalloc); it excludes the input data, which exists
  before ``fit``. PyTorch's allocator does not report to tracemalloc, so it has no figure.

BLAS threads are set with threadpoolctl (``--threads``, default 1) and PyTorch's intra-op threads
with ``torch.set_num_threads`` to the same number. One thread is the default because the 2-core
benchmark machine is shared: with 2 BLAS threads and any other process running, OpenBLAS's
threads wait on each other and the same products took 5 to 13 times longer from one call to the
next, while single-threaded timings stayed within a few percent. The load average at the start
and the end of the run is written into the results.

Usage::

    python benchmarks/throughput.py                 # headline + grid + predict_proba, ~10 min
    python benchmarks/throughput.py --quick         # fewer rounds and configs: *_quick.md
    python benchmarks/throughput.py --config n_samples=20000,hidden=256-256,dtype=float32
    python benchmarks/throughput.py --out throughput_before   # results/throughput_before.{md,png}

``--config`` may be repeated; with it, only those configurations run and nothing is written
unless ``--out`` is given.
"""

import argparse
import gc
import itertools
import math
import os
import platform
import shlex
import statistics
import sys
import time
import tracemalloc
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import sklearn
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier
from threadpoolctl import threadpool_info, threadpool_limits

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import sknn_scratch
from sknn_scratch import ScratchMLPClassifier
from sknn_scratch.core import fused

try:
    import torch
except ImportError:  # PyTorch is optional: its columns are left out
    torch = None

RESULTS = Path(__file__).resolve().parent / "results"
N_FEATURES, N_CLASSES, BATCH_SIZE, ALPHA = 100, 10, 256, 1e-4
LEARNING_RATE = {"adam": 1e-3, "sgd": 1e-2}
HEADLINE = {"n_samples": 20_000, "hidden": (256, 256), "solver": "adam"}


@dataclass(frozen=True)
class Config:
    n_samples: int
    hidden: tuple
    solver: str
    dtype: str
    epochs: int

    def cells(self) -> list:
        """n_samples, hidden, solver and dtype, as the tables' first four cells."""
        hidden = ", ".join(map(str, self.hidden)) + ("," if len(self.hidden) == 1 else "")
        return [str(self.n_samples), f"({hidden})", self.solver, self.dtype]


# ---------------------------------------------------------------------- data


def make_data(n_samples, dtype, seed=0):
    """A 10-class problem with 100 features, and a held-out set of a quarter its size."""
    n_test = max(500, n_samples // 4)
    X, y = make_classification(
        n_samples=n_samples + n_test,
        n_features=N_FEATURES,
        n_informative=40,
        n_redundant=20,
        n_classes=N_CLASSES,
        n_clusters_per_class=2,
        class_sep=1.5,
        random_state=seed,
    )
    X = X.astype(dtype)
    return X[:n_samples], y[:n_samples], X[n_samples:], y[n_samples:]


# ---------------------------------------------------------------------- the implementations


def fit_ours(cfg, X, y, seed):
    model = ScratchMLPClassifier(
        hidden_size=cfg.hidden,
        activation="relu",
        solver=cfg.solver,
        alpha=ALPHA,
        batch_size=BATCH_SIZE,
        learning_rate=LEARNING_RATE[cfg.solver],
        epochs=cfg.epochs,
        tol=0.0,
        n_iter_no_change=cfg.epochs + 1,
        random_state=seed,
    )
    return model.fit(X, y)


def fit_ours_numpy(cfg, X, y, seed):
    """Ours with Numba's fused loops switched off: NumPy's whole-array passes only."""
    enabled = fused.ENABLED
    fused.ENABLED = False
    try:
        return fit_ours(cfg, X, y, seed)
    finally:
        fused.ENABLED = enabled


def fit_sklearn(cfg, X, y, seed):
    model = MLPClassifier(
        hidden_layer_sizes=cfg.hidden,
        activation="relu",
        solver=cfg.solver,
        alpha=ALPHA,
        batch_size=BATCH_SIZE,
        learning_rate_init=LEARNING_RATE[cfg.solver],
        max_iter=cfg.epochs,
        tol=0.0,
        n_iter_no_change=cfg.epochs + 1,
        random_state=seed,
    )
    return model.fit(X, y)


class TorchMLP:
    """The same network and training loop in PyTorch: shuffle per epoch, mini-batches.

    The L2 penalty ``alpha / 2 * ||W||^2 / batch`` becomes weight decay ``alpha / batch`` on the
    weights only, as in the two MLPs above.
    """

    def __init__(self, cfg, seed):
        torch.manual_seed(seed)
        dtype = getattr(torch, cfg.dtype)
        sizes = (N_FEATURES, *cfg.hidden, N_CLASSES)
        layers = []
        for n_in, n_out in itertools.pairwise(sizes):
            layers += [torch.nn.Linear(n_in, n_out, dtype=dtype), torch.nn.ReLU()]
        self.model = torch.nn.Sequential(*layers[:-1])
        weights = [p for name, p in self.model.named_parameters() if name.endswith("weight")]
        biases = [p for name, p in self.model.named_parameters() if name.endswith("bias")]
        groups = [
            {"params": weights, "weight_decay": ALPHA / BATCH_SIZE},
            {"params": biases, "weight_decay": 0.0},
        ]
        lr = LEARNING_RATE[cfg.solver]
        if cfg.solver == "adam":
            self.optimizer = torch.optim.Adam(groups, lr=lr)
        else:
            self.optimizer = torch.optim.SGD(groups, lr=lr, momentum=0.9, nesterov=True)
        self.epochs = cfg.epochs

    def fit(self, X, y):
        X, y = torch.from_numpy(X), torch.from_numpy(y.astype(np.int64))
        n_samples = X.shape[0]
        for _ in range(self.epochs):
            order = torch.randperm(n_samples)
            total = 0.0
            for start in range(0, n_samples, BATCH_SIZE):
                index = order[start : start + BATCH_SIZE]
                self.optimizer.zero_grad(set_to_none=True)
                loss = torch.nn.functional.cross_entropy(self.model(X[index]), y[index])
                loss.backward()
                self.optimizer.step()
                total += loss.detach() * len(index)
            self.loss_ = float(total) / n_samples
        return self

    def predict(self, X):
        with torch.no_grad():
            return self.model(torch.from_numpy(X)).argmax(dim=1).numpy()

    def predict_proba(self, X):
        with torch.no_grad():
            return torch.softmax(self.model(torch.from_numpy(X)), dim=1).numpy()


def fit_torch(cfg, X, y, seed):
    return TorchMLP(cfg, seed).fit(X, y)


# ---------------------------------------------------------------------- the floor


def matrix_product_floor(cfg, n_samples, rng):
    """Seconds per epoch spent in exactly the matrix products an epoch needs."""
    dtype = np.dtype(cfg.dtype)
    sizes = (N_FEATURES, *cfg.hidden, N_CLASSES)
    acts = [rng.standard_normal((BATCH_SIZE, n)).astype(dtype) for n in sizes]
    deltas = [np.empty_like(a) for a in acts]
    deltas[-1][...] = acts[-1]
    weights = [rng.standard_normal((i, o)).astype(dtype) for i, o in itertools.pairwise(sizes)]
    grads = [np.empty_like(w) for w in weights]
    batch_rows = [min(BATCH_SIZE, n_samples - s) for s in range(0, n_samples, BATCH_SIZE)]
    started = time.perf_counter()
    for _epoch in range(cfg.epochs):
        for rows in batch_rows:
            for i, w in enumerate(weights):  # forward
                np.matmul(acts[i][:rows], w, out=acts[i + 1][:rows])
            for i in range(len(weights) - 1, -1, -1):  # backward
                np.matmul(acts[i][:rows].T, deltas[i + 1][:rows], out=grads[i])
                if i > 0:
                    np.matmul(deltas[i + 1][:rows], weights[i].T, out=deltas[i][:rows])
    return (time.perf_counter() - started) / cfg.epochs


# ---------------------------------------------------------------------- measuring


FITTERS = {"ours": fit_ours}
if fused.ENABLED:  # Numba is installed: also measure ours without it
    FITTERS["ours-numpy"] = fit_ours_numpy
FITTERS["sklearn"] = fit_sklearn
if torch is not None:
    FITTERS["torch"] = fit_torch


def peak_fit_memory_mb(fit, cfg, X, y):
    gc.collect()
    tracemalloc.start()
    fit(cfg, X, y, 0)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak / 2**20


def warm_up():
    """Fit every implementation once on small data, in each dtype, before anything is timed.

    The first fit in a process pays one-off costs that are not throughput: Numba loading (or,
    on a machine's first run, compiling) the fused loops, PyTorch initialising its kernels.
    """
    for dtype in ("float64", "float32"):
        X, y, _, _ = make_data(500, dtype)
        for solver in ("sgd", "adam"):
            cfg = Config(500, (16,), solver, dtype, epochs=1)
            for fit in FITTERS.values():
                fit(cfg, X, y, 0)


def measure(cfg, rounds, memory=True):
    """Median s/epoch, accuracy and peak memory of each implementation, and the floor."""
    X, y, X_test, y_test = make_data(cfg.n_samples, cfg.dtype)
    names = list(FITTERS)
    times = {name: [] for name in [*names, "floor"]}
    accuracy = {name: [] for name in names}
    rng = np.random.default_rng(0)
    for r in range(rounds):
        order = names[r % len(names) :] + names[: r % len(names)]
        for name in order:
            gc.collect()
            started = time.perf_counter()
            model = FITTERS[name](cfg, X, y, r)
            times[name].append((time.perf_counter() - started) / cfg.epochs)
            accuracy[name].append(float(np.mean(model.predict(X_test) == y_test)))
        times["floor"].append(matrix_product_floor(cfg, cfg.n_samples, rng))
    result = {
        "cfg": cfg,
        "time": {k: statistics.median(v) for k, v in times.items()},
        "accuracy": {k: statistics.median(v) for k, v in accuracy.items()},
        "memory": {},
    }
    if memory:
        for name in ("ours", "sklearn"):
            result["memory"][name] = peak_fit_memory_mb(FITTERS[name], cfg, X, y)
    return result


def measure_predict(n_rows, dtype, rounds):
    """predict_proba on ``n_rows`` x 100 rows: time and peak extra memory."""
    cfg = Config(HEADLINE["n_samples"], HEADLINE["hidden"], "adam", dtype, epochs=1)
    X, y, _, _ = make_data(cfg.n_samples, dtype)
    # ours-numpy differs from ours in training only (fit_ours_numpy restores the loops after)
    models = {name: fit(cfg, X, y, 0) for name, fit in FITTERS.items() if name != "ours-numpy"}
    X_big = np.random.default_rng(1).standard_normal((n_rows, N_FEATURES)).astype(dtype)
    times = {name: [] for name in models}
    for r in range(rounds):
        for name in list(models)[r % len(models) :] + list(models)[: r % len(models)]:
            gc.collect()
            started = time.perf_counter()
            models[name].predict_proba(X_big)
            times[name].append(time.perf_counter() - started)
    memory = {}
    for name in ("ours", "sklearn"):
        gc.collect()
        tracemalloc.start()
        models[name].predict_proba(X_big)
        memory[name] = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
    output_mb = n_rows * N_CLASSES * np.dtype(dtype).itemsize / 2**20
    return {
        "dtype": dtype,
        "n_rows": n_rows,
        "time": {k: statistics.median(v) for k, v in times.items()},
        "memory": memory,
        "output_mb": output_mb,
    }


# ---------------------------------------------------------------------- reporting


CONFIG_HEAD = ["n_samples", "hidden", "solver", "dtype"]


def fmt_time(seconds):
    return f"{seconds * 1e3:.1f} ms" if seconds < 1 else f"{seconds:.2f} s"


def rounds_text(rounds):
    return f"Medians over {rounds} round{'s' if rounds != 1 else ''}."


def fmt_count(n):
    """``20000`` as ``20 000``."""
    return f"{n:,}".replace(",", " ")


def markdown_table(head, rows):
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


# The training results go into three tables of at most ten columns each, so that a page of
# ordinary width shows every column: times, then the ratios, then accuracy and memory.


def time_table(results):
    names = list(FITTERS)
    head = [*CONFIG_HEAD, "epochs", "floor s/epoch", *(f"{n} s/epoch" for n in names)]
    rows = [
        [*r["cfg"].cells(), str(r["cfg"].epochs), fmt_time(r["time"]["floor"])]
        + [fmt_time(r["time"][n]) for n in names]
        for r in results
    ]
    return markdown_table(head, rows)


def floor_table(results):
    names = list(FITTERS)
    head = [*CONFIG_HEAD, "speed-up vs sklearn", *(f"{n} % of floor" for n in names)]
    rows = [
        [*r["cfg"].cells(), f"**{r['time']['sklearn'] / r['time']['ours']:.2f}x**"]
        + [f"{100 * r['time']['floor'] / r['time'][n]:.0f}%" for n in names]
        for r in results
    ]
    return markdown_table(head, rows)


def quality_table(results):
    names = list(FITTERS)
    head = [*CONFIG_HEAD, *(f"{n} acc." for n in names), "ours peak MB", "sklearn peak MB"]
    rows = [
        [*r["cfg"].cells()]
        + [f"{r['accuracy'][n]:.3f}" for n in names]
        + [f"{r['memory'][n]:.1f}" if n in r["memory"] else "-" for n in ("ours", "sklearn")]
        for r in results
    ]
    return markdown_table(head, rows)


def training_sections(title, description, results):
    """Three headed tables (every heading unique on the page) for one group of results."""
    return [
        f"## {title}: time per epoch",
        description,
        time_table(results),
        f"## {title}: speed-up and % of floor",
        floor_table(results),
        f"## {title}: accuracy and peak memory",
        quality_table(results),
    ]


def progress_line(res):
    """One line per measured configuration, printed while the benchmark runs."""
    t = res["time"]
    times = ", ".join(f"{n} {fmt_time(t[n])}" for n in [*FITTERS, "floor"])
    return f"{' '.join(res['cfg'].cells())}: {times}, speed-up {t['sklearn'] / t['ours']:.2f}x"


def predict_table(results):
    names = list(results[0]["time"])
    head = ["rows x features", "dtype", *(f"{n} time" for n in names)]
    head += ["speed-up vs sklearn", "ours peak MB", "sklearn peak MB", "output MB"]
    rows = []
    for res in results:
        t = res["time"]
        row = [f"{fmt_count(res['n_rows'])} x {N_FEATURES}", res["dtype"]]
        row += [fmt_time(t[n]) for n in names]
        row += [f"**{t['sklearn'] / t['ours']:.2f}x**"]
        row += [f"{res['memory'][n]:.0f}" for n in ("ours", "sklearn")]
        row += [f"{res['output_mb']:.0f}"]
        rows.append(row)
    return markdown_table(head, rows)


def plot(results, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(FITTERS)
    dtypes = sorted({r["cfg"].dtype for r in results}, reverse=True)
    fig, axes = plt.subplots(len(dtypes), 1, figsize=(13, 4.2 * len(dtypes)), squeeze=False)
    for ax, dtype in zip(axes[:, 0], dtypes):
        rows = [r for r in results if r["cfg"].dtype == dtype]
        x = np.arange(len(rows))
        width = 0.8 / len(names)
        for k, name in enumerate(names):
            share = [100 * r["time"]["floor"] / r["time"][name] for r in rows]
            ax.bar(x + (k - (len(names) - 1) / 2) * width, share, width, label=name)
        ax.axhline(80, color="k", linestyle="--", linewidth=1, label="80% of the floor")
        ax.set_xticks(x)
        ax.set_xticklabels(
            ["\n".join(r["cfg"].cells()[:3]) for r in rows],
            fontsize=7,
        )
        ax.set_ylabel("% of the matrix-product floor")
        ax.set_ylim(0, 105)
        ax.set_title(f"Training throughput, {dtype} (higher is better)")
        ax.legend(loc="upper right", fontsize=8, ncol=len(names) + 1)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def load_average():
    return ", ".join(f"{value:.2f}" for value in os.getloadavg())


def thread_pools():
    """The BLAS and OpenMP libraries threadpoolctl found, with their versions."""
    pools = set()
    for info in threadpool_info():
        name, version, api = info["internal_api"], info.get("version"), info["user_api"]
        pools.add(f"{name} {version} ({api})" if version else f"{name} ({api}, version unknown)")
    return ", ".join(sorted(pools))


def header(threads, load_at_start):
    """The results' setup: package versions, machine type, threads, the implementations."""
    numba = f"Numba {fused.numba.__version__}" if fused.ENABLED else "Numba not used"
    torch_version = f"PyTorch {torch.__version__}" if torch else "PyTorch not installed"
    if fused.ENABLED:
        ours = (
            "`ours` is `ScratchMLPClassifier` with its Numba-compiled loops, `ours-numpy` the "
            "same without them (NumPy only)"
        )
    else:
        ours = "`ours` is `ScratchMLPClassifier` (NumPy only)"
    implementations = f"{ours}, `sklearn` is scikit-learn's `MLPClassifier`"
    if torch:
        implementations += ", `torch` the same network and training loop in PyTorch"
    return [
        f"- Packages: sknn_scratch {sknn_scratch.__version__}, Python "
        f"{platform.python_version()}, NumPy {np.__version__}, scikit-learn "
        f"{sklearn.__version__}, {torch_version}, {numba}",
        f"- Machine: {platform.machine()}, {os.cpu_count()} logical CPUs; load average "
        f"(1, 5, 15 min) {load_at_start} at the start and {load_average()} at the end",
        f"- Threads: {threads} for every BLAS (threadpoolctl)"
        + (" and for PyTorch (`torch.set_num_threads`)" if torch else "")
        + f"; thread pools: {thread_pools()}",
        f"- Implementations: {implementations}",
        f"- Training: `make_classification` data with {N_FEATURES} features and {N_CLASSES} "
        f"classes; batch size {BATCH_SIZE}, relu, alpha={ALPHA}, learning rate "
        f"{LEARNING_RATE['adam']} (adam) or {LEARNING_RATE['sgd']} (sgd), `tol=0` so that "
        "every epoch runs; accuracy on held-out data a quarter the size of the training data "
        "(500 rows at the least)",
    ]


READING = (
    "Times (s/epoch: the whole `fit` divided by its epochs) and accuracies are medians over "
    "rounds in which every implementation fits the same data from scratch, in an order that "
    "rotates from round to round. The *floor* is the time of only the matrix products of an "
    "epoch (per mini-batch: one forward product per layer, one weight-gradient product per "
    "layer and one delta product per layer but the first) on arrays of the same shapes, with "
    "NumPy's BLAS, timed in the same rounds as the fits. *% of floor* is the floor's time "
    "over the implementation's: 100% would be an epoch spent on nothing but those products, "
    "so higher is better. *Speed-up* is scikit-learn's s/epoch over ours. *Peak MB* is "
    "`tracemalloc`'s peak during one extra, untimed fit, the input data excluded; PyTorch's "
    "allocator does not report to `tracemalloc`, so it has no figure."
)


def grid_description(configs, rounds):
    """The values a group of configurations spans, and its rounds, in one sentence."""

    def alternatives(values):
        values = list(dict.fromkeys(values))  # distinct, in order
        return values[0] if len(values) == 1 else ", ".join(values[:-1]) + f" or {values[-1]}"

    cells = [c.cells() for c in configs]
    n_samples = alternatives(fmt_count(c.n_samples) for c in configs)
    hidden, solver, dtype = (alternatives(cell[i] for cell in cells) for i in (1, 2, 3))
    plural = "s" if len(configs) > 1 else ""
    return (
        f"{len(configs)} configuration{plural}: n_samples {n_samples}; hidden layers {hidden}; "
        f"solver {solver}; dtype {dtype}. {rounds_text(rounds)}"
    )


# ---------------------------------------------------------------------- main


def parse_config(text, epochs):
    fields = dict(item.split("=") for item in text.split(","))
    n_samples = int(fields.get("n_samples", HEADLINE["n_samples"]))
    hidden = tuple(int(h) for h in fields.get("hidden", "256-256").split("-"))
    return Config(
        n_samples,
        hidden,
        fields.get("solver", "adam"),
        fields.get("dtype", "float64"),
        int(fields.get("epochs", epochs(n_samples))),
    )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds and configurations")
    parser.add_argument("--config", action="append", help="e.g. n_samples=2000,hidden=64,...")
    parser.add_argument("--rounds", type=int, default=None, help="rounds per configuration")
    parser.add_argument("--threads", type=int, default=1, help="BLAS and PyTorch threads")
    parser.add_argument("--out", default=None, help="results/<out>.md and .png")
    parser.add_argument("--no-predict", action="store_true", help="skip predict_proba")
    args = parser.parse_args(argv)
    default_out = "throughput_quick" if args.quick else "throughput"
    out = args.out if args.out is not None else (None if args.config else default_out)

    def epochs(n_samples):
        # enough epochs that one fit sees at least ~40 000 samples (2 at the least)
        return max(2, math.ceil(40_000 / n_samples))

    rounds = args.rounds or (1 if args.quick else 3)
    headline_rounds = args.rounds or (2 if args.quick else 5)
    if args.config:
        headline, grid = [], [parse_config(c, epochs) for c in args.config]
    else:
        headline = [
            Config(**HEADLINE, dtype=d, epochs=2 if args.quick else 5)
            for d in ("float64", "float32")
        ]
        grid = [
            Config(n, h, s, d, epochs(n))
            for n, h, s, d in itertools.product(
                (2_000,) if args.quick else (2_000, 50_000),
                ((64,), (256, 256), (1024,)),
                ("sgd", "adam"),
                ("float64", "float32"),
            )
        ]
    if torch is not None:
        torch.set_num_threads(args.threads)
    warnings.filterwarnings("ignore", category=ConvergenceWarning)

    started = time.perf_counter()
    load_at_start = load_average()
    with threadpool_limits(limits=args.threads):
        pools = thread_pools()
        print(f"thread pools: {pools}", flush=True)
        warm_up()
        headline_results, grid_results, predict_results = [], [], []
        for cfg in headline:
            headline_results.append(measure(cfg, headline_rounds))
            print(progress_line(headline_results[-1]), flush=True)
        for cfg in grid:
            grid_results.append(measure(cfg, rounds))
            print(progress_line(grid_results[-1]), flush=True)
        if not args.config and not args.no_predict:
            n_rows = 100_000 if args.quick else 1_000_000
            for dtype in ("float64", "float32"):
                predict_results.append(measure_predict(n_rows, dtype, rounds))
                print(predict_table(predict_results[-1:]).splitlines()[-1], flush=True)
        setup = header(args.threads, load_at_start)
    elapsed = time.perf_counter() - started

    # what was run, never where: the command as typed from the repository root
    command = shlex.join(["python", "benchmarks/throughput.py", *(argv or sys.argv[1:])])
    title = "Training throughput"
    if args.quick:
        title += " (quick run: fewer rounds and configurations)"
    sections = [
        f"# {title}",
        f"Measured with `{command}` on {time.strftime('%Y-%m-%d', time.gmtime())}, "
        f"in {elapsed / 60:.1f} min.",
        "\n".join(setup),
        READING,
    ]
    if headline_results:
        cfg = headline_results[0]["cfg"]
        description = (
            f"{fmt_count(cfg.n_samples)} samples x {N_FEATURES} features, hidden layers "
            f"{cfg.cells()[1]}, {cfg.solver}, {cfg.epochs} epochs per fit. "
            + rounds_text(headline_rounds)
        )
        sections += training_sections("Headline network", description, headline_results)
    if grid_results:
        configs = [r["cfg"] for r in grid_results]
        group = "Selected configurations" if args.config else "Grid of configurations"
        sections += training_sections(group, grid_description(configs, rounds), grid_results)
    if predict_results:
        n_rows = fmt_count(predict_results[0]["n_rows"])
        sections += [
            f"## predict_proba on {n_rows} rows",
            "The headline network, trained for one epoch on the headline data, predicts the "
            f"probabilities of {n_rows} random rows. {rounds_text(rounds)} Peak MB is "
            "`tracemalloc`'s peak during one call, the output included; output MB is the size "
            "of the probabilities returned.",
            predict_table(predict_results),
        ]
    text = "\n\n".join(sections) + "\n"
    if out:
        RESULTS.mkdir(exist_ok=True)
        (RESULTS / f"{out}.md").write_text(text)
        plot(headline_results + grid_results, RESULTS / f"{out}.png")
        print(f"wrote benchmarks/results/{out}.md and .png")
    else:
        print(text)


if __name__ == "__main__":
    main()
