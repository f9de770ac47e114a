"""The row of the array table for ``np.meshgrid``: coordinate arrays of a
grid, each input repeated along the other inputs' axes.

Each output is its input (flattened, as NumPy does) reshaped to lie along
its own axis and broadcast to the grid's shape, so its gradient is the
adjoint summed over the other axes, by the rules of those two steps; the
sizes are read at run time, so the code serves grids of any size.
"""

from __future__ import annotations

import ast
from typing import Any

from ._ops_core import BROADCAST_TO, reshape
from ._program import ArrayOp

__all__ = ["MESHGRID"]


def _lower_meshgrid(run: Any, *xi: Any, indexing: Any = "xy",
                    sparse: Any = False, copy: Any = True,
                    node: ast.AST) -> Any:
    if indexing not in ("xy", "ij"):
        raise run.error(node, f"np.meshgrid's indexing must be 'xy' or "
                              f"'ij', not {indexing!r}")
    if sparse not in (True, False) or copy not in (True, False):
        raise run.error(node, "np.meshgrid's sparse= and copy= must be "
                              "True or False")
    vectors = [reshape(run, run.number(x, node), (-1,), node) for x in xi]
    axes = list(range(len(vectors)))
    if indexing == "xy" and len(axes) > 1:
        axes[0], axes[1] = 1, 0  # x along the columns, y along the rows
    sizes = [1] * len(vectors)
    for vector, axis in zip(vectors, axes):
        sizes[axis] = run.program.size(vector, 0)
    shape = tuple(int(n) for n in run.program.concrete(tuple(sizes)))
    grids = []
    for vector, axis in zip(vectors, axes):
        lying = reshape(run, vector, tuple(-1 if i == axis else 1
                                           for i in range(len(axes))), node)
        if sparse or run.shape(lying, node) == shape:
            grids.append(lying)
        else:
            grids.append(run.program.add(
                BROADCAST_TO, (run.materialize(lying, node),), shape, "grid",
                shape=tuple(sizes)))
    return tuple(grids)


MESHGRID = ArrayOp("meshgrid", numpy=("meshgrid",), lower=_lower_meshgrid)
