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

from ._matrices import square_matrix, transpose
from ._ops_decomp import CHOLESKY
from ._ops_triangular import flag
from ._program import ArrayOp

__all__ = ["SCIPY_CHOLESKY", "CHO_FACTOR"]


def _factor(run: Any, a: Any, lower: Any, node: ast.AST,
            spelled: str) -> tuple[Any, bool]:
    """The factor, and whether it is the lower one; errors name the
    function the user called, not NumPy's."""
    lower = flag(run, lower, node, f"{spelled}'s lower")
    factor = CHOLESKY.lower(run, square_matrix(run, a, node, spelled),
                            node=node)
    return (factor if lower else transpose(run.program, factor)), lower


def _lower_cholesky(run: Any, a: Any, lower: Any = False,
                    overwrite_a: Any = False, check_finite: Any = True, *,
                    node: ast.AST) -> Any:
    return _factor(run, a, lower, node, "scipy.linalg.cholesky")[0]


def _lower_cho_factor(run: Any, a: Any, lower: Any = False,
                      overwrite_a: Any = False, check_finite: Any = True, *,
                      node: ast.AST) -> Any:
    return _factor(run, a, lower, node, "scipy.linalg.cho_factor")


SCIPY_CHOLESKY = ArrayOp("scipy cholesky", lower=_lower_cholesky)
CHO_FACTOR = ArrayOp("cho_factor", lower=_lower_cho_factor)
