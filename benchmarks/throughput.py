"""Training throughput of ScratchMLPClassifier next to scikit-learn's MLP, PyTorch and the floor.

The *floor* is the time of exactly the matrix products one epoch needs (per batch: one forward
product per layer, one weight-gradient product per layer and one delta product per layer but
the first), run with NumPy's BLAS on arrays of the same shapes, in the same rounds as the fits.
No implementation that computes these products with the same BLAS can beat it, so
``floor / time`` ("share of the floor") says how much of an epoch is spent on anything else.

Every configuration is measured in several rounds; inside a round each implementation fits the
same data from scratch for the same number of epochs (the order rotates between rounds), and the
floor is timed right after each fit. The tables give medians over rounds; an implementation's
share of the floor is the median of its back-to-back ratios, since the machine's speed drifts
from one second to the next (with two threads by a third or more).

* s/epoch: wall time of ``fit`` (validation, initialisation and all) divided by the epochs.
  Before any timing, every implementation fits small data once in each dtype, so that one-off
  costs (Numba loading its compiled loops, PyTorch's start-up, a CUDA context) are not counted
  as throughput.
* ours-numpy (when Numba is installed): ours with the fused loops of
  ``sknn_scratch/core/fused.py`` switched off, i.e. what a NumPy-only install runs.
* ours-torch (when PyTorch is installed): ours fitted on torch tensors with scikit-learn's
  ``array_api_dispatch`` on, so that the same core trains in torch, on ``--device``. The plain
  PyTorch loop (``torch``) runs on the same device, with the same data, network, optimizer,
  batch size, dtype and epochs: ``ours-torch / torch`` is the price of the one core, and
  ``ours / ours-torch`` how many times our NumPy throughput (on the CPU) ours-torch reaches.
  On CUDA, the device is synchronised before and after every timed fit.
* ours-before (``--baseline DIR``): ``ScratchMLPClassifier`` of another checkout of the package
  (``DIR`` holds its ``sknn_scratch/``), imported
  under the name ``sknn_scratch_baseline`` and timed in the same rounds as ours.
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

SciPy reads ``SCIPY_ARRAY_API`` once, when it is first imported, and scikit-learn's
``array_api_dispatch`` needs it: the script sets ``SCIPY_ARRAY_API=1`` before importing SciPy,
unless the variable is already set (an empty value switches it off, and ours-torch with it).

Usage::

    python benchmarks/throughput.py                 # headline + grid + predict_proba, ~12 min
    python benchmarks/throughput.py --quick         # fewer rounds and configs: *_quick.md
    python benchmarks/throughput.py --config n_samples=20000,hidden=256-256,dtype=float32
    python benchmarks/throughput.py --out mine        # results/mine.{md,png}
    python benchmarks/throughput.py --baseline DIR --config ... --out compared   # + ours-before
    python benchmarks/throughput.py --large         # 1 000 000 x 100: ours, ours-torch, torch
    python benchmarks/throughput.py --device cuda --config n_samples=20000,dtype=float32 --large

``--config`` may be repeated; with it (or ``--large``), only those configurations run and
nothing is written unless ``--out`` is given. ``--large`` adds 1 000 000 x 100, hidden (256,
256), adam, float32, 2 epochs, for the implementations that train it in minutes on a CPU (ours,
ours-torch, torch; not sklearn, ours-numpy, ours-before). ``--device cuda`` (default ``cpu``)
runs ours-torch and torch on that device; everything else stays on the CPU. ``--baseline``'s
directory is written into the results as ``BEFORE``, described by ``--baseline-label``.
"""

import os

# before SciPy is first imported (scikit-learn imports it): scikit-learn's array_api_dispatch,
# which ours-torch fits with, needs SciPy's Array API support, which SciPy reads at import
os.environ.setdefault("SCIPY_ARRAY_API", "1")

import argparse
import functools
import gc
import importlib.util
import itertools
import math
import platform
import shlex
import statistics
import sys
import time
import tracemalloc
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import sklearn
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier
from threadpoolctl import threadpool_info, threadpool_limits

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from _environment import RESULTS, add_results_arguments, load_average, markdown_rows, replot

import sknn_scratch
from sknn_scratch import ScratchMLPClassifier
from sknn_scratch.core import fused
from sknn_scratch.core import kernels as core_kernels

try:
    import torch
except ImportError:  # PyTorch is optional: its columns are left out
    torch = None

N_FEATURES, N_CLASSES, BATCH_SIZE, ALPHA = 100, 10, 256, 1e-4
LEARNING_RATE = {"adam": 1e-3, "sgd": 1e-2}
HEADLINE = {"n_samples": 20_000, "hidden": (256, 256), "solver": "adam"}
# SciPy's Array API support is on (scikit-learn refuses array_api_dispatch without it)
ARRAY_API = bool(os.environ.get("SCIPY_ARRAY_API"))
# where ours-torch and torch train (--device); everything else runs on the CPU
DEVICE = torch.device("cpu") if torch is not None else None


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


def fit_ours(cfg, X, y, seed, estimator=ScratchMLPClassifier):
    model = estimator(
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


NUMPY_ONLY = core_kernels.NumpyKernels(compiled=False)


def fit_ours_numpy(cfg, X, y, seed):
    """Ours with Numba's fused loops switched off: NumPy's whole-array passes only.

    Every NumPy array trains with the kernels ``core.kernels.NUMPY``, built once at import
    (setting ``fused.ENABLED`` afterwards changes nothing); for this fit they are swapped for
    kernels built without the compiled loops.
    """
    compiled = core_kernels.NUMPY
    core_kernels.NUMPY = NUMPY_ONLY
    try:
        return fit_ours(cfg, X, y, seed)
    finally:
        core_kernels.NUMPY = compiled


def fit_ours_torch(cfg, X, y, seed):
    """Ours on torch tensors: with ``array_api_dispatch`` the core trains in torch, on the
    tensors' device (the labels are encoded on the host and sent there, as in any fit)."""
    X, y = to_device(X), to_device(y)
    with sklearn.config_context(array_api_dispatch=True):
        return fit_ours(cfg, X, y, seed)


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


def to_device(array):
    """``array`` (NumPy or torch) as a tensor on ``DEVICE``; a CPU NumPy array is not copied."""
    return torch.as_tensor(array, device=DEVICE)


def to_host(array):
    """A NumPy array of ``array``, wherever it is."""
    if torch is not None and isinstance(array, torch.Tensor):
        return array.cpu().numpy()
    return np.asarray(array)


def synchronize():
    """Wait for the work queued on ``DEVICE``: CUDA runs asynchronously, and a timer read
    before the queue has drained would miss part of a fit."""
    if DEVICE is not None and DEVICE.type == "cuda":
        torch.cuda.synchronize(DEVICE)


class TorchMLP:
    """The same network and training loop in PyTorch: shuffle per epoch, mini-batches.

    The L2 penalty ``alpha / 2 * ||W||^2 / batch`` becomes weight decay ``alpha / batch`` on the
    weights only, as in the two MLPs above. It trains on ``DEVICE``; the weights are drawn on
    the CPU first, so that they do not depend on the device.
    """

    def __init__(self, cfg, seed):
        torch.manual_seed(seed)
        dtype = getattr(torch, cfg.dtype)
        sizes = (N_FEATURES, *cfg.hidden, N_CLASSES)
        layers = []
        for n_in, n_out in itertools.pairwise(sizes):
            layers += [torch.nn.Linear(n_in, n_out, dtype=dtype), torch.nn.ReLU()]
        self.model = torch.nn.Sequential(*layers[:-1]).to(DEVICE)
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
        X, y = to_device(X), to_device(y).long()
        n_samples = X.shape[0]
        for _ in range(self.epochs):
            order = torch.randperm(n_samples, device=DEVICE)
            total = 0.0
            for start in range(0, n_samples, BATCH_SIZE):
                index = order[start : start + BATCH_SIZE]
                self.optimizer.zero_grad(set_to_none=True)
                loss = torch.nn.functional.cross_entropy(self.model(X[index]), y[index])
                loss.backward()
                self.optimizer.step()
                total += loss.detach() * len(index)
            self.loss_ = float(total) / n_samples  # the epoch's one wait for the device
        return self

    def predict(self, X):
        with torch.no_grad():
            return self.model(to_device(X)).argmax(dim=1)

    def predict_proba(self, X):
        with torch.no_grad():
            return torch.softmax(self.model(to_device(X)), dim=1).cpu().numpy()


def fit_torch(cfg, X, y, seed):
    return TorchMLP(cfg, seed).fit(X, y)


@dataclass(frozen=True)
class Implementation:
    """How to fit one implementation, and where it runs.

    ``fit(cfg, X, y, seed)`` returns a fitted model with ``predict``; ``on_device``: it trains
    with torch on ``DEVICE``, and its data is moved there before the timer starts;
    ``array_api``: its ``predict`` needs ``array_api_dispatch`` too; ``slow``: left out of
    ``--large``.
    """

    fit: Callable
    on_device: bool = False
    array_api: bool = False
    slow: bool = False


FITTERS = {}
"""The implementations measured, by name, in the order of the tables (see ``register``)."""

# the implementations of the three main tables, which compare with the NumPy floor on the CPU
FLOOR_TABLES = ("ours", "ours-numpy", "sklearn", "torch")


def register(baseline=None):
    """Fill ``FITTERS``: ours, ours-numpy (with Numba), ours-before (with a ``baseline``
    package), sklearn, and torch and ours-torch when PyTorch is installed."""
    FITTERS.clear()
    FITTERS["ours"] = Implementation(fit_ours)
    if fused.ENABLED:  # Numba is installed: also measure ours without it
        FITTERS["ours-numpy"] = Implementation(fit_ours_numpy, slow=True)
    if baseline is not None:
        fit = functools.partial(fit_ours, estimator=baseline.ScratchMLPClassifier)
        FITTERS["ours-before"] = Implementation(fit, slow=True)
    FITTERS["sklearn"] = Implementation(fit_sklearn, slow=True)
    if torch is not None:
        FITTERS["torch"] = Implementation(fit_torch, on_device=True)
        if ARRAY_API:
            FITTERS["ours-torch"] = Implementation(fit_ours_torch, on_device=True, array_api=True)


register()


def floor_table_names(names):
    """Which of ``names`` the main tables show: those on the CPU, next to the NumPy floor."""
    on_cpu = DEVICE is None or DEVICE.type == "cpu"
    return [n for n in FLOOR_TABLES if n in names and (on_cpu or not FITTERS[n].on_device)]


def predict_labels(name, model, X):
    """``model.predict(X)`` as a NumPy array."""
    with sklearn.config_context(array_api_dispatch=FITTERS[name].array_api):
        return to_host(model.predict(X))


BASELINE_MODULE = "sknn_scratch_baseline"


def load_baseline(root):
    """The package in ``root/sknn_scratch``, imported as ``sknn_scratch_baseline``.

    Its own relative imports (``from .core import ...``) resolve inside it, so it runs next to
    the working tree's ``sknn_scratch`` in the same process, with its own Numba loops.
    """
    package = Path(root) / "sknn_scratch"
    spec = importlib.util.spec_from_file_location(
        BASELINE_MODULE, package / "__init__.py", submodule_search_locations=[str(package)]
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules[BASELINE_MODULE] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[BASELINE_MODULE]
        raise
    return module


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


def peak_fit_memory_mb(fit, cfg, X, y):
    gc.collect()
    tracemalloc.start()
    fit(cfg, X, y, 0)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak / 2**20


def warm_up(names):
    """Fit every implementation once on small data, in each dtype, before anything is timed.

    The first fit in a process pays one-off costs that are not throughput: Numba loading (or,
    on a machine's first run, compiling) the fused loops, PyTorch initialising its kernels,
    CUDA creating its context.
    """
    for dtype in ("float64", "float32"):
        X, y, _, _ = make_data(500, dtype)
        for solver in ("sgd", "adam"):
            cfg = Config(500, (16,), solver, dtype, epochs=1)
            for name in names:
                FITTERS[name].fit(cfg, X, y, 0)
    synchronize()


def rotated(names, r):
    """``names`` starting at the ``r``-th (modulo their number): each round's order."""
    r %= len(names)
    return names[r:] + names[:r]


def largest_difference(model, other):
    """The largest ``|difference|`` between two fitted networks' weights and biases."""
    pairs = zip([*model.coefs_, *model.intercepts_], [*other.coefs_, *other.intercepts_])
    return max(float(np.max(np.abs(to_host(a) - to_host(b)))) for a, b in pairs)


def measure(cfg, rounds, names, memory=True):
    """Median s/epoch and accuracy of each of ``names``, peak memory, and the floor."""
    X, y, X_test, y_test = make_data(cfg.n_samples, cfg.dtype)
    data = {False: (X, y, X_test)}
    if any(FITTERS[name].on_device for name in names):
        data[True] = tuple(to_device(a) for a in (X, y, X_test))  # moved before any timer
    times = {name: [] for name in [*names, "floor"]}
    shares = {name: [] for name in names}  # the floor's time over the fit's, back to back
    accuracy = {name: [] for name in names}
    first_fits = {}  # round 0's models of ours and ours-before, which share their seed
    rng = np.random.default_rng(0)
    for r in range(rounds):
        for name in rotated(names, r):
            X_fit, y_fit, X_eval = data[FITTERS[name].on_device]
            gc.collect()
            synchronize()
            started = time.perf_counter()
            model = FITTERS[name].fit(cfg, X_fit, y_fit, r)
            synchronize()
            times[name].append((time.perf_counter() - started) / cfg.epochs)
            # the floor right after each fit: the machine's speed drifts over seconds (more
            # with two threads), and a pair timed back to back shares it
            times["floor"].append(matrix_product_floor(cfg, cfg.n_samples, rng))
            shares[name].append(times["floor"][-1] / times[name][-1])
            accuracy[name].append(float(np.mean(predict_labels(name, model, X_eval) == y_test)))
            if r == 0 and name in ("ours", "ours-before"):
                first_fits[name] = model
    result = {
        "cfg": cfg,
        "time": {k: statistics.median(v) for k, v in times.items()},
        "share": {k: statistics.median(v) for k, v in shares.items()},
        "accuracy": {k: statistics.median(v) for k, v in accuracy.items()},
        "memory": {},
    }
    if len(first_fits) == 2:
        result["difference"] = largest_difference(first_fits["ours"], first_fits["ours-before"])
    if memory:
        for name in ("ours", "sklearn"):
            if name in names:
                result["memory"][name] = peak_fit_memory_mb(FITTERS[name].fit, cfg, X, y)
    return result


def measure_predict(n_rows, dtype, rounds):
    """predict_proba on ``n_rows`` x 100 rows: time and peak extra memory.

    Ours, sklearn and, on the CPU, torch, all on NumPy input (torch reads it without a copy).
    """
    cfg = Config(HEADLINE["n_samples"], HEADLINE["hidden"], "adam", dtype, epochs=1)
    X, y, _, _ = make_data(cfg.n_samples, dtype)
    names = [n for n in floor_table_names(FITTERS) if n != "ours-numpy"]
    # ours-numpy differs from ours in training only
    models = {name: FITTERS[name].fit(cfg, X, y, 0) for name in names}
    X_big = np.random.default_rng(1).standard_normal((n_rows, N_FEATURES)).astype(dtype)
    times = {name: [] for name in models}
    for r in range(rounds):
        for name in rotated(names, r):
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


def cell(values, name, fmt):
    """``fmt(values[name])``, or "-" for an implementation this configuration did not run."""
    return fmt(values[name]) if name in values else "-"


def ratio(times, numerator, denominator, bold=True):
    """``times[numerator] / times[denominator]`` as ``1.23x`` (bold), or "-"."""
    if numerator not in times or denominator not in times:
        return "-"
    text = f"{times[numerator] / times[denominator]:.2f}x"
    return f"**{text}**" if bold else text


def measured(results, names):
    """Those of ``names`` that ran in at least one of ``results``, in their order."""
    return [n for n in names if any(n in r["time"] for r in results)]


# The training results go into three tables of at most ten columns each, so that a page of
# ordinary width shows every column: times, then the ratios, then accuracy and memory; ours on
# torch and ours-before, when they ran, get a table of their own each.


def time_table(results):
    names = floor_table_names(measured(results, FITTERS))
    head = [*CONFIG_HEAD, "epochs", "floor s/epoch", *(f"{n} s/epoch" for n in names)]
    rows = [
        [*r["cfg"].cells(), str(r["cfg"].epochs), fmt_time(r["time"]["floor"])]
        + [cell(r["time"], n, fmt_time) for n in names]
        for r in results
    ]
    return markdown_table(head, rows)


def floor_table(results):
    names = floor_table_names(measured(results, FITTERS))
    head = [*CONFIG_HEAD, "speed-up vs sklearn", *(f"{n} % of floor" for n in names)]
    rows = []
    for r in results:
        share = {n: f"{100 * value:.0f}%" for n, value in r["share"].items()}
        row = [*r["cfg"].cells(), ratio(r["time"], "sklearn", "ours")]
        rows.append(row + [cell(share, n, str) for n in names])
    return markdown_table(head, rows)


def quality_table(results):
    names = floor_table_names(measured(results, FITTERS))
    head = [*CONFIG_HEAD, *(f"{n} acc." for n in names), "ours peak MB", "sklearn peak MB"]
    rows = [
        [*r["cfg"].cells()]
        + [cell(r["accuracy"], n, "{:.3f}".format) for n in names]
        + [cell(r["memory"], n, "{:.1f}".format) for n in ("ours", "sklearn")]
        for r in results
    ]
    return markdown_table(head, rows)


def torch_table(results):
    """Ours on torch next to the plain PyTorch loop on the same device, and next to ours."""
    head = [
        *CONFIG_HEAD,
        "ours-torch s/epoch",
        "torch s/epoch",
        "ours-torch / torch time",
        "ours-torch speed-up vs ours",
        "ours-torch acc.",
        "torch acc.",
    ]
    rows = [
        [*r["cfg"].cells()]
        + [cell(r["time"], n, fmt_time) for n in ("ours-torch", "torch")]
        + [ratio(r["time"], "ours-torch", "torch"), ratio(r["time"], "ours", "ours-torch")]
        + [cell(r["accuracy"], n, "{:.3f}".format) for n in ("ours-torch", "torch")]
        for r in results
    ]
    return markdown_table(head, rows)


def before_table(results):
    """Ours next to ours-before: times, their ratio, accuracies, and how far the weights of
    the same fit (same data, seed and epochs) lie apart."""
    head = [
        *CONFIG_HEAD,
        "ours-before s/epoch",
        "ours s/epoch",
        "speed-up vs ours-before",
        "ours-before acc.",
        "ours acc.",
        "largest weight difference",
    ]
    rows = [
        [*r["cfg"].cells()]
        + [cell(r["time"], n, fmt_time) for n in ("ours-before", "ours")]
        + [ratio(r["time"], "ours-before", "ours")]
        + [cell(r["accuracy"], n, "{:.3f}".format) for n in ("ours-before", "ours")]
        + [cell(r, "difference", "{:.3g}".format)]
        for r in results
    ]
    return markdown_table(head, rows)


def torch_description():
    device = "the CPU" if DEVICE.type == "cpu" else f"`{DEVICE}`"
    return (
        f"`ours-torch` is our estimator fitted on torch tensors on {device} with scikit-learn's "
        f"`array_api_dispatch` on; `torch` is the plain PyTorch loop on {device}, with the same "
        "data, network, optimizer, batch size, dtype and epochs. *ours-torch / torch time* "
        "below 1 means ours-torch is faster; *ours-torch speed-up vs ours* is ours' s/epoch "
        "(NumPy, on the CPU) over ours-torch's."
    )


BEFORE_DESCRIPTION = (
    "`ours-before` and `ours` fit the same data with the same seeds in the same rounds. "
    "*Speed-up vs ours-before* is ours-before's s/epoch over ours'; the *largest weight "
    "difference* is the largest absolute difference between the weights and biases the two "
    "fits of the first round ended with (0: the same numbers to the last bit)."
)


def training_sections(title, description, results):
    """Headed tables (every heading unique on the page) for one group of results."""
    sections = [
        f"## {title}: time per epoch",
        description,
        time_table(results),
        f"## {title}: speed-up and % of floor",
        floor_table(results),
        f"## {title}: accuracy and peak memory",
        quality_table(results),
    ]
    if "ours-torch" in measured(results, FITTERS):
        sections += [f"## {title}: ours on torch", torch_description(), torch_table(results)]
    if "ours-before" in measured(results, FITTERS):
        sections += [
            f"## {title}: ours against ours-before",
            BEFORE_DESCRIPTION,
            before_table(results),
        ]
    return sections


def progress_line(res):
    """One line per measured configuration, printed while the benchmark runs."""
    t = res["time"]
    times = ", ".join(f"{n} {fmt_time(t[n])}" for n in [*FITTERS, "floor"] if n in t)
    line = f"{' '.join(res['cfg'].cells())}: {times}"
    if "sklearn" in t:
        line += f", speed-up {ratio(t, 'sklearn', 'ours', bold=False)}"
    if "ours-before" in t:
        line += f", vs ours-before {ratio(t, 'ours-before', 'ours', bold=False)}"
        line += f" (weights differ by {res['difference']:.3g})"
    if "ours-torch" in t:
        line += f", ours-torch / torch {ratio(t, 'ours-torch', 'torch', bold=False)}"
        if DEVICE.type == "cuda":  # the goals, on the console only
            line += (
                f"\n  ours-torch on {DEVICE}: {ratio(t, 'ours-torch', 'torch', bold=False)} "
                "the plain PyTorch loop's time (goal: at most 1.2x) and "
                f"{ratio(t, 'ours', 'ours-torch', bold=False)} our NumPy throughput on the "
                "CPU (goal: at least 20x)"
            )
    return line


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


# the chart's legend, in words: the tables keep their short column names
PLOT_LABELS = {
    "ours": "sknn_scratch (with Numba)",
    "ours-numpy": "sknn_scratch (NumPy only)",
    "sklearn": "scikit-learn MLPClassifier",
    "torch": "PyTorch (same network, hand-written loop)",
}


def plot(results, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = floor_table_names(measured(results, FITTERS))
    dtypes = sorted({r["cfg"].dtype for r in results}, reverse=True)
    fig, axes = plt.subplots(len(dtypes), 1, figsize=(12, 4.6 * len(dtypes)), squeeze=False)
    for ax, dtype in zip(axes[:, 0], dtypes):
        rows = [r for r in results if r["cfg"].dtype == dtype]
        x = np.arange(len(rows))
        width = 0.8 / len(names)
        for k, name in enumerate(names):
            share = [100 * r["share"].get(name, math.nan) for r in rows]
            label = PLOT_LABELS.get(name, name)
            ax.bar(x + (k - (len(names) - 1) / 2) * width, share, width, label=label)
        ax.axhline(80, color="k", linestyle="--", linewidth=1, label="80% of the floor")
        ax.set_xticks(x)
        ax.set_xticklabels(
            ["\n".join(r["cfg"].cells()[:3]) for r in rows],
            fontsize=8,
        )
        ax.set_xlabel("training configuration: samples, hidden layers, solver")
        ax.set_ylabel("% of the matrix-product floor")
        ax.set_ylim(0, 105)
        ax.set_title(f"Training throughput, {dtype} (higher is better)")
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=3, fontsize=10, frameon=False)
    fig.tight_layout(rect=(0, 0.07, 1, 1))
    fig.savefig(path, dpi=110)
    plt.close(fig)


def results_from_markdown(text):
    """The training results of a results file's "time per epoch" and "% of floor" tables, to
    plot them again."""
    results, shares = [], {}
    for section in text.split("\n## ")[1:]:
        if section.splitlines()[0].endswith(": speed-up and % of floor"):
            for cells in markdown_rows(section):
                key = tuple(cells[c] for c in CONFIG_HEAD)
                shares[key] = {
                    column.removesuffix(" % of floor"): float(value.rstrip("%")) / 100
                    for column, value in cells.items()
                    if column.endswith(" % of floor") and value not in ("", "-")
                }
    for section in text.split("\n## ")[1:]:
        heading = section.splitlines()[0]
        if not heading.endswith(": time per epoch"):
            continue
        for cells in markdown_rows(section):
            hidden = tuple(int(n) for n in cells["hidden"].strip("(,)").split(","))
            cfg = Config(
                int(cells["n_samples"]),
                hidden,
                cells["solver"],
                cells["dtype"],
                int(cells["epochs"]),
            )
            times = {}
            for column, value in cells.items():
                if column.endswith(" s/epoch") and value not in ("", "-"):
                    number, unit = value.split()
                    times[column.removesuffix(" s/epoch")] = float(number) * (
                        1e-3 if unit == "ms" else 1.0
                    )
            key = tuple(cells[c] for c in CONFIG_HEAD)
            results.append({"cfg": cfg, "time": times, "share": shares.get(key, {})})
    return results


def thread_pools():
    """The BLAS and OpenMP libraries threadpoolctl found, with their versions."""
    pools = set()
    for info in threadpool_info():
        name, version, api = info["internal_api"], info.get("version"), info["user_api"]
        pools.add(f"{name} {version} ({api})" if version else f"{name} ({api}, version unknown)")
    return ", ".join(sorted(pools))


def device_text():
    """Where the torch implementations train, in words."""
    if DEVICE.type == "cuda":
        name = torch.cuda.get_device_name(DEVICE)
        return f"`{DEVICE}` ({name}, CUDA {torch.version.cuda})"
    return "the CPU"


def header(threads, load_at_start, baseline_label=None):
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
    implementations = [ours]
    if "ours-before" in FITTERS:
        implementations.append(f"`ours-before` is `ScratchMLPClassifier` of {baseline_label}")
    implementations.append("`sklearn` is scikit-learn's `MLPClassifier`")
    if "torch" in FITTERS:
        implementations.append("`torch` the same network and training loop in PyTorch")
    if "ours-torch" in FITTERS:
        implementations.append(
            "`ours-torch` is `ScratchMLPClassifier` fitted on torch tensors with scikit-learn's "
            "`array_api_dispatch` on (for its fits and predictions only)"
        )
    lines = [
        f"- Packages: sknn_scratch {sknn_scratch.__version__}, Python "
        f"{platform.python_version()}, NumPy {np.__version__}, scikit-learn "
        f"{sklearn.__version__}, {torch_version}, {numba}",
        f"- Machine: {platform.machine()}, {os.cpu_count()} logical CPUs; load average "
        f"(1, 5, 15 min) {load_at_start} at the start and {load_average()} at the end",
        f"- Threads: {threads} for every BLAS (threadpoolctl)"
        + (" and for PyTorch (`torch.set_num_threads`)" if torch else "")
        + f"; thread pools: {thread_pools()}",
        f"- Implementations: {', '.join(implementations)}",
    ]
    if "ours-before" in FITTERS:
        loops = ", with its own Numba-compiled loops" if fused.ENABLED else ""
        lines.append(
            "- ours-before: `--baseline BEFORE` names a checkout of that package, imported as "
            f"`{BASELINE_MODULE}` and run in the same process and rounds as ours{loops}"
        )
    if torch:
        array_api = f"`SCIPY_ARRAY_API={os.environ.get('SCIPY_ARRAY_API', '')}`"
        if DEVICE.type == "cpu":
            where = "the CPU for every implementation and the floor"
        else:
            torch_names = " and `ours-torch`" if "ours-torch" in FITTERS else ""
            where = (
                f"`torch`{torch_names} train on {device_text()}; everything else, the floor "
                "included, on the CPU"
            )
        lines.append(f"- Device: {where}; {array_api}")
    lines.append(
        f"- Training: `make_classification` data with {N_FEATURES} features and {N_CLASSES} "
        f"classes; batch size {BATCH_SIZE}, relu, alpha={ALPHA}, learning rate "
        f"{LEARNING_RATE['adam']} (adam) or {LEARNING_RATE['sgd']} (sgd), `tol=0` so that "
        "every epoch runs; accuracy on held-out data a quarter the size of the training data "
        "(500 rows at the least)"
    )
    return lines


READING = (
    "Times (s/epoch: the whole `fit` divided by its epochs) and accuracies are medians over "
    "rounds in which every implementation fits the same data from scratch, in an order that "
    "rotates from round to round. The *floor* is the time of only the matrix products of an "
    "epoch (per mini-batch: one forward product per layer, one weight-gradient product per "
    "layer and one delta product per layer but the first) on arrays of the same shapes, with "
    "NumPy's BLAS, timed right after every fit (its column gives the median of these). *% of "
    "floor* is the median over rounds of the floor's time over the implementation's, each "
    "pair timed back to back, as the machine's speed drifts: 100% would be an epoch spent on "
    "nothing but those products, so higher is better. *Speed-up* is scikit-learn's s/epoch "
    "over ours. *Peak MB* is `tracemalloc`'s peak during one extra, untimed fit, the input "
    "data excluded; PyTorch's allocator does not report to `tracemalloc`, so it has no figure."
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


LARGE = Config(1_000_000, (256, 256), "adam", "float32", epochs=2)
"""``--large``: too slow on a CPU for sklearn, ours-numpy and ours-before (the slow ones)."""


def epochs_for(n_samples):
    """Enough epochs that one fit sees at least ~40 000 samples (2 at the least)."""
    return max(2, math.ceil(40_000 / n_samples))


def parse_config(text):
    fields = dict(item.split("=") for item in text.split(","))
    n_samples = int(fields.get("n_samples", HEADLINE["n_samples"]))
    hidden = tuple(int(h) for h in fields.get("hidden", "256-256").split("-"))
    return Config(
        n_samples,
        hidden,
        fields.get("solver", "adam"),
        fields.get("dtype", "float64"),
        int(fields.get("epochs", epochs_for(n_samples))),
    )


def torch_device(name, parser):
    """``--device`` as a ``torch.device``, or a clear error where it cannot train."""
    if torch is None:
        if name != "cpu":
            parser.error(f"--device {name} needs PyTorch, which is not installed")
        return None
    try:
        device = torch.device(name)
    except RuntimeError as error:
        parser.error(f"--device {name}: {error}")
    if device.type == "cuda":
        if not torch.cuda.is_available():
            build = (
                f"this PyTorch {torch.__version__} is built without CUDA"
                if torch.version.cuda is None
                else f"PyTorch {torch.__version__} (CUDA {torch.version.cuda}) finds no GPU"
            )
            parser.error(
                f"--device {name}: torch.cuda.is_available() is False ({build}). Run it on a "
                "machine with an NVIDIA GPU and a CUDA build of PyTorch, or use --device cpu."
            )
        if device.index is not None and device.index >= torch.cuda.device_count():
            parser.error(
                f"--device {name}: there are only {torch.cuda.device_count()} CUDA devices"
            )
    elif device.type != "cpu":
        parser.error(f"--device {name}: only cpu and cuda (cuda:N) are supported")
    return device


def published_command(argv):
    """The command as typed from the repository root, ``--baseline``'s directory as BEFORE:
    the results are published, and a path of this machine means nothing elsewhere."""
    words, hide = [], False
    for word in argv:
        if hide:
            word, hide = "BEFORE", False
        elif word == "--baseline":
            hide = True
        elif word.startswith("--baseline="):
            word = "--baseline=BEFORE"
        words.append(word)
    return shlex.join(["python", "benchmarks/throughput.py", *words])


def main(argv=None):
    global DEVICE  # set once, before anything is fitted
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], allow_abbrev=False)
    parser.add_argument("--quick", action="store_true", help="fewer rounds and configurations")
    parser.add_argument("--config", action="append", help="e.g. n_samples=2000,hidden=64,...")
    parser.add_argument(
        "--large",
        action="store_true",
        help="1 000 000 x 100, (256, 256), adam, float32, 2 epochs: ours, ours-torch, torch",
    )
    parser.add_argument("--rounds", type=int, default=None, help="rounds per configuration")
    parser.add_argument("--threads", type=int, default=1, help="BLAS and PyTorch threads")
    parser.add_argument(
        "--device", default="cpu", help="where ours-torch and torch train: cpu or cuda[:N]"
    )
    parser.add_argument(
        "--baseline",
        metavar="DIR",
        help="also time ScratchMLPClassifier of DIR/sknn_scratch (a checkout) as ours-before",
    )
    parser.add_argument(
        "--baseline-label",
        default="another checkout of the package",
        help="what the results call the --baseline package",
    )
    parser.add_argument("--title", default="Training throughput", help="the results' # title")
    parser.add_argument("--no-predict", action="store_true", help="skip predict_proba")
    parser.add_argument("--no-plot", action="store_true", help="write no .png")
    add_results_arguments(parser)
    args = parser.parse_args(argv)
    if args.replot:
        replot(args.replot, lambda text, path: plot(results_from_markdown(text), path))
        return
    named = bool(args.config or args.large)  # only the configurations asked for
    default_out = "throughput_quick" if args.quick else "throughput"
    out = args.out if args.out is not None else (None if named else default_out)

    DEVICE = torch_device(args.device, parser)
    baseline = None
    if args.baseline is not None:
        if not (Path(args.baseline) / "sknn_scratch" / "__init__.py").is_file():
            parser.error(
                f"--baseline {args.baseline}: no sknn_scratch/__init__.py there (give the root "
                "of a checkout of the package)"
            )
        baseline = load_baseline(args.baseline)
    register(baseline)
    if torch is not None and "ours-torch" not in FITTERS:
        print("SCIPY_ARRAY_API is off: ours-torch is left out", flush=True)

    rounds = args.rounds or (1 if args.quick else 3)
    headline_rounds = args.rounds or (2 if args.quick else 5)
    if named:
        headline, grid = [], [parse_config(c) for c in args.config or []]
    else:
        headline = [
            Config(**HEADLINE, dtype=d, epochs=2 if args.quick else 5)
            for d in ("float64", "float32")
        ]
        grid = [
            Config(n, h, s, d, epochs_for(n))
            for n, h, s, d in itertools.product(
                (2_000,) if args.quick else (2_000, 50_000),
                ((64,), (256, 256), (1024,)),
                ("sgd", "adam"),
                ("float64", "float32"),
            )
        ]
    large = [LARGE] if args.large else []
    all_names = list(FITTERS)
    large_names = [name for name in FITTERS if not FITTERS[name].slow]
    if torch is not None:
        torch.set_num_threads(args.threads)
    warnings.filterwarnings("ignore", category=ConvergenceWarning)

    started = time.perf_counter()
    load_at_start = load_average()
    with threadpool_limits(limits=args.threads):
        pools = thread_pools()
        print(f"thread pools: {pools}", flush=True)
        warm_up(all_names if headline or grid else large_names)
        headline_results, grid_results, large_results, predict_results = [], [], [], []
        for cfg in headline:
            headline_results.append(measure(cfg, headline_rounds, all_names))
            print(progress_line(headline_results[-1]), flush=True)
        for cfg in grid:
            grid_results.append(measure(cfg, rounds, all_names))
            print(progress_line(grid_results[-1]), flush=True)
        for cfg in large:
            large_results.append(measure(cfg, rounds, large_names, memory=False))
            print(progress_line(large_results[-1]), flush=True)
        if not named and not args.no_predict:
            n_rows = 100_000 if args.quick else 1_000_000
            for dtype in ("float64", "float32"):
                predict_results.append(measure_predict(n_rows, dtype, rounds))
                print(predict_table(predict_results[-1:]).splitlines()[-1], flush=True)
        setup = header(args.threads, load_at_start, args.baseline_label)
    elapsed = time.perf_counter() - started

    # what was run, never where: the command as typed from the repository root
    command = published_command(argv if argv is not None else sys.argv[1:])
    title = args.title
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
        group = "Selected configurations" if named else "Grid of configurations"
        sections += training_sections(group, grid_description(configs, rounds), grid_results)
    if large_results:
        cfg = large_results[0]["cfg"]
        left_out = ", ".join(name for name in all_names if name not in large_names)
        description = (
            f"{fmt_count(cfg.n_samples)} samples x {N_FEATURES} features, hidden layers "
            f"{cfg.cells()[1]}, {cfg.solver}, {cfg.dtype}, {cfg.epochs} epochs per fit, for "
            f"{', '.join(large_names)} only"
            + (f" ({left_out} would take too long on a CPU: left out)" if left_out else "")
            + f"; no peak memory. {rounds_text(rounds)}"
        )
        sections += training_sections("Large data", description, large_results)
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
        written = f"benchmarks/results/{out}.md"
        if not args.no_plot and (headline_results or grid_results):
            plot(headline_results + grid_results, RESULTS / f"{out}.png")
            written += " and .png"
        print(f"wrote {written}")
    else:
        print(text)


if __name__ == "__main__":
    main()
