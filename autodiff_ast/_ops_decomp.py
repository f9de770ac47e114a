"""Rows of the array table for matrix functions and decompositions:
``np.linalg.det``, ``slogdet``, ``inv``, ``solve`` and ``cholesky``.
"""

from __future__ import annotations

__all__: list[str] = []
