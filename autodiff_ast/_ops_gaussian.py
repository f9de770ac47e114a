"""scipy.stats.multivariate_normal's logpdf and pdf, written as JAX's
jax.scipy.stats.multivariate_normal computes them: the Cholesky factor L
of the covariance, the triangular solve y = L^-1 (x - mean), and

    logpdf = -|y|^2 / 2 - d/2 log(2 pi) - sum(log(diag(L)))

so the derivatives are those of cholesky and solve_triangular (no
inverse, no determinant). x is one point (d,) or a row per point (n, d),
as SciPy takes it; mean defaults to zeros, and cov to 1 (a number is the
variance of every coordinate).
"""

from __future__ import annotations

import ast
from typing import Any

import sympy as sp

from ._matrices import transpose
from ._ops_core import SUM
from ._ops_decomp import CHOLESKY
from ._ops_shape import DIAGONAL
from ._ops_triangular import solve_triangular
from ._program import ArrayOp

__all__ = ["MULTIVARIATE_NORMAL_LOGPDF", "MULTIVARIATE_NORMAL_PDF"]

_SPELLED = "scipy.stats.multivariate_normal.logpdf"


def _lower_logpdf(run: Any, x: Any, mean: Any = None, cov: Any = 1,
                  allow_singular: Any = False, *, node: ast.AST) -> Any:
    if allow_singular:
        raise run.error(node, f"{_SPELLED} with allow_singular=True is not "
                              "supported: its covariance must be positive "
                              "definite (a Cholesky factor is its "
                              "derivative's way)")
    points = run.number(x, node)
    point_shape = run.shape(points, node)
    # (a number, as a variance, is a constant the array runner keeps as
    # it is written)
    # (a number, SciPy's default 1, is the variance of each coordinate)
    covariance = (sp.sympify(cov) if isinstance(cov, (int, float))
                  else run.number(cov, node))
    cov_shape = run.shape(covariance, node)
    variance = not cov_shape
    if len(point_shape) not in (1, 2) or (not variance and (
            len(cov_shape) != 2 or point_shape[-1] != cov_shape[-1])):
        raise run.error(node, f"{_SPELLED} takes x of shape (d,) or (n, d) "
                              "and cov of shape (d, d) (or a number) here, "
                              f"not x {point_shape} and cov {cov_shape}")
    program = run.program
    centered = points if mean is None else points - run.number(mean, node)
    if variance:
        squares = SUM.lower(run, centered ** 2, axis=-1, node=node)
        size = program.size(run.materialize(points, node), len(point_shape)
                            - 1)
        return -squares / (2 * covariance) - size * sp.log(
            2 * sp.pi * covariance) / 2
    factor = CHOLESKY.lower(run, covariance, node=node)
    if len(point_shape) == 2:  # a point per row: a column per point
        centered = transpose(program, run.materialize(centered, node,
                                                      "centered"))
    solved = solve_triangular(run, factor, centered, True, False, node,
                              _SPELLED)
    squares = SUM.lower(run, solved ** 2, axis=0, node=node)
    half_log_det = SUM.lower(run, sp.log(DIAGONAL.lower(
        run, factor, node=node)), node=node)
    size = program.size(factor, 1)
    return (-squares / 2 - size * sp.log(2 * sp.pi) / 2 - half_log_det)


def _lower_pdf(run: Any, x: Any, mean: Any = None, cov: Any = 1,
               allow_singular: Any = False, *, node: ast.AST) -> Any:
    return sp.exp(_lower_logpdf(run, x, mean, cov, allow_singular,
                                node=node))


MULTIVARIATE_NORMAL_LOGPDF = ArrayOp("multivariate_normal.logpdf",
                                     lower=_lower_logpdf)
MULTIVARIATE_NORMAL_PDF = ArrayOp("multivariate_normal.pdf",
                                  lower=_lower_pdf)
