"""Fence stage: reject syntax autodiff_ast does not differentiate, early.

Every unsupported construct is reported at the user's own file and line,
with what is wrong and what to write instead, before any symbolic work.
What passes the fence may still fail in lowering for reasons that depend on
values (an unknown callable, a loop bound that is not constant).
"""

from __future__ import annotations

import ast

import numpy as np

from ._dotted import dotted
from ._errors import error_at
from ._lists import GROWING
from ._source import FunctionSource

_STATEMENTS = (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Return, ast.If,
               ast.For, ast.While, ast.Pass, ast.Expr, ast.Break,
               ast.Continue, ast.FunctionDef, ast.Assert)

_CONSTANTS = (int, float, str, type(None), type(Ellipsis))

_BINARY = (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow, ast.FloorDiv,
           ast.Mod)

# Why a construct is refused, and what to write instead.
REFUSED_RAISE = ("raise is not supported: check arguments before calling "
                 "the function, or use np.where to handle the invalid "
                 "region")
_REFUSALS: dict[type, str] = {
    ast.Try: "try/except is not supported: a derivative cannot follow an "
             "exception; compute the value without it, or use np.where",
    ast.With: "with-blocks are not supported: keep context managers outside "
              "the function you differentiate",
    ast.AsyncWith: "async with is not supported: differentiate plain "
                   "functions",
    ast.AsyncFor: "async for is not supported: differentiate plain "
                  "functions",
    ast.Raise: REFUSED_RAISE,
    ast.Global: "global statements are not supported: a differentiated "
                "function must not change module state; return the value "
                "instead",
    ast.Nonlocal: "nonlocal statements are not supported: a differentiated "
                  "function must not change enclosing state; return the "
                  "value instead",
    ast.Delete: "del is not supported: drop the statement, the derivative "
                "does not need it",
    ast.Import: "import inside the function is not supported: import at "
                "module level",
    ast.ImportFrom: "import inside the function is not supported: import "
                    "at module level",
    ast.AsyncFunctionDef: "async functions are not supported",
    ast.ClassDef: "class definitions inside the function are not supported",
    ast.Yield: "generators are not supported: return a single value",
    ast.YieldFrom: "generators are not supported: return a single value",
    ast.Await: "await is not supported: differentiate plain functions",
    ast.SetComp: "set comprehensions are not supported: a set has no "
                 "order; use a list comprehension",
    ast.NamedExpr: "assignment expressions (:=) are not supported: assign "
                   "on its own line",
    ast.JoinedStr: "f-strings are not supported: a derivative computes "
                   "numbers only",
    ast.Starred: "*-unpacking is not supported: pass arguments one by one",
    ast.Set: "sets are not supported: use numbers",
    ast.LShift: "<< is not supported: write the multiplication",
    ast.RShift: ">> is not supported: write the division",
}
if hasattr(ast, "Match"):
    _REFUSALS[ast.Match] = ("match statements are not supported: use "
                            "if/elif/else")
if hasattr(ast, "TryStar"):
    _REFUSALS[ast.TryStar] = _REFUSALS[ast.Try]


def check_root(source: FunctionSource) -> None:
    """Refuse ``*args`` in a function lowered with its own parameters
    (a transform that takes each call's arguments as parameters lowers a
    function written for their count instead)."""
    node = source.node
    if node.args.vararg:
        raise error_at(node, f"{source.name} takes *{node.args.vararg.arg}"
                             ", which this transform does not take: name "
                             "each argument", source.filename,
                       list(source.lines))


def check(source: FunctionSource) -> None:
    """Raise UnsupportedCodeError at the first construct we cannot handle."""
    node = source.node

    def fail(at: ast.AST, message: str) -> None:
        raise error_at(at, message, source.filename, list(source.lines))

    if isinstance(node, ast.AsyncFunctionDef):
        fail(node, "async functions are not supported: differentiate a plain "
                   "`def` function")
    args = node.args
    if args.kwarg:  # (*args: each call's are parameters, _per_count)
        fail(node, f"{source.name} takes **{args.kwarg.arg}, which is not "
                   "supported: name each keyword argument, or take a dict "
                   f"({args.kwarg.arg}) as a positional argument")
    if args.kwonlyargs:  # those that cannot trail the positional ones
        fail(node, f"{source.name} has a keyword-only argument without a "
                   "default after arguments with defaults, which a "
                   "derivative cannot take as its trailing arguments: give "
                   "it a default, or make it positional")
    body: list[ast.AST] = ([node.body] if isinstance(node, ast.Lambda)
                           else list(node.body))
    # Every node once, in the order ast.walk gives them statement by
    # statement (walking 3000 statements costs 0.05 s a time).
    nodes = [child for statement in body for child in ast.walk(statement)]
    keys = _constant_keys(nodes)
    guarded = {id(node) for guard in nodes if argument_check(guard)
               for node in ast.walk(guard.body[0])}
    # An assert's message is read only when it fails (an f-string too),
    # and print()'s arguments never: lowering leaves print() out.
    guarded |= {id(node) for check in nodes
                if isinstance(check, ast.Assert) and check.msg is not None
                for node in ast.walk(check.msg)}
    guarded |= {id(node) for statement in nodes if _printed(statement)
                for argument in statement.value.args  # type: ignore
                + [k.value for k in statement.value.keywords]  # type: ignore
                for node in ast.walk(argument)}
    summed = {id(node.args[0]) for node in nodes if summed_generator(node)}
    # `head, *rest = x`: lowering groups the items as Python does.
    summed |= {id(element) for node in nodes if isinstance(node, ast.Assign)
               for target in node.targets if isinstance(target, ast.Tuple)
               for element in target.elts if _starred_name(element)}
    # The docstrings of functions defined inside: they do nothing.
    documented = {id(node.body[0].value) for node in nodes
                  if isinstance(node, ast.FunctionDef)
                  and isinstance(node.body[0], ast.Expr)
                  and _is_docstring(node.body[0].value, node.body)}
    for child in nodes:
        if id(child) in guarded or id(child) in summed:
            continue
        reason = _REFUSALS.get(type(child))
        if reason is not None:
            fail(_located(body, child), reason)
        if isinstance(child, ast.stmt) and not isinstance(
                child, _STATEMENTS):
            fail(child, f"{type(child).__name__} statements are not "
                        "supported")
        # A str can be legitimate (a dict key, an aux value, an
        # argument of a call refused anyway with a better reason): it
        # is refused in lowering, where it is used as a number.
        if isinstance(child, ast.Constant) and not isinstance(
                child.value, _CONSTANTS) and child not in keys:
            kind = type(child.value).__name__
            fail(child, f"{kind} literals are not supported: a "
                        "differentiated function computes with numbers")
        if isinstance(child, ast.Expr) and not _is_docstring(
                child.value, body) and id(child.value) not in documented \
                and not isinstance(
                child.value, (ast.Yield, ast.YieldFrom, ast.Await)) \
                and not _fills(child.value):
            fail(child, _changes_in_place(child.value) or (
                "expression statements are not supported: a call made "
                "for its side effect (logging, mutation) cannot be "
                "differentiated; remove it (print() is left out of "
                "derivatives)"))
        if isinstance(child, (ast.Assign, ast.AugAssign, ast.AnnAssign)):
            targets = (child.targets if isinstance(child, ast.Assign)
                       else [child.target])
            for target in targets:
                _check_target(target, fail)
        if isinstance(child, ast.For) and child.orelse:
            fail(child, "for-else is not supported: move the else-block "
                        "after the loop")


def _printed(node: ast.AST) -> bool:
    """Whether ``node`` is the statement ``print(...)`` (a print whose
    value is used is no statement lowering leaves out)."""
    return isinstance(node, ast.Expr) and isinstance(
        node.value, ast.Call) and isinstance(
        node.value.func, ast.Name) and node.value.func.id == "print"


def summed_generator(node: ast.AST) -> ast.comprehension | None:
    """The loop of ``sum(f(k) for k in ... if ...)`` (or of a list
    comprehension) with one ``for``: lowered as the loop it is."""
    if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
            and node.func.id == "sum" and len(node.args) == 1
            and not node.keywords
            and isinstance(node.args[0], (ast.GeneratorExp, ast.ListComp))):
        return None
    (generator, *more) = node.args[0].generators
    if more or generator.is_async:
        return None
    return generator


# What a check of arguments may read of them: what the code is generated
# for (shapes, ranks, sizes, dtypes), so the check is decided then.
_DECIDED = frozenset({"shape", "ndim", "size", "dtype"})
# The names such a check may call or compare with: ``len(xs)``,
# ``isinstance(p, dict)``, ``x.dtype == float``; and NumPy's types and its
# functions of dtypes, ``np.float64``, ``np.issubdtype(x.dtype,
# np.floating)``.
_TYPE_NAMES = frozenset({"len", "isinstance", "float", "int", "bool",
                         "complex"})
_DTYPE_ATTRIBUTES = frozenset(
    {"dtype", "issubdtype", "can_cast", "result_type", "promote_types"}
    | {name for name, value in vars(np).items()
       if isinstance(value, type) and issubclass(value, np.generic)})


def argument_check(statement: ast.AST) -> bool:
    """Whether ``statement`` is ``if <test>: raise ...`` where the test
    reads arguments only through what the code is generated for (``if
    x.ndim != 1:``, ``if len(xs) != 3:``, ``if x.dtype != np.float64:``,
    a shape guard): lowering decides it, and where it holds, refuses the
    call with the message."""
    if shape_guard(statement):
        return True
    if not (isinstance(statement, ast.If) and not statement.orelse
            and len(statement.body) == 1
            and isinstance(statement.body[0], ast.Raise)):
        return False
    read = {id(node.value) for node in ast.walk(statement.test)
            if isinstance(node, ast.Attribute)
            and node.attr in _DECIDED | _DTYPE_ATTRIBUTES}
    read |= {id(argument) for node in ast.walk(statement.test)
             if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
             and node.func.id in ("len", "isinstance")
             for argument in node.args}
    return all(id(node) in read or isinstance(node.ctx, ast.Store)
               for node in ast.walk(statement.test)
               if isinstance(node, ast.Name)
               and node.id not in _TYPE_NAMES)


def shape_guard(statement: ast.AST) -> list[ast.Compare] | None:
    """The tests of ``if x.shape != (4, 3) or ...: raise ValueError(...)``,
    the check at the top of array code that holds a size (closure: that
    code is read back, and lowering checks the shapes); None for any other
    statement."""
    if not (isinstance(statement, ast.If) and not statement.orelse
            and len(statement.body) == 1
            and isinstance(statement.body[0], ast.Raise)):
        return None
    test = statement.test
    tests = (test.values if isinstance(test, ast.BoolOp)
             and isinstance(test.op, ast.Or) else [test])
    for item in tests:
        if not (isinstance(item, ast.Compare) and len(item.ops) == 1
                and isinstance(item.ops[0], ast.NotEq)
                and isinstance(item.left, ast.Attribute)
                and item.left.attr == "shape"
                and isinstance(item.comparators[0], ast.Tuple)
                and all(isinstance(e, ast.Constant) and type(e.value) is int
                        for e in item.comparators[0].elts)):
            return None
    return tests  # type: ignore[return-value]


def _located(body: list[ast.AST], wanted: ast.AST) -> ast.AST:
    """``wanted`` if it has a position, else (an operator such as ``is`` or
    ``&``) the nearest enclosing node that has one."""
    if hasattr(wanted, "lineno"):
        return wanted
    located: dict[ast.AST, ast.AST] = {}
    for statement in body:
        for node in ast.walk(statement):
            for child in ast.iter_child_nodes(node):
                if not hasattr(child, "lineno"):
                    located[child] = located.get(node, node)
                if child is wanted:
                    return located.get(child, child)
    return wanted


def _constant_keys(nodes: list[ast.AST]) -> set[ast.AST]:
    """Constants used as keys: ``params[b'W']``, ``{b'W': w}``."""
    keys: set[ast.AST] = set()
    for node in nodes:
        if isinstance(node, ast.Subscript):
            parts = (node.slice.elts if isinstance(node.slice, ast.Tuple)
                     else [node.slice])
            keys.update(p for p in parts if isinstance(p, ast.Constant))
        elif isinstance(node, ast.Dict):
            keys.update(k for k in node.keys if isinstance(k, ast.Constant))
    return keys


def _is_docstring(node: ast.AST, body: list[ast.AST]) -> bool:
    first = body[0] if body else None
    return (isinstance(first, ast.Expr) and first.value is node
            and isinstance(node, ast.Constant)
            and isinstance(node.value, str))


# NumPy's functions that change their first argument in place, and the
# value to compute instead where one expression of the call's arguments
# says it (with how many arguments it needs).
_IN_PLACE: dict[str, tuple[int, str] | None] = {
    "np.fill_diagonal": (2, "{0} = np.where(np.eye({0}.shape[0], "
                            "{0}.shape[1], dtype=bool), {1}, {0})"),
    "np.putmask": (3, "{0} = np.where({1}, {2}, {0})"),
    "np.copyto": None,
    "np.place": None,
    "np.put": None,
}


def _changes_in_place(call: ast.expr) -> str | None:
    """The refusal of ``np.fill_diagonal(D, 1.0)`` and NumPy's other
    functions that change an array in place, naming the function and a
    fix that keeps the value (removing the call would change it)."""
    if not (isinstance(call, ast.Call) and call.args):
        return None
    spelled = dotted(call.func)
    if spelled not in _IN_PLACE:
        return None
    arguments = [ast.unparse(a) for a in call.args]
    fix = _IN_PLACE[spelled]
    instead = (f"compute the new array instead: {fix[1].format(*arguments)}"
               if fix is not None and len(arguments) >= fix[0] else
               "compute the new array instead (np.where, or a store "
               "d[i] = v into an array the function made)")
    return (f"{spelled}() changes {arguments[0]} in place, which a "
            f"derivative cannot follow (removing the call would change the "
            f"value); {instead}")


def _fills(call: ast.expr) -> bool:
    """``print(...)``, or ``np.add.at(d, key, v)`` or
    ``np.put_along_axis(d, ...)``, as gradients print a scatter: lowering
    checks that it is one of those and that ``d`` is an array the function
    made (closure: what we print is read back)."""
    if isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and \
            call.func.id == "print":
        return True  # lowering leaves out print() itself (not another)
    if not (isinstance(call, ast.Call)
            and isinstance(call.func, ast.Attribute)):
        return False
    owner = call.func.value
    if call.func.attr in GROWING and isinstance(owner, ast.Name):
        return True  # history.append(x): lowering checks the list is local
    return call.func.attr == "put_along_axis" or (
        call.func.attr == "at" and isinstance(owner, ast.Attribute)
        and owner.attr == "add")


def _starred_name(node: ast.AST) -> bool:
    return isinstance(node, ast.Starred) and isinstance(node.value, ast.Name)


def _check_target(target: ast.AST, fail,  # type: ignore[no-untyped-def]
                  top: bool = True) -> None:
    if isinstance(target, ast.Name):
        return
    if isinstance(target, ast.Subscript) and isinstance(target.value,
                                                        ast.Name):
        return  # d[key] = v: lowering checks that d is an array made here
    if isinstance(target, ast.Tuple):
        for element in target.elts:
            if not (top and _starred_name(element)):
                _check_target(element, fail, top=False)
        return
    if isinstance(target, ast.Starred):
        fail(target, "*-unpacking is supported into a name of the "
                     "outermost tuple only (head, *rest = x): unpack the "
                     "inner tuple in a statement of its own")
    fail(target, "assigning to an attribute or an item mutates an object, "
                 "which cannot be differentiated: assign to a new local name "
                 "instead")
