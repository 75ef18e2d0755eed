"""The documentation's code: docstring and user-guide examples run, and the API reference
lists every public name.

The built site itself (warnings as errors, the gallery, offline reading) is checked in
``test_docs_site.py``.
"""

import doctest
import importlib
import pkgutil
import re
import warnings

import pytest
from _helpers import DOCS, guide_pages
from sklearn.exceptions import ConvergenceWarning

import sknn_scratch

DOCTEST_FLAGS = doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS


def _package_modules():
    names = [sknn_scratch.__name__]
    for info in pkgutil.walk_packages(sknn_scratch.__path__, prefix="sknn_scratch."):
        names.append(info.name)
    return sorted(names)


@pytest.mark.parametrize("module_name", _package_modules())
def test_docstring_examples_run(module_name):
    if module_name.startswith("sknn_scratch.plot"):
        matplotlib = pytest.importorskip("matplotlib")
        matplotlib.use("Agg")
    module = importlib.import_module(module_name)
    result = doctest.testmod(module, optionflags=DOCTEST_FLAGS, verbose=False)
    assert result.failed == 0, f"{result.failed} docstring example(s) of {module_name} failed"


@pytest.mark.parametrize(
    "page", [p for p in guide_pages() if ">>>" in (DOCS / p).read_text()], ids=str
)
def test_user_guide_examples_run_without_convergence_warnings(page):
    # What a reader copies from the guide should run as shown, without a warning.
    pytest.importorskip("pandas")
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        result = doctest.testfile(
            str(DOCS / page), module_relative=False, optionflags=DOCTEST_FLAGS, verbose=False
        )
    assert result.attempted > 0
    assert result.failed == 0, f"{result.failed} example(s) of {page} failed"


def test_api_reference_lists_every_public_name():
    import sknn_scratch.plot

    api = (DOCS / "api.rst").read_text()
    listed = set(re.findall(r"^\s{3}(\w+)\s*$", api, flags=re.MULTILINE))
    public = {name for name in sknn_scratch.__all__ if not name.startswith("_")}
    public |= set(sknn_scratch.plot.__all__)
    assert public <= listed, f"missing from docs/api.rst: {sorted(public - listed)}"


def _published_texts():
    """The sources of what a reader sees: the docs' pages, the examples and the README."""
    root = DOCS.parent
    paths = [DOCS / page for page in guide_pages()]
    paths += [*sorted((root / "examples").glob("*.py")), root / "README.md"]
    return {str(path.relative_to(root)): path.read_text(encoding="utf-8") for path in paths}


def test_installs_are_from_the_source_directory():
    # the package is on no package index: `pip install "sknn-scratch[fast]"` would fail
    by_name = re.compile(r"pip install\s+[\"']?sknn[-_]scratch", flags=re.IGNORECASE)
    found = [name for name, text in _published_texts().items() if by_name.search(text)]
    assert not found, f"installs from a package index in: {found}"


def _table(markdown, heading):
    """The rows of the Markdown table under ``## heading``, as lists of cell texts."""
    section = markdown.split(f"## {heading}\n", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("|")][2:]
    return [[cell.strip().strip("*") for cell in row.strip("|").split("|")] for row in rows]


def test_published_figures_are_those_of_the_results_files():
    # the landing page and the README quote the results files, not figures of an older run
    results = DOCS.parent / "benchmarks" / "results"
    throughput = (results / "throughput.md").read_text(encoding="utf-8")
    grid = [
        float(row[4].rstrip("x"))
        for row in _table(throughput, "Grid of configurations: speed-up and % of floor")
    ]
    headline = _table(throughput, "Headline network: speed-up and % of floor")
    predict = _table(throughput, "predict_proba on 1 000 000 rows")
    accuracy = (results / "accuracy.md").read_text(encoding="utf-8")
    total_ratio = _table(accuracy, "Fit times per data set")[-1][3]

    index = (DOCS / "index.rst").read_text(encoding="utf-8")
    readme = (DOCS.parent / "README.md").read_text(encoding="utf-8")
    low, high = f"{min(grid):.2f}", f"{max(grid):.2f}"
    assert f"{low} to {high} times" in index and f"{low}x to {high}x" in index
    assert f"{low}x to {high}x" in readme
    for row in headline:  # float64, then float32
        assert f"{float(row[4].rstrip('x')):.2f} times" in index
    assert f"peak memory {predict[0][6]} MB in float64, {predict[1][6]} MB in float32" in index
    assert f"{predict[0][5]} and {predict[1][5]} as fast" in " ".join(index.split())
    assert f"in {total_ratio} of its total fit time" in " ".join(index.split())
    memory = _table(throughput, "Headline network: accuracy and peak memory")  # MB in [8], [9]
    ours, theirs = [row[8] for row in memory], [row[9] for row in memory]
    flat_index = " ".join(index.split())
    assert f"a peak of {ours[0]} MB in float64 and {ours[1]} MB in float32" in flat_index
    assert f"{theirs[0]} MB in float64 and {theirs[1]} MB in float32 for the same" in flat_index
    grid_memory = _table(throughput, "Grid of configurations: accuracy and peak memory")
    assert all(float(row[8]) <= float(row[9]) for row in grid_memory)  # "at most scikit-learn's"


def test_changelog_figures_are_those_of_the_results_files():
    results = DOCS.parent / "benchmarks" / "results"
    changelog = " ".join((DOCS / "changelog.rst").read_text(encoding="utf-8").split())
    throughput = (results / "throughput.md").read_text(encoding="utf-8")
    floor = _table(throughput, "Headline network: speed-up and % of floor")  # % in [5], [6]
    assert f"take {floor[0][5]} (float64) and {floor[1][5]} (float32)" in changelog
    assert f"{floor[0][6]} and {floor[1][6]} without" in changelog
    memory = _table(throughput, "Headline network: accuracy and peak memory")
    assert f"{memory[0][8]} MB against {memory[0][9]} MB (float64)" in changelog
    assert f"{memory[1][8]} MB against {memory[1][9]} MB (float32)" in changelog
    small = (results / "small_data.md").read_text(encoding="utf-8")
    xor = _table(small, "The tutorial's XOR: 4 samples, 10 000 full-batch epochs (5 rounds)")
    assert f"takes {xor[1][3]} times the time of the tutorial's own code" in changelog
    speedups = [
        float(row[7].rstrip("x"))
        for row in _table(
            small,
            "Digits and breast cancer: one hidden layer, adam, batches of 200, 100 epochs "
            "(5 rounds)",
        )
    ]
    assert f"{min(speedups):.1f} to {max(speedups):.1f} times as fast" in changelog
    alignment = (results / "alignment.md").read_text(encoding="utf-8")
    ratio = re.search(r"\| misaligned \| [\d,.]+ µs \| \*\*(\d+)\*\*", alignment).group(1)
    assert f"which took {ratio} times as long" in changelog


def test_performance_page_figures_on_shared_passes_are_those_of_the_results_file():
    # "1.25 to 184.04 times as long ... in float64": the range of the ratio column of the
    # two-thread ways, per dtype, in benchmarks/results/threads.md
    threads = (DOCS.parent / "benchmarks" / "results" / "threads.md").read_text(encoding="utf-8")
    rows = _table(threads, "Adam's update alone and after a matrix product")
    page = " ".join((DOCS / "user_guide" / "performance.rst").read_text(encoding="utf-8").split())
    for dtype in ("float64", "float32"):
        shared = [
            float(r[4].rstrip("x")) for r in rows if r[0] == dtype and "one thread" not in r[1]
        ]
        assert len(shared) >= 2
        assert f"{min(shared):.2f} to {max(shared):.2f} times as long" in page


def test_results_files_on_the_performance_page_fit_it():
    # each results file the performance page includes becomes part of that one page: every
    # `##` heading needs an anchor of its own, and every table must fit a page's width
    page = (DOCS / "user_guide" / "performance.rst").read_text(encoding="utf-8")
    benchmarks = DOCS.parent / "benchmarks"
    included = re.findall(r"^\.\. include:: \.\./\.\./benchmarks/(\S+\.md)$", page, re.MULTILINE)
    figures = re.findall(r"^\.\. figure:: \.\./\.\./benchmarks/(\S+\.png)$", page, re.MULTILINE)
    assert "results/scaling.md" in included and "results/scaling.png" in figures
    missing = [name for name in included + figures if not (benchmarks / name).is_file()]
    headings = []
    for name in included:
        if name in missing:
            continue
        text = (benchmarks / name).read_text(encoding="utf-8")
        assert text.startswith("# "), f"{name} does not open with its # title"
        headings += re.findall(r"^## (.+)$", text, re.MULTILINE)
        widest = max(line.strip().strip("|").count("|") + 1 for line in text.splitlines()
                     if line.startswith("|"))  # fmt: skip
        assert widest <= 10, f"{name} has a table of {widest} columns"
    repeated = sorted({heading for heading in headings if headings.count(heading) > 1})
    assert not repeated, f"## headings that appear twice on the performance page: {repeated}"
    if missing:  # a benchmark added to the page before its full run
        pytest.skip(f"not measured yet: {missing}")
