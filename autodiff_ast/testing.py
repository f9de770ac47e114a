"""Testing helpers for users' own test suites: check_grads.

``check_grads`` verifies the derivatives autodiff_ast generates for a
function against central differences, order by order: the directional
derivative of each order along a random (seeded) direction is compared with
a central difference of the order before it. Use it in pytest::

    from autodiff_ast.testing import check_grads

    def test_my_model_gradients():
        check_grads(my_model, (0.3, 1.7), order=2)
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np
import optree

from ._api import grad
from ._api_jacobians import jacfwd

__all__ = ["check_grads"]

# (rtol, atol) by the precision the derivative is evaluated in.
_TOLERANCES = {np.dtype(np.float64): (1e-6, 1e-9),
               np.dtype(np.float32): (2e-3, 1e-5),
               np.dtype(np.float16): (5e-2, 1e-2)}


def _is_scalar(value: Any) -> bool:
    # A container first: np.ndim of a ragged tuple (an array and a
    # number) raises.
    return not isinstance(value, (dict, list, tuple)) and np.ndim(value) == 0


def _float64(tree: Any) -> Any:
    return optree.tree_map(
        lambda leaf: (np.float64(leaf) if np.ndim(leaf) == 0
                      else np.asarray(leaf, dtype=np.float64)), tree)


def _directional(function: Callable[..., Any], args: Sequence[Any],
                 argnums: tuple[int, ...], direction: list[Any],
                 eps: float) -> float:
    """d/dt function(args + t * direction) at 0, by a fourth-order central
    difference computed in float64 (``direction`` is one pytree per
    argument in ``argnums``)."""
    base = [_float64(a) for a in args]

    def along(t: float) -> float:
        shifted = list(base)
        for k, i in enumerate(argnums):
            shifted[i] = optree.tree_map(lambda a, d: a + t * d, base[i],
                                         direction[k])
        return float(function(*shifted))

    return (-along(2 * eps) + 8 * along(eps) - 8 * along(-eps)
            + along(-2 * eps)) / (12 * eps)


def _random_direction(args: Sequence[Any], argnums: tuple[int, ...],
                      seed: int) -> list[Any]:
    """A random unit vector over every leaf of the chosen arguments, one
    pytree per argument (a plain float for a scalar argument)."""
    rng = np.random.default_rng(seed)
    trees = [optree.tree_map(lambda leaf: rng.standard_normal(np.shape(leaf)),
                             args[i]) for i in argnums]
    norm = np.sqrt(sum(float(np.sum(leaf ** 2))
                       for tree in trees for leaf in optree.tree_leaves(tree)))
    return [optree.tree_map(lambda leaf: leaf / norm if np.ndim(leaf)
                            else float(leaf / norm), tree) for tree in trees]


def _along(partials: Sequence[Any], direction: list[Any]) -> float:
    """The directional derivative: sum over leaves of gradient * direction."""
    return float(sum(
        float(np.sum(np.asarray(g, dtype=np.float64) * d))
        for partial, tree in zip(partials, direction)
        for g, d in zip(optree.tree_leaves(partial),
                        optree.tree_leaves(tree))))


def _contracted(derivatives: Any, direction: list[Any], times: int
                ) -> float:
    """The k-th derivatives (a Jacobian of a Jacobian ... of a gradient:
    each leaf has the axes of an argument's leaf last, once per order)
    taken along ``direction`` ``times`` times: a number."""
    along = [np.asarray(d, dtype=np.float64)
             for d in optree.tree_leaves(direction)]
    leaves = [np.asarray(leaf, dtype=np.float64)
              for leaf in optree.tree_leaves(derivatives)]
    for _ in range(times):
        # Depth first, the last Jacobian's argument leaves are innermost:
        # each run of len(along) leaves is one leaf of the order before.
        leaves = [sum(np.tensordot(leaf, d, axes=d.ndim) for leaf, d in
                      zip(leaves[start:start + len(along)], along))
                  for start in range(0, len(leaves), len(along))]
    (value,) = leaves
    return float(value)


def _directional_derivative(derivatives: Callable[..., Any],
                            direction: list[Any], order: int
                            ) -> Callable[..., float]:
    """The function whose central difference order ``order + 1`` is checked
    against: ``derivatives`` (of order ``order``) along ``direction``."""
    return lambda *args: _contracted(derivatives(*args), direction, order)


def check_grads(fun: Callable[..., Any], args: Sequence[Any], order: int = 1,
                argnums: int | Sequence[int] | None = None,
                rtol: float | None = None, atol: float | None = None,
                eps: float = 1e-3, seed: int = 0) -> None:
    """Check the derivatives of ``fun`` at ``args`` up to ``order``.

    Order k checks the generated k-th derivative: its directional derivative
    along a random unit direction over ``argnums`` (default: every argument;
    arrays and pytrees too) must match a central difference of the order
    k-1 function, within ``atol + rtol * |numeric|``. For arrays, order k
    is ``jacfwd`` applied k - 1 times to the gradient, taken along the
    direction k times. Tolerances
    default by the arguments' dtype (float32 looser than float64). Raises
    AssertionError naming the order, the arguments and both values.

    >>> import numpy as np
    >>> from autodiff_ast.testing import check_grads
    >>> check_grads(lambda x, y: np.sin(x) * y ** 2, (0.3, 1.2), order=2)
    >>> check_grads(lambda p: np.sum(np.tanh(p["w"]) * p["b"]),
    ...             ({"w": np.array([0.1, 0.5]), "b": 2.0},))
    """
    if isinstance(argnums, int):
        argnums = (argnums,)
    numbers = tuple(range(len(args))) if argnums is None else tuple(argnums)
    leaves = optree.tree_leaves(list(args))
    dtype = np.result_type(*[np.asarray(leaf).dtype for leaf in leaves],
                           np.float32)
    default_rtol, default_atol = _TOLERANCES.get(dtype, _TOLERANCES[
        np.dtype(np.float64)])
    rtol = default_rtol if rtol is None else rtol
    atol = default_atol if atol is None else atol
    direction = _random_direction(args, numbers, seed)
    shown = np.round(np.concatenate([np.ravel(leaf) for leaf in
                                     optree.tree_leaves(direction)]), 4)
    name = getattr(fun, "__name__", repr(fun))
    scalars = all(_is_scalar(args[i]) for i in numbers)
    current = fun
    tensor = grad(fun, argnums=numbers)  # order k's derivatives, as a pytree
    for k in range(1, order + 1):
        if scalars:
            partials = grad(current, argnums=numbers)(*args)
            analytic = _along(partials, direction)
        else:
            analytic = _contracted(tensor(*args), direction, k)
        numeric = _directional(current, args, numbers, direction, eps)
        if not abs(analytic - numeric) <= atol + rtol * abs(numeric):
            raise AssertionError(
                f"check_grads: the order-{k} derivative of {name} at "
                f"{tuple(args)!r} along direction {shown} over "
                f"arguments {numbers} is {analytic!r} (autodiff_ast) but "
                f"{numeric!r} by central differences of order {k - 1}; "
                f"|difference| {abs(analytic - numeric):.3g} > atol {atol:g} "
                f"+ rtol {rtol:g} * |numeric|")
        if k < order and scalars:
            current = grad(current, argnums=numbers[(k - 1) % len(numbers)])
        elif k < order:
            current = _directional_derivative(tensor, direction, k)
            tensor = jacfwd(tensor, argnums=numbers)
