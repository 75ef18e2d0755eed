"""Can the element-wise passes of a training step use the second thread? What it costs.

With two BLAS threads the matrix products of a training step run on both cores while its
element-wise passes (Adam's update, the relu and its derivative, the softmax) run on the
calling thread. This script times the largest of these passes, Adam's update over the
parameters of the headline network (100 features, hidden layers (256, 256), 10 classes:
94 218 parameters), done three ways:

* one thread: the compiled loop the training uses (``fused.adam_update``);
* Numba's parallel loop: the same loop with ``prange`` over the threads, under each Numba
  threading layer the machine has (OpenMP also with ``OMP_WAIT_POLICY=passive``, whose
  threads sleep at once instead of spinning while they wait for work);
* chunks on Python threads: each thread runs the compiled loop over its share of the
  parameters (the loop releases the GIL), the calling thread taking the first share.

Each way is timed alone, pass after pass, before the process has run any matrix product;
then right after a 256 x 256 by 256 x 256 product with the same number of BLAS threads, as
in a training step. There, the pass's cost is the time of product and pass together less
the product's, both measured in the same rounds. Each configuration and each dtype is
measured in a process of its own (a process chooses its layer once, and starts the BLAS's
threads at its first product). Times are medians over rounds of the mean over many
repetitions.

Usage::

    python benchmarks/threads.py              # two threads -> results/threads.md, ~1 min
    python benchmarks/threads.py --quick      # fewer repetitions, printed only
"""

import argparse
import itertools
import json
import os
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from _environment import header, load_average, publish

from sknn_scratch.core import fused

LAYER_SIZES = (100, 256, 256, 10)
N_PARAMS = sum(i * o + o for i, o in itertools.pairwise(LAYER_SIZES))
PRODUCT_SIZE = 256
CONFIGURATIONS = {  # name -> (Numba threading layer, further environment variables)
    "workqueue": ("workqueue", {}),
    "omp": ("omp", {}),
    "omp, OMP_WAIT_POLICY=passive": ("omp", {"OMP_WAIT_POLICY": "passive"}),
    "tbb": ("tbb", {}),
}
DTYPES = ("float64", "float32")
ONE_THREAD, CHUNKS = "one thread (the compiled loop)", "chunks on Python threads"


def adam_loop(params, grad, m_scaled, v_scaled, beta_1, beta_2, eps_scaled, step_scale):
    """``fused.adam_update``'s arithmetic with its loop spread over Numba's threads."""
    for i in fused.numba.prange(params.shape[0]):
        g = grad[i]
        m = m_scaled[i] * beta_1 + g
        v = v_scaled[i] * beta_2 + g * g
        m_scaled[i] = m
        v_scaled[i] = v
        params[i] -= m / (np.sqrt(v) + eps_scaled) * step_scale


def adam_arrays(dtype, rng):
    """Parameters, gradient and moments of the headline network, and Adam's constants."""
    params, grad, m_scaled = (rng.standard_normal(N_PARAMS).astype(dtype) for _ in range(3))
    v_scaled = np.abs(rng.standard_normal(N_PARAMS)).astype(dtype)
    constants = tuple(dtype.type(c) for c in (0.9, 0.999, 1e-8 / 0.0316, 1e-5))
    return (params, grad, m_scaled, v_scaled), constants


def chunked(pool, threads, arrays, constants):
    """One Adam pass split into ``threads`` shares, the first on the calling thread."""
    bounds = np.linspace(0, N_PARAMS, threads + 1).astype(int)
    shares = [tuple(a[lo:hi] for a in arrays) for lo, hi in itertools.pairwise(bounds)]

    def step():
        waiting = [pool.submit(fused.adam_update, *share, *constants) for share in shares[1:]]
        fused.adam_update(*shares[0], *constants)
        for future in waiting:
            future.result()

    return step


def mean_seconds(step, repetitions):
    started = time.perf_counter()
    for _ in range(repetitions):
        step()
    return (time.perf_counter() - started) / repetitions


def rotating(names, rounds):
    """``names`` once per round, starting one further along each round."""
    for r in range(rounds):
        yield from names[r % len(names) :] + names[: r % len(names)]


def costs(ways, product, repetitions, rounds):
    """Each way's median time alone and after ``product`` (microseconds)."""
    names = list(ways)
    alone, beside = {name: [] for name in names}, {name: [] for name in names}
    for name in rotating(names, rounds):  # before any product: no BLAS thread is running
        alone[name].append(mean_seconds(ways[name], repetitions))
    for name in rotating(names, rounds):
        both = mean_seconds(lambda step=ways[name]: (product(), step()), repetitions)
        beside[name].append(both - mean_seconds(product, repetitions))
    return {
        name: {
            "alone": 1e6 * statistics.median(alone[name]),
            "beside": 1e6 * statistics.median(beside[name]),
        }
        for name in names
    }


def child(name, dtype, threads, repetitions, rounds):
    """Measure every way in ``dtype`` in configuration ``name``; print them as JSON."""
    numba = fused.numba
    parallel = numba.njit(error_model="numpy", nogil=True, parallel=True)(adam_loop)
    numba.set_num_threads(threads)
    rng = np.random.default_rng(0)
    dtype = np.dtype(dtype)
    arrays, constants = adam_arrays(dtype, rng)
    a, b, out = (rng.standard_normal((PRODUCT_SIZE,) * 2).astype(dtype) for _ in range(3))
    with threadpool_limits(limits=threads, user_api="blas"):
        with ThreadPoolExecutor(threads - 1) as pool:
            ways = {
                ONE_THREAD: lambda: fused.adam_update(*arrays, *constants),
                f"Numba's parallel loop ({name})": lambda: parallel(*arrays, *constants),
                CHUNKS: chunked(pool, threads, arrays, constants),
            }
            for step in ways.values():  # compile, and start the threads, before timing
                step()
            results = costs(ways, lambda: np.matmul(a, b, out=out), repetitions, rounds)
    print(json.dumps({"layer": numba.threading_layer(), "results": results}))


def run_child(name, dtype, args):
    """The measurements in configuration ``name`` from a fresh process, or None where its
    threading layer is missing."""
    layer, variables = CONFIGURATIONS[name]
    command = [sys.executable, __file__, "--child", name, "--dtype", dtype]
    command += ["--threads", str(args.threads), "--repetitions", str(args.repetitions)]
    command += ["--rounds", str(args.rounds)]
    env = dict(os.environ, NUMBA_THREADING_LAYER=layer, **variables)
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    if done.returncode != 0:  # the layer's library is not installed
        return None
    measured = json.loads(done.stdout.strip().splitlines()[-1])
    return measured["results"] if measured["layer"] == layer else None


def table(by_layer):
    """One row per dtype and way: one thread and the chunks as the first configuration's
    processes measured them, then Numba's parallel loop in each configuration."""
    lines = [
        "| dtype | way | pass alone | after the product | vs one thread after the product |",
        "|---|---|---:|---:|---:|",
    ]
    layers = list(by_layer)
    for dtype in DTYPES:
        rows = dict(by_layer[layers[0]][dtype])
        for layer in layers[1:]:
            rows.update({k: v for k, v in by_layer[layer][dtype].items() if "parallel" in k})
        single = rows[ONE_THREAD]["beside"]
        for way, t in rows.items():
            lines.append(
                f"| {dtype} | {way} | {t['alone']:.1f} µs | {t['beside']:.1f} µs "
                f"| {t['beside'] / single:.2f}x |"
            )
    return lines


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repetitions", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--quick", action="store_true", help="fewer repetitions, print only")
    parser.add_argument("--out", default="threads", help="results/<out>.md")
    parser.add_argument("--child", choices=CONFIGURATIONS, help=argparse.SUPPRESS)
    parser.add_argument("--dtype", choices=DTYPES, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.threads < 2:
        parser.error("--threads must be 2 or more: the passes are shared between threads")
    if not fused.ENABLED:
        raise SystemExit("This benchmark needs Numba (the 'fast' extra).")
    if args.quick:
        args.repetitions, args.rounds = 50, 3
    if args.child:
        child(args.child, args.dtype, args.threads, args.repetitions, args.rounds)
        return
    load_at_start = load_average()
    started = time.perf_counter()
    by_layer = {}  # configuration -> dtype -> way -> {"alone", "beside"}
    for name in CONFIGURATIONS:
        measured = {dtype: run_child(name, dtype, args) for dtype in DTYPES}
        if all(measured.values()):
            by_layer[name] = measured
    if not by_layer:
        raise SystemExit("No Numba threading layer could run a parallel loop here.")
    command = "python benchmarks/threads.py" + "".join(
        f" {word}" for word in sys.argv[1:] if word != "--quick"
    )
    lines = [
        "# Element-wise passes on two threads",
        "",
        f"Measured with `{command}` on {time.strftime('%Y-%m-%d')}, in "
        f"{(time.perf_counter() - started) / 60:.1f} min.",
        "",
        *header(args.threads, load_at_start),
        f"- Numba threads: {args.threads}; configurations whose threading layer this "
        f"machine has: {'; '.join(by_layer)}",
        f"- Pass: Adam's update over {N_PARAMS:,} parameters (hidden layers (256, 256)); "
        f"product: {PRODUCT_SIZE} x {PRODUCT_SIZE} by {PRODUCT_SIZE} x {PRODUCT_SIZE}; "
        f"medians over {args.rounds} rounds of the mean over {args.repetitions} repetitions",
        "",
        "## Adam's update alone and after a matrix product",
        "",
        *table(by_layer),
    ]
    publish("\n".join(lines), None if args.quick else args.out)


if __name__ == "__main__":
    main()
