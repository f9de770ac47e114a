"""scipy.linalg's general solvers and factorizations that NumPy also has,
recognised by ``_ops_scipy``: ``solve``, ``inv``, ``det``, ``eigh``,
``eigvalsh``, ``norm`` and ``svd``. Each is NumPy's row (the same value,
and its derivatives), on the matrix SciPy reads.

That matrix is not always the argument: ``assume_a="sym"`` (or "her",
"pos") reads one triangle and takes the other as its mirror; "upper
triangular", "lower triangular", "diagonal" and "tridiagonal" read only
those entries. The derivative of what SciPy computes is then zero in the
entries it ignores, as JAX's ``jax.scipy.linalg`` gives it, so the matrix
is built from the entries read before NumPy's row solves with it.
"""

from __future__ import annotations

import ast
from typing import Any

from ._matrices import square_matrix, transpose
from ._ops_decomp import DET, SOLVE
from ._ops_eigen import EIGH, EIGVALSH
from ._ops_inverse import INV
from ._ops_norm import NORM
from ._ops_shape import TRIL, TRIU
from ._ops_svd import SVD
from ._ops_triangular import flag
from ._program import ArrayOp

__all__ = ["SCIPY_SOLVE", "SCIPY_INV", "SCIPY_DET", "SCIPY_EIGH",
           "SCIPY_EIGVALSH", "SCIPY_NORM", "SCIPY_SVD"]

# assume_a's spellings, by the entries of ``a`` SciPy reads.
_MIRRORED = {"sym", "symmetric", "her", "hermitian", "pos",
             "positive definite"}
_GENERAL = {None, "gen", "general"}
# (lowest, highest) diagonal read, 0 the main one.
_BANDS = {"upper triangular": (0, None), "lower triangular": (None, 0),
          "diagonal": (0, 0), "tridiagonal": (-1, 1)}


def _as_numpy(op: ArrayOp, run: Any, *args: Any, node: ast.AST) -> Any:
    """``op`` lowered as NumPy's row lowers it (each row used here has
    its lowering)."""
    assert op.lower is not None
    return op.lower(run, *args, node=node)


def _triangle(run: Any, matrix: Any, op: ArrayOp, k: int,
              node: ast.AST) -> Any:
    return _as_numpy(op, run, matrix, k, node=node)


def _read(run: Any, a: Any, assume_a: Any, lower: Any, node: ast.AST,
          spelled: str) -> Any:
    """The matrix SciPy solves with for ``assume_a``: ``a``, a triangle
    and its mirror, or a band of ``a``."""
    matrix = square_matrix(run, a, node, spelled)
    if not isinstance(assume_a, (str, type(None))):
        raise run.error(node, f"{spelled}'s assume_a must be a string "
                              f"written in the code, not {assume_a}")
    if assume_a in _GENERAL:
        return matrix
    if assume_a in _MIRRORED:
        # (lower=True reads the lower triangle; the upper is SciPy's
        # default)
        if flag(run, lower, node, f"{spelled}'s lower"):
            kept = _triangle(run, matrix, TRIL, 0, node)
            mirrored = _triangle(run, matrix, TRIL, -1, node)
        else:
            kept = _triangle(run, matrix, TRIU, 0, node)
            mirrored = _triangle(run, matrix, TRIU, 1, node)
        return kept + transpose(run.program, mirrored)
    if assume_a in _BANDS:
        lowest, highest = _BANDS[assume_a]
        if lowest is not None:
            matrix = _triangle(run, matrix, TRIU, lowest, node)
        if highest is not None:
            matrix = _triangle(run, matrix, TRIL, highest, node)
        return matrix
    known = sorted(_MIRRORED | _BANDS.keys() | {"gen", "general"})
    raise run.error(node, f"{spelled}(..., assume_a={assume_a!r}) is not "
                          f"supported: use one of {', '.join(known)}")


def _lower_solve(run: Any, a: Any, b: Any, lower: Any = False,
                 overwrite_a: Any = False, overwrite_b: Any = False,
                 check_finite: Any = True, assume_a: Any = None,
                 transposed: Any = False, *, node: ast.AST) -> Any:
    matrix = _read(run, a, assume_a, lower, node, "scipy.linalg.solve")
    if flag(run, transposed, node, "scipy.linalg.solve's transposed"):
        matrix = transpose(run.program, run.materialize(matrix, node))
    return _as_numpy(SOLVE, run, matrix, b, node=node)


def _lower_inv(run: Any, a: Any, overwrite_a: Any = False,
               check_finite: Any = True, *, assume_a: Any = None,
               lower: Any = False, node: ast.AST) -> Any:
    return _as_numpy(INV, run, _read(run, a, assume_a, lower, node,
                                     "scipy.linalg.inv"), node=node)


def _lower_det(run: Any, a: Any, overwrite_a: Any = False,
               check_finite: Any = True, *, node: ast.AST) -> Any:
    return _as_numpy(DET, run, a, node=node)


def _symmetric_only(run: Any, b: Any, type: Any, subsets: tuple[Any, Any],
                    node: ast.AST, spelled: str) -> None:
    """Refuse what NumPy's eigh has no row for: a generalized problem, or
    a subset of the eigenvalues."""
    if b is not None:
        raise run.error(node, f"{spelled}(a, b): the generalized "
                              "eigenproblem is not supported: solve the "
                              "standard one (leave b out)")
    if any(subset is not None for subset in subsets):
        raise run.error(node, f"{spelled}: subset_by_index and "
                              "subset_by_value are not supported: take all "
                              "the eigenvalues and index them")
    del type  # (it only matters with b)


def _lower_eigh(run: Any, a: Any, b: Any = None, *, lower: Any = True,
                eigvals_only: Any = False, overwrite_a: Any = False,
                overwrite_b: Any = False, type: Any = 1,
                check_finite: Any = True, subset_by_index: Any = None,
                subset_by_value: Any = None, driver: Any = None,
                node: ast.AST) -> Any:
    _symmetric_only(run, b, type, (subset_by_index, subset_by_value), node,
                    "scipy.linalg.eigh")
    uplo = "L" if flag(run, lower, node, "scipy.linalg.eigh's lower") \
        else "U"
    if flag(run, eigvals_only, node, "scipy.linalg.eigh's eigvals_only"):
        return _as_numpy(EIGVALSH, run, a, uplo, node=node)
    values, vectors = _as_numpy(EIGH, run, a, uplo, node=node)
    return values, vectors  # (SciPy's is a plain tuple)


def _lower_eigvalsh(run: Any, a: Any, b: Any = None, *, lower: Any = True,
                    overwrite_a: Any = False, overwrite_b: Any = False,
                    type: Any = 1, check_finite: Any = True,
                    subset_by_index: Any = None, subset_by_value: Any = None,
                    driver: Any = None, node: ast.AST) -> Any:
    _symmetric_only(run, b, type, (subset_by_index, subset_by_value), node,
                    "scipy.linalg.eigvalsh")
    uplo = "L" if flag(run, lower, node, "scipy.linalg.eigvalsh's lower") \
        else "U"
    return _as_numpy(EIGVALSH, run, a, uplo, node=node)


def _lower_norm(run: Any, a: Any, ord: Any = None, axis: Any = None,
                keepdims: Any = False, check_finite: Any = True, *,
                node: ast.AST) -> Any:
    return _as_numpy(NORM, run, a, ord, axis, keepdims, node=node)


def _lower_svd(run: Any, a: Any, full_matrices: Any = True,
               compute_uv: Any = True, overwrite_a: Any = False,
               check_finite: Any = True, lapack_driver: Any = "gesdd", *,
               node: ast.AST) -> Any:
    result = _as_numpy(SVD, run, a, full_matrices, compute_uv, node=node)
    # (SciPy's is a plain tuple, NumPy's a named one)
    return tuple(result) if isinstance(result, tuple) else result


SCIPY_SOLVE = ArrayOp("scipy solve", lower=_lower_solve)
SCIPY_INV = ArrayOp("scipy inv", lower=_lower_inv)
SCIPY_DET = ArrayOp("scipy det", lower=_lower_det)
SCIPY_EIGH = ArrayOp("scipy eigh", lower=_lower_eigh)
SCIPY_EIGVALSH = ArrayOp("scipy eigvalsh", lower=_lower_eigvalsh)
SCIPY_NORM = ArrayOp("scipy norm", lower=_lower_norm)
SCIPY_SVD = ArrayOp("scipy svd", lower=_lower_svd)
