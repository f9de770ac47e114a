"""Compile stage: turn generated source into a live function.

The source is registered in ``linecache`` under a name derived from its own
content (deterministic, never random), so ``inspect.getsource``, tracebacks
and pdb all show the generated lines, and the differentiator can read the
function again to produce the next derivative.
"""

from __future__ import annotations

import hashlib
import linecache
import math
import types
from typing import Any

import numpy as np

__all__ = ["compile_function", "GENERATED_PREFIX"]

GENERATED_PREFIX = "<autodiff_ast "


def compile_function(source: str, name: str,
                     extra_globals: dict[str, Any] | None = None
                     ) -> types.FunctionType:
    """Compile ``source`` (one ``def name``) and return the function."""
    digest = hashlib.sha256(source.encode()).hexdigest()[:12]
    filename = f"{GENERATED_PREFIX}{name} {digest}>"
    lines = source.splitlines(keepends=True)
    # mtime None: linecache.checkcache never evicts an entry with no file.
    linecache.cache[filename] = (len(source), None, lines, filename)
    namespace: dict[str, Any] = {"np": np, "math": math,
                                 "__name__": "autodiff_ast.generated"}
    namespace.update(extra_globals or {})
    code = compile(source, filename, "exec")
    exec(code, namespace)
    function = namespace[name]
    assert isinstance(function, types.FunctionType)
    return function
