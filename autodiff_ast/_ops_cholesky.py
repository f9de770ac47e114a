"""SciPy's Cholesky factors, recognised by ``_ops_scipy``:
``scipy.linalg.cholesky(a, lower=False)`` and ``scipy.linalg.cho_factor``,
whose pair (c, lower) ``cho_solve`` takes. Both are NumPy's factor
(``np.linalg.cholesky``, with its derivatives), transposed for an upper
one, SciPy's default.

cho_factor's other triangle holds whatever SciPy leaves there (the
input's entries, in practice; "arbitrary data", its docs say). Here it
holds zeros, so what reads only the factor's triangle (cho_solve,
np.diag) depends on nothing else, in value or in derivative.
"""

from __future__ import annotations

import ast
from typing import Any

from ._matrices import transpose
from ._ops_decomp import CHOLESKY
from ._ops_triangular import flag
from ._program import ArrayOp

__all__ = ["SCIPY_CHOLESKY", "CHO_FACTOR"]


def _lower_cholesky(run: Any, a: Any, lower: Any = False,
                    overwrite_a: Any = False, check_finite: Any = True, *,
                    node: ast.AST) -> Any:
    factor = CHOLESKY.lower(run, a, node=node)
    if flag(run, lower, node, "scipy.linalg.cholesky's lower"):
        return factor
    return transpose(run.program, factor)


def _lower_cho_factor(run: Any, a: Any, lower: Any = False,
                      overwrite_a: Any = False, check_finite: Any = True, *,
                      node: ast.AST) -> Any:
    lower = flag(run, lower, node, "scipy.linalg.cho_factor's lower")
    return _lower_cholesky(run, a, lower, node=node), lower


SCIPY_CHOLESKY = ArrayOp("scipy cholesky", lower=_lower_cholesky)
CHO_FACTOR = ArrayOp("cho_factor", lower=_lower_cho_factor)
