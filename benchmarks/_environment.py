"""What every benchmark's results file says about where it ran, and where the file goes.

Package versions, the machine's type, threads and load: nothing about files, paths or the
checkout, so a results file describes the package and the benchmark only.
"""

import os
import platform
from pathlib import Path

import numpy as np
import sklearn

import sknn_scratch
from sknn_scratch.core import fused

RESULTS = Path(__file__).resolve().parent / "results"


def publish(text, out) -> None:
    """Write ``text`` to ``results/<out>.md``, or print it when ``out`` is None (``--quick``)."""
    if out:
        RESULTS.mkdir(exist_ok=True)
        (RESULTS / f"{out}.md").write_text(text + "\n")
        print(f"wrote benchmarks/results/{out}.md")
    else:
        print(text)


def add_results_arguments(parser) -> None:
    """``--out NAME`` and ``--replot NAME`` for a benchmark that writes a table and a figure:
    where they go (``results/NAME.md`` and ``.png``), or which figure to draw again."""
    parser.add_argument("--out", default=None, help="results/<out>.md and .png")
    parser.add_argument(
        "--replot",
        metavar="NAME",
        help="only draw results/NAME.png again from the tables of results/NAME.md",
    )


def replot(name, draw) -> None:
    """Draw ``results/<name>.png`` again from ``results/<name>.md``: ``draw(markdown, path)``
    reads the tables it needs from the file's text and saves the figure to ``path``."""
    draw((RESULTS / f"{name}.md").read_text(), RESULTS / f"{name}.png")
    print(f"wrote benchmarks/results/{name}.png")


def markdown_rows(section) -> list:
    """The rows of the first Markdown table in a results file's ``section``, each a dict
    from column name to cell text (for redrawing a figure from its results file)."""
    lines = [line for line in section.splitlines() if line.startswith("|")]
    head = [cell.strip() for cell in lines[0].strip("|").split("|")]
    return [dict(zip(head, (c.strip() for c in line.strip("|").split("|")))) for line in lines[2:]]


def load_average() -> str:
    """The 1, 5 and 15 minute load averages, rounded."""
    return ", ".join(f"{value:.2f}" for value in os.getloadavg())


def numba_line(with_loops_note: bool = False) -> str:
    """Which Numba ran the compiled loops, if any."""
    if not fused.ENABLED:
        return "Numba not used"
    note = " (fused loops on)" if with_loops_note else ""
    return f"Numba {fused.numba.__version__}{note}"


def header(threads, load_at_start, numba=None) -> list:
    """The environment lines of a results file (Markdown bullets)."""
    return [
        f"- Packages: sknn_scratch {sknn_scratch.__version__}, Python "
        f"{platform.python_version()}, NumPy {np.__version__}, scikit-learn "
        f"{sklearn.__version__}, {numba or numba_line()}",
        f"- Machine: {platform.machine()}, {os.cpu_count()} logical CPUs",
        f"- Threads: {threads} BLAS thread{'s' if threads != 1 else ''} (threadpoolctl)",
        f"- Load average (1, 5, 15 min): {load_at_start} at the start and {load_average()} "
        "at the end",
    ]
