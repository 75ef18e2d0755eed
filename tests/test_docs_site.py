"""The built documentation site: it reads fully offline and publishes nothing of the machine.

The site is built once (with warnings as errors, running the gallery) and every HTML page is
then checked: no resource (script, style sheet, image, font, frame) is loaded from outside
the site, every internal link resolves, no page shows an absolute file-system path, and no
page refers to files that are not in the repository. It needs the ``docs`` extra and skips
without it; the build takes a few tens of seconds.
"""

import os
import re
import subprocess
import sys
from html.parser import HTMLParser
from urllib.parse import unquote, urlsplit

import pytest
from _helpers import DOCS, ROOT, guide_pages

EXAMPLES = sorted(p.stem for p in (ROOT / "examples").glob("plot_*.py"))
NO_DOCS_EXTRA = "the docs extra is not installed"
# every test here shares one build: pytest-xdist keeps the group on one worker
pytestmark = pytest.mark.xdist_group("docs_site")

# The build machine's file system: the roots of absolute paths a build can leak.
ABSOLUTE_PATH = re.compile(
    r"(?<![\w.:/-])(?:/(?:work|tmp|root|home|Users|opt|usr|var|private)/[\w.-]+"
    r"|[A-Z]:\\[\w.-]+|file://)"
)
# Files that exist beside the repository (design notes) but not in it.
OUTSIDE_FILES = re.compile(r"\b(?:API\.md|STYLE\.md|ECOSYSTEM\.md|tutorial\.md|shared/design)\b")
# Attributes through which a page loads a resource (links with <a href> are not loads).
LOADING_ATTRIBUTES = {
    "script": ("src",),
    "img": ("src", "srcset"),
    "link": ("href",),
    "iframe": ("src",),
    "source": ("src", "srcset"),
    "video": ("src", "poster"),
    "audio": ("src",),
    "embed": ("src",),
    "object": ("data",),
}


class _PageReferences(HTMLParser):
    """The resources a page loads and the internal links it makes."""

    def __init__(self):
        super().__init__()
        self.loads, self.links = [], []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "link" and attrs.get("rel") in ("canonical", "alternate"):
            return
        for name in LOADING_ATTRIBUTES.get(tag, ()):
            if attrs.get(name):
                self.loads.extend(url.split()[0] for url in attrs[name].split(","))
        if tag == "a" and attrs.get("href"):
            self.links.append(attrs["href"])


def _is_external(url):
    parts = urlsplit(url)
    return bool(parts.scheme and parts.scheme not in ("data",)) or url.startswith("//")


def _local_target(page, url):
    """The file an internal URL of ``page`` points to, or None for external or anchor-only."""
    parts = urlsplit(url)
    if parts.scheme or url.startswith("//") or not parts.path:
        return None
    return (page.parent / unquote(parts.path)).resolve()


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    for name in ("sphinx", "sphinx_gallery", "numpydoc", "pydata_sphinx_theme", "myst_parser"):
        pytest.importorskip(name, reason=NO_DOCS_EXTRA)
    pytest.importorskip("matplotlib", reason=NO_DOCS_EXTRA)
    pytest.importorskip("pandas", reason=NO_DOCS_EXTRA)

    work = tmp_path_factory.mktemp("docs")
    out = work / "html"
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
        "MPLBACKEND": "Agg",
        "OPENBLAS_NUM_THREADS": "1",
        "OMP_NUM_THREADS": "1",
    }
    env.pop("SKNN_DOCS_INTERSPHINX", None)  # offline build
    command = [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-b", "html"]
    command += ["-d", str(work / "doctrees"), str(DOCS), str(out)]
    result = subprocess.run(
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=900, check=False
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-5000:]
    return out


def _pages(site):
    """Every HTML page of the site (``_static`` holds the theme's templates, not pages)."""
    return sorted(p for p in site.rglob("*.html") if "_static" not in p.relative_to(site).parts)


def test_docs_build_with_warnings_as_errors_and_render_the_gallery(site):
    for page in guide_pages():
        assert (site / page.with_suffix(".html")).exists(), page
    for name in ("ScratchMLPClassifier", "ScratchMLPRegressor", "plot.LossCurveDisplay"):
        assert (site / "generated" / f"sknn_scratch.{name}.html").exists()
    assert EXAMPLES, "no gallery examples found"
    for example in EXAMPLES:
        page = (site / "auto_examples" / f"{example}.html").read_text()
        figures = re.findall(rf'src="\.\./_images/(sphx_glr_{example}_\d+\.png)"', page)
        assert figures, f"{example} rendered no figure"
        for figure in figures:
            assert (site / "_images" / figure).stat().st_size > 10_000, figure


def test_every_resource_is_loaded_from_the_site_itself(site):
    outside = {}
    for page in _pages(site):
        parser = _PageReferences()
        parser.feed(page.read_text(encoding="utf-8"))
        external = [url for url in parser.loads if _is_external(url)]
        if external:
            outside[str(page.relative_to(site))] = external
    for sheet in site.rglob("*.css"):
        urls = re.findall(r"url\(\s*['\"]?([^'\")]+)", sheet.read_text(encoding="utf-8"))
        imports = re.findall(r"@import\s+['\"]([^'\"]+)", sheet.read_text(encoding="utf-8"))
        external = [url for url in urls + imports if _is_external(url)]
        if external:
            outside[str(sheet.relative_to(site))] = external
    assert not outside, f"resources loaded from outside the site: {outside}"


def test_every_internal_link_and_resource_resolves(site):
    broken = {}
    for page in _pages(site):
        parser = _PageReferences()
        parser.feed(page.read_text(encoding="utf-8"))
        missing = [
            url
            for url in parser.links + parser.loads
            if (target := _local_target(page, url)) is not None and not target.exists()
        ]
        if missing:
            broken[str(page.relative_to(site))] = missing
    assert not broken, f"links to files that are not in the site: {broken}"


def test_no_page_shows_a_file_system_path_or_a_file_outside_the_repository(site):
    found = {}
    for page in _pages(site):
        text = page.read_text(encoding="utf-8")
        hits = ABSOLUTE_PATH.findall(text) + OUTSIDE_FILES.findall(text)
        if hits:
            found[str(page.relative_to(site))] = sorted(set(hits))
    assert not found, f"pages showing the build machine or outside files: {found}"


def test_no_computation_time_pages(site):
    # they loaded jQuery and DataTables from CDNs and showed the build machine's timings
    assert not list(site.rglob("sg_execution_times.html"))
