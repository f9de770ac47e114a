"""Testing helpers for users' own test suites: check_grads.

``check_grads`` verifies the derivatives autodiff_ast generates for a
function against central differences, order by order, as
``jax.test_util.check_grads`` does: each order's derivative, made in each
of the modes asked for (``jacfwd``: forward, ``jacrev``: reverse) on top of
each derivative of the order before, is taken along a random (seeded)
direction and compared with a central difference of the order before it.
Use it in pytest::

    from autodiff_ast.testing import check_grads

    def test_my_model_gradients():
        check_grads(my_model, (0.3, 1.7), order=2)
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np
import optree

from ._api_jacobians import jacfwd, jacrev

__all__ = ["check_grads"]

# (rtol, atol) by the precision the derivative is evaluated in.
_TOLERANCES = {np.dtype(np.float64): (1e-6, 1e-9),
               np.dtype(np.float32): (2e-3, 1e-5),
               np.dtype(np.float16): (5e-2, 1e-2)}


# What each of JAX's modes makes the next order's derivative with.
_MODES = {"fwd": jacfwd, "rev": jacrev}


def _float64(tree: Any) -> Any:
    return optree.tree_map(
        lambda leaf: (np.float64(leaf) if np.ndim(leaf) == 0
                      else np.asarray(leaf, dtype=np.float64)), tree)


def _directional(function: Callable[..., Any], args: Sequence[Any],
                 argnums: tuple[int, ...], direction: list[Any],
                 eps: float) -> float:
    """d/dt function(args + t * direction) at 0, by a fourth-order central
    difference computed in float64 (``direction`` is one pytree per
    argument in ``argnums``; the other arguments are passed as they are:
    an int axis stays an int)."""
    base = [_float64(a) if i in argnums else a for i, a in enumerate(args)]

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


def _modes(modes: str | Sequence[str]) -> tuple[str, ...]:
    """``modes`` as a tuple, each one checked (JAX takes any sequence, and
    a single mode spelled as a string)."""
    chosen = (modes,) if isinstance(modes, str) else tuple(modes)
    unknown = [mode for mode in chosen if mode not in _MODES]
    if unknown or not chosen:
        raise ValueError(
            f"check_grads: modes={modes!r} "
            + (f"names {unknown[0]!r}, which is not a mode autodiff_ast has"
               if unknown else "names no mode")
            + ". Pass modes made of 'fwd' (forward, jacfwd) and 'rev' "
            "(reverse, jacrev), e.g. modes=('fwd', 'rev').")
    return chosen


def _output_weights(output: Any, seed: int) -> Any:
    """What the outputs are summed with to give one number: 1.0 for a
    number, a random unit pytree (seeded) for arrays and pytrees."""
    leaves, structure = optree.tree_flatten(output)
    if len(leaves) == 1 and np.ndim(leaves[0]) == 0:
        return optree.tree_unflatten(structure, [1.0])
    rng = np.random.default_rng(seed)
    weights = [rng.standard_normal(np.shape(leaf)) for leaf in leaves]
    norm = np.sqrt(sum(float(np.sum(w ** 2)) for w in weights))
    return optree.tree_unflatten(structure, [w / norm for w in weights])


def _contracted(derivatives: Any, weights: Any, direction: list[Any],
                times: int) -> float:
    """The k-th derivatives of the outputs (k Jacobians: each leaf has an
    output leaf's axes first, then the axes of an argument's leaf once per
    order) taken along ``direction`` ``times`` times and summed over the
    outputs with ``weights``: a number."""
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
    return float(sum(np.sum(leaf * np.asarray(w, dtype=np.float64))
                     for leaf, w in zip(leaves, optree.tree_leaves(weights))))


def check_grads(fun: Callable[..., Any], args: Sequence[Any], order: int = 1,
                modes: str | Sequence[str] = ("fwd", "rev"),
                atol: float | None = None, rtol: float | None = None,
                eps: float | None = None, *,
                argnums: int | Sequence[int] | None = None,
                seed: int = 0) -> None:
    """Check the derivatives of ``fun`` at ``args`` up to ``order``.

    Called as ``jax.test_util.check_grads`` is (the same positional
    parameters and ``modes``). Order k checks each generated k-th
    derivative: ``jacfwd`` (mode ``"fwd"``) and ``jacrev`` (``"rev"``) of
    each derivative of order k - 1 that was checked, so ``order=2`` checks
    both Jacobians of both gradients. Each is taken along a random unit
    direction over ``argnums`` (default: every argument; arrays and
    pytrees too), its outputs summed with random weights when ``fun``
    returns arrays or a pytree, and must match a central difference of
    the order k-1 derivative within ``atol + rtol * |numeric|``.
    Tolerances default by the arguments' dtype (float32 looser than
    float64). Raises AssertionError naming the order, the modes, the
    arguments and both values.

    >>> import numpy as np
    >>> from autodiff_ast.testing import check_grads
    >>> check_grads(lambda x, y: np.sin(x) * y ** 2, (0.3, 1.2), order=2)
    >>> check_grads(lambda p: np.sum(np.tanh(p["w"]) * p["b"]),
    ...             ({"w": np.array([0.1, 0.5]), "b": 2.0},), modes=["rev"])
    """
    chosen = _modes(modes)
    args = tuple(args)
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
    eps = 1e-3 if eps is None else eps
    direction = _random_direction(args, numbers, seed)
    weights = _output_weights(fun(*args), seed + 1)
    shown = np.round(np.concatenate([np.ravel(leaf) for leaf in
                                     optree.tree_leaves(direction)]), 4)
    name = getattr(fun, "__name__", repr(fun))

    def check(derivative: Callable[..., Any], k: int,
              made_by: tuple[str, ...]) -> None:
        """Check each mode's derivative of ``derivative`` (order k - 1,
        made by the modes ``made_by``), then the orders above it."""
        numeric = _directional(
            lambda *at: _contracted(derivative(*at), weights, direction,
                                    k - 1), args, numbers, direction, eps)
        for mode in chosen:
            higher = _MODES[mode](derivative, argnums=numbers)
            analytic = _contracted(higher(*args), weights, direction, k)
            if not abs(analytic - numeric) <= atol + rtol * abs(numeric):
                spelled = " of ".join(f"jac{m}"
                                      for m in (mode,) + made_by[::-1])
                raise AssertionError(
                    f"check_grads: the order-{k} derivative of {name} "
                    f"({spelled}) at {args!r} along direction {shown} over "
                    f"arguments {numbers} is {analytic!r} (autodiff_ast) "
                    f"but {numeric!r} by central differences of order "
                    f"{k - 1}; |difference| {abs(analytic - numeric):.3g} "
                    f"> atol {atol:g} + rtol {rtol:g} * |numeric|")
            if k < order:
                check(higher, k + 1, made_by + (mode,))

    check(fun, 1, ())
