"""Misaligned input: ``partial_fit`` and one batch gather on aligned and misaligned ``X``.

An array built on a foreign buffer at an odd byte offset (``np.frombuffer``, as Dask, Ray and
shared memory hand arrays over) holds the same values as an aligned one, but its data is not
aligned to its item size (``X.flags.aligned`` is False). On such an array NumPy's
``np.take(X, index, axis=0, out=buffer, mode="clip")``, which gathers each mini-batch in the
training loop (``NumpyKernels.take_rows`` in ``sknn_scratch/core/kernels.py``), first copies
the whole array: a copy of ``X`` per batch. The training loop therefore makes one aligned copy
of a misaligned ``X`` per fit (``_aligned``). This script measures, side by side:

1. ``ScratchMLPRegressor(hidden_size=10, random_state=0).partial_fit(X, y)`` (one epoch of
   adam, batches of 200) on 200 000 x 50 float64, with ``X`` aligned and with the same values
   in a misaligned array; the ratio misaligned / aligned should be near 1. Both fits must give
   the same predictions. Peak MB is ``tracemalloc``'s peak during one extra, untimed fit (the
   input data excluded): the aligned copy of a misaligned ``X`` shows there.
2. What the fix avoids: one batch gather ``np.take(X, index, axis=0, out=buffer, mode="clip")``
   of 200 rows from each array, its time and peak MB (the misaligned one copies all of ``X``).

Timings are medians over interleaved rounds (the order alternates). BLAS threads are limited
with threadpoolctl (``--threads``, default 1; see ``throughput.py``).

Usage::

    python benchmarks/alignment.py            # ~15 s -> results/alignment.md
    python benchmarks/alignment.py --quick    # fewer rounds, prints only
"""

import argparse
import gc
import shlex
import statistics
import sys
import time
import tracemalloc
import warnings
from pathlib import Path

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from threadpoolctl import threadpool_limits

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from _environment import header, load_average, numba_line, publish

from sknn_scratch import ScratchMLPRegressor

BATCH = 200  # the regressor's batch_size="auto" on this data: min(200, n_samples)


def make_data(n_samples, n_features, seed=0):
    """``X`` (aligned), the same values in a misaligned array, and a linear target."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n_samples, n_features))
    y = X @ rng.standard_normal(n_features) + 0.1 * rng.standard_normal(n_samples)
    return X, misaligned_copy(X), y


def misaligned_copy(X):
    """The values of ``X`` in an array whose data starts one byte into a uint8 buffer."""
    buf = np.empty(X.nbytes + 1, dtype=np.uint8)
    buf[1:] = np.ascontiguousarray(X).view(np.uint8).ravel()
    X_misaligned = np.frombuffer(buf[1:].data, dtype=X.dtype).reshape(X.shape)
    assert not X_misaligned.flags.aligned
    assert np.array_equal(X_misaligned, X)
    return X_misaligned


def partial_fit(X, y):
    return ScratchMLPRegressor(hidden_size=10, random_state=0).partial_fit(X, y)


def peak_mb(function):
    """Peak MB traced by ``tracemalloc`` while ``function()`` runs (untimed)."""
    gc.collect()
    tracemalloc.start()
    try:
        function()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak / 2**20


def interleaved(runs, rounds):
    """Median seconds of each callable over ``rounds`` rounds, alternating the order."""
    names = list(runs)
    times = {name: [] for name in names}
    outputs = {}
    for r in range(rounds):
        for name in names[r % len(names) :] + names[: r % len(names)]:
            gc.collect()
            started = time.perf_counter()
            outputs[name] = runs[name]()
            times[name].append(time.perf_counter() - started)
    return {k: statistics.median(v) for k, v in times.items()}, outputs


def fit_table(X, X_misaligned, y, rounds):
    runs = {
        "aligned": lambda: partial_fit(X, y),
        "misaligned": lambda: partial_fit(X_misaligned, y),
    }
    times, models = interleaved(runs, rounds)
    rows = X[:2000]
    same = np.array_equal(models["aligned"].predict(rows), models["misaligned"].predict(rows))
    arrays = {"aligned": X, "misaligned": X_misaligned}
    lines = [
        "| X | `X.flags.aligned` | partial_fit (one epoch) | time / aligned's | peak MB |",
        "|---|---|---|---|---|",
    ]
    for name, run in runs.items():
        lines.append(
            f"| {name} | {arrays[name].flags.aligned} | {times[name]:.3f} s "
            f"| **{times[name] / times['aligned']:.2f}** | {peak_mb(run):.1f} |"
        )
    return "\n".join(lines), times, same


def gather_table(X, X_misaligned, rounds, repeats):
    """Seconds per gather of ``BATCH`` rows, each round timing ``repeats[name]`` gathers.

    The rows are consecutive slices of one random permutation, as in an epoch.
    """
    n_samples = X.shape[0]
    order = np.random.default_rng(1).permutation(n_samples)
    batches = [order[i : i + BATCH] for i in range(0, n_samples - BATCH + 1, BATCH)]
    buffer = np.empty((BATCH, X.shape[1]), dtype=X.dtype)
    arrays = {"aligned": X, "misaligned": X_misaligned}

    def gathers(array, count):
        def run():
            for index in batches[:count]:
                np.take(array, index, axis=0, out=buffer, mode="clip")

        return run

    for array in arrays.values():  # both gather the right rows
        gathers(array, 1)()
        assert np.array_equal(buffer, X[batches[0]])
    runs = {name: gathers(arrays[name], repeats[name]) for name in arrays}
    times, _ = interleaved(runs, rounds)
    per_gather = {name: times[name] / repeats[name] for name in arrays}
    lines = [
        f"| X | one gather of {BATCH} x {X.shape[1]} | time / aligned's "
        "| gathers timed per round | peak MB |",
        "|---|---|---|---|---|",
    ]
    for name, array in arrays.items():
        one = gathers(array, 1)
        lines.append(
            f"| {name} | {per_gather[name] * 1e6:,.1f} µs "
            f"| **{per_gather[name] / per_gather['aligned']:,.0f}** | {repeats[name]} "
            f"| {peak_mb(one):.1f} |"
        )
    return "\n".join(lines), per_gather, len(batches)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds, print only")
    parser.add_argument("--rounds", type=int, default=None, help="rounds (default 9, quick 3)")
    parser.add_argument("--threads", type=int, default=1, help="BLAS threads")
    parser.add_argument("--n-samples", type=int, default=200_000)
    parser.add_argument("--n-features", type=int, default=50)
    parser.add_argument("--out", default=None, help="results/<out>.md (default alignment)")
    args = parser.parse_args(argv)
    rounds = args.rounds or (3 if args.quick else 9)
    out = args.out or (None if args.quick else "alignment")
    repeats = {"aligned": 1000, "misaligned": 10 if args.quick else 20}

    warnings.filterwarnings("ignore", category=ConvergenceWarning)
    started = time.perf_counter()
    load_at_start = load_average()
    with threadpool_limits(limits=args.threads):
        X, X_misaligned, y = make_data(args.n_samples, args.n_features)
        # one-off costs before any timing: Numba loading its compiled loops, first allocations
        partial_fit(X[:2000], y[:2000])
        partial_fit(misaligned_copy(X[:2000]), y[:2000])
        fits, fit_times, same = fit_table(X, X_misaligned, y, rounds)
        print(fits, flush=True)
        gather, per_gather, n_batches = gather_table(X, X_misaligned, rounds, repeats)
        print(gather, flush=True)
    elapsed = time.perf_counter() - started

    n, d = X.shape
    avoided = n_batches * (per_gather["misaligned"] - per_gather["aligned"])
    # what was run, never where: the command as typed from the repository root
    command = shlex.join(["python", "benchmarks/alignment.py", *(argv or sys.argv[1:])])
    text = "\n\n".join(
        [
            "# Misaligned input",
            f"Measured with `{command}` on {time.strftime('%Y-%m-%d', time.gmtime())}, in "
            f"{elapsed / 60:.1f} min. Medians over {rounds} interleaved rounds.",
            "\n".join(header(args.threads, load_at_start, numba_line(with_loops_note=True))),
            f"The misaligned `X` holds the same values as the aligned one, in an array made by "
            f"`np.frombuffer(buf[1:].data, dtype=np.float64)` on a uint8 buffer `buf` "
            f"({X.nbytes / 2**20:.0f} MB of data). Peak MB is `tracemalloc`'s peak during one "
            "extra, untimed call (the input data excluded).",
            f"## `ScratchMLPRegressor(hidden_size=10, random_state=0).partial_fit(X, y)`, "
            f"{n} x {d} float64",
            fits,
            f"- Same predictions from both fits: **{'yes' if same else 'no'}**.",
            "## What the aligned copy avoids: "
            f'`np.take(X, index, axis=0, out=buffer, mode="clip")`, '
            f"{BATCH} random rows",
            gather,
            f"- One epoch gathers {n_batches} batches: without the aligned copy, a misaligned "
            f"`X` would add about {n_batches} x {per_gather['misaligned'] * 1e3:.1f} ms = "
            f"**{avoided:.1f} s** to each epoch (an estimate from the gathers above, against "
            f"{fit_times['aligned']:.2f} s for the whole aligned `partial_fit`).",
        ]
    )
    publish(text, out)


if __name__ == "__main__":
    main()
