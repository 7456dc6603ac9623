"""Where things are in the user's source: the class a decorator line belongs to, field lines.

Decorators know only the line of the ``@decorator`` (from the calling frame); this finds the
decorated definition in the file's AST, so diagnostics point at the right class and field even
when two classes share a name. Parsed files are cached by (path, mtime, size), so an edited file
is parsed again.
"""

from __future__ import annotations

import ast
import functools
import os

__all__ = ["DefinitionLines", "definition_lines"]


class DefinitionLines:
    def __init__(self, line: int, members: dict[str, int]) -> None:
        self.line = line  # the `class`/`def` line
        self.members = members  # annotated attribute -> its line


@functools.lru_cache(maxsize=128)
def _parse(path: str, mtime_ns: int, size: int) -> ast.Module | None:
    try:
        with open(path, encoding="utf-8") as handle:
            return ast.parse(handle.read(), filename=path)
    except (OSError, SyntaxError, ValueError):
        return None


def definition_lines(path: str, decorator_line: int) -> DefinitionLines | None:
    """The class or function whose decorator list covers ``decorator_line``."""
    try:
        stat = os.stat(path)
    except OSError:
        return None
    tree = _parse(path, stat.st_mtime_ns, stat.st_size)
    if tree is None:
        return None
    for node in ast.walk(tree):
        if not isinstance(node, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        if any(d.lineno <= decorator_line <= (d.end_lineno or d.lineno) for d in node.decorator_list):
            members = {
                item.target.id: item.lineno
                for item in getattr(node, "body", [])
                if isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name)
            }
            return DefinitionLines(node.lineno, members)
    return None
