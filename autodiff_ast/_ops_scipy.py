"""SciPy's array functions that the array table has rows for, recognised
by object once the user's code has imported their module (importing SciPy
ourselves would cost every user 0.4 s): scipy.special's logsumexp,
softmax and log_softmax, scipy.linalg's Cholesky factors and triangular
solves and the solvers NumPy also has (``_ops_scipy_linalg``),
scipy.stats.multivariate_normal's density, and
scipy.integrate.trapezoid (NumPy's np.trapezoid, which it is).
"""

from __future__ import annotations

import functools
import sys

from ._ops_gaussian import (MULTIVARIATE_NORMAL_LOGPDF,
                            MULTIVARIATE_NORMAL_PDF)
from ._ops_reduce import LOG_SOFTMAX, LOGSUMEXP, SOFTMAX
from ._ops_scan import TRAPEZOID
from ._ops_cholesky import CHO_FACTOR, SCIPY_CHOLESKY
from ._ops_scipy_linalg import (SCIPY_DET, SCIPY_EIGH, SCIPY_EIGVALSH,
                                SCIPY_INV, SCIPY_NORM, SCIPY_SOLVE, SCIPY_SVD)
from ._ops_triangular import CHO_SOLVE, SOLVE_TRIANGULAR
from ._program import ArrayOp

__all__ = ["SCIPY_ROWS", "scipy_row", "scipy_spelling"]

# (module, attribute path) -> row.
SCIPY_ROWS: dict[tuple[str, str], ArrayOp] = {
    ("scipy.special", "logsumexp"): LOGSUMEXP,
    ("scipy.special", "softmax"): SOFTMAX,
    ("scipy.special", "log_softmax"): LOG_SOFTMAX,
    ("scipy.linalg", "solve_triangular"): SOLVE_TRIANGULAR,
    ("scipy.linalg", "cho_solve"): CHO_SOLVE,
    ("scipy.linalg", "cho_factor"): CHO_FACTOR,
    ("scipy.linalg", "cholesky"): SCIPY_CHOLESKY,
    ("scipy.linalg", "solve"): SCIPY_SOLVE,
    ("scipy.linalg", "inv"): SCIPY_INV,
    ("scipy.linalg", "det"): SCIPY_DET,
    ("scipy.linalg", "eigh"): SCIPY_EIGH,
    ("scipy.linalg", "eigvalsh"): SCIPY_EIGVALSH,
    ("scipy.linalg", "norm"): SCIPY_NORM,
    ("scipy.linalg", "svd"): SCIPY_SVD,
    ("scipy.stats", "multivariate_normal.logpdf"): MULTIVARIATE_NORMAL_LOGPDF,
    ("scipy.stats", "multivariate_normal.pdf"): MULTIVARIATE_NORMAL_PDF,
    ("scipy.integrate", "trapezoid"): TRAPEZOID,
}


def scipy_row(obj: object) -> ArrayOp | None:
    """The row of a SciPy array function, or None."""
    found = _found(obj)
    return found[1] if found else None


def scipy_spelling(obj: object) -> str | None:
    """How code calls a SciPy array function
    (``scipy.special.logsumexp``), or None."""
    found = _found(obj)
    return found[0] if found else None


def _found(obj: object) -> tuple[str, ArrayOp] | None:
    """By equality, not identity: a distribution's method is a new bound
    method at each access, equal to the others."""
    if "scipy" not in sys.modules:
        return None
    for (module_name, path), op in SCIPY_ROWS.items():
        module = sys.modules.get(module_name)
        if module is None:
            continue
        found = functools.reduce(lambda value, part: getattr(
            value, part, None), path.split("."), module)
        if found is not None and found == obj:
            return f"{module_name}.{path}", op
    return None
