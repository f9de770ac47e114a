"""Reads through a boolean mask computed from the data: ``np.mean((pred -
y)[valid] ** 2)``, ``np.sum(r[r > 0])``, ``len(x[m])``, as NumPy code
skips missing values or keeps the positive residuals.

The elements ``x[mask]`` picks are known only when the code runs, so they
cannot be an array of the program (a derivative of data-dependent size).
But code that only computes with them elementwise and then reduces them
is what one writes by hand as a reduction of the whole array through the
mask: ``np.sum(x[m])`` is ``np.sum(np.where(m, x, 0))``, ``np.mean`` that
over ``np.count_nonzero(m)``, ``np.max`` over ``np.where(m, x, -np.inf)``,
``len(x[m])`` is ``np.count_nonzero(m)``. So ``x[mask]`` lowers to a
``Selection``, the whole ``x`` and the mask, which elementwise arithmetic,
functions and comparisons (with numbers, and with selections through the
same mask) compute on as the whole arrays, and which a reduction turns
into the masked reduction of the whole array. A condition of a selection
selects further (``s[s > 0]``: the whole array through both). The
derivative is the masked one (the mask is piecewise constant, even where
it is computed from the differentiated values). Any other use of a
selection (returned, stored, indexed, handed to another function,
combined through another mask) is refused, saying what works.

A mask of the array's shape selects elements (a 1-D selection); one of
the first axes' shape selects the rows along them, as NumPy's ``x[m]``.
Over no elements the mean is nan (0 / 0) as NumPy's, and the maximum is
``-inf``, the value ``np.where`` fills in, where NumPy raises.
"""

from __future__ import annotations

import ast
import inspect
from dataclasses import dataclass
from typing import Any

import sympy as sp
from sympy.logic.boolalg import Boolean

from ._array_ops import static_int
from ._functions import where
from ._lower_conditions import _compare
from ._masked_stores import mask_kind
from ._ops_core import reduce_sum, reduced_shape, reshaped, spell_reduction
from ._ops_index import getitem
from ._ops_norm import NORM
from ._ops_reduce import MAX, MIN, extreme, product
from ._program import ArrayOp

__all__ = ["COUNT_NONZERO", "Selection", "selection", "holds_selection",
           "combined", "compared", "connected", "applied", "negated",
           "reduced", "refused", "count", "attribute_of",
           "check_not_returned", "used_as_an_array", "first_held"]


@dataclass(frozen=True, eq=False)
class Selection:
    """``whole[mask]`` and what elementwise code made of it: the values,
    computed on the whole array, and the mask (a boolean symbol of the
    program) of the shape of its first ``depth`` axes."""

    whole: sp.Expr
    mask: sp.Symbol
    depth: int
    node: ast.Subscript  # where the user selected, for messages

    def ndim(self, run: Any, node: ast.AST) -> int:
        """The dimensions of the selection: the selected axis and the
        whole array's axes after the mask's."""
        return 1 + len(run.shape(self.whole, node)) - self.depth

    @property
    def spelled(self) -> str:
        return ast.unparse(self.node)

    def of(self, whole: sp.Expr) -> Selection:
        """The same mask's selection of other values."""
        return Selection(whole, self.mask, self.depth, self.node)


# What a selection can be used for, in each refusal.
_WORKS = ("A selection can be reduced (np.sum, np.mean, np.max, np.min, "
          "np.prod, np.var, np.std, np.average, np.linalg.norm, len(), "
          ".size, and @ or np.dot of two through the same mask), also "
          "after elementwise arithmetic, functions and comparisons with "
          "numbers and with selections through the same mask; for other "
          "uses keep the shape with np.where(mask, x, 0)")


def refused(run: Any, chosen: Selection, node: ast.AST,
            use: str) -> Exception:
    """The refusal of a use of a selection: what it is, the use, and what
    works instead."""
    return run.error(node, f"{chosen.spelled} selects elements by a mask "
                           "computed from the data, as many as the data "
                           "says, which cannot be an array of a derivative: "
                           f"here {use}. {_WORKS}")


def used_as_an_array(run: Any, chosen: Selection,
                     node: ast.AST) -> Exception:
    """The refusal of a selection where an array is needed (a comparison,
    a store, a cast)."""
    spelled = ast.unparse(node)
    return refused(run, chosen, node, (
        "it is used as an array" if isinstance(node, ast.Name)
        or spelled == chosen.spelled else f"{spelled} takes it as an array"))


def selection(run: Any, array: Any, key: Any,
              node: ast.Subscript) -> Selection | None:
    """``array[key]`` where ``key`` is a boolean mask computed from the
    data, then integers and slices of the axes after the mask's (``x[m]``,
    ``X[m, 0]``), or a selection through a condition of the same mask's
    selections (``s[s > 0]``, the whole array through both); None for any
    other index."""
    if isinstance(array, Selection):
        return _narrowed(run, array, key, node)
    parts = key if type(key) is tuple else (key,)
    if holds_selection(parts) is not None:
        raise refused(run, holds_selection(parts), node,
                      "it indexes another array")
    if not parts or mask_kind(run, parts[0]) != "computed" or not all(
            _basic(part) for part in parts[1:]):
        return None
    mask = parts[0]
    whole = run.number(array, node.value)
    shape = run.shape(whole, node.value)
    mask_shape = run.shape(mask, node.slice)
    if len(mask_shape) + len(parts) - 1 > len(shape) or \
            shape[:len(mask_shape)] != mask_shape or not mask_shape:
        raise run.error(node, f"a boolean mask of shape {mask_shape} indexes "
                              f"an array of shape {shape}: a mask takes the "
                              "shape of the array's first axes (boolean "
                              "index did not match indexed array)")
    if not isinstance(mask, sp.Symbol):  # one array for where and count
        label = node.slice.elts[0] if isinstance(
            node.slice, ast.Tuple) else node.slice
        mask = run.program.materialize(mask, label.id if isinstance(
            label, ast.Name) else "mask")
    return Selection(_trailing(run, whole, len(mask_shape), parts[1:], node),
                     mask, len(mask_shape), node)


def _basic(part: Any) -> bool:
    """Whether an index part is an integer or a slice known now."""
    return isinstance(part, slice) or static_int(part) is not None


def _trailing(run: Any, whole: sp.Expr, depth: int, parts: tuple[Any, ...],
              node: ast.Subscript) -> sp.Expr:
    """``whole`` indexed by ``parts`` along its axes after the mask's
    (``X[m, 0]`` is ``X[:, 0][m]``)."""
    if all(part == slice(None) for part in parts):
        return whole
    return getitem(run, whole, (slice(None),) * depth + tuple(parts), node)


def _narrowed(run: Any, chosen: Selection, key: Any,
              node: ast.Subscript) -> Selection:
    """``s[c]``, ``c`` a condition of selections through the mask of the
    1-D selection ``s``: the whole array through the mask and ``c``; and
    ``s[:, 0]``, the same rows of the whole array's column."""
    parts = key if type(key) is tuple else (key,)
    if len(parts) > 1 and parts[0] == slice(None) and all(
            _basic(part) for part in parts) and len(parts) <= chosen.ndim(
                run, node):
        return chosen.of(_trailing(run, chosen.whole, chosen.depth,
                                   parts[1:], node))
    condition = key.whole if isinstance(key, Selection) else None
    if condition is None or key.mask != chosen.mask or chosen.ndim(
            run, node) != 1 or not isinstance(condition, Boolean) or \
            isinstance(condition, sp.Expr) and not run.holds_booleans(
                condition):
        raise refused(run, chosen, node, "it is indexed")
    both = run.program.materialize(sp.And(chosen.mask, condition),
                                   f"{chosen.mask.name}_and")
    return Selection(chosen.whole, both, chosen.depth, node)


def holds_selection(values: Any) -> Selection | None:
    """The first selection in ``values`` (nested lists, tuples, dicts)."""
    return first_held(values, Selection)


def first_held(values: Any, kind: type) -> Any:
    """The first value of type ``kind`` in ``values`` (nested lists,
    tuples, dicts), or None."""
    if isinstance(values, kind):
        return values
    if isinstance(values, dict):
        values = list(values.values())
    if isinstance(values, (list, tuple)):
        for value in values:
            found = first_held(value, kind)
            if found is not None:
                return found
    return None


def _wholes(run: Any, values: list[Any], node: ast.AST
            ) -> tuple[Selection, list[Any]]:
    """The selection among ``values`` and each value as the whole array
    it stands for: other selections must be through the same mask, and
    arrays must broadcast against the selection without reaching its
    selected axis."""
    chosen = holds_selection(values)
    assert chosen is not None
    ndim = chosen.ndim(run, node)
    wholes = []
    for value in values:
        if isinstance(value, Selection):
            if value.mask != chosen.mask:
                raise refused(run, chosen, node, (
                    f"it is combined with {value.spelled}, a selection "
                    "through another mask"))
            if value.ndim(run, node) != ndim:
                raise refused(run, chosen, node, (
                    f"it is combined with {value.spelled}, a selection of "
                    "other dimensions"))
            wholes.append(value.whole)
            continue
        if holds_selection(value) is not None:
            raise refused(run, chosen, node, "it is put in a container")
        if isinstance(value, sp.Basic) and len(run.shape(value, node)) >= ndim:
            raise refused(run, chosen, node, (
                f"it is combined with an array of shape "
                f"{run.shape(value, node)}, which would broadcast against "
                "its selected axis"))
        wholes.append(value)
    return chosen, wholes


def combined(run: Any, op: ast.operator, left: Any, right: Any,
             node: ast.AST) -> Any:
    """``left op right`` where one is a selection: computed on the whole
    arrays; ``a[m] @ b[m]`` is their masked sum of products."""
    chosen, (a, b) = _wholes(run, [left, right], node)
    if isinstance(op, ast.MatMult):
        return _dot(run, chosen, [left, right], "@", node)
    return chosen.of(run.arithmetic(op, a, b, node))


def compared(run: Any, op: ast.cmpop, values: list[Any],
             node: ast.Compare) -> Selection:
    """``x[m] > 0``, one comparison where a selection takes part: the
    whole arrays compared."""
    chosen, (a, b) = _wholes(run, values[-2:], node)
    if len(node.ops) != 1:
        raise refused(run, chosen, node, "a chain of comparisons takes it "
                                         "(compare once per condition)")
    return chosen.of(_compare(op, run.operand(a, node.left),
                              run.operand(b, node.comparators[0]), run,
                              node))


def connected(run: Any, op: ast.AST, operands: tuple[Any, ...],
              node: ast.AST) -> Selection:
    """``(s > 0) & (s < 1)``, ``~(s > 0)``: the logic of the whole
    arrays' conditions."""
    chosen, wholes = _wholes(run, list(operands), node)
    return chosen.of(run.connective(op, tuple(wholes), node))


def applied(run: Any, callee: Any, primitive: Any, args: list[Any],
            kwargs: dict[str, Any], node: ast.Call) -> Selection:
    """An elementwise function (``np.abs``, ``np.exp``) of selections:
    computed on the whole arrays."""
    chosen, wholes = _wholes(run, list(args), node)
    if holds_selection(kwargs) is not None:
        raise refused(run, chosen, node, f"{ast.unparse(node.func)}() takes "
                                         "it by keyword")
    return chosen.of(run.call_primitive(callee, primitive, wholes, kwargs,
                                        node))


def negated(run: Any, chosen: Selection, node: ast.UnaryOp) -> Selection:
    """``-x[m]`` and ``+x[m]``."""
    whole = chosen.whole
    return chosen.of(-whole if isinstance(node.op, ast.USub) else whole)


# -- the reductions ---------------------------------------------------------

def _spread_mask(run: Any, chosen: Selection) -> sp.Expr:
    """The mask, with size-1 axes after it so that it broadcasts against
    the whole array (a mask of rows)."""
    program = run.program
    extra = len(program.shape(chosen.whole)) - chosen.depth
    if not extra:
        return chosen.mask
    return reshaped(program, chosen.mask,
                    program.shape_of(chosen.mask) + (1,) * extra,
                    f"{chosen.mask.name}_rows")


def _masked(run: Any, chosen: Selection, values: sp.Expr,
            fill: Any) -> sp.Expr:
    """``values`` (of the whole array's shape; conditions are 1 and 0)
    where the mask holds, ``fill`` elsewhere."""
    if isinstance(values, Boolean) and not isinstance(values, sp.Expr):
        values = where(values, 1, 0)
    return where(_spread_mask(run, chosen), values, fill)


def count(run: Any, chosen: Selection) -> sp.Symbol:
    """How many elements (rows) the mask selects, when the code runs."""
    return run.program.add(COUNT_NONZERO, (chosen.mask,), (),
                           f"count_{chosen.mask.name}", integer=True,
                           axis=None, keepdims=None)


def _whole_axes(run: Any, chosen: Selection, axis: Any, spelled: str,
                node: ast.AST) -> tuple[int, ...] | None:
    """The axes of the whole array a reduction of the selection over
    ``axis`` adds up (None: all); it must take in the selected axis."""
    ndim = chosen.ndim(run, node)
    axes = run.axes(axis, ndim, node)
    if axes is None or len(axes) == ndim:
        return None
    if 0 not in axes:
        raise refused(run, chosen, node, (
            f"{spelled} over axis {axis} keeps the selected axis, whose "
            "length depends on the data"))
    return tuple(range(chosen.depth)) + tuple(
        chosen.depth - 1 + a for a in axes if a)


def _count_over(run: Any, chosen: Selection,
                axes: tuple[int, ...] | None) -> sp.Expr:
    """How many elements a reduction over the whole array's ``axes``
    takes into each result: the mask's count, times the sizes of the
    other axes it adds up."""
    program = run.program
    ndim = len(program.shape(chosen.whole))
    others = range(chosen.depth, ndim) if axes is None else [
        a for a in axes if a >= chosen.depth]
    return sp.Mul(count(run, chosen), *[program.size(chosen.whole, a)
                                        for a in others])


def _sum(run: Any, chosen: Selection, values: sp.Expr,
         axes: tuple[int, ...] | None, node: ast.AST,
         keepdims: bool = False) -> sp.Expr:
    return reduce_sum(run, _masked(run, chosen, values, 0), axes, keepdims,
                      node)[0]


def _mean(run: Any, chosen: Selection, axes: tuple[int, ...] | None,
          node: ast.AST, keepdims: bool = False) -> sp.Expr:
    return _sum(run, chosen, chosen.whole, axes, node, keepdims) / \
        _count_over(run, chosen, axes)


def _variance(run: Any, chosen: Selection, axes: tuple[int, ...] | None,
              ddof: Any, node: ast.AST) -> sp.Expr:
    """The mean square deviation from the selection's mean, over the count
    less ``ddof``."""
    mean = _mean(run, chosen, axes, node, keepdims=True)
    deviations = run.checked(chosen.whole - mean, node)
    squares = _sum(run, chosen, deviations ** 2, axes, node)
    return squares / (_count_over(run, chosen, axes)
                      - run.static_number(ddof, node, "ddof"))


def _dot(run: Any, chosen: Selection, operands: list[Any], spelled: str,
         node: ast.AST) -> sp.Expr:
    """``a[m] @ b[m]``: the sum of the products where the mask holds."""
    if not all(isinstance(o, Selection) for o in operands) or any(
            o.ndim(run, node) != 1 for o in operands):
        raise refused(run, chosen, node, (
            f"{spelled} takes it with another operand than a 1-D selection "
            "through the same mask"))
    a, b = operands
    return _sum(run, chosen, run.checked(a.whole * b.whole, node), None,
                node)


# The arguments a reduction of a selection takes as NumPy's defaults only.
_PLAIN = {"out": None, "dtype": None, "initial": None, "where": True,
          "keepdims": False, "weights": None, "returned": False}


def reduced(run: Any, op: ArrayOp, args: list[Any], kwargs: dict[str, Any],
            node: ast.Call, method: bool) -> Any:
    """``op`` (a row of the array table) called with a selection among
    its arguments: the masked reduction of the whole array; refused for
    any other function."""
    chosen = holds_selection([args, kwargs])
    assert chosen is not None
    spelled = ast.unparse(node.func)
    rule = _REDUCTIONS.get(op.name)
    alone = isinstance(args[0], Selection) and holds_selection(
        [args[1:], kwargs]) is None
    if op.name in _ELEMENTWISE and alone:  # x[m].astype(np.float32)
        return args[0].of(run.array_call(op, [args[0].whole, *args[1:]],
                                         kwargs, node, method))
    if rule is None or not (alone or op.name in _PAIRS and isinstance(
            args[0], Selection)):
        raise refused(run, chosen, node, f"{spelled}() takes it")
    chosen = args[0]
    lower = (op.lower_method or op.lower) if method else op.lower
    try:
        bound = inspect.signature(lower).bind(run, *args, node=node, **kwargs)
    except TypeError as exc:
        raise run.error(node, f"{spelled}() is called with arguments "
                              f"autodiff_ast does not support here: {exc}"
                        ) from None
    arguments = dict(bound.arguments)
    for name, default in _PLAIN.items():
        value = arguments.get(name, default)
        if value is not default and value != default:
            raise refused(run, chosen, node, (
                f"{spelled}() takes it with {name}={value!r}"))
    return rule(run, chosen, arguments, spelled, node)


def _axis_rule(body: Any) -> Any:
    """A reduction rule that takes the selection's ``axis``."""
    def rule(run: Any, chosen: Selection, arguments: dict[str, Any],
             spelled: str, node: ast.AST) -> Any:
        axes = _whole_axes(run, chosen, arguments.get("axis"), spelled, node)
        return body(run, chosen, axes, arguments, node)
    return rule


def _extreme(op: ArrayOp, fill: Any) -> Any:
    def body(run: Any, chosen: Selection, axes: tuple[int, ...] | None,
             arguments: dict[str, Any], node: ast.AST) -> Any:
        return extreme(run, op, _masked(run, chosen, chosen.whole, fill),
                       axes, False, node)
    return _axis_rule(body)


def _builtin_sum(run: Any, chosen: Selection, arguments: dict[str, Any],
                 spelled: str, node: ast.AST) -> Any:
    """``sum(x[m])``: over the selected axis, from ``start``."""
    axes = _whole_axes(run, chosen, 0, spelled, node)
    return run.arithmetic(ast.Add(), arguments.get("start", sp.S.Zero),
                          _sum(run, chosen, chosen.whole, axes, node), node)


def _builtin_extreme(op: ArrayOp, fill: Any) -> Any:
    """``max(x[m])``: over the selected axis."""
    def rule(run: Any, chosen: Selection, arguments: dict[str, Any],
             spelled: str, node: ast.AST) -> Any:
        if len(arguments["args"]) != 1:
            raise refused(run, chosen, node, f"{spelled}() takes it with "
                                             "other values")
        axes = _whole_axes(run, chosen, 0, spelled, node)
        return extreme(run, op, _masked(run, chosen, chosen.whole, fill),
                       axes, False, node)
    return rule


def _spread(root: bool) -> Any:
    def body(run: Any, chosen: Selection, axes: tuple[int, ...] | None,
             arguments: dict[str, Any], node: ast.AST) -> Any:
        variance = _variance(run, chosen, axes, arguments.get("ddof", 0),
                             node)
        return sp.sqrt(variance) if root else variance
    return _axis_rule(body)


def _norm(run: Any, chosen: Selection, arguments: dict[str, Any],
          spelled: str, node: ast.AST) -> Any:
    """``np.linalg.norm(x[m])``: the 2-norm (Frobenius) of the whole array
    with zeros where the mask does not hold, which add nothing."""
    for name in ("ord", "axis"):
        if arguments.get(name) is not None:
            raise refused(run, chosen, node, (
                f"{spelled}() takes it with {name}={arguments[name]!r}"))
    return NORM.lower(run, _masked(run, chosen, chosen.whole, 0),
                      node=node)


def _dot_rule(run: Any, chosen: Selection, arguments: dict[str, Any],
              spelled: str, node: ast.AST) -> Any:
    return _dot(run, chosen, [arguments["a"], arguments["b"]], spelled,
                node)


_REDUCTIONS = {
    "sum": _axis_rule(lambda run, chosen, axes, arguments, node: _sum(
        run, chosen, chosen.whole, axes, node)),
    "mean": _axis_rule(lambda run, chosen, axes, arguments, node: _mean(
        run, chosen, axes, node)),
    "average": _axis_rule(lambda run, chosen, axes, arguments, node: _mean(
        run, chosen, axes, node)),
    "max": _extreme(MAX, -sp.oo),
    "min": _extreme(MIN, sp.oo),
    "prod": _axis_rule(lambda run, chosen, axes, arguments, node: product(
        run, _masked(run, chosen, chosen.whole, 1), axes, False, node)),
    "var": _spread(root=False),
    "std": _spread(root=True),
    "builtin sum": _builtin_sum,
    "builtin max": _builtin_extreme(MAX, -sp.oo),
    "builtin min": _builtin_extreme(MIN, sp.oo),
    "norm": _norm,
    "dot": _dot_rule,
    "matmul": _dot_rule,
}
# The rows that take two selections.
_PAIRS = ("dot", "matmul")
# The rows computed element by element: of a selection, its selection.
_ELEMENTWISE = ("astype", "clip", "round")


# -- sizes ------------------------------------------------------------------

def attribute_of(run: Any, chosen: Selection, node: ast.Attribute) -> Any:
    """``x[m].size``, ``.shape`` and ``.ndim``: the selected axis's
    length is the mask's count."""
    ndim = chosen.ndim(run, node)
    if node.attr == "ndim":
        return sp.Integer(ndim)
    if node.attr == "shape":
        program = run.program
        rest = len(program.shape(chosen.whole))
        return (count(run, chosen),) + tuple(
            sp.sympify(program.size(chosen.whole, a))
            for a in range(chosen.depth, rest))
    if node.attr == "size":
        return _count_over(run, chosen, None)
    raise refused(run, chosen, node, f"its .{node.attr} is read")


def check_not_returned(run: Any, output: Any) -> None:
    """Refuse an output that holds a selection, where it was selected."""
    chosen = holds_selection(output)
    if chosen is not None:
        raise refused(run, chosen, chosen.node, "it is returned")


# -- np.count_nonzero ---------------------------------------------------------

def _lower_count_nonzero(run: Any, a: Any, axis: Any = None, *,
                         keepdims: Any = False, node: ast.AST) -> Any:
    """How many elements are true (nonzero): an integer, a constant to
    differentiation, as a comparison is."""
    mask = a if isinstance(a, Boolean) and not isinstance(a, sp.Expr) or (
        isinstance(a, sp.Symbol) and run.holds_booleans(a)) \
        else sp.Ne(run.number(a, node), 0)
    source = run.program.materialize(mask, "mask")
    shape = run.shape(source, node)
    axes = run.axes(axis, len(shape), node)
    if axes is not None and len(axes) == len(shape) and not keepdims:
        axes = None
    return run.program.add(
        COUNT_NONZERO, (source,), reduced_shape(shape, axes, bool(keepdims)),
        f"count_{source.name}", integer=True, axis=axes,
        keepdims=True if keepdims else None)


COUNT_NONZERO = ArrayOp("count_nonzero", numpy=("count_nonzero",),
                        lower=_lower_count_nonzero, stops_gradient=True,
                        spell=spell_reduction("np.count_nonzero"),
                        any_size=True)
