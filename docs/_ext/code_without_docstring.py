"""``.. code-without-docstring:: sknn_scratch/core/network.py forward``.

Shows the source of one function or method (``Class.method``) of the repository, found with
:mod:`ast` rather than by line numbers, and without its docstring: the page around it already
explains what the code does, and the body is what the reader came to see. The path is
relative to the repository root.
"""

import ast
from pathlib import Path

from docutils import nodes
from sphinx.util.docutils import SphinxDirective


def _find(tree: ast.Module, dotted: str):
    node = tree
    for name in dotted.split("."):
        children = [
            child
            for child in ast.iter_child_nodes(node)
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
            and child.name == name
        ]
        if not children:
            return None
        node = children[0]
    return node


def source_without_docstring(path: Path, dotted: str) -> str:
    """The source of ``dotted`` in ``path``, dedented, without its docstring."""
    text = path.read_text(encoding="utf-8")
    node = _find(ast.parse(text), dotted)
    if node is None:
        raise ValueError(f"{dotted!r} is not defined in {path}")
    lines = text.splitlines()
    first = min([node.lineno] + [d.lineno for d in node.decorator_list])
    keep = list(range(first - 1, node.end_lineno))
    body = node.body
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        if isinstance(body[0].value.value, str):
            docstring = set(range(body[0].lineno - 1, body[0].end_lineno))
            keep = [i for i in keep if i not in docstring]
    selected = [lines[i] for i in keep]
    indent = min(len(line) - len(line.lstrip()) for line in selected if line.strip())
    return "\n".join(line[indent:] for line in selected)


class CodeWithoutDocstring(SphinxDirective):
    required_arguments = 2

    def run(self):
        root = Path(self.env.srcdir).parent
        path = root / self.arguments[0]
        self.env.note_dependency(str(path))
        try:
            code = source_without_docstring(path, self.arguments[1])
        except (OSError, ValueError) as exc:
            raise self.error(str(exc)) from exc
        block = nodes.literal_block(code, code, language="python")
        return [block]


def setup(app):
    app.add_directive("code-without-docstring", CodeWithoutDocstring)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
