"""Passes over a written array function's statements, as a person tidies.

One axis written as an int, arithmetic two places compute named once
(``_shared``), a second name for a value dropped, assignments nothing
reads dropped, and the parts of a call that returns a tuple unpacked from
one call. The writer binds each name once, so no pass changes what the
code computes.
"""

from __future__ import annotations

import ast
import re
from typing import Any

from ._dead_code import filled_arrays
from ._dotted import dotted
from ._expression_keys import Keys
from ._program import unique_name
from ._walk import walk

__all__ = ["tidied", "part_of_call", "shared_with_tests"]


def tidied(statements: list[ast.stmt], taken: set[str]) -> list[ast.stmt]:
    """``statements`` after every pass, naming shared values apart from
    the names ``taken``. The parts of a call are unpacked first, so that
    the call is not named as a value computed twice (``shared =
    np.tril_indices(n); rows = shared[0]``), and again after the passes
    that drop names between them."""
    return _unpacked(_read(_unaliased(_shared_in_branches(_shared(
        _shared_in_loops(_doubled(_single_axes(_unpacked(statements))),
                         taken), taken), taken))))


def _shared_in_loops(statements: list[ast.stmt], taken: set[str]
                     ) -> list[ast.stmt]:
    """``statements`` with what each loop's body computes twice named
    once in it (``_shared``), leaving alone what reads a value the body
    changes: a carried name (read before the body binds it) or an array
    it fills."""
    for statement in statements:
        if isinstance(statement, (ast.For, ast.While)):
            body = _shared_in_loops(statement.body, taken)
            bound: set[str] = set()
            read_first: set[str] = set()  # before the body binds them
            for inner in body:
                read_first |= {node.id for node in walk(inner)
                               if isinstance(node, ast.Name)
                               and isinstance(node.ctx, ast.Load)} - bound
                bound |= _bound_in([inner])
            statement.body = _shared(body, taken, (read_first & bound)
                                     | _filled_in(body), in_loop=True)
    return statements


def _shared_in_branches(statements: list[ast.stmt], taken: set[str],
                        changing: set[str] | None = None
                        ) -> list[ast.stmt]:
    """``statements`` with what each branch of an if computes twice named
    once in it (``_shared`` names at the top only what the code computes
    whichever way it goes). A branch's names may be read after the if,
    and another branch may bind them: none is taken away."""
    if changing is None:
        changing = _rebound(statements)
    for statement in statements:
        if isinstance(statement, ast.If):
            for branch in ("body", "orelse"):
                inner = _shared_in_branches(getattr(statement, branch),
                                            taken, changing)
                setattr(statement, branch, _shared(inner, taken, changing,
                                                   in_loop=True))
    return statements


def _nodes(statement: ast.stmt) -> list[tuple[ast.AST, bool]]:
    """The nodes of ``statement``, each with whether the code computes
    it only on one side of a condition (a branch of an if, of an ``a if
    c else b``): such a value, computed once before the condition, would
    be computed where the code does not compute it (an inverse of the
    singular matrix a branch is there to avoid)."""
    if isinstance(statement, ast.If):
        return [(node, False) for node in walk(statement.test)] + [
            (node, True) for branch in (statement.body, statement.orelse)
            for inner in branch for node in walk(inner)]
    nodes = list(walk(statement))
    sides = {id(node) for ternary in nodes if isinstance(ternary, ast.IfExp)
             for side in (ternary.body, ternary.orelse)
             for node in walk(side)}
    return [(node, id(node) in sides) for node in nodes]


def _bound_in(statements: list[ast.stmt]) -> set[str]:
    return {node.id for statement in statements
            for node in walk(statement)
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store)}


def _filled_in(statements: list[ast.stmt]) -> set[str]:
    """The arrays ``statements`` fill in place (``x += v`` too)."""
    return set().union(*map(filled_arrays, statements)) | {
        node.target.id for statement in statements
        for node in walk(statement)
        if isinstance(node, ast.AugAssign)
        and isinstance(node.target, ast.Name)}


def _single_axes(statements: list[ast.stmt]) -> list[ast.stmt]:
    """``statements`` with ``axis=(1,)`` written ``axis=1``, as a person
    writes one axis (the same reduction for every NumPy function that
    takes a tuple of axes; the rows keep axes as tuples)."""
    for statement in statements:
        for node in walk(statement):
            if isinstance(node, ast.keyword) and node.arg == "axis" and \
                    isinstance(node.value, ast.Tuple) and \
                    len(node.value.elts) == 1:
                node.value = node.value.elts[0]
    return statements


class _Doubling(ast.NodeTransformer):
    def visit_BinOp(self, node: ast.BinOp) -> ast.expr:
        node = self.generic_visit(node)  # type: ignore[assignment]
        if isinstance(node.op, ast.Add) and ast.unparse(
                node.left) == ast.unparse(node.right):
            return _times_two(node.left)
        return node


def _times_two(node: ast.expr) -> ast.expr:
    """``2 * node``, with a leading constant factor of ``node`` doubled
    (exactly: doubling a float only adds to its exponent)."""
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult) and \
            isinstance(node.left, ast.Constant) and type(
                node.left.value) in (int, float):
        factor = 2 * node.left.value
        return node.right if factor == 1 else ast.BinOp(
            ast.Constant(factor), ast.Mult(), node.right)
    return ast.BinOp(ast.Constant(2), ast.Mult(), node)


def _doubled(statements: list[ast.stmt]) -> list[ast.stmt]:
    """``statements`` with ``a + a`` written ``2 * a`` (the same float):
    the two contributions of one value to a gradient (``r @ r``'s two
    operands) are added where the program adds them, after SymPy, which
    would have collected them."""
    return [_Doubling().visit(statement) for statement in statements]


def _shared(statements: list[ast.stmt], taken: set[str],
            changing_too: set[str] = frozenset(), in_loop: bool = False
            ) -> list[ast.stmt]:
    """``statements`` with arithmetic of two operations or more that
    two places compute (the common-subexpression pass misses a part of a
    longer sum, ``a * c - b`` in ``x + a * c - b``) named once, before
    its first use. Arrays are filled where they are made, and a name bound
    once holds one value; what reads a name a loop binds again (``E``
    before ``while ...: E = ...`` and after it) is left where it is.
    ``in_loop``: ``statements`` are a loop's body, whose names the code
    after the loop may read: none is taken away, and nothing reading
    ``changing_too`` (carried, or filled) is shared or moved."""
    changing = _rebound(statements) | changing_too
    filled = _filled_in(statements)  # (sharing names no fill anew)
    table: dict[tuple[object, ...], int] = {}  # (keys comparable)
    # Kept from one round to the next: a round changes the expressions
    # it names a value in, and _replaced says which; only reading an
    # alias's name anew changes names in place, and then keys are made
    # anew. (A Hessian's code is walked up to 20 times here.)
    keys = Keys(table, changing)
    for _ in range(_LONGEST_SHARING):
        # A value named twice is then one name: what reads it is alike.
        if not in_loop:
            unaliased = _unaliased(statements)
            if unaliased is not statements:
                keys = Keys(table, changing)
            statements = unaliased
        # (an array filled in place after it is made, a carried tangent
        # np.copy(t) or 2 * h, is one array of its own: a second made
        # alike is another, which one name would make the same)
        own = {id(value) for value in _own_arrays(statements, filled)}
        places: dict[int, list[int]] = {}
        nodes: dict[int, ast.expr] = {}
        always: set[int] = set()  # computed outside every condition
        named: dict[int, tuple[str, int]] = {}  # values given a name
        for position, statement in enumerate(statements):
            if isinstance(statement, (ast.For, ast.While)):
                continue  # its names change from one iteration to the next
            if isinstance(statement, ast.Assign) and isinstance(
                    statement.targets[0], ast.Name) and id(
                    statement.value) not in own and not (
                    in_loop and statement.targets[0].id in changing):
                named.setdefault(keys.key(statement.value),
                                 (statement.targets[0].id, position))
            for node, conditional in _nodes(statement):
                if isinstance(node, ast.expr) and id(node) not in own:
                    # By structure, which is text: np.hypot is an
                    # attribute of np or one name.
                    facts = keys.of(node)
                    if _is_work(node, facts.work_below) and not facts.reads:
                        places.setdefault(facts.key, []).append(position)
                        nodes.setdefault(facts.key, node)
                        if not conditional:
                            always.add(facts.key)
        # (only what the code computes whichever way it goes)
        repeated = [k for k, p in places.items()
                    if len(p) > 1 and k in always]
        if not repeated:
            return statements
        # The largest first (the longest text, the first of equal ones).
        key = max(repeated, key=lambda k: len(ast.unparse(nodes[k])))
        # (only the statements that compute it change)
        holding = {id(statements[p]) for p in places[key]}
        name, where = named.get(key, ("", -1))
        if where != places[key][0]:
            # Named where it is first computed: by its own name, moved
            # up from where it was named later, else as shared.
            if where >= 0:
                del statements[where]
            else:
                name = unique_name(_shared_name(nodes[key], statements),
                                   taken)
                taken.add(name)
            statements.insert(places[key][0], ast.Assign(
                [ast.Name(name, ast.Store())], nodes[key], None))
        statements = [s if id(s) not in holding or (
            isinstance(s, ast.Assign) and isinstance(s.targets[0], ast.Name)
            and s.targets[0].id == name)
            else _replaced(s, key, name, own, keys)[0] for s in statements]
    return statements


def _own_arrays(statements: list[ast.stmt], filled: set[str]
                ) -> list[ast.expr]:
    """The values of ``name = value`` in ``statements`` where code after
    it fills ``name`` in place (``filled``), also in a loop."""
    return [s.value for s in statements if isinstance(s, ast.Assign)
            and len(s.targets) == 1 and isinstance(s.targets[0], ast.Name)
            and s.targets[0].id in filled]


def _bindings(statements: list[ast.stmt]) -> dict[str, int]:
    """How many times each name is bound."""
    bound: dict[str, int] = {}
    for statement in statements:
        for node in walk(statement):
            if isinstance(node, ast.Name) and isinstance(node.ctx,
                                                         ast.Store):
                bound[node.id] = bound.get(node.id, 0) + 1
    return bound


def _rebound(statements: list[ast.stmt]) -> set[str]:
    """The names bound more than once (a loop's carried values)."""
    return {name for name, count in _bindings(statements).items()
            if count > 1}


# Arrays made to be filled: two of them are two arrays, never one.
_BUFFERS = ("np.zeros_like", "np.zeros", "np.empty_like", "np.empty")


def _is_work(node: ast.expr, work_below: bool) -> bool:
    """A call (not of an array to fill) or arithmetic of two operations
    or more (``work_below``: a call or arithmetic inside it): what is
    worth computing once."""
    if isinstance(node, ast.Call):
        return not (isinstance(node.func, ast.Attribute) and isinstance(
            node.func.value, ast.Name) and
            f"{node.func.value.id}.{node.func.attr}" in _BUFFERS)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Pow):
        return not (isinstance(node.right, ast.Constant)
                    and node.right.value == 0)  # x ** 0: x's shape only
    return isinstance(node, ast.BinOp) and work_below


def _shared_name(node: ast.expr, statements: list[ast.stmt]) -> str:
    """``x_sq`` for ``x ** 2``, ``r_pow8`` for ``r_pow4 ** 2`` (a power
    of a name that holds a power, as ``_subexpressions`` names it),
    ``shared``
    for other values."""
    powers = {s.targets[0].id: s.value for s in statements
              if isinstance(s, ast.Assign) and isinstance(s.targets[0],
                                                          ast.Name)
              and _integer_power(s.value) is not None}
    power = _integer_power(node)
    if power is None:
        return "shared"
    base, exponent = power
    while base in powers:  # a name bound once: a power of its base
        inner, times = _integer_power(powers[base])  # type: ignore[misc]
        base, exponent = inner, exponent * times
    suffix = {2: "sq", 3: "cube"}.get(exponent, f"pow{exponent}")
    return f"{base}_{suffix}"


def _integer_power(node: ast.expr) -> tuple[str, int] | None:
    """``("x", 4)`` for ``(x ** 2) ** 2``, ``("x", 3)`` for ``x * x * x``:
    a name to a power of 2 or more."""
    factors = _factors(node)
    if len(factors) > 1 and all(ast.dump(f) == ast.dump(factors[0])
                                for f in factors):
        one = ((factors[0].id, 1) if isinstance(factors[0], ast.Name)
               else _integer_power(factors[0]))
        return None if one is None else (one[0], one[1] * len(factors))
    if not (isinstance(node, ast.BinOp) and isinstance(node.op, ast.Pow)
            and isinstance(node.right, ast.Constant)
            and type(node.right.value) is int and node.right.value > 1):
        return None
    if isinstance(node.left, ast.Name):
        return node.left.id, node.right.value
    inner = _integer_power(node.left)
    return None if inner is None else (inner[0],
                                       inner[1] * node.right.value)


# Rounds of _shared at most (each names one value).
_LONGEST_SHARING = 20


def _replaced(node: ast.AST, key: int, name: str, own: set[int],
              keys: Keys) -> tuple[ast.AST, bool]:
    """``node`` with each expression of ``key`` (but the arrays ``own``,
    by id) read as ``name``, and whether anything in it changed."""
    if isinstance(node, ast.expr) and id(node) not in own and keys.key(
            node) == key:
        return ast.Name(name, ast.Load()), True
    changed = False
    for field, value in ast.iter_fields(node):
        if isinstance(value, list):
            for i, item in enumerate(value):
                if isinstance(item, ast.AST):
                    new, inner = _replaced(item, key, name, own, keys)
                    value[i] = new
                    changed = changed or inner
        elif isinstance(value, ast.AST):
            new, inner = _replaced(value, key, name, own, keys)
            setattr(node, field, new)
            changed = changed or inner
    if changed:
        keys.changed(node)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult) and \
            keys.key(node.left) == keys.key(_squared(node.right)):
        # (a * b) ** 2 * (a * b), named: shared ** 3
        return ast.BinOp(node.right, ast.Pow(), ast.Constant(3)), True
    return node, changed


def _factors(node: ast.expr) -> list[ast.expr]:
    """The factors of a product, ``[a, b, c]`` for ``a * b * c``."""
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult):
        return _factors(node.left) + _factors(node.right)
    return [node]


def _squared(node: ast.expr) -> ast.expr:
    return ast.BinOp(node, ast.Pow(), ast.Constant(2))


def _unaliased(statements: list[ast.stmt]) -> list[ast.stmt]:
    """``statements`` without ``a = b`` (two temporaries found to hold one
    value, also in a branch of an if: ``_shared`` names there a value the
    branches compute alike): ``a`` is read as ``b``. Each name is bound
    once, so this is the same code. (Not in a loop's body, where a name
    bound once takes a value in each iteration: ``a = b`` before ``b``
    is bound anew holds the last iteration's.)"""
    candidates = [s for s in _outside_loops(statements)
                  if isinstance(s, ast.Assign) and len(s.targets) == 1
                  and isinstance(s.targets[0], ast.Name)
                  and isinstance(s.value, ast.Name)]
    if not candidates:  # (the usual case: no walk of every statement)
        return statements
    bound = _bindings(statements)
    aliases = {s.targets[0].id: s.value.id for s in candidates
               if bound[s.targets[0].id] == 1
               and bound.get(s.value.id, 0) <= 1}
    if not aliases:
        return statements

    def original(name: str) -> str:
        while name in aliases:
            name = aliases[name]
        return name

    # A value _shared named, read under a name that says what it is
    # (svd_A = shared_1): it takes that name.
    renamed: dict[str, str] = {}
    for alias in aliases:
        value = original(alias)
        if re.fullmatch(r"shared(_\d+)?", value) and bound.get(value) == 1:
            renamed.setdefault(value, alias)
    dropped = {id(s) for s in candidates if s.targets[0].id in aliases}
    kept = _without(statements, dropped)
    for statement in kept:
        for node in walk(statement):
            if isinstance(node, ast.Name):
                if isinstance(node.ctx, ast.Load):
                    node.id = original(node.id)
                node.id = renamed.get(node.id, node.id)
    return kept


def _outside_loops(statements: list[ast.stmt]) -> list[ast.stmt]:
    """``statements`` and those in the branches of their ifs, not in a
    loop."""
    found = []
    for statement in statements:
        found.append(statement)
        if isinstance(statement, ast.If):
            found += _outside_loops(statement.body)
            found += _outside_loops(statement.orelse)
    return found


def _without(statements: list[ast.stmt], dropped: set[int]
             ) -> list[ast.stmt]:
    """``statements`` without those ``dropped`` (by id), in the branches
    of their ifs too (a branch left empty passes)."""
    kept = [s for s in statements if id(s) not in dropped]
    for statement in kept:
        if isinstance(statement, ast.If):
            statement.body = _without(statement.body, dropped) or [
                ast.Pass()]
            statement.orelse = _without(statement.orelse, dropped)
    return kept


def _read(statements: list[ast.stmt]) -> list[ast.stmt]:
    """``statements`` without assignments to names nothing reads (a size
    ``n = x.shape[0]`` counted as a use where a shape was then written
    whole, ``x.shape``); generated code has no side effects but the arrays
    it fills, which are read."""
    while True:
        read = {node.id for statement in statements
                for node in walk(statement)
                if isinstance(node, ast.Name)
                and isinstance(node.ctx, ast.Load)}
        kept = [s for s in statements if not (
            isinstance(s, ast.Assign) and isinstance(s.targets[0], ast.Name)
            and s.targets[0].id not in read)]
        if len(kept) == len(statements):
            return kept
        statements = kept


# Calls that return a tuple, by its length: where the code reads each of
# its parts, it unpacks them from one call (sign, logdet = slogdet(a)).
_TUPLES = {"np.linalg.slogdet": 2, "np.tril_indices": 2,
           "np.triu_indices": 2}


def part_of_call(node: Any) -> tuple[str, int] | None:
    """``(call, i)`` for ``call(...)[i]`` of a call in _TUPLES."""
    if (isinstance(node, ast.Subscript) and isinstance(node.value, ast.Call)
            and dotted(node.value.func) in _TUPLES
            and isinstance(node.slice, ast.Constant)
            and isinstance(node.slice.value, int)):
        return ast.dump(node.value), node.slice.value
    return None


def _unpacked(statements: list[ast.stmt]) -> list[ast.stmt]:
    """``statements`` with ``a = f(x)[0]`` ... ``b = f(x)[1]`` written as
    ``a, b = f(x)`` where they name every part of the tuple: one call,
    not one per part. Only assignments to names may lie between them
    (nothing that fills an array the call reads)."""
    groups: list[dict[int, int]] = []
    open_: dict[str, dict[int, int]] = {}
    for position, statement in enumerate(statements):
        if not isinstance(statement, ast.Assign):
            # An array filled, or a branch: the next calls are others.
            groups += open_.values()
            open_ = {}
            continue
        part = part_of_call(statement.value)
        if part is not None and isinstance(statement.targets[0], ast.Name):
            open_.setdefault(part[0], {}).setdefault(part[1], position)
    groups += open_.values()
    merged: dict[int, ast.stmt] = {}
    dropped: set[int] = set()
    for parts in groups:
        first = min(parts.values())
        call = statements[first].value.value  # type: ignore[attr-defined]
        if sorted(parts) != list(range(_TUPLES[dotted(call.func)])):
            continue
        names = [statements[parts[i]].targets[0] for i in sorted(parts)]
        merged[first] = ast.Assign([ast.Tuple(names, ast.Store())], call,
                                   None)
        dropped |= set(parts.values()) - {first}
    return [merged.get(i, s) for i, s in enumerate(statements)
            if i not in dropped]


def shared_with_tests(statements: list[ast.stmt], taken: set[str]
                      ) -> list[ast.stmt]:
    """``statements`` (a function's body: an if per condition on its
    arguments, each branch returning) with the arithmetic a test computes
    and the code after it computes again named once, before the test
    (``x_sq = x ** 2`` before ``if not np.isnan(x_sq):``). The test runs
    whichever way the code goes, so the value is computed where it was;
    a value that reads a name the code binds after the test (a loop's
    carried value) is left where it is."""
    result = list(statements)
    position = 0
    while position < len(result):
        statement = result[position]
        if isinstance(statement, ast.If):
            rest = result[position:]
            after = [*statement.body, *statement.orelse, *rest[1:]]
            later = [inner for s in after for inner in walk(s)]
            bound = _bound_in(after)
            for node in _work_in(statement.test):
                text = ast.dump(node)
                if not _names_read(node) & bound and any(
                        ast.dump(n) == text for n in later
                        if isinstance(n, ast.expr)):
                    name = unique_name(_shared_name(node, result), taken)
                    taken.add(name)
                    rest = [_ReplacedByName(text, name).visit(s)
                            for s in rest]
                    result[position:] = [ast.Assign(
                        [ast.Name(name, ast.Store())], node, None), *rest]
                    position += 1
                    break
        position += 1
    return result


def _names_read(node: ast.expr) -> set[str]:
    return {n.id for n in walk(node) if isinstance(n, ast.Name)}


def _work_in(test: ast.expr) -> list[ast.expr]:
    """The arithmetic and calls in ``test`` worth naming, largest first."""
    found = [node for node in walk(test) if isinstance(
        node, (ast.BinOp, ast.Call)) and _is_work(node, True)
        and node is not test]
    return sorted(found, key=lambda n: -len(ast.unparse(n)))


class _ReplacedByName(ast.NodeTransformer):
    """Each expression whose dump is ``text`` read as ``name``."""

    def __init__(self, text: str, name: str) -> None:
        self.text = text
        self.name = name

    def generic_visit(self, node: ast.AST) -> ast.AST:
        if isinstance(node, ast.expr) and ast.dump(node) == self.text:
            return ast.Name(self.name, ast.Load())
        return super().generic_visit(node)
