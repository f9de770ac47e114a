"""The arrays a generated function makes: each made as the user made it,
and none copied that nothing else reads.

Two ``np.zeros(n)`` of the user's code are one value to the program, and
each fill of it starts from a new array like it, so the code read ``zeros
= np.zeros(26); x = np.zeros_like(zeros); v = np.zeros_like(zeros)``.
Where the array is read only to make others like it, each is made as it
was: ``x = np.zeros(26); v = np.zeros(26)``.

A loop that fills an array it carries starts from a copy of it, so that
no other name sees the fills. An array the function made (``Y =
np.zeros(...); Y[0] = y0``) that nothing reads after the copy but for its
shape needs none: the loop fills ``Y`` itself.

A copy that nothing fills, only read by operations that make a new array
(``y = np.where(x > 1, 0, np.copy(x))``, what ``y = x.copy(); y[x > 1] =
0.0`` lowers to), is the array itself: ``np.where(x > 1, 0, x)``.
"""

from __future__ import annotations

import ast
import copy

import numpy as np

from ._dead_code import filled_arrays, owned_arrays
from ._dotted import dotted
from ._walk import walk

__all__ = ["buffers_apart", "copies_unneeded", "sizes_written"]

# What an array made by each of these and then read by the other makes.
_ALIKE = {"np.zeros_like": "np.zeros", "np.ones_like": "np.ones",
          "np.empty_like": "np.empty"}
_MADE = frozenset(_ALIKE.values())


def buffers_apart(statements: list[ast.stmt]) -> list[ast.stmt]:
    """``statements`` (a function's) with ``z = np.zeros(shape)``, read
    only by ``np.zeros_like(z)`` (ones, empty), gone and each of those
    reads made ``np.zeros(shape)``, where ``shape`` reads names bound
    once."""
    stores: dict[str, int] = {}
    loads: dict[str, list[ast.Name]] = {}
    for statement in statements:
        for node in walk(statement):
            if isinstance(node, ast.Name):
                if isinstance(node.ctx, ast.Store):
                    stores[node.id] = stores.get(node.id, 0) + 1
                else:
                    loads.setdefault(node.id, []).append(node)
    alike: dict[int, ast.Call] = {}
    for statement in statements:
        for node in walk(statement):
            # (the attribute first: unparsing every call costs)
            if isinstance(node, ast.Call) and isinstance(
                    node.func, ast.Attribute) and f"np.{node.func.attr}" in \
                    _ALIKE and dotted(node.func) in _ALIKE and len(
                    node.args) == 1 and not node.keywords and isinstance(
                    node.args[0], ast.Name):
                alike[id(node.args[0])] = node
    gone = []
    for statement in statements:
        if not (isinstance(statement, ast.Assign)
                and len(statement.targets) == 1
                and isinstance(statement.targets[0], ast.Name)
                and isinstance(statement.value, ast.Call)
                and dotted(statement.value.func) in _MADE):
            continue
        name, made = statement.targets[0].id, statement.value
        reads = loads.get(name, [])
        # (a shape the line computes, np.zeros(4).shape[0], would be
        # computed at each array made)
        if stores.get(name) != 1 or not reads or any(
                id(read) not in alike for read in reads) or any(
                stores.get(n.id, 0) > 1 for n in walk(made)
                if isinstance(n, ast.Name)) or any(
                isinstance(n, ast.Call) for a in made.args + [
                    k.value for k in made.keywords] for n in walk(a)):
            continue
        for read in reads:
            call = alike[id(read)]
            kind = _ALIKE[dotted(call.func)]
            call.func = ast.parse(kind, mode="eval").body
            call.args = [_copy(a) for a in made.args]
            call.keywords = [_copy(k) for k in made.keywords]
        gone.append(statement)
    return [s for s in statements if not any(s is g for g in gone)]


def _copy(node: ast.AST) -> ast.AST:
    return ast.parse(ast.unparse(node), mode="eval").body if isinstance(
        node, ast.expr) else ast.keyword(node.arg, _copy(node.value))


def copies_unneeded(statements: list[ast.stmt],
                    numbers: frozenset[str] = frozenset()
                    ) -> list[ast.stmt]:
    """``statements`` (a function's) with ``a = np.copy(x)`` made ``a = x``
    where ``x`` is bound once, to a new array (or is such an array under
    another name, a copy made ``x = y`` here before), and read otherwise
    only for its shape and, before the copy, where it is filled (``x[0] =
    x0``) or where what is read is kept in no name but ``numbers`` (names
    of 0-d values: ``x_0 = x[0]`` of a vector is no view of it).

    First, copies only read are read as what they copy
    (``_copies_only_read``)."""
    statements = _copies_only_read(statements)
    # name -> how many times it is bound, and its one Assign if any
    counts: dict[str, int] = {}
    assigned: dict[str, ast.Assign] = {}
    for statement in statements:
        for node in walk(statement):
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                counts[node.id] = counts.get(node.id, 0) + 1
            if isinstance(node, ast.Assign) and len(node.targets) == 1 \
                    and isinstance(node.targets[0], ast.Name):
                assigned[node.targets[0].id] = node
    root_of: dict[str, str] = {}  # a copy made an alias -> the array
    arrays = owned_arrays(statements)
    # (each statement's reads found once, not once per copy)
    fills = [_fills_only(s, numbers, arrays) for s in statements]
    unsized: dict[tuple[int, bool], set[str]] = {}
    for place, statement in enumerate(statements):
        source = _copied(statement)
        if source is None:
            continue
        root = root_of.get(source, source)
        made = assigned.get(root)
        names = {root} | {n for n, r in root_of.items() if r == root}
        if made is None or counts.get(root) != 1 or not _new(made.value) \
                or not any(made is s for s in statements[:place]) or any(
                counts.get(n) != 1 for n in names):
            continue
        if all(_filled_or_sized(k, names, k < place, statements, fills,
                                unsized)
               for k in range(len(statements)) if k != place):
            statement.value = statement.value.args[0]  # type: ignore
            root_of[statement.targets[0].id] = root  # type: ignore
            # (an alias's value is read as naming the array again)
            unsized.pop((place, True), None)
            unsized.pop((place, False), None)
    return statements


# Calls that read their arguments' values only, into a new array.
_CONSUMING = frozenset(("np.where", "np.copy", "np.sum", "np.dot",
                        "np.matmul", "np.outer", "np.einsum",
                        "np.tensordot", "np.zeros_like", "np.ones_like",
                        "np.empty_like", "np.full_like"))


def _consumes(parent: ast.AST, child: ast.expr) -> bool:
    """Whether ``parent`` reads ``child`` (an array) only for its values
    (or shape) into a new array, so that a copy of it would do no more:
    arithmetic, a comparison, a ufunc, ``np.where``, a reduction."""
    if isinstance(parent, (ast.BinOp, ast.UnaryOp, ast.Compare)):
        return True
    if isinstance(parent, ast.Attribute):
        return parent.attr == "shape"
    if not (isinstance(parent, ast.Call) and child in parent.args) or any(
            k.arg == "out" for k in parent.keywords):
        return False
    spelled = dotted(parent.func)
    return spelled in _CONSUMING or spelled.startswith("np.") and isinstance(
        getattr(np, spelled[3:], None), np.ufunc)


def _copies_only_read(statements: list[ast.stmt]) -> list[ast.stmt]:
    """``statements`` with ``np.copy(e)`` read as ``e`` where what reads
    the copy consumes it (``_consumes``), and ``a = np.copy(x)`` made ``a
    = x`` where each read of ``a`` consumes it, nothing fills ``a`` or
    ``x``, ``x`` is bound at most once and not after the copy (an
    argument, or a value the code computed), and every array the code
    fills is one it made new, no view of ``x``: the copy holds what ``x``
    holds wherever it is read."""
    for statement in statements:
        _copies_consumed(statement)
    filled = set().union(*map(filled_arrays, statements))
    if not filled <= owned_arrays(statements):
        return statements
    # One walk for every copy: each node's parent, each name's reads and
    # where it is bound (making a copy an alias takes no name's read or
    # binding away but np's).
    parents: dict[int, ast.AST] = {}
    reads: dict[str, list[ast.Name]] = {}
    bound_at: dict[str, list[int]] = {}
    for place, statement in enumerate(statements):
        for node in walk(statement):
            for child in ast.iter_child_nodes(node):
                parents[id(child)] = node
            if isinstance(node, ast.Name):
                if isinstance(node.ctx, ast.Store):
                    bound_at.setdefault(node.id, []).append(place)
                elif isinstance(node.ctx, ast.Load):
                    reads.setdefault(node.id, []).append(node)
    for place, statement in enumerate(statements):
        source = _copied(statement)
        if source is None:
            continue
        name = statement.targets[0].id  # type: ignore[attr-defined]
        bindings = bound_at.get(source, [])
        if len(bound_at.get(name, [])) == 1 and len(bindings) <= 1 and \
                not any(at >= place for at in bindings) and not {
                    name, source} & filled and all(
                _consumes(parents[id(read)], read)
                for read in reads.get(name, [])):
            statement.value = statement.value.args[0]  # type: ignore
    return statements


def _copies_consumed(node: ast.AST) -> None:
    """``node`` with each ``np.copy(e)`` in it that is consumed read as
    ``e``, innermost first."""
    for child in ast.iter_child_nodes(node):
        _copies_consumed(child)
    for field, value in ast.iter_fields(node):
        items = value if isinstance(value, list) else [value]
        for at, item in enumerate(items):
            copied = _copy_argument(item)
            if copied is not None and _consumes(node, item):
                items[at] = copied
        if not isinstance(value, list):
            setattr(node, field, items[0])


def _copy_argument(node: ast.AST) -> ast.expr | None:
    """e of ``np.copy(e)``."""
    if isinstance(node, ast.Call) and len(node.args) == 1 and \
            not node.keywords and dotted(node.func) == "np.copy":
        return node.args[0]
    return None


def _copied(statement: ast.stmt) -> str | None:
    """x of ``a = np.copy(x)``."""
    if isinstance(statement, ast.Assign) and len(statement.targets) == 1 \
            and isinstance(statement.targets[0], ast.Name) \
            and isinstance(statement.value, ast.Call) \
            and dotted(statement.value.func) == "np.copy" \
            and len(statement.value.args) == 1 \
            and isinstance(statement.value.args[0], ast.Name):
        return statement.value.args[0].id
    return None


def _new(value: ast.expr) -> bool:
    return isinstance(value, ast.Call) and dotted(value.func) in (
        _MADE | set(_ALIKE) | {"np.full", "np.full_like", "np.copy"})


def _filled_or_sized(place: int, names: set[str], before: bool,
                     statements: list[ast.stmt], fills: list[bool],
                     unsized: dict[tuple[int, bool], set[str]]) -> bool:
    """Whether the statement at ``place`` reads ``names`` (one array) only
    as ``name.shape`` and, ``before`` the copy, to fill it (``name[k] =
    v``), to name it again (``a = name``, a copy made an alias) or to
    compute what is kept in no name but numbers and items of new arrays
    the code made (``fills``, by ``_fills_only``). ``unsized``: the names
    each statement reads otherwise (``_reads_otherwise``), found once."""
    if before and fills[place]:
        return True
    reads = unsized.get((place, before))
    if reads is None:
        reads = unsized[place, before] = _reads_otherwise(
            statements[place], before)
    return not names & reads


def _fills_only(statement: ast.stmt, numbers: frozenset[str],
                arrays: frozenset[str]) -> bool:
    """Whether ``statement`` keeps what it computes in no name but
    ``numbers`` (names of 0-d values) and items of ``arrays`` (new arrays
    the code made: ``a[k] = name[j]`` copies items; ``n = name[0]`` of a
    vector is a number)."""
    return isinstance(statement, (ast.Assign, ast.AugAssign)) and \
        all((isinstance(t, ast.Subscript) and isinstance(
            t.value, ast.Name) and t.value.id in arrays) or (
            isinstance(t, ast.Name) and t.id in numbers)
            for t in getattr(statement, "targets", [
                getattr(statement, "target", None)]))


def _reads_otherwise(statement: ast.stmt, before: bool) -> set[str]:
    """The names ``statement`` reads other than as ``name.shape`` and,
    ``before`` the copy, as the array it fills or the value it names
    again."""
    allowed = {id(node.value) for node in walk(statement)
               if isinstance(node, ast.Attribute) and node.attr == "shape"}
    if before:
        targets = statement.targets if isinstance(
            statement, ast.Assign) else [statement.target] if isinstance(
            statement, ast.AugAssign) else []
        allowed |= {id(t.value) for t in targets
                    if isinstance(t, ast.Subscript)}
        if isinstance(statement, ast.Assign) and isinstance(
                statement.value, ast.Name):
            allowed.add(id(statement.value))
    return {node.id for node in walk(statement)
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load)
            and id(node) not in allowed}


class _Sizes(ast.NodeTransformer):
    def __init__(self, made: dict[str, list[ast.expr]],
                 stores: dict[str, int]) -> None:
        self.made, self.stores = made, stores

    def visit_Attribute(self, node: ast.Attribute) -> ast.expr:
        node = self.generic_visit(node)  # type: ignore[assignment]
        sizes = self.sizes_of(node.value) if node.attr == "shape" else None
        if sizes is None or not all(_count(n) for n in sizes):
            return node
        return ast.Tuple([copy.deepcopy(n) for n in sizes], ast.Load())

    def visit_Subscript(self, node: ast.Subscript) -> ast.expr:
        node = self.generic_visit(node)  # type: ignore[assignment]
        number = _item_of_number(node)
        if number is not None:
            return number
        shape = node.value
        sizes = shape.elts if isinstance(shape, ast.Tuple) and all(
            _count(n) for n in shape.elts) else self.sizes_of(
            shape.value) if isinstance(shape, ast.Attribute) and \
            shape.attr == "shape" else None
        at = node.slice.value if isinstance(node.slice, ast.Constant) \
            else None
        if sizes is not None and type(at) is int and \
                -len(sizes) <= at < len(sizes) and self.fixed(sizes[at]):
            return copy.deepcopy(sizes[at])
        return node

    def sizes_of(self, array: ast.expr) -> list[ast.expr] | None:
        """The sizes ``array`` was made with, written out."""
        if isinstance(array, ast.Name):
            return self.made.get(array.id)
        return _sizes_made(array)

    def fixed(self, size: ast.expr) -> bool:
        """Whether ``size`` reads the same wherever it is read: numbers,
        names bound once, shapes of such, arithmetic of them."""
        return all(
            isinstance(n, (ast.Constant, ast.BinOp, ast.UnaryOp,
                           ast.operator, ast.unaryop, ast.expr_context))
            or (isinstance(n, ast.Name) and self.stores.get(n.id, 0) <= 1)
            or (isinstance(n, ast.Attribute) and n.attr == "shape")
            or (isinstance(n, ast.Subscript)
                and isinstance(n.slice, ast.Constant))
            for n in walk(size))


def sizes_written(statements: list[ast.stmt]) -> list[ast.stmt]:
    """``statements`` with the sizes of an array made here read as what
    it was made with: ``np.zeros((2, n))``, not ``np.zeros((np.zeros(2)
    .shape[0], n))``; ``np.zeros((n + 1, m, m))``, not ``np.zeros((
    zeros.shape[0], m, m))`` (the sizes of a value the code needs only
    for them); and an item of a number broadcast read as the number
    (``1``, not ``np.broadcast_to(1, (y.shape[0],))[3]``, the seed of a
    sum read at the row a fill took)."""
    stores: dict[str, int] = {}
    for statement in statements:
        # (a name a loop binds is bound again at each iteration, and one
        # a branch binds may be bound before it too)
        times = 1 if isinstance(statement, (ast.Assign, ast.AugAssign,
                                            ast.AnnAssign)) else 2
        for node in walk(statement):
            if isinstance(node, ast.Name) and isinstance(node.ctx,
                                                         ast.Store):
                stores[node.id] = stores.get(node.id, 0) + times
    made = {}
    for statement in statements:
        if isinstance(statement, ast.Assign) and len(
                statement.targets) == 1 and isinstance(
                statement.targets[0], ast.Name) and stores[
                statement.targets[0].id] == 1:
            sizes = _sizes_made(statement.value)
            if sizes is not None:
                made[statement.targets[0].id] = sizes
    sizes = _Sizes(made, stores)
    statements = [sizes.visit(statement) for statement in statements]
    # A size now written as a number is that number where it is read
    # (``n1_2 = 2`` would be a second name for it).
    numbers = {s.targets[0].id: s.value for s in statements
               if isinstance(s, ast.Assign) and len(s.targets) == 1
               and isinstance(s.targets[0], ast.Name)
               and stores[s.targets[0].id] == 1 and _count(s.value)}
    if not numbers:
        return statements
    kept = [s for s in statements if not (
        isinstance(s, ast.Assign) and isinstance(s.targets[0], ast.Name)
        and s.targets[0].id in numbers)]
    return [_Numbers(numbers).visit(statement) for statement in kept]


class _Numbers(ast.NodeTransformer):
    def __init__(self, numbers: dict[str, ast.expr]) -> None:
        self.numbers = numbers

    def visit_Name(self, node: ast.Name) -> ast.expr:
        if isinstance(node.ctx, ast.Load) and node.id in self.numbers:
            return copy.deepcopy(self.numbers[node.id])
        return node


def _sizes_made(node: ast.expr) -> list[ast.expr] | None:
    """The sizes of ``np.zeros(2)``, ``np.ones((n, 3))``, ``np.full(2,
    v)`` as written."""
    if not (isinstance(node, ast.Call) and node.args and dotted(
            node.func) in _MADE | {"np.full"}):
        return None
    shape = node.args[0]
    return list(shape.elts) if isinstance(shape, ast.Tuple) else [shape]


def _count(size: ast.expr) -> bool:
    """Whether ``size`` is a number of items written as a number."""
    return isinstance(size, ast.Constant) and type(size.value) is int \
        and size.value >= 0


def _item_of_number(node: ast.Subscript) -> ast.expr | None:
    """``c`` for ``np.broadcast_to(c, shape)[k]``, ``c`` a number and
    ``k`` one index that is a number per axis of ``shape``, each 0 or
    more (the user's code filled row ``k``, so it has one)."""
    call = node.value
    if not (isinstance(call, ast.Call) and len(call.args) == 2
            and not call.keywords
            and dotted(call.func) == "np.broadcast_to"
            and isinstance(call.args[0], ast.Constant)
            and type(call.args[0].value) in (int, float)
            and isinstance(call.args[1], ast.Tuple)):
        return None
    index = node.slice.elts if isinstance(node.slice, ast.Tuple) else [
        node.slice]
    if len(index) == len(call.args[1].elts) and all(
            isinstance(k, ast.Constant) and type(k.value) is int
            and k.value >= 0 for k in index):
        return call.args[0]
    return None
