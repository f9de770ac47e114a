"""``dotted``: how a call's function is written (``np.copy``), cheaply.

The passes over generated code ask of nearly every call which function it
is, by its text; ``ast.unparse`` prints the text through a whole printer
each time. Nearly every function is a name or a name's attribute
(``np.linalg.slogdet``), whose text is its parts joined by dots; anything
else is left to ``ast.unparse``, so the text is always the same.
"""

from __future__ import annotations

import ast

__all__ = ["dotted"]


def dotted(func: ast.expr) -> str:
    """``ast.unparse(func)``, spelled directly for a dotted name."""
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        parts = [func.attr]
        value = func.value
        while isinstance(value, ast.Attribute):
            parts.append(value.attr)
            value = value.value
        if isinstance(value, ast.Name):
            parts.append(value.id)
            return ".".join(reversed(parts))
    return ast.unparse(func)
