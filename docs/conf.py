"""Sphinx configuration of the sknn_scratch documentation.

Build it (offline, warnings as errors) from the repository root with::

    sphinx-build -W -b html docs docs/_build/html

Set ``SKNN_DOCS_INTERSPHINX=1`` to link NumPy, SciPy, scikit-learn and matplotlib names to
their documentation; that fetches inventories from the internet, so it is off by default.
"""

import os
import re
import sys
from pathlib import Path

# One BLAS thread for the examples, set before NumPy is first imported: their networks are
# small, and on a busy 2-core machine BLAS threads fight each other and can be 10x slower.
for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")
# The GPU example trains on torch tensors through scikit-learn's Array API support, which
# SciPy reads from this variable when it is first imported: before sknn_scratch imports it.
os.environ.setdefault("SCIPY_ARRAY_API", "1")

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
# The package of this checkout, not an installed copy, is documented and runs the examples.
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(DOCS / "_ext"))

import sknn_scratch

project = "sknn_scratch"
author = "sknn_scratch developers"
copyright = "2026, sknn_scratch developers"
version = release = sknn_scratch.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.intersphinx",
    "sphinx.ext.viewcode",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
    "myst_parser",  # the benchmark scripts write Markdown; pages include it as it is
]

# Markdown headings get HTML anchors (and so entries in the page's table of contents)
myst_heading_anchors = 3
myst_enable_extensions = ["colon_fence"]

templates_path = ["_templates"]
# sg_execution_times.rst: computation-time pages an older build may have left (see below)
exclude_patterns = [
    "_build",
    "**.ipynb_checkpoints",
    "auto_examples/*.ipynb",
    "sg_execution_times.rst",
    "**/sg_execution_times.rst",
]
default_role = "literal"
pygments_style = "sphinx"

# -- API reference -------------------------------------------------------------------------

autosummary_generate = True
autodoc_default_options = {"members": True, "inherited-members": True}
autodoc_typehints = "none"  # numpydoc already gives every parameter's type
numpydoc_show_class_members = False  # the autosummary class template lists them
numpydoc_class_members_toctree = False
numpydoc_attributes_as_param_list = False
numpydoc_xref_param_type = False


def is_metadata_routing(name: str) -> bool:
    """scikit-learn's metadata-routing plumbing, which every estimator inherits."""
    return name == "get_metadata_routing" or (
        name.startswith("set_") and name.endswith("_request")
    )


def skip_metadata_routing(app, what, name, obj, skip, options):
    """Leave the metadata-routing methods out of the API reference.

    They are scikit-learn's, documented there, and their docstrings point at pages of
    scikit-learn's user guide that do not exist in this site.
    """
    return True if is_metadata_routing(name) else skip


_SPHINX_REF = re.compile(r":ref:`(?:([^`<]*?)\s*<[^>`]+>|([^`]+))`")
_MATH_ROLE = re.compile(r":math:`([^`]+)`")
_LATEX_AS_TEXT = [
    (re.compile(r"\\frac\{([^}]*)\}\{([^}]*)\}"), r"\1 / \2"),
    (re.compile(r"\^2"), "²"),
]


def math_as_text(latex: str) -> str:
    """The little LaTeX of scikit-learn's inherited docstrings (``R^2``, ``\\frac``) as text."""
    for pattern, replacement in _LATEX_AS_TEXT:
        latex = pattern.sub(replacement, latex)
    return latex


def unlink_sklearn_refs(app, what, name, obj, options, lines):
    """Turn math and ``:ref:`` links of docstrings inherited from scikit-learn into text.

    ``score`` and ``get_metadata_routing`` come from scikit-learn. The regressor's ``score``
    writes R² in LaTeX, which MathJax would render from a CDN: it is written as text, so the
    site reads fully offline. The docstrings also link to sections of scikit-learn's user
    guide; without intersphinx (offline) those links cannot resolve, and their text is kept.
    """
    if not getattr(obj, "__module__", "").startswith("sklearn."):
        return
    # math as text: the site reads fully offline, with no MathJax from a CDN
    lines[:] = [_MATH_ROLE.sub(lambda m: f"*{math_as_text(m[1])}*", line) for line in lines]
    if intersphinx_mapping:
        return
    lines[:] = [_SPHINX_REF.sub(lambda m: m[1] or f"``{m[2]}``", line) for line in lines]


def setup(app):
    app.connect("autodoc-skip-member", skip_metadata_routing)
    app.connect("autodoc-process-docstring", unlink_sklearn_refs)


# -- Offline by default --------------------------------------------------------------------
# intersphinx cannot fetch its inventories offline and the warning it gives then cannot be
# suppressed, so the mapping is only filled in on request.

intersphinx_mapping = {}
if os.environ.get("SKNN_DOCS_INTERSPHINX") == "1":
    intersphinx_mapping = {
        "python": ("https://docs.python.org/3", None),
        "numpy": ("https://numpy.org/doc/stable", None),
        "scipy": ("https://docs.scipy.org/doc/scipy", None),
        "sklearn": ("https://scikit-learn.org/stable", None),
        "matplotlib": ("https://matplotlib.org/stable", None),
    }

# -- Gallery -------------------------------------------------------------------------------

sphinx_gallery_conf = {
    "examples_dirs": str(ROOT / "examples"),
    "gallery_dirs": "auto_examples",
    # Only plot_*.py files are gallery examples; other scripts in examples/ (xor.py,
    # quickstart.py) are plain command-line scripts and stay out of the gallery.
    "ignore_pattern": r"^(?!plot_)",
    "within_subsection_order": "gallery_order.ExampleOrder",
    "doc_module": ("sknn_scratch",),
    "backreferences_dir": "generated/backreferences",
    "image_scrapers": ("matplotlib",),
    "remove_config_comments": True,
    "download_all_examples": False,
    "show_memory": False,
    "min_reported_time": 1,
    # no "Computation times" pages: they load jQuery and DataTables from CDNs, and a build
    # machine's timings say nothing about the package
    "write_computation_times": False,
    "abort_on_example_error": True,
}


# -- HTML ----------------------------------------------------------------------------------

_PAGES_WITH_TOC = [
    "quickstart", "from_tutorial", "choosing", "early_stopping", "monitoring", "pipelines",
    "gpu", "scaling", "deploying",
]  # fmt: skip
html_theme = "pydata_sphinx_theme"
# "On this page" of a class lists its methods as fit(), predict_proba() ... rather than the
# class-qualified names, which the sidebar's width cut to "ScratchMLPClassifier.predict_"
toc_object_entries_show_parents = "hide"
html_title = f"sknn_scratch {release}"
html_static_path = ["_static"]
html_css_files = ["custom.css"]
# marks the tables that scroll sideways on a narrow screen (see the script)
html_js_files = ["scroll-cue.js"]
html_show_sourcelink = False
html_theme_options = {
    "navbar_align": "left",
    "show_toc_level": 2,
    "navigation_with_keys": False,
    "header_links_before_dropdown": 6,
    # an in-page table of contents on the long pages; the examples' code and the benchmark
    # tables need the width more
    "secondary_sidebar_items": {
        **{f"user_guide/{page}": ["page-toc"] for page in _PAGES_WITH_TOC},
        "generated/*": ["page-toc"],
    },
    "footer_start": ["copyright", "license"],
    "footer_end": ["sphinx-version"],
}
# The tutorial page shows the package's code, formatted at 99 characters: without the left
# sidebar its column is wide enough for the excerpts (the top bar still lists every page).
html_sidebars = {
    "index": [],
    "install": [],
    "changelog": [],
    "license": [],
    "user_guide/from_tutorial": [],
}
html_context = {"default_mode": "light"}
