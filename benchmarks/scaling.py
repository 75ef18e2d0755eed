"""How the time of a training epoch grows with the number of samples and the hidden width.

Three implementations train the same MLP classifier (relu, adam, learning rate 0.001, alpha
1e-4, batch size 256, float64, ``tol=0`` so that every epoch runs) on ``make_classification``
data with 100 features and 10 classes:

* ``ours``: ``ScratchMLPClassifier`` (with its Numba-compiled loops when Numba is installed);
* ``sklearn``: scikit-learn's ``MLPClassifier``;
* ``torch`` (when PyTorch is installed): the same network and training loop written directly
  in PyTorch on the CPU (``throughput.py``'s loop: ``nn.Linear``/``ReLU``, ``cross_entropy``,
  ``torch.optim.Adam``, a ``randperm`` of the rows each epoch and one index per batch; the L2
  penalty ``alpha / 2 * ||W||^2 / batch`` as weight decay ``alpha / batch`` on the weights).

Two sweeps:

1. the number of samples, 100 to 1 000 000, with one hidden layer of 100 units;
2. the width of one hidden layer, 10 to 1024 units, with 10 000 samples.

The point they share (10 000 samples, 100 units) is measured once and shown in both. At each
point every implementation fits the same data from scratch in every round, in an order that
rotates from round to round; a fit runs enough epochs to take about a second on the benchmark
machine (one epoch at 1 000 000 samples). s/epoch is the wall time of the whole fit (for
``torch``: building the network and running its loop) divided by its epochs; the tables give
medians over the rounds (7, or 3 at 1 000 000 samples).

The building blocks (data, the three fits, the PyTorch loop, the warm-up before anything is
timed) are those of ``throughput.py``; the header of the results those of ``_environment.py``.
BLAS threads are set with threadpoolctl and PyTorch's with ``torch.set_num_threads``
(``--threads``, default 1: see ``throughput.py`` for why). scikit-learn runs as it does by
default, with SciPy's Array API support off, unless ``SCIPY_ARRAY_API`` is set in the
environment.

Usage::

    python benchmarks/scaling.py                  # ~2.5 min -> results/scaling.{md,png}
    python benchmarks/scaling.py --quick          # seconds, tiny sizes -> results/scaling_quick.*
    python benchmarks/scaling.py --threads 2 --out scaling_threads2
    python benchmarks/scaling.py --replot scaling # redraw results/scaling.png from scaling.md
"""

import os

# scikit-learn as a user runs it: SciPy reads this once, when first imported, and
# throughput.py (imported below) would otherwise switch it on for its ours-torch fits
os.environ.setdefault("SCIPY_ARRAY_API", "")

import argparse
import gc
import math
import shlex
import statistics
import sys
import time
import warnings
from pathlib import Path

from sklearn.exceptions import ConvergenceWarning
from threadpoolctl import threadpool_limits

sys.path.insert(0, str(Path(__file__).resolve().parent))
import throughput
from _environment import (
    RESULTS,
    add_results_arguments,
    header,
    load_average,
    markdown_rows,
    numba_line,
    publish,
    replot,
)
from throughput import (
    ALPHA,
    BATCH_SIZE,
    LEARNING_RATE,
    N_CLASSES,
    N_FEATURES,
    Config,
    fit_ours,
    fit_sklearn,
    fit_torch,
    fmt_count,
    markdown_table,
    rotated,
    torch,
    warm_up,
)

from sknn_scratch.core import fused

TITLE = "Time per epoch against data size and hidden width"
SAMPLES_HEADING = "Time per epoch against the number of samples"
WIDTH_HEADING = "Time per epoch against the hidden layer's width"

# the sweeps: full run, then --quick
SAMPLES = (100, 1_000, 10_000, 100_000, 1_000_000)
WIDTHS = (10, 32, 100, 316, 1024)
QUICK_SAMPLES = (100, 1_000, 5_000)
QUICK_WIDTHS = (10, 100, 1024)
WIDTH_OF_SAMPLES_SWEEP = 100  # the hidden layer of the samples sweep
SAMPLES_OF_WIDTH_SWEEP = {False: 10_000, True: 1_000}  # the width sweep's data, by --quick
FIT_SECONDS = {False: 1.0, True: 0.05}  # about how long one fit takes, by --quick
ROUNDS = {False: 7, True: 2}
LARGE_ROUNDS = 3  # rounds at 1 000 000 samples and more, where a fit is one epoch of seconds
LARGE = 1_000_000

FITS = {"ours": fit_ours, "sklearn": fit_sklearn}
if torch is not None:
    FITS["torch"] = fit_torch

# the chart's legend, in words: the tables keep the short names
PLOT_LABELS = {
    "ours": "sknn_scratch ScratchMLPClassifier",
    "sklearn": "scikit-learn MLPClassifier",
    "torch": "PyTorch (same network, hand-written loop)",
}
PLOT_STYLE = {"ours": ("C0", "o"), "sklearn": ("C1", "s"), "torch": ("C2", "^")}


def estimated_epoch_seconds(n_samples, width):
    """A rough time per epoch of the slowest implementation on the benchmark machine
    (x86_64, one thread): a fixed cost per mini-batch plus a cost per multiply-add of the
    epoch's matrix products (forward, weight gradient and delta of each layer)."""
    batches = math.ceil(n_samples / BATCH_SIZE)
    multiply_adds = 3 * n_samples * (N_FEATURES + N_CLASSES) * width
    return 3.5e-4 * batches + 7e-11 * multiply_adds


def epochs_for(n_samples, width, seconds):
    """Epochs enough for one fit to take about ``seconds`` (1 at the least)."""
    return max(1, round(seconds / estimated_epoch_seconds(n_samples, width)))


def points(quick):
    """The sweeps' (n_samples, width) points, each once, in the order they are measured:
    by n_samples (each data set made once), widths within it."""
    n_width = SAMPLES_OF_WIDTH_SWEEP[quick]
    samples = QUICK_SAMPLES if quick else SAMPLES
    widths = QUICK_WIDTHS if quick else WIDTHS
    found = {(n, WIDTH_OF_SAMPLES_SWEEP) for n in samples} | {(n_width, w) for w in widths}
    return sorted(found)


def measure(n_samples, width, epochs, rounds, X, y):
    """Median s/epoch of each implementation at one point, fits interleaved."""
    cfg = Config(n_samples, (width,), "adam", "float64", epochs)
    names = list(FITS)
    times = {name: [] for name in names}
    for r in range(rounds):
        for name in rotated(names, r):
            gc.collect()
            started = time.perf_counter()
            FITS[name](cfg, X, y, r)
            times[name].append((time.perf_counter() - started) / epochs)
    return {
        "n_samples": n_samples,
        "width": width,
        "epochs": epochs,
        "rounds": rounds,
        "time": {name: statistics.median(t) for name, t in times.items()},
    }


# ---------------------------------------------------------------------- reporting


def fmt_seconds(seconds):
    """Three significant figures: ``0.183 ms``, ``79.1 ms``, ``1.62 s``."""
    if seconds >= 1:
        return f"{seconds:.2f} s"
    milliseconds = seconds * 1e3
    decimals = max(0, 2 - math.floor(math.log10(milliseconds))) if milliseconds > 0 else 0
    return f"{milliseconds:.{decimals}f} ms"


def parse_seconds(text):
    number, unit = text.split()
    return float(number) * {"ms": 1e-3, "s": 1.0}[unit]


def speed_up(times, other):
    """``other``'s s/epoch over ours', or "-" where ``other`` did not run."""
    return f"{times[other] / times['ours']:.2f}x" if other in times else "-"


def sweep_table(results):
    names = list(results[0]["time"])
    others = [n for n in ("sklearn", "torch") if n in names]
    head = ["n_samples", "hidden", "epochs", "rounds", *(f"{n} s/epoch" for n in names)]
    head += ["ours µs/sample", *(f"speed-up vs {n}" for n in others)]
    rows = []
    for res in results:
        t = res["time"]
        row = [fmt_count(res["n_samples"]), f"({res['width']},)"]
        row += [str(res["epochs"]), str(res["rounds"]), *(fmt_seconds(t[n]) for n in names)]
        row += [f"{t['ours'] / res['n_samples'] * 1e6:.2f}"]
        row += [speed_up(t, n) for n in others]
        rows.append(row)
    return markdown_table(head, rows)


def sweeps(results, quick):
    """The results of the samples sweep and of the width sweep, each in its order."""
    n_width = SAMPLES_OF_WIDTH_SWEEP[quick]
    by_samples = [r for r in results if r["width"] == WIDTH_OF_SAMPLES_SWEEP]
    by_width = [r for r in results if r["n_samples"] == n_width]
    return (
        sorted(by_samples, key=lambda r: r["n_samples"]),
        sorted(by_width, key=lambda r: r["width"]),
    )


def environment(threads, load_at_start):
    """The results' header bullets: _environment's, and what this benchmark adds."""
    torch_version = f"PyTorch {torch.__version__}" if torch else "PyTorch not installed"
    lines = header(threads, load_at_start, numba=f"{torch_version}, {numba_line()}")
    if torch:
        plural = "s" if threads != 1 else ""
        torch_threads = f" and {threads} PyTorch thread{plural} (`torch.set_num_threads`)"
        lines = [line + torch_threads if line.startswith("- Threads:") else line for line in lines]
    ours = "`ours` is `ScratchMLPClassifier`" + (
        " with its Numba-compiled loops" if fused.ENABLED else " (NumPy only)"
    )
    implementations = [ours, "`sklearn` is scikit-learn's `MLPClassifier`"]
    if torch:
        implementations.append(
            "`torch` is the same network and training loop written in PyTorch on the CPU "
            "(`torch.optim.Adam`, a `randperm` of the rows each epoch, the L2 penalty as "
            f"weight decay alpha / {BATCH_SIZE} on the weights)"
        )
    else:
        implementations.append("PyTorch is not installed, so `torch` is left out")
    lines.append(f"- Implementations: {'; '.join(implementations)}")
    lines.append(
        f"- Training: `make_classification` data with {N_FEATURES} features and {N_CLASSES} "
        f"classes, float64; one hidden layer, relu, adam, learning rate "
        f"{LEARNING_RATE['adam']}, alpha={ALPHA}, batch size {BATCH_SIZE}, `tol=0` so that "
        "every epoch runs; SciPy's Array API support "
        + (
            f"on (`SCIPY_ARRAY_API={os.environ['SCIPY_ARRAY_API']}`)"
            if os.environ.get("SCIPY_ARRAY_API")
            else "off, as by default"
        )
    )
    return lines


def reading(results, names, fit_seconds):
    """The paragraph under the header: how to read the tables."""
    others = [n for n in ("sklearn", "torch") if n in names]
    speed = " and ".join(f"*speed-up vs {n}*" for n in others)
    smallest = min(r["n_samples"] for r in results)
    return (
        "s/epoch is the wall time of a whole fit"
        + (" (for `torch`, building the network and running its loop)" if "torch" in names else "")
        + " divided by its epochs: the median over rounds in which every "
        "implementation fits the same data from scratch, in an order that rotates from round "
        "to round. The epochs of a fit come from a rough estimate of an epoch's cost (a fixed "
        f"cost per mini-batch and one per multiply-add), for fits of about {fit_seconds:g} s, "
        "and are one where a single epoch takes longer. *ours µs/sample* is ours' s/epoch "
        f"over the number of samples; {speed} "
        + ("are the other implementation's" if len(others) > 1 else "is its")
        + " s/epoch over ours' (above 1, ours is faster)."
        + (
            f" With {fmt_count(smallest)} samples an epoch is a single mini-batch of all of them."
            if smallest <= BATCH_SIZE
            else ""
        )
    )


def published_command(argv):
    return shlex.join(["python", "benchmarks/scaling.py", *argv])


def markdown(results, quick, command, elapsed, setup):
    by_samples, by_width = sweeps(results, quick)
    names = list(results[0]["time"])
    title = TITLE + (" (quick run: tiny sizes, few rounds)" if quick else "")
    n_width = SAMPLES_OF_WIDTH_SWEEP[quick]
    shared = (
        f" The row of {WIDTH_OF_SAMPLES_SWEEP} units is the one measured for the samples sweep."
        if any(r["width"] == WIDTH_OF_SAMPLES_SWEEP for r in by_width)
        else ""
    )
    sections = [
        f"# {title}",
        f"Measured with `{command}` on {time.strftime('%Y-%m-%d', time.gmtime())}, "
        f"in {elapsed / 60:.1f} min.",
        "\n".join(setup),
        reading(results, names, FIT_SECONDS[quick]),
        f"## {SAMPLES_HEADING}",
        f"One hidden layer of {WIDTH_OF_SAMPLES_SWEEP} units; {N_FEATURES} features, "
        f"{math.ceil(by_samples[-1]['n_samples'] / BATCH_SIZE)} mini-batches per epoch at "
        f"{fmt_count(by_samples[-1]['n_samples'])} samples.",
        sweep_table(by_samples),
        f"## {WIDTH_HEADING}",
        f"{fmt_count(n_width)} samples, {math.ceil(n_width / BATCH_SIZE)} mini-batches per "
        f"epoch; one hidden layer of the width given.{shared}",
        sweep_table(by_width),
    ]
    return "\n\n".join(sections)


def results_from_markdown(text):
    """The two sweeps of a results file, as ``measure`` returns them, to plot them again."""
    found = {}
    for section in text.split("\n## ")[1:]:
        heading = section.splitlines()[0]
        if heading not in (SAMPLES_HEADING, WIDTH_HEADING):
            continue
        rows = []
        for cells in markdown_rows(section):
            times = {
                column.removesuffix(" s/epoch"): parse_seconds(value)
                for column, value in cells.items()
                if column.endswith(" s/epoch") and value not in ("", "-")
            }
            rows.append(
                {
                    "n_samples": int(cells["n_samples"].replace(" ", "")),
                    "width": int(cells["hidden"].strip("(,)")),
                    "time": times,
                }
            )
        found[heading] = rows
    return found[SAMPLES_HEADING], found[WIDTH_HEADING]


def plot(by_samples, by_width, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.6))
    panels = (
        (left, by_samples, "n_samples", "number of training samples"),
        (right, by_width, "width", "units in the hidden layer"),
    )
    for ax, rows, key, xlabel in panels:
        names = [n for n in PLOT_LABELS if any(n in r["time"] for r in rows)]
        for name in names:
            xs = [r[key] for r in rows if name in r["time"]]
            ys = [r["time"][name] for r in rows if name in r["time"]]
            color, marker = PLOT_STYLE[name]
            ax.plot(xs, ys, marker=marker, color=color, label=PLOT_LABELS[name])
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel(xlabel)
        ax.set_ylabel("seconds per epoch (lower is better)")
        ax.grid(True, which="major", linewidth=0.5, alpha=0.5)
    left.set_title(f"Against the number of samples ({by_samples[0]['width']} hidden units)")
    right.set_title(f"Against the width ({fmt_count(by_width[0]['n_samples'])} samples)")
    handles, labels = left.get_legend_handles_labels()
    fig.suptitle(
        f"Time per training epoch: MLP classifier, {N_FEATURES} features, {N_CLASSES} "
        f"classes, adam, batch {BATCH_SIZE}, float64"
    )
    fig.legend(handles, labels, loc="lower center", ncol=len(labels), frameon=False)
    fig.tight_layout(rect=(0, 0.07, 1, 1))
    fig.savefig(path, dpi=110)
    plt.close(fig)


# ---------------------------------------------------------------------- main


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], allow_abbrev=False)
    parser.add_argument("--quick", action="store_true", help="tiny sizes and few rounds")
    parser.add_argument("--threads", type=int, default=1, help="BLAS and PyTorch threads")
    add_results_arguments(parser)
    args = parser.parse_args(argv)
    if args.replot:
        replot(args.replot, lambda text, path: plot(*results_from_markdown(text), path))
        return
    out = args.out or ("scaling_quick" if args.quick else "scaling")
    if torch is None:
        print("PyTorch is not installed: torch is left out", flush=True)
    else:
        torch.set_num_threads(args.threads)
    warnings.filterwarnings("ignore", category=ConvergenceWarning)
    # 100 samples: both estimators say that the batch size is clipped to the data
    warnings.filterwarnings("ignore", message=".*batch_size", category=UserWarning)

    plan = [
        (n, w, epochs_for(n, w, FIT_SECONDS[args.quick]))
        for n, w in points(args.quick)
    ]  # fmt: skip
    started = time.perf_counter()
    load_at_start = load_average()
    results = []
    with threadpool_limits(limits=args.threads):
        warm_up(list(FITS))  # one-off costs (Numba loading its loops, PyTorch) before timing
        data_for = None
        for n_samples, width, epochs in plan:
            if data_for != n_samples:
                X = y = None  # free the previous data first
                X, y, _, _ = throughput.make_data(n_samples, "float64")
                data_for = n_samples
            rounds = LARGE_ROUNDS if n_samples >= LARGE else ROUNDS[args.quick]
            results.append(measure(n_samples, width, epochs, rounds, X, y))
            times = ", ".join(f"{n} {fmt_seconds(t)}" for n, t in results[-1]["time"].items())
            print(f"{fmt_count(n_samples)} x ({width},), {epochs} epochs: {times}", flush=True)
        setup = environment(args.threads, load_at_start)
    elapsed = time.perf_counter() - started

    command = published_command(argv if argv is not None else sys.argv[1:])
    publish(markdown(results, args.quick, command, elapsed, setup), out)
    plot(*sweeps(results, args.quick), RESULTS / f"{out}.png")
    print(f"wrote benchmarks/results/{out}.png")


if __name__ == "__main__":
    main()
