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
from html import unescape as html_unescape
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


# -- What a reader sees ------------------------------------------------------------------------

# Phrases that tell the story of the package's development rather than describe it as it is.
DEVELOPMENT_HISTORY = re.compile(
    r"ours-before|--baseline|now requires|redesign|before the Array API|before callbacks"
    r"|what it did before|from earlier versions|Unreleased",
    flags=re.IGNORECASE,
)


class _Text(HTMLParser):
    """A page's visible text (scripts and style sheets left out), and its headings."""

    def __init__(self):
        super().__init__()
        self.parts, self.headings, self._skip, self._heading = [], [], 0, None

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self._skip += 1
        elif tag in ("h1", "h2", "h3", "h4"):
            self._heading = []

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self._skip -= 1
        elif tag in ("h1", "h2", "h3", "h4") and self._heading is not None:
            self.headings.append(" ".join("".join(self._heading).split()))
            self._heading = None

    def handle_data(self, data):
        if not self._skip:
            self.parts.append(data)
            if self._heading is not None:
                self._heading.append(data)

    @property
    def text(self):
        return " ".join(" ".join(self.parts).split())


def _read(page):
    parser = _Text()
    parser.feed(page.read_text(encoding="utf-8"))
    return parser


def _article(page):
    """The HTML of a page's article, without the theme's navigation, header and footer."""
    html = page.read_text(encoding="utf-8")
    start = html.index('<article class="bd-article"')
    return html[start : html.index("</article>", start)]


def test_no_page_tells_the_development_history(site):
    found = {}
    for page in _pages(site):
        hits = DEVELOPMENT_HISTORY.findall(_read(page).text)
        if hits:
            found[str(page.relative_to(site))] = sorted(set(hits))
    assert not found, f"pages telling how the package was developed: {found}"


def test_every_page_installs_from_the_source_directory(site):
    # the package is on no package index: an install "by name" would fail
    by_name = re.compile(r"pip install\s+[\"']?sknn[-_]scratch", flags=re.IGNORECASE)
    # _modules/ shows the package's source code as it is, error messages included
    found = [
        str(page.relative_to(site))
        for page in _pages(site)
        if "_modules" not in page.relative_to(site).parts and by_name.search(_read(page).text)
    ]
    assert not found, f"pages installing sknn_scratch from a package index: {found}"


def test_every_page_names_the_license_in_its_footer(site):
    unnamed = []
    for page in _pages(site):
        html = page.read_text(encoding="utf-8")
        footer = html[html.rfind("<footer") :]
        link = re.search(
            r'<p class="license">.*?<a href="([^"]+)">BSD-3-Clause license</a>', footer, re.S
        )
        if not link or _local_target(page, link[1]) not in (
            None,
            (site / "license.html").resolve(),
        ):
            unnamed.append(str(page.relative_to(site)))
    assert not unnamed, f"pages whose footer names no license: {unnamed}"
    text = _read(site / "license.html").text
    assert "BSD 3-Clause License" in text and "Redistribution and use" in text


def test_the_site_shows_the_current_version(site):
    import sknn_scratch

    version = sknn_scratch.__version__
    assert f"sknn_scratch {version}" in _read(site / "index.html").text  # the title
    assert f"new (version {version})" in _read(site / "index.html").text
    assert version in _read(site / "user_guide" / "install.html").text
    headings = _read(site / "changelog.html").headings
    assert any(heading.startswith(f"{version} (") for heading in headings), headings
    for page in ("index.html", "user_guide/install.html"):
        assert "0.1.0" not in _read(site / page).text, page


def test_the_landing_page_says_why_and_how_to_install_before_its_first_figure(site):
    article = _article(site / "index.html")
    first_figure = min(i for i in (article.find("<figure"), article.find("<img")) if i >= 0)
    parser = _Text()
    parser.feed(article[:first_figure])
    above = parser.text
    assert 'pip install ".[fast]"' in above
    assert re.search(r"scikit-learn 1\.9 or later", above)
    assert "Faster training" in above
    # and the reasons come before the first code block, near the top of the page
    assert above.index("Faster training") < above.index("pip install")


def test_headings_read_as_whole_phrases(site):
    # "Training on" read as a heading cut off in the middle
    dangling = re.compile(r"\b(?:on|of|to|for|with|in|at|by|and|the|a)$", flags=re.IGNORECASE)
    found = {}
    for page in _pages(site):
        bad = [h for h in _read(page).headings if dangling.search(h.rstrip("#¶ ").strip())]
        if bad:
            found[str(page.relative_to(site))] = bad
    assert not found, f"headings that end mid-phrase: {found}"


def test_wide_tables_are_marked_as_scrolling_and_the_comparison_stacks(site):
    # on a 400 px screen a table wider than the page scrolls in its box: the script marks it
    for page in _pages(site):
        if "pst-scrollable-table-container" in page.read_text(encoding="utf-8"):
            assert "scroll-cue.js" in page.read_text(encoding="utf-8"), page
    css = (site / "_static" / "custom.css").read_text(encoding="utf-8")
    assert re.search(r"@media \(max-width: 720px\) \{\s*table\.comparison", css)
    assert 'class="table comparison' in _article(site / "index.html") or re.search(
        r'<table class="[^"]*\bcomparison\b', _article(site / "index.html")
    )


def test_the_tutorial_page_gives_its_code_the_width(site):
    # The page shows the package's code, formatted at up to 99 characters (about 850 px): in
    # a column between the two sidebars (about 700 px at 1400 px) 11 excerpts were cut. The
    # page has no left sidebar on a wide screen, which leaves its column about 1080 px.
    html = (site / "user_guide" / "from_tutorial.html").read_text(encoding="utf-8")
    assert 'class="bd-sidebar-primary bd-sidebar hide-on-wide"' in html
    blocks = re.findall(
        r"<pre>(.*?)</pre>", _article(site / "user_guide" / "from_tutorial.html"), re.S
    )
    assert blocks
    widest = max(
        len(html_unescape(re.sub(r"<[^>]+>", "", line))) for b in blocks for line in b.splitlines()
    )
    assert widest <= 99, widest
