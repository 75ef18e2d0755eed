"""``.. benchmark-results:: throughput.md``: show a results file of ``benchmarks/results/``.

The benchmark scripts write Markdown (headings, bullet lists, pipe tables, images). Sphinx
here has no Markdown parser, so this directive turns the few constructs the scripts use into
HTML itself, and images into image nodes (so Sphinx copies them). HTML goes out as a raw
node, which cannot produce reStructuredText warnings, whatever the file contains.

When the file does not exist yet, a note says how to produce it, so the site builds with or
without benchmark results.
"""

import html
import os
import re
from pathlib import Path

from docutils import nodes
from docutils.parsers.rst import directives
from sphinx.util.docutils import SphinxDirective

_IMAGE = re.compile(r"^!\[(?P<alt>[^\]]*)\]\((?P<src>[^)\s]+)\)\s*$")
_LINK = re.compile(r"\[([^\]]+)\]\(([^)\s]+)\)")
_CODE = re.compile(r"`([^`]+)`")
_BOLD = re.compile(r"\*\*([^*]+)\*\*")


def inline_html(text: str) -> str:
    """Escape ``text`` and turn Markdown code spans, bold and links into HTML."""
    pieces = []
    for i, part in enumerate(_CODE.split(text)):
        if i % 2:
            pieces.append(f'<code class="literal">{html.escape(part)}</code>')
        else:
            part = html.escape(part)
            part = _BOLD.sub(r"<strong>\1</strong>", part)
            part = _LINK.sub(r'<a href="\2">\1</a>', part)
            pieces.append(part)
    return "".join(pieces)


def _cells(line: str) -> list:
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


def _table_html(lines: list) -> str:
    header, rows = _cells(lines[0]), [_cells(line) for line in lines[2:]]
    head = "".join(f"<th>{inline_html(c)}</th>" for c in header)
    body = "".join(
        "<tr>" + "".join(f"<td>{inline_html(c)}</td>" for c in row) + "</tr>" for row in rows
    )
    return (
        '<div class="pst-scrollable-table-container"><table class="table benchmark-table">'
        f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>"
    )


def markdown_blocks(text: str):
    """Yield ``("html", str)`` and ``("image", (alt, src))`` blocks of a Markdown text."""
    lines = text.splitlines()
    i = 0
    paragraph, bullets = [], []

    def flush():
        out = []
        if paragraph:
            out.append(("html", f"<p>{inline_html(' '.join(paragraph))}</p>"))
            paragraph.clear()
        if bullets:
            items = "".join(f"<li>{inline_html(b)}</li>" for b in bullets)
            out.append(("html", f"<ul>{items}</ul>"))
            bullets.clear()
        return out

    while i < len(lines):
        line = lines[i]
        stripped = line.strip()
        is_table = stripped.startswith("|") and i + 1 < len(lines)
        if is_table and re.match(r"^\|?\s*:?-{3,}", lines[i + 1].strip()):
            yield from flush()
            table = []
            while i < len(lines) and lines[i].strip().startswith("|"):
                table.append(lines[i])
                i += 1
            yield "html", _table_html(table)
            continue
        if not stripped:
            yield from flush()
        elif match := _IMAGE.match(stripped):
            yield from flush()
            yield "image", (match["alt"], match["src"])
        elif heading := re.match(r"^(#{1,6})\s+(.*)$", stripped):
            yield from flush()
            level = min(len(heading[1]) + 3, 6)  # below the page's own sections
            yield "html", f"<h{level}>{inline_html(heading[2])}</h{level}>"
        elif re.match(r"^[-*]\s+", stripped):
            if paragraph:
                yield from flush()
            bullets.append(re.sub(r"^[-*]\s+", "", stripped))
        elif bullets and line.startswith((" ", "\t")):
            bullets[-1] += " " + stripped
        else:
            if bullets:
                yield from flush()
            paragraph.append(stripped)
        i += 1
    yield from flush()


class BenchmarkResults(SphinxDirective):
    """Insert ``benchmarks/results/<file>`` (a Markdown file), or a note if it is missing."""

    required_arguments = 1
    option_spec = {"command": directives.unchanged}

    def run(self):
        results_dir = Path(self.env.srcdir).parent / "benchmarks" / "results"
        path = results_dir / self.arguments[0]
        # a missing dependency makes Sphinx read the page again at every build, so the
        # results appear as soon as the file does
        self.env.note_dependency(str(path))
        if not path.exists():
            return [self._missing_note(path)]
        out = []
        for kind, content in markdown_blocks(path.read_text(encoding="utf-8")):
            if kind == "html":
                out.append(nodes.raw("", content, format="html"))
            else:
                alt, src = content
                image = (path.parent / src).resolve()
                if image.exists():
                    self.env.note_dependency(str(image))
                    doc_dir = Path(self.env.doc2path(self.env.docname)).parent
                    uri = Path(os.path.relpath(image, doc_dir)).as_posix()
                    out.append(nodes.image(uri=uri, alt=alt))
        return out

    def _missing_note(self, path):
        command = self.options.get("command", "")
        note = nodes.note()
        text = f"No results yet: benchmarks/results/{path.name} does not exist."
        if command:
            text += " Produce it with"
        note += nodes.paragraph(text=text)
        if command:
            note += nodes.literal_block(command, command, language="bash")
        return note


def setup(app):
    app.add_directive("benchmark-results", BenchmarkResults)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
