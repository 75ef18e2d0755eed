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
    if module_name == "sknn_scratch.plot":
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
